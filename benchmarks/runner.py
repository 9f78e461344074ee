"""Benchmarks of the map's hot paths, run against the database the settings point at.

Prints p50 / p95 per case and writes benchmarks/results/latest.{json,md}. Timings are taken
around full Django requests (test client: URL routing, middleware, view, SQL), so they are
what a visitor's browser waits for minus the network.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

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
    load_average: float = 0.0  # the machine's 1-minute load average when the case ended


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
        load_average=round(os.getloadavg()[0], 1),
    )


# Six filters an investor might combine; every one narrows the set through an index or a
# stored column.
SIX_FILTERS = {
    "kind": "plot",
    "area_min": "5000",
    "price_max": "150",
    "planning_category": ["GE", "GI"],
    "max_distance_station_m": "5000",
    "available_now": "true",
}


def _get_ok(client, url: str, params: dict):
    return _ok(client.get(url, params))


def _page(name: str, *args: Any) -> str:
    """A page's URL under the default language's prefix (an unprefixed one redirects)."""
    with translation.override(settings.LANGUAGE_CODE):
        return reverse(name, args=args)


def _ok(response):
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return response


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


ZOOMS = (8, 10, 12, 14, 16)


def run(*, repeat: int, zooms: tuple[int, ...] = ZOOMS) -> dict:
    from properties.clusters import site_clusters_rebuild

    client = Client(HTTP_HOST="localhost")
    cases: list[Case] = []
    # The low-zoom aggregates, as the background rebuild after a write makes them.
    cases.append(
        measure(
            "low-zoom aggregates: full rebuild (background, after a write)",
            lambda: site_clusters_rebuild(force=True),
            repeat=max(3, repeat // 10),
        )
    )
    for z in zooms:
        tiles = densest_tiles(z, 5)
        if not tiles:
            continue
        rotation = itertools.cycle(tiles)

        def next_tile(rotation=rotation):
            return next(rotation)

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
        # Below the point zoom the naive SQL ships every site under the tile (seconds at a
        # million sites): a few samples show the bound.
        bare_repeat = repeat if z >= settings.SITE_TILE_POINT_MIN_ZOOM else min(repeat, 3)
        cases.append(
            measure(f"sites tile z{z} bare ST_AsMVT SQL", bare, repeat=bare_repeat, note=note)
        )
        cases.append(measure(f"sites tile z{z} uncached", uncached, repeat=repeat, note=note))
        for _ in tiles:  # every sample tile in the cache before timing cache hits
            cached()
        cases.append(measure(f"sites tile z{z} cached", cached, repeat=repeat, note=note))

    cases += search_cases(client, repeat=repeat)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM properties_site WHERE status IN ('published', 'reserved') ORDER BY id LIMIT 1000"
        )
        thousand = ",".join(str(row[0]) for row in cursor.fetchall())
    few = max(5, repeat // 5)
    for extension in ("csv", "geojson", "xlsx"):
        url = f"/api/v1/sites/export.{extension}"
        cases.append(
            measure(
                f"export of 1,000 sites ({extension.upper()})",
                functools.partial(_get_ok, client, url, {"ids": thousand}),
                repeat=few,
            )
        )
    cases += detail_cases(client, repeat=repeat, pdf_repeat=few)
    return _results(cases, repeat=repeat)


def _results(cases: list[Case], *, repeat: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('published', 'reserved')) FROM properties_site"
        )
        total, public = cursor.fetchone()
    return {
        "sites_total": total,
        "sites_public": public,
        "machine": f"{platform.machine()}, {platform.system()} {platform.release()}",
        "cpu_count": __import__("os").cpu_count(),
        "postgis": _postgis_version(),
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": _commit(),
        "repeat": repeat,
        "cases": [asdict(case) for case in cases],
    }


def _search_mixes(count: int = 24, seed: int = 12) -> list[dict[str, str]]:
    """The filter mixes of the load test (benchmarks/loadtest.py), drawn with a fixed seed:
    a kind and a minimum area, half with a planning category, half in one municipality, a
    third with a price cap, a third sorted by area (largest first); 20 per page."""
    from geodata.models import Municipality

    rng = random.Random(seed)  # noqa: S311 - benchmark parameters, not security
    municipalities = list(Municipality.objects.order_by("ags").values_list("ags", flat=True))
    mixes = []
    for _ in range(count):
        query = {
            "kind": rng.choice(["plot", "office", "hall", "logistics", "mixed"]),
            "area_min": str(rng.choice([500, 1000, 5000, 10000])),
        }
        if rng.random() < 0.5:
            query["planning_category"] = rng.choice(["GI", "GE", "MI"])
        if rng.random() < 0.5 and municipalities:
            query["municipality"] = rng.choice(municipalities)
        if rng.random() < 0.3:
            query["price_max"] = str(rng.choice([50, 100, 200]))
        if rng.random() < 0.3:
            query["sort"] = "-area"
        mixes.append(query)
    return mixes


def search_cases(client: Client, *, repeat: int) -> list[Case]:
    """The search: the API's first page with its count (bbox; six filters; the load test's
    filter mixes, each request the next mix) and the HTML search page for the same."""
    cases = [
        measure(
            "API sites list, first page (50) + count",
            lambda: _ok(client.get("/api/v1/sites/", {"bbox": "6.9,51.4,7.2,51.55"})),
            repeat=repeat,
            note="bbox 6.9,51.4,7.2,51.55 (Essen and around)",
        ),
        measure(
            "search with six filters: first page + count (API)",
            lambda: _ok(client.get("/api/v1/sites/", SIX_FILTERS)),
            repeat=repeat,
            note="; ".join(f"{k}={v}" for k, v in SIX_FILTERS.items()),
        ),
        measure(
            "search page with six filters (HTML, first page)",
            lambda: _ok(client.get(_page("map"), SIX_FILTERS)),
            repeat=repeat,
        ),
    ]
    mixes = _search_mixes()
    api = itertools.cycle(mixes)
    page = itertools.cycle(mixes)
    samples = max(repeat, len(mixes))
    cases.append(
        measure(
            "search, load-test filter mixes: first page (20) + count (API)",
            lambda: _ok(client.get("/api/v1/sites/", next(api) | {"page_size": "20"})),
            repeat=samples,
            note=f"{len(mixes)} mixes in turn (kind, area, planning, municipality, price, sort)",
        )
    )
    cases.append(
        measure(
            "search page, load-test filter mixes (HTML, first page)",
            lambda: _ok(client.get(_page("map"), next(page))),
            repeat=samples,
        )
    )
    return cases


def detail_cases(client: Client, *, repeat: int, pdf_repeat: int) -> list[Case]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM properties_site WHERE status = 'published' ORDER BY id LIMIT 1"
        )
        row = cursor.fetchone()
    if not row:
        return []
    site_id = row[0]
    cases = [
        measure(
            "site detail page (HTML)",
            lambda: _ok(client.get(_page("site_detail", site_id))),
            repeat=repeat,
        ),
        measure(
            "site detail (API)",
            lambda: _ok(client.get(f"/api/v1/sites/{site_id}/")),
            repeat=repeat,
        ),
    ]
    if pdf_repeat:
        cases.append(
            measure(
                "exposé PDF (rendered on the server)",
                lambda: _ok(client.get(_page("site_expose", site_id))),
                repeat=pdf_repeat,
            )
        )
    return cases


def run_search(*, repeat: int) -> dict:
    """Only the search and the detail page (no tiles, exports or PDF): `--only search`."""
    client = Client(HTTP_HOST="localhost")
    cases = search_cases(client, repeat=repeat) + detail_cases(client, repeat=repeat, pdf_repeat=0)
    return _results(cases, repeat=repeat)


def summarise(name: str, timings: list[float], note: str = "") -> Case:
    return Case(
        name=name,
        samples=len(timings),
        p50_ms=round(statistics.median(timings), 2),
        p95_ms=round(percentile(timings, 0.95), 2),
        max_ms=round(max(timings), 2),
        note=note,
    )


def run_http(
    *,
    repeat: int,
    paints: int,
    zooms: tuple[int, ...] = ZOOMS,
    peer: bool = True,
    throughput_seconds: float = 10,
) -> list[Case]:
    """Over real HTTP on loopback: our uncached tiles (tile cache off), the production
    server's throughput under 20 clients, the same tiles from TiPg serving the same table
    (the peer), and the map's first paint in Chromium."""
    from . import browser, servers, throughput

    cases: list[Case] = []
    samples = {z: densest_tiles(z, 5) for z in zooms}
    if throughput_seconds:
        cases += throughput.run_throughput(samples, seconds=throughput_seconds)
    with servers.django_server(tile_cache=False) as port:
        client = servers.HttpClient(port)
        for z, tiles in samples.items():
            paths = [f"/tiles/sites/{tz}/{tx}/{ty}.pbf" for tz, tx, ty in tiles]
            cases.append(_http_case(f"HTTP sites tile z{z} uncached (ours)", client, paths, repeat))
        timings = browser.first_paint(port, repeat=paints)
        cases.append(
            summarise(
                "map first paint: first contentful paint", timings["fcp"], "Chromium, cold cache"
            )
        )
        cases.append(
            summarise(
                "map first paint: sites drawn",
                timings["sites"],
                "Chromium, cold cache, tiles uncached",
            )
        )
    if not peer:
        return cases
    problem = servers.tipg_available()
    if problem:
        cases.append(Case("TiPg peer", 0, 0, 0, 0, note=problem))
        return cases
    with servers.tipg_server() as port:
        client = servers.HttpClient(port)
        for z, tiles in samples.items():
            # The same geometry columns our tiles read: points below z13, footprints above.
            column = "geom_web" if z >= settings.SITE_TILE_POLYGON_MIN_ZOOM else "location_web"
            paths = [
                f"/collections/public.properties_site/tiles/WebMercatorQuad/{tz}/{tx}/{ty}?geom-column={column}"
                for tz, tx, ty in tiles
            ]
            cases.append(_http_case(f"HTTP sites tile z{z} TiPg (peer)", client, paths, repeat))
    return cases


