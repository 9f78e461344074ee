from django.contrib.gis.db.models.functions import Area, Distance, Intersection
from django.contrib.gis.geos import GEOSGeometry
from django.db import models


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
