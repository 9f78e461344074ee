"""Staff's inquiry inbox and inquiry page: listing, filters, overdue, status workflow,
assignment, notes, timeline, and who may see any of it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from proposals.models import Inquiry, InquiryEvent, Offer
from proposals.presentation import age_text
from proposals.services.inbox import inquiry_assign, inquiry_note_add, inquiry_status_set
from tests.factories import InquiryFactory, PartnerOrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Inquiry.Status


def ago(**kwargs) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**kwargs)


@pytest.fixture
def staff() -> User:
    return UserFactory(role=User.Role.STAFF, first_name="Sabine", last_name="Staff")


@pytest.fixture
def colleague() -> User:
    return UserFactory(role=User.Role.STAFF, first_name="Chris", last_name="Colleague")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def rows(response) -> dict[str, object]:
    return {row.inquiry.reference: row for row in response.context["rows"]}


# --- listing and filters ------------------------------------------------------------------


def test_inbox_lists_open_inquiries_newest_first_and_marks_overdue_ones(staff_client, settings):
    settings.INQUIRY_RESPONSE_HOURS = 48
    overdue = InquiryFactory(received_at=ago(days=3), company="Overdue GmbH")
    fresh = InquiryFactory(received_at=ago(hours=2), company="Fresh GmbH")
    offered = InquiryFactory(
        received_at=ago(days=5), status=Status.OFFER_SENT, first_offer_sent_at=ago(days=4)
    )
    won = InquiryFactory(received_at=ago(days=1), status=Status.WON, company="Won AG")
    erased = InquiryFactory(received_at=ago(hours=1), company="", anonymised_at=timezone.now())

    response = staff_client.get(reverse("inbox"))
    assert response.status_code == 200
    listed = rows(response)
    assert list(listed) == [
        erased.reference,
        fresh.reference,
        overdue.reference,
        offered.reference,
    ]
    assert won.reference not in listed  # the default shows open inquiries only
    assert listed[overdue.reference].overdue
    assert not listed[fresh.reference].overdue
    assert not listed[offered.reference].overdue  # an offer was sent
    assert listed[overdue.reference].age == "3 d 0 h"
    assert listed[fresh.reference].summary == "Plot · 1–3\xa0ha"

    html = response.content.decode()
    # Highlighted not by colour alone: a class for the bar and a word.
    overdue_row = html.split(f'data-inquiry-id="{overdue.pk}"')[1].split("</tr>")[0]
    assert "overdue" in overdue_row
    fresh_row = html.split(f'data-inquiry-id="{fresh.pk}"')[1].split("</tr>")[0]
    assert "overdue" not in fresh_row
    assert "(erased)" in html
    assert "Overdue GmbH" in html


def test_inbox_filters_by_status_assignee_and_overdue(staff_client, staff, colleague):
    mine = InquiryFactory(assignee=staff, received_at=ago(days=4))
    theirs = InquiryFactory(assignee=colleague, status=Status.IN_PROGRESS, received_at=ago(hours=3))
    nobodys = InquiryFactory(received_at=ago(hours=1))
    lost = InquiryFactory(status=Status.LOST, closed_at=ago(hours=1))
    url = reverse("inbox")

    def refs(**params) -> set[str]:
        response = staff_client.get(url, params)
        assert response.status_code == 200
        return set(rows(response))

    assert refs() == {mine.reference, theirs.reference, nobodys.reference}
    assert refs(status="all") == {
        mine.reference,
        theirs.reference,
        nobodys.reference,
        lost.reference,
    }
    assert refs(status="lost") == {lost.reference}
    assert refs(assignee="me") == {mine.reference}
    assert refs(assignee="none") == {nobodys.reference}
    assert refs(assignee=str(colleague.pk)) == {theirs.reference}
    assert refs(overdue="on") == {mine.reference}
    assert refs(overdue="on", assignee="none") == set()
    # Oldest first on request; the filters stay in the pager's links.
    response = staff_client.get(url, {"sort": "oldest", "status": "all"})
    assert list(rows(response))[0] == mine.reference
    assert response.context["query"] == "sort=oldest&status=all"


def test_bad_filter_values_fall_back_to_defaults(staff_client):
    inquiry = InquiryFactory()
    response = staff_client.get(
        reverse("inbox"), {"status": "bogus", "assignee": "x1", "page": "zz", "sort": "?"}
    )
    assert response.status_code == 200
    assert inquiry.reference in rows(response)


def test_inbox_paginates(staff_client):
    for _ in range(27):
        InquiryFactory()
    first = staff_client.get(reverse("inbox"))
    second = staff_client.get(reverse("inbox"), {"page": 2})
    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 2
    assert "Page 1 of 2" in first.content.decode()


def test_inbox_needs_a_constant_number_of_queries(
    staff_client, staff, essen, dortmund, django_assert_max_num_queries
):
    def make(count: int) -> None:
        for _ in range(count):
            InquiryFactory(assignee=staff, municipalities=[essen, dortmund])

    make(2)
    with django_assert_max_num_queries(8) as few:
        staff_client.get(reverse("inbox"))
    make(20)
    with django_assert_max_num_queries(8) as many:
        response = staff_client.get(reverse("inbox"))
    assert len(few.captured_queries) == len(many.captured_queries)
    assert len(response.context["rows"]) == 22
    assert "Dortmund, Essen" in response.context["rows"][0].summary


def test_age_is_humanised():
    assert age_text(datetime.timedelta(days=2, hours=4, minutes=59)) == "2 d 4 h"
    assert age_text(datetime.timedelta(hours=5, minutes=10)) == "5 h 10 min"
    assert age_text(datetime.timedelta(minutes=12)) == "12 min"
    assert age_text(datetime.timedelta(seconds=-5)) == "0 min"


# --- status workflow ----------------------------------------------------------------------


def test_the_status_follows_the_workflow_and_closing_sets_closed_at(staff):
    inquiry = InquiryFactory()
    inquiry_status_set(inquiry=inquiry, status=Status.IN_PROGRESS, acting_user=staff)
    inquiry_status_set(inquiry=inquiry, status=Status.OFFER_SENT, acting_user=staff)
    assert inquiry.closed_at is None
    inquiry_status_set(inquiry=inquiry, status=Status.WON, acting_user=staff, note="Signed")
    inquiry.refresh_from_db()
    assert inquiry.status == Status.WON
    assert inquiry.closed_at is not None
    # Reopening clears closed_at.
    inquiry_status_set(inquiry=inquiry, status=Status.IN_PROGRESS, acting_user=staff)
    inquiry.refresh_from_db()
    assert inquiry.closed_at is None
    # Any open inquiry may be closed.
    inquiry_status_set(inquiry=inquiry, status=Status.CLOSED, acting_user=staff)
    assert inquiry.closed_at is not None
    events = list(inquiry.events.filter(kind=InquiryEvent.Kind.STATUS).values_list("data", "text"))
    assert events[2] == ({"from": "offer_sent", "to": "won"}, "Signed")
    assert len(events) == 5


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Status.NEW, Status.WON),
        (Status.NEW, Status.OFFER_SENT),
        (Status.IN_PROGRESS, Status.LOST),
        (Status.WON, Status.LOST),
        (Status.CLOSED, Status.OFFER_SENT),
        (Status.NEW, Status.NEW),
        (Status.NEW, "archived"),
    ],
)
def test_forbidden_status_changes_are_refused(staff, start, target):
    inquiry = InquiryFactory(status=start)
    with pytest.raises(ValidationError):
        inquiry_status_set(inquiry=inquiry, status=target, acting_user=staff)
    inquiry.refresh_from_db()
    assert inquiry.status == start
    assert not inquiry.events.exists()


def test_the_status_form_changes_the_status_or_shows_a_clear_error(staff_client):
    inquiry = InquiryFactory()
    url = reverse("inquiry_detail", args=[inquiry.pk])
    page = staff_client.get(url)
    offered = [value for value, _ in page.context["status_form"].fields["status"].widget.choices]
    assert offered == [Status.IN_PROGRESS, Status.CLOSED]

    refused = staff_client.post(
        url, {"action": "status", "status-status": "won", "status-note": "typed text"}
    )
    assert refused.status_code == 400
    assert "cannot go from “New” to “Won”" in refused.content.decode()
    assert 'value="typed text"' in refused.content.decode()  # what was typed is kept
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW

    garbage = staff_client.post(url, {"action": "status", "status-status": "<script>"})
    assert garbage.status_code == 400

    done = staff_client.post(url, {"action": "status", "status-status": "in_progress"})
    assert done.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == Status.IN_PROGRESS


def test_unknown_action_redirects_without_change(staff_client):
    inquiry = InquiryFactory()
    response = staff_client.post(reverse("inquiry_detail", args=[inquiry.pk]), {"action": "x"})
    assert response.status_code == 302
    assert not inquiry.events.exists()


# --- assignment and notes -----------------------------------------------------------------


def test_assigning_records_who_and_refuses_non_staff(staff_client, staff, colleague):
    inquiry = InquiryFactory()
    url = reverse("inquiry_detail", args=[inquiry.pk])
    response = staff_client.post(url, {"action": "assign", "assign-assignee": colleague.pk})
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.assignee == colleague
    event = inquiry.events.get(kind=InquiryEvent.Kind.ASSIGNED)
    assert event.actor == staff
    assert event.data == {"from": None, "to": colleague.username}

    investor = UserFactory()
    refused = staff_client.post(url, {"action": "assign", "assign-assignee": investor.pk})
    assert refused.status_code == 400
    inquiry.refresh_from_db()
    assert inquiry.assignee == colleague
    with pytest.raises(ValidationError):
        inquiry_assign(inquiry=inquiry, assignee=investor, acting_user=staff)

    # Unassigning.
    staff_client.post(url, {"action": "assign", "assign-assignee": ""})
    inquiry.refresh_from_db()
    assert inquiry.assignee is None
    assert inquiry.events.filter(kind=InquiryEvent.Kind.ASSIGNED).count() == 2


def test_notes_go_on_the_timeline_which_the_page_shows(staff_client, staff):
    inquiry = InquiryFactory()
    url = reverse("inquiry_detail", args=[inquiry.pk])
    empty = staff_client.post(url, {"action": "note", "note-text": "   "})
    assert empty.status_code == 400
    assert not inquiry.events.exists()
    with pytest.raises(ValidationError):
        inquiry_note_add(inquiry=inquiry, text="", acting_user=staff)

    staff_client.post(url, {"action": "note", "note-text": "Called back, wants rail access"})
    inquiry_status_set(inquiry=inquiry, status=Status.IN_PROGRESS, acting_user=staff)
    page = staff_client.get(url).content.decode()
    assert "Called back, wants rail access" in page
    assert "New → In progress" in page
    assert "Sabine Staff" in page
    assert page.index("Called back") < page.index("New → In progress")  # oldest first


def test_the_timeline_tells_what_happened_in_words_not_codes(staff_client, staff):
    inquiry = InquiryFactory()
    offer = Offer.objects.create(inquiry=inquiry, language="en", title="Proposal")
    add = inquiry.events.create
    add(
        kind=InquiryEvent.Kind.MAIL_SENT,
        text="erika@example.com",
        data={"mail": "confirmation", "to": "erika@example.com"},
    )
    add(
        kind=InquiryEvent.Kind.MAIL_FAILED,
        text="SMTPServerDisconnected: gone",
        data={"mail": "staff", "to": "team@agency.example"},
    )
    add(
        kind=InquiryEvent.Kind.OFFER_CREATED,
        actor=staff,
        text="Proposal",
        data={"offer": offer.pk, "sites": [1, 2], "language": "en"},
    )
    add(
        kind=InquiryEvent.Kind.LINK_CREATED,
        actor=staff,
        text="erika@example.com",
        data={
            "offer": offer.pk,
            "link": 1,
            "sent": True,
            "expires_at": "2026-12-31T12:00:00+00:00",
        },
    )
    add(kind=InquiryEvent.Kind.LINK_OPENED, data={"offer": offer.pk, "link": 1, "count": 3})
    add(
        kind=InquiryEvent.Kind.RESPONSE,
        text="Too far from the motorway",
        data={"offer": offer.pk, "site_title": "Hafenfläche Nord", "response": "not_for_us"},
    )
    page = staff_client.get(reverse("inquiry_detail", args=[inquiry.pk])).content.decode()
    timeline = page.split('id="timeline-heading"')[1]
    for words in (
        "Confirmation to the investor: erika@example.com",
        "Notification to staff: team@agency.example",
        "SMTPServerDisconnected: gone",
        "Proposal, 2 sites",
        "for erika@example.com, valid until 31 Dec 2026, sent by e-mail",
        "opened 3 times",
        "Hafenfläche Nord: Not for us",
        "Too far from the motorway",
        reverse("offer_edit", args=[offer.pk]),
    ):
        assert words in timeline, words
    for code in ("not_for_us", "confirmation<", "expires_at", '"sites"'):
        assert code not in timeline, code


def test_the_inquiry_page_shows_contact_profile_and_source_search(staff_client, essen):
    inquiry = InquiryFactory(
        municipalities=[essen],
        max_distance_junction_m=5000,
        needs_rail_siding=True,
        source_query="kind=plot&area_min=10000",
        area_of_interest="SRID=25832;MULTIPOLYGON(((360000 5700000, 362000 5700000, "
        "362000 5702000, 360000 5702000, 360000 5700000)))",
    )
    page = staff_client.get(reverse("inquiry_detail", args=[inquiry.pk])).content.decode()
    for text in (
        inquiry.company,
        inquiry.email,
        inquiry.phone,
        "Essen",
        "5.0\xa0km",
        "Rail siding",
        "1–3\xa0ha",
        "GE – commercial area",
        "/?kind=plot&amp;area_min=10000",
        "400\xa0ha",  # the drawn area's size
        'role="img"',
    ):
        assert text in page, text


# --- access -------------------------------------------------------------------------------


def inbox_urls(inquiry: Inquiry) -> list[tuple[str, str]]:
    return [
        ("get", reverse("inbox")),
        ("get", reverse("inquiry_detail", args=[inquiry.pk])),
        ("post", reverse("inquiry_detail", args=[inquiry.pk])),
        ("post", reverse("inquiry_export", args=[inquiry.pk])),
        ("get", reverse("inquiry_erase", args=[inquiry.pk])),
        ("post", reverse("inquiry_erase", args=[inquiry.pk])),
        ("get", reverse("staff_dashboard")),
    ]


def test_nobody_but_staff_sees_inquiries(client):
    sender = UserFactory()
    inquiry = InquiryFactory(user=sender)
    partner = UserFactory(role=User.Role.PARTNER, organisation=PartnerOrganisationFactory())
    for method, url in inbox_urls(inquiry):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    for user in (sender, UserFactory(), partner):
        client.force_login(user)
        for method, url in inbox_urls(inquiry):
            response = getattr(client, method)(url, {"action": "note", "note-text": "x"})
            assert response.status_code == 404, (user.role, url)
    inquiry.refresh_from_db()
    assert inquiry.anonymised_at is None
    assert not inquiry.events.exists()


def test_staff_and_superusers_see_every_inbox_page(client):
    inquiry = InquiryFactory()
    for user in (UserFactory(role=User.Role.STAFF), UserFactory(is_superuser=True)):
        client.force_login(user)
        for method, url in inbox_urls(inquiry):
            if method == "get":
                assert client.get(url).status_code == 200, url
        assert client.post(reverse("inquiry_export", args=[inquiry.pk])).status_code == 200


def test_a_missing_inquiry_is_404_for_staff(staff_client):
    assert staff_client.get(reverse("inquiry_detail", args=[999999])).status_code == 404
