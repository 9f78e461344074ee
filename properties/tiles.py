"""The sites vector tile: public sites only.

Three levels of detail, so a tile's cost stays bounded at any zoom with 1,000,000 sites:
- below SITE_TILE_POINT_MIN_ZOOM, sites are aggregated on a grid of 16 x 16 cells per tile
  (about 16 screen pixels each): one feature per occupied cell with `cluster_count`, placed
  at the mean position of its sites; a cell holding one site is that site. The unfiltered
  map reads the cells from the precomputed aggregates (properties.clusters); a search's
  map groups its own sites on the fly while the tile holds at most
  SITE_TILE_FILTERED_CLUSTER_MAX of them, and beyond that shows the aggregates of all
  sites, marked `unfiltered` (the map says to zoom in), rather than grouping a large part
  of the table on a request;
- from there to SITE_TILE_POLYGON_MIN_ZOOM, each site is a point (its point on surface);
- from SITE_TILE_POLYGON_MIN_ZOOM on, sites are their footprints.
"""

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from .clusters import GRID_CELLS_PER_TILE, WORLD_HALF, cell_size
from .models import Site, SiteClusterBuild

_SITE_PROPERTIES = """
    s.id, s.kind, s.title, s.status, s.is_demo, s.gross_area_m2 AS area_m2,
    s.price_eur_m2::float8 AS price_eur_m2, s.rent_eur_m2_month::float8 AS rent_eur_m2_month,
    s.ground_rent_eur_m2_year::float8 AS ground_rent_eur_m2_year,
    array_to_string(s.offer_types, ',') AS offer_types, s.commission_free,
    s.price_on_request, m.name AS municipality
"""

_SITES_SQL = f"""
WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
features AS (
    SELECT {_SITE_PROPERTIES}, ST_AsMVTGeom({{geometry}}, bounds.env, 4096, 64, true) AS geom
    FROM properties_site s
    JOIN geodata_municipality m ON m.id = s.municipality_id, bounds
    WHERE {{geometry}} && bounds.env AND {{published}} {{only}}
)
SELECT ST_AsMVT(features, 'sites', 4096, 'geom', 'id') FROM features
"""
_POINTS_SQL = _SITES_SQL.format(geometry="s.location_web", only="{only}", published="{published}")
_FOOTPRINTS_SQL = _SITES_SQL.format(geometry="s.geom_web", only="{only}", published="{published}")

# Cells are aligned on a world-wide grid, so a cell never straddles two tiles.
_CLUSTERS_SQL = f"""
WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
cells AS (
    SELECT count(*) AS cluster_count, min(s.id) AS first_id,
           ST_Centroid(ST_Collect(s.location_web)) AS centre
    FROM properties_site s, bounds
    WHERE s.location_web && bounds.env AND {{published}} {{only}}
    GROUP BY floor((ST_X(s.location_web) + {WORLD_HALF}) / %(cell)s),
             floor((ST_Y(s.location_web) + {WORLD_HALF}) / %(cell)s)
),
features AS (
    SELECT {_SITE_PROPERTIES}, NULL::integer AS cluster_count,
           ST_AsMVTGeom(s.location_web, bounds.env, 4096, 64, true) AS geom
    FROM cells c
    JOIN properties_site s ON s.id = c.first_id
    JOIN geodata_municipality m ON m.id = s.municipality_id, bounds
    WHERE c.cluster_count = 1
    UNION ALL
    SELECT -row_number() OVER (), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL,
           c.cluster_count::integer, ST_AsMVTGeom(c.centre, bounds.env, 4096, 64, true)
    FROM cells c, bounds
    WHERE c.cluster_count > 1
)
SELECT ST_AsMVT(features, 'sites', 4096, 'geom', 'id') FROM features
"""


