"""Search counts: exact up to COUNT_EXACT_MAX, estimated ("about") above."""

import pytest
from django.urls import reverse

from properties.models import Site
from sitefinder.counting import capped_count
from sitefinder.l10n import translate_path
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_plots(essen):
    return [SiteFactory(municipality=essen, seed=i) for i in range(4)]


def test_counts_are_exact_up_to_the_limit_and_estimated_above(four_plots, settings):
    assert capped_count(Site.objects.all(), 4) == (4, True)
    count, exact = capped_count(Site.objects.all(), 3)
    assert not exact and count >= 4  # never below the limit it passed
    assert capped_count(Site.objects.filter(kind="hall"), 3) == (0, True)


def test_api_and_search_page_say_when_the_count_is_an_estimate(client, four_plots, settings):
    body = client.get(reverse("api-site-list")).json()
    assert (body["count"], body["count_is_exact"]) == (4, True)
    settings.COUNT_EXACT_MAX = 3
    body = client.get(reverse("api-site-list")).json()
    assert body["count_is_exact"] is False and body["count"] >= 4
    assert len(body["features"]) == 4  # the page itself is real
    page = client.get(reverse("map"))
    assert "about " in page.content.decode()
    german = client.get(translate_path(reverse("map"), "de"))
    assert "etwa " in german.content.decode()


def test_export_refuses_an_estimated_oversize_search(client, four_plots, monkeypatch):
    monkeypatch.setattr("properties.services.export.EXPORT_MAX_ROWS", 3)
    response = client.get(reverse("api-site-export-csv"))
    assert response.status_code == 400
    assert "About" in response.json()["non_field_errors"][0]
