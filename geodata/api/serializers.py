from typing import Any

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geodata.models import Dataset, District, Layer, LayerFeature
from sitefinder.api_fields import WebGeometryField


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "slug",
            "title",
            "source",
            "licence",
            "attribution",
            "attribution_url",
            "demo_only",
            "imported_at",
        ]


class LayerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    feature_count = serializers.IntegerField(read_only=True)
    is_empty = serializers.SerializerMethodField()
    datasets = serializers.SerializerMethodField()
    tiles = serializers.SerializerMethodField()

    class Meta:
        model = Layer
        fields = [
            "slug",
            "name",
            "name_de",
            "name_en",
            "geometry",
            "colour",
            "feature_count",
            "is_empty",
            "datasets",
            "tiles",
        ]

    # `layer` comes from geodata.api.views.layers_with_datasets(), annotated with
    # feature_count and given its datasets.
    def get_is_empty(self, layer: Any) -> bool:
        return layer.feature_count == 0

    def get_datasets(self, layer: Any) -> list[dict]:
        return list(DatasetSerializer(layer.datasets, many=True).data)

    def get_tiles(self, layer: Layer) -> str:
        return f"/tiles/layers/{layer.slug}/{{z}}/{{x}}/{{y}}.pbf"


class LayerFeatureSerializer(GeoFeatureModelSerializer):
    # Geometry in EPSG:4326 from an annotation; the field keeps the model field's name
    # (drf-spectacular needs geo_field to be a model field).
    geom = WebGeometryField()
    layer: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = LayerFeature
        geo_field = "geom"
        fields = ["id", "layer", "external_id", "name", "category", "properties"]


class DistrictSerializer(GeoFeatureModelSerializer):
    geom = WebGeometryField()

    class Meta:
        model = District
        geo_field = "geom"
        fields = ["id", "ags", "name", "kind", "regierungsbezirk", "population", "area_km2"]
