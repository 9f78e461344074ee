"""A bounded load test of the production server: `make loadtest` (or
`.venv/bin/python -m benchmarks.loadtest [--restart-db] [--users 20] [--seconds 60]`).

Starts `manage.py serve` (gunicorn, worker, scheduler) on a free loopback port against the
private cluster with the Ruhr reference data and the demo sites, then runs locust headless
(benchmarks/locustfile.py: tiles z10–z16, filtered API searches, detail pages, the map
page) with 20 users for 60 s after a 10 s warm-up. `--restart-db` stops the database 20 s
into the run for 10 s (scripts/pg.sh stop / start) and measures how long after its return
the API answers again. Prints and writes requests/s, p50/p95 and errors by status to
benchmarks/results/loadtest.md (or loadtest-restart.md), with the machine's load average.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
LOCUST = REPO / ".venv" / "bin" / "locust"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def build_urls(seed: int = 42) -> dict[str, Any]:
    """URLs drawn from the database's published sites (Django set up on the way)."""
    if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".test") or not os.environ.get(
        "DJANGO_SETTINGS_MODULE"
    ):
        os.environ["DJANGO_SETTINGS_MODULE"] = "sitefinder.settings.local"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.gis.db.models.functions import Transform
    from django.urls import reverse
    from django.utils import translation

    from geodata.models import Municipality
    from properties.models import Site

    rng = random.Random(seed)
    sites = list(
        Site.objects.published()
        .annotate(lonlat=Transform("location", 4326))
        .values_list("pk", "lonlat")
    )
    if not sites:
        raise SystemExit("no published sites: run scripts/run.sh once (demo sites) first")
    sample = rng.sample(sites, min(300, len(sites)))
    tiles = []
    for z in range(10, 17):
        seen = sorted({tile_of(p.x, p.y, z) for _pk, p in sample})
        for x, y in rng.sample(seen, min(60, len(seen))):
            tiles.append((z, f"/tiles/sites/{z}/{x}/{y}.pbf"))
            if z <= 12:
                tiles.append((z, f"/tiles/boundaries/{z}/{x}/{y}.pbf"))
    municipalities = list(Municipality.objects.values_list("ags", flat=True))
    searches = []
    for _ in range(60):
        query = [f"kind={rng.choice(['plot', 'office', 'hall', 'logistics', 'mixed'])}"]
        query.append(f"area_min={rng.choice([500, 1000, 5000, 10000])}")
        if rng.random() < 0.5:
            query.append(f"planning_category={rng.choice(['GI', 'GE', 'MI'])}")
        if rng.random() < 0.5:
            query.append(f"municipality={rng.choice(municipalities)}")
        if rng.random() < 0.3:
            query.append(f"price_max={rng.choice([50, 100, 200])}")
        if rng.random() < 0.3:
            query.append("sort=-area")
        query.append("page_size=20")
        searches.append("/api/v1/sites/?" + "&".join(query))
    # Pages under the default language's prefix, as a shared link gives them (an unprefixed
    # page URL is a redirect first).
    with translation.override(settings.LANGUAGE_CODE):
        details = [reverse("site_detail", args=[pk]) for pk, _p in sample[:200]]
        home = reverse("map")
    api_details = [f"/api/v1/sites/{pk}/" for pk, _p in sample[:200]]
    maps = [home + query for query in ("", "?kind=plot", "?kind=hall&area_min=5000")]
    maps.append(home + "?planning_category=GI")
    return {
        "tiles": tiles,
        "searches": searches,
        "details": details,
        "api_details": api_details,
        "maps": maps,
        "sites": len(sites),
    }


