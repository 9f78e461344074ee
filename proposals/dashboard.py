"""The statistics of the staff dashboard: supply, inquiries, time to offer, unmet demand.
Each function is one aggregate query (plus, for readable filters, one name lookup)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.db.models import (
    Aggregate,
    Count,
    DateField,
    DurationField,
    F,
    Q,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.models import District, Municipality
from properties.models import Site
from properties.presentation import area_short, km
from search.models import EmptySearch

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
    """PostgreSQL's continuous median (an ordered-set aggregate)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


@dataclass(frozen=True)
class SupplyRow:
    label: str
    count: int
    area_m2: float


def supply_by_municipality() -> list[SupplyRow]:
    """Published sites per municipality: how many and their gross area; most first."""
    rows = (
        Site.objects.published()
        .values("municipality__name")
        .annotate(count=Count("id"), area=Sum("gross_area_m2"))
        .order_by("-count", "municipality__name")
    )
    return [
        SupplyRow(row["municipality__name"] or "–", row["count"], row["area"] or 0.0)
        for row in rows
    ]


def supply_by_size_class() -> list[SupplyRow]:
    """Published sites per gross-area class (all classes, also empty ones)."""
    counts: dict[str, Any] = {}
    for index, (_label, low, high) in enumerate(SIZE_CLASSES):
        condition = Q(gross_area_m2__gte=low)
        if high is not None:
            condition &= Q(gross_area_m2__lt=high)
        counts[f"n{index}"] = Count("id", filter=condition)
        counts[f"a{index}"] = Sum("gross_area_m2", filter=condition)
    totals = Site.objects.published().aggregate(**counts)
    return [
        SupplyRow(str(label), totals[f"n{index}"], totals[f"a{index}"] or 0.0)
        for index, (label, _low, _high) in enumerate(SIZE_CLASSES)
    ]


def supply_by_planning_category() -> list[SupplyRow]:
    """Published sites per planning category, in the categories' order."""
    rows = {
        row["planning_category"]: row
        for row in Site.objects.published()
        .values("planning_category")
        .annotate(count=Count("id"), area=Sum("gross_area_m2"))
        .order_by()
    }
    result = [
        SupplyRow(str(label), rows[value]["count"], rows[value]["area"] or 0.0)
        for value, label in Site.PlanningCategory.choices
        if value in rows
    ]
    if "" in rows or None in rows:
        row = rows.get("") or rows[None]
        result.append(SupplyRow(_("not stated"), row["count"], row["area"] or 0.0))
    return result