def _http_case(name: str, client, paths: list[str], repeat: int) -> Case:
    rotation = itertools.cycle(paths)

    def fetch():
        status, _ = client.get(next(rotation))
        assert status in (200, 204), (name, status)

    return measure(name, fetch, repeat=repeat, note=f"{len(paths)} densest tiles")


def ratios(results: dict) -> list[str]:
    """Ours against the bare SQL (in process) and against TiPg (both over HTTP)."""
    by_name = {case["name"]: case for case in results["cases"]}
    lines = []
    for z in ZOOMS:
        ours = by_name.get(f"sites tile z{z} uncached")
        bare = by_name.get(f"sites tile z{z} bare ST_AsMVT SQL")
        if ours and bare and bare["p95_ms"]:
            lines.append(f"z{z}: ours / bare SQL p95 = {ours['p95_ms'] / bare['p95_ms']:.2f}")
        http_ours = by_name.get(f"HTTP sites tile z{z} uncached (ours)")
        tipg = by_name.get(f"HTTP sites tile z{z} TiPg (peer)")
        if http_ours and tipg and http_ours["p50_ms"]:
            lines.append(
                f"z{z}: TiPg / ours p50 over HTTP = {tipg['p50_ms'] / http_ours['p50_ms']:.2f}"
            )
    return lines


