"""The real thing: the production server (`manage.py serve`: gunicorn, worker, scheduler)
under load while its database is stopped and started again. Zero 500s, 503s while it is
down, everything answering again within seconds, the worker alive afterwards.

It runs against a throwaway PostgreSQL cluster of its own (initdb on a free port, a copy
of the test database's schema and reference data, a few demo sites), so stopping that
cluster cannot disturb the rest of the suite or anyone else's database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.pgcluster import Cluster, free_port

pytestmark = pytest.mark.slow

REPO = Path(settings.BASE_DIR)
PYTHON = REPO / ".venv" / "bin" / "python"


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker) -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="sitefinder-outage-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    c = Cluster.create(folder, "data", options="-c max_connections=60")
    try:
        c.start()
        # The test database (migrated, with the Ruhr reference data) copied over.
        with django_db_blocker.unblock():
            c.copy_database(connection.settings_dict, "sitefinder")
        yield c
    finally:
        c.stop()
        shutil.rmtree(folder, ignore_errors=True)


def run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def server(cluster: Cluster, tmp_path_factory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url("sitefinder"),
        "DJANGO_SETTINGS_MODULE": "sitefinder.settings.local",
        "SITEFINDER_DEBUG": "0",
        # Six threads from one address: the anonymous API throttle is not what is tested.
        "SITEFINDER_API_ANONYMOUS_RATE": "1000000/minute",
        "PROMETHEUS_MULTIPROC_DIR": str(log.parent / "metrics"),
    }
    if cluster.psql("SELECT count(*) FROM geodata_municipality", "sitefinder") == "0":
        # A transactional test earlier in the run flushed the copied test database.
        run(["shell", "-c", "from tests.conftest import load_reference_data as f; f()"], env)
    run(["generate_demo_sites", "--count", "40", "--seed", "7"], env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PYTHON), "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while fetch(url + "/readyz")[0] != 200:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "server not ready: " + log.read_text()[-3000:]
            time.sleep(0.3)
        yield Server(url=url, process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""  # refused or timed out: counted, never a 500


def test_a_database_restart_under_load_gives_503s_not_500s(cluster: Cluster, server: Server):
    site_id, lon, lat = cluster.psql(
        "SELECT id, ST_X(ST_Transform(location, 4326)), ST_Y(ST_Transform(location, 4326)) "
        "FROM properties_site WHERE status = 'published' ORDER BY id LIMIT 1",
        "sitefinder",
    ).split("|")
    import math

    z = 12
    x = int((float(lon) + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(float(lat)))) / math.pi) / 2 * 2**z)
    urls = [
        "/",
        "/api/v1/sites/?kind=plot&area_min=1000&page_size=10",
        f"/sites/{site_id}/",
        f"/api/v1/sites/{site_id}/",
        f"/tiles/sites/{z}/{x}/{y}.pbf",
        "/healthz",
    ]
    for path in urls:  # warm every worker's caches (tiles) a little
        for _ in range(4):
            assert fetch(server.url + path)[0] in (200, 204), path

    results: list[tuple[float, str, int, bytes]] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        i = offset
        while not stop.is_set():
            path = urls[i % len(urls)]
            status, body = fetch(server.url + path)
            results.append((time.monotonic(), path, status, body[:300]))
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        down_at = time.monotonic()
        cluster.stop()
        time.sleep(4)
        cluster.start()
        up_at = time.monotonic()
        # Recovered: every URL answered (200/204) after the database came back.
        deadline = up_at + 20
        while time.monotonic() < deadline:
            recent = {p for t, p, s, _b in list(results) if t > up_at + 0.5 and s in (200, 204)}
            if recent >= set(urls):
                break
            time.sleep(0.2)
        recovered_after = time.monotonic() - up_at
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    statuses = [s for _t, _p, s, _b in results]
    print(  # shown with -s: the figures of this run
        f"{len(results)} requests, {statuses.count(503)} × 503, {statuses.count(0)} refused, "
        f"every URL answering again {recovered_after:.1f} s after the database was back"
    )
    during = [s for t, _p, s, _b in results if down_at + 0.5 < t < up_at]
    assert statuses.count(500) == 0, [r for r in results if r[2] >= 500 and r[2] != 503][:3]
    assert all(s in (200, 204, 503) for s in statuses), sorted(set(statuses))
    assert 503 in during, "the outage was not noticed"
    traced = [(p, s, b[:1500]) for _t, p, s, b in results if b"Traceback" in b]
    assert not traced, traced[:1]
    assert recovered_after < 10, f"not every URL answered again {recovered_after:.1f} s after"
    # The worker and the scheduler lived through it: fresh heartbeats, /readyz green again.
    deadline = time.monotonic() + 30
    while fetch(server.url + "/readyz")[0] != 200:
        assert time.monotonic() < deadline, fetch(server.url + "/readyz")[1]
        time.sleep(0.5)
    assert server.process.poll() is None
    log = server.log.read_text()
    assert "exited with" not in log, "a supervised program died"
