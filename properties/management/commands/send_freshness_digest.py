"""Weekly (cron): e-mails each partner organisation its stale and hidden sites."""

from django.core.management.base import BaseCommand

from properties.services.freshness import freshness_digest_send


class Command(BaseCommand):
    help = (
        "E-mails each partner organisation the sites its editors should confirm as current; "
        "organisations mailed in the last 6 days are skipped, so it is safe to run again."
    )

    def handle(self, *args, **options) -> None:
        sent = freshness_digest_send()
        self.stdout.write(f"{sent} freshness digest e-mail(s) sent.")
