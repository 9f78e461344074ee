"""Offer services and the staff builder: order, content versions, the inquiry's status,
timeline events, every builder action, access per role, "add from search"."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from properties.models import Site
from proposals.models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from proposals.services.offer_documents import offer_pdf_request
from proposals.services.offers import (
    offer_create,
    offer_link_create,
    offer_link_open,
    offer_site_add,
    offer_site_move,
    offer_site_remove,
    offer_update,
)
from search.models import ShortlistEntry
from tests.factories import (
    PartnerOrganisationFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def kinds(inquiry: Inquiry) -> list[str]:
    return list(inquiry.events.values_list("kind", flat=True))


def titles(offer: Offer) -> list[str]:
    return list(offer.items.order_by("position").values_list("site__title", flat=True))


# --- services -------------------------------------------------------------------------


def test_offer_create_keeps_order_matches_and_moves_a_new_inquiry_on(inquiry, sites, staff):
    offer = offer_create(
        inquiry=inquiry,
        site_ids=[sites[2].pk, sites[0].pk, sites[2].pk],
        acting_user=staff,
    )
    assert titles(offer) == ["Logistikfläche Ost", "Hafenfläche Nord"]
    assert offer.language == "en"
    assert offer.title == "Site proposal for Rhein Logistik GmbH"
    assert "Dear Erika Mustermann," in offer.introduction
    item = offer.items.get(site=sites[2])
    assert item.match["site"] == sites[2].pk
    # 9,000 m² of 10,000–30,000 wanted: the area criterion is judged and explained.
    area = next(r for r in item.match["results"] if r["criterion"] == "area")
    assert area["verdict"] == "near"
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.IN_PROGRESS
    assert kinds(inquiry) == [InquiryEvent.Kind.OFFER_CREATED, InquiryEvent.Kind.STATUS]


def test_offer_create_in_german_writes_german_texts(inquiry, sites, staff):
    offer = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff, language="de")
    assert offer.language == "de"
    assert offer.title == "Standortangebot für Rhein Logistik GmbH"
    area = next(r for r in offer.items.get().match["results"] if r["criterion"] == "area")
    assert area["label"] == "Fläche"


def test_offer_create_rejects_unknown_and_unpublished_sites(inquiry, sites, staff, essen):
    draft = SiteFactory(municipality=essen, status=Site.Status.DRAFT)
    with pytest.raises(ValidationError) as error:
        offer_create(inquiry=inquiry, site_ids=[sites[0].pk, 999_999, draft.pk], acting_user=staff)
    assert f"999999, {draft.pk}" in str(error.value.message_dict["site"])
    assert not Offer.objects.exists()
    assert inquiry.events.count() == 0


def test_offer_create_with_no_sites_and_an_inquiry_already_in_progress(inquiry, staff):
    inquiry.status = Inquiry.Status.IN_PROGRESS
    inquiry.save()
    offer = offer_create(inquiry=inquiry, site_ids=[], acting_user=staff)
    assert offer.items.count() == 0
    assert kinds(inquiry) == [InquiryEvent.Kind.OFFER_CREATED]


def test_update_add_move_remove_raise_the_content_version(inquiry, sites, staff, essen):
    offer = offer_create(inquiry=inquiry, site_ids=[s.pk for s in sites], acting_user=staff)
    assert offer.content_version == 1
    first, second, third = offer.items.order_by("position")

    offer_update(
        offer=offer,
        acting_user=staff,
        title="Drei Flächen",
        introduction="Hallo",
        language="de",
        items=[(third.pk, "  Direkt am Hafen "), (first.pk, "")],
    )
    assert offer.content_version == 2
    assert titles(offer) == ["Logistikfläche Ost", "Hafenfläche Nord", "Gewerbepark Süd"]
    third.refresh_from_db()
    assert third.note == "Direkt am Hafen"
    assert (offer.title, offer.language) == ("Drei Flächen", "de")

    offer_site_move(offer_site=second, direction="up", acting_user=staff)
    assert titles(offer) == ["Logistikfläche Ost", "Gewerbepark Süd", "Hafenfläche Nord"]
    offer_site_move(offer_site=third, direction="up", acting_user=staff)  # already first
    offer.refresh_from_db()
    assert offer.content_version == 3

    extra = SiteFactory(title="Zeche West", municipality=essen)
    item = offer_site_add(offer=offer, site=extra, acting_user=staff)
    assert item.position == 4 and offer.content_version == 4
    assert item.match["results"]
    with pytest.raises(ValidationError):
        offer_site_add(offer=offer, site=extra, acting_user=staff)

    offer_site_remove(offer_site=first, acting_user=staff)
    assert titles(offer) == ["Logistikfläche Ost", "Gewerbepark Süd", "Zeche West"]
    assert list(offer.items.order_by("position").values_list("position", flat=True)) == [1, 2, 3]
    assert offer.content_version == 5
    assert kinds(inquiry).count(InquiryEvent.Kind.OFFER_CHANGED) == 4


def test_update_refuses_items_of_another_offer(inquiry, sites, staff):
    offer = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff)
    other = offer_create(inquiry=inquiry, site_ids=[sites[1].pk], acting_user=staff)
    with pytest.raises(ValidationError):
        offer_update(
            offer=offer,
            acting_user=staff,
            title="x",
            introduction="",
            language="en",
            items=[(other.items.get().pk, "")],
        )


def test_link_create_marks_sent_and_mails_in_the_offer_language(
    inquiry, sites, staff, mailoutbox, django_capture_on_commit_callbacks
):
    offer = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff, language="de")
    with django_capture_on_commit_callbacks(execute=True):
        link = offer_link_create(
            offer=offer, acting_user=staff, recipient_email="investor@example.com", days=14
        )
    offer.refresh_from_db()
    inquiry.refresh_from_db()
    assert offer.sent_at is not None
    assert inquiry.status == Inquiry.Status.OFFER_SENT
    assert inquiry.first_offer_sent_at == offer.sent_at
    assert 13.9 < (link.expires_at - link.created_at).total_seconds() / 86400 <= 14
    # The PDF was requested and (immediate backend) rendered.
    assert offer.pdf_status == Offer.PdfStatus.READY and offer.pdf_is_current
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["investor@example.com"]
    assert mail.subject == f"Ihr Standortangebot {inquiry.reference}"
    assert f"/offers/{link.token}/" in mail.body
    assert "gültig bis" in mail.body
    assert {
        InquiryEvent.Kind.LINK_CREATED,
        InquiryEvent.Kind.MAIL_SENT,
        InquiryEvent.Kind.PDF_READY,
    } <= set(kinds(inquiry))
    first_sent = inquiry.first_offer_sent_at
    offer_link_create(offer=offer, acting_user=staff, recipient_email="", send=False)
    inquiry.refresh_from_db()
    assert inquiry.first_offer_sent_at == first_sent


def test_a_link_not_sent_moves_nothing_until_the_investor_opens_it(inquiry, sites, staff):
    offer = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff)
    status_before = Inquiry.objects.get(pk=inquiry.pk).status
    link = offer_link_create(offer=offer, acting_user=staff, recipient_email="", send=False)
    offer.refresh_from_db()
    inquiry.refresh_from_db()
    assert offer.sent_at is None
    assert inquiry.status == status_before != Inquiry.Status.OFFER_SENT
    assert inquiry.first_offer_sent_at is None
    # Passed on by other means: the first opening makes it sent.
    offer_link_open(link=link)
    offer.refresh_from_db()
    inquiry.refresh_from_db()
    assert offer.sent_at is not None
    assert inquiry.status == Inquiry.Status.OFFER_SENT
    assert inquiry.first_offer_sent_at == offer.sent_at


def test_link_mail_failure_loses_nothing(
    inquiry, sites, staff, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "tests.proposals.test_offers.BrokenBackend"}}
    offer = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff)
    with django_capture_on_commit_callbacks(execute=True):
        link = offer_link_create(offer=offer, acting_user=staff, recipient_email="a@example.com")
    assert OfferLink.objects.filter(pk=link.pk).exists()
    failed = inquiry.events.get(kind=InquiryEvent.Kind.MAIL_FAILED)
    assert "mail server down" in failed.text


class BrokenBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_link_lifetime_is_checked(inquiry, staff):
    offer = offer_create(inquiry=inquiry, site_ids=[], acting_user=staff)
    with pytest.raises(ValidationError):
        offer_link_create(offer=offer, acting_user=staff, recipient_email="", days=0, send=False)
    with pytest.raises(ValidationError):
        offer_link_create(offer=offer, acting_user=staff, recipient_email="", send=True)


# --- the builder ----------------------------------------------------------------------


@pytest.fixture
def offer(inquiry, sites, staff) -> Offer:
    return offer_create(inquiry=inquiry, site_ids=[s.pk for s in sites], acting_user=staff)


@pytest.mark.parametrize("role", [User.Role.INVESTOR, User.Role.PARTNER])
def test_builder_is_for_staff_only(client, offer, inquiry, role):
    urls = [
        reverse("offer_edit", args=[offer.pk]),
        reverse("offer_pdf_status", args=[offer.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    organisation = PartnerOrganisationFactory() if role == User.Role.PARTNER else None
    client.force_login(UserFactory(role=role, organisation=organisation))
    for url in urls:
        assert client.get(url).status_code == 404
    assert client.post(reverse("offer_create", args=[inquiry.pk])).status_code == 404
    assert client.post(reverse("offer_pdf_request", args=[offer.pk])).status_code == 404


def test_staff_creates_an_offer_from_posted_sites(client, staff, inquiry, sites):
    client.force_login(staff)
    url = reverse("offer_create", args=[inquiry.pk])
    response = client.post(url, {"site": [sites[1].pk, sites[0].pk]})
    offer = Offer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("offer_edit", args=[offer.pk])
    assert titles(offer) == ["Gewerbepark Süd", "Hafenfläche Nord"]

    response = client.post(url, {"site": ["abc"]})
    assert response.status_code == 302
    assert Offer.objects.count() == 1
    response = client.post(url, {"site": ["424242"]}, follow=True)
    assert "No published site with the number(s) 424242." in response.content.decode()


def test_builder_page_shows_items_verdicts_links_and_pdf(client, staff, offer):
    client.force_login(staff)
    response = client.get(reverse("offer_edit", args=[offer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for title in ("Hafenfläche Nord", "Gewerbepark Süd", "Logistikfläche Ost"):
        assert title in html
    assert "match-verdict" in html
    assert "Not rendered yet." in html
    assert 'value="inquiry' in html  # the recipient is prefilled from the inquiry


def test_builder_saves_notes_and_moves_without_losing_what_was_typed(client, staff, offer):
    client.force_login(staff)
    first, second, third = offer.items.order_by("position")
    url = reverse("offer_edit", args=[offer.pk])
    data = {
        "title": "Drei Flächen für Rhein Logistik",
        "language": "en",
        "introduction": "Hello",
        f"note_{first.pk}": "Close to the port",
        f"note_{second.pk}": "",
        f"note_{third.pk}": "Needs a survey",
        "action": f"down:{first.pk}",
    }
    assert client.post(url, data).status_code == 302
    assert titles(offer) == ["Gewerbepark Süd", "Hafenfläche Nord", "Logistikfläche Ost"]
    first.refresh_from_db()
    assert first.note == "Close to the port"
    offer.refresh_from_db()
    assert offer.title == "Drei Flächen für Rhein Logistik"

    data["action"] = f"remove:{third.pk}"
    client.post(url, data)
    assert not OfferSite.objects.filter(pk=third.pk).exists()

    # Bad input: the form comes back with the error and what was typed.
    response = client.post(url, {**data, "language": "xx", "title": "Keep me"})
    assert response.status_code == 400
    assert "Keep me" in response.content.decode()
    assert "Select a valid choice" in response.content.decode()
    # An item of another offer: a message, no 500.
    response = client.post(url, {**data, "action": "up:999999"}, follow=True)
    assert "This site is not part of the offer." in response.content.decode()


def test_builder_adds_from_a_search_url_a_number_a_title_and_the_shortlist(
    client, staff, inquiry, essen, dortmund
):
    offer = offer_create(inquiry=inquiry, site_ids=[], acting_user=staff)
    big = SiteFactory(title="Großfläche Dortmund", municipality=dortmund, area_m2=60_000)
    small = SiteFactory(title="Kleinfläche Essen", municipality=essen, area_m2=3_000)
    hall = SiteFactory(title="Halle Essen", municipality=essen, kind=Site.Kind.HALL)
    ShortlistEntry.objects.create(user=staff, site=hall)
    client.force_login(staff)
    url = reverse("offer_edit", args=[offer.pk])

    search = f"http://127.0.0.1:8000/?area_min=50000&municipality={dortmund.ags}&page=2"
    html = client.get(url, {"q": search}).content.decode()
    assert "Großfläche Dortmund" in html and "Kleinfläche Essen" not in html.split("Add sites")[1]
    assert "Halle Essen" in html  # from the shortlist

    html = client.get(url, {"q": "kleinfläche"}).content.decode()
    assert "Kleinfläche Essen" in html
    html = client.get(url, {"q": str(small.pk)}).content.decode()
    assert "Kleinfläche Essen" in html
    html = client.get(url, {"q": "area_min=lots"}).content.decode()
    assert "area_min" in html and "form-errors" in html

    response = client.post(
        reverse("offer_site_add", args=[offer.pk]), {"site": big.pk, "q": search}
    )
    assert response.status_code == 302 and "q=" in response["Location"]
    client.post(reverse("offer_site_add", args=[offer.pk]), {"site": hall.pk})
    assert titles(offer) == ["Großfläche Dortmund", "Halle Essen"]
    response = client.post(reverse("offer_site_add", args=[offer.pk]), {"site": "x"}, follow=True)
    assert "No published site with this number." in response.content.decode()


def test_builder_creates_and_revokes_links(
    client, staff, offer, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    url = reverse("offer_link_create", args=[offer.pk])
    response = client.post(url, {"recipient_email": "", "days": "30", "send": "on"})
    assert response.status_code == 400
    assert "An e-mail address is needed to send it." in response.content.decode()
    response = client.post(url, {"recipient_email": "x@example.com", "days": "9999"})
    assert response.status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"recipient_email": "investor@example.com", "days": "7", "send": "on"}
        )
    assert response.status_code == 302
    link = OfferLink.objects.get()
    assert len(mailoutbox) == 1
    html = client.get(reverse("offer_edit", args=[offer.pk])).content.decode()
    assert link.token in html and "not yet" in html

    client.post(reverse("offer_link_revoke", args=[offer.pk, link.pk]))
    link.refresh_from_db()
    assert link.revoked_by == staff and not link.is_usable
    assert offer.inquiry.events.filter(kind=InquiryEvent.Kind.LINK_REVOKED).count() == 1


def test_builder_shows_dates_in_local_time(client, staff, offer):
    # 23:30 UTC is already the next day in Essen (the dates were shown in UTC).
    rendered = datetime.datetime(2024, 3, 5, 23, 30, tzinfo=datetime.UTC)
    Offer.objects.filter(pk=offer.pk).update(
        pdf_status=Offer.PdfStatus.READY,
        pdf_rendered_at=rendered,
        pdf_content_version=offer.content_version,
    )
    offer.refresh_from_db()
    valid = offer_link_create(offer=offer, acting_user=staff, recipient_email="", send=False)
    revoked = offer_link_create(offer=offer, acting_user=staff, recipient_email="", send=False)
    OfferLink.objects.filter(pk=valid.pk).update(
        expires_at=datetime.datetime(2099, 3, 5, 23, 30, tzinfo=datetime.UTC)
    )
    OfferLink.objects.filter(pk=revoked.pk).update(revoked_at=rendered)
    client.force_login(staff)
    html = client.get(reverse("offer_edit", args=[offer.pk])).content.decode()
    assert "rendered 6 Mar 2024, 12:30 a.m." in html
    assert "valid until 6 Mar 2099" in html
    assert "revoked on 6 Mar 2024" in html


def test_saving_the_builder_unchanged_changes_nothing(
    client, staff, offer, django_capture_on_commit_callbacks
):
    # A rendered PDF stays current, and the timeline hears of real changes only.
    with django_capture_on_commit_callbacks(execute=True):
        offer_pdf_request(offer=offer, acting_user=staff)
    offer.refresh_from_db()
    assert offer.pdf_is_current
    first, second, _third = offer.items.order_by("position")
    client.force_login(staff)
    url = reverse("offer_edit", args=[offer.pk])
    data = {
        "title": offer.title,
        "language": offer.language,
        "introduction": offer.introduction,
        **{f"note_{item.pk}": item.note for item in offer.items.all()},
        "action": "save",
    }
    changes_before = offer.inquiry.events.filter(kind=InquiryEvent.Kind.OFFER_CHANGED).count()
    assert client.post(url, data).status_code == 302
    offer.refresh_from_db()
    assert offer.pdf_is_current and offer.content_version == 1
    assert offer.inquiry.events.filter(kind=InquiryEvent.Kind.OFFER_CHANGED).count() == (
        changes_before
    )

    # A move is one change, recorded once, and the page comes back at the moved site.
    response = client.post(url, {**data, "action": f"down:{first.pk}"})
    assert response["Location"] == url + f"#item-{first.pk}"
    offer.refresh_from_db()
    assert offer.content_version == 2 and not offer.pdf_is_current
    changes = offer.inquiry.events.filter(kind=InquiryEvent.Kind.OFFER_CHANGED)
    assert changes.count() == changes_before + 1
    moved = changes.last()
    assert moved is not None and moved.data["moved"] == first.site_id

    # A note is a change, named on the timeline.
    client.post(url, {**data, f"note_{second.pk}": "Rail siding possible"})
    change = offer.inquiry.events.filter(kind=InquiryEvent.Kind.OFFER_CHANGED).last()
    assert change is not None and change.data["changed"] == ["notes"]
