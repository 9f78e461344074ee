import pytest
from django.contrib.gis.geos import Point, Polygon

from properties.models import Site
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(essen, dortmund):
    essen_org = PartnerOrganisationFactory(municipalities=[essen])
    dortmund_org = PartnerOrganisationFactory(municipalities=[dortmund])
    sites = {}
    for status in Site.Status.values:
        sites[("essen", status)] = SiteFactory(
            municipality=essen, status=status, seed=hash(status) % 1000
        )
        sites[("dortmund", status)] = SiteFactory(
            municipality=dortmund, status=status, seed=hash(status) % 1000 + 1
        )
    users = {
        "anonymous": None,
        "investor": UserFactory(),
        "essen_partner": UserFactory(role="partner", organisation=essen_org),
        "dortmund_partner": UserFactory(role="partner", organisation=dortmund_org),
        "staff": UserFactory(role="staff"),
    }
    return sites, users


def keys(queryset, sites) -> set:
    ids = set(queryset.values_list("pk", flat=True))
    return {key for key, site in sites.items() if site.pk in ids}


def test_published_is_published_and_reserved(world):
    sites, _ = world
    assert keys(Site.objects.published(), sites) == {
        (city, status) for city in ("essen", "dortmund") for status in ("published", "reserved")
    }


@pytest.mark.parametrize(
    ("user", "extra_city"),
    [
        ("anonymous", None),
        ("investor", None),
        ("essen_partner", "essen"),
        ("dortmund_partner", "dortmund"),
    ],
)
def test_visible_to_adds_only_the_partners_own_municipality(world, user, extra_city):
    sites, users = world
    public = {(c, s) for c in ("essen", "dortmund") for s in ("published", "reserved")}
    own = {(extra_city, s) for s in Site.Status.values} if extra_city else set()
    assert keys(Site.objects.visible_to(users[user]), sites) == public | own


def test_staff_sees_and_edits_everything(world):
    sites, users = world
    assert keys(Site.objects.visible_to(users["staff"]), sites) == set(sites)
    assert keys(Site.objects.editable_by(users["staff"]), sites) == set(sites)


def test_editable_by(world):
    sites, users = world
    assert keys(Site.objects.editable_by(users["essen_partner"]), sites) == {
        ("essen", s) for s in Site.Status.values
    }
    assert not Site.objects.editable_by(users["investor"]).exists()
    assert not Site.objects.editable_by(None).exists()


def test_in_bbox_and_within_distance(essen, dortmund):
    near = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832), area_m2=10_000)
    SiteFactory(municipality=dortmund, at=Point(393_200, 5_709_300, srid=25832))
    bbox = Polygon.from_bbox((6.95, 51.40, 7.10, 51.50))
    bbox.srid = 4326
    assert list(Site.objects.in_bbox(bbox)) == [near]
    centre = Point(362_800, 5_704_800, srid=25832)  # 1 km north of the centre, 950 m to the edge
    assert list(Site.objects.within_distance(centre, 960)) == [near]
    assert not Site.objects.within_distance(centre, 940).exists()