def _commit() -> str:
    import subprocess

    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or "unknown"


def _postgis_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        return cursor.fetchone()[0]


def as_markdown(results: dict) -> str:
    lines = [
        f"Measured {results['measured_at']} at commit {results.get('commit', '?')} on "
        f"{results['cpu_count']} cores, PostGIS {results['postgis']}, "
        f"{results['sites_public']:,} public sites of {results['sites_total']:,}; "
        f"{results['repeat']} requests per case.",
        "",
        "| case | p50 ms | p95 ms | max ms | load average | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {c['name']} | {c['p50_ms']} | {c['p95_ms']} | {c['max_ms']} "
        f"| {c.get('load_average', '')} | {c['note'] if not c['note'].startswith('5 densest') else ''} |"
        for c in results["cases"]
    ]
    generation = results.get("generation")
    if generation:
        lines += [
            "",
            f"Demo generator: {generation['sites']:,} sites in {generation['seconds']} s "
            f"(database server CPU {generation['database_cpu_seconds']} s; load average "
            f"{generation['load_average']} when it ended).",
        ]
    ratio_lines = ratios(results)
    if ratio_lines:
        lines += ["", "Ratios: " + "; ".join(ratio_lines) + "."]
    return "\n".join(lines) + "\n"


def write(results: dict, name: str = "latest") -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    (RESULTS_DIR / f"{name}.md").write_text(as_markdown(results), encoding="utf-8")
    return path


@contextlib.contextmanager
def timed_with_database_cpu() -> Iterator[dict]:
    """Wall time of the block, and the CPU time the database server process of this
    connection spent in it (from /proc, when the server runs on this machine; None
    otherwise): on a machine shared with other work, the CPU time is what the work costs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    result: dict = {}
    cpu_before = _process_cpu_seconds(backend)
    started = time.perf_counter()
    yield result
    cpu_after = _process_cpu_seconds(backend)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["database_cpu_seconds"] = (
        round(cpu_after - cpu_before, 1)
        if cpu_before is not None and cpu_after is not None
        else None
    )
    result["load_average"] = round(os.getloadavg()[0], 1)


def _process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are the 14th and 15th fields (the 12th and 13th after the name).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
