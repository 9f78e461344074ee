"""An investor's whole journey in Chromium, offline: filter, draw an area, open a site from
the list, shortlist it, see it on the shortlist, export the results as CSV and switch to
German; every request to another host is blocked, and none may be needed."""

import csv
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from geodata.models import Municipality
from properties.models import Site
from properties.services.export import export_attribution
from tests.factories import SiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = "#result-list .result"
SITE_PATHS = ".layer-sites path.leaflet-interactive"


@pytest.fixture
def sites(reference_data, essen, dortmund):
    """Hand-placed sites: three plots within 250 m of Essen's centre (one of them small), a
    hall 2.5 km east of it, a large plot in Dortmund and an office in Bochum."""
    bochum = Municipality.objects.get(ags="05911000")
    centre = essen.centre.transform(25832, clone=True)

    def near_centre(dx: float, dy: float) -> Point:
        return Point(centre.x + dx, centre.y + dy, srid=25832)

    return {
        "essen_plot": SiteFactory(
            title="Gewerbepark Essen-Mitte",
            municipality=essen,
            at=near_centre(0, 0),
            area_m2=25_000,
            price_eur_m2=Decimal("95.00"),
        ),
        "essen_west": SiteFactory(
            title="Gewerbehof Essen-West",
            municipality=essen,
            at=near_centre(-250, 0),
            area_m2=12_000,
            price_eur_m2=Decimal("70.50"),
        ),
        "essen_small": SiteFactory(
            title="Parzelle Essen-Nord",
            municipality=essen,
            at=near_centre(0, 250),
            area_m2=3_000,
        ),
        "essen_hall": SiteFactory(
            title="Halle Essen-Ost",
            kind=Site.Kind.HALL,
            municipality=essen,
            at=near_centre(2_500, 0),
            area_m2=6_000,
        ),
        "dortmund_plot": SiteFactory(
            title="Logistikfläche Dortmund",
            municipality=dortmund,
            area_m2=80_000,
            seed=7,
        ),
        "bochum_office": SiteFactory(
            title="Büro Bochum",
            kind=Site.Kind.OFFICE,
            municipality=bochum,
            at=bochum.centre.transform(25832, clone=True),
            area_m2=1_200,
        ),
    }


