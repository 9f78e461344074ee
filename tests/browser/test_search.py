"""The investor search in a real browser, offline: filters, list, map, drawn area and the
URL as the whole state (reload, back button, shared links), by mouse and by keyboard."""

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from geodata.models import Municipality
from properties.models import Site
from search.models import SavedSearch
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = "#result-list .result"
SITE_PATHS = ".layer-sites path.leaflet-interactive"


def at(x: float, y: float) -> Point:
    return Point(x, y, srid=25832)


@pytest.fixture
def sites(reference_data, essen, dortmund):
    """Hand-placed sites: two close together in the centre of Essen, one in Dortmund, one
    in Bochum."""
    bochum = Municipality.objects.get(ags="05911000")
    centre = essen.centre.transform(25832, clone=True)
    return {
        "essen_plot": SiteFactory(
            title="Gewerbepark Essen-Mitte",
            municipality=essen,
            at=at(centre.x, centre.y),
            area_m2=25_000,
            price_eur_m2=Decimal("95.00"),
        ),
        "essen_hall": SiteFactory(
            title="Halle Essen-Ost",
            kind=Site.Kind.HALL,
            municipality=essen,
            geom=at(centre.x + 2_500, centre.y),
            area_m2=6_000,
            price_eur_m2=None,
            price_on_request=True,
        ),
        "dortmund_plot": SiteFactory(
            title="Logistikfläche Dortmund",
            municipality=dortmund,
            area_m2=80_000,
            price_eur_m2=Decimal("60.00"),
            is_demo=True,
            seed=7,
        ),
        "bochum_office": SiteFactory(
            title="Büro Bochum",
            kind=Site.Kind.OFFICE,
            municipality=bochum,
            geom=bochum.centre.transform(25832, clone=True),
            area_m2=1_200,
        ),
    }


def open_search(browser_page, query: str = ""):
    page = browser_page.page
    page.goto(browser_page.url("/" + (f"?{query}" if query else "")))
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    return page


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def titles(page) -> list[str]:
    return page.locator(f"{RESULTS} .result__title").all_text_contents()


def view_on(site: Site, zoom: int = 14) -> str:
    centre = site.geom.centroid.transform(4326, clone=True)
    return f"map={zoom}/{centre.y:.5f}/{centre.x:.5f}"


def test_filter_by_kind_changes_count_list_map_and_url_and_back_restores(browser_page, sites):
    page = open_search(browser_page)
    count = page.locator("#results-count")
    expect(count).to_have_text("4 sites")
    expect(page.locator(RESULTS)).to_have_count(4)

    with page.expect_request(re.compile(r"/tiles/sites/.*kind=hall")):
        page.get_by_role("checkbox", name="Hall / production").check()
    expect(count).to_have_text("1 site")
    expect(page.locator(RESULTS)).to_have_count(1)
    expect(page.locator(RESULTS).first).to_contain_text("Halle Essen-Ost")
    expect(page.locator(RESULTS).first).to_contain_text("Rent on request")  # premises: let
    assert query_of(page)["kind"] == ["hall"]

    # Combined with an area range in hectares: nothing left.
    page.get_by_label("Unit").select_option("ha")
    page.locator("#filter-area_min").fill("2")
    page.locator("#filter-area_min").press("Enter")
    expect(count).to_have_text("0 sites")
    expect(page.locator("#results-empty")).to_be_visible()
    assert query_of(page)["area_min_ha"] == ["2"]

    page.go_back()
    expect(count).to_have_text("1 site")
    expect(page.locator("#filter-area_min")).to_have_value("")
    page.go_back()
    expect(count).to_have_text("4 sites")
    expect(page.get_by_role("checkbox", name="Hall / production")).not_to_be_checked()
    assert "kind" not in query_of(page)
    browser_page.assert_self_contained()


def test_sort_and_reload_restore_the_whole_state(browser_page, sites):
    page = open_search(browser_page)
    page.get_by_label("Sort by").select_option("-area")
    expect(page.locator(f"{RESULTS} .result__title").first).to_have_text("Logistikfläche Dortmund")
    assert titles(page) == [
        "Logistikfläche Dortmund",
        "Gewerbepark Essen-Mitte",
        "Halle Essen-Ost",
        "Büro Bochum",
    ]
    expect(page.locator(RESULTS).first).to_contain_text("8 ha")
    expect(page.locator(RESULTS).nth(3)).to_contain_text("1,200 m²")
    assert query_of(page)["sort"] == ["-area"]

    # A link with filters, sort, map view and a selected site reproduces the search.
    selected = sites["essen_plot"].pk
    page = open_search(
        browser_page, f"kind=plot&sort=area&selected={selected}&{view_on(sites['essen_plot'])}"
    )
    expect(page.get_by_role("checkbox", name="Plot", exact=True)).to_be_checked()
    expect(page.get_by_label("Sort by")).to_have_value("area")
    assert titles(page) == ["Gewerbepark Essen-Mitte", "Logistikfläche Dortmund"]
    expect(page.locator(f'{RESULTS}[data-site-id="{selected}"]')).to_have_class(
        re.compile(r"result--selected")
    )
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    # The selected site is drawn with the selection outline.
    expect(page.locator(f'{SITE_PATHS}[stroke="#111111"]').first).to_be_attached()
    browser_page.screenshot("search.png")
    browser_page.assert_self_contained()


