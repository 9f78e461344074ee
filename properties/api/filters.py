"""The site filters: one FilterSet for the API, the exports and the HTML search.

Every filter calls a typed `SiteQuerySet` method; filters combine with AND, the values of a
multi-select (a repeated parameter, `kind=plot&kind=hall`) with OR. Every bad value is a form
error naming its parameter, which the DRF backend answers with a 400.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Point
from django.db import DatabaseError
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from geodata.api.filters import (
    LATITUDE_PATTERN,
    LONGITUDE_PATTERN,
    REGION_OF_THE_WORLD,
    BBoxFilter,
)
from geodata.layers import DISTANCE_FIELDS
from geodata.models import District, LayerFeature, Municipality
from properties.models import Site
from properties.querysets import (
    BROADBAND_LEVELS,
    PRICE_FIGURES,
    RESTRICTION_LEVELS,
    SORT_ORDERINGS,
)

# Limits of a drawn search area and of a radius search.
AREA_MAX_KM2 = 10_000
AREA_MAX_VERTICES = 2_000
RADIUS_MAX_M = 50_000
DEFAULT_RADIUS_M = 5_000
# Upper bounds of numbers, far above any real value: keeps absurd input out of the SQL.
MAX_AREA_M2 = Decimal(10) ** 10
MAX_PRICE_EUR_M2 = Decimal(10) ** 6
MAX_DISTANCE_M = Decimal(10) ** 6

# Proximity parameter -> stored distance column. `max_distance_station_m` is special: it
# reads `distance_to_major_station_m` when `station_max_category=3` is given.
PROXIMITY_FIELDS = {
    "max_distance_station_m": "distance_to_station_m",
    "max_distance_junction_m": "distance_to_junction_m",
    "max_distance_airport_m": "distance_to_airport_m",
    "max_distance_port_m": "distance_to_port_m",
    "max_distance_university_m": "distance_to_university_m",
    "max_distance_motorway_m": "distance_to_motorway_m",
    "max_distance_waterway_m": "distance_to_waterway_m",
    "max_distance_rail_line_m": "distance_to_rail_line_m",
}
# The station categories with a stored distance column (category 1-3, the major stations).
STATION_CATEGORY_FIELDS = {3: "distance_to_major_station_m"}

SORT_CHOICES = [(key, key) for key in SORT_ORDERINGS]
PRICE_ON_REQUEST_CHOICES = [
    ("include", "include: a price range also keeps sites showing no price"),
    ("only", "only: just the sites whose price is on request"),
    ("exclude", "exclude: drop the sites whose price is on request"),
]


BOUNDS = ("min", "max")


def _grouped(number: int) -> str:
    """A whole number with thousands separators in the active language (2,000 / 2.000)."""
    return number_format(number, 0, force_grouping=True)


class StrictBooleanField(forms.Field):
    """`true`/`false` (also 1/0, yes/no, on/off); anything else is an error, not "unset"."""

    TRUE = frozenset({"true", "1", "yes", "on"})
    FALSE = frozenset({"false", "0", "no", "off"})
    default_error_messages = {"invalid": _("Give true or false.")}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class FlagFilter(django_filters.Filter):
    """A yes-only switch: `true` applies the filter, `false` or absent leaves it out (each
    filter method checks `value is True`)."""

    field_class = StrictBooleanField


def _ring_area_m2(ring: Any) -> float:
    """Area of a lon/lat ring on the sphere (the spherical-excess approximation that
    d3/turf use): good to well under a percent at the size limits checked here."""
    radius = 6_378_137.0
    coords = list(ring)
    total = 0.0
    for (lon1, lat1, *_rest1), (lon2, lat2, *_rest2) in zip(coords, coords[1:], strict=False):
        total += math.radians(lon2 - lon1) * (
            2 + math.sin(math.radians(lat1)) + math.sin(math.radians(lat2))
        )
    return abs(total) * radius * radius / 2


def _polygon_area_m2(geom: GEOSGeometry) -> float:
    """Area of a lon/lat (Multi)Polygon on the sphere: outer rings less holes."""
    polygons: list[Any] = list(geom) if isinstance(geom, MultiPolygon) else [geom]
    return sum(
        _ring_area_m2(polygon[0]) - sum(_ring_area_m2(hole) for hole in list(polygon)[1:])
        for polygon in polygons
    )


class SearchAreaField(forms.CharField):
    """A drawn search area: a GeoJSON geometry or WKT (Multi)Polygon in EPSG:4326."""

    default_error_messages = {
        "format": _("Give the area as a GeoJSON geometry or a WKT polygon in EPSG:4326 (lon/lat)."),
        "type": _("The area must be a Polygon or MultiPolygon, not a %(type)s."),
        "vertices": _("The drawn area has %(count)s vertices; at most %(max)s are allowed."),
        "range": _("The area lies outside the world: longitudes -180..180, latitudes -90..90."),
        "crosses": _("The drawn area crosses itself; redraw it without crossing lines."),
        "invalid": _("The drawn area is not a valid polygon: %(reason)s."),
        "size": _("The drawn area covers about %(km2)s km²; at most %(max)s km² are allowed."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        geom = self._parse(value.strip())
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise forms.ValidationError(
                self.error_messages["type"], code="type", params={"type": geom.geom_type}
            )
        if geom.empty:
            raise forms.ValidationError(self.error_messages["format"], code="format")
        if geom.num_coords > AREA_MAX_VERTICES:
            raise forms.ValidationError(
                self.error_messages["vertices"],
                code="vertices",
                params={"count": _grouped(geom.num_coords), "max": _grouped(AREA_MAX_VERTICES)},
            )
        wminx, wminy, wmaxx, wmaxy = REGION_OF_THE_WORLD
        minx, miny, maxx, maxy = geom.extent
        if not (wminx <= minx and maxx <= wmaxx and wminy <= miny and maxy <= wmaxy):
            raise forms.ValidationError(self.error_messages["range"], code="range")
        if not geom.valid:
            reason = geom.valid_reason
            if "Self-intersection" in reason:
                raise forms.ValidationError(self.error_messages["crosses"], code="crosses")
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"reason": reason}
            )
        km2 = _polygon_area_m2(geom) / 1_000_000
        if km2 > AREA_MAX_KM2:
            raise forms.ValidationError(
                self.error_messages["size"],
                code="size",
                params={"km2": _grouped(round(km2)), "max": _grouped(AREA_MAX_KM2)},
            )
        return geom

    def _parse(self, text: str) -> GEOSGeometry:
        """GeoJSON (an object with a `type`) or WKT; never HEX/WKB or a file name for GDAL."""
        try:
            if text.startswith("{"):
                data = json.loads(text)
                if not isinstance(data, dict) or "coordinates" not in data:
                    raise ValueError("not a GeoJSON geometry")
                geom = GEOSGeometry(json.dumps(data))
            elif text[:1].isalpha() and not text.upper().startswith("SRID"):
                geom = GEOSGeometry(text, srid=4326)
            else:
                raise ValueError("neither GeoJSON nor WKT")
        except (ValueError, TypeError, GEOSException, GDALException):
            raise forms.ValidationError(self.error_messages["format"], code="format") from None
        geom.srid = 4326
        return geom


@extend_schema_field(OpenApiTypes.STR)
class SearchAreaFilter(django_filters.Filter):
    field_class = SearchAreaField

    def filter(self, qs, value):
        if value is None:
            return qs
        # The 4326 geometry is transformed to the sites' EPSG:25832 in SQL.
        return qs.intersecting(value)


class LonLatField(forms.CharField):
    """`lon,lat` in EPSG:4326 -> a Point with srid 4326."""

    schema_pattern = rf"^({LONGITUDE_PATTERN},{LATITUDE_PATTERN})?$"  # empty: none

    default_error_messages = {
        "format": _("Give the point as lon,lat (two numbers, EPSG:4326)."),
        "range": _("The point lies outside the world: longitude -180..180, latitude -90..90."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            lon, lat = (float(part) for part in value.split(","))
        except ValueError:
            raise forms.ValidationError(self.error_messages["format"], code="format") from None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise forms.ValidationError(self.error_messages["format"], code="format")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise forms.ValidationError(self.error_messages["range"], code="range")
        return Point(lon, lat, srid=4326)


@extend_schema_field(OpenApiTypes.STR)
class LonLatFilter(django_filters.Filter):
    field_class = LonLatField


@extend_schema_field(OpenApiTypes.STR)
class AgsFilter(django_filters.ModelMultipleChoiceFilter):
    """Municipalities or districts by their official key (AGS), repeatable."""


def _number(maximum: Decimal, help_text: str, **kwargs: Any) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        min_value=0, max_value=maximum, help_text=help_text, **kwargs
    )


class SiteFilterForm(forms.Form):
    """Checks across parameters: ranges, pairs that belong together, layers with data."""

    # (minimum, maximum) parameter pairs; an inverted range is an error on the maximum.
    RANGES = (
        *((f"{figure}_min", f"{figure}_max") for figure in PRICE_FIGURES),
        ("part_min_m2", "part_max_m2"),
    )

    # The search page tells a person that a range is inverted or that "price on request
    # only" contradicts a price range; the API answers such a search literally (what matches
    # both conditions, usually nothing), since an OpenAPI schema cannot state conditions
    # across parameters and what it calls valid is accepted (ApiSiteFilterForm).
    refuse_contradictions = True

    def clean(self):
        data = super().clean()
        self._clean_gross_area(data)
        if self.refuse_contradictions:
            for low, high in self.RANGES:
                self._check_order(data, low, high)
        if self.refuse_contradictions and data.get("price_on_request") == "only":
            for name in (f"{figure}_{bound}" for figure in PRICE_FIGURES for bound in BOUNDS):
                if data.get(name) is not None:
                    self.add_error(
                        name,
                        gettext(
                            "price_on_request=only keeps just the sites without a price; "
                            "it cannot be combined with a price or rent range."
                        ),
                    )
        self._clean_radius(data)
        self._clean_proximity(data)
        return data

    def _clean_gross_area(self, data: dict[str, Any]) -> None:
        """`area_min_ha`/`area_max_ha` are the same bounds in hectares; given with the m²
        bound as well, both apply (the larger minimum, the smaller maximum) and the result
        lands in `area_min`/`area_max`."""
        for bound, pick in (("min", max), ("max", min)):
            m2, ha = f"area_{bound}", f"area_{bound}_ha"
            if data.get(ha) is None:
                continue
            in_m2 = data[ha] * 10_000
            data[m2] = in_m2 if data.get(m2) is None else pick(data[m2], in_m2)
        low, high = data.get("area_min"), data.get("area_max")
        if self.refuse_contradictions and low is not None and high is not None and low > high:
            name = "area_max" if self.data.get("area_max") not in (None, "") else "area_max_ha"
            self.add_error(
                name, gettext("The area range is inverted: the maximum is below the minimum.")
            )

    def _check_order(self, data: dict[str, Any], low: str, high: str) -> None:
        if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
            self.add_error(
                high,
                gettext("The range is inverted: %(high)s is below %(low)s.")
                % {"high": high, "low": low},
            )

    def _clean_radius(self, data: dict[str, Any]) -> None:
        """`near` without `radius_m` searches DEFAULT_RADIUS_M around it; `radius_m` without
        `near` has no centre and no effect (both documented in the schema)."""
        if data.get("near") is not None and data.get("radius_m") is None:
            if "radius_m" not in self.errors:
                data["radius_m"] = DEFAULT_RADIUS_M

    def _clean_proximity(self, data: dict[str, Any]) -> None:
        category = data.get("station_max_category")
        if category is not None and category not in STATION_CATEGORY_FIELDS:
            supported = ", ".join(str(c) for c in STATION_CATEGORY_FIELDS)
            self.add_error(
                "station_max_category",
                gettext(
                    "Only station_max_category=%(supported)s (stations of category 1–3) is "
                    "supported so far."
                )
                % {"supported": supported},
            )
            return
        for name in PROXIMITY_FIELDS:
            if data.get(name) is not None:
                self._require_layer_data(name, proximity_column(name, data))
        sort = data.get("sort")
        if sort and sort.startswith("distance_"):
            self._require_layer_data("sort", distance_sort_column(sort))

    def _require_layer_data(self, name: str, column: str) -> None:
        layer = DISTANCE_FIELDS[column][0].slug
        # One query per layer and request, however many parameters read it.
        known: dict[str, bool] = self.__dict__.setdefault("_layer_has_data", {})
        if layer not in known:
            known[layer] = LayerFeature.objects.of_layer(layer).exists()
        if not known[layer]:
            if name == "sort":
                message = gettext(
                    "layer '%(layer)s' has no data loaded yet, so this sort order cannot be "
                    "applied."
                )
            else:
                message = gettext(
                    "layer '%(layer)s' has no data loaded yet, so this filter cannot be applied."
                )
            self.add_error(name, message % {"layer": layer})


class _ShallowCopies(dict):
    """Fields (or filters) that Django (django-filter) deep-copies for every form (filter
    set) instance: ~40 of them here with their widgets, choices and querysets, half the
    Python time of an uncached search. Neither the form nor the filters change a field's
    configuration per request (the page builds its own controls from the choices), so a
    shallow copy each is enough; a filter's `method` is bound to its own copy (it looks the
    method up on the copy's filter set)."""

    def __deepcopy__(self, memo: dict) -> dict:
        copies = {}
        for name, item in self.items():
            duplicate = copy.copy(item)
            if isinstance(item, django_filters.Filter) and item.method is not None:
                duplicate.method = item.method  # a FilterMethod of the copy, not the original
            copies[name] = duplicate
        return copies


