"""Receivers of Django's own signals (auth is Django's workflow, not ours) and of what
properties announces (properties/signals.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import EmptySearch
from .services.empty_searches import empty_search_record
from .services.shortlist import shortlist_merge_session_into_account


def merge_shortlist_on_login(
    sender: type, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """`user_logged_in`: move the visitor's session shortlist into their account."""
    if request is None or not hasattr(request, "session"):
        return
    shortlist_merge_session_into_account(request=request, user=user)


def record_empty_search(sender: object, query_dict: Any, channel: str, **kwargs: Any) -> None:
    """`properties.signals.search_found_nothing`: unmet demand, recorded anonymously."""
    empty_search_record(query_dict=query_dict, channel=EmptySearch.Channel(channel))