def fetch_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int, *, with_children: bool) -> float:
    """utime + stime of a process (and of its reaped children), from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def service_cpu_seconds(supervisor_pid: int) -> float:
    """CPU used so far by the whole service: the supervisor's programs (gunicorn master and
    workers, task worker, scheduler) and the PostgreSQL server with its backends."""
    total = 0.0
    for program in _children(supervisor_pid):
        total += _cpu_seconds(program, with_children=True)
        total += sum(_cpu_seconds(c, with_children=False) for c in _children(program))
    postmaster = _postmaster_pid()
    if postmaster:
        total += _cpu_seconds(postmaster, with_children=True)
        total += sum(_cpu_seconds(c, with_children=False) for c in _children(postmaster))
    return total


def _postmaster_pid() -> int | None:
    """The local PostgreSQL server's main process: the parent of our own backend."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        connection.close()
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (DatabaseError, OSError, ValueError, IndexError):
        return None  # a database on another machine: its CPU is not counted


def _children_cpu_seconds() -> float:
    """CPU of this process's finished children (locust runs as one)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_locust(host: str, urls_file: Path, users: int, seconds: int, prefix: Path) -> None:
    subprocess.run(
        [str(LOCUST), "-f", str(REPO / "benchmarks" / "locustfile.py"), "--headless",
         "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "-H", host,
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "LOADTEST_URLS": str(urls_file)},
        check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def read_stats(prefix: Path) -> tuple[list[dict], dict[str, int]]:
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    errors: dict[str, int] = {}
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open() as f:
            for row in csv.DictReader(f):
                errors[row["Error"]] = errors.get(row["Error"], 0) + int(row["Occurrences"])
    return rows, errors


def restart_database(log: list[str], marks: dict[str, float], after: float, down: float) -> None:
    time.sleep(after)
    marks["stop"] = time.monotonic()
    subprocess.run([str(REPO / "scripts" / "pg.sh"), "stop"], check=True, capture_output=True)
    marks["stopped"] = time.monotonic()
    time.sleep(down)
    marks["start"] = time.monotonic()
    subprocess.run([str(REPO / "scripts" / "pg.sh"), "start"], check=True, capture_output=True)
    marks["started"] = time.monotonic()
    log.append(
        f"database stopped at {marks['stop'] - marks['t0']:.1f} s, started again at "
        f"{marks['started'] - marks['t0']:.1f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--restart-db", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.restart_db and os.environ.get("DATABASE_URL"):
        raise SystemExit("--restart-db restarts the private cluster; unset DATABASE_URL")

    if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".test"):
        os.environ["DJANGO_SETTINGS_MODULE"] = "sitefinder.settings.local"
    prepare = [str(PYTHON), "manage.py", "prepare", "--no-static"]
    if not os.environ.get("DATABASE_URL"):
        prepare.append("--demo")  # the private cluster: demo sites if it has none
    subprocess.run(prepare, cwd=REPO, check=True)
    urls = build_urls()
    work = Path(tempfile.mkdtemp(prefix="sitefinder-loadtest-"))
    urls_file = work / "urls.json"
    urls_file.write_text(json.dumps(urls))
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    # Each locust user sends its own X-Forwarded-For (benchmarks/locustfile.py), so the
    # per-client API throttle sees 20 clients, not one.
    # Its users send without pauses: at ~1,000 requests/s each of the 20 sends ~7 API
    # searches a second, far above a person and above the anonymous API throttle (300 a
    # minute per client), which then answers 429. The throttle is still counted on every
    # request but not tripped here; tests/security checks that it trips.
    env = {
        **os.environ,
        "SITEFINDER_DEBUG": "0",
        "SITEFINDER_TRUSTED_PROXIES": "1",
        "SITEFINDER_API_ANONYMOUS_RATE": "1000000/minute",
    }
    serve = [str(PYTHON), "manage.py", "serve", "--bind", f"127.0.0.1:{port}"]
    if args.workers:
        serve += ["--workers", str(args.workers)]
    server_log = (work / "serve.log").open("wb")
    server = subprocess.Popen(serve, cwd=REPO, env=env, stdout=server_log, stderr=server_log)
    notes: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while fetch_status(host + "/healthz") != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the server did not start; see {work / 'serve.log'}")
            time.sleep(0.5)
        workers = args.workers or 2 * (os.cpu_count() or 1) + 1
        print(f"server up on {host} ({workers} gunicorn workers); warming up 10 s", flush=True)
        run_locust(host, urls_file, args.users, 10, work / "warmup")
        load_before = os.getloadavg()
        cpu_before = service_cpu_seconds(server.pid)
        marks: dict[str, float] = {"t0": time.monotonic()}
        probe: list[tuple[float, int]] = []
        restarter = None
        if args.restart_db:
            restarter = threading.Thread(
                target=restart_database, args=(notes, marks, 20.0, 10.0), daemon=True
            )
            restarter.start()

            def watch() -> None:
                end = marks["t0"] + args.seconds
                while time.monotonic() < end:
                    status = fetch_status(host + "/api/v1/sites/?page_size=1")
                    probe.append((time.monotonic(), status))
                    time.sleep(0.1)

            threading.Thread(target=watch, daemon=True).start()
        print(f"running {args.users} users for {args.seconds} s", flush=True)
        clients_before = _children_cpu_seconds()
        run_locust(host, urls_file, args.users, args.seconds, work / "run")
        client_cpu = _children_cpu_seconds() - clients_before
        load_after = os.getloadavg()
        cpu_used = service_cpu_seconds(server.pid) - cpu_before
        if restarter is not None:
            restarter.join()
            back = [t for t, s in probe if t >= marks["start"] and s == 200]
            if back:
                notes.append(
                    f"the API answered 200 again {back[0] - marks['start']:.1f} s after the "
                    f"database was started (`pg.sh start` took "
                    f"{marks['started'] - marks['start']:.1f} s), "
                    f"{back[0] - marks['stop']:.1f} s after it was stopped"
                )
            else:
                notes.append("the API did NOT answer 200 again before the run ended")
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()

    rows, errors = read_stats(work / "run")
    total = next(r for r in rows if r["Name"] == "Aggregated")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {os.cpu_count()} cores; "
        f"{urls['sites']} published sites (demo) with the Ruhr reference data; "
        f"{args.users} users, {args.seconds} s, no pause between requests; gunicorn "
        f"{workers} sync workers; load average before/after: "
        f"{load_before[0]:.2f} / {load_after[0]:.2f}"
        + (" (the database restarted in the middle)" if args.restart_db else ""),
        "",
        "| requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        lines.append(
            f"| {row['Name']} | {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | "
            f"{row['99%']} | {float(row['Max Response Time']):.0f} | {row['Failure Count']} "
            f"of {row['Request Count']} |"
        )
    lines.append("")
    lines.append(
        "Errors by kind: "
        + (", ".join(f"{k} × {v}" for k, v in sorted(errors.items())) if errors else "none")
    )
    requests = int(total["Request Count"])
    if requests and cpu_used > 0 and not args.restart_db:  # a restart replaces the server
        cores = os.cpu_count() or 1
        lines.append(
            f"CPU used by the service (gunicorn, worker, scheduler, PostgreSQL): {cpu_used:.1f} s "
            f"for {requests} requests = {cpu_used / requests * 1000:.2f} ms per request; on "
            f"{cores} cores of its own that is a capacity of about "
            f"{requests / cpu_used * cores:.0f} requests/s (the measured rate above shares the "
            "cores with locust and whatever else runs)"
        )
    if requests and client_cpu > 0:
        lines.append(
            f"CPU used by locust (the load generator, FastHttpUser, one process): "
            f"{client_cpu:.1f} s = {client_cpu / requests * 1000:.2f} ms per request; it can "
            f"send at most about {requests / client_cpu:.0f} requests/s on its one core, so the "
            "measured rate is "
            + (
                "bounded by the load generator as much as by the server"
                if requests / args.seconds > 0.7 * requests / client_cpu
                else "not bounded by the load generator"
            )
        )
    lines += notes
    text = "\n".join(lines) + "\n"
    print(text)
    out = args.out or REPO / "benchmarks" / "results" / (
        "loadtest-restart.md" if args.restart_db else "loadtest.md"
    )
    out.write_text(text)
    print(f"written to {out}; raw locust CSVs and the server log in {work}")
    return 0 if float(total["Failure Count"]) == 0 or args.restart_db else 1


if __name__ == "__main__":
    sys.exit(main())
