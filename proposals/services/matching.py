"""Writes of the matching workflow: the stored match count, the must-have criteria.

`Inquiry.match_count` (published sites meeting every must-have) is what the dashboard's
unmet demand reads. It is stored when an inquiry arrives (a task after the commit), when
staff open its matches, when its must-haves change, and for open inquiries whose count is
older than MATCH_COUNT_MAX_AGE by `manage.py refresh_match_counts` (cron, hourly), so new
and withdrawn sites reach it. Closed inquiries keep the count they were closed with."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..matching import inquiry_match_counts
from ..models import Criterion, Inquiry, InquiryEvent
from .timeline import inquiry_event_add

logger = logging.getLogger(__name__)

MATCH_COUNT_MAX_AGE = datetime.timedelta(hours=6)


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


def inquiry_match_count_store(*, inquiry: Inquiry, count: int) -> None:
    """Stores a count computed elsewhere (the matches page has it at hand)."""
    now = timezone.now()
    Inquiry.objects.filter(pk=inquiry.pk).update(match_count=count, matched_at=now)
    inquiry.match_count, inquiry.matched_at = count, now


@task
def inquiry_match_count_refresh_task(inquiry_id: int) -> int | None:
    """The count of a new inquiry, in the background: up to a second at 100,000 sites."""
    inquiry = Inquiry.objects.filter(pk=inquiry_id).first()
    return inquiry_match_count_refresh(inquiry=inquiry) if inquiry is not None else None


def match_counts_refresh_due(
    *,
    limit: int | None = None,
    max_age: datetime.timedelta = MATCH_COUNT_MAX_AGE,
    now: datetime.datetime | None = None,
) -> tuple[int, int]:
    """Matches again the open inquiries never matched or matched longer than `max_age` ago
    (at most `limit`, the longest unmatched first). Returns (refreshed, failed); one
    failure is logged and does not stop the others."""
    cutoff = (now or timezone.now()) - max_age
    due = (
        Inquiry.objects.open()
        .filter(Q(matched_at__isnull=True) | Q(matched_at__lt=cutoff))
        .order_by(F("matched_at").asc(nulls_first=True), "received_at", "id")
    )
    refreshed = failed = 0
    for inquiry in due[:limit] if limit is not None else due:
        try:
            inquiry_match_count_refresh(inquiry=inquiry)
        except Exception:  # one broken inquiry must not keep the others stale; logged
            logger.exception("inquiry %s: the match count could not be refreshed", inquiry.pk)
            failed += 1
        else:
            refreshed += 1
    return refreshed, failed


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
