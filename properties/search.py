"""The investor search page: the filter form and the first page of results, rendered on the
server from the one `SiteFilterSet` (properties/api/filters.py) that the API, the tiles and
the exports use too. The page's JavaScript keeps the same form, list and map in step through
the URL; without JavaScript the form is a plain GET form of the same parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.layers import DISTANCE_FIELDS
from properties.api.filters import (
    PROXIMITY_FIELDS,
    VIEW_PARAMETERS,
    SiteFilterSet,
    distance_sort_column,
)
from properties.map_config import place_rows
from properties.models import Site
from properties.presentation import site_price
from properties.querysets import SORT_ORDERINGS
from sitefinder import l10n
from sitefinder.counting import EstimatingPaginator

# Results per page, on the server-rendered page and in the page's API requests alike.
RESULTS_PER_PAGE = 20

# Parameters of the page that do not narrow the set: besides the API's (sort, page, ...)
# the map's view and the selected site. The sort stays with the filters (it orders them).
PAGE_ONLY_PARAMETERS = VIEW_PARAMETERS - {"sort"}

# The proximity filters in the order shown, with the layer whose distance each compares.
PROXIMITY_ORDER = (
    "max_distance_junction_m",
    "max_distance_motorway_m",
    "max_distance_station_m",
    "max_distance_rail_line_m",
    "max_distance_airport_m",
    "max_distance_port_m",
    "max_distance_waterway_m",
    "max_distance_university_m",
)

# Sort keys offered in the list, with their labels.
SORT_LABELS = {
    "newest": gettext_lazy("Newest first"),
    "area": gettext_lazy("Area, smallest first"),
    "-area": gettext_lazy("Area, largest first"),
    "price": gettext_lazy("Sale price, lowest first"),
    "-price": gettext_lazy("Sale price, highest first"),
    "rent": gettext_lazy("Rent, lowest first"),
    "-rent": gettext_lazy("Rent, highest first"),
    "ground_rent": gettext_lazy("Ground rent, lowest first"),
    "-ground_rent": gettext_lazy("Ground rent, highest first"),
    "distance_station": gettext_lazy("Distance to a railway station"),
    "distance_junction": gettext_lazy("Distance to a motorway junction"),
    "distance_airport": gettext_lazy("Distance to an airport"),
    "distance_university": gettext_lazy("Distance to a university"),
    "distance_port": gettext_lazy("Distance to a port"),
}

PRICE_ON_REQUEST_LABELS = {
    "include": gettext_lazy("Always"),
    "only": gettext_lazy("Only these"),
    "exclude": gettext_lazy("Never"),
}
BROADBAND_LABELS = {
    "basic": gettext_lazy("Any broadband"),
    "fast": gettext_lazy("100 Mbit/s or more"),
    "gigabit": gettext_lazy("Gigabit / fibre"),
}
RESTRICTION_LABELS = {
    "none": gettext_lazy("No known restrictions"),
    "light": gettext_lazy("At most light restrictions"),
}


@dataclass
class Choice:
    value: str
    label: str
    checked: bool = False
    disabled: bool = False


@dataclass
class Field:
    """One control of the filter form, ready for templates/properties/_search_field.html."""

    name: str
    label: str
    type: str  # checkboxes, select, number, flag, date
    value: str = ""
    choices: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unit: str = ""
    hint: str = ""
    disabled: bool = False
    step: str = "any"

    @property
    def id(self) -> str:
        return f"filter-{self.name}"


@dataclass
class Fieldset:
    legend: str
    fields: list[Field]
    slug: str = ""
    errors: list[str] = field(default_factory=list)


# --- the URL ----------------------------------------------------------------------------


def canonical_query(params: QueryDict) -> QueryDict | None:
    """The query a submitted (JavaScript-free) form means, in the API's parameters, or None
    if it is canonical already: kilometre inputs become metres, the area unit picks
    `area_min`/`area_min_ha`, empty values are dropped."""
    km_names = {name.removesuffix("_m") + "_km": name for name in PROXIMITY_FIELDS}
    hectares = params.get("area_unit") == "ha"
    if not (
        "area_unit" in params
        or any(name in params for name in km_names)
        or any(value == "" for values in params.lists() for value in values[1])
    ):
        return None
    result = QueryDict(mutable=True)
    for key, values in params.lists():
        for value in values:
            if value == "" or key == "area_unit":
                continue
            if key in km_names:
                try:
                    value = _trim(float(value.replace(",", ".")) * 1000)
                except ValueError:
                    pass  # left as it is: the filter names the bad value
                key = km_names[key]
            elif hectares and key in ("area_min", "area_max"):
                key = f"{key}_ha"
            result.appendlist(key, value)
    return result


def _trim(number: float) -> str:
    return f"{number:.3f}".rstrip("0").rstrip(".")


# --- the form ---------------------------------------------------------------------------


def _error_target(name: str) -> str:
    """The control next to which a parameter's error is shown."""
    if name in ("area_min_ha", "area_max_ha"):
        return name.removesuffix("_ha")
    if name == "station_max_category":
        return "max_distance_station_m"
    if name in ("near", "radius_m", "bbox"):
        return "area"
    return name


