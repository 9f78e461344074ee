"""The investor's private offer page (/offers/<token>/) and its PDF, and what staff see of
it: the page with its map and private headers, openings counted (on the timeline at most
hourly), responses per site, bad input, expired and revoked links (410), the language, and
the openings and responses on the builder and the inquiry page."""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.models import User
from properties.models import Site
from proposals.models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from proposals.services.offers import (
    offer_create,
    offer_link_create,
    offer_link_revoke,
    offer_link_url,
    offer_update,
)
from sitefinder.l10n import translate_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(inquiry, sites, staff) -> Offer:
    offer = offer_create(inquiry=inquiry, site_ids=[s.pk for s in sites], acting_user=staff)
    first = offer.items.order_by("position").first()
    assert first is not None
    offer_update(
        offer=offer,
        acting_user=staff,
        title="Three sites for Rhein Logistik",
        introduction="Dear Ms Mustermann,\n\nhere are three sites.",
        language="en",
        items=[(first.pk, "Right at the port")],
    )
    return offer


def make_link(offer: Offer, staff: User, **fields) -> OfferLink:
    """A link created without e-mail; the PDF it asks for is not rendered (its on_commit
    never runs inside the test's transaction), so it stays pending."""
    link = offer_link_create(
        offer=offer, acting_user=staff, recipient_email="erika@example.com", send=False
    )
    if fields:
        OfferLink.objects.filter(pk=link.pk).update(**fields)
        link.refresh_from_db()
    return link


@pytest.fixture
def link(offer, staff) -> OfferLink:
    return make_link(offer, staff)


def url(link: OfferLink) -> str:
    return reverse("offer_link", args=[link.token])


def pdf_url(link: OfferLink) -> str:
    return reverse("offer_link_pdf", args=[link.token])


def items(offer: Offer) -> list[OfferSite]:
    return list(offer.items.order_by("position"))


