"""A search's query string in plain words, in the active language ("Plot, area ≥ 50 ha,
Bottrop"): the name of a saved search, and staff's list of searches that found nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.models import District, Municipality
from properties.models import Site
from properties.presentation import area_short, km

M2_PER_HA = 10_000


def search_place_names(queries: list[str]) -> dict[str, str]:
    """The names of the municipalities and districts (by key) the queries name."""
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


def _date(value: str) -> str:
    """An ISO date from a query as the active language writes it (6 Dec 2026 in en-GB
    order, 06.12.2026 in German)."""
    try:
        return date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
    except ValueError:
        return value


def _choices(values: list[str], choices: list[tuple[str, Any]]) -> str:
    labels = dict(choices)
    return _(" or ").join(str(labels.get(value, value)) for value in values)


# The order the parts of a search are told in: what, how large, how dear, which plan, the
# other qualities, how far, and where; any other parameter last.
TEXT_ORDER = (
    "kind",
    "area_min",
    "area_min_ha",
    "area_max",
    "area_max_ha",
    "part_min_m2",
    "part_max_m2",
    "offer_type",
    "price_min",
    "price_max",
    "rent_min",
    "rent_max",
    "ground_rent_min",
    "ground_rent_max",
    "commission_free",
    "price_on_request",
    "planning_category",
    "bplan_status",
    "status",
    "ownership",
    "available_now",
    "available_by",
    "divisible",
    "rail_siding",
    "port_access",
    "broadband_min",
    "restriction_class",
    "restriction_max",
    "max_distance_junction_m",
    "max_distance_motorway_m",
    "max_distance_station_m",
    "station_max_category",
    "max_distance_rail_line_m",
    "max_distance_airport_m",
    "max_distance_port_m",
    "max_distance_waterway_m",
    "max_distance_university_m",
    "municipality",
    "district",
    "area",
    "radius_m",
    "near",
)
FLAG_VALUES_TRUE = frozenset({"true", "1", "yes", "on"})
PRICE_TEXTS = {
    "price_min": gettext_lazy("price ≥ %(price)s €/m²"),
    "price_max": gettext_lazy("price ≤ %(price)s €/m²"),
    "rent_min": gettext_lazy("rent ≥ %(price)s €/m²/month"),
    "rent_max": gettext_lazy("rent ≤ %(price)s €/m²/month"),
    "ground_rent_min": gettext_lazy("ground rent ≥ %(price)s €/m²/year"),
    "ground_rent_max": gettext_lazy("ground rent ≤ %(price)s €/m²/year"),
}


def _number(value: str) -> str:
    """A number from a query in the active language's notation ("7.5" -> "7,5" in German);
    left as it is if it is not a number."""
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    if not number.is_finite():
        return value
    digits = max(0, -number.normalize().as_tuple().exponent)  # type: ignore[operator]
    return number_format(number, min(digits, 2), force_grouping=True)


def empty_search_text(query: str, names: dict[str, str] | None = None) -> str:
    """A normalised search query in plain words, e.g. "Plot, area ≥ 50 ha, Bottrop"."""
    names = names or {}
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
    flag_labels = {
        "commission_free": _("commission-free"),
        "rail_siding": _("rail siding"),
        "port_access": _("port access"),
        "divisible": _("divisible"),
        "available_now": _("available now"),
    }
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query):
        grouped.setdefault(key, []).append(value)
    order = {key: index for index, key in enumerate(TEXT_ORDER)}
    parts: list[str] = []
    for key in sorted(grouped, key=lambda k: (order.get(k, len(order)), k)):
        values = grouped[key]
        value = values[0]
        if key == "kind":
            parts.append(_choices(values, Site.Kind.choices))
        elif key == "municipality":
            parts.append(_(" or ").join(names.get(v, v) for v in values))
        elif key == "district":
            parts.append(
                _(" or ").join(_("district %(name)s") % {"name": names.get(v, v)} for v in values)
            )
        elif key == "planning_category":
            parts.append(_(" or ").join(values))
        elif key == "bplan_status":
            parts.append(_choices(values, Site.BPlanStatus.choices))
        elif key == "status":
            parts.append(_choices(values, Site.Status.choices))
        elif key == "ownership":
            parts.append(
                _("ownership: %(owners)s") % {"owners": _choices(values, Site.Ownership.choices)}
            )
        elif key == "restriction_class":
            parts.append(_choices(values, Site.RestrictionClass.choices))
        elif key == "restriction_max":
            level = dict(Site.RestrictionClass.choices).get(value, value)
            parts.append(_("at most: %(level)s") % {"level": level})
        elif key == "broadband_min":
            parts.append(
                _("broadband at least %(level)s")
                % {"level": dict(Site.Broadband.choices).get(value, value)}
            )
        elif key in ("area_min", "area_min_ha"):
            parts.append(
                _("area ≥ %(area)s") % {"area": _area(value, 1 if key == "area_min" else M2_PER_HA)}
            )
        elif key in ("area_max", "area_max_ha"):
            parts.append(
                _("area ≤ %(area)s") % {"area": _area(value, 1 if key == "area_max" else M2_PER_HA)}
            )
        elif key == "part_min_m2":
            parts.append(_("divisible part ≥ %(area)s") % {"area": _area(value, 1)})
        elif key == "part_max_m2":
            parts.append(_("divisible part ≤ %(area)s") % {"area": _area(value, 1)})
        elif key == "offer_type":
            parts.append(_choices(values, Site.OfferType.choices))
        elif key in PRICE_TEXTS:
            parts.append(str(PRICE_TEXTS[key]) % {"price": _number(value)})
        elif key == "price_on_request":
            modes = {
                "include": _("also sites with the price on request"),
                "only": _("only sites with the price on request"),
                "exclude": _("no sites with the price on request"),
            }
            parts.append(str(modes.get(value, value)))
        elif key.startswith("max_distance_") and key.endswith("_m"):
            layer = key.removeprefix("max_distance_").removesuffix("_m")
            label = distance_labels.get(layer, layer)
            parts.append(_("%(layer)s ≤ %(distance)s") % {"layer": label, "distance": _km(value)})
        elif key == "station_max_category":
            parts.append(_("station category ≤ %(category)s") % {"category": value})
        elif key in flag_labels:
            # A flag only narrows the search when true; "false" is no filter at all.
            if value.lower() in FLAG_VALUES_TRUE:
                parts.append(str(flag_labels[key]))
        elif key == "available_by":
            parts.append(_("available by %(date)s") % {"date": _date(value)})
        elif key == "area":
            parts.append(_("drawn search area"))
        elif key == "radius_m":
            parts.append(_("within %(distance)s of a point") % {"distance": _km(value)})
        elif key == "near":
            continue  # told with radius_m
        else:
            parts.append(f"{key}={','.join(values)}")
    return ", ".join(parts)
