"""The e-mails of a new inquiry: sent as a task after the commit, each recorded on the
timeline; a failing mail server loses nothing, and a retry sends only what is missing."""

import time
from smtplib import SMTPException

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from accounts.models import User
from proposals.forms import rendered_token
from proposals.models import Inquiry, InquiryEvent
from proposals.services.inquiries import (
    inquiry_create,
    inquiry_emails_retry,
    inquiry_emails_send,
    staff_recipients,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(reference_data) -> User:
    return UserFactory(
        username="stefanie", email="stefanie@agency.example", role=User.Role.STAFF, language="en"
    )


def profile(**overrides) -> dict:
    data = {
        "company": "Rhein Logistik GmbH",
        "contact_name": "Erika Mustermann",
        "email": "erika@example.com",
        "phone": "",
        "message": "",
        "industry": "Logistics",
        "language": "en",
        "kinds": ["plot"],
        "planning_categories": ["GE"],
        "area_min_m2": 10_000.0,
        "area_max_m2": 30_000.0,
        "max_distance_junction_m": 5000.0,
        "needs_rail_siding": True,
    }
    data.update(overrides)
    return data


def create(captured, **overrides) -> Inquiry:
    with captured(execute=True):
        return inquiry_create(data=profile(**overrides), acting_user=None, client_fingerprint="f")


def sent_events(inquiry: Inquiry) -> list[tuple[str, str]]:
    return sorted(
        (event.data["mail"], event.data["to"])
        for event in inquiry.events.filter(kind=InquiryEvent.Kind.MAIL_SENT)
    )


def test_confirmation_and_notification_after_the_commit(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        inquiry = inquiry_create(data=profile(), acting_user=None, client_fingerprint="f")
        # Stored first; nothing is sent before the transaction commits.
        assert Inquiry.objects.filter(pk=inquiry.pk).exists()
        assert mail.outbox == []
    assert len(callbacks) == 2  # the e-mails, and counting the matching sites
    for callback in callbacks:
        callback()
    inquiry.refresh_from_db()
    assert inquiry.match_count == 0 and inquiry.matched_at is not None  # no sites here

    assert sorted(message.to[0] for message in mail.outbox) == [
        "erika@example.com",
        "stefanie@agency.example",
    ]
    assert sent_events(inquiry) == [
        ("confirmation", "erika@example.com"),
        ("staff", "stefanie@agency.example"),
    ]
    kinds = list(inquiry.events.values_list("kind", flat=True))
    assert kinds[0] == InquiryEvent.Kind.RECEIVED


def test_the_confirmation_tells_the_investor_what_was_asked(
    staff, django_capture_on_commit_callbacks
):
    inquiry = create(django_capture_on_commit_callbacks)
    confirmation = next(m for m in mail.outbox if m.to == ["erika@example.com"])
    assert inquiry.reference in confirmation.subject
    body = confirmation.body
    assert inquiry.reference in body
    assert "Dear Erika Mustermann" in body
    # Numbers and units are held together by no-break spaces.
    assert "Area: 1–3\xa0ha" in body
    assert "Kind of site: Plot" in body
    assert "Planning category: GE – commercial area" in body
    assert "Motorway junction: at most 5.0\xa0km" in body
    assert "Rail siding: needed" in body
    assert "What happens next" in body
    # Nothing staff-only: no link to the inbox.
    assert "/staff/" not in body
    assert "/staff/" not in confirmation.alternatives[0].content
    assert "1–3\xa0ha" in confirmation.alternatives[0].content


def test_staff_are_told_with_a_link_to_the_inquiry(staff, django_capture_on_commit_callbacks):
    inquiry = create(django_capture_on_commit_callbacks, phone="+49 201 123")
    notification = next(m for m in mail.outbox if m.to == ["stefanie@agency.example"])
    link = f"{settings.SITE_URL}/en/staff/inquiries/{inquiry.pk}/"  # stefanie reads English
    assert link in notification.body
    assert link in notification.alternatives[0].content
    assert "Rhein Logistik GmbH" in notification.subject
    assert "erika@example.com" in notification.body
    assert "+49 201 123" in notification.body


def test_a_german_inquiry_gets_a_german_confirmation(staff, django_capture_on_commit_callbacks):
    create(django_capture_on_commit_callbacks, language="de")
    confirmation = next(m for m in mail.outbox if m.to == ["erika@example.com"])
    assert "Ihre Anfrage" in confirmation.subject
    assert "Fläche: 1–3\xa0ha" in confirmation.body
    assert "Guten Tag Erika Mustermann" in confirmation.body
    # The English-speaking staff member still reads English.
    notification = next(m for m in mail.outbox if m.to == ["stefanie@agency.example"])
    assert "new inquiry" in notification.subject


def test_staff_recipients_are_active_staff_with_an_address_in_their_language(reference_data):
    UserFactory(username="s1", email="s1@agency.example", role=User.Role.STAFF, language="de")
    UserFactory(username="boss", email="boss@agency.example", is_superuser=True, language="en")
    UserFactory(username="gone", email="gone@agency.example", role=User.Role.STAFF, is_active=False)
    UserFactory(username="s2", email="", role=User.Role.STAFF)
    UserFactory(username="investor", email="investor@example.com")
    assert sorted(staff_recipients()) == [
        ("boss@agency.example", "en"),
        ("s1@agency.example", "de"),
    ]


def test_configured_notification_addresses_win(reference_data, settings, staff):
    settings.INQUIRY_NOTIFY_EMAILS = ["inbox@agency.example", "STEFANIE@agency.example"]
    assert staff_recipients() == [
        ("inbox@agency.example", settings.LANGUAGE_CODE),
        ("STEFANIE@agency.example", "en"),
    ]


def test_a_german_staff_member_gets_a_german_notification(
    reference_data, django_capture_on_commit_callbacks
):
    UserFactory(username="s1", email="s1@agency.example", role=User.Role.STAFF, language="de")
    create(django_capture_on_commit_callbacks)
    notification = next(m for m in mail.outbox if m.to == ["s1@agency.example"])
    assert "neue Anfrage" in notification.subject


def test_a_failing_mail_server_loses_nothing_and_a_retry_sends_only_what_is_missing(
    staff, client, monkeypatch, django_capture_on_commit_callbacks
):
    original_send = EmailMultiAlternatives.send

    def refuse_staff_mail(message, *args, **kwargs):
        if message.to == ["stefanie@agency.example"]:
            raise SMTPException("mail server down")
        return original_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse_staff_mail)
    data = {
        "company": "Rhein Logistik GmbH",
        "contact_name": "Erika Mustermann",
        "email": "erika@example.com",
        "language": "en",
        "area_unit": "m2",
        "consent": "on",
        "rendered": rendered_token(time.time() - 10),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/inquiry/", data, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 302  # the investor sees the thanks page, not a 500

    inquiry = Inquiry.objects.get()
    assert inquiry.events.filter(kind=InquiryEvent.Kind.RECEIVED).count() == 1
    failed = inquiry.events.get(kind=InquiryEvent.Kind.MAIL_FAILED)
    assert failed.data["mail"] == "staff" and failed.data["to"] == "stefanie@agency.example"
    assert "mail server down" in failed.text
    assert sent_events(inquiry) == [("confirmation", "erika@example.com")]
    assert [m.to for m in mail.outbox] == [["erika@example.com"]]

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        inquiry_emails_retry(inquiry=inquiry, acting_user=staff)
    assert [m.to for m in mail.outbox] == [["erika@example.com"], ["stefanie@agency.example"]]
    assert sent_events(inquiry) == [
        ("confirmation", "erika@example.com"),
        ("staff", "stefanie@agency.example"),
    ]


def test_when_every_mail_fails_the_inquiry_is_kept(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise SMTPException("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    inquiry = create(django_capture_on_commit_callbacks)
    assert Inquiry.objects.filter(pk=inquiry.pk).exists()
    assert inquiry.events.filter(kind=InquiryEvent.Kind.MAIL_FAILED).count() == 2
    assert sent_events(inquiry) == []


def test_running_the_task_again_sends_nothing_twice(staff, django_capture_on_commit_callbacks):
    inquiry = create(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    result = inquiry_emails_send.enqueue(inquiry.pk)
    assert result.return_value == 0
    assert len(mail.outbox) == 2
    assert inquiry.events.filter(kind=InquiryEvent.Kind.MAIL_SENT).count() == 2


def test_a_new_staff_member_is_not_told_of_old_inquiries_twice(
    staff, django_capture_on_commit_callbacks
):
    inquiry = create(django_capture_on_commit_callbacks)
    UserFactory(username="new", email="new@agency.example", role=User.Role.STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        inquiry_emails_retry(inquiry=inquiry, acting_user=staff)
    # The retry reaches only whoever was missed: here the newcomer, nobody twice.
    assert [m.to for m in mail.outbox][2:] == [["new@agency.example"]]
