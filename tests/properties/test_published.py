"""One definition of "published" (Site.objects.published()): every reader that shows or counts
public sites agrees on a site hidden for staleness, including those that read in raw SQL
(the tiles, the low-zoom aggregates) or count through another model (the municipalities of
the API, staff's data health). The API list, detail, exports and the unfiltered and filtered
point tiles are checked in test_freshness.py."""

import pytest
from django.conf import settings
from django.urls import reverse

from properties.clusters import site_clusters_rebuild
from properties.models import Site
from properties.staff_views import data_health_rows
from properties.tiles import sites_tile
from tests.api.test_site_clusters import cluster_counts
from tests.api.test_tiles import decode, tile_of
from tests.properties.test_freshness import aged  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_published_sql_is_the_querysets_rule(aged):  # noqa: F811
    from django.db import connection

    sql, params = Site.objects.published_sql("s")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.id FROM properties_site s WHERE {sql}", params)
        from_sql = {row[0] for row in cursor.fetchall()}
    assert from_sql == set(Site.objects.published().values_list("pk", flat=True))
    assert from_sql == {aged["fresh"].pk, aged["stale"].pk}


def test_municipality_api_counts_published_sites_only(client, aged):  # noqa: F811
    listing = client.get(reverse("api-municipality-list")).json()
    counts = {f["properties"]["ags"]: f["properties"]["site_count"] for f in listing["features"]}
    essen = aged["fresh"].municipality
    assert counts[essen.ags] == 2  # fresh and stale; not the hidden one
    detail = client.get(reverse("api-municipality-detail", args=[essen.ags])).json()
    assert detail["properties"]["site_count"] == 2


@pytest.mark.parametrize(
    "z",
    [
        settings.SITE_TILE_POINT_MIN_ZOOM,  # points (the sites lie in one tile of this zoom)
        settings.SITE_TILE_POINT_MIN_ZOOM - 1,  # grouped on the fly (no aggregates built)
        10,
    ],
)
def test_every_level_of_the_sites_tile_leaves_the_hidden_site_out(aged, z):  # noqa: F811
    x, y = tile_of(7.013, 51.458, z)
    tile = sites_tile(z, x, y)
    if z >= settings.SITE_TILE_POINT_MIN_ZOOM:
        assert b"Stale plot" in tile and b"Hidden plot" not in tile
        assert decode(tile)["sites"]["features"] == 2
    else:
        assert cluster_counts(tile) == [2]


def test_low_zoom_aggregates_leave_the_hidden_site_out(aged):  # noqa: F811
    build = site_clusters_rebuild(force=True)
    x, y = tile_of(7.013, 51.458, 10)
    assert cluster_counts(sites_tile(10, x, y, clusters=build)) == [2]


def test_data_health_shows_the_hidden_site_as_hidden_only(aged):  # noqa: F811
    row = next(r for r in data_health_rows() if r.ags == aged["fresh"].municipality.ags)
    assert row.counts["sites"] == 3
    assert (row.counts["fresh"], row.counts["stale"], row.counts["hidden"]) == (1, 1, 1)
    shown = row.counts["fresh"] + row.counts["stale"]
    assert shown == Site.objects.published().filter(municipality__ags=row.ags).count()


def test_search_page_leaves_the_hidden_site_out(client, aged):  # noqa: F811
    page = client.get(reverse("map"), {"municipality": aged["fresh"].municipality.ags})
    assert page.status_code == 200
    assert "Stale plot" in page.content.decode() and "Hidden plot" not in page.content.decode()
