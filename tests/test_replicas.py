"""Read replicas, end to end: a private primary and a real streaming replica of it
(pg_basebackup -R), the app served against both, and each database's statement log showing
which one answered each request."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from properties.models import Site
from sitefinder.db import PIN_COOKIE
from tests.api.test_tiles import tile_of
from tests.factories import SiteFactory
from tests.pgcluster import PG_BIN, Cluster, free_port

pytestmark = [
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 is not installed"),
    pytest.mark.django_db(transaction=True),
]


@dataclass
class Deployment:
    primary: Cluster
    replica: Cluster
    url: str


@pytest.fixture
def deployment(reference_data, essen) -> Iterator[tuple[Deployment, dict[str, Any]]]:
    sites: dict[str, Any] = {
        "published": SiteFactory(
            municipality=essen, at=Point(362_800, 5_703_800, srid=25832), title="Am Kanal"
        ),
        "draft": SiteFactory(
            municipality=essen,
            at=Point(363_800, 5_703_800, srid=25832),
            title="Zechengelände",
            status=Site.Status.DRAFT,
        ),
    }
    folder = Path(tempfile.mkdtemp(prefix="sf-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    primary = Cluster.create(folder, "primary", options="-c log_statement=all")
    replica = Cluster(folder / "replica", free_port(), folder / "replica.log", primary.options)
    server = None
    try:
        primary.start()
        # The test database as it is now (reference data and the two sites) on the primary.
        primary.copy_database(connection.settings_dict, "sf")
        # The streaming replica: a base backup that writes its own standby configuration.
        primary.run(
            [str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port)]
            + ["-U", "postgres", "-D", str(replica.data), "-R", "--checkpoint=fast"]
        )
        replica.start()
        assert replica.psql("SELECT pg_is_in_recovery()", "sf") == "t"

        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYENV_VERSION", "PYENV_DIR")},
            "DJANGO_SETTINGS_MODULE": "sitefinder.settings.local",
            "DATABASE_URL": primary.url("sf"),
            "DATABASE_REPLICA_URLS": replica.url("sf"),
            "CONN_MAX_AGE": "0",
            "SITEFINDER_TILE_CACHE_SECONDS": "0",
            "REDIS_URL": f"unix://{folder}/no-redis.sock",  # no cache: every read is real
        }
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert server.poll() is None, "the server exited"
            try:
                if requests.get(f"{url}/api/v1/municipalities/", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield Deployment(primary, replica, url), sites
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        replica.stop("immediate")
        primary.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def answered_by(deployment: Deployment, send) -> tuple[str, str, object]:
    """Sends a request; returns what the primary and the replica logged meanwhile."""
    primary_mark, replica_mark = deployment.primary.mark(), deployment.replica.mark()
    response = send()
    return (
        deployment.primary.statements_since(primary_mark),
        deployment.replica.statements_since(replica_mark),
        response,
    )


def test_public_reads_go_to_the_replica_and_writers_read_their_writes(deployment):
    deployment, sites = deployment
    url = deployment.url
    published, draft = sites["published"], sites["draft"]
    browser = requests.Session()

    # Public reads: search, detail page, API detail, a tile.
    x, y = tile_of(7.0247, 51.4687, 14)
    for path in (
        "/api/v1/sites/?kind=plot&area_min=1000",
        f"/sites/{published.pk}/",
        f"/api/v1/sites/{published.pk}/",
        f"/tiles/sites/14/{x}/{y}.pbf",
    ):
        on_primary, on_replica, response = answered_by(
            deployment, lambda p=path: browser.get(url + p)
        )
        assert response.status_code == 200, path
        assert "properties_site" in on_replica, path
        assert "properties_site" not in on_primary, path
    assert "Am Kanal" in browser.get(f"{url}/api/v1/sites/{published.pk}/").text

    # A write (shortlisting, a visitor's session) goes to the primary and pins this browser
    # to the primary for a few seconds: its next reads see what it wrote.
    browser.get(f"{url}/shortlist/")
    on_primary, on_replica, response = answered_by(
        deployment,
        lambda: browser.post(
            f"{url}/api/v1/shortlist/",
            json={"site": published.pk},
            headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": url + "/"},
        ),
    )
    assert response.status_code == 201, response.text
    assert "django_session" in on_primary and "properties_site" in on_primary
    assert "properties_site" not in on_replica
    assert float(browser.cookies[PIN_COOKIE]) > time.time()
    on_primary, on_replica, response = answered_by(
        deployment, lambda: browser.get(f"{url}/api/v1/sites/{published.pk}/")
    )
    assert response.status_code == 200
    assert "properties_site" in on_primary and "properties_site" not in on_replica
    # Another visitor (no pin) still reads the replica.
    on_primary, on_replica, response = answered_by(
        deployment, lambda: requests.get(f"{url}/api/v1/sites/{published.pk}/", timeout=10)
    )
    assert "properties_site" in on_replica and "properties_site" not in on_primary

    # Staff publish the draft on the primary: the replica shows it once it has replayed
    # the primary's WAL up to that write.
    assert requests.get(f"{url}/api/v1/sites/{draft.pk}/", timeout=10).status_code == 404
    deployment.primary.psql(
        f"UPDATE properties_site SET status = 'published' WHERE id = {draft.pk}", "sf"
    )
    written = deployment.primary.psql("SELECT pg_current_wal_lsn()", "sf")
    deadline = time.monotonic() + 10
    while deployment.replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{written}'", "sf") != "t":
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.02)
    on_primary, on_replica, response = answered_by(
        deployment, lambda: requests.get(f"{url}/api/v1/sites/{draft.pk}/", timeout=10)
    )
    assert response.status_code == 200
    assert "Zechengelände" in response.json()["properties"]["title"]
    assert "properties_site" in on_replica and "properties_site" not in on_primary
