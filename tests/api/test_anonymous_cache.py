"""Anonymous map pages and API searches from the shared cache (sitefinder.pagecache): the
same page with a fresh CSP nonce and CSRF token per response, a write shows at once, signed-in
users and visitors with a session are never served a cached page, empty searches are still
recorded on every visit, and the API throttle still counts cached answers."""

import re

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from search.models import EmptySearch
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

ESSEN = Point(362_800, 5_703_800, srid=25832)
NONCE = re.compile(r'nonce="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _page_cache(settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 600


@pytest.fixture
def sites(essen):
    return [SiteFactory(municipality=essen, at=ESSEN, title=f"Plot {n}") for n in range(3)]


def _without_per_response_parts(html: str) -> str:
    return CSRF.sub("CSRF", NONCE.sub("NONCE", html))


def test_the_map_page_is_rendered_once_and_personalised_per_response(client, sites):
    url = reverse("map") + "?kind=plot"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert len(queries) <= 2, [q["sql"] for q in queries]  # the data version, nothing else
    html_1, html_2 = first.content.decode(), second.content.decode()
    assert "Plot 1" in html_2
    assert _without_per_response_parts(html_1) == _without_per_response_parts(html_2)
    for response, html in ((first, html_1), (second, html_2)):
        for nonce in NONCE.findall(html):  # (the page has no inline script today)
            assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        assert "sfnonce" not in html + response["Content-Security-Policy"]
        assert "sfcsrf" not in html
        assert CSRF.search(html)
        assert response.cookies["csrftoken"].value  # the view's ensure_csrf_cookie
    assert CSRF.findall(html_1) != CSRF.findall(html_2)


def test_a_cached_body_gets_a_fresh_nonce_per_response_and_the_header_the_same(rf, settings):
    from django.http import HttpResponse
    from django.middleware.csp import ContentSecurityPolicyMiddleware

    from sitefinder import pagecache

    def page(request):
        marks = pagecache.prepare(request)
        body = f'<script nonce="{marks["csp_nonce"]}" src="/x.js"></script>'
        return pagecache.store(request, "k", HttpResponse(body))

    def cached(request):
        return pagecache.cached_response(request, "k")

    nonces = []
    for view in (page, cached):
        request = rf.get("/")
        response = ContentSecurityPolicyMiddleware(view)(request)
        (nonce,) = NONCE.findall(response.content.decode())
        assert nonce != pagecache.NONCE_MARK
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_cached_page_csrf_token_is_accepted(client, sites):
    client = client.__class__(enforce_csrf_checks=True)
    client.get(reverse("map"))
    html = client.get(reverse("map")).content.decode()
    token = CSRF.search(html).group(1)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_a_new_site_is_on_the_next_page_and_search(client, sites, essen):
    page, api = reverse("map"), reverse("api-site-list") + "?kind=plot"
    assert "Fresh plot" not in client.get(page).content.decode()
    assert client.get(api).json()["count"] == 3
    SiteFactory(municipality=essen, at=ESSEN, title="Fresh plot")
    assert "Fresh plot" in client.get(page).content.decode()
    assert client.get(api).json()["count"] == 4


def test_a_visitor_with_a_session_or_a_signed_in_user_is_not_served_the_cached_page(
    client, sites, django_user_model
):
    client.get(reverse("map"))
    user = django_user_model.objects.create_user("inv@example.org", "inv@example.org", "pw")
    client.force_login(user)
    html = client.get(reverse("map")).content.decode()
    assert "Log out" in html or "Abmelden" in html


def test_the_api_search_is_served_from_the_cache_with_its_headers(client, sites):
    url = reverse("api-site-list") + "?kind=plot&page_size=2"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)
    assert len(queries) <= 2, [q["sql"] for q in queries]
    assert second.json() == first.json()
    assert second.json()["count"] == 3 and second.json()["next"]
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["Vary"] == first["Vary"]
    # The same search with its parameters in another order is the same entry.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("api-site-list") + "?page_size=2&kind=plot").json()["count"] == 3
    assert len(queries) <= 2


def test_an_empty_search_is_recorded_on_every_visit(client, sites):
    api = reverse("api-site-list") + "?kind=hall"
    page = reverse("map") + "?kind=hall"
    for _ in range(2):
        assert client.get(api).json()["count"] == 0
        assert client.get(page).status_code == 200
    assert EmptySearch.objects.filter(channel=EmptySearch.Channel.API).count() == 2
    assert EmptySearch.objects.filter(channel=EmptySearch.Channel.PAGE).count() == 2


def test_the_api_throttle_counts_cached_answers(client, sites, settings):
    settings.API_ANONYMOUS_RATE = "3/minute"
    url = reverse("api-site-list")
    statuses = [client.get(url).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_bad_filters_are_still_a_400_naming_the_field(client, sites):
    url = reverse("api-site-list") + "?area_min=lots"
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 400 and "area_min" in response.json()


def test_a_missing_site_is_a_404_with_no_placeholder_in_its_policy(client, sites):
    for _ in range(2):
        response = client.get(reverse("site_detail", args=[999_999]))
        assert response.status_code == 404
        assert "sfnonce" not in response["Content-Security-Policy"]


def test_the_site_page_and_its_api_come_from_the_cache_with_a_fresh_render_time(client, sites):
    url = reverse("site_detail", args=[sites[0].pk])
    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url).content.decode()
    assert len(queries) <= 2, [q["sql"] for q in queries]
    rendered = re.compile(r'name="rendered" value="([^"]+)"')
    assert rendered.search(first) and rendered.search(second)
    assert "sfrendered" not in second
    assert rendered.sub("R", _without_per_response_parts(first)) == rendered.sub(
        "R", _without_per_response_parts(second)
    )
    api = reverse("api-site-detail", args=[sites[0].pk])
    assert client.get(api).json() == client.get(api).json()
    assert client.get(reverse("api-site-detail", args=[999_999])).status_code == 404
