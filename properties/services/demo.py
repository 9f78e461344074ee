"""Demo sites: realistic, clearly labelled fictitious plots and premises for the whole region.

Everything is generated set-based in PostGIS (EPSG:25832), in one transaction:

1. Each municipality gets a quota (a few each, the rest weighted by population and area).
2. Candidate centres: ST_GeneratePoints inside each municipality, with a surplus. Each
   candidate gets a kind and a geometry: plots are squares, rotated rectangles, irregular
   star-shaped polygons or L-shapes (0.3-25 ha, shifted log-normal: most 0.5-5 ha);
   premises are points or building footprints (500-40,000 m²). Benchmark-sized sets (more
   than REALISTIC_DENSITY_COUNT sites) get smaller typical sizes, same bounds, so they fit.
3. Candidates are discarded when they leave their municipality, come within
   RAIL_CLEARANCE_M of a railway line or within SITE_GAP_M of an existing site.
4. Overlaps among the candidates are resolved by a few parallel greedy rounds (Luby style,
   lowest candidate number wins), which converge on exactly what a sequential "first come,
   first kept" pass would keep. Per municipality the first `quota` survivors are taken, any
   shortfall is filled from other municipalities; if still short, another round of
   candidates is drawn around the sites already kept.
5. One INSERT ... SELECT derives all attributes and the stored distances
   (properties.services.proximity: the same definition as sites_refresh_distances, through
   grid-cell candidates, so a million sites need no nearest-neighbour probe each).

Randomness never depends on row order: every random number is a hash of (seed, candidate
number, attribute number), and ST_GeneratePoints gets a seed per municipality, so the same
seed gives the same sites on the same reference data.

Benchmark-sized sets (more than DRAWN_MAX sites) skip steps 2-4, whose overlap checks cost
about a millisecond per site: each municipality gets a lattice of square cells sized so that
about LATTICE_SPARE times its quota fit, shifted by a random fraction of a cell; the cells
fully inside the municipality and clear of the railway and of existing sites are kept
(blocks of 8 x 8 cells are judged first, single cells only on edges), a municipality with too
few gets a finer lattice, and its quota of cells is drawn at random. Each chosen cell holds
one site of the drawn kind and shape, scaled down where it would not fit the cell less a
margin of SITE_GAP_M / 2 and placed at random inside it: so every site lies in its
municipality, clear of the railway and of every other site by construction, and at a million
sites the plots of dense cities are smaller than the size distribution asks (a region of
4,400 km² has 4,400 m² per site). With BULK_LOAD_MIN sites or more, the site table's indexes
and foreign keys are rebuilt after the insert rather than maintained row by row.

Prices follow the market's offer types: plots are for sale at 40-170 €/m² of land (about one
in six municipal plots also as a leasehold at a ground rent of 4 % of the land value a year);
premises are let at 6-15 €/m² a month (offices dearest, logistics cheapest) plus additional
costs of 1.50-4.00 €/m², a few also for sale. Municipal offers are commission-free, about
half of the private ones too.
Demo sites carry is_demo=True, partner_ref "DEMO-000123", belong to a fictitious
"Wirtschaftsförderung <municipality> (Demo)" and say in their description that they are not
a real offer.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Max
from django.db.models.functions import Cast, Substr

from accounts.models import PartnerOrganisation
from geodata.functions import AreaM2
from geodata.models import Layer, Municipality
from properties.models import Site

from .proximity import (
    anchor_sql,
    candidate_distance_sql,
    candidate_join_sql,
    distance_candidates_create,
    distance_fields,
)

logger = logging.getLogger("sitefinder.demo")

DEMO_REF_PREFIX = "DEMO-"
DEMO_ORGANISATION_NAME = "Wirtschaftsförderung {municipality} (Demo)"
RAIL_CLEARANCE_M = 15.0  # no site comes closer to a railway line
SITE_GAP_M = 10.0  # nor closer to another site
FREIGHT_SIDING_RADIUS_M = 300.0  # a rail siding needs a freight line this close
MIN_SITES_PER_MUNICIPALITY = 10  # with enough sites, every municipality gets at least this
# Up to this many sites the region holds plots of realistic size easily; beyond it (benchmark
# sets) plots and footprints shrink with 1/sqrt(count) so the sites still fit side by side.
REALISTIC_DENSITY_COUNT = 15_000
KIND_SHARES = {"plot": 0.60, "office": 0.12, "hall": 0.12, "logistics": 0.10, "mixed": 0.06}
CANDIDATE_SURPLUS = 2.2  # candidates per site wanted in the first round; doubles per round
MAX_ROUNDS = 6
MAX_OVERLAP_PASSES = 12
# Beyond this many sites, they are placed on lattices instead of drawn (see above).
DRAWN_MAX = 100_000
LATTICE_SPARE = 1.25  # free cells per site wanted: a fifth of the cells stays empty
LATTICE_MIN_SIDE_M = 30.0
# From this many sites, the site table's indexes and foreign keys are rebuilt after the
# insert rather than kept up to date row by row.
BULK_LOAD_MIN = 200_000

# (AGS, share of eligible sites with port access): inland ports on the Rhine and the canals.
PORT_SHARES = {
    "05112000": 0.30,  # Duisburg
    "05913000": 0.15,  # Dortmund
    "05513000": 0.15,  # Gelsenkirchen
    "05915000": 0.15,  # Hamm
    "05113000": 0.08,  # Essen
    "05916000": 0.10,  # Herne
    "05512000": 0.08,  # Bottrop
    "05117000": 0.10,  # Mülheim an der Ruhr
    "05119000": 0.08,  # Oberhausen
    "05562024": 0.10,  # Marl
    "05562008": 0.10,  # Datteln
    "05978024": 0.10,  # Lünen
    "05170048": 0.12,  # Wesel
    "05170044": 0.12,  # Voerde (Niederrhein)
}

_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _slug(name: str) -> str:
    """'Mülheim an der Ruhr' -> 'muelheim-an-der-ruhr' (German transliteration)."""
    ascii_name = name.lower().translate(_TRANSLITERATION)
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name).split())


def _stable_int(*parts: object) -> int:
    """A positive 31-bit integer from the parts, the same in every process."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2_147_483_646 + 1


# -- SQL ------------------------------------------------------------------------------------

_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.demo_u(seed bigint, n bigint, k integer)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- uniform in [0, 1): 53 bits of a hash of (seed, candidate, attribute)
    SELECT ((hashint8extended(n * 1000 + k, seed) >> 11) & 9007199254740991)::double precision
           / 9007199254740992.0
$$;
CREATE OR REPLACE FUNCTION pg_temp.demo_size(
    seed bigint, n bigint, k integer, lo double precision, median double precision,
    sigma double precision, hi double precision, scale double precision
) RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- shifted log-normal: never below lo, median at lo + (median - lo) * scale, a long tail
    -- cut at hi (Box-Muller from draws k and k + 1)
    SELECT least(hi, lo + (median - lo) * scale * exp(sigma
        * sqrt(-2 * ln(1 - pg_temp.demo_u(seed, n, k)))
        * cos(2 * pi() * pg_temp.demo_u(seed, n, k + 1))))
