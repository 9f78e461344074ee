import pytest
from django.contrib.gis.geos import Point, Polygon
from django.core.exceptions import ValidationError

from properties.models import Site
from properties.services.sites import site_save
from tests.factories import SiteFactory, square

pytestmark = pytest.mark.django_db


def test_municipality_follows_the_geometry(essen, dortmund):
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832))
    site_save(
        site=site,
        acting_user=None,
        fields={"geom": square(Point(393_200, 5_709_300, srid=25832), 100)},
    )
    site.refresh_from_db()
    assert site.municipality == dortmund
    assert site.distance_to_station_m is not None


def test_site_across_a_boundary_belongs_where_most_of_it_lies(reference_data):
    from geodata.models import Municipality

    essen = Municipality.objects.get(ags="05113000")
    bochum = Municipality.objects.get(ags="05911000")
    shared_border = essen.geom.boundary.intersection(bochum.geom.boundary)
    boundary_point = shared_border.point_on_surface
    site = SiteFactory.build(geom=square(boundary_point, 400), gross_area_m2=160_000)
    site_save(site=site, acting_user=None)
    overlaps = {
        m.ags: m.geom.intersection(site.geom).area
        for m in Municipality.objects.filter(geom__intersects=site.geom)
    }
    assert len(overlaps) >= 2
    assert site.municipality.ags == max(overlaps, key=overlaps.get)


def test_site_outside_the_region_is_refused(reference_data):
    cologne = square(Point(356_000, 5_645_000, srid=25832), 100)
    site = SiteFactory.build(geom=cologne)
    with pytest.raises(ValidationError) as excinfo:
        site_save(site=site, acting_user=None)
    assert "outside" in str(excinfo.value.message_dict["geom"])
    assert not Site.objects.exists()


def test_invalid_geometry_is_refused(reference_data):
    bowtie = Polygon(
        (
            (362_800, 5_703_800),
            (362_900, 5_703_900),
            (362_900, 5_703_800),
            (362_800, 5_703_900),
            (362_800, 5_703_800),
        ),
        srid=25832,
    )
    with pytest.raises(ValidationError, match="not valid"):
        site_save(site=SiteFactory.build(geom=bowtie), acting_user=None)


def test_generated_columns_follow_the_geometry(essen):
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832), area_m2=10_000)
    site.refresh_from_db()
    assert site.geom_area_m2 == pytest.approx(10_000)
    assert site.geom.contains(site.location)
    assert site.geom_web.srid == 3857
    assert site.location_web.srid == 3857


def test_net_area_above_gross_is_refused(essen):
    site = SiteFactory.build(
        geom=square(Point(362_800, 5_703_800, srid=25832), 100),
        gross_area_m2=10_000,
        net_area_m2=12_000,
    )
    with pytest.raises(ValidationError):
        site_save(site=site, acting_user=None)
