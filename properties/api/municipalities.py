"""The municipalities of the API with the number of their published sites: reference data
(geodata) counted through the sites' one rule of "published" (Site.objects.published())."""

from django.contrib.gis.db.models.functions import Transform
from django.db.models import Count
from rest_framework import generics, serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geodata.api.filters import MunicipalityFilterSet
from geodata.models import Municipality
from properties.querysets import published_q, through
from sitefinder.api_fields import WebGeometryField


class MunicipalitySerializer(GeoFeatureModelSerializer):
    geom = WebGeometryField()
    district: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="ags", read_only=True
    )
    district_name = serializers.CharField(source="district.name", read_only=True)
    site_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Municipality
        geo_field = "geom"
        fields = [
            "id",
            "ags",
            "name",
            "kind",
            "district",
            "district_name",
            "population",
            "area_km2",
            "postcode",
            "site_count",
        ]


class MunicipalityList(generics.ListAPIView):
    """The 53 municipalities with boundaries and the number of public sites."""

    serializer_class = MunicipalitySerializer
    filterset_class = MunicipalityFilterSet

    def get_queryset(self):
        return (
            Municipality.objects.select_related("district")
            .annotate(
                geom_4326=Transform("geom", 4326),
                site_count=Count("sites", filter=through(published_q(), "sites")),
            )
            .order_by("ags")
        )


class MunicipalityDetail(generics.RetrieveAPIView):
    serializer_class = MunicipalitySerializer
    lookup_field = "ags"

    def get_queryset(self):
        return MunicipalityList.get_queryset(self)
