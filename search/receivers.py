"""Receivers of Django's own signals (auth is Django's workflow, not ours)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .services.shortlist import shortlist_merge_session_into_account


def merge_shortlist_on_login(
    sender: type, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """`user_logged_in`: move the visitor's session shortlist into their account."""
    if request is None or not hasattr(request, "session"):
        return
    shortlist_merge_session_into_account(request=request, user=user)
