"""Typed reads of shortlists and saved searches. They build queries; they never write."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User


class ShortlistEntryQuerySet(models.QuerySet):
    def of_user(self, user: User) -> ShortlistEntryQuerySet:
        """A user's entries, oldest first."""
        return self.filter(user=user).order_by("added_at", "id")

    def with_visibility(self, user: User) -> ShortlistEntryQuerySet:
        """Annotates `is_visible`: whether the user may see the entry's site today (a site
        unpublished later stays on the list, hidden)."""
        from properties.models import Site

        return self.annotate(
            is_visible=Exists(Site.objects.visible_to(user).filter(pk=OuterRef("site_id")))
        )


# A digest waits this long after the last one; a little less than the period, so a digest
# run by cron at 7:00 is not pushed to the next day by a run that took a minute.
DAILY = datetime.timedelta(hours=23)
WEEKLY = datetime.timedelta(days=6, hours=23)


class SavedSearchQuerySet(models.QuerySet):
    def of_user(self, user: User) -> SavedSearchQuerySet:
        return self.filter(user=user)

    def due_for_alerts(self, now: datetime.datetime | None = None) -> SavedSearchQuerySet:
        """Searches whose alerts are on, whose owner can receive e-mail, and whose turn it
        is: instant ones always, daily and weekly ones a day or a week after their last
        e-mail (or before their first)."""
        now = now or timezone.now()
        turn = (
            Q(frequency="instant")
            | Q(last_emailed_at__isnull=True)
            | Q(frequency="daily", last_emailed_at__lte=now - DAILY)
            | Q(frequency="weekly", last_emailed_at__lte=now - WEEKLY)
        )
        return self.filter(turn, is_active=True, user__is_active=True).exclude(user__email="")

    def with_last_alert(self) -> SavedSearchQuerySet:
        """Annotates `last_alert_at`: when an alert of the search was last e-mailed."""
        return self.annotate(last_alert_at=Max("alerts__sent_at"))
