"""The explainable matching engine: ranks every published site against an inquiry's
requirement profile and says, for each site and each criterion the inquiry states, whether
it is met (pass), narrowly missed (near), missed (fail) or cannot be judged (unknown).

Rules (criteria the inquiry leaves empty are not judged at all):

- kind: the site's kind is one of the kinds wanted → pass, else fail.
- area: judged on the net area where given, else the gross area — the net area is what can
  be built on, so it is the honest figure for an investor's "at least 10 ha". Within the
  range → pass; a divisible site whose parts (smallest part … largest part, each at most the
  site) can meet the range → pass, and the explanation says so; up to AREA_TOLERANCE
  outside the range → near ("9.2 ha of at least 10 ha wanted (8 % less)"); else fail.
- planning: one of the categories wanted → pass; a compatible category (PLANNING_COMPATIBLE:
  GI offered for GE wanted, GE offered for MI wanted) → near, with the reason; else fail.
- budget (a purchase price per m²): sale price ≤ budget → pass; up to BUDGET_TOLERANCE
  above → near; above → fail; no sale price (on request, not stated, or the site is not for
  sale but for rent or leasehold) → unknown.
- availability: available now or by the date wanted → pass; up to AVAILABILITY_NEAR_DAYS
  later → near ("about 3 months later"); later → fail.
- location (municipalities and/or an area drawn on the map): in a wanted municipality (the
  site's own municipality is one of them) or intersecting the drawn area → pass; within
  LOCATION_NEAR_M of either → near, with the distance (a site overlapping a wanted
  municipality it does not belong to: near, at 0 km); else fail.
- distances to junction, station, airport, port, university: ≤ the maximum → pass; up to
  DISTANCE_NEAR_FACTOR × the maximum → near ("6.5 km of at most 5 km wanted"); more → fail;
  no stored distance (the layer is empty, e.g. motorways) → unknown, never a fail.
- rail siding / port access (when needed): the site has it → pass, else fail.

A site failing a must-have criterion (`Inquiry.hard_criteria`) is excluded from the ranking
and listed separately with the reason; near misses and unknowns never exclude.

Score 0–100: the weighted share of met criteria (WEIGHTS): pass 1, unknown 0.5, fail 0, a
near miss between NEAR_CREDIT_MAX and NEAR_CREDIT_MIN, falling with the size of the miss.
Ranked sites: best score first, then the closest area, then the site id; excluded sites:
fewest failed must-haves first, then score, then id. Same data, same order.

Performance: every verdict and the score are computed in one SQL query over the published
sites (each criterion as a float8 "miss" column r: NULL unknown, 0 pass, (0, 1] near, > 1
fail, measured in tolerances), materialized once; two top-N sorts pick the best `limit` rows
of each list and one pass counts both, so only `limit` rows per list leave the database;
explanations are built in Python for those rows only. Location near misses are measured
only where they can occur: the wanted municipalities and the drawn area are unioned in SQL
and cut into small pieces (ST_Subdivide), and each piece finds the sites within
LOCATION_NEAR_M of it through the sites' GiST index. Counting (`inquiry_match_counts`)
judges the must-have criteria only. `site_match` runs the very same SQL for one site, so
both always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, FloatField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from geodata.layers import DISTANCE_FIELDS
from geodata.models import DataVersion
from properties.models import Site
from properties.presentation import (
    area_gross,
    area_net,
    area_range,
    area_short,
    km,
    offer_types_text,
    site_price,
)
from properties.querysets import PUBLIC_STATUSES, hidden_before

from .models import Criterion, Inquiry

# --- tolerances and weights -------------------------------------------------------------

AREA_TOLERANCE = 0.10  # up to 10 % outside the area range is a near miss
BUDGET_TOLERANCE = 0.10  # up to 10 % above the budget is a near miss
AVAILABILITY_NEAR_DAYS = 92  # available up to three months after the date wanted
LOCATION_NEAR_M = 5_000.0  # within 5 km of a wanted municipality or the drawn area
DISTANCE_NEAR_FACTOR = 1.5  # up to 1.5 × the maximum distance wanted
# The location target (wanted municipalities and drawn area) is cut into pieces of at most
# this many vertices for the near-miss distances. Measured at 100,000 sites: 48 to 96 about
# equally fast; 32 (more index probes) and 128 or more (costlier distances) slower.
LOCATION_PIECE_VERTICES = 64

# Credits of the score: a near miss earns between these, less the bigger the miss.
NEAR_CREDIT_MAX = 0.75
NEAR_CREDIT_MIN = 0.25
UNKNOWN_CREDIT = 0.5

# The core of a site's fit counts more than its extras.
WEIGHTS: dict[str, float] = {
    Criterion.KIND: 3,
    Criterion.OFFER_TYPE: 3,
    Criterion.AREA: 3,
    Criterion.PLANNING: 3,
    Criterion.LOCATION: 3,
    Criterion.BUDGET: 2,
    Criterion.AVAILABILITY: 2,
    Criterion.RAIL_SIDING: 2,
    Criterion.PORT_ACCESS: 2,
    Criterion.JUNCTION: 1,
    Criterion.STATION: 1,
    Criterion.AIRPORT: 1,
    Criterion.PORT: 1,
    Criterion.UNIVERSITY: 1,
}

# (wanted, offered): categories that admit what the investor plans, with the reason.
PLANNING_COMPATIBLE: dict[tuple[str, str], Promise] = {
    (Site.PlanningCategory.GE, Site.PlanningCategory.GI): gettext_lazy(
        "an industrial area also admits the businesses of a commercial area"
    ),
    (Site.PlanningCategory.MI, Site.PlanningCategory.GE): gettext_lazy(
        "a commercial area admits offices, services and crafts, but no housing"
    ),
}

# Distance criteria: (site column, inquiry maximum field).
DISTANCE_CRITERIA: dict[str, tuple[str, str]] = {
    Criterion.JUNCTION: ("distance_to_junction_m", "max_distance_junction_m"),
    Criterion.STATION: ("distance_to_station_m", "max_distance_station_m"),
    Criterion.AIRPORT: ("distance_to_airport_m", "max_distance_airport_m"),
    Criterion.PORT: ("distance_to_port_m", "max_distance_port_m"),
    Criterion.UNIVERSITY: ("distance_to_university_m", "max_distance_university_m"),
}

CRITERIA_ORDER: tuple[str, ...] = tuple(c.value for c in Criterion)
_T = '"properties_site"'
_MET = "0.0::float8"  # a miss r of 0
_MISSED = "2.0::float8"  # a miss r beyond the tolerance


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    NEAR = "near"
    FAIL = "fail"
    UNKNOWN = "unknown"  # the site or layer has no data

    @property
    def label(self) -> str:
        return str(VERDICT_LABELS[self])


VERDICT_LABELS: dict[Verdict, Promise] = {
    Verdict.PASS: gettext_lazy("met"),
    Verdict.NEAR: gettext_lazy("near miss"),
    Verdict.FAIL: gettext_lazy("not met"),
    Verdict.UNKNOWN: gettext_lazy("unknown"),
}


def verdict_of(miss: float | None) -> Verdict:
    """The verdict of a miss measured in tolerances (the SQL's r columns)."""
    if miss is None:
        return Verdict.UNKNOWN
    if miss <= 0:
        return Verdict.PASS
    if miss <= 1:
        return Verdict.NEAR
    return Verdict.FAIL


@dataclass(frozen=True)
class CriterionResult:
    criterion: str  # a proposals.models.Criterion value
    label: str  # translated criterion name (active language)
    verdict: Verdict
    wanted: str  # formatted for people, e.g. "10–20 ha"
    actual: str  # e.g. "9.2 ha"
    explanation: str  # one sentence, e.g. "9.2 ha of at least 10 ha wanted (8 % less)"
    hard: bool  # a must-have criterion of this inquiry

    @property
    def verdict_label(self) -> str:
        return self.verdict.label

    def as_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "label": self.label,
            "verdict": str(self.verdict),
            "verdict_label": self.verdict_label,
            "wanted": self.wanted,
            "actual": self.actual,
            "explanation": self.explanation,
            "hard": self.hard,
        }