def _month_start(day: datetime.date, months_back: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def inquiries_per_month(
    *, months: int = 12, now: datetime.datetime | None = None
) -> list[tuple[datetime.date, int]]:
    """Inquiries received per calendar month (local time), the last `months` months
    including the current one, oldest first; months without inquiries count 0."""
    today = timezone.localdate(now or timezone.now())
    first = _month_start(today, months - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    counts = {
        row["month"]: row["count"]
        for row in Inquiry.objects.filter(received_at__gte=start)
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
    """(status, label, count) for every status, in the workflow's order."""
    counts = dict(Inquiry.objects.values_list("status").annotate(count=Count("id")).order_by())
    return [(value, str(label), counts.get(value, 0)) for value, label in Inquiry.Status.choices]


def median_time_to_first_offer() -> datetime.timedelta | None:
    """The median of (first offer sent − received) over inquiries with an offer; None
    when no offer was sent yet."""
    result = Inquiry.objects.filter(first_offer_sent_at__isnull=False).aggregate(
        median=Median(F("first_offer_sent_at") - F("received_at"), output_field=DurationField())
    )
    return result["median"]


def unmet_inquiries(*, limit: int = 20) -> tuple[int, list[Inquiry]]:
    """Inquiries for which the last matching found no site, newest first (count, some)."""
    unmet = Inquiry.objects.filter(match_count=0)
    return unmet.count(), list(
        unmet.prefetch_related("municipalities").order_by("-received_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class EmptySearchRow:
    query: str
    count: int
    text: str


def empty_searches_top(
    *, days: int = EMPTY_SEARCH_DAYS, limit: int = 15, now: datetime.datetime | None = None
) -> list[EmptySearchRow]:
    """The most frequent filter combinations that found nothing in the last `days` days."""
    since = timezone.localdate(now or timezone.now()) - datetime.timedelta(days=days)
    rows = list(
        EmptySearch.objects.filter(searched_on__gt=since)
        .values("query")
        .annotate(count=Count("id"))
        .order_by("-count", "query")[:limit]
    )
    names = _place_names([row["query"] for row in rows])
    return [
        EmptySearchRow(row["query"], row["count"], empty_search_text(row["query"], names))
        for row in rows
    ]


def _place_names(queries: list[str]) -> dict[str, str]:
    keys: set[str] = set()
    for query in queries:
        keys |= {v for k, v in parse_qsl(query) if k in ("municipality", "district")}
    if not keys:
        return {}
    names = dict(Municipality.objects.filter(ags__in=keys).values_list("ags", "name"))
    names |= dict(District.objects.filter(ags__in=keys).values_list("ags", "name"))
    return names


def _area(value: str, unit_m2: float) -> str:
    try:
        return area_short(float(value) * unit_m2)
    except ValueError:
        return value


def _km(value: str) -> str:
    try:
        return km(float(value))
    except ValueError:
        return value


def empty_search_text(query: str, names: dict[str, str] | None = None) -> str:
    """A normalised search query in plain words, e.g. "Plot, area ≥ 50 ha, Bottrop"."""
    names = names or {}
    kinds = dict(Site.Kind.choices)
    distance_labels = {
        "junction": _("motorway junction"),
        "station": _("station"),
        "airport": _("airport"),
        "port": _("port"),
        "university": _("university"),
        "motorway": _("motorway"),
        "waterway": _("waterway"),
        "rail_line": _("railway line"),
    }
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query):
        grouped.setdefault(key, []).append(value)
    parts: list[str] = []
    for key, values in grouped.items():
        value = values[0]
        if key == "kind":
            parts.append(_(" or ").join(str(kinds.get(v, v)) for v in values))
        elif key in ("municipality", "district"):
            parts.append(_(" or ").join(names.get(v, v) for v in values))
        elif key == "planning_category":
            parts.append(_(" or ").join(values))
        elif key in ("area_min", "area_min_ha"):
            parts.append(
                _("area ≥ %(area)s") % {"area": _area(value, 1 if key == "area_min" else M2_PER_HA)}
            )
        elif key in ("area_max", "area_max_ha"):
            parts.append(
                _("area ≤ %(area)s") % {"area": _area(value, 1 if key == "area_max" else M2_PER_HA)}
            )
        elif key == "price_min":
            parts.append(_("price ≥ %(price)s €/m²") % {"price": value})
        elif key == "price_max":
            parts.append(_("price ≤ %(price)s €/m²") % {"price": value})
        elif key.startswith("max_distance_") and key.endswith("_m"):
            layer = key.removeprefix("max_distance_").removesuffix("_m")
            label = distance_labels.get(layer, layer)
            parts.append(_("%(layer)s ≤ %(distance)s") % {"layer": label, "distance": _km(value)})
        elif key in ("rail_siding", "port_access", "divisible", "available_now"):
            label = {
                "rail_siding": _("rail siding"),
                "port_access": _("port access"),
                "divisible": _("divisible"),
                "available_now": _("available now"),
            }[key]
            parts.append(
                label
                if value.lower() in ("true", "1", "yes", "on")
                else _("not %(what)s") % {"what": label}
            )
        elif key == "available_by":
            parts.append(_("available by %(date)s") % {"date": value})
        elif key == "area":
            parts.append(_("drawn search area"))
        elif key == "radius_m":
            parts.append(_("within %(distance)s of a point") % {"distance": _km(value)})
        elif key == "near":
            continue  # told with radius_m
        else:
            parts.append(f"{key}={','.join(values)}")
    return ", ".join(parts)