def test_hovering_a_list_entry_highlights_its_site_and_back(browser_page, sites):
    page = open_search(browser_page, view_on(sites["essen_plot"], 13))
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    highlighted = page.locator(f'{SITE_PATHS}[stroke-width="4"]')
    expect(highlighted).to_have_count(0)

    entry = page.locator(f'{RESULTS}[data-site-id="{sites["essen_plot"].pk}"]')
    entry.hover()
    expect(highlighted).to_have_count(1)
    page.locator("#results-count").hover()
    expect(highlighted).to_have_count(0)

    # And the other way: hovering the site on the map marks its list entry.
    page.locator(SITE_PATHS).first.hover()
    expect(page.locator(f"{RESULTS}.result--hover")).to_have_count(1)
    browser_page.assert_self_contained()


def test_drawn_polygon_limits_the_results(browser_page, sites):
    page = open_search(browser_page, view_on(sites["essen_plot"], 14))
    box = page.locator("#map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    page.get_by_role("button", name="Draw area").click()
    expect(page.get_by_role("button", name="Draw area")).to_have_attribute("aria-pressed", "true")
    # A square of 200 px (about 1.2 km at zoom 14) around the Essen plot; the hall lies
    # 2.5 km to the east, outside.
    corners = [
        (cx - 100, cy - 100),
        (cx + 100, cy - 100),
        (cx + 100, cy + 100),
        (cx - 100, cy + 100),
    ]
    for x, y in [*corners, corners[0]]:
        page.mouse.move(x, y)
        page.mouse.click(x, y)
    expect(page.locator("#results-count")).to_have_text("1 site")
    assert titles(page) == ["Gewerbepark Essen-Mitte"]
    area = query_of(page)["area"][0]
    assert '"type":"Polygon"' in area
    expect(page.locator("#search-area-status")).to_have_text("Search area: drawn polygon")

    # Combined with a filter: no hall inside the area.
    page.get_by_role("checkbox", name="Hall / production").check()
    expect(page.locator("#results-count")).to_have_text("0 sites")

    # The area comes back with a reload; "Clear area" removes it.
    page.reload()
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    expect(page.locator("#results-count")).to_have_text("0 sites")
    expect(page.locator(".leaflet-overlay-pane path")).to_have_count(1)
    page.get_by_role("checkbox", name="Hall / production").uncheck()
    expect(page.locator("#results-count")).to_have_text("1 site")
    page.get_by_role("button", name="Clear area").click()
    expect(page.locator("#results-count")).to_have_text("4 sites")
    assert "area" not in query_of(page)
    browser_page.assert_self_contained()


def test_radius_search_from_the_url(browser_page, sites):
    centre = sites["essen_plot"].geom.centroid.transform(4326, clone=True)
    page = open_search(browser_page, f"near={centre.x:.6f},{centre.y:.6f}&radius_m=3000")
    expect(page.locator("#results-count")).to_have_text("2 sites")
    expect(page.locator("#search-area-status")).to_contain_text("3 km around a point")
    browser_page.assert_self_contained()


def test_keyboard_only_filter_list_and_detail(browser_page, sites):
    page = open_search(browser_page)

    def tab_to(selector: str, limit: int = 250) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to('input[name="kind"][value="hall"]')
    page.keyboard.press("Space")
    expect(page.locator("#results-count")).to_have_text("1 site")
    tab_to(".result__link")
    # The focused entry is visibly marked (and highlighted on the map).
    expect(page.locator(f"{RESULTS}:focus-within")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/sites/{sites['essen_hall'].pk}/$"))
    browser_page.assert_self_contained()


def test_the_form_works_without_javascript(browser, live_server, sites):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost")
            else route.abort()
        ),
    )
    page.goto(live_server.url + "/")
    expect(page.locator("#results-count")).to_have_text("4 sites")
    page.get_by_role("checkbox", name="Plot", exact=True).check()
    page.get_by_label("Sort by").select_option("-area")
    page.get_by_role("button", name="Show results").click()
    expect(page.locator("#results-count")).to_have_text("2 sites")
    assert parse_qs(urlsplit(page.url).query) == {"kind": ["plot"], "sort": ["-area"]}
    assert page.locator(f"{RESULTS} .result__title").all_text_contents() == [
        "Logistikfläche Dortmund",
        "Gewerbepark Essen-Mitte",
    ]

    # Kilometres become the API's metres; a layer without data is an error next to it.
    page.goto(live_server.url + "/?max_distance_station_km=5&area_min=5&area_max=1")
    assert parse_qs(urlsplit(page.url).query)["max_distance_station_m"] == ["5000"]
    expect(page.locator("#filter-area_max-error")).to_contain_text("inverted")
    expect(page.locator("#filter-max_distance_station_m")).to_have_value("5")
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#filter-max_distance_motorway_m")).to_be_disabled()
    context.close()


