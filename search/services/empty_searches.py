"""Investor searches that found nothing, recorded anonymously as unmet demand for the staff
dashboard: the day, the channel and the filters only (no user, session, address or time)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlencode

from django.db import DatabaseError, transaction
from django.http import QueryDict

from properties.api.filters import VIEW_PARAMETERS

from ..models import EmptySearch

logger = logging.getLogger(__name__)

# Parameters that only move the map or choose the presentation: not a wish about sites.
IGNORED_PARAMETERS = VIEW_PARAMETERS | {"bbox", "area_unit", "csrfmiddlewaretoken"}


def empty_search_query(query_dict: QueryDict | Mapping[str, list[str]]) -> str:
    """The search's filters as a normalised query string (sorted keys, sorted values, no
    empty values), so the same search counts together; "" without any filter."""
    if isinstance(query_dict, QueryDict):
        items = {key: query_dict.getlist(key) for key in query_dict}
    else:
        items = {key: list(values) for key, values in query_dict.items()}
    pairs = [
        (key, value)
        for key in sorted(items)
        if key not in IGNORED_PARAMETERS
        for value in sorted({value.strip() for value in items[key]})
        if value
    ]
    return urlencode(pairs)


def empty_search_record(
    *, query_dict: QueryDict | Mapping[str, list[str]], channel: str
) -> EmptySearch | None:
    """Records a search without results (one INSERT); nothing when it had no filter. A
    database failure is logged and never breaks the search; programming errors raise."""
    query = empty_search_query(query_dict)
    if not query:
        return None
    try:
        # A savepoint: a failed INSERT must not poison the request's transaction.
        with transaction.atomic():
            return EmptySearch.objects.create(channel=channel, query=query)
    except DatabaseError:
        logger.exception("could not record an empty search")
        return None