@dataclass(frozen=True)
class SiteMatch:
    site: Site
    score: float  # 0–100, higher fits better
    results: list[CriterionResult]  # one per criterion the inquiry states, fixed order

    @property
    def failed_hard(self) -> list[CriterionResult]:
        return [r for r in self.results if r.hard and r.verdict == Verdict.FAIL]

    @property
    def excluded(self) -> bool:
        """Fails a must-have criterion."""
        return bool(self.failed_hard)

    @property
    def score_display(self) -> str:
        return number_format(self.score, 0)

    def as_json(self) -> dict[str, Any]:
        """A JSON-safe snapshot (stored in OfferSite.match)."""
        return {
            "site": self.site.pk,
            "score": round(self.score, 1),
            "excluded": self.excluded,
            "results": [r.as_json() for r in self.results],
        }


@dataclass(frozen=True)
class MatchResult:
    ranked: list[SiteMatch]  # not excluded, best first
    ranked_total: int
    excluded: list[SiteMatch]  # failing a hard criterion, nearest fits first
    excluded_total: int
    considered: int  # published sites judged
    criteria: list[str] = field(default_factory=list)  # the criteria the inquiry states


# --- the profile --------------------------------------------------------------------------


@dataclass
class _Profile:
    """An inquiry's stated requirements, read once (municipality ids and names from the
    database; their boundaries stay there)."""

    inquiry: Inquiry
    criteria: list[str]
    hard: set[str]
    municipality_ids: list[int]
    municipality_names: list[str]

    @classmethod
    def of(cls, inquiry: Inquiry) -> _Profile:
        municipalities: list[tuple[int, str]] = []
        if inquiry.pk:
            municipalities = list(inquiry.municipalities.order_by("name").values_list("pk", "name"))
        stated = {
            Criterion.KIND: bool(inquiry.kinds),
            Criterion.OFFER_TYPE: bool(inquiry.offer_types),
            Criterion.AREA: inquiry.area_min_m2 is not None or inquiry.area_max_m2 is not None,
            Criterion.PLANNING: bool(inquiry.planning_categories),
            Criterion.BUDGET: inquiry.budget_max_eur_m2 is not None,
            Criterion.AVAILABILITY: inquiry.available_by is not None,
            Criterion.LOCATION: bool(municipalities) or inquiry.area_of_interest is not None,
            Criterion.RAIL_SIDING: inquiry.needs_rail_siding,
            Criterion.PORT_ACCESS: inquiry.needs_port_access,
        } | {
            criterion: getattr(inquiry, max_field) is not None
            for criterion, (_column, max_field) in DISTANCE_CRITERIA.items()
        }
        return cls(
            inquiry=inquiry,
            criteria=[c for c in CRITERIA_ORDER if stated.get(Criterion(c))],
            hard=set(inquiry.hard_criteria or ()),
            municipality_ids=[pk for pk, _name in municipalities],
            municipality_names=[name for _pk, name in municipalities],
        )

    @property
    def drawn_area_ewkb(self) -> bytes | None:
        area = self.inquiry.area_of_interest
        return bytes(area.ewkb) if area is not None else None


# --- SQL ----------------------------------------------------------------------------------


def _area_bounds(inquiry: Inquiry) -> tuple[float | None, float | None]:
    lo = max(inquiry.area_min_m2, 1.0) if inquiry.area_min_m2 is not None else None
    hi = max(inquiry.area_max_m2, 1.0) if inquiry.area_max_m2 is not None else None
    return lo, hi


def _compatible_offered(wanted: list[str]) -> list[str]:
    return [o for (w, o) in PLANNING_COMPATIBLE if w in wanted and o not in wanted]


def _miss_sql(criterion: str, profile: _Profile) -> tuple[str, list[Any]]:
    """SQL for one criterion's miss r: NULL unknown, 0 pass, (0, 1] near, > 1 fail.

    Every r is float8 (numeric literals would make PostgreSQL compute the score in numeric
    and cast it per row). For the location, this is only whether the site passes; the
    distance of a near miss comes from the location_near CTE (see _location_ctes)."""
    inquiry = profile.inquiry
    if criterion == Criterion.KIND:
        return f"CASE WHEN {_T}.kind = ANY(%s) THEN {_MET} ELSE {_MISSED} END", [
            list(inquiry.kinds)
        ]
    if criterion == Criterion.OFFER_TYPE:
        # Offered any of the ways wanted; a site that states none is unknown, not a miss.
        return (
            f"CASE WHEN COALESCE(cardinality({_T}.offer_types), 0) = 0 THEN NULL"
            f" WHEN {_T}.offer_types::text[] && %s::text[] THEN {_MET} ELSE {_MISSED} END",
            [list(inquiry.offer_types)],
        )
    if criterion == Criterion.AREA:
        lo, hi = _area_bounds(inquiry)
        whole = f"COALESCE({_T}.net_area_m2, {_T}.gross_area_m2)"
        smallest = f"LEAST(COALESCE({_T}.min_divisible_m2, {whole}), {whole})"
        largest = f"LEAST(COALESCE({_T}.max_divisible_m2, {whole}), {whole})"
        # GREATEST and LEAST skip NULLs: an open end of the range drops out.
        sql = (
            f"LEAST(GREATEST(0.0, (%s::float8 - {whole}) / %s::float8,"
            f" ({whole} - %s::float8) / %s::float8),"
            f" CASE WHEN {_T}.is_divisible THEN GREATEST(0.0, (%s::float8 - {largest}) / %s::float8,"
            f" ({smallest} - %s::float8) / %s::float8) END) / {AREA_TOLERANCE}"
        )
        return sql, [lo, lo, hi, hi, lo, lo, hi, hi]
    if criterion == Criterion.PLANNING:
        wanted = list(inquiry.planning_categories)
        return (
            f"CASE WHEN {_T}.planning_category = ANY(%s) THEN {_MET}"
            f" WHEN {_T}.planning_category = ANY(%s) THEN 0.5::float8 ELSE {_MISSED} END",
            [wanted, _compatible_offered(wanted) or [""]],
        )
    if criterion == Criterion.BUDGET:
        budget = float(inquiry.budget_max_eur_m2 or 0)
        # The budget is a purchase price per m²: only a sale price compares with it. A site
        # not for sale (rent, leasehold only) has no figure to judge: unknown, not "met".
        price = f"(CASE WHEN 'sale' = ANY({_T}.offer_types) THEN {_T}.price_eur_m2::float8 END)"
        if budget <= 0:
            return (
                f"CASE WHEN {price} IS NULL THEN NULL WHEN {price} > 0 THEN {_MISSED} ELSE {_MET} END",
                [],
            )
        return (
            f"CASE WHEN {price} IS NULL THEN NULL"
            f" ELSE GREATEST(0.0, ({price} - %s) / %s) / {BUDGET_TOLERANCE} END",
            [budget, budget],
        )
    if criterion == Criterion.AVAILABILITY:
        return (
            f"CASE WHEN {_T}.available_from IS NULL OR {_T}.available_from <= %s::date THEN {_MET}"
            f" ELSE ({_T}.available_from - %s::date)::float8 / {AVAILABILITY_NEAR_DAYS} END",
            [inquiry.available_by, inquiry.available_by],
        )
    if criterion == Criterion.LOCATION:
        # In a wanted municipality (by the site's municipality) or touching the drawn area.
        parts = ["CASE"]
        params: list[Any] = []
        if profile.municipality_ids:
            parts.append(f"WHEN {_T}.municipality_id = ANY(%s) THEN true")
            params.append(profile.municipality_ids)
        if profile.drawn_area_ewkb is not None:
            parts.append(f"WHEN ST_Intersects({_T}.geom, ST_GeomFromEWKB(%s)) THEN true")
            params.append(profile.drawn_area_ewkb)
        parts.append("ELSE false END")
        return " ".join(parts), params
    if criterion in DISTANCE_CRITERIA:
        column, max_field = DISTANCE_CRITERIA[criterion]
        maximum = max(float(getattr(inquiry, max_field)), 1.0)
        return (
            f"CASE WHEN {_T}.{column} IS NULL THEN NULL"
            f" ELSE GREATEST(0.0, ({_T}.{column} - %s) / %s) / {DISTANCE_NEAR_FACTOR - 1} END",
            [maximum, maximum],
        )
    if criterion == Criterion.RAIL_SIDING:
        return f"CASE WHEN {_T}.has_rail_siding THEN {_MET} ELSE {_MISSED} END", []
    if criterion == Criterion.PORT_ACCESS:
        return f"CASE WHEN {_T}.has_port_access THEN {_MET} ELSE {_MISSED} END", []
    raise ValueError(f"unknown criterion {criterion!r}")


