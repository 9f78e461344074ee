"""Filters shared by the geodata endpoints; `bbox` is the one parser every endpoint uses."""

import django_filters
from django import forms
from django.contrib.gis.geos import Polygon
from django.utils.translation import gettext_lazy as _

from geodata.models import LayerFeature, Municipality

REGION_OF_THE_WORLD = (-180.0, -90.0, 180.0, 90.0)


class BBoxField(forms.CharField):
    """`minlon,minlat,maxlon,maxlat` in EPSG:4326 -> a Polygon with srid 4326."""

    default_error_messages = {
        "format": _("Give the bbox as minlon,minlat,maxlon,maxlat (four numbers, EPSG:4326)."),
        "range": _("The bbox lies outside the world: longitudes -180..180, latitudes -90..90."),
        "order": _("The bbox is inverted: min must be smaller than max."),
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            minx, miny, maxx, maxy = (float(part) for part in value.split(","))
        except ValueError:
            raise forms.ValidationError(self.error_messages["format"], code="format") from None
        wminx, wminy, wmaxx, wmaxy = REGION_OF_THE_WORLD
        if not (
            wminx <= minx <= wmaxx
            and wminx <= maxx <= wmaxx
            and wminy <= miny <= wmaxy
            and wminy <= maxy <= wmaxy
        ):
            raise forms.ValidationError(self.error_messages["range"], code="range")
        if minx >= maxx or miny >= maxy:
            raise forms.ValidationError(self.error_messages["order"], code="order")
        polygon = Polygon.from_bbox((minx, miny, maxx, maxy))
        polygon.srid = 4326
        return polygon


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


class LayerFeatureFilterSet(django_filters.FilterSet):
    bbox = BBoxFilter()
    max_category = django_filters.NumberFilter(
        field_name="category",
        lookup_expr="lte",
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
