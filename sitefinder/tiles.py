"""Serving Mapbox Vector Tiles built by PostGIS (ST_AsMVT), cached per data version.

A tile is keyed on (name, data version, z, x, y): any write to the underlying tables bumps
the version (statement triggers, see geodata.DataVersion), so a cached tile is never stale
and nothing has to be purged by hand.

The key also holds today's date: a site is hidden from investors when it has not been
verified for SITE_HIDE_AFTER_DAYS, i.e. by time passing, with no write to bump a version.
With the date in the key (and the ETag), no tile outlives the day it was built in; with
the default TILE_CACHE_SECONDS (an hour) a site drops out of the map within the hour.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag

from geodata.models import DataVersion

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22


def tile_error(z: int, x: int, y: int) -> JsonResponse | None:
    if not 0 <= z <= MAX_ZOOM:
        return JsonResponse({"z": [f"Zoom must be between 0 and {MAX_ZOOM}."]}, status=400)
    limit = 2**z
    errors = {}
    if not 0 <= x < limit:
        errors["x"] = [f"At zoom {z}, x must be between 0 and {limit - 1}."]
    if not 0 <= y < limit:
        errors["y"] = [f"At zoom {z}, y must be between 0 and {limit - 1}."]
    return JsonResponse(errors, status=400) if errors else None


def tile_response(
    request: HttpRequest,
    *,
    name: str,
    versions: tuple[str, ...],
    z: int,
    x: int,
    y: int,
    build: Callable[[], bytes],
    version: str | None = None,
) -> HttpResponse:
    """The tile from cache, or built and cached; with an ETag so browsers revalidate cheaply.
    `version`: what the tile is built from when that is not the tables' current data
    version (precomputed aggregates that lag the tables by a rebuild)."""
    error = tile_error(z, x, y)
    if error is not None:
        return error
    if version is None:
        version = ".".join(str(DataVersion.current(v)) for v in versions)
    # Staleness changes what is public without a write (see the module doc).
    version += f"@{timezone.localdate().isoformat()}"
    etag = quote_etag(f"{name}-{version}-{z}-{x}-{y}")
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        key = f"tile:{name}:{version}:{z}:{x}:{y}"
        tile = cache.get(key) if settings.TILE_CACHE_SECONDS else None
        if tile is None:
            tile = build()
            if settings.TILE_CACHE_SECONDS:
                cache.set(key, tile, settings.TILE_CACHE_SECONDS)
        response = HttpResponse(tile, content_type=MVT_CONTENT_TYPE, status=200 if tile else 204)
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=60)
    return response
