"""The shared cache (Redis in production, see settings.CACHES), used so that an outage of it
costs time, never an error: a read that fails is a miss, a write that fails is skipped, and
the caller builds what it wanted (a tile, a count) from the database as if nothing were
cached. Each failure is logged once per minute per process, not once per request."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("sitefinder.cache")

_LOG_EVERY_SECONDS = 60.0
_last_logged = 0.0


def _failed(action: str, key: str, exc: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:
        _last_logged = now
        logger.warning("cache %s of %s failed, going without the cache: %r", action, key, exc)


def cache_get(key: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except Exception as exc:  # any backend error (connection refused, timeout, …)
        _failed("read", key, exc)
        return default


def cache_set(key: str, value: Any, timeout: float | None) -> bool:
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        _failed("write", key, exc)
        return False
    return True
