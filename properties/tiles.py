"""The sites vector tile: public sites only, points at low zoom, footprints from z13."""

from django.conf import settings
from django.db import connection

from .querysets import PUBLIC_STATUSES

_SITES_SQL = """
WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
features AS (
    SELECT s.id, s.kind, s.title, s.status, s.is_demo,
           s.gross_area_m2 AS area_m2, s.price_eur_m2::float8 AS price_eur_m2,
           s.price_on_request, m.name AS municipality,
           ST_AsMVTGeom({geometry}, bounds.env, 4096, 64, true) AS geom
    FROM properties_site s
    JOIN geodata_municipality m ON m.id = s.municipality_id, bounds
    WHERE {geometry} && bounds.env AND s.status = ANY(%(statuses)s)
)
SELECT ST_AsMVT(features, 'sites', 4096, 'geom', 'id') FROM features
"""
_POINTS_SQL = _SITES_SQL.format(geometry="s.location_web")
_FOOTPRINTS_SQL = _SITES_SQL.format(geometry="s.geom_web")


def sites_tile(z: int, x: int, y: int) -> bytes:
    sql = _FOOTPRINTS_SQL if z >= settings.SITE_TILE_POLYGON_MIN_ZOOM else _POINTS_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, {"z": z, "x": x, "y": y, "statuses": list(PUBLIC_STATUSES)})
        return bytes(cursor.fetchone()[0] or b"")
