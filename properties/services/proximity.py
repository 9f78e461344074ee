"""Stored distances from each site to the nearest feature of every reference layer.

The distance is ST_Distance in metres on EPSG:25832 to the nearest feature of the column's
layer (with its feature filter, e.g. stations of category 1-3); a layer without features
leaves its column NULL, which the map and the filters read as "layer not loaded", never as
"far away". One definition, two ways to evaluate it:

- few sites: per site and column a nearest-neighbour subquery that the (layer, geom) GiST
  index answers with KNN (`<->`), in one set-based UPDATE;
- many sites (from BATCH_MIN_SITES, and the demo generator): a KNN probe costs 25-60 µs,
  i.e. minutes for 1,000,000 sites and five loaded layers, so the sites are grouped on a
  grid of CANDIDATE_CELL_M cells and each cell collects, per column, every feature that can
  be the nearest one of a site anchored in the cell (one KNN probe from
  the cell's centre bounds the distance; the site's own extent is added). A site's value is
  then ST_Distance to that collection: the minimum of the same ST_Distance over the same
  features, without a probe per site.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction

from geodata.layers import DISTANCE_FIELDS, LAYERS_BY_SLUG
from geodata.models import Layer

# From this many sites, sites_refresh_distances evaluates through grid-cell candidates.
BATCH_MIN_SITES = 2_000
CANDIDATE_CELL_M = 500.0
CANDIDATE_TABLE = "pg_temp.distance_candidate"


def _feature_filter_sql(field_name: str, alias: str) -> str:
    """The features a distance column measures to, as SQL on `alias` (ids inlined: they are
    integers from the registry and the database)."""
    spec, feature_filter = DISTANCE_FIELDS[field_name]
    layer_id = int(Layer.objects.only("pk").get(slug=spec.slug).pk)
    where = f"{alias}.layer_id = {layer_id}"
    if "max_category" in feature_filter:
        where += f" AND {alias}.category <= {int(feature_filter['max_category'])}"
    return where


def _nearest_sql(field_name: str, site_geom: str = "s.geom") -> str:
    """The distance from `site_geom` to the column's nearest feature (KNN, one probe)."""
    return (
        f"(SELECT ST_Distance(f.geom, {site_geom}) FROM geodata_layerfeature f "
        f"WHERE {_feature_filter_sql(field_name, 'f')} ORDER BY f.geom <-> {site_geom} LIMIT 1)"
    )


def distance_fields(layers: Iterable[str] | None = None) -> list[str]:
    """The distance columns fed by the given layers (all by default), in registry order."""
    slugs = set(layers) if layers is not None else set(LAYERS_BY_SLUG)
    return [name for name, (spec, _) in DISTANCE_FIELDS.items() if spec.slug in slugs]


def distance_candidates_create(
    cursor,
    *,
    geometries_sql: str,
    params: Mapping[str, Any] | Sequence[Any] | None = None,
    fields: Sequence[str] | None = None,
) -> None:
    """Creates CANDIDATE_TABLE (cx, cy, one geometry column per distance field) for the
    sites whose geometries (column `geom`, EPSG:25832) `geometries_sql` selects.

    For a site s whose anchor point p lies in cell C: its distance d(s) <= d(p) <=
    d(centre of C) + half the cell's diagonal =: B, and its nearest feature f lies within
    B + reach(C) of C, reach being the farthest any site of the cell extends from its p.
    So the features within that distance of C include every site's nearest one. (p is
    any point of the site: `anchor_sql`, its first vertex.)"""
    fields = list(fields) if fields is not None else list(DISTANCE_FIELDS)
    half_diagonal = CANDIDATE_CELL_M * math.sqrt(2) / 2
    cell = repr(CANDIDATE_CELL_M)
    # Each column's features in a small table of their own: a probe of the shared (layer,
    # geom) index walks past the other layers' features (0.2 ms a probe).
    features: dict[str, str | None] = {}
    for index, field in enumerate(fields):
        table = f"pg_temp.distance_feature_{index}"
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TEMP TABLE distance_feature_{index} AS SELECT f.geom "  # noqa: S608
            f"FROM geodata_layerfeature f WHERE {_feature_filter_sql(field, 'f')}"
        )
        if cursor.rowcount:
            cursor.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            cursor.execute(f"ANALYZE {table}")
            features[field] = table
        else:  # an empty layer: NULL, "not loaded"
            features[field] = None
    # The cells, with the bound per column (a table: the bound must be a value when the
    # candidates are looked up, or ST_DWithin cannot use the GiST index).
    bounds = [
        f"c.reach + {half_diagonal!r} + (SELECT ST_Distance(f.geom, c.centre) FROM {table} f "
        f"ORDER BY f.geom <-> c.centre LIMIT 1) AS {field}"
        if table
        else f"NULL::float8 AS {field}"
        for field, table in features.items()
    ]
    cursor.execute("DROP TABLE IF EXISTS pg_temp.distance_cell")
    cursor.execute(
        f"CREATE TEMP TABLE distance_cell AS "  # noqa: S608 - names from the registry
        f"SELECT c.cx, c.cy, c.env{''.join(', ' + bound for bound in bounds)} FROM ("
        f"  SELECT g.cx, g.cy, g.reach,"
        f"         ST_MakeEnvelope(g.cx * {cell}, g.cy * {cell}, (g.cx + 1) * {cell},"
        f"                         (g.cy + 1) * {cell}, 25832) AS env,"
        f"         ST_SetSRID(ST_MakePoint((g.cx + 0.5) * {cell}, (g.cy + 0.5) * {cell}),"
        f"                    25832) AS centre"
        f"  FROM ("
        f"    SELECT {candidate_cell_sql('p.point')}, max(ST_MaxDistance(p.point, p.geom)) AS reach"
        f"    FROM (SELECT site.geom, {anchor_sql('site.geom')} AS point"
        f"          FROM ({geometries_sql}) AS site) AS p"
        f"    GROUP BY 1, 2"
        f"  ) AS g"
        f") AS c",
        params,
    )
    columns = [
        f"(SELECT ST_Collect(f.geom) FROM {table} f WHERE ST_DWithin(f.geom, c.env, c.{field})) "
        f"AS {field}"
        if table
        else f"NULL::geometry AS {field}"
        for field, table in features.items()
    ]
    cursor.execute(f"DROP TABLE IF EXISTS {CANDIDATE_TABLE}")
    cursor.execute(
        f"CREATE TEMP TABLE distance_candidate AS "  # noqa: S608 - names from the registry
        f"SELECT c.cx, c.cy{''.join(', ' + column for column in columns)} "
        f"FROM pg_temp.distance_cell c"
    )
    cursor.execute("DROP TABLE pg_temp.distance_cell")
    for feature_table in features.values():
        if feature_table:
            cursor.execute(f"DROP TABLE {feature_table}")
    cursor.execute(f"CREATE UNIQUE INDEX ON {CANDIDATE_TABLE} (cx, cy)")
    cursor.execute(f"ANALYZE {CANDIDATE_TABLE}")


