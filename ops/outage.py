"""While the database is unreachable, every page and API answers a short 503, never a 500
with a traceback; the next request after the database returns works again (Django checks
a kept connection before reuse: CONN_HEALTH_CHECKS)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger("sitefinder.outage")

RETRY_AFTER_SECONDS = 5
JSON_PREFIXES = ("/api/", "/tiles/", "/healthz", "/readyz", "/metrics")


class DatabaseUnavailable(Exception):
    """Raised where an answer needs the database and no fallback (a cached tile) exists."""


def short_error(exc: BaseException) -> str:
    """The first line of an error, without a traceback, for logs and health answers."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError | DatabaseUnavailable)


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """A short 503, JSON or HTML: rendered without context processors, so it needs no
    database (no session, no user)."""
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse(
            {
                "status": "unavailable",
                "detail": _("The service is briefly unavailable. Please try again shortly."),
            },
            status=503,
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """Turns a lost database connection in any view into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        logger.warning(
            "database unavailable: %s %s: %s",
            request.method,
            request.path,
            short_error(exception),
        )
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage met outside a view (the session saved by middleware,
    say) is still a 503; anything else the friendly 500 page."""
    if is_database_outage(sys.exc_info()[1]):
        return unavailable_response(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))
