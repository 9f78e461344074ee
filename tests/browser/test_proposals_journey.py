"""Site proposals end to end in Chromium, offline: an investor's inquiry → staff's matches
→ an offer built, its PDF rendered (the builder follows the task) → a private link e-mailed
→ the investor answers per site on the link's page → staff see the opening and the answers
→ the inquiry is won. Three browser contexts (investor, staff, investor again from the
e-mail), every request to another host blocked, and none may be needed."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site
from proposals.models import Inquiry, InquiryEvent, Offer, OfferSite
from proposals.services import offer_documents
from tests.browser.test_accessibility import PASSWORD, assert_accessible
from tests.factories import SiteFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_site(**fields: Any) -> Site:
    """A published site (SiteFactory), typed as the model."""
    return SiteFactory(**fields)


@pytest.fixture
def sites(reference_data, essen) -> dict[str, Site]:
    """Two plots near Essen's centre that fit an inquiry for ≥ 1 ha in Essen, and a hall
    that does not."""
    centre = essen.centre.transform(25832, clone=True)

    def near_centre(dx: float, dy: float) -> Point:
        return Point(centre.x + dx, centre.y + dy, srid=25832)

    return {
        "port": make_site(
            title="Hafenfläche Essen-Nord",
            municipality=essen,
            at=near_centre(0, 300),
            area_m2=25_000,
            price_eur_m2=Decimal("95.00"),
        ),
        "park": make_site(
            title="Gewerbepark Essen-West",
            municipality=essen,
            at=near_centre(-400, 0),
            area_m2=15_000,
        ),
        "hall": make_site(
            title="Halle Essen-Ost",
            kind=Site.Kind.HALL,
            municipality=essen,
            at=near_centre(2_500, 0),
            area_m2=6_000,
        ),
    }


def card(page: Page, title: str):
    return page.locator(".offer-card").filter(has=page.get_by_role("heading", name=title))


def pdf_pages(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "offer.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    assert match
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return int(match.group(1)), re.sub(r"\s+", " ", text)


def test_inquiry_offer_link_response_outcome(
    browser_page, new_page, sites, live_server, settings, monkeypatch, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # The e-mailed link must lead to this test's server.
    settings.SITE_URL = live_server.url
    UserFactory(
        username="petra",
        email="petra.planer@agency.example",
        first_name="Petra",
        last_name="Planer",
        role=User.Role.STAFF,
        language="en",
    )

    # --- 1. The investor asks for a proposal (as in test_inquiry_form, kept short). ---------
    investor = browser_page.page
    investor.goto(browser_page.url("/inquiry/?kind=plot&area_min_ha=1"))
    expect(investor.get_by_label("Plot")).to_be_checked()
    investor.get_by_label("Company").fill("Rhein Logistik GmbH")
    investor.get_by_label("Contact person").fill("Erika Mustermann")
    investor.get_by_role("textbox", name="E-mail:").fill("erika@example.com")
    investor.get_by_text("Choose municipalities").click()
    investor.get_by_label("Essen", exact=True).check()
    investor.get_by_label(re.compile("I have read the privacy notice")).check()
    investor.get_by_role("button", name="Send inquiry").click()
    expect(investor.get_by_role("heading", level=1)).to_have_text("Thank you for your inquiry")
    inquiry = Inquiry.objects.get()
    assert inquiry.municipalities.get() == Municipality.objects.get(ags="05113000")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "erika@example.com",
        "petra.planer@agency.example",
    ]

    # --- 2. Staff log in, open the inbox, the inquiry and its matches. -------------------
    staff_page = new_page()
    desk = staff_page.page
    desk.goto(staff_page.url("/accounts/login/?next=/staff/inquiries/"))
    desk.locator("input[name=username]").fill("petra")
    desk.locator("input[name=password]").fill(PASSWORD)
    desk.locator("form[action$='/login/'] button[type=submit]").click()
    expect(desk).to_have_url(re.compile(r"/staff/inquiries/$"))
    desk.get_by_role("link", name=inquiry.reference).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text(inquiry.reference)
    expect(desk.locator(".inquiry-status")).to_have_text("New")
    desk.get_by_role("link", name="Matching sites").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Matching sites for inquiry")
    ranked = desk.locator(".match-list--ranked")
    expect(ranked.locator(".match-card")).to_have_count(2)
    expect(desk.locator(".match-list--excluded")).to_contain_text("Halle Essen-Ost")
    desk.get_by_label("Select Gewerbepark Essen-West").check()
    desk.get_by_label("Select Hafenfläche Essen-Nord").check()
    desk.get_by_role("button", name="Create offer with selected sites").first.click()

    # --- 3. The builder: introduction, a note, a move. ------------------------------------
    expect(desk.get_by_role("heading", level=1)).to_have_text(
        "Offer: Site proposal for Rhein Logistik GmbH"
    )
    offer = Offer.objects.get()
    titles = desk.locator(".offer-item__title a")
    expect(titles).to_have_text(["Hafenfläche Essen-Nord", "Gewerbepark Essen-West"])
    desk.get_by_role("textbox", name="Introduction").fill(
        "Dear Ms Mustermann,\n\ntwo sites in Essen for your distribution centre."
    )
    desk.get_by_label("Note on “Gewerbepark Essen-West”").fill("Ready to build on at once")
    desk.get_by_role("button", name="Move “Gewerbepark Essen-West” up").click()
    expect(titles).to_have_text(["Gewerbepark Essen-West", "Hafenfläche Essen-Nord"])
    expect(desk.get_by_label("Note on “Gewerbepark Essen-West”")).to_have_value(
        "Ready to build on at once"
    )
    expect(desk.get_by_role("textbox", name="Introduction")).to_have_value(
        re.compile("two sites in Essen")
    )
    assert_accessible(staff_page)
    staff_page.screenshot("offer-builder.png", full_page=True)

    # --- 4. The PDF: a task the builder follows until it is ready. ------------------------
    # A worker stands in for the queue: the request only enqueues (as in production), the
    # page polls, and the test runs the task while the page is waiting.
    queued: list[dict] = []
    render_task = offer_documents.offer_pdf_render

    class Queue:
        def enqueue(self, **kwargs: Any) -> None:
            queued.append(kwargs)

    monkeypatch.setattr(offer_documents, "offer_pdf_render", Queue())
    desk.get_by_role("button", name="Render the PDF").click()
    status = desk.locator("[data-offer-pdf-label]")
    expect(status).to_have_text("The PDF is being rendered…")
    assert len(queued) == 1
    render_task.call(**queued[0])
    monkeypatch.setattr(offer_documents, "offer_pdf_render", render_task)
    # No reload by the test: the page's own polling notices and shows the download.
    expect(status).to_have_text("The PDF is ready.", timeout=10_000)
    download = desk.get_by_role("link", name="Download the PDF")
    response = desk.request.get(staff_page.url(download.get_attribute("href") or ""))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pages, text = pdf_pages(response.body(), tmp_path)
    assert pages == 2 + 2  # cover, comparison, one page per site
    assert "Rhein Logistik GmbH" in text and "Ready to build on at once" in text
    # In the order staff gave it.
    assert "Site 1 · Essen Gewerbepark Essen-West" in text
    assert "Site 2 · Essen Hafenfläche Essen-Nord" in text

    # --- 5. A link, e-mailed to the investor. ---------------------------------------------
    mail.outbox.clear()
    expect(desk.get_by_label("Send to")).to_have_value("erika@example.com")
    desk.get_by_role("button", name="Create link").click()
    expect(desk.locator(".messages")).to_contain_text("Link created and sent to erika@example.com.")
    expect(desk.locator(".offer-links tbody tr")).to_have_count(1)
    expect(desk.locator(".offer-links")).to_contain_text("not yet")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erika@example.com"]
    assert message.subject == f"Your site proposal {inquiry.reference}"
    link_match = re.search(r"(http://\S+/offers/[\w-]+/)", str(message.body))
    assert link_match, message.body
    link_url = link_match.group(1)
    assert link_url.startswith(live_server.url)

    # --- 6. The investor opens the link from the e-mail, on another browser. --------------
    reader = new_page()
    offer_page = reader.page
    offer_page.goto(link_url)
    expect(offer_page.get_by_role("heading", level=1)).to_have_text(
        "Site proposal for Rhein Logistik GmbH"
    )
    expect(offer_page.locator("#offer-map")).to_have_attribute("data-ready", "true")
    expect(offer_page.locator("#offer-map .leaflet-tooltip")).to_have_text(
        ["1. Gewerbepark Essen-West", "2. Hafenfläche Essen-Nord"]
    )
    expect(offer_page.locator(".offer-card")).to_have_count(2)
    expect(offer_page.locator(".offer-card__note")).to_contain_text("Ready to build on at once")
    assert_accessible(reader)
    reader.screenshot("offer-link.png", full_page=True)

    park = card(offer_page, "Gewerbepark Essen-West")
    park.get_by_label("Interested").check()
    park.get_by_label("Comment (optional)").fill("Please send us the soil report.")
    park.get_by_role("button", name="Send response").click()
    expect(offer_page.locator(".messages")).to_contain_text(
        "Thank you: your response on “Gewerbepark Essen-West” was saved."
    )
    port = card(offer_page, "Hafenfläche Essen-Nord")
    port.get_by_label("Not for us").check()
    port.get_by_role("button", name="Send response").click()
    expect(offer_page.locator(".messages")).to_contain_text("“Hafenfläche Essen-Nord” was saved.")
    expect(card(offer_page, "Gewerbepark Essen-West").locator(".offer-response")).to_contain_text(
        "Interested"
    )
    expect(card(offer_page, "Hafenfläche Essen-Nord").locator(".offer-response")).to_contain_text(
        "Not for us"
    )
    # The language switcher works on the private page too (its form passes the CSRF
    # check) and the choice outranks the offer's language.
    offer_page.locator(".language-switcher").get_by_role("button", name="Deutsch").click()
    expect(offer_page.locator("#offer-sites-title")).to_have_text("Die Standorte")
    expect(offer_page.locator("html")).to_have_attribute("lang", "de")
    responses = dict(offer.items.values_list("site__title", "response"))
    assert responses == {
        "Gewerbepark Essen-West": OfferSite.Response.INTERESTED,
        "Hafenfläche Essen-Nord": OfferSite.Response.NOT_FOR_US,
    }

    # --- 7. Staff see the opening and the answers, and close the inquiry as won. ----------
    desk.reload()
    expect(desk.locator(".offer-links")).to_contain_text(re.compile(r"\d+ times, first|once,"))
    expect(desk.locator(".offer-response--interested")).to_contain_text(
        "Please send us the soil report."
    )
    expect(desk.locator(".offer-response--not_for_us")).to_contain_text("Not for us")
    desk.get_by_role("link", name=f"Back to inquiry {inquiry.reference}").click()
    expect(desk.locator(".inquiry-status")).to_have_text("Offer sent")
    offers = desk.locator("section[aria-labelledby=offers-heading]")
    expect(offers).to_contain_text("Please send us the soil report.")
    expect(offers.get_by_role("row", name=re.compile("Gewerbepark Essen-West"))).to_contain_text(
        "Interested"
    )
    expect(offers.get_by_role("row", name=re.compile("Hafenfläche Essen-Nord"))).to_contain_text(
        "Not for us"
    )
    opened = offers.get_by_role("row", name="erika@example.com")
    expect(opened.locator("td.num")).not_to_have_text("0")
    timeline = desk.locator("ol.timeline")
    expect(timeline.locator(".timeline__event--link_opened")).to_have_count(1)
    expect(timeline.locator(".timeline__event--response")).to_have_count(2)
    expect(timeline.locator(".timeline__event--mail_sent")).not_to_have_count(0)

    desk.get_by_label("New status").select_option("won")
    desk.get_by_role("button", name="Change status").click()
    expect(desk.locator(".messages")).to_contain_text("Status changed to “Won”.")
    expect(desk.locator(".inquiry-status")).to_have_text("Won")
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.WON and inquiry.closed_at is not None
    assert list(
        inquiry.events.filter(kind=InquiryEvent.Kind.STATUS).values_list("data__to", flat=True)
    ) == ["in_progress", "offer_sent", "won"]

    for page in (browser_page, staff_page, reader):
        page.assert_self_contained()
