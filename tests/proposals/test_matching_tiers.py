"""The narrowed matching (tiers, must-have candidates, counted parts) returns exactly what
judging every published site returns: same totals, same sites, same order, same verdicts.

A mixed set of sites (kinds, areas, categories, prices, dates, rail, in and around the
wanted towns) and inquiries that take each path: the perfect tier filling the list, the
top excluded tier filling it, sites failing one must-have only, and the full fallback;
every inquiry at several list lengths, so that each tier is both enough and too short."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from geodata.models import Municipality
from properties.models import Site
from proposals.matching import (
    _inquiry_matches_judging_all,
    inquiry_match_counts,
    inquiry_matches,
)
from proposals.models import Criterion
from tests.factories import InquiryFactory, SiteFactory

pytestmark = pytest.mark.django_db

KINDS = [Site.Kind.PLOT, Site.Kind.HALL, Site.Kind.LOGISTICS, Site.Kind.OFFICE]
CATEGORIES = [Site.PlanningCategory.GE, Site.PlanningCategory.GI, Site.PlanningCategory.MI]


@pytest.fixture
def mixed_sites(reference_data) -> list[Site]:
    rng = random.Random(7)
    towns = list(
        Municipality.objects.filter(
            name__in=["Essen", "Bochum", "Gelsenkirchen", "Mülheim an der Ruhr"]
        )
    )
    sites: list[Site] = []
    for n in range(48):
        area = rng.choice([3_000, 9_500, 10_000, 12_000, 20_000, 29_000, 33_000, 60_000])
        divisible = rng.random() < 0.2
        sites.append(
            SiteFactory.create(
                title=f"Site {n}",
                municipality=towns[n % len(towns)],
                area_m2=area,
                kind=rng.choice(KINDS),
                planning_category=rng.choice(CATEGORIES),
                price_eur_m2=rng.choice([None, Decimal("60"), Decimal("95"), Decimal("105")]),
                offer_types=rng.choice([["sale"], ["rent"], ["sale", "rent"]]),
                available_from=rng.choice(
                    [None, datetime.date(2026, 3, 1), datetime.date(2027, 1, 1)]
                ),
                has_rail_siding=rng.random() < 0.3,
                is_divisible=divisible,
                min_divisible_m2=area / 4 if divisible else None,
                max_divisible_m2=area / 2 if divisible else None,
                status=rng.choice([Site.Status.PUBLISHED] * 5 + [Site.Status.DRAFT]),
            )
        )
    # Distances set by hand: some within, some near, some beyond, some unknown.
    for site in sites:
        Site.objects.filter(pk=site.pk).update(
            distance_to_station_m=rng.choice([None, 1_000.0, 3_200.0, 4_000.0, 9_000.0]),
            distance_to_junction_m=rng.choice([None, 2_000.0, 6_000.0]),
        )
    return sites


def _drawn_around(town: Municipality, half_m: float) -> MultiPolygon:
    centre = town.geom.point_on_surface
    box = Polygon.from_bbox(
        (centre.x - half_m, centre.y - half_m, centre.x + half_m, centre.y + half_m)
    )
    box.srid = 25832
    return MultiPolygon(box, srid=25832)


def _inquiries(essen: Municipality) -> list:
    bochum = Municipality.objects.get(name="Bochum")
    gelsenkirchen = Municipality.objects.get(name="Gelsenkirchen")
    all_hard = InquiryFactory(kinds=[Site.Kind.PLOT], area_min_m2=10_000, area_max_m2=30_000)
    soft_location = InquiryFactory(
        kinds=[Site.Kind.HALL, Site.Kind.LOGISTICS],
        area_min_m2=5_000,
        budget_max_eur_m2=Decimal("100"),
        max_distance_station_m=3_000,
        hard_criteria=[Criterion.KIND, Criterion.AREA],
    )
    soft_location.municipalities.set([essen, bochum])
    hard_location = InquiryFactory(
        kinds=[Site.Kind.PLOT, Site.Kind.HALL],
        area_min_m2=5_000,
        area_of_interest=_drawn_around(gelsenkirchen, 2_000),
        hard_criteria=[Criterion.LOCATION],
    )
    hard_location.municipalities.set([essen])
    many = InquiryFactory(
        kinds=[Site.Kind.PLOT, Site.Kind.LOGISTICS],
        area_min_m2=9_000,
        area_max_m2=40_000,
        planning_categories=[Site.PlanningCategory.GE],
        budget_max_eur_m2=Decimal("100"),
        available_by=datetime.date(2026, 6, 1),
        area_of_interest=_drawn_around(essen, 8_000),
        max_distance_station_m=3_500,
        max_distance_junction_m=3_000,
        needs_rail_siding=True,
    )
    rail_and_budget_hard = InquiryFactory(
        kinds=[Site.Kind.PLOT],
        area_min_m2=9_000,
        budget_max_eur_m2=Decimal("90"),
        needs_rail_siding=True,
        hard_criteria=[Criterion.RAIL_SIDING, Criterion.BUDGET, Criterion.STATION],
        max_distance_station_m=2_000,
    )
    nothing_stated = InquiryFactory(
        kinds=[], area_min_m2=None, area_max_m2=None, planning_categories=[]
    )
    return [all_hard, soft_location, hard_location, many, rail_and_budget_hard, nothing_stated]


def _snapshot(result) -> tuple:
    return (
        result.ranked_total,
        result.excluded_total,
        result.considered,
        [m.as_json() for m in result.ranked],
        [m.as_json() for m in result.excluded],
    )


def test_the_tiers_return_what_judging_every_site_returns(essen, mixed_sites):
    """Every inquiry at several list lengths (one set of sites: building it is the slow
    part), and its counts alone."""
    for inquiry in _inquiries(essen):
        for limit in (1, 3, 10, 50):
            narrowed = inquiry_matches(inquiry, limit=limit)
            reference = _inquiry_matches_judging_all(inquiry, limit=limit)
            assert _snapshot(narrowed) == _snapshot(reference), (inquiry.pk, limit)
        reference = _inquiry_matches_judging_all(inquiry, limit=0)
        assert inquiry_match_counts(inquiry) == (
            reference.ranked_total,
            reference.excluded_total,
        )


def test_a_site_inside_a_wanted_town_but_filed_under_another_is_counted_near(essen):
    """The location's near part is found from a zone around the wanted towns: a site lying
    in the wanted town while filed under its neighbour (a boundary data fault) is still a
    near miss at 0 km, and counted as ranked when the location is a must-have."""
    bochum = Municipality.objects.get(name="Bochum")
    inquiry = InquiryFactory(kinds=[], area_min_m2=None, area_max_m2=None, planning_categories=[])
    inquiry.hard_criteria = [Criterion.LOCATION]
    inquiry.save()
    inquiry.municipalities.set([essen])
    site = SiteFactory(municipality=bochum, title="Filed under Bochum")
    SiteFactory(municipality=essen, title="In Essen")
    Site.objects.filter(pk=site.pk).update(
        geom=Polygon.from_bbox(essen.geom.point_on_surface.buffer(50).extent)
    )
    reference = _inquiry_matches_judging_all(inquiry, limit=10)
    assert _snapshot(inquiry_matches(inquiry, limit=10)) == _snapshot(reference)
    assert inquiry_match_counts(inquiry) == (reference.ranked_total, reference.excluded_total)
