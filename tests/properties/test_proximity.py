"""Stored distances: hand-checked against the real reference data."""

import json

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.management import call_command

from geodata.importers.core import DatasetInfo, ImportSpec, import_file
from geodata.models import LayerFeature
from properties.models import Site
from properties.nearest import site_nearest
from properties.services.proximity import sites_refresh_distances
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def essen_hbf() -> LayerFeature:
    return LayerFeature.objects.get(layer__slug="stations", external_id="8000098")


def test_distances_are_metres_to_the_nearest_feature(essen):
    hbf = essen_hbf().geom
    # A 100 m x 100 m plot whose centre lies 500 m east of Essen Hbf: the nearest edge is
    # 450 m away. Essen Hbf is category 2 or better, so both station distances agree.
    site = SiteFactory(municipality=essen, at=Point(hbf.x + 500, hbf.y, srid=25832), area_m2=10_000)
    assert essen_hbf().category <= 3
    nearest_any = LayerFeature.objects.filter(layer__slug="stations").nearest_to(site.geom).first()
    assert site.distance_to_station_m == pytest.approx(nearest_any.distance_m.m, abs=0.01)
    assert site.distance_to_major_station_m == pytest.approx(450, abs=0.5)
    assert site.distance_to_station_m <= site.distance_to_major_station_m
    assert site.distance_to_rail_line_m is not None and site.distance_to_rail_line_m < 450
    assert site.distance_to_airport_m > 5_000
    assert site.distance_to_junction_m is None  # layer empty: unknown, not "far"
    assert site.distances_computed_at is not None


def test_major_station_distance_ignores_small_stations(essen):
    small = (
        LayerFeature.objects.filter(layer__slug="stations", category__gte=5)
        .filter(geom__within=essen.geom)
        .first()
    )
    site = SiteFactory(
        municipality=essen, at=Point(small.geom.x + 200, small.geom.y, srid=25832), area_m2=2_500
    )
    assert site.distance_to_station_m <= 200
    assert site.distance_to_major_station_m > site.distance_to_station_m


def test_a_new_layer_fills_the_distances_of_existing_sites(tmp_path, essen):
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832), area_m2=10_000)
    assert site.distance_to_junction_m is None
    path = tmp_path / "junction.geojson"
    # A junction 1 km north of the plot's centre (the plot's edge is 50 m closer).
    point = Point(362_800, 5_704_800, srid=25832).transform(4326, clone=True)
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ref":"J","name":"AS Test"},'
        f'"geometry":{{"type":"Point","coordinates":[{point.x},{point.y}]}}}}]}}'
    )
    call_command("import_layer", str(path), layer="junctions", dataset="test-j", id_field="ref")
    site.refresh_from_db()
    assert site.distance_to_junction_m == pytest.approx(950, abs=0.5)


def test_refresh_only_touches_the_requested_sites(essen):
    a = SiteFactory(municipality=essen, seed=1)
    b = SiteFactory(municipality=essen, seed=2)
    Site.objects.filter(pk__in=[a.pk, b.pk]).update(distance_to_station_m=None)
    assert sites_refresh_distances(site_ids=[a.pk]) == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.distance_to_station_m is not None and b.distance_to_station_m is None
    call_command("refresh_distances")
    b.refresh_from_db()
    assert b.distance_to_station_m is not None


def test_nearest_features_for_the_detail_page(essen):
    hbf = essen_hbf().geom
    site = SiteFactory(municipality=essen, at=Point(hbf.x + 500, hbf.y, srid=25832), area_m2=10_000)
    rows = {row.field: row for row in site_nearest(site)}
    assert rows["distance_to_major_station_m"].feature_name == "Essen Hbf"
    assert rows["distance_to_major_station_m"].distance_m == pytest.approx(450, abs=0.5)
    # The drawn connector runs from the site's edge to the station: 450 m long.
    connector = GEOSGeometry(
        json.dumps(rows["distance_to_major_station_m"].connector_geojson), srid=4326
    )
    assert connector.transform(25832, clone=True).length == pytest.approx(450, abs=0.5)
    assert rows["distance_to_junction_m"].feature_id is None
    assert rows["distance_to_junction_m"].layer_loaded is False
    assert rows["distance_to_junction_m"].layer.slug == "junctions"


def test_two_datasets_in_one_layer_coexist(tmp_path, reference_data):
    # Re-importing one dataset of a layer leaves the other dataset's features alone.
    for slug, ref, lon in (("a", "1", 7.0), ("b", "2", 7.1)):
        path = tmp_path / f"{slug}.geojson"
        feature = {
            "type": "Feature",
            "properties": {"ref": ref},
            "geometry": {"type": "Point", "coordinates": [lon, 51.5]},
        }
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
        spec = ImportSpec(
            target="ports", dataset=DatasetInfo(slug=slug, title=slug), id_field="ref"
        )
        import_file(path, spec)
        import_file(path, spec)
    assert LayerFeature.objects.filter(layer__slug="ports").count() == 2


def _knn_distances(site_ids) -> dict:
    """Every distance column of the sites, as the KNN probe per site computes it."""
    from django.db import connection

    from geodata.layers import DISTANCE_FIELDS
    from properties.services.proximity import _nearest_sql

    select = ", ".join(_nearest_sql(field) for field in DISTANCE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, {select} FROM properties_site s WHERE s.id = ANY(%s)", [list(site_ids)]
        )
        return {row[0]: list(row[1:]) for row in cursor.fetchall()}


def _stored_distances(site_ids) -> dict:
    from geodata.layers import DISTANCE_FIELDS

    rows = Site.objects.filter(pk__in=site_ids).values_list("pk", *DISTANCE_FIELDS)
    return {row[0]: list(row[1:]) for row in rows}


def test_many_sites_get_the_same_distances_through_cell_candidates(essen, monkeypatch):
    """From BATCH_MIN_SITES on, the distances come from the candidates of 500 m cells: the
    same values, to the bit, as the nearest-neighbour probe per site (sites near and far from
    the railway and stations, points and plots of very different sizes, one on a cell edge)."""
    from properties.services import proximity

    hbf = essen_hbf().geom
    sites = [
        SiteFactory(municipality=essen, at=Point(hbf.x + dx, hbf.y + dy, srid=25832), area_m2=area)
        for dx, dy, area in [
            (0, 0, 900),
            (500, 0, 10_000),
            (-3_000, 1_000, 200_000),
            (2_000, -2_500, 2_500),
            (3_000, 2_000, 40_000),
        ]
    ]
    ids = [site.pk for site in sites]
    Site.objects.filter(pk__in=ids).update(distance_to_station_m=None, distance_to_rail_line_m=None)
    monkeypatch.setattr(proximity, "BATCH_MIN_SITES", 1)
    assert sites_refresh_distances(site_ids=ids) == len(ids)
    stored = _stored_distances(ids)
    assert stored == _knn_distances(ids)
    assert all(values[0] is not None for values in stored.values())  # stations
    # All sites at once (no ids) takes the same way.
    Site.objects.update(distance_to_airport_m=None)
    sites_refresh_distances(layers=["airports"])
    assert _stored_distances(ids) == stored
