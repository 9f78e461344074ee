"""Filters shared by the geodata endpoints; `bbox` is the one parser every endpoint uses."""

import math

import django_filters
from django import forms
from django.contrib.gis.geos import GEOSGeometry, LineString, Point, Polygon
from django.utils.translation import gettext_lazy as _

from geodata.models import LayerFeature, Municipality

REGION_OF_THE_WORLD = (-180.0, -90.0, 180.0, 90.0)

# Longitudes -180..180 and latitudes -90..90 as decimal numbers, for the OpenAPI schema's
# patterns (sitefinder.api_schema): what the schema calls valid, the fields accept.
_FRACTION = r"(\.[0-9]{1,12})?"
LONGITUDE_PATTERN = rf"-?(180(\.0{{1,12}})?|(1[0-7][0-9]|[1-9]?[0-9]){_FRACTION})"
LATITUDE_PATTERN = rf"-?(90(\.0{{1,12}})?|[1-8]?[0-9]{_FRACTION})"


class BBoxField(forms.CharField):
    """`minlon,minlat,maxlon,maxlat` in EPSG:4326 -> a geometry with srid 4326.

    The four numbers are two opposite corners of the box; corners given in the other order
    span the same box (no bbox is "inverted"), and a box of no width or height is the line
    or point it is: every bbox the OpenAPI schema's pattern allows is a valid one."""

    # Empty: no bbox (as for every filter).
    schema_pattern = (
        rf"^({LONGITUDE_PATTERN},{LATITUDE_PATTERN},{LONGITUDE_PATTERN},{LATITUDE_PATTERN})?$"
    )

    default_error_messages = {
        "format": _("Give the bbox as minlon,minlat,maxlon,maxlat (four numbers, EPSG:4326)."),
        "range": _("The bbox lies outside the world: longitudes -180..180, latitudes -90..90."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            x1, y1, x2, y2 = (float(part) for part in value.split(","))
        except ValueError:
            raise forms.ValidationError(self.error_messages["format"], code="format") from None
        if not all(math.isfinite(number) for number in (x1, y1, x2, y2)):
            raise forms.ValidationError(self.error_messages["format"], code="format")
        wminx, wminy, wmaxx, wmaxy = REGION_OF_THE_WORLD
        if not (wminx <= min(x1, x2) and max(x1, x2) <= wmaxx) or not (
            wminy <= min(y1, y2) and max(y1, y2) <= wmaxy
        ):
            raise forms.ValidationError(self.error_messages["range"], code="range")
        return bbox_geometry(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def bbox_geometry(minx: float, miny: float, maxx: float, maxy: float) -> GEOSGeometry:
    """The box as a Polygon, or the LineString / Point it is when it has no width or
    height (a degenerate polygon is not a valid geometry), srid 4326."""
    geometry: GEOSGeometry
    if minx == maxx and miny == maxy:
        geometry = Point(minx, miny)
    elif minx == maxx or miny == maxy:
        geometry = LineString((minx, miny), (maxx, maxy))
    else:
        geometry = Polygon.from_bbox((minx, miny, maxx, maxy))
    geometry.srid = 4326
    return geometry


class BBoxFilter(django_filters.Filter):
    field_class = BBoxField

    def __init__(self, *args, field_name: str = "geom", **kwargs):
        kwargs.setdefault(
            "help_text", "Only features intersecting minlon,minlat,maxlon,maxlat (EPSG:4326)."
        )
        super().__init__(*args, field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__intersects": value})


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (django-filter's NumberFilter takes decimals)."""

    field_class = forms.IntegerField


class LayerFeatureFilterSet(django_filters.FilterSet):
    bbox = BBoxFilter()
    max_category = IntegerFilter(
        field_name="category",
        lookup_expr="lte",
        min_value=1,
        max_value=7,
        help_text="Stations of this DB category or better (1 = largest).",
    )

    class Meta:
        model = LayerFeature
        fields = ["bbox", "max_category"]


class MunicipalityFilterSet(django_filters.FilterSet):
    bbox = BBoxFilter()
    district = django_filters.CharFilter(
        field_name="district__ags", help_text="5-digit district key"
    )

    class Meta:
        model = Municipality
        fields = ["bbox", "district"]
