"""Read replicas: a database router and the middleware that tells it what a request may read.

With DATABASE_REPLICA_URLS set (settings), the reads of a safe request (GET, HEAD,
OPTIONS: tiles, search, API GETs, detail pages) go to one replica, picked per request. Any
write goes to the primary, and so do:
- every read of a request that writes, and every read outside a request (management
  commands, the task worker, the shell);
- the reads of a client for READ_YOUR_WRITES_SECONDS after it wrote: the response to a
  write sets a cookie until then (per browser session), so a partner who saves a site, or a
  visitor who shortlists one, sees it on the next page although the replicas may lag;
- sessions, always (a login is read on the very next request).
Replicas are never migrated: they are physical copies of the primary (streaming
replication, see the README).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest, HttpResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "sitefinder_primary_until"
_ALWAYS_PRIMARY_APPS = frozenset({"sessions"})

# The replica this request reads from (None: the primary), and whether it wrote.
_read_from: ContextVar[str | None] = ContextVar("sitefinder_read_from", default=None)
_wrote: ContextVar[bool] = ContextVar("sitefinder_wrote", default=False)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        alias = _read_from.get()
        if alias is None or model._meta.app_label in _ALWAYS_PRIMARY_APPS:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model, **hints) -> str:
        _wrote.set(True)
        # From now on this request reads what it wrote.
        _read_from.set(None)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, copied

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


def _pinned(request: HttpRequest) -> bool:
    try:
        return float(request.COOKIES.get(PIN_COOKIE, "0")) > time.time()
    except ValueError:
        return False


class ReplicaMiddleware:
    """Routes a safe request's reads to a replica unless its client wrote a moment ago;
    pins the client to the primary after a write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replicas = replica_aliases()
        use_replica = bool(replicas) and request.method in SAFE_METHODS and not _pinned(request)
        # Spreading load, not a secret.
        replica = random.choice(replicas) if use_replica else None  # noqa: S311
        read_token = _read_from.set(replica)
        wrote_token = _wrote.set(False)
        try:
            response = self.get_response(request)
            wrote = _wrote.get() or request.method not in SAFE_METHODS
        finally:
            _read_from.reset(read_token)
            _wrote.reset(wrote_token)
        if replicas and wrote:
            seconds = settings.READ_YOUR_WRITES_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response


def read_connection(model):
    """The connection raw SQL reading `model`'s table should use: the router's choice."""
    from django.db import connections, router

    return connections[router.db_for_read(model)]
