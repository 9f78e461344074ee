"""Staff's work on an inquiry in the inbox: its status, who handles it, notes. Every change
is recorded on the inquiry's timeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ..models import Inquiry, InquiryEvent
from .timeline import inquiry_event_add

Status = Inquiry.Status
CLOSED_STATUSES = frozenset({Status.WON, Status.LOST, Status.CLOSED})

# The workflow: new → in progress → offer sent → won / lost / closed; any open inquiry may
# be closed; a closed one may be reopened (back to in progress).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OFFER_SENT, Status.CLOSED}),
    Status.OFFER_SENT: frozenset({Status.WON, Status.LOST, Status.CLOSED}),
    Status.WON: frozenset({Status.IN_PROGRESS}),
    Status.LOST: frozenset({Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
}

NOTE_MAX_LENGTH = 5000


def allowed_statuses(inquiry: Inquiry) -> list[str]:
    """The statuses the inquiry may change to, in workflow order."""
    allowed = ALLOWED_TRANSITIONS.get(inquiry.status, frozenset())
    return [status for status in Status.values if status in allowed]


def may_be_assigned(user: User) -> bool:
    return user.is_active and user.is_agency_staff


@transaction.atomic
def inquiry_status_set(
    *, inquiry: Inquiry, status: str, acting_user: User | None, note: str = ""
) -> Inquiry:
    """Moves the inquiry along the workflow; refuses a step the workflow does not have.
    Won, lost and closed set `closed_at` (the retention period counts from it); reopening
    clears it."""
    if status not in Status.values:
        raise ValidationError(_("Unknown status “%(status)s”."), params={"status": status})
    previous = inquiry.status
    if status == previous:
        raise ValidationError(
            _("The inquiry is already “%(status)s”."),
            params={"status": Status(status).label},
        )
    if status not in ALLOWED_TRANSITIONS.get(previous, frozenset()):
        raise ValidationError(
            _("An inquiry cannot go from “%(old)s” to “%(new)s”."),
            params={"old": Status(previous).label, "new": Status(status).label},
        )
    inquiry.status = status
    inquiry.closed_at = timezone.now() if status in CLOSED_STATUSES else None
    inquiry.save(update_fields=["status", "closed_at", "updated_at"])
    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.STATUS,
        actor=acting_user,
        text=note.strip(),
        data={"from": previous, "to": status},
    )
    return inquiry


@transaction.atomic
def inquiry_assign(*, inquiry: Inquiry, assignee: User | None, acting_user: User) -> Inquiry:
    """Hands the inquiry to a staff member (None: nobody)."""
    if assignee is not None and not may_be_assigned(assignee):
        raise ValidationError(_("Inquiries can only be assigned to active agency staff."))
    if assignee == inquiry.assignee:
        return inquiry
    previous = inquiry.assignee
    inquiry.assignee = assignee
    inquiry.save(update_fields=["assignee", "updated_at"])
    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.ASSIGNED,
        actor=acting_user,
        data={
            "from": previous.get_username() if previous else None,
            "to": assignee.get_username() if assignee else None,
        },
    )
    return inquiry


@transaction.atomic
def inquiry_note_add(*, inquiry: Inquiry, text: str, acting_user: User) -> InquiryEvent:
    """A note of staff's on the timeline (a call, an agreement, a reminder)."""
    text = text.strip()
    if not text:
        raise ValidationError(_("Write a note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _("A note has at most %(max)s characters."), params={"max": NOTE_MAX_LENGTH}
        )
    event = inquiry_event_add(
        inquiry=inquiry, kind=InquiryEvent.Kind.NOTE, actor=acting_user, text=text
    )
    # The inbox sorts and shows "last changed"; a note is a change.
    Inquiry.objects.filter(pk=inquiry.pk).update(updated_at=timezone.now())
    return event
