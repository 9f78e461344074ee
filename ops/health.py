"""Liveness and readiness, for load balancers and orchestrators.

/healthz: the process answers; 200 with each dependency's state, 503 naming the one that
is down (the database). /readyz: ready to serve everything: the database, the cache and a
task worker that showed a heartbeat within WORKER_STALE_SECONDS (and the scheduler)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from .models import Heartbeat
from .outage import short_error

# The worker and the scheduler beat every HEARTBEAT_SECONDS; three missed beats is down.
HEARTBEAT_SECONDS = 10
WORKER_STALE_SECONDS = 3 * HEARTBEAT_SECONDS


def database_state() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (postgis,) = cursor.fetchone()
    except DatabaseError as exc:
        return False, f"down: {short_error(exc)}"
    return True, f"ok (PostGIS {postgis})"


def cache_state() -> tuple[bool, str]:
    key, value = "readyz:probe", uuid.uuid4().hex
    try:
        cache.set(key, value, 10)
        ok = cache.get(key) == value
    except Exception as exc:  # any cache backend's own error
        return False, f"down: {short_error(exc)}"
    return ok, "ok" if ok else "down: a value written was not read back"


def heartbeat_state(role: str) -> tuple[bool, str]:
    try:
        last = (
            Heartbeat.objects.filter(role=role)
            .order_by("-seen_at")
            .values_list("seen_at", flat=True)
            .first()
        )
    except DatabaseError:
        return False, "unknown: the database is down"
    if last is None:
        return False, "down: never seen"
    age = (timezone.now() - last).total_seconds()
    if age > WORKER_STALE_SECONDS:
        return False, f"down: last seen {age:.0f} s ago"
    return True, f"ok (last seen {age:.0f} s ago)"


def _answer(checks: dict[str, tuple[bool, str]]) -> JsonResponse:
    healthy = all(ok for ok, _text in checks.values())
    body: dict[str, str] = {"status": "ok" if healthy else "unavailable"}
    body.update({name: text for name, (_ok, text) in checks.items()})
    down = [name for name, (ok, _text) in checks.items() if not ok]
    if down:
        body["down"] = ", ".join(down)
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    return _answer({"database": database_state(), "cache": cache_state()})


def readyz(request: HttpRequest) -> JsonResponse:
    return _answer(
        {
            "database": database_state(),
            "cache": cache_state(),
            "worker": heartbeat_state("worker"),
            "scheduler": heartbeat_state("scheduler"),
        }
    )


def heartbeat_beat(*, process_id: str, role: str) -> None:
    """Records a sign of life of this process (worker or scheduler)."""
    Heartbeat.objects.update_or_create(
        process_id=process_id, defaults={"role": role, "seen_at": timezone.now()}
    )
    # Old processes' rows would pile up over restarts.
    Heartbeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()
