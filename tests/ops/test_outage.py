"""A lost database answers 503 (HTML or JSON), never a 500 with a traceback; cached tiles
are still served; /healthz and /readyz name what is down."""

from __future__ import annotations

import sys

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory

from ops.health import heartbeat_beat
from ops.outage import server_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """Every new cursor fails as with a stopped server; call the fixture's value to switch."""
    state = {"down": False}
    real_cursor = BaseDatabaseWrapper.cursor

    def cursor(self, *args, **kwargs):
        if state["down"]:
            raise OperationalError('connection to server at "127.0.0.1" failed: Connection refused')
        return real_cursor(self, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", cursor)

    def switch(down: bool = True) -> None:
        state["down"] = down

    return switch


def assert_no_traceback(response) -> None:
    body = response.content.decode()
    assert "Traceback" not in body and "OperationalError" not in body and "127.0.0.1" not in body


def test_pages_answer_a_short_503_page(client, database_down, reference_data):
    database_down()
    response = client.get("/de/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Vorübergehend nicht erreichbar" in response.content.decode()
    assert_no_traceback(response)


def test_the_api_answers_503_json(client, database_down, reference_data):
    database_down()
    response = client.get("/api/v1/sites/?kind=plot")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert_no_traceback(response)


def test_a_lost_connection_outside_a_view_is_a_503_too():
    request = RequestFactory().get("/partner/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        assert sys.exc_info()[0] is OperationalError
        response = server_error(request)
    assert response.status_code == 503
    assert_no_traceback(response)
    other = server_error(RequestFactory().get("/"))
    assert other.status_code == 500


def test_cached_tiles_are_served_while_the_database_is_down(client, database_down, reference_data):
    cached = "/tiles/boundaries/9/267/172.pbf"
    warm = client.get(cached)
    assert warm.status_code in (200, 204)
    database_down()
    again = client.get(cached)
    assert again.status_code == warm.status_code
    assert again.content == warm.content
    # A tile never built cannot be built without the database.
    cold = client.get("/tiles/boundaries/9/268/172.pbf")
    assert cold.status_code == 503
    assert cold.json()["status"] == "unavailable"
    database_down(False)
    assert client.get("/tiles/boundaries/9/268/172.pbf").status_code in (200, 204)


def test_healthz_names_the_database_when_it_is_down(client, database_down):
    assert client.get("/healthz").json()["database"].startswith("ok")
    database_down()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == "database"
    assert body["database"].startswith("down")
    assert body["cache"] == "ok"


def test_readyz_needs_a_live_worker_and_scheduler(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == "worker, scheduler"
    heartbeat_beat(process_id="w1", role="worker")
    heartbeat_beat(process_id="s1", role="scheduler")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["worker"].startswith("ok")


def test_cached_low_zoom_site_tiles_are_served_while_the_database_is_down(
    client, database_down, reference_data
):
    # Low zooms are built from the precomputed aggregates and keyed on their version.
    warm = client.get("/tiles/sites/9/267/172.pbf")
    assert warm.status_code in (200, 204)
    database_down()
    again = client.get("/tiles/sites/9/267/172.pbf")
    assert (again.status_code, again.content) == (warm.status_code, warm.content)
    cold = client.get("/tiles/sites/9/268/172.pbf")
    assert cold.status_code == 503
