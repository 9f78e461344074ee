"""API throttling for anonymous clients (issue 11): DRF's AnonRateThrottle, counted per
client address as sitefinder.net.client_address sees it (SITEFINDER_TRUSTED_PROXIES), at
the rate in settings.API_ANONYMOUS_RATE (read per request, so tests and deployments set it
in settings; empty turns it off). Signed-in users are not throttled here."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle

from .net import client_address


class AnonymousClientThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_ANONYMOUS_RATE or None

    def get_ident(self, request: Request) -> str:
        return client_address(request._request)
