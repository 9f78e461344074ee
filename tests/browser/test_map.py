"""The map page, the site popup and the site detail page in a real browser, offline."""

import random
import re
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from geodata.models import Municipality
from properties.models import Site
from properties.presentation import SITE_KIND_COLOURS
from tests.factories import SiteFactory, point_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE_PATHS = ".layer-sites path.leaflet-interactive"


def site_paths_of_kind(page, kind: str):
    """Sites on the map are SVG paths filled with their kind's colour."""
    return page.locator(f'{SITE_PATHS}[fill="{SITE_KIND_COLOURS[kind]}"]')


def point_inside(municipality: Municipality, seed: int) -> Point:
    return point_in(municipality, random.Random(seed))


@pytest.fixture
def sites(reference_data, essen, dortmund):
    bochum = Municipality.objects.get(ags="05911000")
    return {
        "plot": SiteFactory(
            title="Gewerbepark Testfeld",
            municipality=essen,
            at=point_inside(essen, 1),
            area_m2=25_000,
            price_eur_m2=Decimal("95.00"),
        ),
        "demo_hall": SiteFactory(
            title="Demo-Halle Dortmund",
            kind=Site.Kind.HALL,
            is_demo=True,
            municipality=dortmund,
            geom=point_inside(dortmund, 2),
            area_m2=6_000,
            price_eur_m2=None,
            price_on_request=True,
        ),
        "reserved_office": SiteFactory(
            title="Büro am Bahnhof",
            kind=Site.Kind.OFFICE,
            status=Site.Status.RESERVED,
            municipality=bochum,
            geom=point_inside(bochum, 3),
            area_m2=1_200,
        ),
        "draft": SiteFactory(
            title="Entwurf Logistik",
            kind=Site.Kind.LOGISTICS,
            status=Site.Status.DRAFT,
            municipality=essen,
            at=point_inside(essen, 4),
        ),
    }


def open_map(browser_page, path="/"):
    page = browser_page.page
    page.goto(browser_page.url(path))
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    return page


def open_layer_panel(page):
    """Layers and legend sit in a collapsed panel over the map."""
    page.locator("#map-panel > summary").click()
    expect(page.locator("#map-panel")).to_have_attribute("open", "")


def test_map_shows_public_sites_layers_and_attribution(browser_page, sites):
    page = open_map(browser_page)

    # Public sites are drawn (from vector tiles), drafts are not.
    expect(site_paths_of_kind(page, Site.Kind.PLOT).first).to_be_visible()
    expect(site_paths_of_kind(page, Site.Kind.HALL).first).to_be_visible()
    expect(site_paths_of_kind(page, Site.Kind.OFFICE).first).to_be_visible()
    expect(site_paths_of_kind(page, Site.Kind.LOGISTICS)).to_have_count(0)

    # Without a base map the region's boundaries give orientation.
    expect(page.locator("#map")).to_have_class(re.compile(r"\bmap--plain\b"))
    expect(page.locator(".layer-region path").first).to_be_attached()
    expect(page.locator(".layer-municipalities path").first).to_be_attached()

    # Switching stations on draws them; switching them off removes them.
    open_layer_panel(page)
    stations = page.locator(".layer-stations path")
    expect(stations).to_have_count(0)
    page.get_by_role("checkbox", name="Railway stations").check()
    # 197 stations in the region (some twice, in the buffers of neighbouring tiles).
    # (a locator, not wait_for_function: its string is eval'd, which the page's CSP refuses)
    page.locator(".layer-stations path").nth(196).wait_for(state="attached")
    page.get_by_role("checkbox", name="Railway stations").uncheck()
    expect(stations).to_have_count(0)

    # A layer without data is listed, plainly marked, and cannot be switched on.
    motorways = page.get_by_role("checkbox", name="Motorways")
    expect(motorways).to_be_disabled()
    expect(page.locator("#layer-motorways-empty")).to_have_text("no data loaded yet")
    expect(motorways).to_have_attribute("aria-describedby", "layer-motorways-empty")

    # The legend explains the site colours; the attribution credits the visible data.
    expect(page.locator(".legend")).to_contain_text("Hall / production")
    attribution = page.locator(".leaflet-control-attribution")
    expect(attribution).to_contain_text("GeoBasis-DE / BKG")
    expect(attribution).to_contain_text("Streckennetz: DB Netz AG")
    expect(attribution.get_by_role("link", name="Data & licences")).to_have_attribute(
        "href", "/en/data/"
    )

    browser_page.screenshot("map.png")
    browser_page.assert_self_contained()


