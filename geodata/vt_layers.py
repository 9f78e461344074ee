"""Vector tiles of the reference layers and the boundaries, built by PostGIS."""

from sitefinder.db import read_connection

from .models import LayerFeature, Municipality

# The tile envelope in the storage SRID, widened by the tile buffer, for index use on
# EPSG:25832 geometries (transforming each feature to 3857 happens only for the hits).
# Before the transformation the envelope is clipped to the region's box (widened by
# REGION_MARGIN_M): a low-zoom tile spans continents, and transforming it to UTM zone 32
# fails ("Point outside of projection domain"). A tile beyond the box gets no features (204).
REGION_MARGIN_M = 100_000
_BOUNDS = f"""
region_box AS (
    -- Without a region loaded yet: the part of Europe where UTM zone 32 is still usable.
    SELECT COALESCE(
        ST_Expand(ST_Transform(ST_SetSRID(ST_Extent(geom), 25832), 3857), {REGION_MARGIN_M}),
        ST_Transform(ST_MakeEnvelope(0, 35, 18, 72, 4326), 3857)
    ) AS box
    FROM geodata_region
),
bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_Transform(
               ST_Intersection(
                   ST_Expand(ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                             (40075016.68 / 2 ^ %(z)s) * 64 / 4096),
                   (SELECT box FROM region_box)
               ),
               25832
           ) AS env_storage
)
"""

_LAYER_SQL = f"""
WITH {_BOUNDS},
features AS (
    SELECT f.id, f.name, f.category,
           ST_AsMVTGeom(ST_Transform(f.geom, 3857), bounds.env, 4096, 64, true) AS geom
    FROM geodata_layerfeature f, bounds
    WHERE f.layer_id = (SELECT id FROM geodata_layer WHERE slug = %(slug)s)
      AND f.geom && bounds.env_storage
)
SELECT ST_AsMVT(features, %(slug)s, 4096, 'geom', 'id') FROM features
"""

_BOUNDARY_LAYER = """
(SELECT ST_AsMVT(q, '{name}', 4096, 'geom') FROM (
    SELECT b.name, {ags} AS ags,
           ST_AsMVTGeom(ST_Transform(ST_Boundary(b.geom), 3857), bounds.env, 4096, 64, true) AS geom
    FROM {table} b, bounds WHERE b.geom && bounds.env_storage
) q)
"""

_BOUNDARIES_SQL = f"""
WITH {_BOUNDS}
SELECT {_BOUNDARY_LAYER.format(name="region", table="geodata_region", ags="''")}
    || {_BOUNDARY_LAYER.format(name="districts", table="geodata_district", ags="b.ags")}
    || {_BOUNDARY_LAYER.format(name="municipalities", table="geodata_municipality", ags="b.ags")}
"""


def layer_tile(slug: str, z: int, x: int, y: int) -> bytes:
    with read_connection(LayerFeature).cursor() as cursor:
        cursor.execute(_LAYER_SQL, {"z": z, "x": x, "y": y, "slug": slug})
        return bytes(cursor.fetchone()[0] or b"")


def boundaries_tile(z: int, x: int, y: int) -> bytes:
    with read_connection(Municipality).cursor() as cursor:
        cursor.execute(_BOUNDARIES_SQL, {"z": z, "x": x, "y": y})
        return bytes(cursor.fetchone()[0] or b"")
