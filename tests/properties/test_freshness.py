"""Freshness: stale sites are flagged, and hidden from investors after a grace period until
an editor confirms them again; the weekly digest to partner organisations; staff's data
health page."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from properties.models import DigestLog, Site, SiteMedia
from properties.services.freshness import freshness_digest_for, freshness_digest_send
from properties.services.moderation import site_verify
from properties.staff_views import data_health_rows, region_total
from tests.api.test_tiles import decode, tile_of
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

# The first zoom whose tiles show every site with its title (below it: clusters).
POINTS = settings.SITE_TILE_POINT_MIN_ZOOM

pytestmark = pytest.mark.django_db

ESSEN = Point(362_800, 5_703_800, srid=25832)
ESSEN_EAST = Point(362_600, 5_703_800, srid=25832)


def verified_days_ago(site: Site, days: int) -> Site:
    Site.objects.filter(pk=site.pk).update(last_verified_at=timezone.now() - timedelta(days=days))
    site.refresh_from_db()
    return site


@pytest.fixture
def people(essen, dortmund):
    essen_org = PartnerOrganisationFactory(name="WiFö Essen", municipalities=[essen])
    dortmund_org = PartnerOrganisationFactory(name="WiFö Dortmund", municipalities=[dortmund])
    return {
        "essen_org": essen_org,
        "dortmund_org": dortmund_org,
        "partner_de": UserFactory(
            role="partner", organisation=essen_org, language="de", email="de@essen.example.org"
        ),
        "partner_en": UserFactory(
            role="partner", organisation=essen_org, language="en", email="en@essen.example.org"
        ),
        "inactive": UserFactory(role="partner", organisation=essen_org, is_active=False),
        "dortmund_partner": UserFactory(role="partner", organisation=dortmund_org),
        "staff": UserFactory(role="staff"),
    }


@pytest.fixture
def aged(essen):
    """Three published Essen sites: verified 10, 200 (stale) and 300 days ago (hidden)."""
    return {
        "fresh": SiteFactory(municipality=essen, at=ESSEN, title="Fresh plot"),
        "stale": verified_days_ago(
            SiteFactory(municipality=essen, at=ESSEN_EAST, title="Stale plot"), 200
        ),
        "hidden": verified_days_ago(
            SiteFactory(
                municipality=essen, at=Point(362_800, 5_703_600, srid=25832), title="Hidden plot"
            ),
            300,
        ),
    }


# --- thresholds --------------------------------------------------------------------------


def test_thresholds_come_from_settings(settings):
    assert settings.SITE_STALE_AFTER_DAYS == 180
    assert settings.SITE_HIDE_AFTER_DAYS == 270


def test_a_site_verified_200_days_ago_is_stale_but_visible(aged):
    stale = aged["stale"]
    assert set(Site.objects.stale()) == {aged["stale"], aged["hidden"]}
    assert set(Site.objects.hidden_for_staleness()) == {aged["hidden"]}
    assert set(Site.objects.fresh()) == {aged["fresh"]}
    assert stale in Site.objects.published()
    assert stale in Site.objects.visible_to(None)


def test_a_never_verified_site_counts_from_when_it_was_added(essen):
    site = SiteFactory(municipality=essen, at=ESSEN)
    assert site.last_verified_at is None
    assert site in Site.objects.published() and site in Site.objects.fresh()
    Site.objects.filter(pk=site.pk).update(created_at=timezone.now() - timedelta(days=300))
    assert site not in Site.objects.published()
    assert site in Site.objects.hidden_for_staleness()


def test_thresholds_are_configurable(aged, settings):
    settings.SITE_HIDE_AFTER_DAYS = 400
    assert aged["hidden"] in Site.objects.published()
    settings.SITE_STALE_AFTER_DAYS = 250
    assert set(Site.objects.stale()) == {aged["hidden"]}


def test_a_site_hidden_for_staleness_is_gone_for_investors_everywhere(client, aged):
    assert aged["hidden"] not in Site.objects.published()
    # API list and detail
    listing = client.get(reverse("api-site-list"))
    assert b"Stale plot" in listing.content and b"Hidden plot" not in listing.content
    assert client.get(reverse("api-site-detail", args=[aged["hidden"].pk])).status_code == 404
    # HTML detail page
    assert client.get(reverse("site_detail", args=[aged["hidden"].pk])).status_code == 404
    # exports
    for fmt in ("csv", "geojson"):
        export = client.get(reverse(f"api-site-export-{fmt}"))
        assert "Stale plot" in export.content.decode()
        assert "Hidden plot" not in export.content.decode()
    # tiles (unfiltered and filtered)
    x, y = tile_of(7.013, 51.458, POINTS)
    for params in ({}, {"kind": "plot"}):
        tile = client.get(reverse("tile-sites", args=[POINTS, x, y]), params)
        assert b"Stale plot" in tile.content and b"Hidden plot" not in tile.content
        assert decode(tile.content)["sites"]["features"] == 2


def test_partners_and_staff_still_see_their_hidden_site(client, aged, people):
    hidden = aged["hidden"]
    assert hidden in Site.objects.visible_to(people["partner_de"])
    assert hidden in Site.objects.visible_to(people["staff"])
    assert hidden not in Site.objects.visible_to(people["dortmund_partner"])


def test_verifying_a_hidden_site_shows_it_again(client, aged, people):
    x, y = tile_of(7.013, 51.458, POINTS)
    url = reverse("tile-sites", args=[POINTS, x, y])
    assert b"Hidden plot" not in client.get(url).content
    site_verify(site=aged["hidden"], acting_user=people["partner_de"])
    assert aged["hidden"] in Site.objects.published()
    assert b"Hidden plot" in client.get(url).content  # the verify bumped the data version
    assert b"Hidden plot" in client.get(reverse("api-site-list")).content


def test_a_site_crossing_the_threshold_by_time_alone_leaves_the_cached_tile(
    client, essen, monkeypatch
):
    """No write happens when a site becomes hidden: the tile cache key holds the date."""
    site = verified_days_ago(SiteFactory(municipality=essen, at=ESSEN, title="Ageing"), 269)
    x, y = tile_of(7.013, 51.458, POINTS)
    url = reverse("tile-sites", args=[POINTS, x, y])
    first = client.get(url)
    assert b"Ageing" in first.content

    # Two days later (the clock of the queryset and of the tile cache move together).
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    assert site not in Site.objects.published()
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 204  # rebuilt, now empty; not a 304 on yesterday's ETag
    assert second["ETag"] != first["ETag"]
    assert b"Ageing" not in second.content


# --- the weekly digest -------------------------------------------------------------------


def test_digest_lists_stale_and_hidden_sites_of_the_organisation(aged, people):
    digest = freshness_digest_for(people["essen_org"])
    assert [item.site for item in digest.hidden] == [aged["hidden"]]
    assert [item.site for item in digest.stale] == [aged["stale"]]
    expected = timezone.localdate(aged["stale"].last_verified_at + timedelta(days=270))
    assert digest.stale[0].hidden_on == expected
    assert freshness_digest_for(people["dortmund_org"]).is_empty


def test_digest_mails_each_active_member_in_their_language(aged, people, settings):
    settings.SITE_URL = "https://sitefinder.example.org"
    assert freshness_digest_send() == 2
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"de@essen.example.org", "en@essen.example.org"}

    english = by_address["en@essen.example.org"]
    assert english.subject == "sitefinder: 2 sites of WiFö Essen need confirming"
    hide_day = timezone.localdate(aged["stale"].last_verified_at + timedelta(days=270))
    assert "Hidden plot" in english.body and "Stale plot" in english.body
    assert "Fresh plot" not in english.body
    assert "Hidden from investors" in english.body
    assert f"hidden from {hide_day:%d/%m/%Y}"  # en-GB: day first in english.body
    assert "https://sitefinder.example.org/en/partner/" in english.body
    html = english.alternatives[0][0]
    assert "https://sitefinder.example.org/en/partner/" in html and "Stale plot" in html

    german = by_address["de@essen.example.org"]
    assert german.subject == "sitefinder: 2 Standorte von WiFö Essen müssen bestätigt werden"
    assert "Für Investoren ausgeblendet" in german.body
    assert f"ausgeblendet ab {hide_day:%d.%m.%Y}" in german.body
    assert DigestLog.objects.get().organisation == people["essen_org"]


def test_no_second_digest_within_six_days(aged, people):
    assert freshness_digest_send() == 2
    assert freshness_digest_send() == 0
    call_command("send_freshness_digest", stdout=StringIO())
    assert len(mail.outbox) == 2
    assert freshness_digest_send(now=timezone.now() + timedelta(days=5)) == 0
    assert freshness_digest_send(now=timezone.now() + timedelta(days=7)) == 2
    assert DigestLog.objects.count() == 2


def test_no_digest_without_stale_sites(essen, people):
    SiteFactory(municipality=essen, at=ESSEN)
    assert freshness_digest_send() == 0
    assert not DigestLog.objects.exists()


def test_drafts_are_not_in_the_digest(essen, people):
    draft = verified_days_ago(
        SiteFactory(municipality=essen, at=ESSEN, status=Site.Status.DRAFT), 300
    )
    assert draft not in [item.site for item in freshness_digest_for(people["essen_org"]).hidden]
    assert freshness_digest_send() == 0


# --- data health -------------------------------------------------------------------------


def test_data_health_counts_per_municipality_in_one_query(
    essen, dortmund, people, django_assert_num_queries
):
    complete = {
        "net_area_m2": 15_000,
        "available_from": timezone.localdate(),
        "contact_email": "a@example.org",
    }
    fresh = SiteFactory(municipality=essen, at=ESSEN, **complete)
    SiteMedia.objects.create(site=fresh, kind="photo", file="sites/a.jpg")
    SiteMedia.objects.create(site=fresh, kind="photo", file="sites/b.jpg")  # no double count
    verified_days_ago(
        SiteFactory(municipality=essen, at=ESSEN_EAST, price_eur_m2=None, **complete), 200
    )
    verified_days_ago(
        SiteFactory(
            municipality=essen,
            at=Point(362_800, 5_703_600, srid=25832),
            price_eur_m2=None,
            price_on_request=True,
        ),
        300,
    )
    SiteFactory(municipality=essen, status=Site.Status.DRAFT)  # not counted
    SiteFactory(municipality=dortmund, **complete)

    with django_assert_num_queries(1):
        rows = data_health_rows()
    assert len(rows) == 53
    by_name = {row.name: row for row in rows}
    assert by_name["Essen"].counts == {
        "sites": 3,
        "fresh": 1,
        "stale": 1,
        "hidden": 1,
        "missing_price": 1,  # the one on request has a price answer
        "missing_net_area": 1,
        "missing_available_from": 1,
        "missing_contact_email": 1,
        "missing_photos": 2,
    }
    assert by_name["Dortmund"].counts["sites"] == 1
    assert by_name["Dortmund"].counts["missing_photos"] == 1
    assert by_name["Bochum"].counts["sites"] == 0
    assert by_name["Bochum"].share("fresh") is None
    total = region_total(rows)
    assert total.counts["sites"] == 4 and total.counts["fresh"] == 2
    assert total.counts["missing_photos"] == 3


def test_data_health_page_is_for_staff_only(client, essen, people):
    url = reverse("staff_data_health")
    assert client.get(url).status_code == 302  # to the login
    client.force_login(people["partner_de"])
    assert client.get(url).status_code == 404
    client.force_login(people["staff"])
    SiteFactory(municipality=essen, at=ESSEN)
    verified_days_ago(SiteFactory(municipality=essen, at=ESSEN_EAST), 300)
    response = client.get(url, {"sort": "-hidden"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 53 and rows[0].name == "Essen"
    content = response.content.decode()
    assert "Ruhr metropolitan area" in content and "50 %" in content
    assert client.get(url, {"sort": "nonsense"}).status_code == 200
