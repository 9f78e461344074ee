"""Concurrent throughput of the production server: gunicorn (sitefinder/gunicorn_conf.py) with
the shared Redis cache, 20 clients with keep-alive connections for a fixed time, cached and
uncached tiles. The clients run in 4 processes (5 threads each) so Python's GIL does not cap
the load they can send; they share the machine's cores with the server, as a load
balancer's health checks and a second app server would not, so the figures are a floor.
The clients say they came through the TLS-terminating proxy (X-Forwarded-Proto: https), as
every request does in production (SECURE_SSL_REDIRECT).

`.venv/bin/python -m benchmarks.throughput [--clients 20] [--seconds 20]` measures the cached
tiles of the load test (benchmarks/loadtest.py's URLs) on its own and writes
benchmarks/results/throughput-tiles.md: requests/s, p50/p95, errors, the load average, and
the CPU the server (gunicorn master and workers) and the clients used per request.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from .runner import Case, percentile
from .servers import free_port, wait_for

CLIENT_PROCESSES = 4
HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}


@contextlib.contextmanager
def production_server(*, tile_cache: bool, workers: int | None = None) -> Iterator[int]:
    """gunicorn as `manage.py serve` runs it, production settings, on a free port."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYENV_VERSION", "PYENV_DIR")},
        "DJANGO_SETTINGS_MODULE": "sitefinder.settings.production",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-key"),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "SITEFINDER_BIND": f"127.0.0.1:{port}",
        "SITEFINDER_TILE_CACHE_SECONDS": "3600" if tile_cache else "0",
    }
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-c", "python:sitefinder.gunicorn_conf", "sitefinder.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, "/healthz", seconds=120)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client_process(port: int, paths: list[str], threads: int, seconds: float, queue) -> None:
    import http.client

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        index = offset
        while time.monotonic() < deadline:
            path = paths[index % len(paths)]
            index += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=HEADERS)
                response = connection.getresponse()
                response.read()
                if response.status not in (200, 204):
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    workers = [threading.Thread(target=run, args=(i * 7,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((latencies, errors[0]))


def load(
    port: int, paths: list[str], *, clients: int = 20, seconds: float = 10
) -> tuple[float, list[float], int]:
    """Requests per second, the latencies (ms) and the errors of `clients` concurrent
    clients cycling through `paths` for `seconds`."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    per_process = [
        clients // CLIENT_PROCESSES + (i < clients % CLIENT_PROCESSES)
        for i in range(CLIENT_PROCESSES)
    ]
    processes = [
        context.Process(
            target=_client_process,
            args=(port, paths[i::CLIENT_PROCESSES] or paths, n, seconds, queue),
        )
        for i, n in enumerate(per_process)
        if n
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    latencies: list[float] = []
    errors = 0
    for _ in processes:
        got, failed = queue.get()
        latencies.extend(got)
        errors += failed
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started
    return len(latencies) / elapsed, latencies, errors


def run_throughput(
    tiles: dict[int, list[tuple[int, int, int]]], *, clients: int = 20, seconds: float = 10
) -> list[Case]:
    """Cached: the densest z14 tile and the densest tiles of every zoom, warmed first.
    Uncached: a server with the tile cache off, the same tiles."""
    every = [f"/tiles/sites/{z}/{x}/{y}.pbf" for sample in tiles.values() for z, x, y in sample]
    z14 = [f"/tiles/sites/{z}/{x}/{y}.pbf" for z, x, y in tiles.get(14, [])[:1]] or every[:1]
    cases = []
    with production_server(tile_cache=True) as port:
        load(port, every, clients=4, seconds=2)  # warm every worker and the shared cache
        for name, paths in (("one cached z14 tile", z14), ("cached tiles, all zooms", every)):
            rate, latencies, errors = load(port, paths, clients=clients, seconds=seconds)
            cases.append(_case(f"throughput, {clients} clients: {name}", rate, latencies, errors))
    with production_server(tile_cache=False) as port:
        load(port, every, clients=2, seconds=1)
        rate, latencies, errors = load(port, every, clients=clients, seconds=seconds)
        cases.append(
            _case(
                f"throughput, {clients} clients: uncached tiles, all zooms", rate, latencies, errors
            )
        )
    return cases


def _case(name: str, rate: float, latencies: list[float], errors: int) -> Case:
    ordered = sorted(latencies) or [0.0]
    return Case(
        name=name,
        samples=len(latencies),
        p50_ms=round(percentile(ordered, 0.5), 2),
        p95_ms=round(percentile(ordered, 0.95), 2),
        max_ms=round(ordered[-1], 2),
        note=f"{rate:,.0f} requests/s, {errors} errors, load average {os.getloadavg()[0]:.1f}",
    )


def main() -> int:
    import argparse
    import resource

    from benchmarks.loadtest import _children, _cpu_seconds, build_urls

    parser = argparse.ArgumentParser(description="Cached-tile throughput of the production server")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    urls = build_urls()
    every = [path for _z, path in urls["tiles"]]
    z14 = [path for z, path in urls["tiles"] if z == 14][:1]
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {os.cpu_count()} "
        f"cores, commit {_commit()}; {urls['sites']} published sites; gunicorn "
        f"{args.workers or 2 * (os.cpu_count() or 1) + 1} sync workers, production settings, "
        f"shared Redis; {args.clients} clients (unless said otherwise; {CLIENT_PROCESSES} processes) on the same "
        f"cores, {args.seconds:g} s per case, every tile cached first.",
        "",
        "| case | requests/s | p50 ms | p95 ms | errors | server CPU ms/request | "
        "client CPU ms/request | load average |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with production_server(tile_cache=True, workers=args.workers) as port:
        server_pid = _server_pid(port)
        load(port, every, clients=4, seconds=3)  # every tile built, recorded, in each worker
        load(port, every, clients=args.clients, seconds=3)
        for name, paths, clients in (
            ("one cached z14 tile, 1 client (latency without queueing)", z14, 1),
            ("one cached z14 tile", z14, args.clients),
            ("cached tiles z10-z16 (load test's)", every, args.clients),
        ):
            cpu_before = _tree_cpu(server_pid, _cpu_seconds, _children)
            clients_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            rate, latencies, errors = load(port, paths, clients=clients, seconds=args.seconds)
            server_cpu = _tree_cpu(server_pid, _cpu_seconds, _children) - cpu_before
            clients_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            client_cpu = (clients_after.ru_utime + clients_after.ru_stime) - (
                clients_before.ru_utime + clients_before.ru_stime
            )
            case = _case(name, rate, latencies, errors)
            count = max(1, len(latencies))
            lines.append(
                f"| {name} | {rate:,.0f} | {case.p50_ms} | {case.p95_ms} | {errors} | "
                f"{server_cpu / count * 1000:.3f} | {client_cpu / count * 1000:.3f} | "
                f"{os.getloadavg()[0]:.2f} |"
            )
            print(lines[-1], flush=True)
    lines += [
        "",
        "Server CPU: utime + stime of the gunicorn master and its workers (from /proc) over the "
        "case, divided by the requests answered; its inverse times the cores is the capacity "
        "on cores of its own. Client CPU: the client processes' (Python http.client, a new "
        "connection per request as gunicorn's sync workers close it).",
    ]
    text = "\n".join(lines) + "\n"
    out = args.out or Path(settings.BASE_DIR) / "benchmarks" / "results" / "throughput-tiles.md"
    out.write_text(text)
    print(text)
    return 0


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=settings.BASE_DIR,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _server_pid(port: int) -> int:
    """The gunicorn master listening on `port` (a child of this process)."""
    from benchmarks.loadtest import _children

    for child in _children(os.getpid()):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"gunicorn" in cmdline:
            return child
    raise RuntimeError(f"no gunicorn child serving port {port}")


def _tree_cpu(pid: int, cpu_seconds, children) -> float:
    return cpu_seconds(pid, with_children=True) + sum(
        cpu_seconds(c, with_children=False) for c in children(pid)
    )


if __name__ == "__main__":
    sys.exit(main())
