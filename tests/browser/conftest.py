"""Real-browser tests: Debian's Chromium driven by Playwright's sync API against live_server.

No internet: every request to a host other than the live server is aborted and recorded,
and the tests assert that none was needed.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    sync_playwright,
)

from geodata.models import Municipality
from sitefinder.chromium import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS
from tests.conftest import load_reference_data

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that it is safe (it is: the loop only drives the
# browser). Set before any test touches the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

VIEWPORT: ViewportSize = {"width": 1400, "height": 860}

# Screenshots of every run go to test-results/ (ignored by git); the README's pictures come
# from `manage.py readme_screenshots` on the real demo data.
RESULTS_DIR = Path(settings.BASE_DIR) / "test-results" / "screenshots"


@dataclass
class BrowserPage:
    """A page with what went wrong on it: blocked off-site requests and script errors."""

    page: Page
    base_url: str
    blocked_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "CSP violation" in e or "Content Security Policy" in e]

    def assert_self_contained(self) -> None:
        assert self.blocked_requests == [], "the page asked for off-site resources"
        assert self.csp_violations == [], "the page broke its Content-Security-Policy"
        assert self.errors == [], "the page had script errors"

    def screenshot(self, name: str, **kwargs) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / name
        # Finish CSS transitions (Leaflet fades popups in) before taking the picture.
        self.page.screenshot(path=str(path), animations="disabled", **kwargs)
        return path


@pytest.fixture
def reference_data(transactional_db) -> None:
    """The reference data for live_server tests (reloaded after a flush)."""
    if not Municipality.objects.exists():
        load_reference_data()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return True  # data:, blob: and the like never leave the machine
    return parts.hostname in LOCAL_HOSTS


def _open_page(
    browser: Browser, base_url: str, locale: str = "en-GB"
) -> tuple[BrowserContext, BrowserPage]:
    """A page in a context of its own (own cookies) that cannot reach anything but the
    server: every other request is aborted and recorded, as are script errors."""
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    result = BrowserPage(page=page, base_url=base_url)

    def only_local(route: Route) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            result.blocked_requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    # Every Content-Security-Policy violation is reported as a console error (Chromium also
    # logs its own "Refused to ..." line): assert_self_contained fails on either.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));"
    )
    page.on("pageerror", lambda error: result.errors.append(str(error)))
    page.on(
        "console",
        lambda message: result.errors.append(message.text) if message.type == "error" else None,
    )
    return context, result


@pytest.fixture
def browser_page(browser: Browser, live_server) -> Iterator[BrowserPage]:
    """A fresh English page (its own cookies) that cannot reach anything but the server."""
    context, result = _open_page(browser, live_server.url)
    yield result
    context.close()
    # Whatever the test checked: no page may break its Content-Security-Policy.
    assert result.csp_violations == [], "a page broke its Content-Security-Policy"


@pytest.fixture
def new_page(browser: Browser, live_server) -> Iterator[Callable[..., BrowserPage]]:
    """More pages like `browser_page`, each in its own context: another person at another
    computer. `new_page(locale="de-DE")` opens one."""
    contexts: list[BrowserContext] = []
    pages: list[BrowserPage] = []

    def make(locale: str = "en-GB") -> BrowserPage:
        context, result = _open_page(browser, live_server.url, locale)
        contexts.append(context)
        pages.append(result)
        return result

    yield make
    for context in contexts:
        context.close()
    for page in pages:
        assert page.csp_violations == [], "a page broke its Content-Security-Policy"
