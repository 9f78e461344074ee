"""A developer machine: scripts/run.sh uses these settings (DEBUG only with --dev)."""

import os

from .base import *  # noqa: F403

DEBUG = os.environ.get("SITEFINDER_DEBUG", "1") == "1"
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-change-me"  # noqa: F405
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost"]  # noqa: F405
