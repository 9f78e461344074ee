"""The statistics of the staff dashboard: supply, inquiries, time to offer, unmet demand.
Each function is one aggregate query (plus, for readable filters, one name lookup); the
numbers are counted in SQL, never row by row.

Definitions (the page says them too):
- supply: the sites investors see (`Site.objects.published()`: published or reserved, not
  hidden for staleness); drafts, submitted, sold, withdrawn and hidden sites do not count;
- months are calendar months in local time (TIME_ZONE, Europe/Berlin);
- the median time to the first offer is over every inquiry with an offer sent;
- an inquiry is unmet when its last matching found no site (`match_count` 0); one never
  matched (`match_count` NULL) is not counted but shown as "not matched yet". Counts are
  stored when an inquiry arrives, when staff open its matches, and for open inquiries by
  `manage.py refresh_match_counts` (proposals.services.matching); this page only reads."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateField,
    DurationField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.models import DataVersion
from properties.models import Site
from search.models import EmptySearch
from search.presentation import empty_search_text, search_place_names

from .models import Inquiry

M2_PER_HA = 10_000

# Size classes of the supply: (label, at least m², below m² or None).
SIZE_CLASSES = (
    (gettext_lazy("< 1 ha"), 0, 1 * M2_PER_HA),
    (gettext_lazy("1–5 ha"), 1 * M2_PER_HA, 5 * M2_PER_HA),
    (gettext_lazy("5–10 ha"), 5 * M2_PER_HA, 10 * M2_PER_HA),
    (gettext_lazy("10–20 ha"), 10 * M2_PER_HA, 20 * M2_PER_HA),
    (gettext_lazy("≥ 20 ha"), 20 * M2_PER_HA, None),
)
EMPTY_SEARCH_DAYS = 90


class Median(Aggregate):
    """PostgreSQL's continuous median (an ordered-set aggregate): of an even number of
    values, the mean of the middle two."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


# --- supply -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplyRow:
    label: str
    count: int
    area_m2: float


@dataclass(frozen=True)
class SupplyTotals:
    count: int
    area_m2: float
    demo: int  # of them generated demo sites (Site.is_demo)


@dataclass(frozen=True)
class SupplyGroup:
    """Sites investors see with one municipality, planning category and size class."""

    municipality: str
    planning_category: str
    size_class: int  # index into SIZE_CLASSES
    count: int
    area_m2: float
    demo: int


def _size_class_of() -> Case:
    whens = [
        When(gross_area_m2__lt=high, then=Value(index))
        for index, (_label, _low, high) in enumerate(SIZE_CLASSES)
        if high is not None
    ]
    return Case(*whens, default=Value(len(SIZE_CLASSES) - 1), output_field=IntegerField())


def supply_groups() -> list[SupplyGroup]:
    """The supply in one scan of the sites (at 100,000 sites the four views below took four
    scans, ~0.6 s): grouped by municipality, category and size class, at most 53 × 5 × 5
    rows, which the views add up. Kept in the shared cache under the sites' data version and
    the day (what is public changes with both): the scan takes ~0.8 s at 1,000,000 sites,
    and only the first dashboard after a change of the sites pays it."""
    key = f"dashboard:supply:{DataVersion.current('sites')}@{timezone.localdate().isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    groups = _supply_groups()
    cache.set(key, groups, 24 * 3600)
    return groups


def _supply_groups() -> list[SupplyGroup]:
    rows = (
        Site.objects.published()
        .annotate(size_class=_size_class_of())
        .values("municipality__name", "planning_category", "size_class")
        .annotate(
            count=Count("id"),
            area=Sum("gross_area_m2"),
            demo=Count("id", filter=Q(is_demo=True)),
        )
        .order_by()
    )
    return [
        SupplyGroup(
            row["municipality__name"] or "–",
            row["planning_category"] or "",
            row["size_class"],
            row["count"],
            row["area"] or 0.0,
            row["demo"],
        )
        for row in rows
    ]


def supply_totals(groups: list[SupplyGroup] | None = None) -> SupplyTotals:
    """All sites investors see: how many, their gross area, how many of them are demo data."""
    groups = supply_groups() if groups is None else groups
    return SupplyTotals(
        sum(g.count for g in groups), sum(g.area_m2 for g in groups), sum(g.demo for g in groups)
    )


def _summed(groups: list[SupplyGroup], key: Callable[[SupplyGroup], Any]) -> dict[Any, SupplyRow]:
    sums: dict[Any, list[float]] = {}
    for group in groups:
        count_area = sums.setdefault(key(group), [0, 0.0])
        count_area[0] += group.count
        count_area[1] += group.area_m2
    return {k: SupplyRow("", int(count), area) for k, (count, area) in sums.items()}


def supply_by_municipality(groups: list[SupplyGroup] | None = None) -> list[SupplyRow]:
    """Sites investors see, per municipality: how many and their gross area; most first."""
    groups = supply_groups() if groups is None else groups
    rows = [
        SupplyRow(name, row.count, row.area_m2)
        for name, row in _summed(groups, lambda g: g.municipality).items()
    ]
    return sorted(rows, key=lambda row: (-row.count, row.label))


