"""A partner's day in Chromium: log in, upload a file, review the dry run, commit, change one
site's geometry on the map and submit it; staff publish it; investors find it on the map."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site
from sitefinder.l10n import unprefixed_path
from tests.factories import PartnerOrganisationFactory, UserFactory, square

PASSWORD = "correct horse battery"


@pytest.fixture
def people(reference_data, settings, tmp_path) -> dict:
    settings.MEDIA_ROOT = tmp_path / "media"
    essen = Municipality.objects.get(ags="05113000")
    organisation = PartnerOrganisationFactory(name="EWG Essen", municipalities=[essen])
    return {
        "partner": UserFactory(
            username="anna", role=User.Role.PARTNER, organisation=organisation, language="en"
        ),
        "staff": UserFactory(username="stefanie", role=User.Role.STAFF, language="en"),
    }


def upload_file(folder: Path) -> Path:
    essen = Municipality.objects.get(ags="05113000")
    centre = essen.geom.buffer(-1500).point_on_surface
    features = []
    for number, ref in enumerate(("E-1", "E-2")):
        geom = square(Point(centre.x + 400 * number, centre.y, srid=25832), 80)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": ref,
                    "title": f"Gewerbefläche {ref}",
                    "kind": "plot",
                    "BauNVO": "GE",
                    "B-Plan": "binding",
                    "ownership": "municipal",
                    "area": 6400,
                    "price": 75,
                },
                "geometry": json.loads(geom.transform(4326, clone=True).json),
            }
        )
    path = folder / "flaechen-essen.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def log_in(page: Page, base_url: str, user: User, next_url: str) -> None:
    page.goto(base_url + reverse("login") + "?next=" + next_url)
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    # The next page, in the user's language (its prefix follows the account).
    expect(page).to_have_url(re.compile(re.escape(unprefixed_path(next_url)) + "$"))


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def redraw_square(page: Page, half_side: float) -> None:
    box = page.locator("#site-editor-map").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.get_by_role("button", name="Draw polygon").click()
    corners = [
        (x - half_side, y - half_side),
        (x + half_side, y - half_side),
        (x + half_side, y + half_side),
        (x - half_side, y + half_side),
    ]
    for corner_x, corner_y in [*corners, corners[0]]:
        page.mouse.move(corner_x, corner_y)
        page.mouse.click(corner_x, corner_y)


def test_partner_uploads_edits_submits_and_staff_publishes(browser_page, people, tmp_path):
    page = browser_page.page
    base = browser_page.base_url

    # The partner checks a file: the report shows two new sites, nothing is written yet.
    log_in(page, base, people["partner"], reverse("partner_upload"))
    page.get_by_label("File").set_input_files(str(upload_file(tmp_path)))
    page.get_by_role("button", name="Check (dry run)").click()
    expect(
        page.get_by_role("heading", name=re.compile("Report on flaechen-essen.geojson"))
    ).to_be_visible()
    expect(page.locator(".pw-report__row--create")).to_have_count(2)
    expect(page.locator('[data-count="reject"] strong')).to_have_text("0")
    expect(page.get_by_role("link", name="Download report (CSV)")).to_be_visible()
    assert not Site.objects.exists()

    # Commit: two drafts; the upload's page says so, then on to the dashboard.
    page.get_by_role("button", name="Commit 2 rows").click()
    expect(page.locator(".pw-committed")).to_contain_text("2 sites created")
    page.get_by_role("link", name="To my sites").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("partner_dashboard")) + "$"))
    row = page.locator("tr", has_text="Gewerbefläche E-1")
    expect(row.locator(".pw-status")).to_have_text("Draft")
    site = Site.objects.get(partner_ref="E-1")
    area_before = site.geom.area

    # Edit its geometry: draw a new polygon over the old one, save.
    row.get_by_role("link", name="Edit").click()
    expect(page.locator("#site-editor-map[data-ready=true]")).to_be_attached()
    expect(page.locator("#draw-status")).to_contain_text("Drawn: a polygon of")
    redraw_square(page, 70)
    geometry = json.loads(page.locator("input[name=geometry]").input_value())
    assert geometry["type"] == "Polygon"
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("“Gewerbefläche E-1” was saved.")
    site.refresh_from_db()
    assert site.geom.area != pytest.approx(area_before, rel=0.01)
    assert site.municipality.ags == "05113000"
    assert site.version == 2

    # Submit it from the dashboard.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="My sites"
    ).click()
    page.get_by_role("button", name="Submit for publication: Gewerbefläche E-1").click()
    expect(page.locator(".messages")).to_contain_text("was submitted for publication")
    expect(row.locator(".pw-status")).to_have_text("Submitted")
    log_out(page)

    # Staff publish it.
    log_in(page, base, people["staff"], reverse("partner_dashboard"))
    page.get_by_role("button", name="Publish: Gewerbefläche E-1").click()
    expect(page.locator(".messages")).to_contain_text("“Gewerbefläche E-1” is published.")
    log_out(page)

    # Investors find it on the map (and not the other, still a draft).
    page.goto(base + reverse("map"))
    expect(page.locator(".result__title", has_text="Gewerbefläche E-1")).to_be_visible()
    expect(page.locator(".result__title", has_text="Gewerbefläche E-2")).to_have_count(0)
    browser_page.assert_self_contained()
