"""Demo inquiries: deterministic by seed, idempotent with --if-empty, marked as demo data
everywhere a person could take them for real, and valid against the model."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from properties.services.demo import sites_generate_demo
from proposals.models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from proposals.services.demo import (
    DEMO_COMPANY_PREFIX,
    inquiries_delete_demo,
    inquiries_generate_demo,
)
from tests.factories import InquiryFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 10, 30))
COUNT = 60


@pytest.fixture
def demo_world(reference_data):
    sites_generate_demo(count=400, seed=3)
    return UserFactory(role=User.Role.STAFF, username="demo-staff")


def snapshot() -> list[tuple]:
    """What a person sees of the demo inquiries, without database ids."""
    inquiries = Inquiry.objects.demo().prefetch_related("municipalities", "offers__items__site")
    return [
        (
            inquiry.company,
            inquiry.contact_name,
            inquiry.email,
            inquiry.status,
            inquiry.language,
            inquiry.received_at,
            inquiry.first_offer_sent_at,
            inquiry.closed_at,
            tuple(inquiry.kinds),
            inquiry.area_min_m2,
            inquiry.area_max_m2,
            inquiry.budget_max_eur_m2,
            tuple(sorted(m.ags for m in inquiry.municipalities.all())),
            inquiry.match_count,
            tuple(
                (item.site.partner_ref, item.response)
                for offer in inquiry.offers.all()
                for item in offer.items.all()
            ),
        )
        for inquiry in inquiries.order_by("received_at", "id")
    ]


def test_the_same_seed_gives_the_same_inquiries(demo_world):
    assert inquiries_generate_demo(count=COUNT, seed=7, now=NOW) == COUNT
    first = snapshot()
    assert len(first) == COUNT
    assert inquiries_generate_demo(count=COUNT, seed=7, now=NOW, replace=True) == COUNT
    assert snapshot() == first
    inquiries_generate_demo(count=COUNT, seed=8, now=NOW, replace=True)
    assert snapshot() != first


def test_if_empty_and_replace_and_delete_leave_real_inquiries_alone(demo_world):
    real = InquiryFactory(company="Real Customer GmbH")
    assert inquiries_generate_demo(count=10, seed=1, now=NOW) == 10
    assert inquiries_generate_demo(count=10, seed=1, now=NOW, if_empty=True) == 0
    assert Inquiry.objects.demo().count() == 10
    assert inquiries_generate_demo(count=12, seed=1, now=NOW, replace=True) == 12
    assert Inquiry.objects.demo().count() == 12
    assert inquiries_delete_demo() == 12
    assert list(Inquiry.objects.all()) == [real]
    assert not Offer.objects.exists() and not OfferLink.objects.exists()
    with pytest.raises(ValueError):
        inquiries_generate_demo(count=1, replace=True, if_empty=True)
    with pytest.raises(ValueError):
        inquiries_generate_demo(count=0)


def test_the_command_is_idempotent_with_if_empty(demo_world, capsys):
    call_command("generate_demo_inquiries", "--count", "15", "--if-empty")
    out = capsys.readouterr().out
    assert "generated 15 demo inquiries (seed 42)" in out
    assert "without a matching site" in out
    call_command("generate_demo_inquiries", "--count", "15", "--if-empty")
    assert "15 demo inquiries present already; nothing generated" in capsys.readouterr().out
    assert Inquiry.objects.demo().count() == 15
    call_command("generate_demo_inquiries", "--count", "5", "--replace")
    assert "replaced 15 demo inquiries with 5" in capsys.readouterr().out
    call_command("generate_demo_inquiries", "--delete")
    assert "deleted 5 demo inquiries" in capsys.readouterr().out
    assert not Inquiry.objects.exists()
    with pytest.raises(CommandError):
        call_command("generate_demo_inquiries", "--count", "0")


def test_every_demo_inquiry_is_marked_as_demo_data(demo_world):
    inquiries_generate_demo(count=COUNT, seed=5, now=NOW)
    inquiries = list(Inquiry.objects.demo())
    assert len(inquiries) == COUNT
    for inquiry in inquiries:
        assert inquiry.company.startswith(DEMO_COMPANY_PREFIX), inquiry.company
        assert inquiry.email.rsplit("@", 1)[1] in ("example.com", "example.org"), inquiry.email
        assert inquiry.phone == ""
        assert inquiry.message.startswith(("Demo data – ", "Demodaten – ")), inquiry.message
        assert inquiry.is_demo
        received = inquiry.events.get(kind=InquiryEvent.Kind.RECEIVED)
        assert "Demo data" in received.text
    for offer in Offer.objects.all():
        assert DEMO_COMPANY_PREFIX in offer.title
    for link in OfferLink.objects.all():
        assert link.recipient_email.endswith(("@example.com", "@example.org"))
    for comment in OfferSite.objects.exclude(response_comment="").values_list(
        "response_comment", flat=True
    ):
        assert comment.startswith(("Demo comment", "Demo-Kommentar")), comment
    for text in InquiryEvent.objects.filter(kind=InquiryEvent.Kind.NOTE).values_list(
        "text", flat=True
    ):
        assert text.startswith("Demo note"), text
    # Every offered site is a demo site too.
    assert not OfferSite.objects.filter(site__is_demo=False).exists()


def test_demo_inquiries_are_valid_consistent_and_varied(demo_world):
    inquiries_generate_demo(count=COUNT, seed=11, now=NOW)
    inquiries = list(
        Inquiry.objects.demo().prefetch_related("events", "offers__links", "offers__items")
    )
    closed = {Inquiry.Status.WON, Inquiry.Status.LOST, Inquiry.Status.CLOSED}
    for inquiry in inquiries:
        inquiry.full_clean()
        assert inquiry.received_at <= NOW
        assert inquiry.match_count is not None and inquiry.matched_at is not None
        if inquiry.area_max_m2 is not None:
            assert inquiry.area_min_m2 <= inquiry.area_max_m2
        assert (inquiry.closed_at is not None) == (inquiry.status in closed), inquiry.status
        offers = list(inquiry.offers.all())
        assert (inquiry.first_offer_sent_at is not None) == bool(offers)
        if offers:
            assert inquiry.match_count > 0
            assert inquiry.received_at < inquiry.first_offer_sent_at <= NOW
            (offer,) = offers
            assert offer.sent_at == inquiry.first_offer_sent_at
            assert inquiry.received_at <= offer.created_at <= offer.sent_at
            assert 1 <= len(offer.items.all()) <= 3
            for item in offer.items.all():
                item.full_clean()
                assert item.match["site"] == item.site_id
                assert not item.match["excluded"]
            (link,) = offer.links.all()
            link.full_clean()
            if link.first_opened_at:
                assert offer.sent_at < link.first_opened_at <= link.last_opened_at <= NOW
        if inquiry.closed_at is not None:
            assert inquiry.received_at < inquiry.closed_at <= NOW
            if inquiry.first_offer_sent_at:
                assert inquiry.first_offer_sent_at < inquiry.closed_at
        events = list(inquiry.events.all())
        assert events[0].kind == InquiryEvent.Kind.RECEIVED
        for event in events:
            event.full_clean()
            assert inquiry.received_at <= event.at <= NOW
        statuses = [e.data["to"] for e in events if e.kind == InquiryEvent.Kind.STATUS]
        assert (statuses[-1] if statuses else Inquiry.Status.NEW) == inquiry.status

    statuses = Counter(inquiry.status for inquiry in inquiries)
    assert set(statuses) == set(Inquiry.Status.values), statuses  # every status shows up
    kinds = Counter(kind for inquiry in inquiries for kind in inquiry.kinds)
    assert len(kinds) >= 4, kinds
    months = {timezone.localtime(inquiry.received_at).strftime("%Y-%m") for inquiry in inquiries}
    assert len(months) >= 11, months
    assert any(inquiry.match_count == 0 for inquiry in inquiries)  # some unmet demand
    assert {inquiry.language for inquiry in inquiries} == {"de", "en"}
    assert any(inquiry.municipalities.exists() for inquiry in inquiries)
    assert any(inquiry.area_of_interest is not None for inquiry in inquiries)
    # Realistic response times: a median of a day or two, not minutes or weeks.
    waits = sorted(
        inquiry.first_offer_sent_at - inquiry.received_at
        for inquiry in inquiries
        if inquiry.first_offer_sent_at
    )
    median = waits[len(waits) // 2]
    assert datetime.timedelta(hours=12) < median < datetime.timedelta(days=4), median


def test_the_inbox_and_the_dashboard_show_demo_inquiries(client, demo_world):
    inquiries_generate_demo(count=20, seed=2)
    client.force_login(demo_world)
    inbox = client.get(reverse("inbox"), {"status": "all"})
    assert inbox.status_code == 200
    assert DEMO_COMPANY_PREFIX in inbox.content.decode()
    page = client.get(reverse("staff_dashboard"))
    assert page.status_code == 200
    assert "20 inquiries are generated demo data" in page.content.decode()
    assert "sites counted here are generated demo data" in page.content.decode()
    inquiry = Inquiry.objects.demo().filter(offers__isnull=False).first()
    assert client.get(reverse("inquiry_detail", args=[inquiry.pk])).status_code == 200
