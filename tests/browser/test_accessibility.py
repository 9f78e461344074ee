"""WCAG 2.1 AA, checked by a machine: axe-core (from npm, package-lock.json) runs in the
real browser on every kind of page, in English and German, and the search works with the
keyboard alone, with the focus always visible."""

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from accounts.models import User
from properties.models import Site
from search.models import SavedSearch
from tests.browser.conftest import BrowserPage
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# Third-party elements axe may skip: selector -> why. Only a specific element of a library
# (Leaflet, Geoman), never a page or one of our own controls. Empty: Leaflet 1.9's map,
# controls and tiles (alt="") pass as they are.
AXE_EXCLUDE: dict[str, str] = {}

PASSWORD = "correct horse battery"


def axe_violations(page: Page) -> list[dict]:
    """The serious and critical WCAG 2.1 A/AA violations axe finds on the page as it is."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern; a
        # <script> tag (add_script_tag) would be an inline script without the nonce.
        page.evaluate(AXE_SCRIPT.read_text() + "\n;undefined")
    results = page.evaluate(
        """([exclude, tags]) => axe.run(
            { include: [document], exclude: exclude.map((selector) => [selector]) },
            { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] },
        )""",
        [list(AXE_EXCLUDE), WCAG_21_AA],
    )
    return [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    """One paragraph per rule: what is wrong, how to fix it, and where (at most 5 nodes)."""
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"\n[{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({len(violation['nodes'])} elements) {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"  - {' '.join(map(str, node['target']))}: {summary}")
            lines.append(f"    {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(browser_page: BrowserPage) -> None:
    page = browser_page.page
    # Closed <details> (filters by place, map layers and legend) are checked open.
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    violations = axe_violations(page)
    assert violations == [], f"axe found WCAG 2.1 AA violations on {page.url}:" + describe(
        violations
    )
    browser_page.assert_self_contained()


def use_language(browser_page: BrowserPage, language: str) -> None:
    """The visitor's language: the cookie (where unprefixed addresses redirect) and the
    URLs the test builds (reverse() gives /<language>/…)."""
    browser_page.page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": browser_page.base_url}]
    )
    translation.activate(language)


def ready_search(page: Page) -> None:
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")


def make_site(**fields) -> Site:
    # factory_boy's stubs type a factory call as the factory.
    return cast(Site, SiteFactory(**fields))


@pytest.fixture
def sites(reference_data, essen, dortmund) -> dict[str, Site]:
    centre = essen.centre.transform(25832, clone=True)
    return {
        "plot": make_site(
            title="Gewerbepark Essen-Mitte",
            municipality=essen,
            at=Point(centre.x, centre.y, srid=25832),
            area_m2=25_000,
            price_eur_m2=Decimal("95.00"),
            description="Erschlossene Fläche am Stadtrand.\nSofort verfügbar.",
        ),
        "hall": make_site(
            title="Halle Essen-Ost",
            kind=Site.Kind.HALL,
            municipality=essen,
            at=Point(centre.x + 2_500, centre.y, srid=25832),
            area_m2=6_000,
            price_eur_m2=None,
            price_on_request=True,
            status=Site.Status.RESERVED,
        ),
        "demo": make_site(
            title="Logistikfläche Dortmund",
            municipality=dortmund,
            area_m2=80_000,
            is_demo=True,
            seed=7,
        ),
    }


def open_search_with_error(
    browser_page: BrowserPage, sites: dict[str, Site], language: str
) -> None:
    page = browser_page.page
    page.goto(browser_page.url("/?area_min=5&area_max=1"))
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#filter-area_max-error")).to_be_visible()
    expect(page.locator("#form-errors")).to_be_visible()
    # The map still asks for site tiles with the invalid filters, and the tile view answers
    # them 400: expected here (the form shows the error), not what this test is about.
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    browser_page.errors[:] = [e for e in browser_page.errors if "400 (Bad Request)" not in e]


def shortlist_sites(browser_page: BrowserPage, *shortlisted: Site) -> None:
    """Puts the sites on the shortlist through its API, as the page's buttons do."""
    page = browser_page.page
    page.goto(browser_page.url(reverse("shortlist")))
    page.evaluate(
        """async ([api, ids]) => {
            const shortlist = await import('/static/js/shortlist/toggle.js');
            for (const id of ids) { await shortlist.addToShortlist(api, id); }
        }""",
        [reverse("api-shortlist"), [site.pk for site in shortlisted]],
    )


