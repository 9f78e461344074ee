from django.urls import reverse
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geodata.layers import DISTANCE_FIELDS
from properties.models import OFFER_FIELDS, Site, SiteMedia
from sitefinder.api_fields import WebGeometryField
from sitefinder.l10n import unprefixed_path

URL_SENTINEL = 987654321987
LIST_FIELDS = [
    "id",
    "title",
    "kind",
    "status",
    "is_demo",
    "municipality",
    "municipality_name",
    "gross_area_m2",
    "net_area_m2",
    "planning_category",
    "bplan_status",
    *OFFER_FIELDS,
    "price_on_request",
    "available_from",
    "has_rail_siding",
    "has_port_access",
    "last_verified_at",
    "url",
    *DISTANCE_FIELDS,
]


class SiteSerializer(GeoFeatureModelSerializer):
    """A site as a GeoJSON feature; geometry in EPSG:4326."""

    geom = WebGeometryField()
    municipality: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="ags", read_only=True
    )
    municipality_name = serializers.CharField(source="municipality.name", read_only=True)
    url = serializers.SerializerMethodField(
        help_text="The site's public detail page, without a language: it opens in the "
        "reader's language (/de/sites/1/, /en/sites/1/, …)."
    )

    class Meta:
        model = Site
        geo_field = "geom"
        fields = LIST_FIELDS

    def get_url(self, site: Site) -> str:
        # One reverse() and absolute URL per list, not per row: the same serializer
        # instance writes every row of a page. Without a language: the page opens in the
        # reader's (/de/sites/1/, /en/sites/1/, ...).
        template = self.__dict__.get("_url_template")
        if template is None:
            request = self.context.get("request")
            path = unprefixed_path(reverse("site_detail", args=[URL_SENTINEL]))
            template = request.build_absolute_uri(path) if request else path
            self.__dict__["_url_template"] = template
        return template.replace(str(URL_SENTINEL), str(site.pk), 1)


class SiteMediaSerializer(serializers.ModelSerializer):
    class Meta:
        model = SiteMedia
        fields = ["kind", "file", "caption", "position"]


class SiteDetailSerializer(SiteSerializer):
    media = SiteMediaSerializer(many=True, read_only=True)
    district = serializers.CharField(source="municipality.district.name", read_only=True)

    class Meta(SiteSerializer.Meta):
        fields = [
            *LIST_FIELDS,
            "district",
            "description",
            "street",
            "postcode",
            "is_divisible",
            "min_divisible_m2",
            "max_divisible_m2",
            "restriction_class",
            "restrictions",
            "restriction_notes",
            "ownership",
            "price_negotiable",
            "has_water",
            "has_sewer",
            "has_power",
            "has_gas_heat",
            "broadband",
            "contact_name",
            "contact_email",
            "contact_phone",
            "created_at",
            "updated_at",
            "distances_computed_at",
            "media",
        ]