def anchor_sql(site_geom: str) -> str:
    """A point of the site (its first vertex: cheaper than the point on surface) that puts
    it in a candidate cell."""
    return f"ST_GeometryN(ST_Points({site_geom}), 1)"


def candidate_cell_sql(point: str) -> str:
    """The candidate cell (cx, cy) of an anchor point, as two SQL columns."""
    return (
        f"floor(ST_X({point}) / {CANDIDATE_CELL_M!r})::int AS cx, "
        f"floor(ST_Y({point}) / {CANDIDATE_CELL_M!r})::int AS cy"
    )


def candidate_join_sql(point: str, alias: str = "dc") -> str:
    """The join condition of CANDIDATE_TABLE (as `alias`) to a site's anchor point."""
    return (
        f"{alias}.cx = floor(ST_X({point}) / {CANDIDATE_CELL_M!r})::int "
        f"AND {alias}.cy = floor(ST_Y({point}) / {CANDIDATE_CELL_M!r})::int"
    )


def candidate_distance_sql(field: str, site_geom: str, alias: str = "dc") -> str:
    """A site's distance column from its cell's candidates (NULL: the layer is empty)."""
    return f"ST_Distance({alias}.{field}, {site_geom})"


@transaction.atomic
def sites_refresh_distances(
    *, layers: Iterable[str] | None = None, site_ids: Sequence[int] | None = None
) -> int:
    """Recomputes the distance columns of the given layers (all by default) for the given
    sites (all by default). Returns the number of sites updated."""
    fields = distance_fields(layers)
    if not fields or (site_ids is not None and not site_ids):
        return 0
    params: list[Any] = []
    chosen = ""
    if site_ids is not None:
        # Joined, not "s.id = ANY(array)": with 50,000 ids that filter scanned the array
        # for every site (minutes).
        chosen = "unnest(%s::integer[]) AS chosen(id)"
        params.append(list(site_ids))
    with connection.cursor() as cursor:
        many = len(site_ids) if site_ids is not None else _site_count(cursor)
        if many >= BATCH_MIN_SITES:
            sites_sql = "SELECT s.geom FROM properties_site s" + (
                f" JOIN {chosen} ON chosen.id = s.id" if chosen else ""
            )
            distance_candidates_create(
                cursor, geometries_sql=sites_sql, params=params, fields=fields
            )
            assignments = [f"{f} = {candidate_distance_sql(f, 's.geom')}" for f in fields]
            source = f"{CANDIDATE_TABLE} dc" + (f", {chosen}" if chosen else "")
            where = candidate_join_sql(anchor_sql("s.geom")) + (
                " AND s.id = chosen.id" if chosen else ""
            )
        else:
            assignments = [f"{f} = {_nearest_sql(f)}" for f in fields]
            source = chosen
            where = "s.id = chosen.id" if chosen else ""
        cursor.execute(
            f"UPDATE properties_site s SET {', '.join(assignments)}, "  # noqa: S608 - names from the registry
            f"distances_computed_at = now()"
            + (f" FROM {source}" if source else "")
            + (f" WHERE {where}" if where else ""),
            params,
        )
        updated = cursor.rowcount
        cursor.execute(f"DROP TABLE IF EXISTS {CANDIDATE_TABLE}")
        return updated


def _site_count(cursor) -> int:
    cursor.execute("SELECT count(*) FROM properties_site")
    return cursor.fetchone()[0]
