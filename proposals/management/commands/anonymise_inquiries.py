from django.conf import settings
from django.core.management.base import BaseCommand

from proposals.services.privacy import inquiries_anonymise_due


class Command(BaseCommand):
    help = (
        "Erases the personal data of inquiries closed (won, lost or closed) more than "
        "INQUIRY_RETENTION_DAYS ago. Idempotent: erased inquiries are not touched again. "
        "Run it daily (cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"retention in days (default: {settings.INQUIRY_RETENTION_DAYS})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the inquiries that are due"
        )

    def handle(self, *args, days=None, dry_run=False, **options):
        count = inquiries_anonymise_due(days=days, dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"{count} inquiries due for anonymisation (dry run, none erased)")
        else:
            self.stdout.write(f"{count} inquiries anonymised")