def _location_ctes(
    profile: _Profile, sites: Any, *, from_sites: bool = False
) -> tuple[str, list[Any]]:
    """Two CTEs for the distances of the location's near misses: location_pieces, the
    wanted municipalities and the drawn area unioned and cut into small pieces
    (ST_Subdivide); location_near, for each site judged that lies outside the wanted
    municipalities and whose bounding box comes within LOCATION_NEAR_M of a piece's, its
    distance to the nearest such piece (the caller decides near or fail).

    Driven from the pieces through the sites' GiST index, so only the sites around the
    location are looked at, and each distance is taken to a piece of at most
    LOCATION_PIECE_VERTICES vertices rather than to the whole union (800 to 1,500 vertices
    for three or four towns). The distance to the nearest piece is the distance to the
    union; a site touching it from outside is at 0 (a near miss, not a pass)."""
    pieces_sql, params = _pieces_cte(profile)
    # The sites judged (any queryset: the published ones, one site), each paired with the
    # pieces whose bounding box, grown by LOCATION_NEAR_M, it overlaps: an index condition.
    if profile.municipality_ids:
        sites = sites.exclude(municipality_id__in=profile.municipality_ids)
    pairs = (
        sites.order_by()
        .filter(
            RawSQL(  # noqa: S611 - fixed SQL, the distance is a module constant
                f"{_T}.geom && ST_Expand(p.geom, {LOCATION_NEAR_M})",
                [],
                output_field=BooleanField(),
            )
        )
        .values("id")
        .annotate(
            distance=RawSQL(  # noqa: S611 - fixed SQL
                f"ST_Distance({_T}.geom, p.geom)", [], output_field=FloatField()
            )
        )
    )
    if from_sites:
        # Driven from the sites judged instead (each tested against the few pieces): when
        # they are a narrow set (the must-have candidates), fewer than the sites around
        # the location, which the pieces' index scan would fetch and filter.
        sites_sql, sites_params = sites.order_by().values("id", "geom").query.sql_with_params()
        sql = f"""
        {pieces_sql},
        location_near AS MATERIALIZED (
            SELECT s.id, d.distance
            FROM ({sites_sql} OFFSET 0) s CROSS JOIN LATERAL (
                SELECT min(ST_Distance(s.geom, p.geom)) AS distance FROM location_pieces p
                WHERE s.geom && ST_Expand(p.geom, {LOCATION_NEAR_M})
            ) d
            WHERE d.distance IS NOT NULL
        ),"""
        return sql, params + list(sites_params)
    pairs_sql, pairs_params = pairs.query.sql_with_params()
    sql = f"""
        {pieces_sql},
        location_near AS MATERIALIZED (
            SELECT pair.id, min(pair.distance) AS distance
            FROM location_pieces p CROSS JOIN LATERAL ({pairs_sql} OFFSET 0) pair
            GROUP BY pair.id
        ),"""
    return sql, params + list(pairs_params)


def _credit_sql(column: str) -> str:
    slope = NEAR_CREDIT_MAX - NEAR_CREDIT_MIN
    return (
        f"(CASE WHEN {column} IS NULL THEN {UNKNOWN_CREDIT} WHEN {column} <= 0 THEN 1.0"
        f" WHEN {column} <= 1 THEN {NEAR_CREDIT_MAX} - {slope} * {column} ELSE 0.0 END)"
    )


def _judged_cte(
    profile: _Profile,
    sites: Any,
    criteria: list[str],
    *,
    scored: bool,
    near_from_sites: bool = False,
    location_bound: bool = False,
) -> tuple[str, list[Any]]:
    """`WITH ... judged AS (...)`: per site judged its id, a miss column r_<criterion> per
    criterion, failed_hard (the number of must-haves failed) and, when `scored`, its score.
    Materialized once; the ranking and the totals read it."""
    # Fixed SQL per criterion; every value of the inquiry is a bound parameter.
    annotations = {f"r_{c}": RawSQL(*_miss_sql(c, profile)) for c in criteria}  # noqa: S611
    inner = sites.order_by().values("id").annotate(**annotations)
    inner_sql, inner_params = inner.query.sql_with_params()
    ctes: str = ""
    params: list[Any] = []
    columns = [f"m.r_{c}" for c in criteria]
    near_join = ""
    if Criterion.LOCATION in criteria and location_bound:
        # An upper bound instead of the near miss: a site outside the location counts as
        # the smallest miss (its credit just under NEAR_CREDIT_MAX, more than any real
        # near miss earns), so no distance is measured; a site inside is judged exactly.
        columns[criteria.index(Criterion.LOCATION)] = (
            f"CASE WHEN m.r_location THEN {_MET} ELSE {_BOUND_MISS} END AS r_location"
        )
    elif Criterion.LOCATION in criteria:
        ctes, params = _location_ctes(profile, sites, from_sites=near_from_sites)
        # A FULL JOIN (location_near holds only sites judged here, so it adds no row) can
        # only be a hash or merge join: PostgreSQL cannot estimate the CTE's size, and a
        # LEFT JOIN planned as a nested loop over it took a minute.
        near_join = "FULL JOIN location_near n ON n.id = m.id"
        columns[criteria.index(Criterion.LOCATION)] = (
            f"CASE WHEN m.r_location THEN {_MET} WHEN n.distance <= {LOCATION_NEAR_M}"
            f" THEN GREATEST(n.distance / {LOCATION_NEAR_M}, 1e-9) ELSE {_MISSED} END AS r_location"
        )
    hard = [f"r_{c}" for c in criteria if c in profile.hard]
    failed_hard = " + ".join(f"(COALESCE({c}, 0) > 1)::int" for c in hard) if hard else "0"
    score = ""
    if scored:
        total_weight = sum(WEIGHTS[c] for c in criteria)
        credits = " + ".join(f"{WEIGHTS[c]} * {_credit_sql(f'r_{c}')}" for c in criteria)
        score = (
            f", 100.0 * ({credits}) / {total_weight} AS score" if criteria else ", 100.0 AS score"
        )
    # OFFSET 0 keeps each level a subquery: flattened, PostgreSQL would evaluate each miss
    # expression again for every use in the level above.
    sql = f"""
        WITH {ctes}
        judged AS MATERIALIZED (
            SELECT j.*, {failed_hard} AS failed_hard{score}
            FROM (
                SELECT {", ".join(["m.id", *columns])}
                FROM ({inner_sql} OFFSET 0) m {near_join}
                OFFSET 0
            ) j
        )"""
    return sql, params + list(inner_params)


