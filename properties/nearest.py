"""The nearest feature of every reference layer to one site, with its connector line.

For the site's pages (the detail map and the exposé): one SQL query, a KNN LATERAL join per
stored distance column (the (layer, geom) GiST index answers `<->`), ST_ShortestLine for the
connector, everything transformed to EPSG:4326 by PostGIS. The stored distance columns
(properties.services.proximity) stay the source for filtering; this names and draws them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from geodata.layers import DISTANCE_FIELDS
from geodata.models import Layer
from sitefinder.db import read_connection

from .models import Site

# Lines and polygons (a railway line, a canal) are drawn only this far around the point
# nearest to the site: enough to see what it is, not a whole 60 km line.
FEATURE_CLIP_M = 1500

_NEAREST_SQL = """
SELECT v.field, v.layer_id, f.id, COALESCE(NULLIF(f.name, ''), f.external_id),
       ST_Distance(f.geom, s.geom) AS distance_m,
       ST_AsGeoJSON(ST_Transform(
           CASE WHEN ST_Dimension(f.geom) = 0 THEN f.geom
                ELSE ST_Intersection(f.geom, ST_Buffer(ST_ClosestPoint(f.geom, s.geom), %s))
           END, 4326), 6) AS feature_geojson,
       ST_AsGeoJSON(ST_Transform(ST_ShortestLine(s.geom, f.geom), 4326), 6) AS connector_geojson,
       ST_AsGeoJSON(ST_Transform(ST_ClosestPoint(f.geom, s.geom), 4326), 6) AS anchor_geojson,
       ST_X(ST_ClosestPoint(f.geom, s.geom)) AS anchor_x,
       ST_Y(ST_ClosestPoint(f.geom, s.geom)) AS anchor_y,
       EXISTS (SELECT 1 FROM geodata_layerfeature any_f WHERE any_f.layer_id = v.layer_id)
           AS layer_loaded
FROM properties_site s
CROSS JOIN unnest(%s::text[], %s::bigint[], %s::int[]) WITH ORDINALITY
     AS v(field, layer_id, max_category, position)
LEFT JOIN LATERAL (
    SELECT lf.id, lf.name, lf.external_id, lf.geom
    FROM geodata_layerfeature lf
    WHERE lf.layer_id = v.layer_id
      AND (v.max_category IS NULL OR lf.category <= v.max_category)
    ORDER BY lf.geom <-> s.geom
    LIMIT 1
) f ON true
WHERE s.id = %s
ORDER BY v.position
"""


@dataclass(frozen=True)
class NearestFeature:
    """The nearest feature of one stored distance column (feature_id None: none found)."""

    field: str
    layer: Layer | None
    max_category: int | None
    layer_loaded: bool
    feature_id: int | None
    feature_name: str
    distance_m: float | None
    feature_geojson: dict[str, Any] | None  # EPSG:4326, clipped around the nearest point
    connector_geojson: dict[str, Any] | None  # EPSG:4326, from the site to the feature
    anchor_geojson: dict[str, Any] | None  # EPSG:4326, the feature's point nearest the site
    anchor_xy: tuple[float, float] | None  # the same point in EPSG:25832 (for map extents)


def site_nearest(site: Site) -> list[NearestFeature]:
    """One entry per stored distance column, in registry order, in one query."""
    layers = {layer.slug: layer for layer in Layer.objects.all()}
    fields, layer_ids, max_categories, specs = [], [], [], []
    for field_name, (spec, feature_filter) in DISTANCE_FIELDS.items():
        layer = layers.get(spec.slug)
        fields.append(field_name)
        layer_ids.append(layer.pk if layer is not None else None)
        max_categories.append(feature_filter.get("max_category"))
        specs.append((layer, feature_filter.get("max_category")))
    with read_connection(Site).cursor() as cursor:
        cursor.execute(_NEAREST_SQL, [FEATURE_CLIP_M, fields, layer_ids, max_categories, site.pk])
        rows = cursor.fetchall()

    def geojson(text: str | None) -> dict[str, Any] | None:
        return json.loads(text) if text else None

    result = []
    for (layer, max_category), row in zip(specs, rows, strict=True):
        (field, _layer_id, feature_id, name, distance_m, feature, connector, anchor) = row[:8]
        anchor_x, anchor_y, loaded = row[8:]
        result.append(
            NearestFeature(
                field=field,
                layer=layer,
                max_category=max_category,
                layer_loaded=bool(loaded),
                feature_id=feature_id,
                feature_name=(name or "") if feature_id is not None else "",
                distance_m=distance_m,
                feature_geojson=geojson(feature),
                connector_geojson=geojson(connector),
                anchor_geojson=geojson(anchor),
                anchor_xy=(anchor_x, anchor_y) if feature_id is not None else None,
            )
        )
    return result
