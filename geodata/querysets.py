from collections import defaultdict
from typing import Any

from django.contrib.gis.db.models.functions import Area, Distance, Intersection
from django.contrib.gis.geos import GEOSGeometry
from django.db import models
from django.db.models import Count


class MunicipalityQuerySet(models.QuerySet):
    def containing(self, geom: GEOSGeometry) -> "MunicipalityQuerySet":
        """Municipalities the geometry touches, the one with the largest overlap first
        (for a point: the one it lies in)."""
        return (
            self.filter(geom__intersects=geom)
            .annotate(overlap=Area(Intersection("geom", geom)))
            .order_by("-overlap", "ags")
        )


class LayerFeatureQuerySet(models.QuerySet):
    def of_layer(self, slug: str) -> "LayerFeatureQuerySet":
        return self.filter(layer__slug=slug)

    def nearest_to(self, geom: GEOSGeometry) -> "LayerFeatureQuerySet":
        """Features by distance (metres, on the metric storage SRID) to the geometry."""
        return self.annotate(distance_m=Distance("geom", geom)).order_by("distance_m")


def layers_with_datasets() -> list[Any]:
    """Every layer with `feature_count` and `datasets` (the sources of its features), in
    registry order, in three queries: for the map's layer switcher and the layers API."""
    from .models import Dataset, Layer, LayerFeature

    layers: list[Any] = list(Layer.objects.annotate(feature_count=Count("features")))
    pairs = list(
        LayerFeature.objects.filter(dataset__isnull=False)
        .values_list("layer_id", "dataset_id")
        .distinct()
        .order_by()
    )
    datasets = Dataset.objects.in_bulk({dataset_id for _, dataset_id in pairs})
    by_layer: defaultdict[int, list[Dataset]] = defaultdict(list)
    for layer_id, dataset_id in sorted(pairs):
        by_layer[layer_id].append(datasets[dataset_id])
    for layer in layers:
        layer.datasets = by_layer[layer.pk]
    return layers
