"""Demo sites: realistic, labelled, inside their municipality, clear of each other and of the
railway, reproducible from a seed, and loaded only once by the set-up script."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Avg, F, Q

from accounts.models import PartnerOrganisation
from geodata.models import Municipality
from properties.models import Site
from properties.services import demo as demo_module
from properties.services.demo import (
    DEMO_ORGANISATION_NAME,
    RAIL_CLEARANCE_M,
    sites_delete_demo,
    sites_generate_demo,
)
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def scalar(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def fingerprint() -> tuple[list, list]:
    return list(
        Site.objects.demo()
        .order_by("partner_ref")
        .values_list(
            "partner_ref",
            "title",
            "kind",
            "municipality__ags",
            "gross_area_m2",
            "price_eur_m2",
            "restrictions",
            "status",
        )
    ), [site.geom.wkb.hex() for site in Site.objects.demo().order_by("partner_ref")]


@pytest.fixture
def demo_sites(reference_data) -> int:
    return sites_generate_demo(count=600, seed=7)


def test_generates_exactly_count_realistic_demo_sites(demo_sites):
    sites = Site.objects.all()
    assert demo_sites == 600
    assert sites.count() == 600
    assert not sites.filter(is_demo=False).exists()
    assert sites.values("municipality").distinct().count() == Municipality.objects.count() == 53
    assert set(sites.values_list("kind", flat=True)) == set(Site.Kind.values)
    assert set(sites.values_list("planning_category", flat=True)) == set(
        Site.PlanningCategory.values
    )
    assert set(sites.values_list("bplan_status", flat=True)) == set(Site.BPlanStatus.values)
    assert set(sites.values_list("restriction_class", flat=True)) == set(
        Site.RestrictionClass.values
    )
    plots = sites.filter(kind=Site.Kind.PLOT)
    assert 0.5 < plots.count() / 600 < 0.7
    assert not plots.filter(Q(gross_area_m2__lt=3000) | Q(gross_area_m2__gt=250_000)).exists()
    assert sites.filter(status=Site.Status.PUBLISHED).count() > 400
    # Premises are points or building footprints; plots are polygons.
    assert scalar(
        "SELECT count(*) FROM properties_site WHERE kind <> 'plot' AND GeometryType(geom) = 'POINT'"
    )
    assert not scalar(
        "SELECT count(*) FROM properties_site "
        "WHERE kind = 'plot' AND GeometryType(geom) <> 'POLYGON'"
    )


def test_attributes_are_consistent(demo_sites):
    sites = Site.objects.demo()
    assert not sites.filter(net_area_m2__gt=F("gross_area_m2")).exists()
    divisible = sites.filter(is_divisible=True)
    assert divisible.exists()
    assert not divisible.filter(
        Q(min_divisible_m2__isnull=True) | Q(min_divisible_m2__gt=F("max_divisible_m2"))
    ).exists()
    assert not sites.filter(is_divisible=False, min_divisible_m2__isnull=False).exists()
    assert not sites.filter(price_on_request=True, price_eur_m2__isnull=False).exists()
    assert not sites.filter(
        price_on_request=False, offer_types__contains=["sale"], price_eur_m2__isnull=True
    ).exists()
    assert not sites.filter(
        price_on_request=False, offer_types__contains=["rent"], rent_eur_m2_month__isnull=True
    ).exists()


def test_prices_are_realistic_per_offer_type(demo_sites):
    """Land 40-170 €/m² for plots; premises let at 6-15 €/m² a month (issue 13)."""
    sites = Site.objects.demo()
    plots = sites.filter(kind=Site.Kind.PLOT)
    premises = sites.exclude(kind=Site.Kind.PLOT)
    assert not plots.exclude(offer_types__contains=["sale"]).exists()
    assert not plots.filter(Q(price_eur_m2__lt=40) | Q(price_eur_m2__gt=170)).exists()
    assert plots.filter(offer_types__contains=["leasehold"]).exists()
    assert not plots.filter(rent_eur_m2_month__isnull=False).exists()
    assert not premises.exclude(offer_types__contains=["rent"]).exists()
    rents = premises.filter(rent_eur_m2_month__isnull=False)
    assert rents.count() > 100
    assert not rents.filter(Q(rent_eur_m2_month__lt=6) | Q(rent_eur_m2_month__gt=15)).exists()
    offices = rents.filter(kind=Site.Kind.OFFICE).aggregate(a=Avg("rent_eur_m2_month"))["a"]
    halls = rents.filter(kind=Site.Kind.LOGISTICS).aggregate(a=Avg("rent_eur_m2_month"))["a"]
    assert offices > halls
    assert premises.filter(service_charges_eur_m2_month__isnull=False).count() == premises.count()
    assert sites.filter(commission_free=True).exists()
    assert sites.filter(commission_free=False).exists()
    assert not sites.filter(restriction_class="none").exclude(restrictions=[]).exists()
    assert not sites.exclude(restriction_class="none").filter(restrictions=[]).exists()
    assert not sites.exclude(restriction_class="none").filter(restriction_notes="").exists()
    assert set(sites.values_list("partner_ref", flat=True)) == {
        f"DEMO-{number:06d}" for number in range(1, 601)
    }
    assert all("Demo" in description for description in sites.values_list("description", flat=True))
    assert not sites.exclude(postcode=F("municipality__postcode")).exists()
    assert not sites.exclude(contact_email__endswith=".example.org").exists()
    for site in sites.select_related("organisation", "municipality")[:50]:
        assert site.organisation.name == DEMO_ORGANISATION_NAME.format(
            municipality=site.municipality.name
        )
        assert site.municipality.name in site.title
    organisations = PartnerOrganisation.objects.filter(name__endswith="(Demo)")
    assert organisations.count() == 53
    assert organisations.filter(municipalities__isnull=False).distinct().count() == 53
    # Distances are stored, so proximity filters work on demo sites at once.
    assert not sites.filter(
        Q(distance_to_station_m__isnull=True) | Q(distance_to_rail_line_m__isnull=True)
    ).exists()


def test_geometries_lie_in_their_municipality_apart_from_each_other_and_the_railway(demo_sites):
    assert not Site.objects.exclude(geom__within=F("municipality__geom")).exists()
    assert not scalar("SELECT count(*) FROM properties_site WHERE NOT ST_IsValid(geom)")
    assert not scalar(
        "SELECT count(*) FROM properties_site a JOIN properties_site b "
        "ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"
    )
    assert not scalar(
        "SELECT count(*) FROM properties_site s JOIN geodata_layerfeature f "
        "ON ST_DWithin(f.geom, s.geom, %s) "
        "JOIN geodata_layer l ON l.id = f.layer_id AND l.slug = 'rail_lines'",
        [RAIL_CLEARANCE_M - 0.01],
    )


def test_same_seed_same_sites_other_seed_other_sites(reference_data):
    sites_generate_demo(count=300, seed=3)
    first = fingerprint()
    sites_generate_demo(count=300, seed=3, replace=True)
    assert Site.objects.count() == 300
    assert fingerprint() == first
    sites_generate_demo(count=300, seed=4, replace=True)
    assert fingerprint() != first


def test_adding_and_deleting_demo_sites_leaves_real_sites_alone(reference_data):
    real = SiteFactory(municipality=Municipality.objects.get(ags="05113000"), area_m2=40_000)
    sites_generate_demo(count=100, seed=1)
    sites_generate_demo(count=100, seed=2)
    demo = Site.objects.demo()
    assert demo.count() == 200
    assert demo.values("partner_ref").distinct().count() == 200
    assert not demo.filter(geom__intersects=real.geom).exists()
    assert not scalar(
        "SELECT count(*) FROM properties_site a JOIN properties_site b "
        "ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"
    )
    assert sites_delete_demo() == 200
    assert list(Site.objects.all()) == [real]


def test_command_if_empty_loads_only_once_and_replace_regenerates(reference_data):
    out = StringIO()
    call_command("generate_demo_sites", "--count", "120", "--if-empty", stdout=out)
    assert Site.objects.demo().count() == 120
    assert "generated 120 demo sites" in out.getvalue()
    refs = set(Site.objects.values_list("pk", flat=True))

    out = StringIO()
    call_command("generate_demo_sites", "--count", "120", "--if-empty", stdout=out)
    assert "nothing generated" in out.getvalue()
    assert set(Site.objects.values_list("pk", flat=True)) == refs

    out = StringIO()
    call_command("generate_demo_sites", "--count", "80", "--replace", stdout=out)
    assert Site.objects.demo().count() == 80
    assert not refs & set(Site.objects.values_list("pk", flat=True))
    assert "replaced 120 demo sites with 80" in out.getvalue()


def test_replacing_demo_sites_takes_the_demo_inquiries_offering_them_along(reference_data):
    """Offered sites are protected; demo inquiries' offers name demo sites, so deleting the
    demo sites first deletes the demo inquiries. A real offer of a demo site stops it."""
    from accounts.models import User
    from proposals.models import Inquiry
    from proposals.services.demo import inquiries_generate_demo
    from proposals.services.offers import offer_create
    from tests.factories import InquiryFactory, UserFactory

    UserFactory(role=User.Role.STAFF, username="staff")
    sites_generate_demo(count=150, seed=3)
    inquiries_generate_demo(count=12, seed=3)
    assert Inquiry.objects.demo().filter(offers__items__isnull=False).exists()

    call_command("generate_demo_sites", "--count", "100", "--replace", stdout=StringIO())
    assert Site.objects.demo().count() == 100
    assert not Inquiry.objects.demo().exists()

    real = InquiryFactory()
    offer_create(
        inquiry=real,
        site_ids=[Site.objects.demo().published().first().pk],
        acting_user=User.objects.get(username="staff"),
    )
    with pytest.raises(CommandError, match="part of offers of real inquiries"):
        call_command("generate_demo_sites", "--delete", stdout=StringIO())
    assert Site.objects.demo().count() == 100


@pytest.fixture
def lattice_sites(reference_data, monkeypatch) -> int:
    """A benchmark-sized set in miniature: beyond DRAWN_MAX (here 40) the sites are placed
    on lattices; the references past DEMO-999999 (a million sites) keep their seventh digit."""
    monkeypatch.setattr(demo_module, "DRAWN_MAX", 40)
    real_last = demo_module._last_demo_ref_number
    monkeypatch.setattr(demo_module, "_last_demo_ref_number", lambda: real_last() + 999_950)
    return sites_generate_demo(count=1200, seed=3)


def test_benchmark_sized_sets_are_realistic_apart_and_inside(lattice_sites):
    """The lattice way keeps what the drawn way promises: every municipality, the kinds at
    their shares, each site inside its municipality, clear of the others and of the railway."""
    demo = Site.objects.demo()
    assert lattice_sites == demo.count() == 1200
    assert demo.values("partner_ref").distinct().count() == 1200
    assert demo.filter(partner_ref="DEMO-999951").exists()
    assert demo.filter(partner_ref__regex=r"^DEMO-[0-9]{7}$").count() == 1200 - 49
    assert demo.values("municipality").distinct().count() == 53
    assert 0.5 < demo.filter(kind=Site.Kind.PLOT).count() / 1200 < 0.7
    assert set(demo.values_list("kind", flat=True)) == set(Site.Kind.values)
    assert set(demo.values_list("status", flat=True)) == set(Site.Status.values)
    assert scalar(
        "SELECT count(*) FROM properties_site WHERE kind <> 'plot' AND GeometryType(geom) = 'POINT'"
    )
    assert not scalar(
        "SELECT count(*) FROM properties_site WHERE kind = 'plot' AND GeometryType(geom) <> 'POLYGON'"
    )
    assert not demo.exclude(geom__within=F("municipality__geom")).exists()
    assert not scalar("SELECT count(*) FROM properties_site WHERE NOT ST_IsValid(geom)")
    assert not scalar(
        "SELECT count(*) FROM properties_site a JOIN properties_site b "
        "ON a.id < b.id AND ST_DWithin(a.geom, b.geom, %s)",
        [demo_module.SITE_GAP_M - 0.01],
    )
    assert not scalar(
        "SELECT count(*) FROM properties_site s JOIN geodata_layerfeature f "
        "ON ST_DWithin(f.geom, s.geom, %s) "
        "JOIN geodata_layer l ON l.id = f.layer_id AND l.slug = 'rail_lines'",
        [RAIL_CLEARANCE_M - 0.01],
    )
    # Offer types, prices and organisations as for drawn sites.
    assert not demo.filter(kind=Site.Kind.PLOT).exclude(offer_types__contains=["sale"]).exists()
    assert demo.filter(rent_eur_m2_month__isnull=False).exists()
    for site in demo.select_related("organisation", "municipality")[:20]:
        assert site.organisation.name == DEMO_ORGANISATION_NAME.format(
            municipality=site.municipality.name
        )


def test_benchmark_sized_sets_carry_the_distances_the_service_computes(lattice_sites):
    """The distances are written with the sites, and equal (to the bit) what
    sites_refresh_distances stores for the same sites."""
    from geodata.layers import DISTANCE_FIELDS
    from properties.services.proximity import sites_refresh_distances

    generated = list(Site.objects.order_by("pk").values_list("pk", *DISTANCE_FIELDS))
    assert not Site.objects.filter(distances_computed_at__isnull=True).exists()
    assert not Site.objects.filter(
        Q(distance_to_station_m__isnull=True) | Q(distance_to_rail_line_m__isnull=True)
    ).exists()
    Site.objects.update(**dict.fromkeys(DISTANCE_FIELDS, None))
    sites_refresh_distances()
    assert list(Site.objects.order_by("pk").values_list("pk", *DISTANCE_FIELDS)) == generated


def test_benchmark_sized_sets_are_the_same_for_the_same_seed(reference_data, monkeypatch):
    monkeypatch.setattr(demo_module, "DRAWN_MAX", 40)
    sites_generate_demo(count=500, seed=5)
    first = fingerprint()
    sites_generate_demo(count=500, seed=5, replace=True)
    assert fingerprint() == first
    sites_generate_demo(count=500, seed=6, replace=True)
    assert fingerprint() != first


def test_bulk_load_rebuilds_the_indexes_and_foreign_keys(reference_data, monkeypatch):
    """From BULK_LOAD_MIN sites the site table's indexes and foreign keys are dropped for the
    insert and made again from their own definitions: the same set afterwards."""

    def definitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = 'properties_site'::regclass ORDER BY 1"
            )
            indexes = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'properties_site'::regclass ORDER BY 1"
            )
            return indexes, cursor.fetchall()

    before = definitions()
    monkeypatch.setattr(demo_module, "BULK_LOAD_MIN", 10)
    sites_generate_demo(count=120, seed=2)
    assert definitions() == before
    assert Site.objects.demo().count() == 120