$$;
DROP TABLE IF EXISTS pg_temp.demo_candidate;
DROP TABLE IF EXISTS pg_temp.demo_keep;
CREATE TEMP TABLE demo_keep (
    n bigint PRIMARY KEY,
    municipality_id bigint NOT NULL,
    kind text NOT NULL,
    has_polygon boolean NOT NULL,
    geom geometry(Geometry, 25832) NOT NULL
);
"""

# A site's kind, size and outline (around (0, 0)) from its candidate number, for both ways of
# placing sites (drawn points or lattice cells: the `centre` relation before it).
_SHAPES_SQL = """
typed AS MATERIALIZED (
    SELECT c.*,
           (%(kinds)s::text[])[width_bucket(
               pg_temp.demo_u(%(seed)s, c.n, 1), %(kind_cuts)s::float8[])] AS kind
    FROM centre c
),
sized AS MATERIALIZED (
    SELECT t.*,
           t.kind = 'plot' OR pg_temp.demo_u(%(seed)s, t.n, 2) < CASE t.kind
               WHEN 'office' THEN .30 WHEN 'hall' THEN .55 WHEN 'logistics' THEN .65 ELSE .40
           END AS has_polygon,
           CASE t.kind  -- plot area, or building footprint (lo, median, sigma, hi in m²)
               WHEN 'plot'
                   THEN pg_temp.demo_size(%(seed)s, t.n, 3, 3000, 14000, .95, 250000, %(scale)s)
               WHEN 'office'
                   THEN pg_temp.demo_size(%(seed)s, t.n, 3, 500, 1200, .7, 6000, %(scale)s)
               WHEN 'hall'
                   THEN pg_temp.demo_size(%(seed)s, t.n, 3, 800, 4000, .8, 25000, %(scale)s)
               WHEN 'logistics'
                   THEN pg_temp.demo_size(%(seed)s, t.n, 3, 3000, 14000, .6, 40000, %(scale)s)
               ELSE pg_temp.demo_size(%(seed)s, t.n, 3, 500, 1500, .7, 8000, %(scale)s)
           END AS target_m2,
           CASE WHEN t.kind = 'plot'
                THEN width_bucket(pg_temp.demo_u(%(seed)s, t.n, 5),
                                  ARRAY[0, .30, .65, .90]::float8[])
                ELSE 2
           END AS shape,  -- 1 square-ish, 2 rectangle, 3 irregular, 4 L-shape
           CASE t.kind
               WHEN 'plot' THEN 1.3 + 1.7 * pg_temp.demo_u(%(seed)s, t.n, 6)
               WHEN 'office' THEN 1.0 + 1.5 * pg_temp.demo_u(%(seed)s, t.n, 6)
               WHEN 'mixed' THEN 1.0 + 1.0 * pg_temp.demo_u(%(seed)s, t.n, 6)
               ELSE 1.5 + 2.0 * pg_temp.demo_u(%(seed)s, t.n, 6)
           END AS aspect
    FROM typed t
),
unit AS MATERIALIZED (  -- the outline around (0, 0), any size; scaled to the target area below
    SELECT s.*,
           CASE
           WHEN NOT s.has_polygon THEN NULL
           WHEN s.shape = 1 THEN ST_MakeEnvelope(
               -0.5, -0.5, 0.5, 0.5 + 0.3 * pg_temp.demo_u(%(seed)s, s.n, 6))
           WHEN s.shape = 2 THEN ST_MakeEnvelope(
               -sqrt(s.aspect) / 2, -0.5 / sqrt(s.aspect), sqrt(s.aspect) / 2, 0.5 / sqrt(s.aspect))
           WHEN s.shape = 3 THEN (  -- star-shaped: increasing angles, so never self-intersecting
               SELECT ST_MakePolygon(ST_AddPoint(ring, ST_StartPoint(ring)))
               FROM (
                   SELECT ST_MakeLine(ST_MakePoint(
                              (1 + pg_temp.demo_u(%(seed)s, s.n, 8)) * r * cos(angle),
                              r * sin(angle)) ORDER BY j) AS ring
                   FROM (
                       SELECT j,
                              0.65 + 0.35 * pg_temp.demo_u(%(seed)s, s.n, 100 + j) AS r,
                              2 * pi() * (j + 0.15 + 0.7 * pg_temp.demo_u(%(seed)s, s.n, 200 + j))
                                  / vertices AS angle
                       FROM (SELECT 5 + floor(5 * pg_temp.demo_u(%(seed)s, s.n, 7))::int
                                 AS vertices) v,
                            generate_series(0, v.vertices - 1) AS j
                   ) vertex
               ) outline
           )
           ELSE (  -- L-shape: a rectangle missing one corner
               SELECT ST_MakePolygon(ST_MakeLine(ARRAY[
                   ST_MakePoint(-a, -b), ST_MakePoint(a, -b), ST_MakePoint(a, b - 2 * b * q),
                   ST_MakePoint(a - 2 * a * p, b - 2 * b * q), ST_MakePoint(a - 2 * a * p, b),
                   ST_MakePoint(-a, b), ST_MakePoint(-a, -b)]))
               FROM (SELECT sqrt(s.aspect) / 2 AS a, 0.5 / sqrt(s.aspect) AS b,
                            0.3 + 0.25 * pg_temp.demo_u(%(seed)s, s.n, 9) AS p,
                            0.3 + 0.25 * pg_temp.demo_u(%(seed)s, s.n, 10) AS q) corner
           )
           END AS outline
    FROM sized s
),
"""

# Candidate numbers: (round * 64 + municipality rank) * 2^24 + point index, so every random
# draw is tied to one candidate whatever order rows are processed in.
_CANDIDATES_SQL = """
CREATE TEMP TABLE demo_candidate AS
WITH centre AS (
    SELECT q.municipality_id,
           (%(round)s::bigint * 64 + q.municipality_rank) * 16777216 + d.path[1] AS n,
           d.geom AS centre
    FROM unnest(%(municipality_ids)s::bigint[], %(ranks)s::int[], %(candidates)s::int[],
                %(point_seeds)s::int[]) AS q(municipality_id, municipality_rank, candidates,
                                              point_seed)
    JOIN geodata_municipality m ON m.id = q.municipality_id
    CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(m.geom, q.candidates, q.point_seed)) AS d
    WHERE q.candidates > 0
),
{shapes}placed AS MATERIALIZED (
    SELECT u.n, u.municipality_id, u.kind, u.has_polygon,
           CASE WHEN u.outline IS NULL THEN u.centre ELSE ST_SetSRID(ST_Translate(
               ST_Rotate(
                   ST_Scale(u.outline, sqrt(u.target_m2 / ST_Area(u.outline)),
                            sqrt(u.target_m2 / ST_Area(u.outline))),
                   pi() * pg_temp.demo_u(%(seed)s, u.n, 11)),
               ST_X(u.centre), ST_Y(u.centre)), 25832)
           END AS geom
    FROM unit u
)
SELECT p.n, p.municipality_id, p.kind, p.has_polygon, p.geom, 0 AS state
FROM placed p
JOIN geodata_municipality m ON m.id = p.municipality_id
WHERE ST_Within(p.geom, m.geom)
  AND NOT EXISTS (
      SELECT 1 FROM geodata_layerfeature f
      WHERE f.layer_id = %(rail_layer_id)s AND ST_DWithin(f.geom, p.geom, %(rail_clearance)s))
  AND NOT EXISTS (
      SELECT 1 FROM properties_site s WHERE ST_DWithin(s.geom, p.geom, %(gap)s))
  AND NOT EXISTS (
      SELECT 1 FROM demo_keep k WHERE ST_DWithin(k.geom, p.geom, %(gap)s))
