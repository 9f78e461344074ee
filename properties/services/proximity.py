"""Stored distances from each site to the nearest feature of every reference layer.

Computed in one set-based UPDATE: per distance column a nearest-neighbour subquery that the
(layer, geom) GiST index answers with KNN (`<->`), then ST_Distance in metres on EPSG:25832.
A layer without features leaves its column NULL, which the map and the filters read as
"layer not loaded", never as "far away".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction

from geodata.layers import DISTANCE_FIELDS, LAYERS_BY_SLUG
from geodata.models import Layer


def _nearest_sql(field_name: str) -> tuple[str, list[Any]]:
    spec, feature_filter = DISTANCE_FIELDS[field_name]
    where = "f.layer_id = %s"
    params: list[Any] = [Layer.objects.only("pk").get(slug=spec.slug).pk]
    if "max_category" in feature_filter:
        where += " AND f.category <= %s"
        params.append(feature_filter["max_category"])
    sql = (
        f"{field_name} = (SELECT ST_Distance(f.geom, s.geom) FROM geodata_layerfeature f "
        f"WHERE {where} ORDER BY f.geom <-> s.geom LIMIT 1)"
    )
    return sql, params


@transaction.atomic
def sites_refresh_distances(
    *, layers: Iterable[str] | None = None, site_ids: Sequence[int] | None = None
) -> int:
    """Recomputes the distance columns of the given layers (all by default) for the given
    sites (all by default). Returns the number of sites updated."""
    slugs = list(layers) if layers is not None else list(LAYERS_BY_SLUG)
    fields = [name for name, (spec, _) in DISTANCE_FIELDS.items() if spec.slug in slugs]
    if not fields or (site_ids is not None and not site_ids):
        return 0
    assignments: list[str] = []
    params: list[Any] = []
    for field_name in fields:
        sql, field_params = _nearest_sql(field_name)
        assignments.append(sql)
        params.extend(field_params)
    where = ""
    if site_ids is not None:
        # Joined, not "s.id = ANY(array)": with 50,000 ids that filter scanned the array
        # for every site (minutes).
        where = "FROM unnest(%s::integer[]) AS chosen(id) WHERE s.id = chosen.id"
        params.append(list(site_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE properties_site s SET {', '.join(assignments)}, "  # noqa: S608 - names from the registry
            f"distances_computed_at = now() {where}",
            params,
        )
        return cursor.rowcount
