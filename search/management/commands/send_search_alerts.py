"""E-mails investors the new and changed sites matching their saved searches.

Run it regularly (cron, a systemd timer: e.g. every 15 minutes). Running it again, or twice
at once, sends nothing twice (see search.services.alerts)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from search.models import SearchAlert
from search.services.alerts import alerts_send


class Command(BaseCommand):
    help = "E-mails the new and changed sites matching each active saved search."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        emails = alerts_send(now=now)
        # Every alert this run e-mailed carries its start time.
        alerts = SearchAlert.objects.filter(sent_at=now).count()
        self.stdout.write(f"Sent {emails} e-mail(s) with {alerts} site alert(s).")