def _choices(names: Iterable[tuple[str, Any]], selected: Iterable[str]) -> list[Choice]:
    chosen = set(selected)
    return [Choice(str(value), str(label), str(value) in chosen) for value, label in names]


def search_form(
    filterset: SiteFilterSet,
    layers_with_data: set[str],
    place_list: list[tuple[str, str, str, str, str]] | None = None,
) -> dict[str, Any]:
    """The filter form's fieldsets, values and errors for the template; `place_list`:
    map_config.place_rows() (read now if not given)."""
    data = filterset.data
    errors: dict[str, list[str]] = {}
    if filterset.is_bound and not filterset.is_valid():
        for name, messages in filterset.errors.items():
            errors.setdefault(_error_target(name), []).extend(str(m) for m in messages)
    form_fields = filterset.form.fields

    def choice_field(name: str, label: str, labels: dict[str, Any] | None = None) -> Field:
        choices = [
            (value, (labels or {}).get(value, text))
            for value, text in form_fields[name].choices
            if value and (labels is None or value in labels)
        ]
        return Field(
            name,
            label,
            "checkboxes",
            choices=_choices(choices, data.getlist(name)),
            errors=errors.pop(name, []),
        )

    def select_field(name: str, label: str, labels: dict[str, Any], empty: str) -> Field:
        choices = [("", empty)] + [
            (value, labels[value]) for value, _text in form_fields[name].choices if value in labels
        ]
        return Field(
            name,
            label,
            "select",
            choices=_choices(choices, [data.get(name, "")]),
            errors=errors.pop(name, []),
        )

    def number(name: str, label: str, unit: str, step: str = "any") -> Field:
        return Field(
            name,
            label,
            "number",
            value=data.get(name, ""),
            unit=unit,
            step=step,
            errors=errors.pop(name, []),
        )

    def flag(name: str, label: str) -> Field:
        return Field(
            name,
            label,
            "flag",
            value="true",
            choices=[Choice("true", label, data.get(name) == "true")],
            errors=errors.pop(name, []),
        )

    hectares = bool(data.get("area_min_ha") or data.get("area_max_ha"))
    area_unit = "ha" if hectares else "m2"
    area_fields = [
        Field(
            "area_min",
            _("from"),
            "number",
            value=data.get("area_min_ha" if hectares else "area_min", ""),
            errors=errors.pop("area_min", []),
        ),
        Field(
            "area_max",
            _("to"),
            "number",
            value=data.get("area_max_ha" if hectares else "area_max", ""),
            errors=errors.pop("area_max", []),
        ),
        Field(
            "area_unit",
            _("Unit"),
            "select",
            choices=_choices([("m2", "m²"), ("ha", "ha")], [area_unit]),
        ),
    ]

    proximity = []
    for name in PROXIMITY_ORDER:
        spec = DISTANCE_FIELDS[PROXIMITY_FIELDS[name]][0]
        loaded = spec.slug in layers_with_data
        km_value = ""
        if data.get(name):
            try:
                km_value = _trim(float(data[name]) / 1000)
            except ValueError:
                km_value = data[name]
        proximity.append(
            Field(
                name,
                spec.name,
                "km",
                value=km_value,
                unit="km",
                disabled=not loaded,
                hint="" if loaded else _("no data loaded yet"),
                errors=errors.pop(name, []),
            )
        )
        if name == "max_distance_station_m":
            proximity.append(
                Field(
                    "station_max_category",
                    _("Only major stations (category 1–3)"),
                    "flag",
                    value="3",
                    disabled=not loaded,
                    choices=[Choice("3", "", data.get("station_max_category") == "3")],
                )
            )

    fieldsets = [
        Fieldset(_("Kind of site"), [choice_field("kind", _("Kind"))], slug="kind"),
        Fieldset(_("Gross area"), area_fields, slug="area-range"),
        Fieldset(
            _("Offer and price"),
            [
                choice_field("offer_type", _("Offer type")),
                number("price_min", _("Sale price from"), "€/m²"),
                number("price_max", _("to"), "€/m²"),
                number("rent_min", _("Monthly rent from"), _("€/m²/month")),
                number("rent_max", _("to"), _("€/m²/month")),
                number("ground_rent_min", _("Ground rent from"), _("€/m²/year")),
                number("ground_rent_max", _("to"), _("€/m²/year")),
                flag("commission_free", _("Commission-free only")),
                select_field(
                    "price_on_request",
                    _("Sites with price on request"),
                    PRICE_ON_REQUEST_LABELS,
                    _("Unless a price range is set"),
                ),
            ],
            slug="price",
        ),
        Fieldset(
            _("Planning"),
            [
                choice_field("planning_category", _("Planning category")),
                choice_field("bplan_status", _("B-Plan status")),
                select_field(
                    "restriction_max", _("Restrictions"), RESTRICTION_LABELS, _("Any restrictions")
                ),
            ],
            slug="planning",
        ),
        Fieldset(
            _("Availability and ownership"),
            [
                flag("available_now", _("Available now")),
                Field(
                    "available_by",
                    _("Available by"),
                    "date",
                    value=data.get("available_by", ""),
                    errors=errors.pop("available_by", []),
                ),
                choice_field("ownership", _("Ownership"), dict(Site.Ownership.choices)),
            ],
            slug="availability",
        ),
        Fieldset(
            _("Divisibility"),
            [
                flag("divisible", _("Divisible sites only")),
                number("part_min_m2", _("Part from"), "m²"),
                number("part_max_m2", _("Part up to"), "m²"),
            ],
            slug="divisibility",
        ),
        Fieldset(
            _("Infrastructure"),
            [
                flag("rail_siding", _("Rail siding")),
                flag("port_access", _("Port access")),
                select_field("broadband_min", _("Broadband"), BROADBAND_LABELS, _("Any")),
            ],
            slug="infrastructure",
        ),
        Fieldset(_("Maximum distance to"), proximity, slug="proximity"),
    ]
    places = _place_groups(data.getlist("municipality"), data.getlist("district"), place_list)
    place_errors = errors.pop("municipality", []) + errors.pop("district", [])
    area_errors = errors.pop("area", [])
    sort = sort_field(filterset, layers_with_data, errors.pop("sort", []))
    return {
        "fieldsets": fieldsets,
        "places": places,
        "place_errors": place_errors,
        "places_selected": sum(1 for group in places for c in group["choices"] if c.checked),
        "area_errors": area_errors,
        "sort": sort,
        "other_errors": [m for messages in errors.values() for m in messages],
        "hidden": {name: data.get(name, "") for name in ("area", "near", "radius_m", "map")},
        "has_errors": bool(filterset.is_bound and filterset.errors),
    }


