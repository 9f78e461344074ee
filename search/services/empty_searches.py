"""Investor searches that found nothing, recorded anonymously as unmet demand for the staff
dashboard: the day, the channel and the filters only (no user, session, address or time)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

import django_filters
from django.db import DatabaseError, transaction
from django.http import QueryDict

from properties.api.filters import VIEW_PARAMETERS, FlagFilter, SiteFilterSet, StrictBooleanField

from ..models import EmptySearch

logger = logging.getLogger(__name__)

# Parameters that only move the map or choose the presentation: not a wish about sites.
IGNORED_PARAMETERS = VIEW_PARAMETERS | {"bbox", "area_unit", "csrfmiddlewaretoken"}
# Yes-only switches: "1", "yes" and "true" are one wish; "false" is no filter at all.
FLAG_PARAMETERS = frozenset(
    name for name, spec in SiteFilterSet.base_filters.items() if isinstance(spec, FlagFilter)
)
# Numbers are compared as numbers: "50", "50.0" and "050" are one search.
NUMBER_PARAMETERS = frozenset(
    name
    for name, spec in SiteFilterSet.base_filters.items()
    if isinstance(spec, django_filters.NumberFilter)
)


def _normalised(key: str, value: str) -> str:
    value = value.strip()
    if key in FLAG_PARAMETERS:
        return "true" if value.lower() in StrictBooleanField.TRUE else ""
    if key in NUMBER_PARAMETERS:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        if number.is_finite():
            return format(number.normalize(), "f")
    return value


def empty_search_query(query_dict: QueryDict | Mapping[str, list[str]]) -> str:
    """The search's filters as a normalised query string (sorted keys, sorted values, no
    empty values, numbers and switches in one spelling), so the same search counts
    together; "" without any filter."""
    if isinstance(query_dict, QueryDict):
        items = {key: query_dict.getlist(key) for key in query_dict}
    else:
        items = {key: list(values) for key, values in query_dict.items()}
    pairs = [
        (key, value)
        for key in sorted(items)
        if key not in IGNORED_PARAMETERS
        for value in sorted({_normalised(key, value) for value in items[key]})
        if value
    ]
    return urlencode(pairs)


# The note a cached page or API answer of a search that found nothing carries
# (sitefinder.pagecache), so that each visit is still recorded.
EMPTY_SEARCH = "empty-search"


def empty_search_record(
    *, query_dict: QueryDict | Mapping[str, list[str]], channel: str
) -> EmptySearch | None:
    """Records a search without results (one INSERT); nothing when it had no filter, or
    when it was limited to a map viewport (`bbox`: nothing in view says nothing about the
    region). A database failure is logged and never breaks the search; programming errors
    raise."""
    if "bbox" in query_dict:
        return None
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
