import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.urls import reverse

from properties.models import Site
from sitefinder.protobuf import fields as _fields
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

ESSEN = Point(362_800, 5_703_800, srid=25832)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def decode(content: bytes) -> dict:
    """Layer name -> feature count and values: a tiny protobuf walk of the MVT, so the
    test needs no decoder library and does not trust PostGIS to read its own output."""
    return _walk(content)


def _walk(content: bytes) -> dict:
    layers = {}
    for number, layer in _fields(content):
        if number != 3:
            continue
        name, features, values = None, 0, []  # type: ignore[var-annotated]
        for field, value in _fields(layer):
            if field == 1:
                name = value.decode()
            elif field == 2:
                features += 1
            elif field == 4:
                values.extend(v for _, v in _fields(value))
        layers[name] = {"features": features, "values": values}
    return layers


def test_sites_tile_has_public_sites_only(client, essen):
    SiteFactory(municipality=essen, at=ESSEN, title="Public plot")
    SiteFactory(
        municipality=essen,
        at=Point(363_500, 5_703_800, srid=25832),
        status=Site.Status.DRAFT,
        title="Secret draft",
    )
    x, y = tile_of(7.013, 51.458, 12)
    response = client.get(reverse("tile-sites", args=[12, x, y]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    layers = decode(response.content)
    assert layers["sites"]["features"] == 1
    assert b"Public plot" in response.content and b"Secret draft" not in response.content


def test_tiles_are_cached_per_data_version(client, essen):
    x, y = tile_of(7.0247, 51.4687, 14)
    url = reverse("tile-sites", args=[14, x, y])
    empty = client.get(url)
    assert empty.status_code == 204
    etag = empty["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    SiteFactory(municipality=essen, at=ESSEN)
    fresh = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200  # the write bumped the version: no stale tile
    assert decode(fresh.content)["sites"]["features"] == 1


def test_layer_and_boundary_tiles(client, reference_data):
    x, y = tile_of(7.013, 51.451, 12)  # Essen Hbf
    stations = client.get(reverse("tile-layer", args=["stations", 12, x, y]))
    assert stations.status_code == 200
    assert decode(stations.content)["stations"]["features"] >= 1
    assert b"Essen Hbf" in stations.content
    boundaries = decode(client.get(reverse("tile-boundaries", args=[12, x, y])).content)
    assert boundaries["municipalities"]["features"] >= 1
    empty = client.get(reverse("tile-layer", args=["junctions", 12, x, y]))
    assert empty.status_code == 204


@pytest.mark.parametrize(
    ("z", "x", "y", "field"), [(23, 0, 0, "z"), (3, 8, 0, "x"), (3, 0, 9, "y")]
)
def test_tile_coordinates_out_of_range(client, db, z, x, y, field):
    response = client.get(reverse("tile-sites", args=[z, x, y]))
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_layer_tile_is_404(client, db):
    assert client.get(reverse("tile-layer", args=["castles", 1, 0, 0])).status_code == 404


def test_low_zoom_tiles_cluster_sites_on_a_grid(client, essen):
    # Three plots within 300 m of each other share a grid cell at z10 (cells ~1.5 km wide
    # here); a fourth, 5 km away, stays a site of its own.
    for i, dx in enumerate((0, 150, 300)):
        SiteFactory(
            municipality=essen, at=Point(362_800 + dx, 5_703_800, srid=25832), area_m2=2_500, seed=i
        )
    SiteFactory(municipality=essen, at=Point(357_500, 5_705_000, srid=25832), title="Lone plot")
    x, y = tile_of(7.0247, 51.4687, 10)
    layers = decode(client.get(reverse("tile-sites", args=[10, x, y])).content)
    assert layers["sites"]["features"] == 2
    assert 3 in layers["sites"]["values"]  # cluster_count of the three
    assert b"Lone plot" in client.get(reverse("tile-sites", args=[10, x, y])).content
    # From the point zoom on, every site is its own feature again: the three plots are three
    # (the lone plot, 5 km away, lies in another tile at that zoom).
    z = settings.SITE_TILE_POINT_MIN_ZOOM
    xp, yp = tile_of(7.0247, 51.4687, z)
    point_tile = client.get(reverse("tile-sites", args=[z, xp, yp])).content
    assert decode(point_tile)["sites"]["features"] == 3


def test_sites_tile_honours_the_search_filters(client, essen):
    SiteFactory(municipality=essen, at=ESSEN, title="Big plot", area_m2=40_000)
    SiteFactory(
        municipality=essen,
        at=Point(362_400, 5_703_800, srid=25832),
        title="Small hall",
        kind=Site.Kind.HALL,
        area_m2=900,
    )
    x, y = tile_of(7.0247, 51.4687, 12)
    url = reverse("tile-sites", args=[12, x, y])
    everything = client.get(url)
    assert decode(everything.content)["sites"]["features"] == 2
    halls = client.get(url, {"kind": "hall", "sort": "-area"})
    assert decode(halls.content)["sites"]["features"] == 1
    assert b"Small hall" in halls.content and b"Big plot" not in halls.content
    assert halls["ETag"] != everything["ETag"]  # a filtered tile is cached on its own
    assert decode(client.get(url, {"kind": ["plot", "hall"]}).content)["sites"]["features"] == 2
    bad = client.get(url, {"kind": "castle"})
    assert bad.status_code == 400 and "kind" in bad.json()


# Issue 11: 36 boundary and layer tiles at z2-4 answered 500 ("Point outside of projection
# domain"): the tile envelope was transformed to EPSG:25832 far outside UTM zone 32.
@pytest.mark.parametrize("z", [0, 1, 2, 3, 4, 5])
def test_every_tile_of_the_world_answers_200_or_204(client, reference_data, z):
    from sitefinder.tiles import tile_error

    assert tile_error(z, 0, 0) is None
    urls = [reverse("tile-boundaries", args=[z, x, y]) for x in range(2**z) for y in range(2**z)]
    urls += [
        reverse("tile-layer", args=["stations", z, x, y]) for x in range(2**z) for y in range(2**z)
    ]
    statuses = {url: client.get(url).status_code for url in urls}
    assert {s for s in statuses.values()} <= {200, 204}, [
        u for u, s in statuses.items() if s >= 300
    ]
    ruhr = reverse("tile-boundaries", args=[z, *tile_of(7.2, 51.5, z)])
    assert statuses[ruhr] == 200  # the region itself is still drawn


def test_low_zoom_tiles_without_a_region_loaded_do_not_fail(client, db):
    for z in (2, 3):
        for x in range(2**z):
            for y in range(2**z):
                response = client.get(reverse("tile-layer", args=["stations", z, x, y]))
                assert response.status_code in (200, 204)
