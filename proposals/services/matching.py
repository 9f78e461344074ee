"""Writes of the matching workflow: the stored match count, the must-have criteria."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..matching import inquiry_match_counts
from ..models import Criterion, Inquiry, InquiryEvent
from .timeline import inquiry_event_add


@transaction.atomic
def inquiry_match_count_refresh(*, inquiry: Inquiry) -> int:
    """Counts the published sites meeting every must-have criterion and stores the count
    (Inquiry.match_count, matched_at): the dashboard's unmet demand reads it."""
    ranked, _excluded = inquiry_match_counts(inquiry)
    inquiry.match_count = ranked
    inquiry.matched_at = timezone.now()
    Inquiry.objects.filter(pk=inquiry.pk).update(
        match_count=inquiry.match_count, matched_at=inquiry.matched_at
    )
    return ranked


@transaction.atomic
def inquiry_hard_criteria_set(
    *, inquiry: Inquiry, criteria: Iterable[str], acting_user: User | None
) -> Inquiry:
    """Sets the inquiry's must-have criteria (any Criterion values, kept in their fixed
    order), records the change on the timeline and refreshes the match count."""
    wanted = set(criteria)
    unknown = wanted - set(Criterion.values)
    if unknown:
        raise ValidationError(
            {
                "hard_criteria": _("Unknown criteria: %(names)s")
                % {"names": ", ".join(sorted(unknown))}
            }
        )
    previous = list(inquiry.hard_criteria or [])
    new = [c for c in Criterion.values if c in wanted]
    if new == [c for c in Criterion.values if c in previous]:
        return inquiry
    inquiry.hard_criteria = new
    inquiry.save(update_fields=["hard_criteria", "updated_at"])
    labels = ", ".join(str(Criterion(c).label) for c in new) or _("none")
    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.NOTE,
        actor=acting_user,
        text=_("Must-have criteria of the matching set to: %(labels)s") % {"labels": labels},
        data={"hard_criteria": new, "previous": previous},
    )
    inquiry_match_count_refresh(inquiry=inquiry)
    return inquiry
