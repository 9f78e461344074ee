"""The Content-Security-Policy of every response (issue 11), with Django's built-in CSP
(django.middleware.csp): scripts only from our own origin or with the request's nonce
(`{{ csp_nonce }}`), never inline without it; styles from our origin (Leaflet and Swagger UI
set style attributes, so inline styles are allowed — they cannot run code); images, tiles
and API calls from our origin and, if configured, the base-map tile host."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.utils.csp import CSP

if TYPE_CHECKING:  # settings import this module: keep it free of request machinery
    from django.http import HttpRequest, HttpResponse

_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def tile_host_source(url_template: str) -> str | None:
    """The CSP source of a `{z}/{x}/{y}` tile URL template: scheme and host, a `{s}`-style
    placeholder in the host becoming a wildcard for its leftmost labels
    (https://{s}.tile.example.org/{z}/{x}/{y}.png -> https://*.tile.example.org)."""
    if not url_template:
        return None
    parts = urlsplit(url_template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    labels = parts.netloc.split(".")
    templated = [i for i, label in enumerate(labels) if _PLACEHOLDER.search(label)]
    if templated:
        labels = ["*", *labels[max(templated) + 1 :]]
    host = ".".join(labels)
    if _PLACEHOLDER.search(host) or len(labels) < 2 and host == "*":
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(basemap_url: str) -> dict[str, list[str]]:
    tiles = [source] if (source := tile_host_source(basemap_url)) else []
    return {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, CSP.NONCE],
        "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
        "img-src": [CSP.SELF, "data:", "blob:", *tiles],
        "font-src": [CSP.SELF, "data:"],
        "connect-src": [CSP.SELF, *tiles],
        "worker-src": [CSP.SELF, "blob:"],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
    }


class CspNonceForWidgetsMiddleware:
    """django-leaflet's admin widgets read the nonce as `request.csp_nonce` (django-csp's
    name); Django's CSP middleware keeps it as `request._csp_nonce`. Must come after it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = getattr(request, "_csp_nonce", None)  # type: ignore[attr-defined]
        return self.get_response(request)
