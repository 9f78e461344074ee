"""Serving Mapbox Vector Tiles built by PostGIS (ST_AsMVT), cached per data version.

A tile is keyed on (name, data version, z, x, y): any write to the underlying tables bumps
the version (statement triggers, see geodata.DataVersion), so a cached tile is never stale
and nothing has to be purged by hand.

While the database is unreachable, tiles already in the cache are still served: the last
data version this process read (or the one kept in the cache beside the tiles) stands in
for the one it cannot read; a tile not cached answers 503 (ops.outage).

The key also holds today's date: a site is hidden from investors when it has not been
verified for SITE_HIDE_AFTER_DAYS, i.e. by time passing, with no write to bump a version.
With the date in the key (and the ETag), no tile outlives the day it was built in; with
the default TILE_CACHE_SECONDS (an hour) a site drops out of the map within the hour.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag

from geodata.models import DataVersion
from ops.metrics import TILE_CACHE
from ops.outage import DatabaseUnavailable

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


# The last data versions this process read, for serving cached tiles through an outage.
_last_versions: dict[tuple[str, ...], str] = {}
# The data versions read lately (monotonic time of the read, version), for the cached-tile
# fast path (sitefinder.fastpath): at most DATA_VERSION_MEMO_SECONDS old.
_recent_versions: dict[tuple[str, ...], tuple[float, str]] = {}


def _shared_version_key(versions: tuple[str, ...]) -> str:
    return "data-version-now:" + ",".join(versions)


def data_version(versions: tuple[str, ...]) -> tuple[str, bool]:
    """The current data version of the tile's tables and whether it was read just now (False:
    the last known one, the database being unreachable)."""
    memo_key = "tile-version:" + ",".join(versions)
    try:
        version = ".".join(str(DataVersion.current(v)) for v in versions)
    except DatabaseError:
        last = _last_versions.get(versions) or cache.get(memo_key)
        if last is None:
            raise
        return last, False
    if _last_versions.get(versions) != version:
        _last_versions[versions] = version
        cache.set(memo_key, version, None)
    if settings.DATA_VERSION_MEMO_SECONDS > 0:
        _recent_versions[versions] = (time.monotonic(), version)
        # (whole seconds: Redis keeps nothing for less than one)
        shared_for = max(1, math.ceil(settings.DATA_VERSION_MEMO_SECONDS))
        cache.set(_shared_version_key(versions), version, shared_for)
    return version, True


def recent_data_version(versions: tuple[str, ...]) -> str | None:
    """The data version of the tables as read at most DATA_VERSION_MEMO_SECONDS ago: by this
    process (no I/O), else by any process (the shared cache), else now from the database.
    None while the database does not answer (the caller takes the full path, which serves
    cached tiles through an outage). Versions only grow, so a version read a moment ago is
    at worst one a write has just replaced: a tile is then served as it was before that
    write for at most twice DATA_VERSION_MEMO_SECONDS (browsers keep tiles for 60 s anyway,
    Cache-Control) and is never cached under a newer version than its data."""
    seconds = settings.DATA_VERSION_MEMO_SECONDS
    if seconds > 0:
        now = time.monotonic()
        recent = _recent_versions.get(versions)
        if recent is not None and now - recent[0] < seconds:
            return recent[1]
        shared = cache.get(_shared_version_key(versions))
        if shared is not None:
            _recent_versions[versions] = (now, shared)
            return shared
    try:
        version, live = data_version(versions)
    except DatabaseError:
        return None
    return version if live else None


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
    current: str | None = None,
) -> HttpResponse:
    """The tile from cache, or built and cached; with an ETag so browsers revalidate cheaply.
    `version`: what the tile is built from when that is not the tables' current data
    version (precomputed aggregates that lag the tables by a rebuild); `current`: then the
    tables' data version under which that tile is the right answer (None: the aggregates
    are behind, the tile is not offered to the fast path)."""
    error = tile_error(z, x, y)
    if error is not None:
        return error
    if version is None:
        version, live = data_version(versions)
        current = version if live else None
    else:
        live = True  # read from the database just now by the caller
    day = timezone.localdate().isoformat()
    # Staleness changes what is public without a write (see the module doc).
    version += f"@{day}"
    etag = quote_etag(f"{name}-{version}-{z}-{x}-{y}")
    # One label per tile set, not per filter digest: "sites-<digest>" counts as "sites".
    tileset = name.split("-")[0] if name.startswith("sites-") else name
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        key = f"tile:{name}:{version}:{z}:{x}:{y}"
        tile = cache.get(key) if settings.TILE_CACHE_SECONDS else None
        if settings.TILE_CACHE_SECONDS:
            result = "miss" if tile is None else "hit" if live else "stale_hit"
            TILE_CACHE.labels(tileset, result).inc()
        if tile is None:
            if not live:
                raise DatabaseUnavailable("tile not cached and the database is unreachable")
            tile = build()
            if settings.TILE_CACHE_SECONDS:
                cache.set(key, tile, settings.TILE_CACHE_SECONDS)
        response = HttpResponse(tile, content_type=MVT_CONTENT_TYPE, status=200 if tile else 204)
        if settings.TILE_CACHE_SECONDS and live and current is not None:
            # The cached-tile fast path may answer this URL from now on, as long as the
            # tables stay at `current` and the day does not change (sitefinder.fastpath).
            response._fast_tile = FastTile(  # type: ignore[attr-defined]
                versions=versions, current=current, day=day, key=key, etag=etag, tileset=tileset
            )
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=60)
    return response


@dataclass(frozen=True)
class FastTile:
    """What the fast path needs to serve a tile again without the view: the tables and the
    data version it is right for, the day, its cache key and ETag."""

    versions: tuple[str, ...]
    current: str
    day: str
    key: str
    etag: str
    tileset: str
