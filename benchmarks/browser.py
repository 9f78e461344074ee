"""The map's first paint in headless Chromium, with every non-loopback request refused."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from sitefinder.chromium import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS

SITES_DRAWN = "document.querySelectorAll('.layer-sites path').length > 0"


def first_paint(port: int, *, repeat: int) -> dict[str, list[float]]:
    """Per run (fresh browser context, cold HTTP cache): first contentful paint and the time
    until the first sites are drawn on the map, in ms from navigation start."""
    from playwright.sync_api import sync_playwright

    timings: dict[str, list[float]] = {"fcp": [], "sites": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeat + 1):  # the first run warms the server, not the browser
                context = browser.new_context(viewport={"width": 1400, "height": 860})
                page = context.new_page()
                page.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if urlsplit(route.request.url).hostname in LOCAL_HOSTS
                        or not route.request.url.startswith("http")
                        else route.abort()
                    ),
                )
                started = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function(SITES_DRAWN, timeout=30_000)
                sites = (time.perf_counter() - started) * 1000
                fcp = page.evaluate(
                    "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
                )
                context.close()
                if _ == 0:
                    continue
                timings["sites"].append(sites)
                if fcp is not None:
                    timings["fcp"].append(fcp)
        finally:
            browser.close()
    return timings
