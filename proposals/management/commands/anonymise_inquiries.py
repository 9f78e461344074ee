from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from proposals.services.privacy import inquiries_anonymise_due


class Command(BaseCommand):
    help = (
        "Erases the personal data of inquiries closed (won, lost or closed) more than "
        "INQUIRY_RETENTION_DAYS ago; open inquiries are never touched. Idempotent: erased "
        "inquiries are not touched again. Run it daily (cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"retention in days, at least 1 (default: {settings.INQUIRY_RETENTION_DAYS})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the inquiries that are due"
        )

    def handle(self, *args, days=None, dry_run=False, **options):
        try:
            result = inquiries_anonymise_due(days=days, dry_run=dry_run)
        except ValueError as error:
            raise CommandError(str(error)) from error
        if dry_run:
            self.stdout.write(
                f"{result.due} inquiries due for anonymisation (dry run, none erased)"
            )
            return
        self.stdout.write(f"{result.erased} of {result.due} inquiries due anonymised")
        if result.failed:
            # After all the others were done: a non-zero exit makes the scheduler tell someone.
            raise CommandError(
                f"{len(result.failed)} could not be erased (see the log): inquiry ids "
                + ", ".join(str(pk) for pk in result.failed)
            )
