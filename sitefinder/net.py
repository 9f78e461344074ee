"""The address a request really came from. Behind a reverse proxy REMOTE_ADDR is the
proxy's own address; the client's is in X-Forwarded-For, as the proxy appended it.
Only the entries our own proxies wrote can be trusted (a client may send the header
with anything in it), so SITEFINDER_TRUSTED_PROXIES says how many proxies stand in front
of the application: the client is that many entries from the right."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop]
    # Fewer entries than proxies: the request did not pass through all of them.
    return hops[-proxies] if len(hops) >= proxies else remote
