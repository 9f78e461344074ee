from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import GEOSGeometry
from django.db import models


class MunicipalityQuerySet(models.QuerySet):
    def containing(self, geom: GEOSGeometry) -> "MunicipalityQuerySet":
        """Municipalities whose boundary intersects the geometry, largest overlap first."""
        from django.contrib.gis.db.models.functions import Area, Intersection

        return (
            self.filter(geom__intersects=geom)
            .annotate(overlap=Area(Intersection("geom", geom)))
            .order_by("-overlap", "ags")
        )


class LayerFeatureQuerySet(models.QuerySet):
    def of_layer(self, slug: str) -> "LayerFeatureQuerySet":
        return self.filter(layer__slug=slug)

    def nearest_to(self, geom: GEOSGeometry) -> "LayerFeatureQuerySet":
        """Features ordered by distance (metres, storage SRID) to the geometry: KNN on GiST."""
        return self.annotate(distance_m=Distance("geom", geom)).order_by("distance_m")
