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
