"""The test suite: real PostGIS, fast hashing, mail kept in memory by Django's test runner."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# live_server serves static files itself; WhiteNoise would only warn about STATIC_ROOT.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
# The API and pages are tested in English; German is tested where it matters.
LANGUAGE_CODE = "en"
# Separate test databases for parallel runs on one cluster (e.g. two worktrees).
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SITEFINDER_TEST_DB", "test_sitefinder")}  # noqa: F405
# Tasks run at once, inside the request that enqueues them (one test uses the database
# backend and its worker).
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Throttles are tested by the tests that set them low (tests/security): no other test may
# trip them by accident.
API_ANONYMOUS_RATE = "100000/minute"
AXES_FAILURE_LIMIT = 5
# The low-zoom aggregates are rebuilt inside the request that finds them behind, so a test
# sees a write on the map at once (and no thread outlives its transaction).
SITE_CLUSTERS_REBUILD_INLINE = True
# A local-memory cache per test process: no Redis needed to run the suite (the shared cache
# itself is tested against a real redis-server in tests/test_cache.py).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "sitefinder",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}
# A write shows in the next tile (no data version is trusted from a moment ago); the
# memo itself is tested with this overridden (tests/api/test_tile_fast_path.py).
DATA_VERSION_MEMO_SECONDS = 0.0
# Tests change settings and data between requests and expect a fresh render: the anonymous
# page cache is tested on its own with this overridden (tests/api/test_anonymous_cache.py).
ANONYMOUS_PAGE_CACHE_SECONDS = 0
# Forms need no human pause in tests; the spam-protection tests set it back themselves.
SITEFINDER_FORM_MIN_FILL_SECONDS = 0
