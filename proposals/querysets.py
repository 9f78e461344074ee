from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone


class InquiryQuerySet(models.QuerySet):
    def open(self) -> InquiryQuerySet:
        return self.filter(status__in=("new", "in_progress", "offer_sent"))

    def closed(self) -> InquiryQuerySet:
        return self.filter(status__in=("won", "lost", "closed"))

    def demo(self) -> InquiryQuerySet:
        """Generated for the demo install (proposals.services.demo), not real."""
        return self.filter(is_demo=True)

    def overdue(self, *, hours: float, now: datetime.datetime | None = None) -> InquiryQuerySet:
        """Still without an offer `hours` after they came in (the response-time target)."""
        cutoff = (now or timezone.now()) - datetime.timedelta(hours=hours)
        return self.filter(status__in=("new", "in_progress"), received_at__lt=cutoff)

    def due_for_anonymisation(
        self, *, days: int, now: datetime.datetime | None = None
    ) -> InquiryQuerySet:
        """Closed more than `days` ago and still holding personal data."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        return self.closed().filter(anonymised_at__isnull=True, closed_at__lt=cutoff)


class OfferLinkQuerySet(models.QuerySet):
    def usable(self, now: datetime.datetime | None = None) -> OfferLinkQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())
