"""Staff's page of an inquiry's matches: the ranked and the excluded sites with their
verdicts, the must-have criteria changed there, and the count it stores for the dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from properties.models import Site
from proposals.models import Criterion, Inquiry, InquiryEvent
from tests.factories import InquiryFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(role=User.Role.STAFF))
    return client


@pytest.fixture
def inquiry(essen) -> Inquiry:
    # 1–3 ha of GE plot, in Essen (the factory's profile) with rail siding not asked for.
    return InquiryFactory(municipalities=[essen])


@pytest.fixture
def sites(essen) -> dict[str, Site]:
    return {
        "fits": SiteFactory.create(title="Passt genau", municipality=essen, area_m2=20_000),
        "demo": SiteFactory.create(
            title="Demo-Fläche", municipality=essen, area_m2=25_000, is_demo=True
        ),
        "office": SiteFactory.create(
            title="Nur Büro", municipality=essen, area_m2=20_000, kind=Site.Kind.OFFICE
        ),
    }


def url(inquiry: Inquiry, query: str = "") -> str:
    return reverse("inquiry_matches", args=[inquiry.pk]) + query


def test_ranked_and_excluded_sites_with_their_reasons(staff_client, inquiry, sites):
    response = staff_client.get(url(inquiry))
    assert response.status_code == 200
    html = response.content.decode()
    ranked = html.split('id="ranked-heading"')[1].split('id="excluded-heading"')[0]
    excluded = html.split('id="excluded-heading"')[1]
    assert "Passt genau" in ranked and "Demo-Fläche" in ranked
    assert "Nur Büro" not in ranked
    assert "Nur Büro" in excluded
    assert (
        "Fails the must-have:" in excluded and "Office is not one of the kinds wanted" in excluded
    )
    assert "meeting every must-have: 2; failing a must-have: 1." in html
    # Demo data says so here too, and the excluded list is folded while others fit.
    assert ranked.count("badge--demo") == 1
    assert '<details class="match-excluded">' in html
    # Each site can be ticked for a new offer.
    assert f'name="site" value="{sites["fits"].pk}"' in html
    assert reverse("offer_create", args=[inquiry.pk]) in html


def test_opening_the_matches_stores_the_count_for_the_dashboard(staff_client, inquiry, sites):
    assert inquiry.match_count is None
    staff_client.get(url(inquiry))
    inquiry.refresh_from_db()
    assert inquiry.match_count == 2 and inquiry.matched_at is not None


def test_nothing_fits_then_the_excluded_list_is_open(staff_client, essen, sites):
    hopeless = InquiryFactory(area_min_m2=900_000, area_max_m2=None, municipalities=[essen])
    html = staff_client.get(url(hopeless)).content.decode()
    assert "No published site meets every must-have criterion." in html
    assert '<details class="match-excluded" open>' in html


def test_changing_the_must_haves_moves_sites_and_goes_on_the_timeline(staff_client, inquiry, sites):
    response = staff_client.post(
        url(inquiry), {"hard_criteria": [Criterion.AREA, Criterion.LOCATION]}
    )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.hard_criteria == [Criterion.AREA, Criterion.LOCATION]
    assert inquiry.match_count == 3  # the office now ranks (low), instead of being excluded
    assert inquiry.events.filter(kind=InquiryEvent.Kind.NOTE).exists()
    html = staff_client.get(url(inquiry)).content.decode()
    assert "Nur Büro" in html.split('id="ranked-heading"')[1].split('id="excluded-heading"')[0]


def test_bad_input_is_a_form_error_or_a_default_never_a_500(staff_client, inquiry, sites):
    response = staff_client.post(url(inquiry), {"hard_criteria": ["no-such-criterion"]})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    inquiry.refresh_from_db()
    assert Criterion.KIND in inquiry.hard_criteria  # unchanged
    for query in ("?limit=abc", "?limit=-5", "?limit=100000"):
        assert staff_client.get(url(inquiry, query)).status_code == 200


def test_the_inquiry_page_lists_only_the_must_haves_the_inquiry_states(staff_client, inquiry):
    html = staff_client.get(reverse("inquiry_detail", args=[inquiry.pk])).content.decode()
    row = html.split("Must-have criteria")[1].split("</div>")[0]
    assert "Kind of site" in row and "Area" in row and "Location" in row
    assert "Rail siding" not in row and "Port access" not in row  # default, but not asked for


def test_a_reserved_site_is_badged_in_the_matches(staff_client, inquiry, sites, essen):
    SiteFactory.create(
        title="Schon reserviert", municipality=essen, area_m2=20_000, status=Site.Status.RESERVED
    )
    html = staff_client.get(url(inquiry), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    ranked = html.split('id="ranked-heading"')[1].split('id="excluded-heading"')[0]
    card = ranked.partition("Schon reserviert")[2].split("</li>")[0]
    assert 'class="status status--reserved">Reserved<' in card
    other = ranked.partition("Passt genau")[2].split("</li>")[0]
    assert "status--" not in other  # a published site needs no badge
