"""PostGIS functions as ORM expressions (SQL stays in the database, never row by row in Python)."""

from django.contrib.gis.db.models import GeometryField, PointField
from django.contrib.gis.db.models.functions import GeoFunc
from django.db.models import FloatField, Func, TextField, Value


class PointOnSurface(GeoFunc):
    """ST_PointOnSurface: a point guaranteed inside the geometry (unlike a centroid)."""

    function = "ST_PointOnSurface"
    output_field = PointField(srid=25832)
    arity = 1


class TransformTo(GeoFunc):
    """ST_Transform with the target SRID in the output field (for GeneratedField columns,
    where Django's Transform cannot be used: it needs the query to know the source SRID)."""

    function = "ST_Transform"

    def __init__(self, expression, srid: int, **extra):
        super().__init__(expression, Value(srid), output_field=GeometryField(srid=srid), **extra)


class AreaM2(GeoFunc):
    """ST_Area on the metric storage SRID: square metres, no geodesic detour."""

    function = "ST_Area"
    output_field = FloatField()
    arity = 1


class Fold(Func):
    """sitefinder_fold(text): lower case, no accents, umlauts and their ae/oe/ue spellings in
    one form (geodata migration 0006), for the place search's comparisons."""

    function = "sitefinder_fold"
    output_field = TextField()
    arity = 1
