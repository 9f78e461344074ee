"""Cached tiles answered before the middleware stack (issue 12: a cached tile p50 ≤ 2 ms).

Three quarters of a map session's requests are tiles, and a cached tile is bytes from the
cache: the ~17 middlewares (session, locale, CSRF, authentication, axes, …), URL routing
and the data-version query cost several times what the answer itself does. This
middleware, the outermost, answers a tile URL the full path has already served, when

- the request is an anonymous GET or HEAD (no session cookie, not pinned to the primary
  after a write: those may be staff or partners, whose responses are private) over an
  allowed host and, where HTTPS is required, over HTTPS;
- the full path recorded the URL (a 200 or 204 tile with no cookie set) and the tables it
  was built from are still at the data version it was built for (read at most
  DATA_VERSION_MEMO_SECONDS ago: sitefinder.tiles.recent_data_version), on the same day.

It sends what the full path sent: the recorded headers (content type, ETag, Cache-Control,
the Content-Security-Policy and the other security headers), Content-Language for the
request's language, a fresh X-Request-ID, 304 for a matching If-None-Match, and writes the
same request log line and metrics. Everything else — a miss, a new data version, an
outage, a signed-in user — takes the full path unchanged. The recorded entries live in the
shared cache (any worker or machine can answer a URL another one built), and the hottest
ones with their bytes in a small per-process memory (TILE_MEMORY_CACHE_BYTES), so a hot
tile costs no I/O at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from ops import metrics
from ops.observability import REQUEST_ID, log_request, request_id_from
from sitefinder.db import PIN_COOKIE
from sitefinder.tiles import FastTile, recent_data_version

TILE_PREFIX = "/tiles/"
# Headers that belong to one response, never replayed.
_OWN_HEADERS = frozenset({"x-request-id", "content-language", "content-length", "set-cookie"})
_NOT_MODIFIED_DROPS = frozenset({"content-type"})


class _Entry:
    __slots__ = ("fast", "headers", "status", "view", "body")

    def __init__(self, fast: FastTile, headers: list[tuple[str, str]], status: int, view: str):
        self.fast = fast
        self.headers = headers
        self.status = status
        self.view = view
        self.body: bytes | None = None

    def shared(self) -> dict[str, Any]:
        return {
            "fast": self.fast,
            "headers": self.headers,
            "status": self.status,
            "view": self.view,
        }


class _Memory:
    """A byte-bounded LRU of entries with their tile bytes, per process."""

    def __init__(self) -> None:
        self.items: OrderedDict[str, _Entry] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> _Entry | None:
        with self.lock:
            entry = self.items.get(key)
            if entry is not None:
                self.items.move_to_end(key)
            return entry

    def put(self, key: str, entry: _Entry) -> None:
        budget = settings.TILE_MEMORY_CACHE_BYTES
        cost = len(entry.body or b"") + 512
        if cost > budget:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old.body or b"") + 512
            self.items[key] = entry
            self.size += cost
            while self.size > budget and self.items:
                _key, dropped = self.items.popitem(last=False)
                self.size -= len(dropped.body or b"") + 512

    def drop(self, key: str) -> None:
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old.body or b"") + 512

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


memory = _Memory()


def _url_key(request: HttpRequest) -> str | None:
    """The entry's key for an eligible request, else None."""
    if request.method not in ("GET", "HEAD") or not request.path_info.startswith(TILE_PREFIX):
        return None
    if not settings.TILE_CACHE_SECONDS or not settings.TILE_FAST_PATH:
        return None
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or PIN_COOKIE in cookies:
        return None
    secure = request.is_secure()
    if settings.SECURE_SSL_REDIRECT and not secure:
        return None  # SecurityMiddleware redirects it
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS
    except DisallowedHost:
        return None
    query = request.META.get("QUERY_STRING", "")
    if query:
        query = "&".join(sorted(query.split("&")))
    scheme = "https" if secure else "http"
    return f"tile-fast:{scheme}://{host}{request.path_info}?{query}"


class CachedTileMiddleware:
    """Outermost: answers a recorded, still current tile URL without the stack below."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        key = _url_key(request)
        if key is not None:
            response = self._answer(request, key, started)
            if response is not None:
                return response
        response = self.get_response(request)
        fast: FastTile | None = getattr(response, "_fast_tile", None)
        if key is not None and fast is not None and not response.cookies:
            self._record(request, key, fast, response)
        return response

    @staticmethod
    def _record(request: HttpRequest, key: str, fast: FastTile, response: HttpResponse) -> None:
        headers = [
            (name, value) for name, value in response.items() if name.lower() not in _OWN_HEADERS
        ]
        match = request.resolver_match
        view = (match.view_name or match._func_path) if match else "unresolved"
        entry = _Entry(fast, headers, response.status_code, view)
        cache.set(key, entry.shared(), settings.TILE_CACHE_SECONDS)
        entry.body = response.content
        memory.put(key, entry)

    def _answer(self, request: HttpRequest, key: str, started: float) -> HttpResponse | None:
        entry = memory.get(key)
        if entry is None:
            shared = cache.get(key)
            if shared is None:
                return None
            entry = _Entry(shared["fast"], shared["headers"], shared["status"], shared["view"])
        fast = entry.fast
        if fast.day != timezone.localdate().isoformat() or (
            recent_data_version(fast.versions) != fast.current
        ):
            memory.drop(key)
            return None
        not_modified = request.headers.get("If-None-Match") == fast.etag
        if entry.body is None and not not_modified:
            body = cache.get(fast.key)
            if body is None:
                return None  # the tile itself expired: the full path builds it again
            entry.body = body
            memory.put(key, entry)
        request_id = request_id_from(request)
        token = REQUEST_ID.set(request_id)
        try:
            if not_modified:
                response = HttpResponse(status=304)
                del response["Content-Type"]
                headers = [(n, v) for n, v in entry.headers if n.lower() not in _NOT_MODIFIED_DROPS]
            else:
                response = HttpResponse(entry.body, status=entry.status)
                response["Content-Length"] = str(len(entry.body or b""))
                headers = entry.headers
                metrics.TILE_CACHE.labels(fast.tileset, "hit").inc()
            for name, value in headers:
                response[name] = value
            response["Content-Language"] = translation.get_language_from_request(request)
            response["X-Request-ID"] = request_id
            log_request(request, response, entry.view, time.perf_counter() - started)
        finally:
            REQUEST_ID.reset(token)
        return response
