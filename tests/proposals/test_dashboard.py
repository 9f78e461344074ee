"""The staff dashboard, figure by figure against a small world built by hand: supply by
municipality, size class and planning category (only what investors see), inquiries per
local month and by outcome, the median time to the first offer, unmet demand (inquiries
nothing matched, searches that found nothing), and the page itself: charts with a text
alternative, tables, an empty database said plainly, a constant number of queries."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site
from proposals import dashboard
from proposals.charts import BAR_GAP, LABEL_WIDTH, PADDING, VALUE_WIDTH, WIDTH
from proposals.models import Inquiry
from proposals.services import matching as matching_services
from proposals.services.matching import match_counts_refresh_due
from search.models import EmptySearch
from tests.factories import InquiryFactory, PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Inquiry.Status
Kind = Site.Kind
Category = Site.PlanningCategory
BAR_SPAN = WIDTH - LABEL_WIDTH - PADDING - VALUE_WIDTH


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def staff() -> User:
    return UserFactory(role=User.Role.STAFF)


@pytest.fixture
def bottrop(reference_data) -> Municipality:
    return Municipality.objects.get(ags="05512000")


def site(municipality, area_m2, category, *, kind=Kind.PLOT, verified_days_ago=None, **fields):
    created = SiteFactory(
        municipality=municipality,
        area_m2=area_m2,
        planning_category=category,
        kind=kind,
        **fields,
    )
    if verified_days_ago is not None:
        Site.objects.filter(pk=created.pk).update(
            created_at=days_ago(verified_days_ago + 100),
            last_verified_at=days_ago(verified_days_ago),
        )
    return created


@pytest.fixture
def supply(essen, dortmund, bottrop, settings):
    """Seven sites investors see (one reserved, one stale but still shown, one demo), and
    five that must not count: a draft, a submitted, a sold, a withdrawn and a hidden one."""
    settings.SITE_STALE_AFTER_DAYS = 180
    settings.SITE_HIDE_AFTER_DAYS = 270
    return [
        site(essen, 5_000, Category.GE),
        site(essen, 30_000, Category.GI),
        site(essen, 2_000, Category.MI, kind=Kind.OFFICE, status=Site.Status.RESERVED),
        site(essen, 10_000, Category.GE, is_demo=True),  # exactly 1 ha: the class 1–5 ha
        site(dortmund, 120_000, Category.GI),
        site(dortmund, 250_000, Category.SO),
        site(dortmund, 60_000, Category.GE, verified_days_ago=200),  # stale, still shown
        # Not counted:
        site(essen, 50_000, Category.GE, status=Site.Status.DRAFT),
        site(bottrop, 40_000, Category.GI, status=Site.Status.SUBMITTED),
        site(bottrop, 40_000, Category.GI, status=Site.Status.SOLD),
        site(dortmund, 9_000, Category.GE, status=Site.Status.WITHDRAWN),
        site(dortmund, 8_000, Category.GE, kind=Kind.HALL, verified_days_ago=300),  # hidden
    ]


# --- supply -------------------------------------------------------------------------------


def rows(supply_rows) -> list[tuple[str, int, float]]:
    return [(row.label, row.count, row.area_m2) for row in supply_rows]


def test_supply_by_municipality_counts_only_what_investors_see(supply):
    assert rows(dashboard.supply_by_municipality()) == [
        ("Essen", 4, 47_000.0),  # 5,000 + 30,000 + 2,000 + 10,000
        ("Dortmund", 3, 430_000.0),  # 120,000 + 250,000 + 60,000
    ]
    totals = dashboard.supply_totals()
    assert (totals.count, totals.area_m2, totals.demo) == (7, 477_000.0, 1)


def test_supply_by_size_class_shows_every_class_with_lower_bounds_inclusive(supply):
    assert rows(dashboard.supply_by_size_class()) == [
        ("< 1 ha", 2, 7_000.0),
        ("1–5 ha", 2, 40_000.0),
        ("5–10 ha", 1, 60_000.0),
        ("10–20 ha", 1, 120_000.0),
        ("≥ 20 ha", 1, 250_000.0),
    ]


def test_supply_by_planning_category_in_the_categories_order(supply):
    assert rows(dashboard.supply_by_planning_category()) == [
        ("GI – industrial area", 2, 150_000.0),
        ("GE – commercial area", 3, 75_000.0),
        ("MI – mixed area", 1, 2_000.0),
        ("SO – special area", 1, 250_000.0),
    ]


def test_supply_of_an_empty_database_is_zero_everywhere(reference_data):
    assert dashboard.supply_by_municipality() == []
    assert [row.count for row in dashboard.supply_by_size_class()] == [0] * 5
    assert [row.count for row in dashboard.supply_by_planning_category()] == [0] * 4
    assert dashboard.supply_totals().count == 0


# --- inquiries ----------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.UTC)


def test_inquiries_per_month_in_local_time_with_empty_months(db):
    now = utc(2026, 3, 15, 11, 0)
    received = [
        utc(2025, 3, 31, 21, 59),  # 23:59 CEST on 31 March 2025: before the window
        utc(2025, 3, 31, 22, 30),  # 00:30 CEST on 1 April: the window's first month
        utc(2025, 4, 15, 9, 0),
        utc(2025, 6, 30, 22, 30),  # 00:30 CEST on 1 July
        utc(2025, 12, 31, 23, 30),  # 00:30 CET on 1 January 2026
        utc(2026, 2, 28, 22, 59),  # 23:59 CET on 28 February
        utc(2026, 3, 1, 8, 0),
        utc(2026, 3, 15, 10, 0),
        utc(2026, 4, 1, 10, 0),  # after the window (a wrong clock): not counted
    ]
    for moment in received:
        InquiryFactory(received_at=moment)
    months = dashboard.inquiries_per_month(now=now)
    assert len(months) == 12
    assert months == [
        (datetime.date(2025, 4, 1), 2),
        (datetime.date(2025, 5, 1), 0),
        (datetime.date(2025, 6, 1), 0),
        (datetime.date(2025, 7, 1), 1),
        (datetime.date(2025, 8, 1), 0),
        (datetime.date(2025, 9, 1), 0),
        (datetime.date(2025, 10, 1), 0),
        (datetime.date(2025, 11, 1), 0),
        (datetime.date(2025, 12, 1), 0),
        (datetime.date(2026, 1, 1), 1),
        (datetime.date(2026, 2, 1), 1),
        (datetime.date(2026, 3, 1), 2),
    ]
    # "now" late on the last day of a month in UTC is already the next month in Berlin.
    april = dashboard.inquiries_per_month(now=utc(2026, 3, 31, 22, 30))
    assert april[-1] == (datetime.date(2026, 4, 1), 1)
    assert april[0] == (datetime.date(2025, 5, 1), 0)


def test_inquiries_by_outcome_lists_every_status_in_workflow_order(db):
    for status, how_many in ((Status.NEW, 3), (Status.OFFER_SENT, 2), (Status.WON, 1)):
        for _ in range(how_many):
            InquiryFactory(status=status)
    InquiryFactory(status=Status.LOST, company="", anonymised_at=timezone.now())  # erased
    assert dashboard.inquiries_by_status() == [
        ("new", "New", 3),
        ("in_progress", "In progress", 0),
        ("offer_sent", "Offer sent", 2),
        ("won", "Won", 1),
        ("lost", "Lost", 1),
        ("closed", "Closed", 0),
    ]


def offered_after(hours: float) -> Inquiry:
    received = days_ago(30)
    return InquiryFactory(
        received_at=received,
        status=Status.OFFER_SENT,
        first_offer_sent_at=received + datetime.timedelta(hours=hours),
    )


def test_median_time_to_first_offer_of_an_odd_and_an_even_number(db):
    assert dashboard.time_to_first_offer() == dashboard.FirstOfferTimes(None, 0)
    InquiryFactory()  # no offer: not part of the median
    for hours in (50, 10, 30):
        offered_after(hours)
    assert dashboard.time_to_first_offer() == dashboard.FirstOfferTimes(
        datetime.timedelta(hours=30), 3
    )
    offered_after(100)  # even: the mean of the middle two, (30 + 50) / 2
    assert dashboard.median_time_to_first_offer() == datetime.timedelta(hours=40)
    offered_after(0.5)  # odd again: 10, 30, 50 in the middle
    assert dashboard.median_time_to_first_offer() == datetime.timedelta(hours=30)


# --- unmet demand -------------------------------------------------------------------------


def test_unmet_inquiries_count_zero_matches_and_never_matched_ones_apart(db):
    unmet_old = InquiryFactory(status=Status.CLOSED, match_count=0, matched_at=days_ago(90))
    unmet_new = InquiryFactory(status=Status.LOST, match_count=0, matched_at=days_ago(1))
    InquiryFactory(status=Status.WON, match_count=4, matched_at=days_ago(5))
    InquiryFactory(status=Status.CLOSED, match_count=None)  # never matched: unknown
    result = dashboard.unmet_inquiries()
    assert (result.count, result.not_matched) == (2, 1)
    assert result.latest == [unmet_new, unmet_old]


def test_open_inquiries_with_an_old_or_no_count_are_matched_again(supply, essen):
    now = timezone.now()
    # Nothing in the region is 100 ha of GI: unmet once matched.
    hopeless = InquiryFactory(area_min_m2=1_000_000, area_max_m2=None, planning_categories=["GI"])
    # 2–4 ha of GI in Essen: the 3 ha plot.
    served = InquiryFactory(
        area_min_m2=20_000,
        area_max_m2=40_000,
        planning_categories=["GI"],
        municipalities=[essen],
    )
    # Matched an hour ago: trusted as it is.
    fresh = InquiryFactory(match_count=7, matched_at=now - datetime.timedelta(hours=1))
    # Matched two days ago with 5 sites, which have gone since: matched again.
    outdated = InquiryFactory(
        area_min_m2=1_000_000,
        area_max_m2=None,
        match_count=5,
        matched_at=now - datetime.timedelta(days=2),
    )
    # Closed inquiries keep what they were closed with, never matched again.
    closed = InquiryFactory(
        status=Status.CLOSED, closed_at=now, area_min_m2=1_000_000, area_max_m2=None
    )

    assert match_counts_refresh_due(now=now) == (3, 0)
    counts = dict(Inquiry.objects.values_list("pk", "match_count"))
    assert counts[hopeless.pk] == 0
    assert counts[served.pk] == 1
    assert counts[fresh.pk] == 7
    assert counts[outdated.pk] == 0
    assert counts[closed.pk] is None
    result = dashboard.unmet_inquiries()
    assert (result.count, result.not_matched) == (2, 1)
    assert set(result.latest) == {hopeless, outdated}
    assert match_counts_refresh_due(now=now) == (0, 0)  # all fresh now


def test_the_command_matches_again_with_a_limit_and_reports_failures(reference_data, monkeypatch):
    for _ in range(4):
        InquiryFactory()
    out = StringIO()
    call_command("refresh_match_counts", "--limit", "3", stdout=out)
    assert "3 inquiries matched again, 0 failed" in out.getvalue()
    assert Inquiry.objects.filter(match_count__isnull=True).count() == 1

    InquiryFactory()

    def broken(*, inquiry):
        raise RuntimeError("matching broken")

    monkeypatch.setattr(matching_services, "inquiry_match_count_refresh", broken)
    with pytest.raises(CommandError, match="2 inquiries could not be matched"):
        call_command("refresh_match_counts", stdout=StringIO())


def test_the_dashboard_only_reads(client, staff, reference_data):
    """Matching (up to a second an inquiry at 100,000 sites) is no work for a page view."""
    InquiryFactory()
    client.force_login(staff)
    response = client.get(reverse("staff_dashboard"))
    assert response.status_code == 200
    assert "1 inquiry has not been matched yet" in response.content.decode()
    assert Inquiry.objects.get().match_count is None


def test_searches_that_found_nothing_most_frequent_first_in_plain_words(reference_data):
    today = timezone.localdate()
    bottrop_plot = "area_min_ha=50&kind=plot&municipality=05512000"
    for age in (0, 10, 89):
        EmptySearch.objects.create(
            channel="page", query=bottrop_plot, searched_on=today - datetime.timedelta(age)
        )
    EmptySearch.objects.create(  # 90 days ago: outside the last 90 days
        channel="page", query=bottrop_plot, searched_on=today - datetime.timedelta(90)
    )
    for channel in ("page", "api"):
        EmptySearch.objects.create(channel=channel, query="kind=office&max_distance_station_m=500")
    EmptySearch.objects.create(channel="api", query="district=05978&rail_siding=true")
    EmptySearch.objects.create(channel="api", query="foo=bar&price_max=40")

    top = dashboard.empty_searches_top()
    assert [(row.text.replace("\u00a0", " "), row.count) for row in top] == [
        ("Plot, area ≥ 50 ha, Bottrop", 3),
        ("Office, station ≤ 0.5 km", 2),
        ("rail siding, district Unna", 1),
        ("price ≤ 40 €/m², foo=bar", 1),
    ]
    assert top[0].query == bottrop_plot


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("kind=hall&kind=logistics", "Hall / production or Logistics"),
        ("area_max=5000&area_min=2000", "area ≥ 2,000 m², area ≤ 5,000 m²"),
        ("planning_category=GE&planning_category=GI", "GE or GI"),
        (
            "max_distance_junction_m=2500&port_access=true",
            "port access, motorway junction ≤ 2.5 km",
        ),
        ("divisible=false&kind=plot", "Plot"),  # a flag set to false is no filter
        ("near=7.0%2C51.4&radius_m=3000", "within 3.0 km of a point"),
        ("area=POLYGON((0 0,1 0,1 1,0 0))&status=reserved", "Reserved, drawn search area"),
        (
            "broadband_min=gigabit&ownership=municipal",
            "ownership: Municipal, broadband at least Gigabit / fibre",
        ),
        ("area_min_ha=abc", "area ≥ abc"),  # old rows with odd values do not break the page
    ],
)
def test_empty_search_text(query, text):
    assert dashboard.empty_search_text(query).replace("\u00a0", " ") == text


# --- the page -----------------------------------------------------------------------------


@pytest.fixture
def inquiries_world(supply, essen):
    now = timezone.now()
    InquiryFactory(received_at=now - datetime.timedelta(days=3), status=Status.NEW)
    received = now - datetime.timedelta(days=40)
    InquiryFactory(
        received_at=received,
        status=Status.WON,
        first_offer_sent_at=received + datetime.timedelta(hours=26),
        closed_at=received + datetime.timedelta(days=20),
        match_count=2,
        matched_at=received,
    )
    InquiryFactory(
        received_at=now - datetime.timedelta(days=70),
        status=Status.CLOSED,
        closed_at=now - datetime.timedelta(days=50),
        match_count=0,
        matched_at=now - datetime.timedelta(days=69),
        kinds=["plot"],
        area_min_m2=500_000,
        area_max_m2=None,
        municipalities=[essen],
    )
    EmptySearch.objects.create(channel="page", query="area_min_ha=50&kind=plot")


def test_the_page_shows_charts_tables_and_figures_to_staff(client, staff, inquiries_world):
    client.force_login(staff)
    response = client.get(reverse("staff_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    # Five charts, each an SVG image with a title and a description, and a table.
    assert html.count('role="img"') == 5
    for slug in (
        "supply-municipality",
        "supply-size",
        "supply-planning",
        "inquiries-month",
        "inquiries-status",
    ):
        assert f'aria-labelledby="chart-{slug}-title chart-{slug}-desc"' in html
        assert f'<title id="chart-{slug}-title">' in html
        assert f'<desc id="chart-{slug}-desc">' in html
    assert "Sites investors see: Essen: 4; Dortmund: 3." in html
    assert html.count('class="chart-table"') == 5
    # Bars scale to the largest value of their chart.
    size_chart = response.context["supply_charts"][0]
    assert [bar.width for bar in size_chart.bars] == [
        BAR_SPAN,
        BAR_SPAN,
        BAR_SPAN / 2,
        BAR_SPAN / 2,
        BAR_SPAN / 2,
    ]
    assert size_chart.bars[1].y == BAR_GAP + size_chart.bar_height + BAR_GAP
    months = response.context["inquiry_charts"][0]
    assert len(months.bars) == 12 and sum(bar.value for bar in months.bars) == 3
    assert "7 sites with 47.7\u00a0ha in all." in html
    assert "1 of the sites counted here is generated demo data" in html
    assert 'id="median-time"' in html and "1 d 2 h" in html
    assert "the median of 1 inquiry with an offer" in html
    unmet = re.search(r'<table class="inbox-table" id="unmet-inquiries">.*?</table>', html, re.S)
    assert unmet is not None and "at least 50\u00a0ha" in unmet.group(0)
    assert "Plot, area ≥ 50\u00a0ha" in html


def test_the_page_of_an_empty_database_says_so_plainly(client, staff, reference_data):
    client.force_login(staff)
    response = client.get(reverse("staff_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There are no published sites and no inquiries yet" in html
    assert html.count("No published sites.") == 3
    assert "No inquiries in the last 12 months." in html
    assert "No inquiries yet." in html
    assert "No offer has been sent yet." in html
    assert "Every matched inquiry has at least one matching site." in html
    assert "No investor search came up empty." in html
    assert 'role="img"' not in html
    assert "demo data" not in html


def test_only_staff_see_the_dashboard(client, reference_data):
    url = reverse("staff_dashboard")
    assert client.get(url).status_code == 302
    partner = UserFactory(role=User.Role.PARTNER, organisation=PartnerOrganisationFactory())
    for user in (UserFactory(), partner):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(url).status_code == 200


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("staff_dashboard")).status_code == 200
    return len(context.captured_queries)


def test_the_page_needs_a_constant_number_of_queries(
    client, staff, inquiries_world, dortmund, django_assert_max_num_queries
):
    client.force_login(staff)
    count_queries(client)  # matches the open inquiry once
    cache.clear()  # the supply figures are cached per data version: count them uncached
    small = count_queries(client)
    # Ten times the inquiries, more sites and searches: not one query more.
    for index in range(30):
        InquiryFactory(
            received_at=days_ago(index * 11),
            status=Status.CLOSED,
            match_count=index % 2,
            matched_at=days_ago(1),
        )
    for index in range(5):
        site(dortmund, 3_000 + index * 1_000, Category.GE)
    for index in range(20):
        EmptySearch.objects.create(channel="api", query=f"kind=plot&area_min={index * 1000 + 1}")
    assert count_queries(client) == small  # the new sites' version: not cached yet
    assert count_queries(client) == small - 1  # the supply's scan from the shared cache
    with django_assert_max_num_queries(20):
        client.get(reverse("staff_dashboard"))