def _scored_sql(
    profile: _Profile,
    sites: Any,
    limit: int | None,
    *,
    near_from_sites: bool = False,
    location_bound: bool = False,
) -> tuple[str, list[Any]]:
    """The ranking query: per site its misses, score and exclusion, and its list's total;
    the best `limit` rows of each list (all when None), ranked sites first, each list in
    its order. Two top-N sorts instead of a sort of every site."""
    judged, params = _judged_cte(
        profile,
        sites,
        profile.criteria,
        scored=True,
        near_from_sites=near_from_sites,
        location_bound=location_bound,
    )
    area_tiebreak = "COALESCE(r_area, 0), " if Criterion.AREA in profile.criteria else ""
    order = f"failed_hard, score DESC, {area_tiebreak}id"
    sql = f"""
        {judged}
        SELECT best.*, best.failed_hard > 0 AS excluded,
            CASE WHEN best.failed_hard > 0 THEN totals.excluded ELSE totals.ranked END AS total
        FROM (
            (SELECT * FROM judged WHERE failed_hard = 0 ORDER BY {order} LIMIT %s)
            UNION ALL
            (SELECT * FROM judged WHERE failed_hard > 0 ORDER BY {order} LIMIT %s)
        ) best CROSS JOIN (
            SELECT count(*) FILTER (WHERE failed_hard = 0) AS ranked,
                count(*) FILTER (WHERE failed_hard > 0) AS excluded
            FROM judged
        ) totals
        ORDER BY best.failed_hard > 0, {order}
    """
    return sql, [*params, limit, limit]


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _counts(profile: _Profile, sites: Any) -> tuple[int, int]:
    """(ranked, excluded) for the sites: only the must-have criteria decide, so only they
    are judged, and nothing is scored or sorted."""
    hard = [c for c in profile.criteria if c in profile.hard]
    judged, params = _judged_cte(profile, sites, hard, scored=False)
    sql = f"""
        {judged}
        SELECT count(*) FILTER (WHERE failed_hard = 0), count(*) FILTER (WHERE failed_hard > 0)
        FROM judged
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ranked, excluded = cursor.fetchone()
    return int(ranked), int(excluded)


def _sites_by_id(ids: list[int]) -> dict[int, Site]:
    sites = (
        Site.objects.filter(pk__in=ids)
        .select_related("municipality")
        .defer("municipality__geom", "municipality__centre")
    )
    return {site.pk: site for site in sites}


# --- formatting and explanations ----------------------------------------------------------


def _number(value: float, decimals: int = 1) -> str:
    """Rounded to `decimals`, without a trailing zero: "10", "9.2" ("9,2" in German)."""
    rounded = round(value, decimals)
    if rounded == int(rounded):
        return number_format(int(rounded), 0, force_grouping=True)
    return number_format(rounded, decimals, force_grouping=True)


def _price_text(value: Decimal | float) -> str:
    return f"{number_format(value, 2, force_grouping=True)}\u00a0€/m²"


def _percent(fraction: float) -> str:
    return f"{_number(fraction * 100, 0)}\u00a0%"


def _kind_labels(kinds: list[str]) -> str:
    labels = dict(Site.Kind.choices)
    return ", ".join(str(labels.get(k, k)) for k in kinds)


def _later_text(days: int) -> str:
    if days < 31:
        return ngettext("%(n)s day later", "%(n)s days later", days) % {"n": days}
    months = round(days / 30.44)
    return ngettext("about %(n)s month later", "about %(n)s months later", months) % {"n": months}


def _location_wanted(profile: _Profile) -> str:
    names = list(profile.municipality_names)
    if profile.inquiry.area_of_interest is not None:
        names.append(_("the area drawn on the map"))
    return ", ".join(names)


def _wanted(criterion: str, profile: _Profile) -> str:
    inquiry = profile.inquiry
    if criterion == Criterion.KIND:
        return _kind_labels(list(inquiry.kinds))
    if criterion == Criterion.OFFER_TYPE:
        return offer_types_text(list(inquiry.offer_types))
    if criterion == Criterion.AREA:
        return area_range(*_area_bounds(inquiry))
    if criterion == Criterion.PLANNING:
        return ", ".join(inquiry.planning_categories)
    if criterion == Criterion.BUDGET:
        return _("at most %(price)s") % {"price": _price_text(inquiry.budget_max_eur_m2 or 0)}
    if criterion == Criterion.AVAILABILITY:
        assert inquiry.available_by is not None  # noqa: S101 - stated only with a date
        return _("by %(date)s") % {"date": date_format(inquiry.available_by, "DATE_FORMAT")}
    if criterion == Criterion.LOCATION:
        return _location_wanted(profile)
    if criterion in DISTANCE_CRITERIA:
        maximum = getattr(inquiry, DISTANCE_CRITERIA[criterion][1])
        return _("at most %(distance)s") % {"distance": km(maximum)}
    return _("needed")


def inquiry_wanted(inquiry: Inquiry) -> list[tuple[str, str, str, bool]]:
    """The stated requirement profile: (criterion, label, wanted, must-have) in fixed order."""
    profile = _Profile.of(inquiry)
    return [
        (c, str(Criterion(c).label), _wanted(c, profile), c in profile.hard)
        for c in profile.criteria
    ]


def _explain(
    criterion: str, verdict: Verdict, miss: float | None, site: Site, profile: _Profile
) -> tuple[str, str]:
    """(actual, explanation) for one site and criterion, in the active language."""
    inquiry = profile.inquiry
    if criterion == Criterion.KIND:
        actual = site.get_kind_display()
        if verdict == Verdict.PASS:
            return actual, _("%(actual)s is one of the kinds wanted.") % {"actual": actual}
        return actual, _("%(actual)s is not one of the kinds wanted (%(wanted)s).") % {
            "actual": actual,
            "wanted": _kind_labels(list(inquiry.kinds)),
        }
    if criterion == Criterion.OFFER_TYPE:
        actual = offer_types_text(list(site.offer_types or []))
        if verdict == Verdict.UNKNOWN:
            return _("not stated"), _("The site states no offer type.")
        if verdict == Verdict.PASS:
            return actual, _("Offered as %(actual)s: as wanted.") % {"actual": actual}
        return actual, _("Offered as %(actual)s; %(wanted)s wanted.") % {
            "actual": actual,
            "wanted": offer_types_text(list(inquiry.offer_types)),
        }
    if criterion == Criterion.AREA:
        return _explain_area(verdict, site, inquiry)
    if criterion == Criterion.PLANNING:
        actual = site.planning_category
        wanted = ", ".join(inquiry.planning_categories)
        if verdict == Verdict.PASS:
            return actual, _("%(actual)s is one of the categories wanted.") % {"actual": actual}
        if verdict == Verdict.NEAR:
            reason = next(
                (
                    str(text)
                    for (w, o), text in PLANNING_COMPATIBLE.items()
                    if o == actual and w in inquiry.planning_categories
                ),
                "",
            )
            return actual, _("%(actual)s offered, %(wanted)s wanted: %(reason)s.") % {
                "actual": actual,
                "wanted": wanted,
                "reason": reason,
            }
        return actual, _("%(actual)s is not one of the categories wanted (%(wanted)s).") % {
            "actual": actual,
            "wanted": wanted,
        }
    if criterion == Criterion.BUDGET:
        budget = inquiry.budget_max_eur_m2 or Decimal(0)
        if Site.OfferType.SALE not in (site.offer_types or []):
            offers = site_price(site)
            return offers, _("Not for sale (%(offer)s): no purchase price to compare.") % {
                "offer": offers
            }
        if site.price_eur_m2 is None:
            if site.price_on_request:
                return _("on request"), _("The price is on request: ask the owner.")
            return _("not stated"), _("No price is stated for this site.")
        actual = _price_text(site.price_eur_m2)
        if verdict == Verdict.PASS:
            return actual, _("%(actual)s, within the budget of %(budget)s.") % {
                "actual": actual,
                "budget": _price_text(budget),
            }
        more = _("%(actual)s of at most %(budget)s wanted (%(percent)s more).")
        fraction = float(site.price_eur_m2 - budget) / float(budget) if budget else 1.0
        return actual, more % {
            "actual": actual,
            "budget": _price_text(budget),
            "percent": _percent(fraction),
        }
    if criterion == Criterion.AVAILABILITY:
        assert inquiry.available_by is not None  # noqa: S101 - stated only with a date
        wanted_date = date_format(inquiry.available_by, "DATE_FORMAT")
        if site.available_from is None:
            return _("now"), _("Available now.")
        actual = date_format(site.available_from, "DATE_FORMAT")
        if verdict == Verdict.PASS:
            return actual, _("Available from %(actual)s, by the %(wanted)s wanted.") % {
                "actual": actual,
                "wanted": wanted_date,
            }
        assert inquiry.available_by is not None  # noqa: S101 - stated only with a date
        days = (site.available_from - inquiry.available_by).days
        return actual, _("Available from %(actual)s: %(later)s than the %(wanted)s wanted.") % {
            "actual": actual,
            "later": _later_text(days),
            "wanted": wanted_date,
        }
    if criterion == Criterion.LOCATION:
        actual = site.municipality.name
        wanted = _location_wanted(profile)
        if verdict == Verdict.PASS:
            if site.municipality_id in profile.municipality_ids:
                return actual, _("In %(actual)s, one of the municipalities wanted.") % {
                    "actual": actual
                }
            return actual, _("In the area drawn on the map.")
        if verdict == Verdict.NEAR and miss is not None:
            distance = miss * LOCATION_NEAR_M
            return f"{actual}, {km(distance)}", _(
                "In %(actual)s, %(distance)s outside the location wanted (%(wanted)s)."
            ) % {"actual": actual, "distance": km(distance), "wanted": wanted}
        return actual, _(
            "In %(actual)s, more than %(distance)s from the location wanted (%(wanted)s)."
        ) % {"actual": actual, "distance": km(LOCATION_NEAR_M), "wanted": wanted}
    if criterion in DISTANCE_CRITERIA:
        column, max_field = DISTANCE_CRITERIA[criterion]
        distance = getattr(site, column)
        maximum = getattr(inquiry, max_field)
        layer = DISTANCE_FIELDS[column][0].name
        if distance is None:
            return _("no data"), _(
                "No distance known: the layer “%(layer)s” has no data for this site yet."
            ) % {"layer": layer}
        if verdict == Verdict.PASS:
            return km(distance), _("%(distance)s, within the %(maximum)s wanted.") % {
                "distance": km(distance),
                "maximum": km(maximum),
            }
        return km(distance), _("%(distance)s of at most %(maximum)s wanted (%(percent)s more).") % {
            "distance": km(distance),
            "maximum": km(maximum),
            "percent": _percent((distance - maximum) / maximum if maximum else 1.0),
        }
    if criterion == Criterion.RAIL_SIDING:
        if verdict == Verdict.PASS:
            return _("yes"), _("The site has a rail siding.")
        return _("no"), _("The site has no rail siding.")
    if criterion == Criterion.PORT_ACCESS:
        if verdict == Verdict.PASS:
            return _("yes"), _("The site has port access.")
        return _("no"), _("The site has no port access.")
    raise ValueError(f"unknown criterion {criterion!r}")


def _explain_area(verdict: Verdict, site: Site, inquiry: Inquiry) -> tuple[str, str]:
    lo, hi = _area_bounds(inquiry)
    # The criterion compares the net area where stated, else the gross: labelled either way.
    if site.net_area_m2 is not None:
        whole, actual = site.net_area_m2, area_net(site.net_area_m2)
    else:
        whole, actual = site.gross_area_m2, area_gross(site.gross_area_m2)
    wanted = area_range(lo, hi)
    whole_fits = (lo is None or whole >= lo) and (hi is None or whole <= hi)
    if verdict == Verdict.PASS and whole_fits:
        return actual, _("%(actual)s, within the %(wanted)s wanted.") % {
            "actual": actual,
            "wanted": wanted,
        }
    smallest = min(site.min_divisible_m2 or whole, whole)
    largest = min(site.max_divisible_m2 or whole, whole)
    if verdict == Verdict.PASS:  # only a part fits: the site is divisible
        return actual, _(
            "%(actual)s, divisible into parts of %(smallest)s to %(largest)s: "
            "a part of the %(wanted)s wanted can be had."
        ) % {
            "actual": actual,
            "smallest": area_short(smallest),
            "largest": area_short(largest),
            "wanted": wanted,
        }
    if lo is not None and whole < lo:
        return actual, _("%(actual)s of at least %(minimum)s wanted (%(percent)s less).") % {
            "actual": actual,
            "minimum": area_short(lo),
            "percent": _percent((lo - whole) / lo),
        }
    assert hi is not None  # noqa: S101 - not below the minimum, so above the maximum
    if site.is_divisible and smallest < whole:
        return actual, _(
            "%(actual)s; its smallest part of %(smallest)s is more than the %(maximum)s "
            "wanted at most (%(percent)s more)."
        ) % {
            "actual": actual,
            "smallest": area_short(smallest),
            "maximum": area_short(hi),
            "percent": _percent((smallest - hi) / hi),
        }
    return actual, _("%(actual)s of at most %(maximum)s wanted (%(percent)s more).") % {
        "actual": actual,
        "maximum": area_short(hi),
        "percent": _percent((whole - hi) / hi),
    }


def _site_match(row: dict[str, Any], site: Site, profile: _Profile) -> SiteMatch:
    results = []
    for criterion in profile.criteria:
        miss = row[f"r_{criterion}"]
        verdict = verdict_of(miss)
        actual, explanation = _explain(criterion, verdict, miss, site, profile)
        results.append(
            CriterionResult(
                criterion=criterion,
                label=str(Criterion(criterion).label),
                verdict=verdict,
                wanted=_wanted(criterion, profile),
                actual=str(actual),
                explanation=str(explanation),
                hard=criterion in profile.hard,
            )
        )
    return SiteMatch(site=site, score=float(row["score"]), results=results)


# --- narrowing the sites judged (exact: tiers and must-haves) ------------------------------
#
# At 1,000,000 sites judging every published site costs seconds (the heap is read once, every
# criterion evaluated per row, the location's near misses measured for every site around the
# wanted towns). The lists shown hold `limit` sites each, and their order is fixed by the
# rules above, so most sites can be left out without changing a single row:
#
# - Ranked sites fail no must-have: only sites passing the must-have criteria's conditions
#   (`_not_failed`) are candidates, found through indexes; their count is the ranked total
#   and the excluded total is the published sites less it.
# - A site passing every criterion scores 100, the maximum, and its area tie-break is 0: if
#   at least `limit` candidates pass everything (the "perfect" tier), they are the first
#   `limit` ranked sites, by id, and nothing else needs scoring.
# - An excluded site fails a must-have, so it scores at most 100 × (W − w_h) / W for the
#   must-have h it fails (W: the total weight). Sites failing exactly one must-have of the
#   lowest weight and passing everything else score exactly that, and every other excluded
#   site scores strictly less (another criterion missed costs at least a quarter of its
#   weight) or fails more must-haves: that tier comes first in the excluded list, in its
#   order (area tie-break, then id).
# A tier with fewer than `limit` sites (unless it holds the whole list) falls back to judging
# every candidate (ranked) or every published site (excluded), as before. Every condition is
# built from the same miss SQL as the verdicts (`_miss_sql`), so a site's tier agrees with its
# judgement; index-friendly conditions implied by them (`_hints`) only steer the planner.
# tests/proposals/test_matching_tiers.py compares both ways on hand-made sets.

# The most sites failing one must-have that are judged by their ids (a list of ids in the
# query); beyond, judging every site in one pass is as quick.
FAILING_ONE_MAX = 20_000

# Relative slack of the index hints, so that float rounding never makes a hint narrower than
# the exact condition it stands for.
_HINT_SLACK = 1e-6


def _pieces_cte(profile: _Profile) -> tuple[str, list[Any]]:
    """`location_pieces AS MATERIALIZED (...)`: the wanted municipalities and the drawn area,
    unioned and cut into small pieces of at most LOCATION_PIECE_VERTICES vertices."""
    targets: list[str] = []
    params: list[Any] = []
    if profile.municipality_ids:
        targets.append("SELECT geom FROM geodata_municipality WHERE id = ANY(%s)")
        params.append(profile.municipality_ids)
    if profile.drawn_area_ewkb is not None:
        targets.append("SELECT ST_GeomFromEWKB(%s)")
        params.append(profile.drawn_area_ewkb)
    return (
        f"""location_pieces AS MATERIALIZED (
            SELECT ST_Subdivide(ST_Union(geom), {LOCATION_PIECE_VERTICES}) AS geom
            FROM ({" UNION ALL ".join(targets)}) AS targets (geom)
        )""",
        params,
    )


def _passes(criterion: str, profile: _Profile) -> tuple[str, list[Any]]:
    """SQL true exactly when the site's verdict on `criterion` is pass."""
    sql, params = _miss_sql(criterion, profile)
    if criterion == Criterion.LOCATION:
        return f"({sql})", params
    return f"COALESCE(({sql}) <= 0, false)", params


