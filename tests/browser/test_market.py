"""The marketplace experience in a real browser, offline (every non-loopback request
aborted): a phone-sized journey in German, the place search and "search this area", every
page type at 390 px without sideways scrolling, and the base-map switcher configured with
its services unreachable."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import User
from geodata.models import LayerFeature
from properties.basemaps import preset_origins
from proposals.models import Inquiry
from proposals.services.offers import offer_create, offer_link_create
from sitefinder.csp import content_security_policy
from sitefinder.l10n import unprefixed_path
from tests.browser.conftest import PHONE
from tests.factories import InquiryFactory, PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


@pytest.fixture
def market(reference_data, essen, dortmund, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    organisation = PartnerOrganisationFactory(name="EWG Essen", municipalities=[essen])
    station = LayerFeature.objects.get(layer__slug="stations", name="Essen Hbf")
    near_station = station.geom.centroid
    near_station.x += 600
    people = {
        "partner": UserFactory(
            username="anna",
            email="anna@ewg-essen.example",
            role=User.Role.PARTNER,
            organisation=organisation,
            language="de",
        ),
        "staff": UserFactory(username="stefanie", role=User.Role.STAFF, language="de"),
    }
    sites = {
        "station": SiteFactory(
            title="Gewerbehof am Hauptbahnhof mit einem sehr langen Namen ohne Umbruchmöglichkeit",
            municipality=essen,
            at=near_station,
            area_m2=6_300,
            organisation=organisation,
        ),
        "dortmund": SiteFactory(title="Logistikfläche Dortmund", municipality=dortmund),
    }
    return {"people": people, "sites": sites, "station": station}


def log_in(page: Page, base_url: str, user: User, next_url: str = "/") -> None:
    page.goto(base_url + reverse("login") + "?next=" + next_url)
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()
    # The next page, in the user's language (its prefix follows the account).
    expect(page).to_have_url(re.compile(re.escape(unprefixed_path(next_url)) + "$"))


def scroll_width(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


# The innermost elements reaching past the right edge: what to fix when a page is too wide.
OVERFLOWING = """(width) => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('.leaflet-pane')
    && ![...e.children].some((c) => c.getBoundingClientRect().right > width + 1))
  .slice(0, 5)
  .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`
    + ` ${Math.round(e.getBoundingClientRect().right)}px`)"""


def assert_fits(page: Page, width: int = 390) -> None:
    assert scroll_width(page) <= width, page.evaluate(OVERFLOWING, width)


def test_phone_journey_in_german(new_page, market):
    """Search → list / map → detail → "ask about this site", on a phone, in German."""
    phone = new_page(locale="de-DE", viewport=PHONE)
    page = phone.page
    page.goto(phone.url("/"))
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    assert_fits(page)

    # The header folds behind "Menü"; the search shows its list first.
    menu = page.get_by_role("button", name="Menü")
    expect(menu).to_be_visible()
    expect(page.get_by_role("link", name="Standortvorschlag anfragen")).to_be_hidden()
    menu.click()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
    menu.click()
    toggle = page.locator("#view-toggle")
    expect(toggle.get_by_role("button", name="Liste")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#result-list")).to_be_visible()
    expect(page.locator("#map")).to_be_hidden()

    # The map, then back to the list.
    toggle.get_by_role("button", name="Karte").click()
    expect(page.locator("#map")).to_be_visible()
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    expect(page.locator("#result-list")).to_be_hidden()
    # The credits are folded behind the info button on a phone.
    expect(page.locator(".map-credits__text")).to_be_hidden()
    page.locator(".map-credits__toggle").click()
    expect(page.locator(".map-credits__text")).to_contain_text("GeoBasis-DE / BKG")
    assert page.locator(".map-credits__text").inner_text().count("GeoBasis-DE / BKG") == 1
    expect(page.locator(".map-notice")).to_have_text(
        "Keine Hintergrundkarte: nur Grenzen und Namen"
    )
    toggle.get_by_role("button", name="Liste").click()
    expect(page.locator("#results-scope-text")).to_have_text("im ganzen Ruhrgebiet")

    site = market["sites"]["station"]
    page.get_by_role("link", name=site.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(site.title)
    expect(page.locator("#site-map")).to_have_attribute("data-ready", "true")
    assert_fits(page)

    page.get_by_text("Frage zu diesem Grundstück").click()
    page.get_by_label("Ihr Name").fill("Ida Investorin")
    page.get_by_role("textbox", name="E-Mail-Adresse").fill("ida@logistik.example")
    page.get_by_label("Ihre Frage").fill("Ist die Fläche 2027 noch frei?")
    # Sent without consent: the error is shown on the page, the question kept.
    page.get_by_role("button", name="Frage senden").click()
    expect(page.locator(".ask-site .field--error")).to_be_visible()
    expect(page.get_by_label("Ihre Frage")).to_have_value("Ist die Fläche 2027 noch frei?")
    assert_fits(page)
    page.get_by_label(re.compile("Ich bin einverstanden")).check()
    page.get_by_role("button", name="Frage senden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank für Ihre Anfrage")
    expect(page.get_by_role("link", name="Zurück zum Grundstück")).to_be_visible()
    inquiry = Inquiry.objects.get()
    assert inquiry.site_id == site.pk and inquiry.channel == Inquiry.Channel.SITE
    assert "anna@ewg-essen.example" in [message.to[0] for message in mail.outbox]
    phone.assert_self_contained()


def test_place_search_to_a_station_and_search_this_area(browser_page, market):
    page = browser_page.page
    page.goto(browser_page.url("/"))
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    expect(page.locator("#results-count")).to_have_text("2 sites")
    expect(page.locator("#results-scope-text")).to_have_text("in the whole Ruhr area")

    box = page.get_by_role("combobox", name="Find a place")
    box.fill("essen hb")
    option = page.get_by_role("option", name=re.compile("^Essen Hbf"))
    expect(option).to_contain_text("Railway station · Essen")
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("Essen Hbf")
    # The map went to the station: "Search this area" offers to search there.
    button = page.get_by_role("button", name="Search this area")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#results-count")).to_have_text("1 site")
    expect(page.locator("#results-scope-text")).to_have_text("in the map area searched")
    expect(page.locator("#result-list .result__title")).to_have_text(
        [market["sites"]["station"].title]
    )
    query = parse_qs(urlsplit(page.url).query)
    west, south, east, north = (float(v) for v in query["bbox"][0].split(","))
    station = market["station"].geom.transform(4326, clone=True)
    assert west < station.x < east and south < station.y < north

    # The whole region again.
    page.get_by_role("button", name="Search the whole region").click()
    expect(page.locator("#results-count")).to_have_text("2 sites")
    assert "bbox" not in parse_qs(urlsplit(page.url).query)

    # Opted in, the list follows the map.
    page.get_by_label("Update the list as the map moves").check()
    expect(page.locator("#results-scope-text")).to_have_text("in the map area searched")
    browser_page.assert_self_contained()


def test_every_page_type_fits_a_phone(new_page, market, live_server):
    """No sideways scrolling at 390 px on every page type, in German."""
    people, sites = market["people"], market["sites"]
    inquiry = InquiryFactory(company="Rhein Logistik GmbH", contact_name="Erika Mustermann")
    offer = offer_create(
        inquiry=inquiry, site_ids=[s.pk for s in sites.values()], acting_user=people["staff"]
    )
    link = offer_link_create(
        offer=offer, acting_user=people["staff"], recipient_email="erika@example.com", send=False
    )
    site = sites["station"]
    public = [
        "/",
        reverse("site_detail", args=[site.pk]),
        reverse("shortlist"),
        reverse("inquiry_new"),
        reverse("login"),
        reverse("attributions"),
        reverse("offer_link", args=[link.token]),
    ]
    partner = [
        reverse("partner_dashboard"),
        reverse("partner_site_edit", args=[site.pk]),
        reverse("partner_upload"),
    ]
    staff = [
        reverse("inbox"),
        reverse("inquiry_detail", args=[inquiry.pk]),
        reverse("inquiry_matches", args=[inquiry.pk]),
        reverse("offer_edit", args=[offer.pk]),
        reverse("staff_dashboard"),
        reverse("staff_data_health"),
    ]
    too_wide = {}
    for user, paths in ((None, public), (people["partner"], partner), (people["staff"], staff)):
        phone = new_page(locale="de-DE", viewport=PHONE)
        if user is not None:
            log_in(phone.page, phone.base_url, user)
        for path in paths:
            response = phone.page.goto(phone.url(path))
            assert response is not None and response.status == 200, path
            phone.page.wait_for_load_state("load")
            if scroll_width(phone.page) > 390:
                too_wide[path] = phone.page.evaluate(OVERFLOWING, 390)
        phone.assert_self_contained()
    assert not too_wide, "\n".join(f"{path}: {found}" for path, found in too_wide.items())


def test_base_maps_configured_but_unreachable(browser_page, market, settings):
    """Switcher offered; the blocked services fail quietly and every page still works."""
    settings.BASEMAPS = ["basemapde", "dop_nrw", "alkis_nrw"]
    settings.BASEMAP_DEFAULT = ""
    # As the settings build it from SITEFINDER_BASEMAPS: the services' hosts may serve images.
    settings.SECURE_CSP = content_security_policy("", preset_origins(settings.BASEMAPS))
    page = browser_page.page
    page.goto(browser_page.url("/"))
    expect(page.locator("#map")).to_have_attribute("data-sites-loaded", "true")
    expect(page.locator("#map")).to_have_attribute("data-basemap", "none")
    expect(page.locator(".map-notice")).to_have_text("No base map: boundaries and names only")
    assert browser_page.blocked_requests == []  # none is the default: nothing asked for

    switcher = page.locator(".basemap-switcher")
    switcher.hover()
    switcher.get_by_label("Map (basemap.de, colour)").check()
    expect(page.locator("#map")).to_have_attribute("data-basemap", "basemapde")
    expect(page.locator(".map-notice")).to_have_text(
        "The base map could not be loaded: boundaries and names only"
    )
    expect(page.locator(".map-credits__text")).to_contain_text("basemap.de")
    # The search still works with the base map failing.
    page.get_by_label("Plot").first.check()
    expect(page.locator("#results-count")).to_have_text("2 sites")

    # The choice is remembered; the partner's editor prefers the aerial image and parcels.
    log_in(page, browser_page.base_url, market["people"]["partner"], reverse("partner_dashboard"))
    page.goto(browser_page.url(reverse("partner_site_new")))
    editor = page.locator("#site-editor-map")
    expect(editor).to_have_attribute("data-ready", "true")
    expect(editor).to_have_attribute("data-basemap", "dop_nrw")
    hosts = {urlsplit(url).hostname for url in browser_page.blocked_requests}
    assert hosts <= {"sgx.geodatenzentrum.de", "www.wms.nrw.de"}
    assert hosts
    unexpected = [e for e in browser_page.errors if "Failed to load resource" not in e]
    assert unexpected == []
    # The editor opened on the partner's own municipality (Essen), not the whole region.
    expect(editor).to_have_attribute("data-started-on", "own")
