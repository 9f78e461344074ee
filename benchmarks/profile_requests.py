"""Where a request's milliseconds go, per URL family of the load test:
`.venv/bin/python -m benchmarks.profile_requests [--repeat 200] [--top 25] [--family tile]`.

Calls the production WSGI application (the whole middleware stack, the shared Redis cache,
the private database) in this process with the load test's URLs (benchmarks.loadtest's
build_urls), warm, one family at a time, and prints the CPU time per request of this
process (time.process_time: Python and the client side of every query; PostgreSQL's own
time is not in it) and the wall time, then, with --top, cProfile's most expensive functions
for each family. No HTTP server is involved: gunicorn's own share (parsing, sockets) is
measured by the load test and the throughput benchmark.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from collections.abc import Callable
from typing import Any


def _environ(url: str) -> dict[str, Any]:
    from django.test import RequestFactory

    return RequestFactory().get(url, HTTP_HOST="127.0.0.1").environ


def call(app: Callable, url: str) -> str:
    status: list[str] = []
    body = app(_environ(url), lambda s, headers, exc_info=None: status.append(s))
    for _chunk in body:
        pass
    getattr(body, "close", lambda: None)()
    return status[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--top", type=int, default=0, help="cProfile's top N functions")
    parser.add_argument("--family", action="append", default=None)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitefinder.settings.local")
    os.environ["SITEFINDER_DEBUG"] = "0"
    import logging

    from benchmarks.loadtest import build_urls

    urls = build_urls()
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    logging.getLogger("sitefinder.request").setLevel(logging.WARNING)  # not the log's I/O
    rng = random.Random(1)
    families = {
        "tile": [path for _z, path in urls["tiles"]],
        "api search": urls["searches"],
        "detail page": urls["details"],
        "api detail": urls["api_details"],
        "map page": urls["maps"],
    }
    for name in args.family or families:
        pool = families[name]
        for url in pool:  # warm: every URL once (caches filled, code paths compiled)
            call(app, url)
        picks = [rng.choice(pool) for _ in range(args.repeat)]
        profiler = cProfile.Profile() if args.top else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        statuses: dict[str, int] = {}
        for url in picks:
            status = call(app, url)
            statuses[status] = statuses.get(status, 0) + 1
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{name:12} {cpu / args.repeat * 1000:7.3f} ms CPU, {wall / args.repeat * 1000:7.3f}"
            f" ms wall per request ({args.repeat} requests, {statuses})"
            + (" [under cProfile]" if profiler else ""),
            flush=True,
        )
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
