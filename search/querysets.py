"""Typed reads of shortlists. They build queries; they never write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, Max, OuterRef

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


class SavedSearchQuerySet(models.QuerySet):
    def of_user(self, user: User) -> SavedSearchQuerySet:
        return self.filter(user=user)

    def due_for_alerts(self) -> SavedSearchQuerySet:
        """Searches whose alerts are on and whose owner can receive e-mail."""
        return self.filter(is_active=True, user__is_active=True).exclude(user__email="")

    def with_last_alert(self) -> SavedSearchQuerySet:
        """Annotates `last_alert_at`: when an alert of the search was last e-mailed."""
        return self.annotate(last_alert_at=Max("alerts__sent_at"))