def open_search_results(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    # One site on the shortlist: the result list shows both states of its buttons.
    shortlist_sites(browser_page, sites["hall"])
    page = browser_page.page
    page.goto(browser_page.url(f"/?selected={sites['plot'].pk}"))
    ready_search(page)
    expect(page.locator("#result-list .result")).to_have_count(3)
    expect(page.locator(".result__shortlist[aria-pressed=true]")).to_have_count(1)
    expect(page.locator(".result__shortlist[aria-pressed=false]")).to_have_count(2)


def log_in(browser_page: BrowserPage, language: str, next_url: str) -> None:
    # The pages follow the investor's language after login.
    user = cast(
        User,
        UserFactory(
            email="investor@example.org", username="investor@example.org", language=language
        ),
    )
    SavedSearch.objects.create(user=user, name="Hallen in Essen", query="kind=hall", language="de")
    SavedSearch.objects.create(
        user=user, name="Große Flächen", query="area_min=50000", language="en", is_active=False
    )
    page = browser_page.page
    page.goto(browser_page.url(reverse("login") + "?next=" + next_url))
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


def open_search_logged_in(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    log_in(browser_page, language, "/?kind=hall")
    ready_search(browser_page.page)
    expect(browser_page.page.locator("#result-list .result")).to_have_count(1)


def open_detail(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    page = browser_page.page
    page.goto(browser_page.url(reverse("site_detail", args=[sites["plot"].pk])))
    expect(page.locator("#site-map.leaflet-container")).to_be_attached()


def open_demo_detail(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    page = browser_page.page
    page.goto(browser_page.url(reverse("site_detail", args=[sites["demo"].pk])))
    expect(page.locator("#site-map.leaflet-container")).to_be_attached()


def open_shortlist(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    shortlist_sites(browser_page, sites["plot"], sites["hall"])
    page = browser_page.page
    page.goto(browser_page.url(reverse("shortlist")))
    expect(page.locator("table.compare thead th[scope=col]")).to_have_count(2)


def open_data(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    browser_page.page.goto(browser_page.url(reverse("attributions")))


def open_login(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    page = browser_page.page
    page.goto(browser_page.url(reverse("login")))
    # With the errors of a failed attempt shown.
    page.locator("input[name=username]").fill("nobody@example.org")
    page.locator("input[name=password]").fill("wrong")
    page.locator("form[action$='/login/'] button[type=submit]").click()
    expect(page.locator(".form-errors")).to_be_visible()


def open_signup(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    page = browser_page.page
    page.goto(browser_page.url(reverse("signup")))
    page.locator("form[action$='/signup/'] button[type=submit]").click()
    expect(page.locator(".form-field--invalid").first).to_be_visible()


def open_saved_searches(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    log_in(browser_page, language, reverse("saved_searches"))
    expect(browser_page.page.locator("ul.saved-searches > li.saved-search")).to_have_count(2)


def open_not_found(browser_page: BrowserPage, sites: dict[str, Site], language: str) -> None:
    response = browser_page.page.goto(browser_page.url("/no-such-page/"))
    assert response is not None and response.status == 404
    # Chromium logs the 404 of the page itself as a console error.
    browser_page.errors[:] = [e for e in browser_page.errors if "404 (Not Found)" not in e]


PAGES: dict[str, Callable[[BrowserPage, dict[str, Site], str], None]] = {
    "search-error": open_search_with_error,
    "search-results": open_search_results,
    "search-logged-in": open_search_logged_in,
    "detail": open_detail,
    "detail-demo": open_demo_detail,
    "shortlist": open_shortlist,
    "data": open_data,
    "login": open_login,
    "signup": open_signup,
    "saved-searches": open_saved_searches,
    "404": open_not_found,
}


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_has_no_serious_wcag_violations(browser_page, sites, page_name, language):
    use_language(browser_page, language)
    PAGES[page_name](browser_page, sites, language)
    expect(browser_page.page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(browser_page)


# --- keyboard --------------------------------------------------------------------------

FOCUS_INDICATOR = """() => {
    const element = document.activeElement;
    if (element === document.body) {
        return { visible: true, element: 'body' };  // focus is in the browser's own UI
    }
    const style = getComputedStyle(element);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none';
    return {
        visible: outline || shadow,
        element: element.outerHTML.slice(0, 120),
    };
}"""


class Keyboard:
    """Tabbing through a page, checking that every element that takes the focus shows it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.invisible: list[str] = []

    def tab_to(self, selector: str, limit: int = 250) -> None:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            indicator = self.page.evaluate(FOCUS_INDICATOR)
            if not indicator["visible"]:
                self.invisible.append(indicator["element"])
            if self.page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    def assert_focus_always_visible(self) -> None:
        assert self.invisible == [], "focused without a visible indicator:\n" + "\n".join(
            self.invisible
        )


def test_keyboard_alone_filters_list_and_detail_with_visible_focus(browser_page, sites):
    page = browser_page.page
    page.goto(browser_page.url("/"))
    ready_search(page)
    keyboard = Keyboard(page)

    # The first Tab from the top lands on the skip link.
    keyboard.tab_to(".skip-link", limit=1)
    keyboard.tab_to("#search-form :is(input, select, button):not([type=hidden])")
    keyboard.tab_to('input[name="kind"][value="hall"]')
    page.keyboard.press("Space")
    expect(page.locator('input[name="kind"][value="hall"]')).to_be_checked()
    expect(page.locator("#results-count")).to_have_text("1 site")

    keyboard.tab_to(".result__link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/sites/{sites['hall'].pk}/$"))

    # The shortlist button appears once the page knows the shortlist.
    expect(page.locator("[data-shortlist-toggle]")).to_be_visible()
    keyboard.tab_to("a.button--expose")
    keyboard.tab_to("[data-shortlist-toggle]", limit=5)
    expect(page.locator("[data-shortlist-toggle]")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Enter")
    expect(page.locator("[data-shortlist-toggle]")).to_have_attribute("aria-pressed", "true")
    keyboard.assert_focus_always_visible()
    browser_page.assert_self_contained()
