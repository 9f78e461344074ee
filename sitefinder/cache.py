"""The shared cache: Redis, with an outage costing time, never an error.

Tiles, data versions and throttling counters live in one cache every worker and machine
shares (settings.CACHES). If that cache fails — not started, restarted, out of reach —
every read is a miss, every write is skipped, an increment finds nothing (ValueError, as
for a missing key), and the callers carry on as if nothing were cached: tiles are built
from the database, throttles let requests through. After a failure the cache is left
alone for OUTAGE_BACKOFF_SECONDS, so an unreachable server costs one short timeout per
process now and then, not one per request; each outage is logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger("sitefinder.cache")

OUTAGE_BACKOFF_SECONDS = 5.0


class CacheUnavailable(Exception):
    pass


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()
        import redis

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.available:
            raise CacheUnavailable
        try:
            return getattr(super(), method)(*args, **kwargs)
        except self._errors as exc:
            with self._lock:
                if self.available:
                    logger.warning(
                        "cache unreachable (%r); going without it for %.0f s",
                        exc,
                        OUTAGE_BACKOFF_SECONDS,
                    )
                self._down_until = time.monotonic() + OUTAGE_BACKOFF_SECONDS
            raise CacheUnavailable from exc

    def get(self, key, default=None, version=None):
        try:
            return self._call("get", key, default, version=version)
        except CacheUnavailable:
            return default

    def get_many(self, keys, version=None):
        try:
            return self._call("get_many", keys, version=version)
        except CacheUnavailable:
            return {}

    def has_key(self, key, version=None):
        try:
            return self._call("has_key", key, version=version)
        except CacheUnavailable:
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            self._call("set", key, value, timeout, version=version)
        except CacheUnavailable:
            pass

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("set_many", data, timeout, version=version)
        except CacheUnavailable:
            return list(data)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("add", key, value, timeout, version=version)
        except CacheUnavailable:
            return False

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("touch", key, timeout, version=version)
        except CacheUnavailable:
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return self._call("incr", key, delta, version=version)
        except CacheUnavailable as exc:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)") from exc

    def delete(self, key, version=None):
        try:
            return self._call("delete", key, version=version)
        except CacheUnavailable:
            return False

    def delete_many(self, keys, version=None):
        try:
            self._call("delete_many", keys, version=version)
        except CacheUnavailable:
            pass

    def clear(self):
        try:
            return self._call("clear")
        except CacheUnavailable:
            return False
