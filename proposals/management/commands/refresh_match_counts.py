from django.core.management.base import BaseCommand, CommandError

from proposals.services.matching import match_counts_refresh_due


class Command(BaseCommand):
    help = (
        "Matches the open inquiries again whose count of matching sites is missing or older "
        "than six hours, so the inbox and the dashboard's unmet demand follow new and "
        "withdrawn sites. Run it hourly (cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="at most this many")

    def handle(self, *args, limit=None, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        refreshed, failed = match_counts_refresh_due(limit=limit)
        self.stdout.write(f"{refreshed} inquiries matched again, {failed} failed")
        if failed:
            raise CommandError(f"{failed} inquiries could not be matched (see the log)")
