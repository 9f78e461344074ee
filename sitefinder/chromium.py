"""How we start Debian's Chromium headless (browser tests and benchmarks): no sandbox as
root, and no background networking, which this machine's closed network refuses."""

import os

CHROMIUM = os.environ.get("SITEFINDER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
