"""Benchmarks of the map's hot paths, run against the database the settings point at.

Prints p50 / p95 per case and writes benchmarks/results/latest.{json,md}. Timings are taken
around full Django requests (test client: URL routing, middleware, view, SQL), so they are
what a visitor's browser waits for minus the network.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

RESULTS_DIR = Path(settings.BASE_DIR) / "benchmarks" / "results"
WORLD_HALF = 20037508.342789244


@dataclass
class Case:
    name: str
    samples: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    note: str = ""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(name: str, action: Callable[[], object], *, repeat: int, note: str = "") -> Case:
    action()  # warm-up: connection, imports, plan cache
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return Case(
        name=name,
        samples=repeat,
        p50_ms=round(statistics.median(timings), 2),
        p95_ms=round(percentile(timings, 0.95), 2),
        max_ms=round(max(timings), 2),
        note=note,
    )


def densest_tiles(z: int, limit: int) -> list[tuple[int, int, int]]:
    """The tiles at zoom z holding the most public sites: the worst cases to serve."""
    size = 2 * WORLD_HALF / 2**z
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT floor((ST_X(location_web) + %(half)s) / %(size)s)::int AS x,
                   floor((%(half)s - ST_Y(location_web)) / %(size)s)::int AS y, count(*)
            FROM properties_site WHERE status IN ('published', 'reserved')
            GROUP BY 1, 2 ORDER BY 3 DESC LIMIT %(limit)s
            """,
            {"half": WORLD_HALF, "size": size, "limit": limit},
        )
        return [(z, x, y) for x, y, _ in cursor.fetchall()]


def bare_mvt_sql(z: int, x: int, y: int) -> None:
    """The lower bound: naive ST_AsMVT straight over the table, no Django, no cache."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH b AS (SELECT ST_TileEnvelope(%s, %s, %s) AS env)
            SELECT ST_AsMVT(t, 'sites', 4096, 'geom') FROM (
                SELECT s.id, ST_AsMVTGeom(ST_Transform(s.geom, 3857), b.env, 4096, 64, true) AS geom
                FROM properties_site s, b
                WHERE s.geom && ST_Transform(b.env, 25832) AND s.status IN ('published', 'reserved')
            ) t
            """,
            [z, x, y],
        )
        cursor.fetchone()


def run(*, repeat: int, zooms: tuple[int, ...] = (10, 12, 14, 16)) -> dict:
    client = Client(HTTP_HOST="localhost")
    cases: list[Case] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('published', 'reserved')) FROM properties_site"
        )
        total, public = cursor.fetchone()

    for z in zooms:
        tiles = densest_tiles(z, 5)
        if not tiles:
            continue
        cycle: Iterator[tuple[int, int, int]] = iter([])

        def next_tile(tiles=tiles):
            nonlocal cycle
            try:
                return next(cycle)
            except StopIteration:
                cycle = iter(tiles)
                return next(cycle)

        def uncached():
            cache.clear()
            z_, x_, y_ = next_tile()
            response = client.get(f"/tiles/sites/{z_}/{x_}/{y_}.pbf")
            assert response.status_code in (200, 204), response.status_code

        def cached():
            z_, x_, y_ = next_tile()
            client.get(f"/tiles/sites/{z_}/{x_}/{y_}.pbf")

        def bare():
            bare_mvt_sql(*next_tile())

        note = f"5 densest tiles, e.g. {tiles[0]}"
        cases.append(measure(f"sites tile z{z} bare ST_AsMVT SQL", bare, repeat=repeat, note=note))
        cases.append(measure(f"sites tile z{z} uncached", uncached, repeat=repeat, note=note))
        for _ in tiles:  # every sample tile in the cache before timing cache hits
            cached()
        cases.append(measure(f"sites tile z{z} cached", cached, repeat=repeat, note=note))

    cases.append(
        measure(
            "API sites list, first page (50) + count",
            lambda: client.get("/api/v1/sites/", {"bbox": "6.9,51.4,7.2,51.55"}),
            repeat=repeat,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM properties_site WHERE status = 'published' ORDER BY id LIMIT 1"
        )
        row = cursor.fetchone()
    if row:
        site_id = row[0]
        cases.append(
            measure(
                "site detail page (HTML)", lambda: client.get(f"/sites/{site_id}/"), repeat=repeat
            )
        )
        cases.append(
            measure(
                "site detail (API)", lambda: client.get(f"/api/v1/sites/{site_id}/"), repeat=repeat
            )
        )

    return {
        "sites_total": total,
        "sites_public": public,
        "machine": f"{platform.machine()}, {platform.system()} {platform.release()}",
        "cpu_count": __import__("os").cpu_count(),
        "postgis": _postgis_version(),
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "repeat": repeat,
        "cases": [asdict(case) for case in cases],
    }


def _postgis_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        return cursor.fetchone()[0]


def as_markdown(results: dict) -> str:
    lines = [
        f"Measured {results['measured_at']} on {results['cpu_count']} cores, PostGIS {results['postgis']}, "
        f"{results['sites_public']:,} public sites of {results['sites_total']:,}; "
        f"{results['repeat']} requests per case.",
        "",
        "| case | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {c['name']} | {c['p50_ms']} | {c['p95_ms']} | {c['max_ms']} |" for c in results["cases"]
    ]
    return "\n".join(lines) + "\n"


def write(results: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "latest.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    (RESULTS_DIR / "latest.md").write_text(as_markdown(results), encoding="utf-8")
    return path
