"""The partner workspace in Chromium: a partner logs in and lands on it, sees the inventory
on the map, confirms a page of sites at once and withdraws all filtered ones; the upload's
column documentation. Both at 390 px, in German and English, without the internet."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site
from sitefinder.l10n import translate_path
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def partner(reference_data) -> User:
    essen = Municipality.objects.get(ags="05113000")
    dortmund = Municipality.objects.get(ags="05913000")
    organisation = PartnerOrganisationFactory(name="EWG Essen", municipalities=[essen])
    other = PartnerOrganisationFactory(name="WFD Dortmund", municipalities=[dortmund])
    for number, status in enumerate(
        (Site.Status.DRAFT, Site.Status.PUBLISHED, Site.Status.PUBLISHED), start=1
    ):
        SiteFactory(
            title=f"Essener Fläche {number}",
            partner_ref=f"E-{number}",
            status=status,
            municipality=essen,
            organisation=organisation,
        )
    SiteFactory(title="Dortmunder Fläche", municipality=dortmund, organisation=other)
    return UserFactory(  # the factory's password is PASSWORD
        username="anna", role=User.Role.PARTNER, organisation=organisation, language="en"
    )


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scroll: {width}px"


def test_partner_lands_on_the_workspace_and_acts_on_many_sites(browser_page, partner):
    page = browser_page.page
    page.goto(browser_page.url(reverse("login")))
    page.locator("input[name=username]").fill(partner.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("partner_dashboard")) + "$"))

    # The map shows the organisation's three sites, not Dortmund's.
    expect(page.locator("#inventory-map[data-ready=true]")).to_be_attached()
    expect(page.locator("#inventory-map")).to_have_attribute("data-features", "3")
    expect(page.locator("tr[data-site-id]")).to_have_count(3)

    # "Select all on this page", then "Mark still current".
    page.get_by_label("Select all on this page").check()
    expect(page.locator("input[name=site]:checked")).to_have_count(3)
    page.get_by_role("button", name="Mark still current", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("3 sites are confirmed as current.")
    assert Site.objects.filter(last_verified_at__isnull=False).count() == 3

    # Search, then withdraw all filtered sites (after confirming).
    page.get_by_label("Search").fill("Fläche 2")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-site-id]")).to_have_count(1)
    page.get_by_label(re.compile("Select all 1 filtered site")).check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Withdraw", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("1 site was withdrawn.")
    assert Site.objects.get(partner_ref="E-2").status == Site.Status.WITHDRAWN
    assert Site.objects.get(partner_ref="E-3").status == Site.Status.PUBLISHED
    browser_page.assert_self_contained()


@pytest.mark.parametrize("locale", ["de-DE", "en-GB"])
def test_workspace_and_column_page_fit_a_phone(new_page, partner, locale):
    view = new_page(locale=locale)
    page = view.page
    page.set_viewport_size(PHONE)
    language = locale[:2]
    partner.language = language  # the login sets the pages' language to the user's
    partner.save()
    page.goto(view.url(reverse("login")) + "?next=" + reverse("partner_dashboard"))
    page.locator("input[name=username]").fill(partner.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    expect(page.locator("#inventory-map[data-ready=true]")).to_be_attached()
    expect(page.locator("html")).to_have_attribute("lang", language)
    fits_the_phone(page)

    page.goto(view.url(translate_path(reverse("upload_contract"), language)))
    heading = (
        "Hochladen: Vorlagen und Spalten" if language == "de" else "Upload: templates and columns"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("article[data-column=bplan_status] table")).to_be_visible()
    fits_the_phone(page)
    view.assert_self_contained()
