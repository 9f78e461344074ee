"""Content-Security-Policy in a real browser (issue 11): the pages that run scripts work
under the policy (no violation reported), Swagger UI included, the admin's map widget
(an inline script with the nonce) draws its map, and an inline script without the nonce
is refused."""

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from accounts.models import User
from geodata.models import Municipality
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_works_under_the_policy(browser_page):
    page = browser_page.page
    response = page.goto(browser_page.url("/api/v1/docs/"))
    assert response is not None
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"].startswith("'self'")
    assert "unsafe-inline" not in directives["script-src"]
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.get_by_text("/api/v1/sites/", exact=True).first).to_be_visible()
    browser_page.assert_self_contained()


def test_the_admin_map_widget_runs_with_the_nonce(browser_page, reference_data, live_server):
    essen = Municipality.objects.get(ags="05113000")
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832))
    UserFactory(
        username="root", role=User.Role.STAFF, is_staff=True, is_superuser=True, language="en"
    )
    page = browser_page.page
    page.goto(browser_page.url("/admin/login/"))
    page.fill("#id_username", "root")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.goto(browser_page.url(f"/admin/properties/site/{site.pk}/change/"))
    expect(page.locator(".leaflet-container").first).to_be_visible()
    expect(page.locator(".leaflet-interactive").first).to_be_attached()  # the geometry
    browser_page.assert_self_contained()


def test_an_inline_script_without_the_nonce_is_refused(browser_page):
    page = browser_page.page
    page.goto(browser_page.url("/"))
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.__injected === undefined")
    assert browser_page.csp_violations, "the browser reported the refused script"
    browser_page.errors.clear()  # expected here; the fixture fails on any left over