def _not_failed(criterion: str, profile: _Profile) -> tuple[str, list[Any]]:
    """SQL true exactly when the site's verdict on `criterion` is not fail (pass, near or
    unknown). The location's needs the location_pieces CTE."""
    if criterion == Criterion.LOCATION:
        sql, params = _miss_sql(criterion, profile)
        near = (
            "EXISTS (SELECT 1 FROM location_pieces lp"
            f" WHERE ST_DWithin({_T}.geom, lp.geom, {LOCATION_NEAR_M}))"
        )
        return f"(({sql}) OR {near})", params
    sql, params = _miss_sql(criterion, profile)
    return f"COALESCE(({sql}) <= 1, true)", params


def _hints(criterion: str, profile: _Profile, *, passed: bool) -> Q:
    """Conditions on indexed columns that every site passing `criterion` (passed=True) or
    not failing it (passed=False) meets: implied by the exact SQL, never narrower."""
    inquiry = profile.inquiry
    if criterion == Criterion.KIND:
        return Q(kind__in=list(inquiry.kinds))
    if criterion == Criterion.AREA:
        lo, _hi = _area_bounds(inquiry)
        if lo is None:
            return Q()
        # Whole = net if stated, else gross, and net ≤ gross; a part is at most the whole.
        share = 1.0 if passed else 1.0 - AREA_TOLERANCE
        return Q(gross_area_m2__gte=lo * share * (1 - _HINT_SLACK))
    if criterion == Criterion.PLANNING:
        wanted = list(inquiry.planning_categories)
        return Q(planning_category__in=wanted if passed else wanted + _compatible_offered(wanted))
    if criterion == Criterion.RAIL_SIDING:
        return Q(has_rail_siding=True)
    if criterion == Criterion.PORT_ACCESS:
        return Q(has_port_access=True)
    if criterion == Criterion.LOCATION:
        area = inquiry.area_of_interest
        if passed:
            hint = (
                Q(municipality_id__in=profile.municipality_ids) if profile.municipality_ids else Q()
            )
            if area is not None:
                inside = Q(geom__intersects=area)
                hint = (hint | inside) if profile.municipality_ids else inside
            return hint
        if area is not None and not profile.municipality_ids:
            return Q(geom__dwithin=(area, LOCATION_NEAR_M * (1 + _HINT_SLACK)))
        return Q()
    if not passed:
        return Q()
    if criterion == Criterion.BUDGET:
        budget = inquiry.budget_max_eur_m2
        if budget is None or budget <= 0:
            return Q()
        return Q(
            offer_types__contains=[Site.OfferType.SALE],
            price_eur_m2__lte=budget * Decimal(1 + _HINT_SLACK),
        )
    if criterion == Criterion.AVAILABILITY:
        return Q(available_from__isnull=True) | Q(available_from__lte=inquiry.available_by)
    if criterion in DISTANCE_CRITERIA:
        column, max_field = DISTANCE_CRITERIA[criterion]
        maximum = max(float(getattr(inquiry, max_field)), 1.0)
        return Q(**{f"{column}__lte": maximum * (1 + _HINT_SLACK)})
    return Q()


