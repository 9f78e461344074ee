"""Low-zoom site tiles from the precomputed aggregates (properties.clusters)."""

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.urls import reverse

from properties.clusters import site_clusters_rebuild, site_clusters_state
from properties.models import Site, SiteCluster
from properties.tiles import sites_tile
from tests.api.test_tiles import decode, tile_of
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def cluster_counts(content: bytes) -> list[int]:
    """The cluster_count values above 1 of a sites tile (the test sites' other integer
    values are areas of 900 m² and more, or booleans)."""
    return sorted(
        v for v in decode(content)["sites"]["values"] if isinstance(v, int) and 1 < v < 100
    )


@pytest.fixture
def three_and_one(essen):
    # Three plots within 300 m share a cell at z10; a fourth, 5 km away, stays on its own.
    for i, dx in enumerate((0, 150, 300)):
        SiteFactory(
            municipality=essen, at=Point(362_800 + dx, 5_703_800, srid=25832), area_m2=2_500, seed=i
        )
    return SiteFactory(
        municipality=essen, at=Point(357_500, 5_705_000, srid=25832), title="Lone plot"
    )


def test_every_zoom_holds_every_public_site_once(essen, three_and_one):
    SiteFactory(municipality=essen, status=Site.Status.DRAFT, title="Draft")
    build = site_clusters_rebuild()
    assert build is not None and build.sites_version > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT zoom, sum(site_count) FROM properties_sitecluster GROUP BY zoom ORDER BY zoom"
        )
        totals = cursor.fetchall()
    assert [zoom for zoom, _ in totals] == list(range(settings.SITE_TILE_POINT_MIN_ZOOM))
    assert {total for _, total in totals} == {4}  # the draft is not public
    # A current build is kept as it is.
    assert site_clusters_rebuild().pk == build.pk


@pytest.mark.parametrize("z", [6, 8, 10, 11, 12])
def test_aggregated_tile_equals_grouping_on_the_fly(three_and_one, z):
    build = site_clusters_rebuild()
    x, y = tile_of(7.0247, 51.4687, z)
    aggregated = sites_tile(z, x, y, clusters=build)
    on_the_fly = sites_tile(z, x, y)
    assert decode(aggregated)["sites"]["features"] == decode(on_the_fly)["sites"]["features"]
    assert cluster_counts(aggregated) == cluster_counts(on_the_fly)
    assert (b"Lone plot" in aggregated) == (b"Lone plot" in on_the_fly)


def test_low_zoom_tile_follows_writes(client, essen, three_and_one):
    x, y = tile_of(7.0247, 51.4687, 10)
    url = reverse("tile-sites", args=[10, x, y])
    first = client.get(url)
    assert cluster_counts(first.content) == [3]
    SiteFactory(municipality=essen, at=Point(362_950, 5_703_900, srid=25832), area_m2=2_500)
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200  # rebuilt (inline in the tests), new version, new tile
    assert cluster_counts(second.content) == [4]


def test_aggregates_behind_are_served_and_rebuilt_in_the_background(
    client, essen, three_and_one, settings, monkeypatch
):
    settings.SITE_CLUSTERS_REBUILD_INLINE = False
    started = []
    monkeypatch.setattr(
        "properties.clusters.threading.Thread",
        lambda target, **kwargs: type("T", (), {"start": lambda self: started.append(target)})(),
    )
    old = site_clusters_rebuild()
    SiteFactory(municipality=essen, at=Point(362_950, 5_703_900, srid=25832), area_m2=2_500)
    x, y = tile_of(7.0247, 51.4687, 10)
    url = reverse("tile-sites", args=[10, x, y])
    behind = client.get(url)
    # Served at once from the aggregates as they are, and keyed on their version.
    assert cluster_counts(behind.content) == [3]
    assert f"c{old.sites_version}" in behind["ETag"]
    assert len(started) == 1
    # What the thread runs, here in the test's own connection (which it must not close).
    monkeypatch.setattr("properties.clusters.connections.close_all", lambda: None)
    started[0]()
    assert site_clusters_state().sites_version > old.sites_version
    assert cluster_counts(client.get(url).content) == [4]


def test_first_low_zoom_tile_builds_the_aggregates(client, three_and_one):
    SiteCluster.objects.all().delete()
    assert site_clusters_state() is None
    x, y = tile_of(7.0247, 51.4687, 9)
    assert cluster_counts(client.get(reverse("tile-sites", args=[9, x, y])).content) == [3]
    assert site_clusters_state() is not None


def test_search_tile_groups_its_own_sites_while_few(client, essen, three_and_one, settings):
    SiteFactory(
        municipality=essen, at=Point(362_900, 5_703_700, srid=25832), kind=Site.Kind.HALL, seed=9
    )
    x, y = tile_of(7.0247, 51.4687, 10)
    url = reverse("tile-sites", args=[10, x, y])
    halls = client.get(url, {"kind": "hall"})
    assert decode(halls.content)["sites"]["features"] == 1
    assert b"unfiltered" not in halls.content
    # Too many sites of the search under the tile: the cells of all sites, marked.
    settings.SITE_TILE_FILTERED_CLUSTER_MAX = 2
    plots = client.get(url, {"kind": "plot"})
    assert plots.status_code == 200
    assert b"unfiltered" in plots.content
    # Every cell a cluster (the lone plot's too), the hall counted in.
    assert decode(plots.content)["sites"]["features"] == 2
    assert cluster_counts(plots.content) == [4]
    assert b"Lone plot" not in plots.content
