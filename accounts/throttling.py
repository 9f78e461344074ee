"""Throttling of logins and password resets (issue 11).

Logins (the site's and the admin's) are counted by django-axes in the database, so every
server process sees the same counts: after AXES_FAILURE_LIMIT failures for one account or
from one client address (sitefinder.net.client_address, honouring
SITEFINDER_TRUSTED_PROXIES) further attempts are refused for AXES_COOLOFF_TIME with a page
naming the wait, even with the right password.

Password-reset e-mails are counted per requested address and per client address in
ThrottleEvent rows (a keyed hash, never the address itself).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .models import ThrottleEvent


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lock-out check for every login made over HTTP. Logins made by code
    without a request (the test client's login(), management commands) are not HTTP
    attempts and pass to the next backend instead of failing."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def minutes_until(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The answer to a locked-out login: 429 with the wait in minutes, in the user's language
    (AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request) or timedelta(minutes=15)
    context = {"minutes": minutes_until(cool_off.total_seconds())}
    return render(request, "accounts/locked_out.html", context, status=429)


def _key(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def throttle_check(*, scope: str, keys: list[str], limit: int, window: timedelta) -> int | None:
    """Records one event under each key and returns the seconds to wait if any key already
    had `limit` events in the window (the event is then not recorded), else None."""
    now = timezone.now()
    since = now - window
    hashed = [_key(f"{scope}:{key}") for key in keys]
    ThrottleEvent.objects.filter(created_at__lt=since).delete()  # old events, any scope
    wait = 0.0
    for key in hashed:
        recent = list(
            ThrottleEvent.objects.filter(scope=scope, key=key, created_at__gte=since)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[:limit]
        )
        if len(recent) >= limit:
            wait = max(wait, (recent[-1] + window - now).total_seconds())
    if wait > 0:
        return math.ceil(wait)
    ThrottleEvent.objects.bulk_create(
        [ThrottleEvent(scope=scope, key=key, created_at=now) for key in hashed]
    )
    return None