def search_ready(page: Page) -> None:
    expect(page.locator("#map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def map_zoom_of(url: str) -> float:
    view = query_of(url).get("map", ["0/0/0"])[0]
    return float(view.split("/")[0])


def map_zoom(page: Page) -> float:
    return map_zoom_of(page.url)


def zoom_in_on(page: Page, x: float, y: float, zoom: float) -> None:
    """Turns the mouse wheel over (x, y) until the map is at `zoom` or closer; Leaflet keeps
    the place under the pointer where it is."""
    page.mouse.move(x, y)
    for _ in range(30):
        before = map_zoom(page)
        if before >= zoom:
            return
        page.mouse.wheel(0, -100)

        # The map writes its view into the address once the zoom animation has ended.
        def zoomed(url: str, before: float = before) -> bool:
            return map_zoom_of(url) > before

        try:
            page.wait_for_url(zoomed, timeout=2_000)
        except PlaywrightTimeoutError:
            continue  # a wheel step too small to change the zoom: turn it again
    raise AssertionError(f"the map did not zoom in to {zoom}")


def draw_square(page: Page, x: float, y: float, half_side: float) -> None:
    page.get_by_role("button", name="Draw area").click()
    corners = [
        (x - half_side, y - half_side),
        (x + half_side, y - half_side),
        (x + half_side, y + half_side),
        (x - half_side, y + half_side),
    ]
    for corner_x, corner_y in [*corners, corners[0]]:
        page.mouse.move(corner_x, corner_y)
        page.mouse.click(corner_x, corner_y)


def test_investor_journey(browser_page, sites, essen):
    page = browser_page.page
    count = page.locator("#results-count")

    # The search page, all six sites.
    page.goto(browser_page.url("/"))
    search_ready(page)
    expect(count).to_have_text("6 sites")

    # Filter: plots of at least 10,000 m².
    page.get_by_role("checkbox", name="Plot", exact=True).check()
    expect(count).to_have_text("4 sites")
    page.locator("#filter-area_min").fill("10000")
    page.locator("#filter-area_min").press("Enter")
    expect(count).to_have_text("3 sites")

    # Draw an area around Essen's centre: zoom in where the map names Essen (its label sits
    # on the municipality's centre, where the first plot lies), then draw a square.
    label = page.locator(".municipality-label", has_text=re.compile(rf"^{essen.name}$"))
    expect(label).to_be_visible()
    box = label.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    zoom_in_on(page, x, y, 13.5)
    # 150 px are 0.9-1.8 km at zoom 13-14: the plots 250 m away inside, the hall 2.5 km away
    # (and Dortmund) outside.
    draw_square(page, x, y, 150)
    expect(count).to_have_text("2 sites")
    expect(page.locator("#search-area-status")).to_have_text("Search area: drawn polygon")
    expect(page.locator(SITE_PATHS).first).to_be_attached()
    titles = page.locator(f"{RESULTS} .result__title").all_text_contents()
    assert sorted(titles) == ["Gewerbehof Essen-West", "Gewerbepark Essen-Mitte"]
    state = query_of(page.url)
    assert state["kind"] == ["plot"]
    assert state["area_min"] == ["10000"]
    assert '"type":"Polygon"' in state["area"][0]

    # The export links carry the same search, but not the map view.
    csv_link = page.get_by_role("link", name="Download the results as CSV")
    export_query = query_of(csv_link.get_attribute("href") or "")
    assert export_query == {key: value for key, value in state.items() if key != "map"}
    search_url = page.url

    # Open the first plot's page from the list and shortlist it there.
    plot = sites["essen_plot"]
    page.locator(f'{RESULTS}[data-site-id="{plot.pk}"] .result__link').click()
    expect(page).to_have_url(re.compile(rf"/sites/{plot.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Gewerbepark Essen-Mitte")
    shortlist_button = page.get_by_role("button", name="Shortlist", exact=True)
    expect(shortlist_button).to_have_attribute("aria-pressed", "false")
    shortlist_button.click()
    expect(shortlist_button).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(shortlist_button).to_be_visible()
    expect(shortlist_button).to_have_attribute("aria-pressed", "true")

    # The shortlist shows it.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Shortlist"
    ).click()
    expect(page).to_have_url(re.compile(re.escape(reverse("shortlist")) + "$"))
    table = page.get_by_role("table", name="Shortlisted sites side by side")
    expect(table.get_by_role("link", name="Gewerbepark Essen-Mitte")).to_be_visible()
    expect(table.get_by_role("columnheader")).to_have_count(1)

    # Back to the search, as it was; download its CSV export.
    page.go_back()
    page.go_back()
    expect(page).to_have_url(search_url)
    search_ready(page)
    expect(count).to_have_text("2 sites")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the results as CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with Path(download.path()).open(encoding="utf-8-sig", newline="") as file:
        (credit,), header, *rows = list(csv.reader(file))  # English: comma separated
    id_column = header.index("ID")
    assert sorted(int(row[id_column]) for row in rows) == sorted([plot.pk, sites["essen_west"].pk])
    plot_row = next(row for row in rows if int(row[id_column]) == plot.pk)
    assert "Gewerbepark Essen-Mitte" in plot_row
    with translation.override("en"):
        attribution = " | ".join(export_attribution())
    assert credit == f"Sources: {attribution}"  # once, on the first line
    assert "Sites flagged as demo data" in attribution

    # Deutsch: the same search, German words and German numbers.
    page.get_by_role("button", name="Deutsch", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    search_ready(page)
    assert query_of(page.url)["area"] == state["area"]
    expect(count).to_have_text("2 Standorte")
    expect(page.locator("#search-area-status")).to_have_text("Suchgebiet: gezeichnete Fläche")
    expect(page.get_by_role("checkbox", name="Grundstück", exact=True)).to_be_checked()
    expect(page.locator(f'{RESULTS}[data-site-id="{plot.pk}"]')).to_contain_text("2,5 ha")
    expect(page.locator(f'{RESULTS}[data-site-id="{plot.pk}"]')).to_contain_text("95,00 €/m²")
    expect(page.locator(f'{RESULTS}[data-site-id="{sites["essen_west"].pk}"]')).to_contain_text(
        "70,50 €/m²"
    )
    expect(page.get_by_role("link", name="Ergebnisse als CSV herunterladen")).to_be_visible()
    # The map draws the sites inside the area.
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    expect(page.locator(SITE_PATHS).first).to_be_attached()
    browser_page.screenshot("journey-de.png")
    browser_page.assert_self_contained()