def test_german_page_formats_numbers_the_german_way(browser_page, sites):
    page = open_search(browser_page)
    page.get_by_role("button", name="Deutsch", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    expect(page.locator("#results-count")).to_have_text("4 Standorte")
    page.get_by_label("Sortieren nach").select_option("area")
    expect(page.locator(RESULTS).first).to_contain_text("1.200 m²")
    expect(page.locator(RESULTS).last).to_contain_text("8 ha")
    page.get_by_role("checkbox", name="Halle / Produktion").check()
    expect(page.locator("#results-count")).to_have_text("1 Standort")
    expect(page.locator(RESULTS).first).to_contain_text("Miete auf Anfrage")
    browser_page.screenshot("search-de.png")
    browser_page.assert_self_contained()


def test_filters_at_a_fractional_zoom_keep_the_sites_on_the_map(browser_page, sites):
    # The wheel zooms in quarter steps; a filter changed there must ask for whole-zoom tiles.
    page = open_search(browser_page, view_on(sites["essen_plot"], 13).replace("13/", "13.25/"))
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    with page.expect_response(re.compile(r"/tiles/sites/13/\d+/\d+\.pbf\?kind=plot")) as tile:
        page.get_by_role("checkbox", name="Plot", exact=True).check()
    assert tile.value.ok  # 200, or 204 for a tile without sites
    expect(page.locator("#results-count")).to_have_text("2 sites")
    expect(page.locator(SITE_PATHS).first).to_be_attached()
    browser_page.assert_self_contained()


def test_export_links_and_saving_the_search_follow_the_url(browser_page, sites):
    # Pages follow an investor's language once logged in: English here.
    user = UserFactory(username="investor@example.org", email="investor@example.org", language="en")
    page = open_search(browser_page, view_on(sites["essen_plot"], 12))
    page.get_by_role("checkbox", name="Hall / production").check()
    expect(page.locator("#results-count")).to_have_text("1 site")
    page.get_by_label("Sort by").select_option("-area")
    expect(page).to_have_url(re.compile(r"sort=-area"))

    # The exports: the filters and the sort, never the map view.
    for name, path in (
        ("CSV", "/api/v1/sites/export.csv"),
        ("XLSX", "/api/v1/sites/export.xlsx"),
        ("GeoJSON", "/api/v1/sites/export.geojson"),
    ):
        link = page.get_by_role("link", name=f"Download the results as {name}")
        expect(link).to_have_attribute("href", f"{path}?kind=hall&sort=-area")

    # A visitor logs in from the search and comes back to it.
    login = page.get_by_role("link", name="Log in to save this search and get e-mail alerts")
    href = login.get_attribute("href") or ""
    assert parse_qs(urlsplit(href).query)["next"] == [
        urlsplit(page.url).path + "?" + urlsplit(page.url).query
    ]
    login.click()
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("form[action$='/login/'] button[type=submit]").click()
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    assert query_of(page)["kind"] == ["hall"]
    expect(page.locator("#results-count")).to_have_text("1 site")

    # Saved with the search as it is now: a filter changed after the page loaded counts too.
    page.get_by_role("checkbox", name="Plot", exact=True).check()
    expect(page.locator("#results-count")).to_have_text("3 sites")
    page.get_by_text("Save this search").click()
    page.get_by_label("Name of the search").fill("Flächen und Hallen")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved the search “Flächen und Hallen”.")
    expect(page.locator("#results-count")).to_have_text("3 sites")
    assert query_of(page)["kind"] == ["plot", "hall"]
    saved = SavedSearch.objects.get(user=user)
    assert parse_qs(saved.query) == {"kind": ["plot", "hall"], "sort": ["-area"]}
    browser_page.assert_self_contained()


def test_a_count_above_the_exact_limit_says_about(browser_page, sites, settings):
    settings.COUNT_EXACT_MAX = 2
    page = open_search(browser_page)
    count = page.locator("#results-count")
    expect(count).to_have_text(re.compile(r"^\s*about \d+ sites\s*$"))  # the server's page
    # The list's own updates from the API (count_is_exact) say it too, and only above it.
    page.get_by_role("checkbox", name="Hall / production").check()
    expect(count).to_have_text("1 site")
    page.get_by_role("checkbox", name="Office").check()
    expect(count).to_have_text("2 sites")
    page.get_by_role("checkbox", name="Plot", exact=True).check()
    expect(count).to_have_text(re.compile(r"^about \d+ sites$"))