def proximity_column(name: str, data: dict[str, Any]) -> str:
    """The stored distance column a proximity parameter compares."""
    if name == "max_distance_station_m" and data.get("station_max_category") is not None:
        return STATION_CATEGORY_FIELDS[data["station_max_category"]]
    return PROXIMITY_FIELDS[name]


def distance_sort_column(sort: str) -> str:
    """`distance_junction` -> `distance_to_junction_m`."""
    return "distance_to_" + sort.removeprefix("distance_") + "_m"


# Query parameters of a search that choose how results are shown, not which sites match:
# ignored where only the set matters (tiles), kept out of the filters.
VIEW_PARAMETERS = frozenset({"sort", "page", "page_size", "map", "selected", "format"})


class SiteFilterSet(django_filters.FilterSet):
    """The investor search. See the module docstring for how filters combine."""

    # Where.
    bbox = BBoxFilter()
    area = SearchAreaFilter(
        help_text="Sites intersecting a drawn (Multi)Polygon: GeoJSON geometry or WKT in "
        f"EPSG:4326; at most {AREA_MAX_KM2:,} km² and {AREA_MAX_VERTICES:,} vertices."
    )
    near = LonLatFilter(
        method="filter_radius",
        help_text="Centre of a radius search: lon,lat (EPSG:4326); the radius is radius_m, "
        f"else {DEFAULT_RADIUS_M:,} m.",
    )
    radius_m = django_filters.NumberFilter(
        min_value=1,
        max_value=RADIUS_MAX_M,
        method="filter_joint",
        help_text=f"Radius in metres around `near` (at most {RADIUS_MAX_M:,}; "
        f"default {DEFAULT_RADIUS_M:,}); without `near` it has no effect.",
    )
    municipality = AgsFilter(
        field_name="municipality__ags",
        to_field_name="ags",
        queryset=Municipality.objects.all(),
        method="filter_municipality",
        help_text="8-digit AGS; repeat for several.",
    )
    district = AgsFilter(
        field_name="municipality__district__ags",
        to_field_name="ags",
        queryset=District.objects.all(),
        method="filter_district",
        help_text="5-digit district key (Kreis / kreisfreie Stadt); repeat for several.",
    )

    # What.
    kind = django_filters.MultipleChoiceFilter(
        choices=Site.Kind.choices, method="filter_kind", help_text="Repeat for several."
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Site.Status.choices, method="filter_status", help_text="Repeat for several."
    )
    area_min = _number(MAX_AREA_M2, "Gross area at least (m²).", method="filter_joint")
    area_max = _number(MAX_AREA_M2, "Gross area at most (m²).", method="filter_joint")
    area_min_ha = _number(
        MAX_AREA_M2 / 10_000, "Gross area at least (hectares).", method="filter_joint"
    )
    area_max_ha = _number(
        MAX_AREA_M2 / 10_000, "Gross area at most (hectares).", method="filter_joint"
    )
    offer_type = django_filters.MultipleChoiceFilter(
        choices=Site.OfferType.choices,
        method="filter_offer_type",
        help_text="sale, rent or leasehold; repeat for several (a site offered any of them).",
    )
    price_min = _number(MAX_PRICE_EUR_M2, "Sale price at least (€/m²).", method="filter_joint")
    price_max = _number(MAX_PRICE_EUR_M2, "Sale price at most (€/m²).", method="filter_joint")
    rent_min = _number(
        MAX_PRICE_EUR_M2, "Monthly rent at least (€/m² per month).", method="filter_joint"
    )
    rent_max = _number(
        MAX_PRICE_EUR_M2, "Monthly rent at most (€/m² per month).", method="filter_joint"
    )
    ground_rent_min = _number(
        MAX_PRICE_EUR_M2,
        "Leasehold ground rent (Erbbauzins) at least (€/m² per year).",
        method="filter_joint",
    )
    ground_rent_max = _number(
        MAX_PRICE_EUR_M2,
        "Leasehold ground rent (Erbbauzins) at most (€/m² per year).",
        method="filter_joint",
    )
    commission_free = FlagFilter(
        method="filter_commission_free", help_text="true: commission-free offers only."
    )
    price_on_request = django_filters.ChoiceFilter(
        choices=PRICE_ON_REQUEST_CHOICES,
        method="filter_joint",
        help_text="include: a price or rent range also keeps sites of that offer type showing "
        "no figure (on request or not given); only: just the sites whose price is on request; "
        "exclude: drop them.",
    )
    planning_category = django_filters.MultipleChoiceFilter(
        choices=Site.PlanningCategory.choices,
        method="filter_planning_category",
        help_text="Repeat for several.",
    )
    bplan_status = django_filters.MultipleChoiceFilter(
        choices=Site.BPlanStatus.choices,
        method="filter_bplan_status",
        help_text="Repeat for several.",
    )
    ownership = django_filters.MultipleChoiceFilter(
        choices=[*Site.Ownership.choices, ("public", _("Public (municipal or other public body)"))],
        method="filter_ownership",
        help_text="Repeat for several. public (former code): municipal or other_public.",
    )
    available_now = FlagFilter(
        method="filter_available_now",
        help_text="true: available today (no date given, or a date up to today).",
    )
    available_by = django_filters.DateFilter(
        method="filter_available_by", help_text="Available on this day (YYYY-MM-DD) or earlier."
    )
    divisible = FlagFilter(method="filter_divisible", help_text="true: divisible sites only.")
    part_min_m2 = _number(
        MAX_AREA_M2,
        "A part of at least this many m² can be had (largest part of a divisible site, "
        "else the gross area).",
        method="filter_part_min",
    )
    part_max_m2 = _number(
        MAX_AREA_M2,
        "A part of at most this many m² can be had (smallest part of a divisible site, "
        "or the whole site).",
        method="filter_part_max",
    )
    rail_siding = FlagFilter(method="filter_rail_siding", help_text="true: with a rail siding.")
    port_access = FlagFilter(method="filter_port_access", help_text="true: with port access.")
    broadband_min = django_filters.ChoiceFilter(
        choices=[(level, level) for level in BROADBAND_LEVELS],
        method="filter_broadband_min",
        help_text="This level or better: none < basic < fast < gigabit.",
    )
    restriction_class = django_filters.MultipleChoiceFilter(
        choices=Site.RestrictionClass.choices,
        method="filter_restriction_class",
        help_text="Repeat for several.",
    )
    restriction_max = django_filters.ChoiceFilter(
        choices=[(level, level) for level in RESTRICTION_LEVELS],
        method="filter_restriction_max",
        help_text="This class or lighter: none < light < severe.",
    )

    # How far (stored distances in metres; a layer without data is an error, not "far").
    max_distance_station_m = _number(
        MAX_DISTANCE_M, "Nearest railway station at most this far (m).", method="filter_joint"
    )
    station_max_category = extend_schema_field(
        {"type": "integer", "enum": sorted(STATION_CATEGORY_FIELDS)}
    )(
        django_filters.NumberFilter(
            method="filter_joint",
            help_text="With max_distance_station_m: stations of this DB category or better; "
            "only 3 (categories 1–3) is supported so far.",
        )
    )
    max_distance_junction_m = _number(
        MAX_DISTANCE_M, "Nearest motorway junction at most this far (m).", method="filter_joint"
    )
    max_distance_airport_m = _number(
        MAX_DISTANCE_M, "Nearest airport at most this far (m).", method="filter_joint"
    )
    max_distance_port_m = _number(
        MAX_DISTANCE_M, "Nearest port at most this far (m).", method="filter_joint"
    )
    max_distance_university_m = _number(
        MAX_DISTANCE_M, "Nearest university at most this far (m).", method="filter_joint"
    )
    max_distance_motorway_m = _number(
        MAX_DISTANCE_M, "Nearest motorway at most this far (m).", method="filter_joint"
    )
    max_distance_waterway_m = _number(
        MAX_DISTANCE_M, "Nearest waterway at most this far (m).", method="filter_joint"
    )
    max_distance_rail_line_m = _number(
        MAX_DISTANCE_M, "Nearest railway line at most this far (m).", method="filter_joint"
    )

    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES,
        method="filter_sort",
        help_text="newest (default), area, -area, price, -price (sale €/m²), rent, -rent "
        "(monthly €/m²), ground_rent, -ground_rent (leasehold €/m² per year; sites without "
        "the figure last), or "
        "distance_<layer> such as distance_station, distance_junction (nearest first).",
    )

    class Meta:
        model = Site
        form = SiteFilterForm
        fields: list[str] = []

    @classmethod
    def schema_unavailable(cls) -> tuple[set[str], set[str]]:
        """The parameters and sort values a 400 refuses right now because their layer has
        no data: the OpenAPI schema leaves them out (it describes what is valid). Without
        a database to ask (`check --deploy` on a build machine, a schema file written before
        the first migration) no layer is known to be empty: the schema then lists them all."""
        try:
            empty = {
                column
                for column, (spec, _filter) in DISTANCE_FIELDS.items()
                if not LayerFeature.objects.of_layer(spec.slug).exists()
            }
        except DatabaseError:
            empty = set()
        parameters = {name for name, column in PROXIMITY_FIELDS.items() if column in empty}
        sorts = {key for key in SORT_ORDERINGS if distance_sort_column(key) in empty}
        return parameters, sorts

    # The form class, built once per process and language (labels are translated when it is
    # built) instead of from fresh fields for every request: no filter depends on the
    # request. A form instance still deep-copies its fields, as every Django form does.
    _form_classes: dict[tuple[type, str], type[forms.Form]] = {}

    def get_form_class(self) -> type[forms.Form]:
        key = (type(self), get_language() or "")
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _ShallowCopies(form_class.base_fields)
            self._form_classes[key] = form_class
        return form_class

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return self._filter_joint_parameters(queryset, self.form.cleaned_data)

    def _filter_joint_parameters(self, qs, data: dict[str, Any]):
        """Parameters that only make sense together, applied once (see `filter_joint`)."""
        if data.get("area_min") is not None:
            qs = qs.gross_area_at_least(data["area_min"])
        if data.get("area_max") is not None:
            qs = qs.gross_area_at_most(data["area_max"])
        on_request = data.get("price_on_request") or None
        ranged = False
        for figure in PRICE_FIGURES:
            low, high = data.get(f"{figure}_min"), data.get(f"{figure}_max")
            if low is not None or high is not None:
                ranged = True
                qs = qs.priced(minimum=low, maximum=high, on_request=on_request, figure=figure)
        if on_request and not ranged:
            qs = qs.priced(on_request=on_request)
        if data.get("near") is not None and data.get("radius_m") is not None:
            qs = qs.within_distance(data["near"], float(data["radius_m"]))
        for name in PROXIMITY_FIELDS:
            if data.get(name) is not None:
                qs = qs.within_stored_distance(proximity_column(name, data), data[name])
        return qs

    # Filter methods: one typed queryset method each.

    def filter_joint(self, qs, name, value):
        # Applied with its partner parameters in `_filter_joint_parameters`.
        return qs

    def filter_radius(self, qs, name, value):
        return qs  # with radius_m, in `_filter_joint_parameters`

    # An absent model multi-select cleans to an empty queryset, which django-filter does not
    # treat as "no value".
    def filter_municipality(self, qs, name, value):
        if not value:
            return qs
        return qs.in_municipalities(m.ags for m in value)

    def filter_district(self, qs, name, value):
        if not value:
            return qs
        return qs.in_districts(d.ags for d in value)

    def filter_kind(self, qs, name, value):
        return qs.of_kinds(value)

    def filter_status(self, qs, name, value):
        return qs.of_statuses(value)

    def filter_offer_type(self, qs, name, value):
        if not value:
            return qs
        return qs.offered_as(value)

    def filter_commission_free(self, qs, name, value):
        if value is not True:
            return qs
        return qs.commission_free()

    def filter_planning_category(self, qs, name, value):
        return qs.with_planning_categories(value)

    def filter_bplan_status(self, qs, name, value):
        return qs.with_bplan_statuses(value)

    def filter_ownership(self, qs, name, value):
        return qs.with_ownership(value)

    def filter_available_now(self, qs, name, value):
        if value is not True:
            return qs
        return qs.available_by(timezone.localdate())

    def filter_available_by(self, qs, name, value: datetime.date):
        return qs.available_by(value)

    def filter_divisible(self, qs, name, value):
        if value is not True:
            return qs
        return qs.divisible()

    def filter_part_min(self, qs, name, value):
        return qs.offering_part_of_at_least(value)

    def filter_part_max(self, qs, name, value):
        return qs.offering_part_of_at_most(value)

    def filter_rail_siding(self, qs, name, value):
        if value is not True:
            return qs
        return qs.with_rail_siding()

    def filter_port_access(self, qs, name, value):
        if value is not True:
            return qs
        return qs.with_port_access()

    def filter_broadband_min(self, qs, name, value):
        return qs.broadband_at_least(value)

    def filter_restriction_class(self, qs, name, value):
        return qs.with_restriction_classes(value)

    def filter_restriction_max(self, qs, name, value):
        return qs.restriction_at_most(value)

    def filter_sort(self, qs, name, value):
        return qs.sorted_by(value)


class ApiSiteFilterForm(SiteFilterForm):
    refuse_contradictions = False


class ApiSiteFilterSet(SiteFilterSet):
    """The search as the API, its exports and the tiles take it: every parameter as in
    SiteFilterSet, but a contradiction (an inverted range, "price on request only" with a
    price range) is answered literally (it matches nothing), not refused."""

    class Meta(SiteFilterSet.Meta):
        form = ApiSiteFilterForm


for _filterset in (SiteFilterSet, ApiSiteFilterSet):
    _filterset.base_filters = _ShallowCopies(_filterset.base_filters)