def _where(queryset: Any, conditions: list[tuple[str, list[Any]]]) -> Any:
    for sql, params in conditions:
        queryset = queryset.filter(
            RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 - fixed SQL, bound values
        )
    return queryset


def _location_hard(profile: _Profile) -> bool:
    """The location is stated and a must-have: the candidates' condition needs the pieces."""
    return Criterion.LOCATION in profile.criteria and Criterion.LOCATION in profile.hard


def _candidates(profile: _Profile, sites: Any) -> Any:
    """The sites failing no must-have criterion: exactly the ranked ones."""
    hard = [c for c in profile.criteria if c in profile.hard]
    for criterion in hard:
        sites = sites.filter(_hints(criterion, profile, passed=False))
    return _where(sites, [_not_failed(c, profile) for c in hard])


def _with_pieces(profile: _Profile, queryset: Any, *, needs_pieces: bool) -> tuple[str, list[Any]]:
    sql, params = queryset.query.sql_with_params()
    if not needs_pieces:
        return sql, list(params)
    pieces, pieces_params = _pieces_cte(profile)
    return f"WITH {pieces} {sql}", pieces_params + list(params)


def _ids(profile: _Profile, queryset: Any, *, needs_pieces: bool) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(*_with_pieces(profile, queryset, needs_pieces=needs_pieces))
        return [row[0] for row in cursor.fetchall()]


def _count(profile: _Profile, queryset: Any, *, needs_pieces: bool) -> int:
    sql, params = queryset.order_by().values("id").query.sql_with_params()
    params = list(params)
    pieces = ""
    if needs_pieces:
        pieces_sql, pieces_params = _pieces_cte(profile)
        pieces, params = f"WITH {pieces_sql}", pieces_params + params
    with connection.cursor() as cursor:
        cursor.execute(f"{pieces} SELECT count(*) FROM ({sql}) counted", params)
        return int(cursor.fetchone()[0])