def supply_by_size_class(groups: list[SupplyGroup] | None = None) -> list[SupplyRow]:
    """Sites investors see, per gross-area class (all classes, also empty ones)."""
    groups = supply_groups() if groups is None else groups
    sums = _summed(groups, lambda g: g.size_class)
    empty = SupplyRow("", 0, 0.0)
    return [
        SupplyRow(str(label), sums.get(index, empty).count, sums.get(index, empty).area_m2)
        for index, (label, _low, _high) in enumerate(SIZE_CLASSES)
    ]


def supply_by_planning_category(groups: list[SupplyGroup] | None = None) -> list[SupplyRow]:
    """Sites investors see, per planning category, in the categories' order (all four, also
    empty ones); a value outside the categories is listed as "not stated"."""
    groups = supply_groups() if groups is None else groups
    known = set(Site.PlanningCategory.values)
    sums = _summed(groups, lambda g: g.planning_category if g.planning_category in known else "")
    empty = SupplyRow("", 0, 0.0)
    result = [
        SupplyRow(str(label), sums.get(value, empty).count, sums.get(value, empty).area_m2)
        for value, label in Site.PlanningCategory.choices
    ]
    if "" in sums:
        result.append(SupplyRow(_("not stated"), sums[""].count, sums[""].area_m2))
    return result


# --- inquiries ----------------------------------------------------------------------------


def _month_start(day: datetime.date, months_back: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def inquiries_per_month(
    *, months: int = 12, now: datetime.datetime | None = None
) -> list[tuple[datetime.date, int]]:
    """Inquiries received per calendar month in local time, the last `months` months
    including the current one, oldest first; months without inquiries count 0."""
    today = timezone.localdate(now or timezone.now())
    first = _month_start(today, months - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(_month_start(today, -1), datetime.time.min))
    counts = {
        row["month"]: row["count"]
        # TruncMonth truncates in the current time zone: 23:30 UTC on 31 March is April.
        for row in Inquiry.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(month=TruncMonth("received_at", output_field=DateField()))
        .values("month")
        .annotate(count=Count("id"))
        .order_by()
    }
    return [
        (month, counts.get(month, 0))
        for month in (_month_start(today, back) for back in range(months - 1, -1, -1))
    ]


def inquiries_by_status() -> list[tuple[str, str, int]]:
    """(status, label, count) for every status, in the workflow's order, over all inquiries."""
    counts = dict(Inquiry.objects.values_list("status").annotate(count=Count("id")).order_by())
    return [(value, str(label), counts.get(value, 0)) for value, label in Inquiry.Status.choices]


@dataclass(frozen=True)
class FirstOfferTimes:
    median: datetime.timedelta | None  # None: no offer sent yet
    count: int  # the inquiries it is the median of


def time_to_first_offer() -> FirstOfferTimes:
    """The median of (first offer sent − received) over the inquiries with an offer."""
    result = Inquiry.objects.filter(first_offer_sent_at__isnull=False).aggregate(
        median=Median(F("first_offer_sent_at") - F("received_at"), output_field=DurationField()),
        count=Count("id"),
    )
    return FirstOfferTimes(result["median"], result["count"])


def median_time_to_first_offer() -> datetime.timedelta | None:
    return time_to_first_offer().median


def demo_inquiry_count() -> int:
    """Generated demo inquiries among all (proposals.services.demo)."""
    return Inquiry.objects.demo().count()


# --- unmet demand -------------------------------------------------------------------------


@dataclass(frozen=True)
class UnmetInquiries:
    count: int  # inquiries whose last matching found no site
    not_matched: int  # inquiries never matched (open ones are matched a few at a time)
    latest: list[Inquiry]  # the newest unmet ones, for the table


def unmet_inquiries(*, limit: int = 20) -> UnmetInquiries:
    """Inquiries for which the last matching found no site (count and the newest), and how
    many were never matched."""
    counts = Inquiry.objects.aggregate(
        unmet=Count("id", filter=Q(match_count=0)),
        not_matched=Count("id", filter=Q(match_count__isnull=True)),
    )
    latest = list(
        Inquiry.objects.filter(match_count=0)
        .prefetch_related("municipalities")
        .order_by("-received_at", "-id")[:limit]
    )
    return UnmetInquiries(counts["unmet"], counts["not_matched"], latest)


# --- searches that found nothing ------------------------------------------------------------


@dataclass(frozen=True)
class EmptySearchRow:
    query: str
    count: int
    text: str


def empty_searches_top(
    *, days: int = EMPTY_SEARCH_DAYS, limit: int = 15, now: datetime.datetime | None = None
) -> list[EmptySearchRow]:
    """The most frequent filter combinations that found nothing in the last `days` days
    (today included), most frequent first."""
    since = timezone.localdate(now or timezone.now()) - datetime.timedelta(days=days)
    rows = list(
        EmptySearch.objects.filter(searched_on__gt=since)
        .values("query")
        .annotate(count=Count("id"))
        .order_by("-count", "query")[:limit]
    )
    names = search_place_names([row["query"] for row in rows])
    return [
        EmptySearchRow(row["query"], row["count"], empty_search_text(row["query"], names))
        for row in rows
    ]