def _place_groups(
    municipalities: list[str],
    districts: list[str],
    places: list[tuple[str, str, str, str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Municipalities grouped by district; the independent cities (a district of one
    municipality) together, each once."""
    chosen_m, chosen_d = set(municipalities), set(districts)
    by_district: dict[str, dict[str, Any]] = {}
    cities = []
    for ags, name, district_ags, district_name, district_kind in (
        place_rows() if places is None else places
    ):
        if ags[:5] == district_ags and district_kind.lower().startswith("kreisfrei"):
            cities.append(Choice(ags, name, ags in chosen_m))
            continue
        group = by_district.setdefault(
            district_ags,
            {
                "title": district_name,
                "district": Choice(
                    district_ags,
                    _("all of %(district)s") % {"district": district_name},
                    district_ags in chosen_d,
                ),
                "choices": [],
            },
        )
        group["choices"].append(Choice(ags, name, ags in chosen_m))
    groups = []
    if cities:
        groups.append({"title": _("Independent cities"), "district": None, "choices": cities})
    groups.extend(by_district.values())
    return groups


def sort_field(
    filterset: SiteFilterSet, layers_with_data: set[str], errors: list[str] | None = None
) -> Field:
    current = filterset.data.get("sort") or "newest"
    choices = []
    for key, label in SORT_LABELS.items():
        if key not in SORT_ORDERINGS:
            continue
        disabled = False
        if key.startswith("distance_"):
            disabled = DISTANCE_FIELDS[distance_sort_column(key)][0].slug not in layers_with_data
        text = str(label) + (" – " + _("no data loaded yet") if disabled else "")
        choices.append(Choice(key, text, key == current, disabled))
    return Field("sort", _("Sort by"), "select", choices=choices, errors=errors or [])


# --- the results ------------------------------------------------------------------------


def _area(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10_000:
        return l10n.hectares(value)
    return l10n.area_m2(value)


def result_page(filterset: SiteFilterSet, page_number: str | None) -> tuple[int, bool, Page | None]:
    """The number of results, whether it is exact (else an estimate: COUNT_EXACT_MAX),
    and the requested page (the first if out of range)."""
    if filterset.is_bound and not filterset.is_valid():
        return 0, True, None
    queryset = filterset.qs
    if not filterset.data.get("sort"):
        queryset = queryset.sorted_by("newest")
    paginator = EstimatingPaginator(queryset.for_listing(), RESULTS_PER_PAGE)
    page = paginator.get_page(page_number)
    return paginator.count, paginator.count_is_exact, page


def result_entries(page: Page | None, sort: str, kind_labels: dict[str, str]) -> list[dict]:
    """The list entries, formatted as the page's JavaScript formats the API's answer."""
    if page is None:
        return []
    distance_column = distance_sort_column(sort) if sort.startswith("distance_") else None
    entries = []
    for site in page.object_list:
        price = site_price(site)
        distance = ""
        if distance_column:
            metres = getattr(site, distance_column, None)
            distance = l10n.km(metres) if metres is not None else "–"
        entries.append(
            {
                "id": site.pk,
                "title": site.title,
                "is_demo": site.is_demo,
                "reserved": site.status == Site.Status.RESERVED,
                "kind": site.kind,
                "kind_label": kind_labels.get(site.kind, site.kind),
                "municipality": site.municipality.name,
                "area": _area(site.gross_area_m2),
                "price": price,
                "distance": distance,
            }
        )
    return entries


def search_scope(params: QueryDict) -> str:
    """What area the result count counts: the map area searched, a drawn area or radius,
    the chosen municipalities, or the whole region (repeated by results.js as it changes)."""
    parts = []
    if params.get("bbox"):
        parts.append(_("in the map area searched"))
    if params.get("area"):
        parts.append(_("in the drawn area"))
    elif params.get("near"):
        parts.append(_("around the chosen point"))
    if params.getlist("municipality") or params.getlist("district"):
        parts.append(_("in the chosen municipalities"))
    return ", ".join(str(part) for part in parts) or str(_("in the whole Ruhr area"))