# The near zone around the location, drawn twice with ST_Buffer: arcs become chords (8 per
# quarter circle: at most 5,000 × (1 − cos(π/32)) ≈ 24 m inside the true distance), so a
# buffer of LOCATION_NEAR_M + _ZONE_SLACK_M covers every site within LOCATION_NEAR_M, and one
# of LOCATION_NEAR_M − _ZONE_SLACK_M holds only sites within it. Sites in the band between
# are measured exactly (ST_DWithin against the pieces).
_ZONE_SLACK_M = 100.0


def _ranked_count(profile: _Profile, sites: Any) -> int:
    """How many sites fail no must-have (`_candidates(profile, sites)`, counted). With the
    location a must-have, counted in two parts that indexes find: the sites in a wanted
    municipality or the drawn area, and the other sites within LOCATION_NEAR_M of it, found
    from the pieces of the buffered location (the zone) through the sites' GiST index; a
    site inside the inner buffer (the core) is near without measuring, only those in the
    band between are measured: far fewer distances than testing every site's."""
    if not _location_hard(profile) or not profile.municipality_ids:
        # Without municipalities the location's condition is one ST_DWithin of the drawn
        # area (its hint), which the GiST index answers.
        return _count(profile, _candidates(profile, sites), needs_pieces=_location_hard(profile))
    others = [c for c in profile.criteria if c in profile.hard and c != Criterion.LOCATION]
    for criterion in others:
        sites = sites.filter(_hints(criterion, profile, passed=False))
    sites = _where(sites, [_not_failed(c, profile) for c in others])
    passed_sql, passed_params = _passes(Criterion.LOCATION, profile)
    # Passing the location: in a wanted municipality, or else touching the drawn area (the
    # same two tests as _miss_sql's, as plain filters: index-only where the columns allow).
    inside_parts = []
    if profile.municipality_ids:
        inside_parts.append(sites.filter(municipality_id__in=profile.municipality_ids))
    if profile.inquiry.area_of_interest is not None:
        inside_parts.append(
            sites.exclude(municipality_id__in=profile.municipality_ids).filter(
                geom__intersects=profile.inquiry.area_of_interest
            )
        )
    near = (
        _where(sites, [(f"NOT {passed_sql}", passed_params)])
        .filter(
            RawSQL(  # noqa: S611 - fixed SQL
                f"{_T}.geom && zone.geom AND ST_Intersects({_T}.geom, zone.geom) AND ("
                f"EXISTS (SELECT 1 FROM location_core lc"
                f" WHERE {_T}.geom && lc.geom AND ST_Intersects({_T}.geom, lc.geom))"
                f" OR EXISTS (SELECT 1 FROM location_pieces lp"
                f" WHERE ST_DWithin({_T}.geom, lp.geom, {LOCATION_NEAR_M})))",
                [],
                output_field=BooleanField(),
            )
        )
        .order_by()
        .values("id")
    )
    near_sql, near_params = near.query.sql_with_params()
    pieces_sql, pieces_params = _pieces_cte(profile)
    counted = [part.order_by().values("id").query.sql_with_params() for part in inside_parts]
    inside_sql = " + ".join(f"(SELECT count(*) FROM ({sql}) inside_sites)" for sql, _p in counted)
    inside_params = [param for _sql, part_params in counted for param in part_params]
    whole = "(SELECT ST_Union(geom) FROM location_pieces)"
    sql = f"""
        WITH {pieces_sql},
        location_zone AS MATERIALIZED (
            SELECT ST_Subdivide(ST_Buffer({whole}, {LOCATION_NEAR_M + _ZONE_SLACK_M}),
                {LOCATION_PIECE_VERTICES}) AS geom
        ),
        location_core AS MATERIALIZED (
            SELECT ST_Subdivide(ST_Buffer({whole}, {LOCATION_NEAR_M - _ZONE_SLACK_M}),
                {LOCATION_PIECE_VERTICES}) AS geom
        )
        SELECT {inside_sql}
            + (SELECT count(DISTINCT near_site.id)
               FROM location_zone zone CROSS JOIN LATERAL ({near_sql} OFFSET 0) near_site)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*pieces_params, *inside_params, *near_params])
        return int(cursor.fetchone()[0])


def _published_count() -> int:
    """Site.objects.published().count() without counting a million index entries on every
    matching: the sites with a public status, kept in the cache per sites data version
    (every write to the sites moves it on: a statement trigger), less those hidden for
    staleness now (a range of site_verified_idx: the few not verified for
    SITE_HIDE_AFTER_DAYS)."""
    public = Site.objects.filter(status__in=PUBLIC_STATUSES)
    key = f"matching:public-sites:{DataVersion.current('sites')}"
    total = cache.get(key)
    if total is None:
        total = public.count()
        cache.set(key, total, 24 * 3600)
    # hidden_for_staleness(), as one range of site_verified_idx: never verified
    # counts from when the site was added, as in SiteQuerySet._verified_before.
    verified = Coalesce("last_verified_at", "created_at")
    hidden = public.annotate(verified=verified).filter(verified__lt=hidden_before())
    return int(total) - hidden.count()


def _perfect_ids(profile: _Profile, candidates: Any, limit: int) -> list[int]:
    """Up to `limit` candidates passing every criterion (score 100), by id."""
    sites = candidates
    for criterion in profile.criteria:
        sites = sites.filter(_hints(criterion, profile, passed=True))
    sites = _where(sites, [_passes(c, profile) for c in profile.criteria])
    query = sites.order_by("id").values_list("id", flat=True)[:limit]
    return _ids(profile, query, needs_pieces=_location_hard(profile))


def _top_excluded_ids(profile: _Profile, sites: Any, limit: int) -> list[int]:
    """The first up to `limit` excluded sites of the top tier: failing exactly one must-have
    of the lowest weight and passing every other criterion, in the excluded list's order."""
    hard = [c for c in profile.criteria if c in profile.hard]
    lowest = min(WEIGHTS[c] for c in hard)
    tier = [c for c in hard if WEIGHTS[c] == lowest]
    ids: list[int] = []
    # Failing the area puts a site's area miss (> 1) into the tie-break: after every site of
    # the tier that passes it (tie-break 0), ordered by that miss.
    for group in (
        [c for c in tier if c != Criterion.AREA],
        [c for c in tier if c == Criterion.AREA],
    ):
        found: list[int] = []
        for failed in group:
            others = [c for c in profile.criteria if c != failed]
            narrowed = _failing(sites, profile, failed, others, others_pass=True)
            if failed == Criterion.AREA:
                area_sql, area_params = _miss_sql(Criterion.AREA, profile)
                narrowed = narrowed.annotate(
                    area_miss=RawSQL(area_sql, area_params, output_field=FloatField())  # noqa: S611
                ).order_by("area_miss", "id")
            else:
                narrowed = narrowed.order_by("id")
            query = narrowed.values_list("id", flat=True)[:limit]
            found += _ids(profile, query, needs_pieces=failed == Criterion.LOCATION)
        # Within the first group every tie-break is 0: merged by id. The area group is one query.
        ids += sorted(found)[: limit - len(ids)] if group and group[0] != Criterion.AREA else found
        if len(ids) >= limit:
            break
    return ids[:limit]


def _failing(
    sites: Any, profile: _Profile, failed: str, others: list[str], *, others_pass: bool
) -> Any:
    """The sites failing `failed` and passing the `others` (`others_pass`) or at least not
    failing them, narrowed first by the others' index hints."""
    narrowed = sites
    for criterion in others:
        narrowed = narrowed.filter(_hints(criterion, profile, passed=others_pass))
    not_failed_sql, params = _not_failed(failed, profile)
    rest = [_passes(c, profile) if others_pass else _not_failed(c, profile) for c in others]
    return _where(narrowed, [(f"NOT {not_failed_sql}", params), *rest])