# The precomputed cells of one tile: cell indices are counted from the west and the south,
# tile rows from the north.
_AGGREGATED_SQL = f"""
WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
cells AS (
    SELECT c.site_count AS cluster_count, c.first_site_id AS first_id,
           ST_SetSRID(ST_MakePoint(c.x, c.y), 3857) AS centre
    FROM properties_sitecluster c
    WHERE c.zoom = %(z)s AND c.cell_x BETWEEN %(cell_x0)s AND %(cell_x0)s + {GRID_CELLS_PER_TILE - 1}
          AND c.cell_y BETWEEN %(cell_y0)s AND %(cell_y0)s + {GRID_CELLS_PER_TILE - 1}
),
features AS (
    SELECT {_SITE_PROPERTIES}, NULL::integer AS cluster_count, NULL::boolean AS unfiltered,
           ST_AsMVTGeom(s.location_web, bounds.env, 4096, 64, true) AS geom
    FROM cells c
    JOIN properties_site s ON s.id = c.first_id
    JOIN geodata_municipality m ON m.id = s.municipality_id, bounds
    WHERE c.cluster_count = 1 AND %(singles)s
    UNION ALL
    SELECT -row_number() OVER (), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL,
           c.cluster_count::integer, %(unfiltered)s,
           ST_AsMVTGeom(c.centre, bounds.env, 4096, 64, true)
    FROM cells c, bounds
    WHERE c.cluster_count > 1 OR NOT %(singles)s
)
SELECT ST_AsMVT(features, 'sites', 4096, 'geom', 'id') FROM features
"""

# How many of a search's sites lie in a tile, counted up to a limit.
_COUNT_SQL = """
SELECT count(*) FROM (
    SELECT 1 FROM properties_site s
    WHERE s.location_web && ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AND {published} {only}
    LIMIT %(limit)s
) AS capped
"""


def aggregated_tile(
    z: int, x: int, y: int, *, using: str = DEFAULT_DB_ALIAS, unfiltered: bool = False
) -> bytes:
    """A low-zoom tile from the precomputed cells. `unfiltered`: shown in place of a
    search's own sites, so every cell is a cluster (no site stands for a search's result)
    and carries `unfiltered`."""
    params = {
        "z": z,
        "x": x,
        "y": y,
        "cell_x0": x * GRID_CELLS_PER_TILE,
        "cell_y0": (2**z - 1 - y) * GRID_CELLS_PER_TILE,
        "singles": not unfiltered,
        "unfiltered": True if unfiltered else None,
    }
    with connections[using].cursor() as cursor:
        cursor.execute(_AGGREGATED_SQL, params)
        return bytes(cursor.fetchone()[0] or b"")


def sites_tile(
    z: int,
    x: int,
    y: int,
    *,
    only: QuerySet | None = None,
    clusters: SiteClusterBuild | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> bytes:
    """The tile at z/x/y; with `only`, just the sites of that queryset (a search result:
    the map then shows exactly what the list shows). Below the point zoom, `clusters` (the
    precomputed cells, properties.clusters) serve the unfiltered map, and a search's map
    when its sites under the tile are too many to group on the fly; without them the
    sites are grouped on the fly."""
    if z < settings.SITE_TILE_POINT_MIN_ZOOM and only is None and clusters is not None:
        return aggregated_tile(z, x, y, using=using)
    published, published_params = Site.objects.published_sql("s")
    params: dict[str, Any] = {"z": z, "x": x, "y": y, **published_params}
    if z >= settings.SITE_TILE_POLYGON_MIN_ZOOM:
        sql = _FOOTPRINTS_SQL
    elif z >= settings.SITE_TILE_POINT_MIN_ZOOM:
        sql = _POINTS_SQL
    else:
        sql = _CLUSTERS_SQL
        params["cell"] = cell_size(z)
    restriction = ""
    if only is not None:
        try:
            subquery, subquery_params = only.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing, e.g. an empty choice
            return b""
        # The ORM's positional placeholders become named ones beside the tile's own
        # (an escaped "%%" stays as it is).
        names = iter(f"only_{index}" for index in range(len(subquery_params)))
        named = re.sub(r"%(%|s)", lambda m: "%%" if m[1] == "%" else f"%({next(names)})s", subquery)
        restriction = f"AND s.id IN ({named})"
        params.update({f"only_{i}": value for i, value in enumerate(subquery_params)})
    with connections[using].cursor() as cursor:
        if sql is _CLUSTERS_SQL and clusters is not None:
            limit = settings.SITE_TILE_FILTERED_CLUSTER_MAX
            cursor.execute(
                _COUNT_SQL.format(only=restriction, published=published),
                {**params, "limit": limit + 1},
            )
            if cursor.fetchone()[0] > limit:
                return aggregated_tile(z, x, y, using=using, unfiltered=True)
        cursor.execute(sql.format(only=restriction, published=published), params)
        return bytes(cursor.fetchone()[0] or b"")
