"""Anonymous reads from the shared cache: the map page and the API search, rendered once per
(normalised query, language, host, data version, day) and kept in Redis.

Only for anonymous visitors with nothing personal to show: no session cookie (no login, no
visitor's shortlist), no messages cookie, not pinned to the primary after a write. The
per-response parts are never cached: the body is rendered with placeholders for the
Content-Security-Policy nonce and the CSRF token, and every response — the one that
rendered it and every one served from the cache — fills in its own fresh nonce (the header
carries the same one) and its own masked CSRF token (and sets the CSRF cookie as the view
would). A view may attach a note to what it caches (`response.anonymous_cache_note`) and
find it again on the cached response: a search that found nothing is recorded for the
unmet-demand statistics on every visit, also when its page comes from the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.csp import LazyNonce
from django.utils.translation import get_language

from sitefinder.db import PIN_COOKIE

NONCE_MARK = "sfnonce-2b7e151628aed2a6"
CSRF_MARK = "sfcsrf-3c4fcf098815f7aba6d2ae28"
# Headers that are the response's own: not replayed from the cache.
_OWN_HEADERS = frozenset({"content-length", "set-cookie", "x-request-id"})


def cacheable(request: HttpRequest) -> bool:
    """Whether this request may be answered from (and fill) the anonymous page cache."""
    if request.method not in ("GET", "HEAD") or not settings.ANONYMOUS_PAGE_CACHE_SECONDS:
        return False
    cookies = request.COOKIES
    return not (
        settings.SESSION_COOKIE_NAME in cookies
        or CookieStorage.cookie_name in cookies
        or PIN_COOKIE in cookies
    )


def cache_key(request: HttpRequest, name: str, version: str) -> str:
    """The key of `request`'s page: its path, query (parameters sorted, so the same search
    spelt in another order is one entry), scheme and host (absolute links), language, the
    data version and the day (what is public changes with the date, see properties)."""
    query = urlencode(sorted((k, v) for k, values in request.GET.lists() for v in values))
    spelled = "|".join(
        [
            request.scheme or "http",
            request.get_host(),
            request.path,
            query,
            get_language() or "",
            version,
            timezone.localdate().isoformat(),
        ]
    )
    digest = hashlib.sha256(spelled.encode()).hexdigest()[:32]
    return f"anon-page:{name}:{digest}"


def prepare(request: HttpRequest) -> dict[str, str]:
    """The template context entries that render the nonce and the CSRF token as
    placeholders (they take precedence over the context processors'). The request keeps
    its own nonce: a placeholder must never reach a Content-Security-Policy header."""
    return {"csrf_token": CSRF_MARK, "csp_nonce": NONCE_MARK}


# The note a cached page or API answer of a search that found nothing carries, so that the
# view still records each such visit (search's empty-search statistics).
EMPTY_SEARCH = "empty-search"


# Other per-response values a view renders as a placeholder: mark -> a fresh value.
Fresh = Mapping[str, Callable[[], str]]


def cached_response(
    request: HttpRequest, key: str, fresh: Fresh | None = None
) -> HttpResponse | None:
    stored = cache.get(key)
    if stored is None:
        return None
    body, headers, status, note = stored
    response = HttpResponse(status=status)
    for name, value in headers:
        response[name] = value
    response.content = _personalised(request, body, fresh)
    response.anonymous_cache_note = note  # type: ignore[attr-defined]
    return response


def store(
    request: HttpRequest, key: str, response: HttpResponse, fresh: Fresh | None = None
) -> HttpResponse:
    """Keeps `response` (rendered with the placeholders, 200, no cookie of its own set by the
    view) and returns it with this request's own nonce and token filled in."""
    if hasattr(response, "render"):
        response.render()
    body = response.content
    if response.status_code == 200 and not response.cookies and not response.streaming:
        headers = [(n, v) for n, v in response.items() if n.lower() not in _OWN_HEADERS]
        note = getattr(response, "anonymous_cache_note", "")
        cache.set(key, (body, headers, 200, note), settings.ANONYMOUS_PAGE_CACHE_SECONDS)
    response.content = _personalised(request, body, fresh)
    return response


def _personalised(request: HttpRequest, body: bytes, fresh: Fresh | None) -> bytes:
    if NONCE_MARK.encode() in body:
        # The request's own nonce (the CSP middleware's), generated now: the header names it.
        nonce = getattr(request, "_csp_nonce", None)
        if nonce is None:
            nonce = request._csp_nonce = LazyNonce()  # type: ignore[attr-defined]
        body = body.replace(NONCE_MARK.encode(), str(nonce).encode())
    if CSRF_MARK.encode() in body:
        body = body.replace(CSRF_MARK.encode(), get_token(request).encode())
    for mark, value in (fresh or {}).items():
        if mark.encode() in body:
            body = body.replace(mark.encode(), value().encode())
    return body
