"""Investor searches that found nothing: recorded once per search (search page and API),
anonymously (the day, the channel, the normalised filters), so the same search counts
together; staff's and partners' searches, searches without a filter, viewport searches and
invalid ones are not; a failure to record never breaks the search."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from search.models import EmptySearch
from search.services.empty_searches import empty_search_query
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

# No site is 50 ha or more: every search for one finds nothing.
NOTHING = {"kind": "plot", "area_min_ha": "50", "municipality": "05512000"}
NOTHING_QUERY = "area_min_ha=50&kind=plot&municipality=05512000"


@pytest.fixture
def sites(essen):
    return [SiteFactory(municipality=essen, area_m2=20_000)]


def page(client, params):
    return client.get(reverse("map"), params)


def api(client, params):
    return client.get(reverse("api-site-list"), params)


def recorded() -> list[tuple[str, str]]:
    return list(EmptySearch.objects.order_by("id").values_list("channel", "query"))


def test_a_search_page_without_results_records_one_anonymous_row(client, sites):
    response = page(client, NOTHING)
    assert response.status_code == 200
    (row,) = EmptySearch.objects.all()
    assert (row.channel, row.query) == ("page", NOTHING_QUERY)
    assert row.searched_on == timezone.localdate()
    # The day, the channel and the filters: nothing that leads to a person or a moment.
    assert [field.name for field in EmptySearch._meta.get_fields()] == [
        "id",
        "searched_on",
        "channel",
        "query",
    ]


def test_an_api_search_without_results_records_one_row(client, sites):
    response = api(client, NOTHING)
    assert response.status_code == 200 and response.json()["count"] == 0
    assert recorded() == [("api", NOTHING_QUERY)]


def test_an_investors_search_is_recorded_too(client, sites):
    client.force_login(UserFactory(role=User.Role.INVESTOR))
    page(client, NOTHING)
    api(client, NOTHING)
    assert recorded() == [("page", NOTHING_QUERY), ("api", NOTHING_QUERY)]


def test_a_search_with_results_is_not_recorded(client, sites):
    assert api(client, {"kind": "plot", "municipality": "05113000"}).json()["count"] == 1
    page(client, {"kind": "plot", "municipality": "05113000"})
    assert recorded() == []


def test_view_parameters_are_ignored_so_the_same_search_counts_together(client, sites):
    page(client, {**NOTHING, "sort": "-area", "map": "12/51.5/6.9", "selected": "3"})
    page(client, {**NOTHING, "page": "1"})
    api(client, {**NOTHING, "page_size": "20", "sort": "newest", "format": "json"})
    # The same wishes spelt differently: values in another order, repeated, numbers written
    # another way.
    client.get(reverse("map") + "?kind=plot&kind=plot&area_min_ha=50.0&municipality=05512000")
    api(client, {**NOTHING, "area_min_ha": "050"})
    assert {query for _channel, query in recorded()} == {NOTHING_QUERY}
    assert len(recorded()) == 5


def test_the_query_is_normalised(db):
    def normalised(query: str) -> str:
        from django.http import QueryDict

        return empty_search_query(QueryDict(query))

    assert normalised("kind=plot&kind=hall&kind=plot") == "kind=hall&kind=plot"
    assert normalised("rail_siding=1&port_access=yes") == "port_access=true&rail_siding=true"
    assert normalised("rail_siding=false&divisible=no&kind=plot") == "kind=plot"
    assert normalised("radius_m=3000.00&near=7.0,51.4") == "near=7.0%2C51.4&radius_m=3000"
    assert normalised("area_min=abc") == "area_min=abc"  # invalid ones are never recorded
    assert normalised("page=2&sort=area&bbox=1,2,3,4&area_unit=ha&map=x") == ""
    assert normalised("municipality=05512000") == "municipality=05512000"  # AGS: no number


@pytest.mark.parametrize(
    "user",
    [
        lambda: UserFactory(role=User.Role.STAFF),
        lambda: UserFactory(is_superuser=True),
        lambda: UserFactory(role=User.Role.PARTNER, organisation=PartnerOrganisationFactory()),
    ],
    ids=["staff", "superuser", "partner"],
)
def test_staff_and_partner_searches_are_not_recorded(client, sites, user):
    client.force_login(user())
    assert page(client, NOTHING).status_code == 200
    assert api(client, NOTHING).status_code == 200
    assert recorded() == []


def test_a_search_without_any_filter_is_not_recorded(client, reference_data):
    # No site at all: every search finds nothing, yet no filter is no wish.
    for params in ({}, {"sort": "area", "page": "1"}, {"rail_siding": "false"}):
        assert page(client, params).status_code == 200
        assert api(client, params).status_code == 200
    assert recorded() == []


def test_a_viewport_search_is_not_recorded(client, sites):
    # Nothing in view of a map says nothing about the region.
    response = api(client, {"kind": "hall", "bbox": "6.95,51.40,7.10,51.50"})
    assert response.status_code == 200 and response.json()["count"] == 0
    assert recorded() == []


def test_invalid_filters_are_not_recorded(client, sites):
    response = api(client, {"kind": "castle"})
    assert response.status_code == 400
    response = api(client, {"area_min_ha": "a lot", "kind": "plot"})
    assert response.status_code == 400
    response = page(client, {"area_min_ha": "a lot", "kind": "plot"})
    assert response.status_code == 200  # the page shows the error next to the field
    assert recorded() == []


def test_a_database_error_while_recording_never_breaks_the_search(client, sites, caplog):
    # A real failure of the INSERT: a trigger refuses every new row.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_empty_search() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'refused for the test';
            END $$;
            CREATE TRIGGER test_refuse_empty_search BEFORE INSERT ON search_emptysearch
                FOR EACH ROW EXECUTE FUNCTION test_refuse_empty_search();
            """
        )
    with caplog.at_level(logging.ERROR, logger="search.services.empty_searches"):
        response = page(client, NOTHING)
        assert response.status_code == 200
        response = api(client, NOTHING)
        assert response.status_code == 200 and response.json()["count"] == 0
    assert [r.message for r in caplog.records] == ["could not record an empty search"] * 2
    # The request's transaction is still usable after the failed INSERT (a savepoint).
    assert api(client, {"kind": "plot"}).json()["count"] == 1
    assert recorded() == []
