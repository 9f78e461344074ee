"""Cached tiles answered before the middleware stack (sitefinder.fastpath): the same bytes
and headers as the full path, no database query, a fresh request id and log line; and
everything the fast path must not answer takes the full path."""

import logging

import pytest
from django.contrib.gis.geos import Point
from django.test import override_settings
from django.urls import reverse

from properties.models import Site
from tests.factories import SiteFactory

from .test_tiles import ESSEN, decode, tile_of

pytestmark = pytest.mark.django_db

PER_RESPONSE = {"X-Request-ID"}


def _headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}


@pytest.fixture
def tile_url(essen):
    SiteFactory(municipality=essen, at=ESSEN, title="Public plot")
    lonlat = ESSEN.transform(4326, clone=True)
    x, y = tile_of(lonlat.x, lonlat.y, 14)
    return reverse("tile-sites", args=[14, x, y])


def test_a_cached_tile_is_answered_without_a_query_with_the_same_headers(
    client, tile_url, django_assert_num_queries, caplog
):
    first = client.get(tile_url)
    assert first.status_code == 200
    with override_settings(DATA_VERSION_MEMO_SECONDS=60):
        client.get(tile_url)  # the data version read once into the memo
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sitefinder.request"):
            with django_assert_num_queries(0):
                again = client.get(tile_url)
    assert again.status_code == 200
    assert again.content == first.content
    assert _headers(again) == _headers(first)
    assert again["Content-Security-Policy"] and again["ETag"] == first["ETag"]
    assert again["X-Request-ID"] != first["X-Request-ID"]
    lines = [r for r in caplog.records if getattr(r, "event", "") == "request"]
    assert [(r.status, r.view, r.path) for r in lines] == [(200, "tile-sites", tile_url)]
    assert lines[0].request_id == again["X-Request-ID"]


def test_the_fast_path_answers_if_none_match_with_304(client, tile_url, django_assert_num_queries):
    etag = client.get(tile_url)["ETag"]
    with override_settings(DATA_VERSION_MEMO_SECONDS=60):
        client.get(tile_url)
        with django_assert_num_queries(0):
            response = client.get(tile_url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag
    assert not response.content and "Content-Type" not in response


def test_a_write_is_on_the_next_tile(client, tile_url, essen):
    before = client.get(tile_url)
    assert decode(before.content)["sites"]["features"] == 1
    SiteFactory(municipality=essen, at=Point(362_850, 5_703_850, srid=25832), title="New one")
    after = client.get(tile_url)
    assert decode(after.content)["sites"]["features"] == 2
    assert after["ETag"] != before["ETag"]


@override_settings(DATA_VERSION_MEMO_SECONDS=60)
def test_a_write_shows_once_the_memo_expires(client, tile_url, essen, monkeypatch):
    from sitefinder import tiles

    client.get(tile_url)
    client.get(tile_url)
    SiteFactory(municipality=essen, at=Point(362_850, 5_703_850, srid=25832), title="New one")
    # Within the memo's seconds the tile as it was may still be served ...
    assert decode(client.get(tile_url).content)["sites"]["features"] == 1
    # ... and once they have passed (here: the memo and its shared copy dropped), the new one.
    tiles._recent_versions.clear()
    from django.core.cache import cache

    cache.delete(tiles._shared_version_key(("sites",)))
    assert decode(client.get(tile_url).content)["sites"]["features"] == 2


@pytest.mark.parametrize("cookie", ["sessionid", "sitefinder_primary_until"])
def test_signed_in_or_pinned_clients_take_the_full_path(client, tile_url, cookie):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(tile_url)
    client.cookies[cookie] = "x"
    with override_settings(DATA_VERSION_MEMO_SECONDS=60):
        client.get(tile_url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(tile_url)
    assert response.status_code == 200
    assert len(queries) >= 1  # the stack ran (the data version read, or the session)


def test_staff_get_private_tiles_not_the_public_fast_answer(client, tile_url, django_user_model):
    client.get(tile_url)
    staff = django_user_model.objects.create_user(
        "staff@example.org", "staff@example.org", "pw", is_staff=True
    )
    client.force_login(staff)
    response = client.get(tile_url)
    assert response["Cache-Control"] == "private, no-store"


def test_a_hidden_site_is_gone_from_the_next_tile(client, tile_url):
    assert decode(client.get(tile_url).content)["sites"]["features"] == 1
    Site.objects.update(status=Site.Status.WITHDRAWN)
    assert client.get(tile_url).status_code == 204


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_still_redirected_when_https_is_required(client, tile_url):
    client.get(tile_url, secure=True)
    response = client.get(tile_url)
    assert response.status_code == 301