def test_site_popup_links_to_detail_page(browser_page, sites):
    page = open_map(browser_page)
    popup = page.locator(".leaflet-popup-content")

    # The demo hall: its popup says plainly that it is demo data.
    site_paths_of_kind(page, Site.Kind.HALL).first.click()
    expect(popup.locator(".site-popup__title")).to_have_text("Demo-Halle Dortmund")
    expect(popup.locator(".badge--demo")).to_have_text("Demo data")
    expect(popup).to_contain_text("on request")
    expect(popup).to_contain_text("Dortmund")
    page.locator(".leaflet-popup-close-button").click()
    expect(popup).to_have_count(0)

    # A real (test) plot: no demo badge; the facts; a link to its page.
    site_paths_of_kind(page, Site.Kind.PLOT).first.click()
    expect(popup.locator(".site-popup__title")).to_have_text("Gewerbepark Testfeld")
    expect(popup.locator(".badge--demo")).to_have_count(0)
    expect(popup).to_contain_text("Plot")
    expect(popup).to_contain_text("25,000 m² (2.5 ha)")
    expect(popup).to_contain_text("95.00 €/m²")
    expect(popup).to_contain_text("Essen")
    browser_page.screenshot("map-popup.png")

    popup.get_by_role("link", name="Details of Gewerbepark Testfeld").click()
    expect(page).to_have_url(re.compile(rf"/sites/{sites['plot'].pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Gewerbepark Testfeld")
    expect(page.locator("#site-map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#site-map .leaflet-sites-pane path")).to_have_count(1)

    facts = page.locator(".site__facts")
    expect(facts).to_contain_text("2.5 ha gross")  # the one way an area is told
    expect(facts).to_contain_text("GE – commercial area")
    expect(facts).to_contain_text("immediately")

    distances = page.locator("table.distances tbody tr")
    expect(distances).to_have_count(9)  # one row per stored distance
    stations_row = distances.filter(has_text=re.compile(r"^\s*Railway stations\s"))
    expect(stations_row.first).to_contain_text(re.compile(r"\d+\.\d\s*km"))
    expect(distances.filter(has_text="Motorways").first).to_contain_text("Layer not loaded yet")

    browser_page.screenshot("site-detail.png", full_page=True)
    browser_page.assert_self_contained()


def test_demo_site_page_is_marked_and_drafts_are_hidden(browser_page, sites):
    page = browser_page.page
    page.goto(browser_page.url(f"/sites/{sites['demo_hall'].pk}/"))
    expect(page.locator(".site__meta .badge--demo")).to_have_text("Demo data")
    expect(page.locator(".notice--demo")).to_contain_text("not a real offer")

    response = page.goto(browser_page.url(f"/sites/{sites['draft'].pk}/"))
    assert response.status == 404
    # The 404 page's "failed to load" console message is expected here.
    browser_page.errors.clear()
    browser_page.assert_self_contained()


def test_attributions_page_lists_every_dataset(browser_page, sites):
    page = browser_page.page
    page.goto(browser_page.url("/data/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Data & licences")
    expect(page.locator("#dataset-db-stations")).to_contain_text("CC BY 4.0")
    expect(page.locator("#dataset-vg250-gemeinden")).to_contain_text("GeoBasis-DE / BKG")
    expect(page.locator("#dataset-hochschulkompass .notice--warning")).to_be_visible()
    expect(page.locator("#demo-data")).to_contain_text("1 demo site")
    browser_page.assert_self_contained()


def test_language_switcher_changes_the_page_language(browser_page, sites):
    page = open_map(browser_page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Deutsch", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Deutsch", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("heading", name="Ebenen und Legende")).to_be_visible()
    open_layer_panel(page)
    expect(page.get_by_role("checkbox", name="Bahnhöfe", exact=True)).to_be_enabled()
    expect(page.locator("#layer-motorways-empty")).to_have_text("noch keine Daten")
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    browser_page.assert_self_contained()


def test_clusters_show_their_number_and_a_broad_search_says_to_zoom_in(
    browser_page, essen, settings
):
    # Three plots 150 m apart share one grid cell at the region's zoom.
    for i, dx in enumerate((0, 150, 300)):
        SiteFactory(
            municipality=essen, at=Point(362_800 + dx, 5_703_800, srid=25832), area_m2=2_500, seed=i
        )
    page = open_map(browser_page)
    label = page.locator(".layer-sites text.cluster-label")
    expect(label).to_have_count(1)
    expect(label).to_have_text("3")
    expect(page.locator("#map-status")).to_be_hidden()

    # A search with more sites under a low-zoom tile than are grouped on the fly: the
    # circles count all sites, drawn hollow, and the status line says so.
    settings.SITE_TILE_FILTERED_CLUSTER_MAX = 2
    page = open_map(browser_page, "/?kind=plot")
    expect(page.locator(".layer-sites text.cluster-label--unfiltered")).to_have_text("3")
    expect(page.locator("#map-status")).to_contain_text("Zoom in to see only the search")
