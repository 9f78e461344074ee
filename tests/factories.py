"""factory_boy factories: valid geometries inside the real municipalities of the region."""

import random
from decimal import Decimal

import factory
from django.contrib.gis.geos import Point, Polygon
from django.utils import timezone

from accounts.models import PartnerOrganisation, User
from geodata.models import Municipality
from properties.models import Site
from properties.services.sites import site_save
from proposals.models import Inquiry


def square(centre: Point, side_m: float) -> Polygon:
    half = side_m / 2
    x, y = centre.x, centre.y
    return Polygon(
        (
            (x - half, y - half),
            (x + half, y - half),
            (x + half, y + half),
            (x - half, y + half),
            (x - half, y - half),
        ),
        srid=25832,
    )


def point_in(municipality: Municipality, rng: random.Random) -> Point:
    """A random point well inside the municipality (rejection sampling in its bbox)."""
    inner = municipality.geom.buffer(-150)
    xmin, ymin, xmax, ymax = inner.extent
    for _ in range(1000):
        candidate = Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax), srid=25832)
        if inner.contains(candidate):
            return candidate
    raise RuntimeError(f"no point found inside {municipality}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery")
    role = User.Role.INVESTOR


class PartnerOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Wirtschaftsförderung {n}")
    email = factory.LazyAttribute(lambda o: f"info{o.name[-3:].strip()}@example.org")

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)


def default_municipality() -> Municipality | None:
    return (
        Municipality.objects.filter(ags="05113000").first()
        or Municipality.objects.order_by("ags").first()
    )


class SiteFactory(factory.django.DjangoModelFactory):
    """A published plot of `area_m2` (a square) at a random place in `municipality`."""

    class Meta:
        model = Site

    class Params:
        area_m2 = 20_000
        seed = factory.Sequence(lambda n: n)
        at = None  # a Point (EPSG:25832) to put the site's centre on

    title = factory.Sequence(lambda n: f"Gewerbefläche {n}")
    kind = Site.Kind.PLOT
    status = Site.Status.PUBLISHED
    # One fixed municipality (Essen, the first by key otherwise): a test that needs another
    # says so, and a site's place and distances are the same on every run.
    municipality = factory.LazyFunction(default_municipality)
    geom = factory.LazyAttribute(
        lambda o: square(o.at or point_in(o.municipality, random.Random(o.seed)), o.area_m2**0.5)
    )
    gross_area_m2 = factory.SelfAttribute("area_m2")
    planning_category = Site.PlanningCategory.GE
    bplan_status = Site.BPlanStatus.BINDING
    ownership = Site.Ownership.MUNICIPAL
    price_eur_m2 = Decimal("85.00")
    is_demo = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, like every real write: municipality from the geometry,
        # distances computed.
        municipality = kwargs.pop("municipality")
        site = model_class(*args, **kwargs)
        site_save(site=site, acting_user=None)
        assert site.municipality == municipality, f"{site.geom.centroid} is not in {municipality}"
        return site


class InquiryFactory(factory.django.DjangoModelFactory):
    """A web inquiry for a GE plot of 1–3 ha, with contact details."""

    class Meta:
        model = Inquiry
        skip_postgeneration_save = True

    company = factory.Sequence(lambda n: f"Example Logistics {n} GmbH")
    contact_name = "Erika Mustermann"
    email = factory.Sequence(lambda n: f"inquiry{n}@example.com")
    phone = "+49 201 1234567"
    message = "We need a site for a regional distribution centre."
    language = "en"
    privacy_accepted_at = factory.LazyFunction(timezone.now)
    kinds = factory.LazyFunction(lambda: [Site.Kind.PLOT])
    area_min_m2 = 10_000
    area_max_m2 = 30_000
    planning_categories = factory.LazyFunction(lambda: [Site.PlanningCategory.GE])

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)