def json_script(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


def events(inquiry: Inquiry, kind: str) -> list[InquiryEvent]:
    return list(inquiry.events.filter(kind=kind).order_by("at", "id"))


def assert_private(response) -> None:
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    # Nothing to other sites; our own forms keep a real Origin for the CSRF check.
    assert response["Referrer-Policy"] == "same-origin"


def respond(client: Client, link: OfferLink, item: OfferSite, response: str, comment: str = ""):
    return client.post(
        url(link),
        {
            "item": str(item.pk),
            f"item{item.pk}-response": response,
            f"item{item.pk}-comment": comment,
        },
    )


# --- the page ---------------------------------------------------------------------------


def test_page_shows_the_sites_the_map_and_private_headers(client, link, offer, staff):
    response = client.get(url(link))
    assert response.status_code == 200
    assert_private(response)
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Three sites for Rhein Logistik" in html
    assert "here are three sites." in html
    assert "Right at the port" in html  # staff's note
    assert "petra.planer@agency.example" in html  # the contact
    for item in items(offer):
        assert f'id="site-{item.pk}"' in html
        assert f'name="item{item.pk}-response"' in html

    sites = json_script(html, "offer-sites")
    assert sites["type"] == "FeatureCollection"
    assert [f["properties"]["number"] for f in sites["features"]] == [1, 2, 3]
    assert [f["properties"]["title"] for f in sites["features"]] == [
        "Hafenfläche Nord",
        "Gewerbepark Süd",
        "Logistikfläche Ost",
    ]
    # EPSG:4326 for the map: the Ruhr area lies around 7° E, 51.5° N.
    lon, lat = sites["features"][0]["geometry"]["coordinates"][0][0]
    assert 6.5 < lon < 7.8 and 51.2 < lat < 51.8
    config = json_script(html, "offer-map-config")
    assert {"basemap", "tiles", "boundaries", "attributionPrefix"} <= set(config)
    assert 'data-sites-id="offer-sites"' in html and 'data-config-id="offer-map-config"' in html
    # Templates carry data, modules behaviour: no inline script but the JSON.
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert all('type="application/json"' in attributes for attributes in scripts)


def test_unknown_token_is_404(client, link):
    assert client.get(reverse("offer_link", args=["no-such-token"])).status_code == 404
    assert client.get(reverse("offer_link_pdf", args=["no-such-token"])).status_code == 404
    response = client.post(reverse("offer_link", args=["no-such-token"]), {"item": "1"})
    assert response.status_code == 404


def test_openings_are_counted_and_reach_the_timeline_at_most_hourly(client, link, inquiry):
    for _ in range(3):  # reloads are one visit
        assert client.get(url(link)).status_code == 200
    link.refresh_from_db()
    assert link.open_count == 1
    Client().get(url(link))  # another visit (another browser)
    link.refresh_from_db()
    assert link.open_count == 2
    assert link.first_opened_at is not None and link.last_opened_at is not None
    assert link.first_opened_at <= link.last_opened_at
    opened = events(inquiry, InquiryEvent.Kind.LINK_OPENED)
    assert len(opened) == 1
    assert opened[0].actor is None
    assert opened[0].data == {"offer": link.offer_id, "link": link.pk, "count": 1}

    # An hour later the next opening is news again.
    InquiryEvent.objects.filter(pk=opened[0].pk).update(
        at=timezone.now() - datetime.timedelta(minutes=61)
    )
    Client().get(url(link))
    opened = events(inquiry, InquiryEvent.Kind.LINK_OPENED)
    assert [event.data["count"] for event in opened] == [1, 3]
    link.refresh_from_db()
    assert link.open_count == 3


def test_a_visit_counts_once_whatever_the_investor_posts(link, offer):
    investor = Client()
    _opened_and_answered(investor, link, offer)  # opens, answers twice (each a redirect)
    link.refresh_from_db()
    assert link.open_count == 1
    session = investor.session
    key = f"offer-link-seen-{link.pk}"
    session[key] = session[key] - 31 * 60  # half an hour later: a new visit
    session.save()
    investor.get(url(link))
    link.refresh_from_db()
    assert link.open_count == 2


def test_head_requests_and_staff_previews_are_not_openings(client, link, inquiry, staff):
    # Link checkers send HEAD; staff look at the link before sending it.
    assert client.head(url(link)).status_code == 200
    client.force_login(staff)
    response = client.get(url(link))
    assert response.status_code == 200
    assert "Staff preview" in response.content.decode()
    link.refresh_from_db()
    assert link.open_count == 0 and link.first_opened_at is None
    assert not events(inquiry, InquiryEvent.Kind.LINK_OPENED)


def test_staff_previewing_cannot_answer_for_the_investor(client, link, offer, inquiry, staff):
    first = items(offer)[0]
    respond(client, link, first, "interested", "From the investor")
    client.force_login(staff)
    page = client.get(url(link)).content.decode()
    assert "The investor's response: <strong>Interested</strong>" in page
    assert 'name="item"' not in page  # no response form in the preview
    response = respond(client, link, first, "not_for_us", "Typed by staff")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.response == OfferSite.Response.INTERESTED
    assert first.response_comment == "From the investor"
    assert len(events(inquiry, InquiryEvent.Kind.RESPONSE)) == 1
    assert (
        "Staff preview: only the investor can respond here"
        in client.get(response["Location"]).content.decode()
    )


def test_a_site_withdrawn_since_the_offer_stays_without_a_dead_link(client, link, offer):
    first, second, _third = items(offer)
    Site.objects.filter(pk=first.site_id).update(status=Site.Status.WITHDRAWN)
    page = client.get(url(link)).content.decode()
    assert "Hafenfläche Nord" in page
    assert f'href="/en/sites/{first.site_id}/"' not in page
    assert "no longer has a public page" in page
    assert f'href="/en/sites/{second.site_id}/"' in page


def test_responses_are_saved_changeable_and_on_the_timeline(client, link, offer, inquiry):
    first, second, _third = items(offer)
    response = respond(client, link, first, "interested", "  Please call us next week. ")
    assert response.status_code == 302
    assert response["Location"] == url(link) + f"#site-{first.pk}"
    assert_private(response)
    first.refresh_from_db()
    assert first.response == OfferSite.Response.INTERESTED
    assert first.response_comment == "Please call us next week."
    assert first.responded_at is not None

    page = client.get(response["Location"]).content.decode()
    assert "Thank you: your response on “Hafenfläche Nord” was saved." in page
    assert "Your current response: <strong>Interested</strong>" in page
    assert "Please call us next week." in page  # the comment stays in its field

    respond(client, link, second, "not_for_us")
    respond(client, link, first, "not_for_us", "Too small after all")
    first.refresh_from_db()
    assert first.response == OfferSite.Response.NOT_FOR_US
    recorded = events(inquiry, InquiryEvent.Kind.RESPONSE)
    assert [(e.data["site_title"], e.data["response"], e.data["previous"]) for e in recorded] == [
        ("Hafenfläche Nord", "interested", ""),
        ("Gewerbepark Süd", "not_for_us", ""),
        ("Hafenfläche Nord", "not_for_us", "interested"),
    ]
    assert recorded[0].text == "Please call us next week."
    assert all(event.actor is None for event in recorded)


@pytest.mark.parametrize(
    ("answer", "comment", "error"),
    [
        ("", "We need rail access", "This field is required."),
        ("maybe", "We need rail access", "Select a valid choice. maybe is not one of"),
        ("interested", "x" * 2001, "Ensure this value has at most 2000 characters"),
    ],
)
def test_invalid_response_is_400_with_the_error_and_what_was_typed(
    client, link, offer, inquiry, answer, comment, error
):
    first = items(offer)[0]
    response = respond(client, link, first, answer, comment)
    assert response.status_code == 400
    assert_private(response)
    html = response.content.decode()
    assert error in html
    assert f'id="id_item{first.pk}-{"comment" if "2000" in error else "response"}_error"' in html
    assert comment[:100] in html  # what was typed is kept
    first.refresh_from_db()
    assert first.response == "" and first.responded_at is None
    assert not events(inquiry, InquiryEvent.Kind.RESPONSE)


def test_a_response_for_an_item_of_another_offer_is_404(client, link, inquiry, sites, staff):
    other = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff)
    foreign = other.items.get()
    assert respond(client, link, foreign, "interested").status_code == 404
    for item_id in ("abc", "9" * 30, "-1"):
        response = client.post(url(link), {"item": item_id, "item-response": "interested"})
        assert response.status_code == 404, item_id
    assert client.post(url(link), {}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.response == ""
    assert not events(inquiry, InquiryEvent.Kind.RESPONSE)


# --- expired and revoked ----------------------------------------------------------------


def test_expired_link_is_410_with_the_date_and_the_contact(client, offer, staff, inquiry):
    expired = timezone.make_aware(datetime.datetime(2024, 3, 5, 23, 30), datetime.UTC)
    link = make_link(offer, staff, expires_at=expired)
    response = client.get(url(link))
    assert response.status_code == 410
    assert_private(response)
    html = response.content.decode()
    assert "Offer link expired" in html
    # 23:30 UTC is already 6 March in Essen.
    assert "expired on 6 Mar 2024" in html
    assert inquiry.reference in html
    assert "petra.planer@agency.example" in html and "Petra Planer" in html
    assert "Hafenfläche Nord" not in html  # the offer itself is gone
    link.refresh_from_db()
    assert link.open_count == 0
    assert client.get(pdf_url(link)).status_code == 410


def test_revoked_link_is_410_saying_revoked(client, link, staff, inquiry):
    offer_link_revoke(link=link, acting_user=staff)
    response = client.get(url(link))
    assert response.status_code == 410
    assert_private(response)
    html = response.content.decode()
    assert "Offer link revoked" in html
    assert "was revoked by the Ruhr economic-development agency on" in html
    assert "ask your contact for a new link" in html
    assert "petra.planer@agency.example" in html
    assert "Hafenfläche Nord" not in html
    assert client.get(pdf_url(link)).status_code == 410


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_posting_to_an_unusable_link_changes_nothing(client, link, offer, inquiry, staff, state):
    if state == "revoked":
        offer_link_revoke(link=link, acting_user=staff)
    else:
        OfferLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    before = inquiry.events.count()
    first = items(offer)[0]
    response = respond(client, link, first, "interested", "late")
    assert response.status_code == 410
    first.refresh_from_db()
    assert first.response == "" and first.response_comment == ""
    assert inquiry.events.count() == before
    link.refresh_from_db()
    assert link.open_count == 0


# --- language ---------------------------------------------------------------------------


def test_the_link_speaks_the_offers_language_unless_the_visitor_switches(client, offer, staff):
    Offer.objects.filter(pk=offer.pk).update(language="de")
    offer.refresh_from_db()
    link = make_link(offer, staff)
    sent = urlsplit(offer_link_url(link)).path
    assert sent == f"/de/offers/{link.token}/"
    # The browser's language does not matter: the offer was written in German.
    response = client.get(sent, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "de"
    html = response.content.decode()
    assert '<html lang="de">' in html
    assert "Karte der angebotenen Standorte" in html and "Antwort senden" in html

    # The switcher leads to the same offer under another language's prefix.
    response = client.get(translate_path(sent, "en"))
    assert response["Content-Language"] == "en"
    assert "Map of the proposed sites" in response.content.decode()

    # The saved-message and the 410 page follow the same rule.
    first = items(offer)[0]
    with translation.override("de"):
        page = client.get(respond(client, link, first, "interested")["Location"])
    assert "Vielen Dank: Ihre Antwort zu „Hafenfläche Nord“ wurde gespeichert." in (
        page.content.decode()
    )
    OfferLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    gone = client.get(sent)
    assert gone.status_code == 410 and gone["Content-Language"] == "de"
    assert "Angebotslink abgelaufen" in gone.content.decode()


@pytest.mark.parametrize("cookie", ["xx", "en", None])
def test_a_link_without_a_language_opens_in_the_offers_language(client, offer, staff, cookie):
    """Links sent before URLs carried the language (/offers/<token>/)."""
    Offer.objects.filter(pk=offer.pk).update(language="pl")
    link = make_link(offer, staff)
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get(f"/offers/{link.token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == f"/pl/offers/{link.token}/"
    assert client.get(response["Location"])["Content-Language"] == "pl"


# --- the PDF ----------------------------------------------------------------------------


def test_pdf_out_of_date_is_rendered_then_served(
    client, link, offer, inquiry, staff, django_capture_on_commit_callbacks
):
    offer.refresh_from_db()
    assert offer.pdf_status == Offer.PdfStatus.PENDING  # asked for when the link was made
    Offer.objects.filter(pk=offer.pk).update(pdf_status=Offer.PdfStatus.NONE)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(pdf_url(link))
    # Accepted: the page says it is being prepared and reloads itself.
    assert response.status_code == 202
    assert_private(response)
    assert response["Retry-After"] == "10"
    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="10">' in html
    assert "The exposé is being prepared" in html
    assert len(callbacks) == 1  # the render task, after commit

    offer.refresh_from_db()
    assert offer.pdf_is_current
    response = client.get(pdf_url(link))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert_private(response)
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    # Staff change the offer: the old PDF is not handed out, a new one is rendered.
    offer_update(
        offer=offer,
        acting_user=staff,
        title="Changed",
        introduction="",
        language="en",
        items=[],
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(pdf_url(link))
    assert response.status_code == 202 and len(callbacks) == 1
    offer.refresh_from_db()
    assert offer.pdf_status == Offer.PdfStatus.PENDING
    # While it is being rendered, reloads ask for nothing more.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.get(pdf_url(link)).status_code == 202
    assert callbacks == []


def test_a_failed_pdf_is_not_rendered_again_on_every_reload(
    client, link, offer, django_capture_on_commit_callbacks
):
    Offer.objects.filter(pk=offer.pk).update(
        pdf_status=Offer.PdfStatus.FAILED, pdf_error="boom", updated_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(pdf_url(link))
    assert response.status_code == 503
    assert_private(response)
    assert callbacks == []
    html = response.content.decode()
    assert "cannot be prepared at the moment" in html
    assert "boom" not in html  # staff's error message is not the investor's business
    assert "petra.planer@agency.example" in html

    # Later, a new attempt.
    Offer.objects.filter(pk=offer.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.get(pdf_url(link)).status_code == 202
    assert len(callbacks) == 1


# --- what staff see ---------------------------------------------------------------------


def _opened_and_answered(client: Client, link: OfferLink, offer: Offer) -> None:
    first, second, _third = items(offer)
    client.get(url(link))
    client.get(url(link))
    respond(client, link, first, "interested", "Please call us")
    respond(client, link, second, "not_for_us", "Too far from the motorway")


def test_builder_shows_openings_and_responses(client, link, offer, staff):
    investor = Client()
    _opened_and_answered(investor, link, offer)
    link.refresh_from_db()
    client.force_login(staff)
    html = client.get(reverse("offer_edit", args=[offer.pk])).content.decode()
    assert link.first_opened_at and link.last_opened_at
    first = date_format(timezone.localtime(link.first_opened_at), "SHORT_DATETIME_FORMAT")
    assert f"once, {first}" in html  # one visit, two answers
    assert "Investor: Interested" in html and "Please call us" in html
    assert "Investor: Not for us" in html and "Too far from the motorway" in html


def test_inquiry_page_shows_openings_responses_and_the_timeline(client, link, offer, staff):
    investor = Client()
    _opened_and_answered(investor, link, offer)
    client.force_login(staff)
    response = client.get(reverse("inquiry_detail", args=[offer.inquiry_id]))
    html = response.content.decode()
    offers = html.split('id="offers-heading"')[1].split('id="timeline-heading"')[0]
    assert "Interested" in offers and "Please call us" in offers
    assert "Not for us" in offers and "Too far from the motorway" in offers
    assert re.search(r'<td class="num">1</td>', offers)  # one visit, not three
    timeline = html.split('id="timeline-heading"')[1]
    assert "Offer link opened" in timeline
    assert timeline.count("Investor responded") == 2
    # The timeline keeps the comment as its text and which site and answer as details.
    assert "Please call us" in timeline and "Too far from the motorway" in timeline
    assert "Hafenfläche Nord" in timeline and "Gewerbepark Süd" in timeline
