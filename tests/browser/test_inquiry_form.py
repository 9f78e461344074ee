"""An investor asks for a proposal in Chromium, offline: from the search on the map to the
inquiry form, tick a municipality, draw the area with Geoman, send, see the thanks page;
the inquiry is stored and both e-mails go out through the task."""

import json
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from proposals.models import Inquiry, InquiryEvent
from tests.browser.test_accessibility import assert_accessible
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_investor_sends_an_inquiry_from_the_search(browser_page, reference_data):
    UserFactory(username="stefanie", email="stefanie@agency.example", role=User.Role.STAFF)
    page = browser_page.page

    # The search's link carries the search to the form.
    page.goto(browser_page.url("/?kind=plot&area_min_ha=1"))
    link = page.get_by_role("link", name="Request a proposal for this search")
    expect(link).to_have_attribute("href", re.compile(r"^/en/inquiry/\?kind=plot&area_min_ha=1"))
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request a site proposal")
    expect(page.get_by_label("Plot")).to_be_checked()
    expect(page.get_by_label("Area from")).to_have_value("1")
    expect(page.locator("#id_area_unit")).to_have_value("ha")

    page.get_by_label("Company").fill("Rhein Logistik GmbH")
    page.get_by_label("Contact person").fill("Erika Mustermann")
    page.get_by_role("textbox", name="E-mail:").fill("erika@example.com")
    page.get_by_text("Choose municipalities").click()
    page.get_by_label("Essen", exact=True).check()

    # Draw the area: a square in the middle of the map, closed on its first corner.
    map_element = page.locator("#inquiry-map")
    expect(map_element).to_have_attribute("data-ready", "true")
    map_element.scroll_into_view_if_needed()
    box = map_element.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.get_by_role("button", name="Draw area").click()
    corners = [(x - 60, y - 60), (x + 60, y - 60), (x + 60, y + 60), (x - 60, y + 60)]
    for corner_x, corner_y in [*corners, corners[0]]:
        page.mouse.move(corner_x, corner_y)
        page.mouse.click(corner_x, corner_y)
    expect(page.locator("#inq-draw-status")).to_contain_text("Drawn: an area of about")
    geometry = json.loads(page.locator("#id_area_of_interest").input_value())
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5
    # The text field is the way without JavaScript; with the map it is out of the way.
    expect(page.locator("#inq-area-input")).to_be_hidden()

    page.get_by_label("A rail siding is needed").check()
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    assert_accessible(browser_page)

    page.get_by_role("button", name="Send inquiry").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your inquiry")
    inquiry = Inquiry.objects.get()
    expect(page.locator(".inq-thanks__reference")).to_contain_text(inquiry.reference)
    assert inquiry.company == "Rhein Logistik GmbH"
    assert inquiry.kinds == ["plot"] and inquiry.area_min_m2 == 10_000
    assert inquiry.needs_rail_siding
    assert [m.ags for m in inquiry.municipalities.all()] == ["05113000"]
    assert inquiry.area_of_interest is not None and inquiry.area_of_interest.srid == 25832
    assert "kind=plot" in inquiry.source_query
    assert sorted(m.to[0] for m in mail.outbox) == [
        "erika@example.com",
        "stefanie@agency.example",
    ]
    assert inquiry.events.filter(kind=InquiryEvent.Kind.MAIL_SENT).count() == 2
    assert_accessible(browser_page)
