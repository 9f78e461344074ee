"""An inquiry's personal data: the export holds everything about the person; erasure
removes the person from every place it was copied to and keeps the anonymous profile; the
retention rule erases closed inquiries only; only staff may do any of it."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals import dashboard
from proposals.models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from proposals.services.inbox import inquiry_assign, inquiry_note_add
from proposals.services.inquiries import inquiry_create, inquiry_emails_send
from proposals.services.offers import (
    offer_create,
    offer_link_create,
    offer_link_open,
    offer_site_respond,
    offer_update,
)
from proposals.services.privacy import (
    ERASED,
    inquiries_anonymise_due,
    inquiry_erase,
    inquiry_export,
    inquiry_personal_data,
)
from tests.factories import InquiryFactory, PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Inquiry.Status

COMPANY = "Rhein Logistik GmbH"
CONTACT = "Erika Mustermann"
EMAIL = "erika.mustermann@example.com"
ACCOUNT_EMAIL = "e.mustermann@example.org"
PHONE = "+49 201 1234567"
MESSAGE = "We need a site for a regional distribution centre near the A 40."
COMMENT = "Looks good. Please call Frau Mustermann on 0201 / 123 45 67."
NOTE = "Phoned Erika: she wants the northern half only."
# Every string that identifies the person; none may survive an erasure.
PERSONAL_STRINGS = (
    COMPANY,
    "Rhein Logistik",
    "Erika",
    "Mustermann",
    EMAIL,
    ACCOUNT_EMAIL,
    "1234567",
    "123 45 67",
    "distribution centre",
    "northern half",
    "Looks good",
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff() -> User:
    return UserFactory(
        role=User.Role.STAFF, first_name="Petra", last_name="Planer", email="petra@agency.example"
    )


@pytest.fixture
def investor() -> User:
    return UserFactory(first_name="Erika", last_name="Mustermann", email=ACCOUNT_EMAIL)


@pytest.fixture
def site(essen):
    return SiteFactory(title="Hafenfläche Nord", municipality=essen, area_m2=15_000)


@pytest.fixture
def story(essen, site, staff, investor, mailoutbox, django_capture_on_commit_callbacks):
    """An inquiry that went all the way: received by the form (e-mails sent), assigned,
    noted, offered (PDF rendered, link e-mailed), opened and answered by the investor, and
    touched in the admin."""
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = inquiry_create(
            data={
                "company": COMPANY,
                "contact_name": CONTACT,
                "email": EMAIL,
                "phone": PHONE,
                "message": MESSAGE,
                "language": "en",
                "kinds": ["plot"],
                "area_min_m2": 10_000,
                "area_max_m2": 30_000,
                "planning_categories": ["GE"],
                "industry": "Logistics",
                "municipalities": [essen],
            },
            acting_user=investor,
            client_fingerprint="f" * 64,
        )
    inquiry_assign(inquiry=inquiry, assignee=staff, acting_user=staff)
    inquiry_note_add(inquiry=inquiry, text=NOTE, acting_user=staff)
    offer = offer_create(inquiry=inquiry, site_ids=[site.pk], acting_user=staff)
    item = offer.items.get()
    offer_update(
        offer=offer,
        acting_user=staff,
        title=offer.title,
        introduction=offer.introduction + "\n\nKind regards to Rhein Logistik.",
        language="en",
        items=[(item.pk, "For Erika Mustermann: the quay is 200 m away.")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        link = offer_link_create(offer=offer, acting_user=staff, recipient_email=EMAIL, days=30)
    offer_link_open(link=link)
    offer_site_respond(link=link, offer_site=item, response="interested", comment=COMMENT)
    for obj in (inquiry, offer):
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
            change_message=f"changed the contact of {COMPANY}",
        )
    inquiry.refresh_from_db()
    offer.refresh_from_db()
    return inquiry, offer, link


def as_json(data) -> str:
    return json.dumps(data, default=str, ensure_ascii=False)


def traces(text: str) -> list[str]:
    return [value for value in PERSONAL_STRINGS if value.lower() in text.lower()]


# --- export ---------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person(story, staff, investor):
    inquiry, offer, link = story
    data = inquiry_export(inquiry=inquiry, acting_user=staff)

    assert data["reference"] == inquiry.reference
    assert data["contact"] == {
        "company": COMPANY,
        "contact_name": CONTACT,
        "email": EMAIL,
        "phone": PHONE,
        "message": MESSAGE,
        "privacy_accepted_at": inquiry.privacy_accepted_at.isoformat(),
    }
    assert data["account"] == {
        "username": investor.username,
        "name": "Erika Mustermann",
        "email": ACCOUNT_EMAIL,
        "language": investor.language,
    }
    requirements = data["requirements"]
    assert requirements["kinds"] == ["plot"]
    assert requirements["area_min_m2"] == 10_000 and requirements["area_max_m2"] == 30_000
    assert requirements["municipalities"] == ["Essen"]
    assert requirements["industry"] == "Logistics"
    kinds = [entry["kind"] for entry in data["timeline"]]
    assert kinds[0] == InquiryEvent.Kind.RECEIVED
    for kind in ("mail_sent", "note", "offer_created", "link_created", "link_opened", "response"):
        assert kind in kinds
    note = next(entry for entry in data["timeline"] if entry["kind"] == "note")
    assert note["text"] == NOTE
    # Which staff member was assigned is about staff, not the person.
    assigned = next(entry for entry in data["timeline"] if entry["kind"] == "assigned")
    assert "data" not in assigned

    (exported_offer,) = data["offers"]
    assert exported_offer["title"] == f"Site proposal for {COMPANY}"
    assert "Dear Erika Mustermann," in exported_offer["introduction"]
    assert exported_offer["sent_at"] == offer.sent_at.isoformat()
    (exported_site,) = exported_offer["sites"]
    assert exported_site["site"] == "Hafenfläche Nord"
    assert exported_site["response"] == "interested"
    assert exported_site["response_comment"] == COMMENT
    (exported_link,) = exported_offer["links"]
    link.refresh_from_db()
    assert exported_link["recipient_email"] == EMAIL
    assert exported_link["open_count"] == 1
    assert exported_link["first_opened_at"] == link.first_opened_at.isoformat()
    assert exported_link["last_opened_at"] == link.last_opened_at.isoformat()
    # JSON-safe as it is, and the export went on the timeline.
    json.dumps(data)
    exported = inquiry.events.get(kind=InquiryEvent.Kind.EXPORTED)
    assert exported.actor == staff


def test_the_export_view_downloads_json_for_staff_only(client, story, staff, investor):
    inquiry, _offer, _link = story
    url = reverse("inquiry_export", args=[inquiry.pk])
    partner = UserFactory(role=User.Role.PARTNER, organisation=PartnerOrganisationFactory())
    for user in (investor, UserFactory(), partner):
        client.force_login(user)
        assert client.post(url).status_code == 404
    assert not inquiry.events.filter(kind=InquiryEvent.Kind.EXPORTED).exists()

    client.force_login(staff)
    assert client.get(url).status_code == 405  # a download that writes the timeline: POST
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{inquiry.reference}-personal-data.json"'
    )
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["contact"]["company"] == COMPANY
    assert inquiry.events.filter(kind=InquiryEvent.Kind.EXPORTED, actor=staff).count() == 1
    missing = reverse("inquiry_export", args=[999_999])
    assert client.post(missing).status_code == 404


# --- erasure --------------------------------------------------------------------------------


def test_erasure_removes_the_person_everywhere_it_was_copied(
    client, story, staff, investor, django_capture_on_commit_callbacks
):
    inquiry, offer, link = story
    pdf_path = Path(offer.pdf.path)
    assert pdf_path.exists()
    received_at, profile_before = inquiry.received_at, inquiry_personal_data(inquiry=inquiry)

    with django_capture_on_commit_callbacks(execute=True):
        erased = inquiry_erase(
            inquiry=inquiry, acting_user=staff, reason="Request by e-mail of erika.m@example.com"
        )

    inquiry.refresh_from_db()
    assert erased.anonymised_at == inquiry.anonymised_at is not None
    for name in ("company", "contact_name", "email", "phone", "message", "client_fingerprint"):
        assert getattr(inquiry, name) == "", name
    assert inquiry.user is None
    User.objects.get(pk=investor.pk)  # the account itself is the person's, not the inquiry's

    # The timeline: notes and the investor's own words erased whole, names and addresses
    # scrubbed from generated texts and JSON details.
    events = {event.kind: event for event in inquiry.events.all()}
    assert events[InquiryEvent.Kind.NOTE].text == ""
    assert events[InquiryEvent.Kind.RESPONSE].text == ""
    assert events[InquiryEvent.Kind.RESPONSE].data["response"] == "interested"
    assert events[InquiryEvent.Kind.OFFER_CREATED].text == f"Site proposal for {ERASED}"
    assert events[InquiryEvent.Kind.LINK_CREATED].text == ERASED
    erasure = events[InquiryEvent.Kind.ANONYMISED]
    assert erasure.actor == staff
    assert erasure.text == f"Request by e-mail of {ERASED}"
    assert erasure.data == {"links_revoked": 1, "retention": False}
    for event in inquiry.events.all():
        assert not traces(event.text + as_json(event.data)), (event.kind, event.text, event.data)
    # Staff's own notification stays on record (it is not the person's data, and it keeps the
    # e-mail task from notifying staff again).
    staff_mail = inquiry.events.get(kind=InquiryEvent.Kind.MAIL_SENT, data__mail="staff")
    assert staff_mail.data["to"] == staff.email

    offer.refresh_from_db()
    assert offer.title == f"Site proposal for {ERASED}"
    assert not traces(offer.title + offer.introduction)
    assert "Dear [erased]," in offer.introduction
    assert not offer.pdf and offer.pdf_status == Offer.PdfStatus.NONE
    assert not offer.pdf_is_current
    assert not pdf_path.exists()
    item = OfferSite.objects.get(offer=offer)
    assert item.response_comment == "" and item.response == "interested"
    assert not traces(item.note)
    link.refresh_from_db()
    assert link.recipient_email == "" and link.revoked_at is not None
    assert link.revoked_by == staff
    for entry in LogEntry.objects.all():
        assert not traces(entry.object_repr + entry.change_message), entry.object_repr
    assert LogEntry.objects.get(object_id=str(inquiry.pk), content_type__model="inquiry")

    # The investor's link is gone.
    assert client.get(reverse("offer_link", args=[link.token])).status_code == 410

    # The anonymous profile and the dates stay: the dashboard still counts the inquiry.
    assert inquiry.received_at == received_at
    assert inquiry.status == Status.OFFER_SENT
    assert inquiry.first_offer_sent_at == offer.sent_at
    after = inquiry_personal_data(inquiry=inquiry)
    assert after["requirements"] == profile_before["requirements"]
    by_status = {value: count for value, _label, count in dashboard.inquiries_by_status()}
    assert by_status[Status.OFFER_SENT] == 1
    assert dashboard.median_time_to_first_offer() is not None

    # The export after erasure has no trace of the person.
    assert after["contact"]["company"] == "" and after["account"] is None
    assert traces(as_json(after)) == []


def test_erasure_finds_the_phone_and_the_name_however_written(essen, staff):
    inquiry = InquiryFactory(
        company="Kowalski & Partner Sp. z o.o.", contact_name="Dr. Jan Kowalski"
    )
    inquiry.phone = "+49 (0)231 98 76 54-3"
    inquiry.save()
    texts = [
        "Rückruf unter 0231/9876543 erbeten",
        "call 0049 231 987 654 3 tomorrow",
        "Kowalski & Partner accepted; Dr. Kowalski signs",
        "Site 12345 of 0231 is unrelated",
    ]
    for text in texts:
        InquiryEvent.objects.create(inquiry=inquiry, kind=InquiryEvent.Kind.STATUS, text=text)
    inquiry_erase(inquiry=inquiry, acting_user=staff, reason="Request by phone")
    scrubbed = list(
        inquiry.events.filter(kind=InquiryEvent.Kind.STATUS)
        .order_by("id")
        .values_list("text", flat=True)
    )
    assert scrubbed == [
        f"Rückruf unter {ERASED} erbeten",
        f"call {ERASED} tomorrow",
        f"{ERASED} accepted; Dr. {ERASED} signs",
        "Site 12345 of 0231 is unrelated",  # neither the number nor a title on its own
    ]


def test_erasure_needs_a_reason_and_happens_once(story, staff):
    inquiry, _offer, _link = story
    with pytest.raises(ValidationError) as error:
        inquiry_erase(inquiry=inquiry, acting_user=staff, reason="   ")
    assert "reason" in str(error.value)
    inquiry.refresh_from_db()
    assert inquiry.anonymised_at is None and inquiry.company == COMPANY

    inquiry_erase(inquiry=inquiry, acting_user=staff, reason="Request")
    with pytest.raises(ValidationError) as error:
        inquiry_erase(inquiry=inquiry, acting_user=staff, reason="Again")
    assert error.value.code == "already_erased"
    assert "already erased" in error.value.messages[0]
    assert inquiry.events.filter(kind=InquiryEvent.Kind.ANONYMISED).count() == 1


def test_the_erase_view_asks_for_a_reason_and_refuses_a_second_erasure(client, story, staff):
    inquiry, _offer, link = story
    url = reverse("inquiry_erase", args=[inquiry.pk])
    client.force_login(staff)
    page = client.get(url)
    assert page.status_code == 200
    assert "This cannot be undone." in page.content.decode()

    for data in ({}, {"confirm": "on"}, {"reason": "   ", "confirm": "on"}, {"reason": "x"}):
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert response.context["form"].errors, data
    inquiry.refresh_from_db()
    assert inquiry.anonymised_at is None and OfferLink.objects.usable().count() == 1

    response = client.post(url, {"reason": "Request by letter", "confirm": "on"}, follow=True)
    assert response.redirect_chain == [(reverse("inquiry_detail", args=[inquiry.pk]), 302)]
    assert f"The personal data of {inquiry.reference} have been erased." in [
        str(message) for message in response.context["messages"]
    ]
    inquiry.refresh_from_db()
    assert inquiry.anonymised_at is not None

    again = client.post(url, {"reason": "Request by letter", "confirm": "on"})
    assert again.status_code == 409
    assert "were erased on" in again.content.decode()
    assert inquiry.events.filter(kind=InquiryEvent.Kind.ANONYMISED).count() == 1
    assert client.get(url).status_code == 200
    # The inquiry's page still works without a person.
    assert client.get(reverse("inquiry_detail", args=[inquiry.pk])).status_code == 200


def test_only_staff_may_erase(client, story, investor):
    inquiry, _offer, _link = story
    url = reverse("inquiry_erase", args=[inquiry.pk])
    response = client.post(url, {"reason": "x", "confirm": "on"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    partner = UserFactory(role=User.Role.PARTNER, organisation=PartnerOrganisationFactory())
    for user in (investor, UserFactory(), partner):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x", "confirm": "on"}).status_code == 404
    inquiry.refresh_from_db()
    assert inquiry.anonymised_at is None and inquiry.company == COMPANY


# --- e-mails of an erased inquiry -----------------------------------------------------------


def test_the_mail_task_sends_nothing_again_after_erasure(story, staff, mailoutbox):
    inquiry, _offer, _link = story
    sent_before = len(mailoutbox)
    inquiry_erase(inquiry=inquiry, acting_user=staff, reason="Request")
    assert inquiry_emails_send.enqueue(inquiry.pk).return_value == 0
    assert len(mailoutbox) == sent_before


def test_the_mail_task_sends_nothing_for_an_inquiry_erased_before_it_ran(
    essen, staff, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not run yet
        inquiry = inquiry_create(
            data={"company": COMPANY, "contact_name": CONTACT, "email": EMAIL, "language": "en"},
            acting_user=None,
            client_fingerprint="",
        )
    inquiry_erase(inquiry=inquiry, acting_user=staff, reason="Withdrawn at once")
    inquiry_emails_send.enqueue(inquiry.pk)
    assert [mail.subject for mail in mailoutbox] == []


# --- retention ------------------------------------------------------------------------------


def ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def retention_world(settings):
    settings.INQUIRY_RETENTION_DAYS = 30
    return {
        "won_long_ago": InquiryFactory(status=Status.WON, closed_at=ago(31)),
        "lost_long_ago": InquiryFactory(status=Status.LOST, closed_at=ago(200)),
        "closed_recently": InquiryFactory(status=Status.CLOSED, closed_at=ago(29)),
        "open_and_old": InquiryFactory(status=Status.NEW, received_at=ago(900)),
        "offer_sent_old": InquiryFactory(
            status=Status.OFFER_SENT, received_at=ago(900), first_offer_sent_at=ago(899)
        ),
        # Inconsistent on purpose: an open status wins over a stale closed_at.
        "reopened": InquiryFactory(status=Status.IN_PROGRESS, closed_at=ago(100)),
        "erased_already": InquiryFactory(
            status=Status.CLOSED, closed_at=ago(300), company="", anonymised_at=ago(250)
        ),
    }


def anonymised(world) -> set[str]:
    return {
        name
        for name, inquiry in world.items()
        if Inquiry.objects.get(pk=inquiry.pk).anonymised_at is not None
    }


def test_retention_erases_only_inquiries_closed_longer_ago(retention_world, capsys):
    call_command("anonymise_inquiries", "--dry-run")
    assert "2 inquiries due for anonymisation (dry run, none erased)" in capsys.readouterr().out
    assert anonymised(retention_world) == {"erased_already"}

    call_command("anonymise_inquiries")
    assert "2 of 2 inquiries due anonymised" in capsys.readouterr().out
    assert anonymised(retention_world) == {"erased_already", "won_long_ago", "lost_long_ago"}
    won = Inquiry.objects.get(pk=retention_world["won_long_ago"].pk)
    assert won.company == "" and won.status == Status.WON
    event = won.events.get(kind=InquiryEvent.Kind.ANONYMISED)
    assert event.actor is None
    assert event.text == "Retention period of 30 days after closing ended."
    assert event.data["retention"] is True

    call_command("anonymise_inquiries")  # idempotent
    assert "0 of 0 inquiries due anonymised" in capsys.readouterr().out
    assert won.events.filter(kind=InquiryEvent.Kind.ANONYMISED).count() == 1

    call_command("anonymise_inquiries", "--days", "28")
    assert "1 of 1" in capsys.readouterr().out
    assert "closed_recently" in anonymised(retention_world)
    assert "open_and_old" not in anonymised(retention_world)
    assert "reopened" not in anonymised(retention_world)
    with pytest.raises(CommandError):
        call_command("anonymise_inquiries", "--days", "0")


@pytest.fixture
def broken() -> Inquiry:
    return InquiryFactory(status=Status.LOST, closed_at=ago(60), company="Broken GmbH")


def test_one_failure_neither_undoes_nor_stops_the_others(broken, retention_world):
    # `broken` is made first: the lowest id, erased first, so the others come after it.
    assert broken.pk < min(inquiry.pk for inquiry in retention_world.values())
    # A real failure of the database for one inquiry: a trigger refuses its erasure.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.company = 'Broken GmbH' AND NEW.anonymised_at IS NOT NULL THEN
                    RAISE EXCEPTION 'refused for the test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_erasure BEFORE UPDATE ON proposals_inquiry
                FOR EACH ROW EXECUTE FUNCTION test_refuse_erasure();
            """
        )
    with pytest.raises(CommandError) as error:
        call_command("anonymise_inquiries")
    assert f"inquiry ids {broken.pk}" in str(error.value)
    # The others were erased after it failed.
    assert anonymised(retention_world) == {"erased_already", "won_long_ago", "lost_long_ago"}
    broken.refresh_from_db()
    assert broken.anonymised_at is None and broken.company == "Broken GmbH"
    assert not broken.events.exists()  # its transaction was rolled back whole
    result = inquiries_anonymise_due()
    assert (result.due, result.erased, result.failed) == (1, 0, [broken.pk])
