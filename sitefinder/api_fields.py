import json

from drf_spectacular.utils import extend_schema_field
from rest_framework_gis.fields import GeometryField

GEOJSON_GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "GeoJSON geometry, EPSG:4326 (longitude, latitude), 6 decimals.",
    "properties": {
        "type": {
            "type": "string",
            "enum": [
                "Point",
                "LineString",
                "Polygon",
                "MultiPoint",
                "MultiLineString",
                "MultiPolygon",
            ],
        },
        "coordinates": {"type": "array", "items": {}},
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOJSON_GEOMETRY_SCHEMA)
class WebGeometryField(GeometryField):
    """A geometry served in EPSG:4326 from a `Transform(..., 4326)` annotation.

    The storage SRID is 25832; the transform happens in SQL (one per query, not per row in
    Python). The serializer field keeps the model field's name so drf-gis and
    drf-spectacular see a real geo_field.
    """

    def __init__(self, source: str = "geom_4326", **kwargs):
        kwargs.setdefault("precision", 6)
        super().__init__(source=source, **kwargs)

    def to_representation(self, value):
        # GeoJSON text written by PostGIS (`AsGeoJSON(Transform(...), precision=6)`, see
        # geojson_4326): no geometry object is built in Python.
        if isinstance(value, str):
            return json.loads(value)
        return super().to_representation(value)


def geojson_4326(field: str = "geom"):
    """The annotation WebGeometryField reads fastest: the geometry as GeoJSON text in
    EPSG:4326 with 6 decimals, written by PostGIS."""
    from django.contrib.gis.db.models.functions import AsGeoJSON, Transform

    return AsGeoJSON(Transform(field, 4326), precision=6)
