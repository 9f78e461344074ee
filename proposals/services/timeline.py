"""The inquiry's timeline: every service that changes an inquiry, its offers or links
records what happened here, so staff see one history."""

from __future__ import annotations

from typing import Any

from accounts.models import User

from ..models import Inquiry, InquiryEvent


def inquiry_event_add(
    *,
    inquiry: Inquiry,
    kind: str,
    actor: User | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
) -> InquiryEvent:
    """Appends an event; `actor` None means the investor or the system."""
    return InquiryEvent.objects.create(
        inquiry=inquiry, kind=kind, actor=actor, text=text, data=data or {}
    )
