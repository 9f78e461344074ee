"""Request ids, one JSON log line per request and per task, and the metrics endpoint."""

from __future__ import annotations

import json
import logging

import pytest
from django.tasks import task

from ops.observability import JsonFormatter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def json_lines(caplog, logger: str) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]


def test_a_request_gets_an_id_and_one_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="sitefinder.request")
    response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    (line,) = json_lines(caplog, "sitefinder.request")
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["view"] == "healthz"
    assert line["request_id"] == request_id
    assert isinstance(line["duration_ms"], float)


def test_the_clients_request_id_is_kept_and_a_bad_one_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="sitefinder.request")
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-4f1c.77")
    assert kept["X-Request-ID"] == "proxy-4f1c.77"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="evil\nHeader: injected" + "x" * 200)
    assert replaced["X-Request-ID"] != "proxy-4f1c.77"
    assert "\n" not in replaced["X-Request-ID"] and len(replaced["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in json_lines(caplog, "sitefinder.request")]
    assert ids == ["proxy-4f1c.77", replaced["X-Request-ID"]]


@task
def add(a: int, b: int) -> int:
    return a + b


def test_a_task_gets_one_log_line(caplog):
    caplog.set_level(logging.INFO, logger="sitefinder.task")
    add.enqueue(1, 2)
    (line,) = json_lines(caplog, "sitefinder.task")
    assert line["task"].endswith("test_observability.add")
    assert line["status"] == "SUCCESSFUL"
    assert line["event"] == "task"


def test_metrics_are_not_public(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    client.force_login(UserFactory(role="investor"))
    assert client.get("/metrics").status_code == 404


def test_metrics_for_a_bearer_token_and_for_staff(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    client.get("/tiles/boundaries/9/267/172.pbf")
    client.get("/tiles/boundaries/9/267/172.pbf")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    text = response.content.decode()
    for name in (
        'sitefinder_http_request_duration_seconds_bucket{le="0.005",method="GET",view="tile-boundaries"}',
        'sitefinder_tile_cache_requests_total{result="hit",tileset="boundaries"}',
        "sitefinder_task_queue_length",
        'sitefinder_tasks{status="FAILED"}',
        "sitefinder_database_up 1.0",
    ):
        assert name in text, name
    client.force_login(UserFactory(role="staff"))
    assert client.get("/metrics").status_code == 200
