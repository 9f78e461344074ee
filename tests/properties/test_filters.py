"""The investor search filters (SiteFilterSet), through the API and directly.

A small world of ten hand-described sites in Essen and Dortmund; every expectation below was
worked out by hand from the table in `world`, not recomputed with the filter logic. Station,
airport, university and railway-line distances are the real ones from the bundled reference
data (measured once and written next to each site); junctions, motorways, waterways and ports
have no data loaded in the test database.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.http import QueryDict
from django.urls import reverse

from properties.api.filters import SiteFilterSet
from properties.models import Site
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

URL = "api-site-list"
ESSEN_AGS, DORTMUND_AGS = "05113000", "05913000"


def at(x: float, y: float) -> Point:
    return Point(x, y, srid=25832)


@pytest.fixture
def world(essen, dortmund):
    """Created in this order (so `newest` is the reverse). Distances: nearest station /
    station of category 1-3 / airport / university / railway line, in metres."""
    sites = [
        # 1,075 / 5,972 / 9,794 / 3,857 / 0
        dict(
            title="E1 logistics park",
            municipality=essen,
            at=at(358_000, 5_706_500),
            area_m2=60_000,
            kind="logistics",
            price_eur_m2=Decimal(120),
            planning_category="GI",
            bplan_status="binding",
            ownership="municipal",
            has_rail_siding=True,
            broadband="gigabit",
        ),
        # 300 m east of Essen Hbf: 278 / 278 / 7,685 / 1,630 / 0
        dict(
            title="E2 office by the Hbf",
            municipality=essen,
            at=at(362_361, 5_701_888),
            area_m2=2_000,
            kind="office",
            price_eur_m2=Decimal(250),
            planning_category="MI",
            bplan_status="section_34",
            ownership="private",
            available_from=datetime.date(2035, 6, 1),
            broadband="fast",
            restriction_class="light",
        ),
        # 457 / 5,815 / 9,834 / 2,882 / 383
        dict(
            title="E3 plot on request",
            municipality=essen,
            at=at(366_500, 5_698_000),
            area_m2=15_000,
            kind="plot",
            price_eur_m2=None,
            price_on_request=True,
            planning_category="GE",
            bplan_status="in_preparation",
            ownership="municipal",
            available_from=datetime.date(2020, 1, 1),
            is_divisible=True,
            min_divisible_m2=2_000,
            max_divisible_m2=8_000,
            broadband="basic",
            restriction_class="severe",
        ),
        # 961 / 3,876 / 9,572 / 1,371 / 240
        dict(
            title="E4 hall",
            municipality=essen,
            at=at(360_500, 5_705_500),
            area_m2=8_000,
            kind="hall",
            price_eur_m2=Decimal(60),
            planning_category="GE",
            bplan_status="binding",
            ownership="mixed",
            has_port_access=True,
            broadband="none",
        ),
        # A draft: never in the public results.
        dict(
            title="E5 draft",
            municipality=essen,
            at=at(364_000, 5_703_000),
            area_m2=20_000,
            status="draft",
        ),
        # 1,728 / 7,485 / 4,996 / 8,305 / 121
        dict(
            title="D1 logistics hub",
            municipality=dortmund,
            at=at(400_000, 5_712_000),
            area_m2=120_000,
            kind="logistics",
            price_eur_m2=Decimal(45),
            planning_category="GI",
            bplan_status="fnp_only",
            ownership="private",
            is_divisible=True,
            min_divisible_m2=10_000,
            max_divisible_m2=60_000,
            has_rail_siding=True,
            has_port_access=True,
            broadband="gigabit",
        ),
        # 315 / 3,653 / 16,138 / 1,287 / 251
        dict(
            title="D2 plot",
            municipality=dortmund,
            at=at(388_000, 5_705_000),
            area_m2=30_000,
            kind="plot",
            price_eur_m2=Decimal(95),
            planning_category="GE",
            bplan_status="binding",
            ownership="municipal",
            available_from=datetime.date(2020, 6, 1),
            broadband="fast",
        ),
        # 1,258 / 5,626 / 8,565 / 4,774 / 790
        dict(
            title="D3 mixed, no price",
            municipality=dortmund,
            at=at(396_500, 5_704_000),
            area_m2=5_000,
            kind="mixed",
            price_eur_m2=None,
            planning_category="SO",
            bplan_status="section_34",
            ownership="municipal",
            available_from=datetime.date(2035, 1, 1),
            broadband="none",
            restriction_class="light",
        ),
        # 300 m south of Dortmund Hbf: 282 / 282 / 10,752 / 1,017 / 216
        dict(
            title="D4 office, reserved",
            municipality=dortmund,
            at=at(393_100, 5_708_245),
            area_m2=1_200,
            kind="office",
            status="reserved",
            price_eur_m2=Decimal(300),
            planning_category="MI",
            bplan_status="binding",
            ownership="private",
            is_divisible=True,
            min_divisible_m2=300,
            max_divisible_m2=600,
            broadband="gigabit",
        ),
        # 1,406 / 5,480 / 15,412 / 6,829 / 41
        dict(
            title="D5 hall",
            municipality=dortmund,
            at=at(389_000, 5_713_000),
            area_m2=45_000,
            kind="hall",
            price_eur_m2=Decimal(70),
            planning_category="GI",
            bplan_status="in_preparation",
            ownership="mixed",
            has_rail_siding=True,
            broadband="basic",
            restriction_class="severe",
        ),
    ]
    return {kwargs["title"][:2]: SiteFactory(**kwargs) for kwargs in sites}


VISIBLE = {"E1", "E2", "E3", "E4", "D1", "D2", "D3", "D4", "D5"}


def search(client, params) -> list[str]:
    response = client.get(reverse(URL), {"page_size": 50, **params})
    assert response.status_code == 200, response.json()
    return [feature["properties"]["title"][:2] for feature in response.json()["features"]]


def errors(client, params) -> dict:
    response = client.get(reverse(URL), params)
    assert response.status_code == 400, response.content
    return response.json()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, VISIBLE),
        ({"kind": "hall"}, {"E4", "D5"}),
        ({"kind": ["hall", "office"]}, {"E2", "E4", "D4", "D5"}),
        ({"status": "reserved"}, {"D4"}),
        ({"area_min": 10_000}, {"E1", "E3", "D1", "D2", "D5"}),
        ({"area_max": 8_000}, {"E2", "E4", "D3", "D4"}),
        ({"area_min": 10_000, "area_max": 50_000}, {"E3", "D2", "D5"}),
        ({"area_min_ha": 5, "area_max_ha": 12}, {"E1", "D1"}),
        ({"area_min_ha": 2, "area_max": 50_000}, {"D2", "D5"}),
        ({"price_min": 60, "price_max": 100}, {"E4", "D2", "D5"}),
        # "include" keeps the sites *for sale* without a sale price: D3 (premises without
        # any price) is offered for rent, so a sale price range leaves it out.
        (
            {"price_min": 60, "price_max": 100, "price_on_request": "include"},
            {"E4", "D2", "D5", "E3"},
        ),
        ({"price_max": 50}, {"D1"}),
        ({"price_on_request": "only"}, {"E3"}),
        ({"price_on_request": "exclude"}, VISIBLE - {"E3"}),
        ({"price_on_request": "include"}, VISIBLE),
        ({"planning_category": "GI"}, {"E1", "D1", "D5"}),
        ({"planning_category": ["GI", "SO"]}, {"E1", "D1", "D5", "D3"}),
        ({"bplan_status": "section_34"}, {"E2", "D3"}),
        ({"bplan_status": ["binding", "fnp_only"]}, {"E1", "E4", "D1", "D2", "D4"}),
        ({"available_now": "true"}, VISIBLE - {"E2", "D3"}),
        ({"available_now": "false"}, VISIBLE),
        ({"available_by": "2035-03-01"}, VISIBLE - {"E2"}),
        ({"available_by": "2019-12-31"}, {"E1", "E4", "D1", "D4", "D5"}),
        ({"ownership": "private"}, {"E2", "D1", "D4"}),
        ({"ownership": ["private", "mixed"]}, {"E2", "D1", "D4", "E4", "D5"}),
        ({"divisible": "true"}, {"E3", "D1", "D4"}),
        ({"part_min_m2": 10_000}, {"E1", "D1", "D2", "D5"}),
        ({"part_max_m2": 1_000}, {"D4"}),
        ({"part_max_m2": 2_500}, {"E2", "E3", "D4"}),
        ({"part_min_m2": 5_000, "part_max_m2": 15_000}, {"E3", "E4", "D1", "D3"}),
        ({"municipality": DORTMUND_AGS}, {"D1", "D2", "D3", "D4", "D5"}),
        ({"municipality": [ESSEN_AGS, DORTMUND_AGS]}, VISIBLE),
        ({"district": "05113"}, {"E1", "E2", "E3", "E4"}),
        ({"rail_siding": "true"}, {"E1", "D1", "D5"}),
        ({"rail_siding": "false"}, VISIBLE),
        ({"port_access": "true"}, {"E4", "D1"}),
        ({"broadband_min": "fast"}, {"E1", "E2", "D1", "D2", "D4"}),
        ({"broadband_min": "gigabit"}, {"E1", "D1", "D4"}),
        ({"broadband_min": "none"}, VISIBLE),
        ({"restriction_class": "severe"}, {"E3", "D5"}),
        ({"restriction_class": ["severe", "light"]}, {"E3", "D5", "E2", "D3"}),
        ({"restriction_max": "light"}, VISIBLE - {"E3", "D5"}),
        ({"restriction_max": "none"}, {"E1", "E4", "D1", "D2", "D4"}),
        ({"max_distance_station_m": 300}, {"E2", "D4"}),
        ({"max_distance_station_m": 500}, {"E2", "E3", "D2", "D4"}),
        ({"max_distance_station_m": 500, "station_max_category": 3}, {"E2", "D4"}),
        ({"max_distance_station_m": 4_000, "station_max_category": 3}, {"E2", "D4", "E4", "D2"}),
        ({"max_distance_airport_m": 6_000}, {"D1"}),
        ({"max_distance_university_m": 1_500}, {"E4", "D2", "D4"}),
        ({"max_distance_rail_line_m": 100}, {"E1", "E2", "D5"}),
        # Combinations: AND across filters, OR within a multi-select.
        (
            {"kind": ["logistics", "hall"], "municipality": DORTMUND_AGS, "rail_siding": "true"},
            {"D1", "D5"},
        ),
        (
            {
                "area_min_ha": 1,
                "price_max": 100,
                "price_on_request": "include",
                "broadband_min": "basic",
            },
            {"E3", "D1", "D2", "D5"},
        ),
        (
            {
                "area_min_ha": 1,
                "price_max": 100,
                "price_on_request": "include",
                "broadband_min": "basic",
                "planning_category": "GI",
            },
            {"D1", "D5"},
        ),
        (
            {"available_now": "true", "restriction_max": "light", "max_distance_station_m": 1_100},
            {"E1", "E4", "D2", "D4"},
        ),
        ({"district": "05913", "divisible": "true", "part_min_m2": 500}, {"D1", "D4"}),
    ],
)
def test_filter_results(client, world, params, expected):
    assert set(search(client, params)) == expected


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"area_min": -1}, "area_min", "greater than or equal to 0"),
        ({"area_max": "lots"}, "area_max", "number"),
        ({"area_min": "NaN"}, "area_min", "number"),
        ({"area_min": "1e400"}, "area_min", "less than or equal"),
        ({"price_min": -5}, "price_min", "greater than or equal to 0"),
        ({"price_on_request": "maybe"}, "price_on_request", "valid choice"),
        ({"available_by": "2025-13-01"}, "available_by", "valid date"),
        ({"available_by": "tomorrow"}, "available_by", "valid date"),
        ({"available_now": "maybe"}, "available_now", "true or false"),
        ({"divisible": "2"}, "divisible", "true or false"),
        ({"kind": "castle"}, "kind", "valid choice"),
        ({"planning_category": "XX"}, "planning_category", "valid choice"),
        ({"bplan_status": "done"}, "bplan_status", "valid choice"),
        ({"ownership": "church"}, "ownership", "valid choice"),
        ({"broadband_min": "ultra"}, "broadband_min", "valid choice"),
        ({"restriction_class": "medium"}, "restriction_class", "valid choice"),
        ({"restriction_max": "medium"}, "restriction_max", "valid choice"),
        ({"municipality": "99999999"}, "municipality", "valid choice"),
        ({"district": "99999"}, "district", "valid choice"),
        ({"max_distance_station_m": -1}, "max_distance_station_m", "greater than or equal"),
        (
            {"max_distance_station_m": 500, "station_max_category": 2},
            "station_max_category",
            "Only station_max_category=3",
        ),
        ({"sort": "cheapest"}, "sort", "valid choice"),
        ({"near": "seven,51", "radius_m": 100}, "near", "lon,lat"),
        ({"near": "7,95", "radius_m": 100}, "near", "outside the world"),
        ({"near": "7,51.4", "radius_m": 60_000}, "radius_m", "less than or equal to 50000"),
        ({"near": "7,51.4", "radius_m": -5}, "radius_m", "greater than or equal to 1"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(client, world, params, field, message):
    body = errors(client, params)
    assert field in body, body
    assert message in body[field][0]


@pytest.mark.parametrize(
    ("param", "layer"),
    [
        ("max_distance_junction_m", "junctions"),
        ("max_distance_motorway_m", "motorways"),
        ("max_distance_waterway_m", "waterways"),
        ("max_distance_port_m", "ports"),
    ],
)
def test_proximity_on_an_empty_layer_is_a_400_not_an_empty_result(client, world, param, layer):
    body = errors(client, {param: 10_000})
    assert body[param] == [
        f"layer '{layer}' has no data loaded yet, so this filter cannot be applied."
    ]


def test_sorting_by_an_empty_layer_is_a_400(client, world):
    body = errors(client, {"sort": "distance_junction"})
    assert "layer 'junctions' has no data loaded yet" in body["sort"][0]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({}, ["D5", "D4", "D3", "D2", "D1", "E4", "E3", "E2", "E1"]),
        ({"sort": "newest"}, ["D5", "D4", "D3", "D2", "D1", "E4", "E3", "E2", "E1"]),
        ({"sort": "area"}, ["D4", "E2", "D3", "E4", "E3", "D2", "D5", "E1", "D1"]),
        ({"sort": "-area"}, ["D1", "E1", "D5", "D2", "E3", "E4", "D3", "E2", "D4"]),
        # No price last; among those, by id.
        ({"sort": "price"}, ["D1", "E4", "D5", "D2", "E1", "E2", "D4", "E3", "D3"]),
        ({"sort": "-price"}, ["D4", "E2", "E1", "D2", "D5", "E4", "D1", "D3", "E3"]),
        (
            {"sort": "distance_station"},
            ["E2", "D4", "D2", "E3", "E4", "E1", "D3", "D5", "D1"],
        ),
        (
            {"sort": "distance_airport"},
            ["D1", "E2", "D3", "E4", "E1", "E3", "D4", "D5", "D2"],
        ),
    ],
)
def test_sort_orders(client, world, sort, expected):
    assert search(client, sort) == expected


def test_sort_ties_break_on_id(client, essen):
    first = SiteFactory(municipality=essen, at=at(358_000, 5_706_500), title="A", area_m2=900)
    second = SiteFactory(municipality=essen, at=at(360_500, 5_705_500), title="B", area_m2=900)
    assert first.pk < second.pk
    assert search(client, {"sort": "area"}) == ["A", "B"]
    assert search(client, {"sort": "-area"}) == ["B", "A"]


def _lonlat(point: Point) -> tuple[float, float]:
    moved = point.transform(4326, clone=True)
    assert isinstance(moved, Point)
    return moved.x, moved.y


def square_lonlat(*points: Point, margin: float = 0.004) -> str:
    """A WKT square in lon/lat around the given EPSG:25832 points."""
    lonlat = [_lonlat(p) for p in points]
    minx, maxx = min(x for x, _ in lonlat) - margin, max(x for x, _ in lonlat) + margin
    miny, maxy = min(y for _, y in lonlat) - margin, max(y for _, y in lonlat) + margin
    return f"POLYGON(({minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},{minx} {miny}))"


def test_drawn_area_as_wkt_and_geojson(client, world):
    # E1 and E4 lie about 2.7 km apart in north-west Essen; no other site is near them.
    wkt = square_lonlat(world["E1"].location, world["E4"].location)
    assert set(search(client, {"area": wkt})) == {"E1", "E4"}
    geojson = (
        '{"type": "Polygon", "coordinates": '
        "[[[7.0, 51.40], [7.05, 51.40], [7.05, 51.48], [7.0, 51.48], [7.0, 51.40]]]}"
    )
    # Essen Hbf is at about 7.014 E, 51.451 N: E2 (300 m east of it) is inside; E1/E4 lie
    # west of 7.0, E3 east of 7.05.
    assert set(search(client, {"area": geojson})) == {"E2"}
    combined = {"area": wkt, "kind": "hall"}
    assert set(search(client, combined)) == {"E4"}


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ("POLYGON((7 51.4,7.1 51.5,7.1 51.4,7 51.5,7 51.4))", "crosses itself"),
        (
            '{"type":"Polygon","coordinates":[[[7,51.4],[7.1,51.5],[7.1,51.4],[7,51.5],[7,51.4]]]}',
            "crosses itself",
        ),
        ("POLYGON((0 40,20 40,20 60,0 60,0 40))", "at most 10,000 km²"),
        ("POLYGON((170 0,190 0,190 10,170 10,170 0))", "outside the world"),
        ("POINT(7 51)", "Polygon or MultiPolygon"),
        ('{"type":"LineString","coordinates":[[7,51],[8,52]]}', "Polygon or MultiPolygon"),
        ("not a polygon", "GeoJSON geometry or a WKT polygon"),
        ('{"type":"Polygon"}', "GeoJSON geometry or a WKT polygon"),
        ("0101000000000000000000F03F000000000000F03F", "GeoJSON geometry or a WKT polygon"),
        ("SRID=25832;POLYGON((0 0,1 0,1 1,0 0))", "GeoJSON geometry or a WKT polygon"),
        ("POLYGON((7 51,7.1 51,7 51))", "not a valid polygon"),
    ],
)
def test_bad_drawn_area_is_a_400(client, world, area, message):
    body = errors(client, {"area": area})
    assert message in body["area"][0], body


def test_drawn_area_with_too_many_vertices_is_a_400(client, world):
    ring = [f"{7 + i * 0.00001} 51.4" for i in range(2_100)] + ["7.05 51.45", "7 51.4"]
    body = errors(client, {"area": f"POLYGON(({','.join(ring)}))"})
    assert "at most 2,000" in body["area"][0]


def test_radius_search(client, world):
    e2 = world["E2"].location.transform(4326, clone=True)
    near = f"{e2.x},{e2.y}"
    # From E2: E5 (a draft, hidden) ~1.7 km, E4 ~4.0 km, E3 ~5.6 km, E1 ~6.3 km.
    assert set(search(client, {"near": near, "radius_m": 2_500})) == {"E2"}
    assert set(search(client, {"near": near, "radius_m": 4_200})) == {"E2", "E4"}
    assert set(search(client, {"near": near, "radius_m": 4_200, "kind": "office"})) == {"E2"}


def test_filterset_directly(world):
    """The HTML search uses the same FilterSet without DRF."""
    data = QueryDict(mutable=True)
    data.setlist("kind", ["plot", "hall"])
    data.update({"area_min_ha": "2", "sort": "-area"})
    filterset = SiteFilterSet(data, queryset=Site.objects.published())
    assert filterset.is_valid(), filterset.errors
    assert [site.title[:2] for site in filterset.qs] == ["D5", "D2"]

    bad = SiteFilterSet(QueryDict("area_min=9&area_max=1"), queryset=Site.objects.published())
    assert not bad.is_valid()
    assert list(bad.errors) == ["area_max"]


def test_list_query_count_is_constant_with_filters(client, world, essen, django_assert_num_queries):
    params = {
        "page_size": 50,
        "municipality": [ESSEN_AGS, DORTMUND_AGS],
        "district": ["05113", "05913"],
        "kind": ["plot", "hall", "logistics"],
        "area_min_ha": 1,
        "price_max": 200,
        "price_on_request": "include",
        "max_distance_station_m": 8_000,
        "station_max_category": 3,
        "sort": "distance_station",
    }
    # municipality and district lookups, the station layer check, count, page.
    with django_assert_num_queries(5):
        first = client.get(reverse(URL), params)
    assert len(first.json()["features"]) == 5
    for i in range(15):
        SiteFactory(municipality=essen, seed=i, kind="plot", price_eur_m2=Decimal(50))
    with django_assert_num_queries(5):
        second = client.get(reverse(URL), params)
    assert len(second.json()["features"]) > 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"area_min": 10, "area_max": 5}, "area_max"),
        ({"area_min_ha": 3, "area_max_ha": 1}, "area_max_ha"),
        ({"area_min_ha": 1, "area_max": 5_000}, "area_max"),
        ({"price_min": 100, "price_max": 50}, "price_max"),
        ({"part_min_m2": 5_000, "part_max_m2": 100}, "part_max_m2"),
        ({"price_on_request": "only", "price_max": 50}, "price_max"),
    ],
)
def test_a_contradiction_is_an_error_on_the_search_page_and_empty_in_the_api(
    client, world, params, field
):
    page_form = SiteFilterSet(params, queryset=Site.objects.all())
    assert not page_form.is_valid()
    assert "inverted" in str(page_form.errors[field]) or "cannot be combined" in str(
        page_form.errors[field]
    )
    assert search(client, params) == []