def _failing_one_ids(profile: _Profile, sites: Any, cap: int) -> list[int]:
    """Up to `cap` + 1 ids of the sites failing exactly one must-have criterion: one query
    per must-have (each narrowed by the other must-haves' index hints), merged."""
    hard = [c for c in profile.criteria if c in profile.hard]
    found: set[int] = set()
    for failed in hard:
        others = [c for c in hard if c != failed]
        narrowed = _failing(sites, profile, failed, others, others_pass=False)
        query = narrowed.order_by().values_list("id", flat=True)[: cap + 1 - len(found)]
        found.update(_ids(profile, query, needs_pieces=_location_hard(profile)))
        if len(found) > cap:
            break
    return sorted(found)


def _judged_rows(profile: _Profile, ids: list[int]) -> list[dict[str, Any]]:
    """The full judgement (every miss, the score) of these sites, in list order."""
    if not ids:
        return []
    # A few sites: their location distances measured from them, not from the pieces.
    return _rows(*_scored_sql(profile, Site.objects.filter(pk__in=ids), None, near_from_sites=True))


# A location miss that stands for any near miss in an upper bound of the score (the real
# ones are at least 1e-9: see _judged_cte).
_BOUND_MISS = "1e-12::float8"
# How many sites, in the bound's order, are judged exactly per round before giving up on
# the bound and judging every candidate.
_BOUND_ROUNDS = (4, 16)


def _order_key(row: dict[str, Any]) -> tuple[float, float, int]:
    """A ranked row's place in the list's order (score, then the area miss, then id)."""
    return (-row["score"], row.get("r_area") or 0.0, row["id"])


def _ranked_by_bound(profile: _Profile, candidates: Any, limit: int) -> list[dict[str, Any]]:
    """The first `limit` ranked sites, with the location's near misses measured only where
    they can matter. An upper bound of every candidate's score is computed without any
    distance (a site outside the location gets the best near-miss credit); the candidates
    best by that bound are judged exactly, and once the next site by the bound comes after
    the `limit`-th best exact one found, no site left can enter the list (its exact score is
    at most its bound, equal only inside the location). Without a stated location every
    score is exact already."""
    if Criterion.LOCATION not in profile.criteria or _location_hard(profile):
        return [r for r in _rows(*_scored_sql(profile, candidates, limit)) if not r["excluded"]]
    for factor in _BOUND_ROUNDS:
        fetch = limit * factor
        bounded = [
            row
            for row in _rows(*_scored_sql(profile, candidates, fetch + 1, location_bound=True))
            if not row["excluded"]
        ]
        exact = _judged_rows(profile, [row["id"] for row in bounded[:fetch]])
        exact = [row for row in exact if not row["excluded"]][:limit]
        if len(bounded) <= fetch:  # every candidate was judged exactly
            return exact
        # The next site by the bound comes after the last one listed even if its exact
        # score reaches its bound (only a site inside the location can: then its area and
        # id decide, as in the list's order): none left can enter.
        if len(exact) == limit and _order_key(bounded[fetch]) > _order_key(exact[-1]):
            return exact
    return [r for r in _rows(*_scored_sql(profile, candidates, limit)) if not r["excluded"]]


# --- the API ------------------------------------------------------------------------------


def _match_list(rows: list[dict[str, Any]], profile: _Profile) -> list[SiteMatch]:
    by_id = _sites_by_id([row["id"] for row in rows])
    return [_site_match(row, by_id[row["id"]], profile) for row in rows]


def inquiry_matches(inquiry: Inquiry, *, limit: int = 50) -> MatchResult:
    """Every published site judged against the inquiry: the best `limit` ranked sites and
    the `limit` nearest fits among the excluded ones, with the totals of both lists. The
    same result as judging every site (`_inquiry_matches_judging_all`), through the tiers
    above."""
    profile = _Profile.of(inquiry)
    published = Site.objects.published()
    candidates = _candidates(profile, published)
    considered = _published_count()
    ranked_total = _ranked_count(profile, published)
    excluded_total = considered - ranked_total
    if limit <= 0:
        return MatchResult([], ranked_total, [], excluded_total, considered, profile.criteria)

    ranked_rows: list[dict[str, Any]] = []
    if ranked_total:
        perfect = _perfect_ids(profile, candidates, limit)
        if len(perfect) >= limit or len(perfect) == ranked_total:
            ranked_rows = _judged_rows(profile, perfect)
        else:
            ranked_rows = _ranked_by_bound(profile, candidates, limit)
    excluded_rows: list[dict[str, Any]] = []
    if excluded_total:
        top = _top_excluded_ids(profile, published, limit)
        if len(top) >= limit or len(top) == excluded_total:
            excluded_rows = _judged_rows(profile, top)
        else:
            # Failing one must-have only puts a site before every site failing two or more:
            # with at least `limit` of them, those are all that need judging (up to
            # FAILING_ONE_MAX of them; more are judged in the one pass over every site).
            once = _failing_one_ids(profile, published, FAILING_ONE_MAX)
            judged = Site.objects.filter(pk__in=once)
            if not min(limit, excluded_total) <= len(once) <= FAILING_ONE_MAX:
                judged = published
            scored = _scored_sql(profile, judged, limit, near_from_sites=judged is not published)
            excluded_rows = [row for row in _rows(*scored) if row["excluded"]]
    return MatchResult(
        ranked=_match_list(ranked_rows, profile),
        ranked_total=ranked_total,
        excluded=_match_list(excluded_rows, profile),
        excluded_total=excluded_total,
        considered=considered,
        criteria=profile.criteria,
    )


def _inquiry_matches_judging_all(inquiry: Inquiry, *, limit: int = 50) -> MatchResult:
    """The reference: every published site judged and scored in one query (slow at a million
    sites); inquiry_matches must return the same. Kept for the tests and the benchmark."""
    profile = _Profile.of(inquiry)
    sites = Site.objects.published()
    if limit <= 0:
        ranked_total, excluded_total = _counts(profile, sites)
        return MatchResult([], ranked_total, [], excluded_total, ranked_total + excluded_total)
    rows = _rows(*_scored_sql(profile, sites, limit))
    by_id = _sites_by_id([row["id"] for row in rows])
    ranked: list[SiteMatch] = []
    excluded: list[SiteMatch] = []
    totals = {False: 0, True: 0}
    for row in rows:
        totals[row["excluded"]] = int(row["total"])
        (excluded if row["excluded"] else ranked).append(
            _site_match(row, by_id[row["id"]], profile)
        )
    return MatchResult(
        ranked=ranked,
        ranked_total=totals[False],
        excluded=excluded,
        excluded_total=totals[True],
        considered=totals[False] + totals[True],
        criteria=profile.criteria,
    )


def site_match(inquiry: Inquiry, site: Site) -> SiteMatch:
    """One site judged against the inquiry (any site, published or not) by the same SQL."""
    profile = _Profile.of(inquiry)
    rows = _rows(*_scored_sql(profile, Site.objects.filter(pk=site.pk), None, near_from_sites=True))
    if not rows:
        raise Site.DoesNotExist(f"site {site.pk} does not exist")
    fresh = _sites_by_id([site.pk])[site.pk]
    return _site_match(rows[0], fresh, profile)


def inquiry_match_counts(inquiry: Inquiry) -> tuple[int, int]:
    """(ranked, excluded): how many published sites meet every must-have, how many fail one."""
    result = inquiry_matches(inquiry, limit=0)
    return result.ranked_total, result.excluded_total
