from django.contrib.gis.db.models.functions import Transform
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from geodata import vt_layers
from geodata.models import Dataset, District, Layer, LayerFeature
from geodata.querysets import layers_with_datasets
from sitefinder.tiles import tile_response

from .filters import LayerFeatureFilterSet
from .serializers import (
    DatasetSerializer,
    DistrictSerializer,
    LayerFeatureSerializer,
    LayerSerializer,
)


class LayerList(generics.GenericAPIView):
    """The reference layers with feature counts and sources; an empty layer says so."""

    serializer_class = LayerSerializer
    pagination_class = None
    filter_backends: list = []
    queryset = Layer.objects.none()

    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(layers_with_datasets(), many=True).data)


class LayerFeatureList(generics.ListAPIView):
    """Features of one layer as GeoJSON (EPSG:4326), filterable by bbox."""

    serializer_class = LayerFeatureSerializer
    filterset_class = LayerFeatureFilterSet
    queryset = LayerFeature.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        layer = get_object_or_404(Layer, slug=self.kwargs["slug"])
        return (
            LayerFeature.objects.filter(layer=layer)
            .select_related("layer")
            .annotate(geom_4326=Transform("geom", 4326))
            .order_by("id")
        )


class DatasetList(generics.ListAPIView):
    """Sources, licences and the attribution each requires."""

    serializer_class = DatasetSerializer
    queryset = Dataset.objects.all()
    pagination_class = None


class DistrictList(generics.ListAPIView):
    serializer_class = DistrictSerializer
    queryset = District.objects.annotate(geom_4326=Transform("geom", 4326)).order_by("ags")


@extend_schema(responses={(200, "application/vnd.mapbox-vector-tile"): OpenApiTypes.BINARY})
def layer_tile(request, slug: str, z: int, x: int, y: int):
    get_object_or_404(Layer, slug=slug)
    return tile_response(
        request,
        name=f"layer-{slug}",
        versions=("layers",),
        z=z,
        x=x,
        y=y,
        build=lambda: vt_layers.layer_tile(slug, z, x, y),
    )


def boundaries_tile(request, z: int, x: int, y: int):
    return tile_response(
        request,
        name="boundaries",
        versions=("boundaries",),
        z=z,
        x=x,
        y=y,
        build=lambda: vt_layers.boundaries_tile(z, x, y),
    )
