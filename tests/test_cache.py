"""The shared cache against a real redis-server: shared between clients (workers), and an
outage costs time, never an error."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from sitefinder.cache import ResilientRedisCache
from tests.api.test_tiles import decode, tile_of
from tests.factories import SiteFactory

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.skipif(
    not Path(REDIS_SERVER).exists(), reason="redis-server is not installed (scripts/setup.sh)"
)


@pytest.fixture
def redis_socket(tmp_path_factory):
    """A private redis-server on a unix socket, stopped (and its folder gone) afterwards."""
    folder = Path(tmp_path_factory.mktemp("redis"))
    socket = folder / "redis.sock"
    server = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--save",
            "",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not answers_ping(socket):
        assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.01)
    yield server, socket
    server.terminate()
    server.wait(timeout=10)


def answers_ping(socket: Path) -> bool:
    """The socket file appears before the server answers; wait for an answer."""
    if not socket.exists():
        return False
    client = redis.Redis(unix_socket_path=str(socket), socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def redis_cache(socket: Path) -> ResilientRedisCache:
    # A generous read timeout for a busy test machine; a stopped server is a refused
    # connection at once, so the outage half stays fast.
    return ResilientRedisCache(
        f"unix://{socket}",
        {"KEY_PREFIX": "test", "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 3}},
    )


def test_workers_share_the_cache_and_an_outage_is_a_miss(redis_socket):
    server, socket = redis_socket
    worker_a, worker_b = redis_cache(socket), redis_cache(socket)
    worker_a.set("tile", b"\x1a\x02mvt", 60)
    assert worker_b.get("tile") == b"\x1a\x02mvt"  # built once, served by every worker
    worker_b.set("hits", 1, 60)
    assert worker_a.incr("hits") == 2

    server.terminate()
    server.wait(timeout=10)
    started = time.monotonic()
    assert worker_a.get("tile") is None
    assert worker_a.get("tile", "fallback") == "fallback"
    worker_a.set("tile", b"new", 60)  # skipped, no error
    assert worker_a.add("other", 1) is False
    assert worker_a.get_many(["tile", "hits"]) == {}
    with pytest.raises(ValueError):  # as for a missing key: throttles start counting afresh
        worker_a.incr("hits")
    worker_a.delete("tile")
    assert time.monotonic() - started < 1  # fails fast, then skips the cache for a while
    assert not worker_a.available


@pytest.mark.django_db
def test_tiles_are_built_when_the_cache_is_down(client, essen, redis_socket, settings):
    server, socket = redis_socket
    settings.TILE_CACHE_SECONDS = 3600
    SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832), title="Cached plot")
    x, y = tile_of(7.0247, 51.4687, 14)
    url = reverse("tile-sites", args=[14, x, y])
    shared = {
        "default": {
            "BACKEND": "sitefinder.cache.ResilientRedisCache",
            "LOCATION": f"unix://{socket}",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=shared):
        first = client.get(url)
        assert first.status_code == 200
        assert any(key.startswith(b":1:tile:sites:") for key in cache._cache.get_client().keys())
        server.terminate()
        server.wait(timeout=10)
        down = client.get(url)  # a miss: built from the database
        assert down.status_code == 200
        assert decode(down.content)["sites"]["features"] == 1
        assert b"Cached plot" in down.content
        low = client.get(reverse("tile-sites", args=[9, *tile_of(7.0247, 51.4687, 9)]))
        assert low.status_code == 200