ORDER BY p.n
""".replace("{shapes}", _SHAPES_SQL)
_CANDIDATES_INDEX_SQL = (
    "CREATE INDEX ON demo_candidate USING gist (geom)",
    "CREATE INDEX ON demo_candidate (n)",
    "ANALYZE demo_candidate",
)

# One greedy round: state 0 open, 1 kept, 2 dropped. An open candidate is kept when no open
# candidate with a lower number is too close; then open candidates too close to a kept one
# are dropped.
_KEEP_LOCAL_MINIMA_SQL = """
UPDATE demo_candidate c SET state = 1
WHERE c.state = 0 AND NOT EXISTS (
    SELECT 1 FROM demo_candidate o
    WHERE o.state = 0 AND o.n < c.n AND ST_DWithin(o.geom, c.geom, %(gap)s))
"""
_DROP_NEIGHBOURS_SQL = """
UPDATE demo_candidate c SET state = 2
WHERE c.state = 0 AND EXISTS (
    SELECT 1 FROM demo_candidate k
    WHERE k.state = 1 AND ST_DWithin(k.geom, c.geom, %(gap)s))
"""

# Per municipality the first `need` survivors, in an order that keeps the kinds at their
# shares (big plots are discarded more often than points); then the rest, same order.
_SELECT_SQL = """
INSERT INTO demo_keep (n, municipality_id, kind, has_polygon, geom)
SELECT s.n, s.municipality_id, s.kind, s.has_polygon, s.geom
FROM (
    SELECT r.*, row_number() OVER (
               PARTITION BY r.municipality_id ORDER BY r.kind_position, r.n) AS position
    FROM (
        SELECT c.*, q.need,
               row_number() OVER (PARTITION BY c.municipality_id, c.kind ORDER BY c.n)
                   / ks.share AS kind_position
        FROM demo_candidate c
        JOIN unnest(%(municipality_ids)s::bigint[], %(needs)s::int[]) AS q(municipality_id, need)
          USING (municipality_id)
        JOIN unnest(%(kinds)s::text[], %(kind_shares)s::float8[]) AS ks(kind, share)
          USING (kind)
        WHERE c.state = 1
    ) r
) s
ORDER BY (s.position <= s.need) DESC, s.kind_position, pg_temp.demo_u(%(seed)s, s.n, 12)
LIMIT %(shortfall)s
"""

_INSERT_SQL = """
WITH kept AS (
    SELECT k.*, m.name AS municipality_name, m.ags, m.postcode, o.id AS organisation_id,
           split_part(o.email, '@', 2) AS mail_domain,
           -- 0 (smallest municipality) .. 1 (largest city): land and rents cost more there
           greatest(0, least(1, ln(greatest(coalesce(m.population, 8000), 8000) / 8000.0)
                                / ln(600000 / 8000.0))) AS urbanity,
           row_number() OVER (ORDER BY m.ags, k.n) + %(ref_offset)s AS ref_number
    FROM demo_keep k
    JOIN geodata_municipality m ON m.id = k.municipality_id
    JOIN properties_partnerorganisation o
      ON o.name = replace(%(organisation_name)s, '{municipality}', m.name)
),
sized AS (
    SELECT k.*,
           CASE
           WHEN k.kind = 'plot' THEN greatest(10, round(ST_Area(k.geom) / 10) * 10)
           WHEN k.has_polygon THEN greatest(10, round(ST_Area(k.geom) * CASE k.kind
               WHEN 'office' THEN 2 + floor(5 * pg_temp.demo_u(%(seed)s, k.n, 20))
               WHEN 'mixed' THEN 1 + floor(3 * pg_temp.demo_u(%(seed)s, k.n, 20))
               WHEN 'hall' THEN CASE WHEN pg_temp.demo_u(%(seed)s, k.n, 20) < .2 THEN 1.3 ELSE 1 END
               ELSE 1 END / 10) * 10)
           ELSE round(CASE k.kind  -- floor space of premises shown as a point
               WHEN 'office' THEN pg_temp.demo_size(%(seed)s, k.n, 21, 250, 1500, .9, 20000, 1)
               WHEN 'hall' THEN pg_temp.demo_size(%(seed)s, k.n, 21, 500, 3500, .9, 30000, 1)
               WHEN 'logistics' THEN pg_temp.demo_size(%(seed)s, k.n, 21, 2000, 12000, .8, 80000, 1)
               ELSE pg_temp.demo_size(%(seed)s, k.n, 21, 300, 1800, .9, 15000, 1)
           END / 10) * 10
           END AS gross
    FROM kept k
),
planned AS (
    SELECT s.*,
           least(s.gross, round(
               s.gross * (0.85 + 0.10 * pg_temp.demo_u(%(seed)s, s.n, 23)) / 10) * 10) AS net,
           pg_temp.demo_u(%(seed)s, s.n, 24) < .33
               AND s.gross >= CASE WHEN s.kind = 'plot' THEN 5000 ELSE 1000 END AS divisible,
           CASE
           WHEN s.kind = 'plot' AND s.gross >= 80000 THEN (ARRAY['GI', 'GE', 'SO'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 27), ARRAY[0, .50, .95]::float8[])]
           WHEN s.kind = 'plot' THEN (ARRAY['GE', 'GI', 'MI', 'SO'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 27), ARRAY[0, .55, .75, .93]::float8[])]
           WHEN s.kind = 'logistics' THEN (ARRAY['GI', 'GE'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 27), ARRAY[0, .55]::float8[])]
           WHEN s.kind = 'hall' THEN (ARRAY['GE', 'GI', 'SO'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 27), ARRAY[0, .60, .95]::float8[])]
           WHEN s.kind = 'office' THEN (ARRAY['MI', 'GE', 'SO'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 27), ARRAY[0, .50, .88]::float8[])]
           ELSE (ARRAY['MI', 'GE'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 27), ARRAY[0, .60]::float8[])]
           END AS planning_category,
           CASE WHEN s.kind = 'plot'
           THEN (ARRAY['binding', 'in_preparation', 'fnp_only', 'section_34', 'section_35'])[
               width_bucket(pg_temp.demo_u(%(seed)s, s.n, 28), ARRAY[0, .55, .73, .85, .95]::float8[])]
           ELSE (ARRAY['binding', 'section_34', 'in_preparation'])[width_bucket(
               pg_temp.demo_u(%(seed)s, s.n, 28), ARRAY[0, .50, .95]::float8[])]
           END AS bplan_status,
           (ARRAY['none', 'light', 'severe'])[width_bucket(pg_temp.demo_u(%(seed)s, s.n, 29),
               CASE WHEN s.kind = 'plot' THEN ARRAY[0, .30, .75] ELSE ARRAY[0, .45, .85] END
               ::float8[])] AS restriction_class,
           -- up to three restrictions; contamination and mining damage dominate in the Ruhr
           ARRAY(
               SELECT r.code
               FROM (
                   SELECT i, (ARRAY['contamination', 'mining', 'noise', 'species', 'flooding',
                                    'monument'])[width_bucket(
                              pg_temp.demo_u(%(seed)s, s.n, 30 + i),
                              ARRAY[0, .42, .67, .82, .91, .97]::float8[])] AS code
                   FROM generate_series(0, 2) AS i
               ) r
               WHERE r.i = 0 OR pg_temp.demo_u(%(seed)s, s.n, 60 + r.i) < .35
               GROUP BY r.code
               ORDER BY min(r.i)
           ) AS restriction_draw
    FROM sized s
),
described AS (
    SELECT p.*,
           -- smallest part 10-30 per cent, largest 50-100 per cent of the net area (100 m² steps)
           greatest(100, round(p.net * (0.10 + 0.20 * pg_temp.demo_u(%(seed)s, p.n, 25)) / 100)
                         * 100) AS smallest_part,
           greatest(100, least(p.net, round(
               p.net * (0.5 + 0.5 * pg_temp.demo_u(%(seed)s, p.n, 26)) / 100) * 100))
               AS largest_part,
           CASE WHEN p.restriction_class = 'none' THEN ARRAY[]::varchar[]
                WHEN p.restriction_class = 'light' THEN p.restriction_draw[1:1]::varchar[]
                ELSE p.restriction_draw::varchar[]
           END AS restrictions,
           CASE WHEN p.kind = 'plot' THEN 80 ELSE CASE p.kind
               WHEN 'office' THEN 10.5 WHEN 'hall' THEN 6.8 WHEN 'logistics' THEN 6.2 ELSE 8 END
           END
           * (0.75 + 0.5 * p.urbanity)
           * (0.75 + 0.6 * pg_temp.demo_u(%(seed)s, p.n, 39))
           * CASE WHEN p.kind <> 'plot' THEN 1
                  ELSE CASE p.planning_category WHEN 'GI' THEN .9 WHEN 'MI' THEN 1.3
                                                WHEN 'SO' THEN 1.15 ELSE 1 END END
           * CASE p.restriction_class WHEN 'severe' THEN .7 WHEN 'light' THEN .9 ELSE 1 END
               AS price,
           pg_temp.demo_u(%(seed)s, p.n, 40) < .15 AS on_request,
           CASE p.kind
               WHEN 'plot' THEN CASE p.planning_category
                   WHEN 'GI' THEN 'Industriegebiet' WHEN 'MI' THEN 'Mischgebiet'
                   WHEN 'SO' THEN 'Sondergebiet' ELSE 'Gewerbegebiet' END
               WHEN 'office' THEN CASE WHEN p.has_polygon THEN 'Bürogebäude'
                                       ELSE 'Büroflächen' END
               WHEN 'hall' THEN CASE WHEN p.planning_category = 'GI' THEN 'Produktionshalle'
                                     ELSE 'Gewerbehalle' END
               WHEN 'logistics' THEN 'Logistikhalle'
               ELSE 'Gewerbehof'
           END AS title_stem
    FROM planned p
),
numbered AS (
    SELECT d.*,
           row_number() OVER (PARTITION BY d.municipality_id, d.title_stem ORDER BY d.n)
               AS number_in_municipality,
           (ARRAY['Anna', 'Jonas', 'Katrin', 'Stefan', 'Laura', 'Markus', 'Julia', 'Thomas',
                  'Sabine', 'Tobias', 'Nina', 'Michael', 'Petra', 'Jan', 'Claudia', 'Deniz'])[
               1 + floor(16 * pg_temp.demo_u(%(seed)s, d.n, 52))::int] AS contact_first,
           (ARRAY['Becker', 'Schulte', 'Hoffmann', 'Kowalski', 'Schmitz', 'Wagner', 'Krüger',
                  'Yilmaz', 'Neumann', 'Brinkmann', 'Schäfer', 'Wiegand', 'Lange', 'Albers'])[
               1 + floor(14 * pg_temp.demo_u(%(seed)s, d.n, 53))::int] AS contact_last
    FROM described d
),
offered AS (
    SELECT o.*,
           CASE WHEN o.kind = 'plot'
                THEN CASE WHEN o.ownership_code = 'municipal'
                               AND pg_temp.demo_u(%(seed)s, o.n, 59) < .18
                          THEN ARRAY['sale', 'leasehold'] ELSE ARRAY['sale'] END
                ELSE CASE WHEN pg_temp.demo_u(%(seed)s, o.n, 60) < .12
                          THEN ARRAY['rent', 'sale'] ELSE ARRAY['rent'] END
           END::varchar[] AS offer_types,
           -- land 40-170 €/m²; premises for sale: the floor space at a 7 per cent gross yield
           CASE WHEN o.kind = 'plot' THEN round(least(170, greatest(40, o.price))::numeric, 0)
                ELSE round((least(15, greatest(6, o.price)) * 12 / 0.07 / 10)::numeric, 0) * 10
           END AS sale_price,
           round(least(15, greatest(6, o.price))::numeric, 2) AS rent
    FROM (
        SELECT n.*,
               CASE WHEN n.kind = 'plot'
                    THEN (ARRAY['municipal', 'other_public', 'private', 'mixed'])[width_bucket(
                        pg_temp.demo_u(%(seed)s, n.n, 35), ARRAY[0, .38, .45, .90]::float8[])]
                    ELSE (ARRAY['private', 'municipal', 'other_public', 'mixed'])[width_bucket(
                        pg_temp.demo_u(%(seed)s, n.n, 35), ARRAY[0, .75, .85, .90]::float8[])]
               END AS ownership_code
        FROM numbered n
    ) o
)
INSERT INTO properties_site (
    organisation_id, partner_ref, title, description, kind, status, is_demo, geom,
    municipality_id, street, postcode, gross_area_m2, net_area_m2, is_divisible,
    min_divisible_m2, max_divisible_m2, planning_category, bplan_status, restriction_class,
    restrictions, restriction_notes, ownership, available_from, offer_types, price_eur_m2,
    price_total_eur, rent_eur_m2_month, ground_rent_eur_m2_year, service_charges_eur_m2_month,
    commission_free, price_on_request, price_negotiable, has_water, has_sewer, has_power, has_gas_heat, broadband,
    has_rail_siding, has_port_access, contact_name, contact_email, contact_phone,
    created_at, updated_at, last_verified_at, {distance_columns}distances_computed_at
)
SELECT
    x.organisation_id,
    -- At least six digits (lpad alone would cut a seventh off).
    %(ref_prefix)s || lpad(x.ref_number::text, greatest(6, length(x.ref_number::text)), '0'),
    CASE WHEN x.kind = 'plot'
         THEN x.title_stem || ' ' || x.municipality_name
              || ' – Fläche ' || x.number_in_municipality
         ELSE x.title_stem || ' ' || x.municipality_name || ' ' || x.number_in_municipality
    END,
    CASE x.kind
        WHEN 'plot' THEN CASE x.planning_category
            WHEN 'GI' THEN 'Industriefläche' WHEN 'MI' THEN 'Fläche im Mischgebiet'
            WHEN 'SO' THEN 'Sondergebietsfläche' ELSE 'Gewerbefläche' END
            || ' mit ' || replace(to_char(x.gross, 'FM999,999,999'), ',', '.') || ' m² in '
            || x.municipality_name || '. ' || CASE x.bplan_status
                WHEN 'binding' THEN 'Bebauungsplan rechtskräftig'
                WHEN 'in_preparation' THEN 'Bebauungsplan in Aufstellung'
                WHEN 'fnp_only'
                    THEN 'Im Flächennutzungsplan als gewerbliche Baufläche dargestellt'
                WHEN 'section_35' THEN 'Außenbereich, Zulässigkeit nach § 35 BauGB'
                ELSE 'Bebauung nach § 34 BauGB möglich' END
            || CASE WHEN x.restriction_class = 'severe'
                    THEN ', ehemals industriell genutzte Brachfläche.' ELSE '.' END
        ELSE CASE x.kind
            WHEN 'office' THEN 'Büroflächen' WHEN 'hall' THEN 'Hallenfläche'
            WHEN 'logistics' THEN 'Logistikfläche' ELSE 'Büro- und Hallenflächen' END
            || ' mit ' || replace(to_char(x.gross, 'FM999,999,999'), ',', '.') || ' m² in '
            || x.municipality_name || '. '
            || CASE WHEN x.divisible THEN 'Teilbar, auch für kleinere Nutzer geeignet.'
                    ELSE 'Kurzfristig beziehbar nach Absprache.' END
    END || ' Demo-Datensatz, kein reales Angebot.',
    x.kind,
    (ARRAY['published', 'reserved', 'sold', 'draft', 'submitted', 'withdrawn'])[width_bucket(
        pg_temp.demo_u(%(seed)s, x.n, 36), ARRAY[0, .84, .89, .92, .95, .98]::float8[])],
    true,
    x.geom,
    x.municipality_id,
    CASE WHEN pg_temp.demo_u(%(seed)s, x.n, 49) < .55 THEN
        (ARRAY['Industriestraße', 'Gewerbestraße', 'Am Gewerbering', 'Zechenstraße',
               'Hüttenweg', 'Im Gewerbepark', 'Carl-Benz-Straße', 'Robert-Bosch-Straße',
               'Werkstraße', 'Am Förderturm', 'Schachtstraße', 'Gutenbergstraße', 'Max-Planck-Straße',
               'Otto-Hahn-Straße', 'Siemensstraße', 'Emscherallee', 'Kokereistraße',
               'Logistikring', 'Technologiepark', 'An der Kohlenbahn'])[
            1 + floor(20 * pg_temp.demo_u(%(seed)s, x.n, 50))::int]
        || ' ' || (1 + floor(180 * pg_temp.demo_u(%(seed)s, x.n, 51))::int)
    ELSE '' END,
    coalesce(x.postcode, ''),
    x.gross,
    x.net,
    x.divisible,
    CASE WHEN x.divisible THEN least(x.smallest_part, x.largest_part) END,
    CASE WHEN x.divisible THEN x.largest_part END,
    x.planning_category,
    x.bplan_status,
    x.restriction_class,
    x.restrictions,
    coalesce((
        SELECT string_agg(note.text, ' ' ORDER BY r.position)
        FROM unnest(x.restrictions) WITH ORDINALITY AS r(code, position)
        JOIN (VALUES
            ('contamination', 'light', 'Altlasten weitgehend saniert, Restbelastung im Boden.'),
            ('contamination', 'severe', 'Altlasten nachgewiesen, Sanierung vor Bebauung nötig.'),
            ('mining', 'light', 'Ehemaliger Bergbau im Umfeld, Baugrundgutachten empfohlen.'),
            ('mining', 'severe', 'Tagesnahe Bergbaurelikte, Sicherung vor Bebauung erforderlich.'),
            ('noise', 'light', 'Lärmkontingente im Bebauungsplan.'),
            ('noise', 'severe', 'Strenge Lärmkontingentierung, Nachtbetrieb eingeschränkt.'),
            ('species', 'light', 'Artenschutzrechtliche Prüfung erforderlich.'),
            ('species', 'severe', 'Vorkommen geschützter Arten, Ausgleichsflächen notwendig.'),
            ('flooding', 'light', 'Teilweise im Risikogebiet für Hochwasser.'),
            ('flooding', 'severe', 'Im Überschwemmungsgebiet, Auflagen für die Bebauung.'),
            ('monument', 'light', 'Denkmalbereich in der Nachbarschaft.'),
            ('monument', 'severe', 'Denkmalgeschützte Bausubstanz, Umbauten genehmigungspflichtig.')
        ) AS note(code, restriction_class, text)
          ON note.code = r.code AND note.restriction_class = x.restriction_class
    ), ''),
    x.ownership_code,
    CASE WHEN pg_temp.demo_u(%(seed)s, x.n, 37) >= .60
         THEN current_date + (1 + floor(730 * pg_temp.demo_u(%(seed)s, x.n, 38)))::int
    END,
    x.offer_types,
    CASE WHEN NOT x.on_request AND 'sale' = ANY(x.offer_types) THEN x.sale_price END,
    CASE WHEN NOT x.on_request AND 'sale' = ANY(x.offer_types)
         THEN round(x.sale_price * x.gross / 1000) * 1000 END,
    CASE WHEN NOT x.on_request AND 'rent' = ANY(x.offer_types) THEN x.rent END,
    CASE WHEN NOT x.on_request AND 'leasehold' = ANY(x.offer_types)
         THEN round(x.sale_price * 0.04, 2) END,
    CASE WHEN x.kind <> 'plot' THEN round((1.5 + 2.5 * pg_temp.demo_u(%(seed)s, x.n, 57))::numeric, 2)
    END,
    x.ownership_code IN ('municipal', 'other_public') OR pg_temp.demo_u(%(seed)s, x.n, 58) < .5,
    x.on_request,
    NOT x.on_request AND pg_temp.demo_u(%(seed)s, x.n, 41) < .30,
    pg_temp.demo_u(%(seed)s, x.n, 42) < CASE WHEN x.kind = 'plot' THEN .90 ELSE .99 END,
    pg_temp.demo_u(%(seed)s, x.n, 43) < CASE WHEN x.kind = 'plot' THEN .87 ELSE .98 END,
    pg_temp.demo_u(%(seed)s, x.n, 44) < CASE WHEN x.kind = 'plot' THEN .93 ELSE 1 END,
    pg_temp.demo_u(%(seed)s, x.n, 45) < CASE WHEN x.kind = 'plot' THEN .60 ELSE .80 END,
    (ARRAY['gigabit', 'fast', 'basic', 'none'])[width_bucket(
        pg_temp.demo_u(%(seed)s, x.n, 46),
        CASE WHEN x.kind = 'plot' THEN ARRAY[0, .25, .60, .90] ELSE ARRAY[0, .35, .75, .97] END
        ::float8[])],
    CASE WHEN (x.planning_category = 'GI' OR x.kind = 'logistics')
              AND pg_temp.demo_u(%(seed)s, x.n, 47) < .6
         THEN EXISTS (
             SELECT 1 FROM geodata_layerfeature f
             WHERE f.layer_id = %(rail_layer_id)s
               AND f.properties ->> 'bahnnutzung' IN ('Gz-Bahn', 'Pz/Gz-Bahn')
               AND ST_DWithin(f.geom, x.geom, %(siding_radius)s))
         ELSE false
    END,
    x.kind IN ('plot', 'hall', 'logistics') AND x.planning_category IN ('GI', 'GE')
        AND pg_temp.demo_u(%(seed)s, x.n, 48) < coalesce((
            SELECT port.share FROM unnest(%(port_ags)s::text[], %(port_shares)s::float8[])
                AS port(ags, share)
            WHERE port.ags = x.ags), 0),
    x.contact_first || ' ' || x.contact_last,
    replace(replace(replace(replace(lower(x.contact_first || '.' || x.contact_last),
        'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss') || '@' || x.mail_domain,
    '',
    now(),
    now(),
    -- Verified within the last 240 days: some sites stale (flagged to their partners after
    -- SITE_STALE_AFTER_DAYS), none yet hidden from investors by a fresh install.
    now() - make_interval(secs => 240 * 86400 * pg_temp.demo_u(%(seed)s, x.n, 54)),
    {distance_values}now()
FROM offered x
-- The stored distances (properties.services.proximity): the cell's candidate features.
LEFT JOIN pg_temp.distance_candidate dc ON {distance_join}
ORDER BY x.ref_number
"""


# -- services -------------------------------------------------------------------------------


@transaction.atomic
def partner_organisations_ensure_demo() -> int:
    """One fictitious "Wirtschaftsförderung <municipality> (Demo)" per municipality, linked
    to it; created once, left alone afterwards. Returns the number of organisations."""
    municipalities = list(Municipality.objects.only("pk", "name"))
    names = {m.pk: DEMO_ORGANISATION_NAME.format(municipality=m.name) for m in municipalities}
    PartnerOrganisation.objects.bulk_create(
        [
            PartnerOrganisation(
                name=names[m.pk],
                email=f"kontakt@wirtschaftsfoerderung-{_slug(m.name)}.example.org",
                website=f"https://wirtschaftsfoerderung-{_slug(m.name)}.example.org/",
            )
            for m in municipalities
        ],
        ignore_conflicts=True,
    )
    organisation_ids = dict(
        PartnerOrganisation.objects.filter(name__in=names.values()).values_list("name", "pk")
    )
    link = PartnerOrganisation.municipalities.through
    link.objects.bulk_create(
        [
            link(partnerorganisation_id=organisation_ids[name], municipality_id=municipality_id)
            for municipality_id, name in names.items()
        ],
        ignore_conflicts=True,
    )
    return len(organisation_ids)


@transaction.atomic
def sites_delete_demo() -> int:
    """Deletes all demo sites (is_demo=True) and the demo inquiries whose offers name them;
    nothing else. Returns how many sites. A real offer naming a demo site stops it with
    RuntimeError: offered sites are never deleted under an offer."""
    # Imported here: proposals builds on properties, not the other way round.
    from proposals.models import OfferSite
    from proposals.services.demo import inquiries_delete_demo

    inquiries_delete_demo()
    held = sorted(
        set(
            OfferSite.objects.filter(site__is_demo=True).values_list("offer__inquiry_id", flat=True)
        )
    )
    if held:
        raise RuntimeError(
            "demo sites are part of offers of real inquiries (ids "
            + ", ".join(str(pk) for pk in held)
            + "): remove them from those offers first"
        )
    # The demo sites nothing refers to (photos, history, shortlists, ...) go in one
    # statement; a million of them through the ORM's collector would take minutes.
    quick = _sites_delete_unreferenced_demo()
    _, deleted_per_model = Site.objects.demo().only("pk").delete()
    return quick + deleted_per_model.get(Site._meta.label, 0)


def _sites_delete_unreferenced_demo() -> int:
    """Deletes the demo sites no other row refers to, in one statement; the references to
    the site table are checked by that statement, so their per-row checks are dropped for
    it (and the constraints made again, validated, in the same transaction)."""
    relations = [
        (related.related_model._meta.db_table, str(related.field.column))
        for related in Site._meta.related_objects
        if related.field.concrete
    ]
    unreferenced = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)} r "
        f"WHERE r.{connection.ops.quote_name(column)} = s.id)"
        for table, column in relations
    )
    delete = (
        "DELETE FROM properties_site s WHERE s.is_demo"  # noqa: S608 - names from the models
        + (f" AND {unreferenced}" if unreferenced else "")
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM properties_site WHERE is_demo")
        if cursor.fetchone()[0] < BULK_LOAD_MIN:
            cursor.execute(delete)
            return cursor.rowcount
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE confrelid = 'properties_site'::regclass AND contype = 'f'"
        )
        references = cursor.fetchall()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _definition in references:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        cursor.execute(delete)
        deleted = cursor.rowcount
        for table, name, definition in references:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return deleted


@transaction.atomic
def sites_generate_demo(*, count: int, seed: int = 42, replace: bool = False) -> int:
    """Generates `count` demo sites across all municipalities; with `replace`, deletes the
    existing demo sites first. The same seed gives the same sites. Returns the number
    created (always `count`; raises RuntimeError if the region cannot hold that many).
    More than DRAWN_MAX sites are placed on lattices instead of drawn (module doc)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    phases = _Phases()
    if replace:
        sites_delete_demo()
        phases.done("delete the old demo sites")
    partner_organisations_ensure_demo()
    municipalities = list(
        Municipality.objects.annotate(area_m2=AreaM2("geom"))
        .order_by("ags")
        .values("pk", "ags", "population", "area_m2")
    )
    if not municipalities:
        raise RuntimeError("no municipalities loaded: run load_reference_data first")
    params: dict[str, Any] = {
        "seed": seed,
        "scale": min(1.0, math.sqrt(REALISTIC_DENSITY_COUNT / count)),
        "rail_layer_id": Layer.objects.filter(slug="rail_lines")
        .values_list("pk", flat=True)
        .first(),
        "rail_clearance": RAIL_CLEARANCE_M,
        "gap": SITE_GAP_M,
        "municipality_ids": [m["pk"] for m in municipalities],
        "kinds": list(KIND_SHARES),
        "kind_shares": list(KIND_SHARES.values()),
        "kind_cuts": [float(sum(list(KIND_SHARES.values())[:i])) for i in range(len(KIND_SHARES))],
    }
    with connection.cursor() as cursor:
        # JIT would spend minutes compiling the long generated expressions for no gain.
        cursor.execute("SET LOCAL jit = off")
        # A batch job, also when called inside a web request's or test's connection: the
        # web statement timeout is for runaway queries, not for generating sites.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_FUNCTIONS_SQL)
        if count > DRAWN_MAX:
            _lattice_sites(
                cursor, municipalities=municipalities, count=count, params=params, phases=phases
            )
        else:
            _draw_sites(cursor, municipalities=municipalities, count=count, params=params)
        phases.done("place the sites")
        # Distances with the sites, not in a second pass over the table.
        distance_candidates_create(cursor, geometries_sql="SELECT geom FROM demo_keep")
        phases.done("distance candidates")
        insert = (
            _INSERT_SQL.replace("{distance_columns}", "".join(f"{f}, " for f in distance_fields()))
            .replace(
                "{distance_values}",
                "".join(f"{candidate_distance_sql(f, 'x.geom')},\n    " for f in distance_fields()),
            )
            .replace("{distance_join}", candidate_join_sql(anchor_sql("x.geom")))
        )
        with bulk_load("properties_site", enabled=count >= BULK_LOAD_MIN):
            cursor.execute(
                insert,
                {
                    **params,
                    "ref_offset": _last_demo_ref_number(),
                    "ref_prefix": DEMO_REF_PREFIX,
                    "organisation_name": DEMO_ORGANISATION_NAME,
                    "siding_radius": FREIGHT_SIDING_RADIUS_M,
                    "port_ags": list(PORT_SHARES),
                    "port_shares": list(PORT_SHARES.values()),
                },
            )
            created = cursor.rowcount
            phases.done("insert the sites")
        phases.done("indexes and foreign keys")
        for table in (
            "demo_candidate",
            "demo_keep",
            "demo_cell",
            "demo_rail",
            "distance_candidate",
        ):
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
    if created != count:
        raise RuntimeError(f"only {created} of {count} demo sites were made")
    logger.info("demo sites: %s", phases)
    return count


class _Phases:
    """How long each step took, for the log (a million sites take minutes)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.steps: list[str] = []

    def done(self, step: str) -> None:
        now = time.monotonic()
        self.steps.append(f"{step} {now - self.last:.1f} s")
        self.last = now

    def __str__(self) -> str:
        return ", ".join(self.steps)


# -- lattice placement (benchmark-sized sets) -------------------------------------------------

# Rail lines in short pieces: the clearance test of a cell reads a few vertices, not a line.
_RAIL_PIECES_SQL = (
    "DROP TABLE IF EXISTS pg_temp.demo_rail",
    "CREATE TEMP TABLE demo_rail AS SELECT ST_Subdivide(f.geom, 16) AS geom "
    "FROM geodata_layerfeature f WHERE f.layer_id = %(rail_layer_id)s",
    "CREATE INDEX ON demo_rail USING gist (geom)",
    "ANALYZE demo_rail",
)

# The free cells of each municipality's lattice (side `side`, origin shifted by a random
# fraction of a cell): fully inside the municipality, RAIL_CLEARANCE_M clear of the railway
# and SITE_GAP_M clear of existing sites. Blocks of 8 x 8 cells are judged first; only the
# cells of blocks on a boundary, near the railway or near a site are judged one by one.
_LATTICE_CELLS_SQL = """
INSERT INTO demo_cell (municipality_id, n, x0, y0, w)
WITH mun AS (
    SELECT q.municipality_id, q.municipality_rank, q.side, m.geom,
           ST_XMin(m.geom) - q.side * q.shift_x AS gx, ST_YMin(m.geom) - q.side * q.shift_y AS gy,
           ceil((ST_XMax(m.geom) - ST_XMin(m.geom)) / q.side)::int + 1 AS nx,
           ceil((ST_YMax(m.geom) - ST_YMin(m.geom)) / q.side)::int + 1 AS ny
    FROM unnest(%(municipality_ids)s::bigint[], %(ranks)s::int[], %(sides)s::float8[],
                %(shifts_x)s::float8[], %(shifts_y)s::float8[])
         AS q(municipality_id, municipality_rank, side, shift_x, shift_y)
    JOIN geodata_municipality m ON m.id = q.municipality_id
),
block AS MATERIALIZED (
    SELECT mun.*, bi, bj,
           ST_MakeEnvelope(mun.gx + bi * 8 * mun.side, mun.gy + bj * 8 * mun.side,
                           mun.gx + (bi + 1) * 8 * mun.side, mun.gy + (bj + 1) * 8 * mun.side,
                           25832) AS env
    FROM mun, generate_series(0, (mun.nx - 1) / 8) AS bi, generate_series(0, (mun.ny - 1) / 8) AS bj
),
judged AS MATERIALIZED (
    SELECT b.*, ST_Contains(b.geom, b.env) AS inside,
           EXISTS (SELECT 1 FROM demo_rail r
                   WHERE ST_DWithin(r.geom, b.env, %(rail_clearance)s)) AS near_rail,
           EXISTS (SELECT 1 FROM properties_site s
                   WHERE ST_DWithin(s.geom, b.env, %(gap)s)) AS near_site
    FROM block b
    WHERE ST_Intersects(b.geom, b.env)
),
cell AS (
    SELECT j.municipality_id, j.municipality_rank, j.side, j.geom, j.inside, j.near_rail,
           j.near_site, j.bi * 8 + ci AS i, j.bj * 8 + cj AS k,
           ST_MakeEnvelope(j.gx + (j.bi * 8 + ci) * j.side, j.gy + (j.bj * 8 + cj) * j.side,
                           j.gx + (j.bi * 8 + ci + 1) * j.side, j.gy + (j.bj * 8 + cj + 1) * j.side,
                           25832) AS env
    FROM judged j, generate_series(0, 7) AS ci, generate_series(0, 7) AS cj
)
SELECT c.municipality_id,
       (%(round)s::bigint * 64 + c.municipality_rank) * 16777216 + c.i * 4096 + c.k,
       ST_XMin(c.env) + %(margin)s, ST_YMin(c.env) + %(margin)s, c.side - 2 * %(margin)s
FROM cell c
WHERE (c.inside OR ST_Contains(c.geom, c.env))
  AND (NOT c.near_rail OR NOT EXISTS (
          SELECT 1 FROM demo_rail r WHERE ST_DWithin(r.geom, c.env, %(rail_clearance)s)))
  AND (NOT c.near_site OR NOT EXISTS (
          SELECT 1 FROM properties_site s WHERE ST_DWithin(s.geom, c.env, %(gap)s)))
"""

# Per municipality its quota of cells at random, any shortfall from other municipalities'
# spare cells; each chosen cell gets a site of the drawn kind and shape, scaled down where it
# would not fit the cell and placed at random inside it.
_LATTICE_SITES_SQL = """
INSERT INTO demo_keep (n, municipality_id, kind, has_polygon, geom)
WITH centre AS (
    SELECT c.*
    FROM (
        SELECT c.*, row_number() OVER (
                   PARTITION BY c.municipality_id ORDER BY pg_temp.demo_u(%(seed)s, c.n, 12))
                   AS position
        FROM demo_cell c
    ) c
    JOIN unnest(%(municipality_ids)s::bigint[], %(needs)s::int[]) AS q(municipality_id, need)
      USING (municipality_id)
    ORDER BY (c.position <= q.need) DESC, pg_temp.demo_u(%(seed)s, c.n, 13)
    LIMIT %(count)s
),
{shapes}rotated AS MATERIALIZED (
    SELECT u.n, u.municipality_id, u.kind, u.has_polygon, u.x0, u.y0, u.w,
           ST_Rotate(ST_Scale(u.outline, sqrt(u.target_m2 / ST_Area(u.outline)),
                              sqrt(u.target_m2 / ST_Area(u.outline))),
                     pi() * pg_temp.demo_u(%(seed)s, u.n, 11)) AS shape
    FROM unit u
),
fitted AS (
    SELECT r.*, least(1, r.w / greatest(ST_XMax(r.shape) - ST_XMin(r.shape),
                                        ST_YMax(r.shape) - ST_YMin(r.shape))) AS fit
    FROM rotated r
)
SELECT f.n, f.municipality_id, f.kind, f.has_polygon,
       CASE WHEN f.shape IS NULL
            THEN ST_SetSRID(ST_MakePoint(f.x0 + f.w * pg_temp.demo_u(%(seed)s, f.n, 14),
                                         f.y0 + f.w * pg_temp.demo_u(%(seed)s, f.n, 15)), 25832)
            ELSE ST_SetSRID(ST_Translate(ST_Scale(f.shape, f.fit, f.fit),
                f.x0 - f.fit * ST_XMin(f.shape)
                    + (f.w - f.fit * (ST_XMax(f.shape) - ST_XMin(f.shape)))
                      * pg_temp.demo_u(%(seed)s, f.n, 14),
                f.y0 - f.fit * ST_YMin(f.shape)
                    + (f.w - f.fit * (ST_YMax(f.shape) - ST_YMin(f.shape)))
                      * pg_temp.demo_u(%(seed)s, f.n, 15)), 25832)
       END
FROM fitted f
""".replace("{shapes}", _SHAPES_SQL)


def _lattice_sites(
    cursor,
    *,
    municipalities: Sequence[Mapping[str, Any]],
    count: int,
    params: dict[str, Any],
    phases: _Phases,
) -> None:
    """Fills demo_keep with `count` sites, one per lattice cell (module doc): a lattice per
    municipality whose cell size gives its quota about LATTICE_SPARE times the cells it
    needs; a municipality with too few free cells gets a finer lattice, up to three times."""
    quotas = _municipality_quotas(municipalities, count)
    cursor.execute(
        "CREATE TEMP TABLE demo_cell (municipality_id bigint NOT NULL, n bigint NOT NULL, "
        "x0 float8 NOT NULL, y0 float8 NOT NULL, w float8 NOT NULL)"
    )
    for statement in _RAIL_PIECES_SQL:
        cursor.execute(statement, params)
    ranks = {m["pk"]: rank for rank, m in enumerate(municipalities, start=1)}
    free = dict.fromkeys(ranks, 0)
    sides: dict[int, float] = {}
    for m in municipalities:
        # The share of a municipality's area that is free cells: about 0.8 (its edges,
        # the railway); corrected per round from what was found.
        wanted = max(quotas[m["pk"]], 1) * LATTICE_SPARE
        sides[m["pk"]] = max(LATTICE_MIN_SIDE_M, math.sqrt(0.8 * m["area_m2"] / wanted))
    pending = list(ranks)
    for round_number in range(3):
        if not pending:
            break
        cursor.execute("DELETE FROM demo_cell WHERE municipality_id = ANY(%s)", [pending])
        cursor.execute(
            _LATTICE_CELLS_SQL,
            {
                **params,
                "round": round_number,
                "municipality_ids": pending,
                "ranks": [ranks[pk] for pk in pending],
                "sides": [sides[pk] for pk in pending],
                "shifts_x": [
                    _stable_int(params["seed"], round_number, pk, "x") / 2**31 for pk in pending
                ],
                "shifts_y": [
                    _stable_int(params["seed"], round_number, pk, "y") / 2**31 for pk in pending
                ],
                "margin": SITE_GAP_M / 2,
            },
        )
        cursor.execute(
            "SELECT municipality_id, count(*) FROM demo_cell WHERE municipality_id = ANY(%s) "
            "GROUP BY 1",
            [pending],
        )
        free.update(dict.fromkeys(pending, 0))
        free.update(dict(cursor.fetchall()))
        short = [pk for pk in pending if free[pk] < quotas[pk] and sides[pk] > LATTICE_MIN_SIDE_M]
        for pk in short:
            ratio = max(free[pk], 1) / (quotas[pk] * LATTICE_SPARE)
            sides[pk] = max(LATTICE_MIN_SIDE_M, sides[pk] * math.sqrt(ratio))
        pending = short
    if sum(free.values()) < count:
        raise RuntimeError(f"only {sum(free.values())} of {count} demo sites fit the lattices")
    cursor.execute("ANALYZE demo_cell")
    phases.done(f"lattice cells ({sum(free.values())} free)")
    cursor.execute(
        _LATTICE_SITES_SQL,
        {
            **params,
            "needs": [quotas[pk] for pk in params["municipality_ids"]],
            "count": count,
        },
    )


@contextlib.contextmanager
def bulk_load(table: str, *, enabled: bool = True) -> Iterator[None]:
    """Inside: `table` without its secondary indexes and its foreign keys; afterwards they
    are created again from their own definitions and checked in one pass each — the way
    PostgreSQL's manual advises to load many rows ("Populating a Database"). For the
    current transaction only: a failure rolls the drop back too."""
    if not enabled:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        foreign_keys = cursor.fetchall()
        quoted = connection.ops.quote_name(table)
        # Deferred checks queued on the table (e.g. by deleting the old demo sites) would
        # stop the ALTER TABLE: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _definition in foreign_keys:
            cursor.execute(
                f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(
                f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # No ANALYZE here (seconds at a million rows): autovacuum analyses a table that
        # grew this much within a minute, the benchmark runs VACUUM ANALYZE itself.


# -- helpers --------------------------------------------------------------------------------


def _draw_sites(
    cursor, *, municipalities: Sequence[Mapping[str, Any]], count: int, params: dict[str, Any]
) -> None:
    """Fills demo_keep with `count` non-overlapping sites: rounds of candidates, each round
    with twice the surplus of the one before, until the quotas are met."""
    municipality_ids: list[int] = params["municipality_ids"]
    quotas = _municipality_quotas(municipalities, count)
    weights = _municipality_weights(municipalities)
    kept = dict.fromkeys(municipality_ids, 0)
    for round_number in range(MAX_ROUNDS):
        shortfall = count - sum(kept.values())
        if shortfall <= 0:
            return
        needs = [max(0, quotas[pk] - kept[pk]) for pk in municipality_ids]
        extra = max(0, shortfall - sum(needs))  # quotas some municipalities could not meet
        surplus = CANDIDATE_SURPLUS * 2**round_number
        candidates = [
            math.ceil((need + extra * weights[pk]) * surplus) + 3 if need or extra else 0
            for pk, need in zip(municipality_ids, needs, strict=True)
        ]
        cursor.execute("DROP TABLE IF EXISTS pg_temp.demo_candidate")
        cursor.execute(
            _CANDIDATES_SQL,
            {
                **params,
                "round": round_number,
                "ranks": list(range(1, len(municipalities) + 1)),
                "candidates": candidates,
                "point_seeds": [
                    _stable_int(params["seed"], round_number, m["ags"]) for m in municipalities
                ],
            },
        )
        for statement in _CANDIDATES_INDEX_SQL:
            cursor.execute(statement)
        _resolve_overlaps(cursor)
        cursor.execute(_SELECT_SQL, {**params, "needs": needs, "shortfall": shortfall})
        cursor.execute("SELECT municipality_id, count(*) FROM demo_keep GROUP BY 1")
        kept.update(dict(cursor.fetchall()))
    if sum(kept.values()) < count:
        raise RuntimeError(f"only {sum(kept.values())} of {count} demo sites fit without overlaps")


def _municipality_weights(municipalities: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """Share of the sites per municipality: 60 % by population, 40 % by area."""
    total_population = sum(m["population"] or 0 for m in municipalities) or 1
    total_area = sum(m["area_m2"] for m in municipalities)
    return {
        m["pk"]: 0.6 * (m["population"] or 0) / total_population + 0.4 * m["area_m2"] / total_area
        for m in municipalities
    }


def _municipality_quotas(municipalities: Sequence[Mapping[str, Any]], count: int) -> dict[int, int]:
    """Sites per municipality: a minimum each (while it takes at most half of `count`), the
    rest by weight, rounded by largest remainder so the quotas add up to `count`."""
    minimum = min(MIN_SITES_PER_MUNICIPALITY, count // (2 * len(municipalities)))
    rest = count - minimum * len(municipalities)
    weights = _municipality_weights(municipalities)
    exact = {pk: rest * weight for pk, weight in weights.items()}
    quotas = {pk: minimum + math.floor(share) for pk, share in exact.items()}
    by_remainder = sorted(exact, key=lambda pk: exact[pk] - math.floor(exact[pk]), reverse=True)
    for pk in by_remainder[: count - sum(quotas.values())]:
        quotas[pk] += 1
    return quotas


def _resolve_overlaps(cursor) -> None:
    for _ in range(MAX_OVERLAP_PASSES):
        # Fresh statistics after every step: the planner must see how many candidates are
        # kept or still open, or it scans the whole table per candidate.
        cursor.execute(_KEEP_LOCAL_MINIMA_SQL, {"gap": SITE_GAP_M})
        cursor.execute("ANALYZE demo_candidate")
        cursor.execute(_DROP_NEIGHBOURS_SQL, {"gap": SITE_GAP_M})
        cursor.execute("ANALYZE demo_candidate")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM demo_candidate WHERE state = 0)")
        if not cursor.fetchone()[0]:
            return
    cursor.execute("UPDATE demo_candidate SET state = 2 WHERE state = 0")


def _last_demo_ref_number() -> int:
    """The highest number in a DEMO-000123 reference, so added demo sites continue it."""
    number = Cast(Substr("partner_ref", len(DEMO_REF_PREFIX) + 1), BigIntegerField())
    refs = Site.objects.demo().filter(partner_ref__regex=rf"^{DEMO_REF_PREFIX}[0-9]+$")
    return refs.aggregate(last=Max(number))["last"] or 0
