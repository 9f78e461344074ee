"""Counts that stay cheap at a million rows: exact up to a threshold, estimated above.

Counting every match of a broad search is a scan of most of the table (0.1-0.3 s at
1,000,000 sites); the first page needs none of it. Up to COUNT_EXACT_MAX matches the count
is exact (counting stops at the threshold, so it costs at most that many index entries);
beyond, it is PostgreSQL's estimate for the query (never below the threshold), and the
page says "about".
"""

from __future__ import annotations

import json
from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet


def estimated_count(queryset: QuerySet) -> int:
    """The planner's estimate of the rows `queryset` returns (no rows are read)."""
    query = queryset.order_by().values("pk")
    sql, params = query.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def capped_count(queryset: QuerySet, exact_max: int | None = None) -> tuple[int, bool]:
    """(count, exact): exact up to `exact_max` (settings.COUNT_EXACT_MAX), above it the
    planner's estimate, rounded to two significant digits."""
    limit = settings.COUNT_EXACT_MAX if exact_max is None else exact_max
    # Only the ids: annotations (a transformed geometry, say) are not computed for the rows.
    counted = queryset.order_by().values("pk")[: limit + 1].count()
    if counted <= limit:
        return counted, True
    estimate = max(estimated_count(queryset), limit + 1)
    digits = len(str(estimate)) - 2
    return round(estimate, -digits) if digits > 0 else estimate, False


class EstimatingPaginator(Paginator):
    """A paginator whose count is capped_count(): `count_is_exact` says which."""

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        count, self.count_is_exact = capped_count(self.object_list)
        return count
