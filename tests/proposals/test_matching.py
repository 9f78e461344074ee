"""The matching engine on hand-checked cases: verdicts, explanations, scores, order."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.gis.geos import MultiPolygon, Point
from django.utils import translation

from geodata.models import Municipality
from properties.models import Site
from properties.presentation import km
from proposals.matching import (
    NEAR_CREDIT_MAX,
    NEAR_CREDIT_MIN,
    Verdict,
    inquiry_match_counts,
    inquiry_matches,
    inquiry_wanted,
    site_match,
)
from proposals.models import Criterion, Inquiry, InquiryEvent
from proposals.services.matching import inquiry_hard_criteria_set, inquiry_match_count_refresh
from tests.factories import InquiryFactory, SiteFactory, UserFactory, square

pytestmark = pytest.mark.django_db

NEEDED_BY = datetime.date(2026, 6, 1)


def _site(title: str, *, area: float = 150_000, distances: dict | None = None, **fields) -> Site:
    site: Site = SiteFactory.create(title=title, area_m2=area, **fields)
    # Fixed distances instead of whatever the bundled layers give the random spot.
    Site.objects.filter(pk=site.pk).update(
        **({"distance_to_station_m": 3_000.0, "distance_to_junction_m": None} | (distances or {}))
    )
    site.refresh_from_db()
    return site


@pytest.fixture
def inquiry(reference_data) -> Inquiry:
    return InquiryFactory(
        kinds=[Site.Kind.PLOT],
        area_min_m2=100_000,
        area_max_m2=200_000,
        planning_categories=[Site.PlanningCategory.GE],
        budget_max_eur_m2=Decimal("100"),
        available_by=NEEDED_BY,
        max_distance_station_m=5_000,
        max_distance_junction_m=5_000,
    )


@pytest.fixture
def sites(essen) -> dict[str, Site]:
    """Sites with one known difference each from the inquiry above (all in Essen)."""
    return {
        "pass": _site("Passt", municipality=essen),
        "divisible": _site(
            "Teilbar",
            area=400_000,
            is_divisible=True,
            min_divisible_m2=50_000,
            max_divisible_m2=200_000,
            municipality=essen,
        ),
        "far": _site("Weit", distances={"distance_to_station_m": 6_500.0}, municipality=essen),
        "on_request": _site(
            "Auf Anfrage", price_eur_m2=None, price_on_request=True, municipality=essen
        ),
        "late": _site("Spät", available_from=datetime.date(2026, 8, 1), municipality=essen),
        "gi": _site("GI", planning_category=Site.PlanningCategory.GI, municipality=essen),
        "small": _site("Klein", area=92_000, municipality=essen),
        "pricey": _site("Teuer", price_eur_m2=Decimal("120"), municipality=essen),
        "tiny": _site("Winzig", area=40_000, municipality=essen),
        "office": _site(
            "Büro", kind=Site.Kind.OFFICE, price_eur_m2=Decimal("120"), municipality=essen
        ),
        "draft": _site("Entwurf", status=Site.Status.DRAFT, municipality=essen),
    }


def _by_criterion(match) -> dict:
    return {r.criterion: r for r in match.results}


def test_ranking_scores_and_exclusions_as_checked_by_hand(inquiry, sites):
    result = inquiry_matches(inquiry)
    titles = [m.site.title for m in result.ranked]
    # Weights kind 3, area 3, planning 3, budget 2, availability 2, junction 1, station 1 =
    # 15; the junction layer is empty everywhere: unknown, half credit (14.5 of 15).
    assert titles == ["Passt", "Teilbar", "Weit", "Auf Anfrage", "Spät", "GI", "Klein", "Teuer"]
    scores = [round(m.score, 2) for m in result.ranked]
    assert scores == [96.67, 96.67, 93.0, 90.0, 88.91, 86.67, 83.67, 83.33]
    assert [m.site.title for m in result.excluded] == ["Winzig", "Büro"]
    assert (result.ranked_total, result.excluded_total, result.considered) == (8, 2, 10)
    office = result.excluded[1]
    assert office.excluded
    assert [r.criterion for r in office.failed_hard] == [Criterion.KIND]
    assert office.failed_hard[0].explanation == ("Office is not one of the kinds wanted (Plot).")
    assert result.excluded[0].failed_hard[0].explanation == (
        "4\u00a0ha gross of at least 10\u00a0ha wanted (60\u00a0% less)."
    )


def test_explanations_name_the_values(inquiry, sites):
    with translation.override("en"):
        matches = {m.site.title: m for m in inquiry_matches(inquiry).ranked}
    passing = _by_criterion(matches["Passt"])
    assert [r.criterion for r in matches["Passt"].results] == [
        "kind",
        "area",
        "planning",
        "budget",
        "availability",
        "junction",
        "station",
    ]
    assert passing["area"].verdict == Verdict.PASS
    assert passing["area"].wanted == "10–20\u00a0ha"
    assert passing["area"].actual == "15\u00a0ha gross"  # no net area stated: the gross
    assert passing["area"].hard and not passing["budget"].hard

    small = _by_criterion(matches["Klein"])["area"]
    assert small.verdict == Verdict.NEAR
    assert small.explanation == "9.2\u00a0ha gross of at least 10\u00a0ha wanted (8\u00a0% less)."

    divisible = _by_criterion(matches["Teilbar"])["area"]
    assert divisible.verdict == Verdict.PASS
    assert "divisible into parts of 5\u00a0ha to 20\u00a0ha" in divisible.explanation

    far = _by_criterion(matches["Weit"])["station"]
    assert far.verdict == Verdict.NEAR
    assert far.explanation == ("6.5\u00a0km of at most 5.0\u00a0km wanted (30\u00a0% more).")

    late = _by_criterion(matches["Spät"])["availability"]
    assert late.verdict == Verdict.NEAR
    assert "about 2 months later" in late.explanation

    gi = _by_criterion(matches["GI"])["planning"]
    assert gi.verdict == Verdict.NEAR
    assert gi.explanation.startswith("GI offered, GE wanted: an industrial area also admits")

    pricey = _by_criterion(matches["Teuer"])["budget"]
    assert pricey.verdict == Verdict.FAIL
    assert pricey.explanation == (
        "120.00\u00a0€/m² of at most 100.00\u00a0€/m² wanted (20\u00a0% more)."
    )

    on_request = _by_criterion(matches["Auf Anfrage"])["budget"]
    assert on_request.verdict == Verdict.UNKNOWN
    assert on_request.actual == "on request"

    junction = passing["junction"]
    assert junction.verdict == Verdict.UNKNOWN
    assert "has no data" in junction.explanation


def test_a_near_miss_never_excludes_and_unknown_never_fails(inquiry, sites):
    inquiry.hard_criteria = [*inquiry.hard_criteria, Criterion.JUNCTION, Criterion.BUDGET]
    inquiry.save()
    result = inquiry_matches(inquiry)
    excluded = [m.site.title for m in result.excluded]
    # Budget now a must-have: the pricey sites fail it; unknown junction and the price on
    # request exclude nobody.
    assert "Teuer" in excluded and "Auf Anfrage" not in excluded
    assert "Klein" not in excluded


def test_site_match_agrees_with_the_ranking(inquiry, sites):
    result = inquiry_matches(inquiry)
    for match in result.ranked + result.excluded:
        single = site_match(inquiry, match.site)
        assert single.results == match.results
        assert single.score == pytest.approx(match.score)
        assert single.excluded == match.excluded
    # Unpublished sites can still be judged on their own (e.g. picked from a search).
    assert site_match(inquiry, sites["draft"]).score == pytest.approx(96.67, abs=0.01)


def test_the_order_is_deterministic(inquiry, sites):
    first = inquiry_matches(inquiry)
    for _ in range(3):
        again = inquiry_matches(inquiry)
        assert [m.site.pk for m in again.ranked] == [m.site.pk for m in first.ranked]
        assert [m.site.pk for m in again.excluded] == [m.site.pk for m in first.excluded]


def test_limit_keeps_the_totals(inquiry, sites):
    result = inquiry_matches(inquiry, limit=2)
    assert [m.site.title for m in result.ranked] == ["Passt", "Teilbar"]
    assert [m.site.title for m in result.excluded] == ["Winzig", "Büro"]
    assert (result.ranked_total, result.excluded_total) == (8, 2)
    counts_only = inquiry_matches(inquiry, limit=0)
    assert (counts_only.ranked, counts_only.ranked_total, counts_only.excluded_total) == ([], 8, 2)


def test_german_explanations_use_german_numbers(inquiry, sites):
    with translation.override("de"):
        matches = {m.site.title: m for m in inquiry_matches(inquiry).ranked}
        small = _by_criterion(matches["Klein"])["area"]
        far = _by_criterion(matches["Weit"])["station"]
        assert str(Criterion.AREA.label) == "Fläche"
    assert small.actual == "9,2\u00a0ha brutto"
    assert "9,2\u00a0ha" in small.explanation and "10\u00a0ha" in small.explanation
    assert far.actual == "6,5\u00a0km"
    assert small.label == "Fläche"


def test_location_by_municipality_and_drawn_area(essen, dortmund):
    centre = essen.geom.point_on_surface
    inside = SiteFactory(title="In Essen", municipality=essen, at=centre)
    elsewhere = SiteFactory(title="In Dortmund", municipality=dortmund)
    near = SiteFactory(
        title="Neben der Zeichnung", municipality=essen, at=Point(centre.x, centre.y + 3_000)
    )
    # A 1 km square 3 km east of the first site: 3,000 − 500 − 70.7 m from its edge.
    drawn = square(Point(centre.x + 3_000, centre.y, srid=25832), 1_000)
    by_area = InquiryFactory(
        kinds=[],
        area_min_m2=None,
        area_max_m2=None,
        planning_categories=[],
        area_of_interest=MultiPolygon(drawn, srid=25832),
    )
    with translation.override("en"):
        results = {
            m.site.title: m
            for m in inquiry_matches(by_area).ranked + inquiry_matches(by_area).excluded
        }
        location = _by_criterion(results["In Essen"])["location"]
    assert location.verdict == Verdict.NEAR
    assert location.actual == "Essen, 2.4\u00a0km"
    assert "2.4\u00a0km outside the location wanted (the area drawn on the map)" in (
        location.explanation
    )
    assert _by_criterion(results["In Dortmund"])["location"].verdict == Verdict.FAIL
    assert results["In Dortmund"].excluded

    by_municipality = InquiryFactory(
        kinds=[],
        area_min_m2=None,
        area_max_m2=None,
        planning_categories=[],
        municipalities=[essen],
    )
    result = inquiry_matches(by_municipality)
    assert {m.site.title for m in result.ranked} == {"In Essen", "Neben der Zeichnung"}
    assert [m.site.title for m in result.excluded] == ["In Dortmund"]
    assert _by_criterion(result.ranked[0])["location"].explanation == (
        "In Essen, one of the municipalities wanted."
    )
    assert elsewhere.pk and inside.pk and near.pk


def test_rail_siding_and_port_access(essen):
    with_siding = SiteFactory(title="Gleis", municipality=essen, has_rail_siding=True)
    SiteFactory(title="Ohne Gleis", municipality=essen)
    inquiry = InquiryFactory(
        kinds=[],
        area_min_m2=None,
        area_max_m2=None,
        planning_categories=[],
        needs_rail_siding=True,
    )
    result = inquiry_matches(inquiry)
    assert [m.site.pk for m in result.ranked] == [with_siding.pk]
    assert result.excluded[0].failed_hard[0].explanation == "The site has no rail siding."
    assert result.ranked[0].score == 100


def test_no_criteria_ranks_everything_by_id(essen):
    first = SiteFactory(municipality=essen)
    second = SiteFactory(municipality=essen)
    inquiry = InquiryFactory(kinds=[], area_min_m2=None, area_max_m2=None, planning_categories=[])
    result = inquiry_matches(inquiry)
    assert [m.site.pk for m in result.ranked] == [first.pk, second.pk]
    assert result.ranked[0].results == [] and result.ranked[0].score == 100


def test_as_json_is_a_json_safe_snapshot(inquiry, sites):
    import json

    match = site_match(inquiry, sites["small"])
    snapshot = json.loads(json.dumps(match.as_json()))
    assert snapshot["site"] == sites["small"].pk
    area = next(r for r in snapshot["results"] if r["criterion"] == "area")
    assert area["verdict"] == "near" and area["hard"] is True
    assert area["explanation"] == "9.2\u00a0ha gross of at least 10\u00a0ha wanted (8\u00a0% less)."


def test_inquiry_wanted_summarises_the_profile(inquiry):
    with translation.override("en"):
        wanted = {c: (label, text, hard) for c, label, text, hard in inquiry_wanted(inquiry)}
    assert wanted["area"] == ("Area", "10–20\u00a0ha", True)
    assert wanted["budget"][1] == "at most 100.00\u00a0€/m²"
    assert wanted["station"][1] == "at most 5.0\u00a0km"


def test_match_count_refresh_stores_the_count(inquiry, sites):
    assert inquiry_match_count_refresh(inquiry=inquiry) == 8
    inquiry.refresh_from_db()
    assert inquiry.match_count == 8 and inquiry.matched_at is not None


def test_hard_criteria_set_changes_exclusion_and_records_it(inquiry, sites):
    staff = UserFactory(role="staff")
    inquiry_hard_criteria_set(inquiry=inquiry, criteria=["area"], acting_user=staff)
    inquiry.refresh_from_db()
    assert inquiry.hard_criteria == ["area"]
    assert inquiry.match_count == 9  # the office is ranked now
    event = InquiryEvent.objects.get(inquiry=inquiry, kind=InquiryEvent.Kind.NOTE)
    assert event.actor == staff and event.data["hard_criteria"] == ["area"]
    result = inquiry_matches(inquiry)
    assert "Büro" in [m.site.title for m in result.ranked]


def test_hard_criteria_set_rejects_unknown_criteria(inquiry):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        inquiry_hard_criteria_set(inquiry=inquiry, criteria=["bogus"], acting_user=None)
    inquiry.refresh_from_db()
    assert "bogus" not in inquiry.hard_criteria


# --- location: near misses measured against the wanted municipalities and the drawn area ---

LOCATION_ONLY: dict[str, object] = {
    "kinds": [],
    "area_min_m2": None,
    "area_max_m2": None,
    "planning_categories": [],
}
DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1), (0.7, 0.7), (-0.7, 0.7), (-0.7, -0.7), (0.7, -0.7))


def _site_outside(title: str, wanted, distance_m: float, *, side_m: float = 100, **fields) -> Site:
    """A square site whose edge lies `distance_m` (up to 25 m more) outside `wanted`, wholly
    inside one municipality of the region: found by walking out of `wanted` in a few
    directions (the reference data are real boundaries, so no spot is hard-coded)."""
    start = wanted.point_on_surface
    for dx, dy in DIRECTIONS:
        for step in range(0, 40_000, 25):
            centre = Point(start.x + dx * step, start.y + dy * step, srid=25832)
            spot = square(centre, side_m)
            if wanted.distance(spot) >= distance_m:
                break
        else:
            continue
        municipality = Municipality.objects.filter(geom__contains=spot).first()
        if municipality is not None:
            return SiteFactory(
                title=title, municipality=municipality, at=centre, area_m2=side_m**2, **fields
            )
    raise AssertionError(f"no spot {distance_m} m outside the wanted location")


def _near_score(distance_m: float) -> float:
    """The score of a site judged on its location alone, a near miss at this distance."""
    return 100 * (NEAR_CREDIT_MAX - (NEAR_CREDIT_MAX - NEAR_CREDIT_MIN) * distance_m / 5_000)


def _judged(inquiry: Inquiry) -> dict:
    """Every published site's match by title; each also judged alone by site_match, which
    must agree."""
    result = inquiry_matches(inquiry, limit=1_000)
    matches = {m.site.title: m for m in result.ranked + result.excluded}
    assert result.considered == Site.objects.published().count() == len(matches)
    for match in matches.values():
        single = site_match(inquiry, match.site)
        assert single.as_json() == match.as_json()
        assert single.score == pytest.approx(match.score, abs=1e-9)
    counts = inquiry_matches(inquiry, limit=0)
    assert (counts.ranked_total, counts.excluded_total) == (
        len(result.ranked),
        len(result.excluded),
    )
    assert inquiry_match_counts(inquiry) == (len(result.ranked), len(result.excluded))
    return matches


def test_a_site_just_outside_a_wanted_municipality_is_a_near_miss_at_its_distance(essen):
    inside = SiteFactory(title="Drinnen", municipality=essen)
    near = _site_outside("Knapp daneben", essen.geom, 1_200)
    far = _site_outside("Weit weg", essen.geom, 6_000)
    inquiry = InquiryFactory(
        **LOCATION_ONLY, municipalities=[essen], hard_criteria=[Criterion.LOCATION]
    )
    with translation.override("en"):
        matches = _judged(inquiry)
    distance = essen.geom.distance(near.geom)  # GEOS in Python: an independent measure
    assert 1_200 <= distance <= 1_225
    location = _by_criterion(matches["Knapp daneben"])["location"]
    assert location.verdict == Verdict.NEAR
    with translation.override("en"):
        assert location.actual == f"{near.municipality.name}, {km(distance)}"
        assert location.explanation == (
            f"In {near.municipality.name}, {km(distance)} outside the location wanted (Essen)."
        )
    assert matches["Knapp daneben"].score == pytest.approx(_near_score(distance), abs=1e-6)
    assert not matches["Knapp daneben"].excluded  # a near miss never excludes

    # More than 5 km outside: the must-have location fails and excludes the site.
    far_location = _by_criterion(matches["Weit weg"])["location"]
    assert far_location.verdict == Verdict.FAIL
    assert "more than 5.0\u00a0km from the location wanted (Essen)" in far_location.explanation
    assert matches["Weit weg"].excluded and matches["Weit weg"].score == 0
    assert far.municipality != essen

    assert _by_criterion(matches["Drinnen"])["location"].verdict == Verdict.PASS
    assert matches["Drinnen"].score == 100
    assert inside.pk


def test_near_misses_measure_to_the_nearest_of_several_municipalities(essen):
    bochum = Municipality.objects.get(name="Bochum")
    wanted = essen.geom.union(bochum.geom)
    SiteFactory(title="In Bochum", municipality=bochum)
    near = _site_outside("Neben Bochum oder Essen", wanted, 2_000)
    far = _site_outside("Fern von beiden", wanted, 5_300)
    inquiry = InquiryFactory(**LOCATION_ONLY, municipalities=[essen, bochum])
    with translation.override("en"):
        matches = _judged(inquiry)
        location = _by_criterion(matches["Neben Bochum oder Essen"])["location"]
        assert location.wanted == "Bochum, Essen"
        assert _by_criterion(matches["In Bochum"])["location"].explanation == (
            "In Bochum, one of the municipalities wanted."
        )
    distance = min(essen.geom.distance(near.geom), bochum.geom.distance(near.geom))
    assert location.verdict == Verdict.NEAR
    with translation.override("en"):
        assert location.actual == f"{near.municipality.name}, {km(distance)}"
    assert matches["Neben Bochum oder Essen"].score == pytest.approx(
        _near_score(distance), abs=1e-6
    )
    assert _by_criterion(matches["Fern von beiden"])["location"].verdict == Verdict.FAIL
    assert far.municipality not in (essen, bochum)


def test_municipality_and_drawn_area_together(essen, dortmund):
    centre = dortmund.geom.point_on_surface
    drawn = square(Point(centre.x, centre.y, srid=25832), 1_000)
    in_drawn = SiteFactory(title="In der Zeichnung", municipality=dortmund, at=centre)
    # 2.75 km east of the drawn square's centre: its edge is 2,750 − 500 − 50 m away.
    beside_drawn = SiteFactory(
        title="Neben der Zeichnung",
        municipality=dortmund,
        at=Point(centre.x + 2_750, centre.y, srid=25832),
        area_m2=10_000,
    )
    beside_essen = _site_outside("Neben Essen", essen.geom, 3_000)
    inquiry = InquiryFactory(
        **LOCATION_ONLY,
        municipalities=[essen],
        area_of_interest=MultiPolygon(drawn, srid=25832),
    )
    with translation.override("en"):
        matches = _judged(inquiry)
        results = {title: _by_criterion(m)["location"] for title, m in matches.items()}
    assert results["In der Zeichnung"].verdict == Verdict.PASS
    assert results["In der Zeichnung"].explanation == "In the area drawn on the map."
    assert results["In der Zeichnung"].wanted == "Essen, the area drawn on the map"

    assert drawn.distance(beside_drawn.geom) == pytest.approx(2_200)
    assert results["Neben der Zeichnung"].verdict == Verdict.NEAR
    assert matches["Neben der Zeichnung"].score == pytest.approx(_near_score(2_200), abs=1e-6)
    with translation.override("en"):
        assert results["Neben der Zeichnung"].explanation == (
            "In Dortmund, 2.2\u00a0km outside the location wanted "
            "(Essen, the area drawn on the map)."
        )

    distance = min(essen.geom.distance(beside_essen.geom), drawn.distance(beside_essen.geom))
    assert results["Neben Essen"].verdict == Verdict.NEAR
    assert matches["Neben Essen"].score == pytest.approx(_near_score(distance), abs=1e-6)
    assert in_drawn.pk


def test_a_site_touching_a_wanted_municipality_from_outside_is_a_near_miss_at_zero(essen):
    """Lying mostly in a neighbour, the site belongs to it: overlapping Essen is a near
    miss at 0 km, not a pass (a pass goes by the site's municipality)."""
    start = essen.geom.point_on_surface
    for dx, dy in DIRECTIONS:
        spots = (
            Point(start.x + dx * step, start.y + dy * step, srid=25832)
            for step in range(0, 40_000, 10)
        )
        centre = next((p for p in spots if essen.geom.distance(p) >= 40), None)
        if centre is None:
            continue
        spot = square(centre, 200)
        owner = Municipality.objects.containing(spot).first()
        if owner is not None and owner != essen and spot.intersects(essen.geom):
            break
    else:
        raise AssertionError("no spot on Essen's boundary")
    SiteFactory(title="Auf der Grenze", municipality=owner, at=centre, area_m2=40_000)
    inquiry = InquiryFactory(**LOCATION_ONLY, municipalities=[essen])
    with translation.override("en"):
        matches = _judged(inquiry)
    location = _by_criterion(matches["Auf der Grenze"])["location"]
    assert location.verdict == Verdict.NEAR
    with translation.override("en"):
        assert location.actual == f"{owner.name}, < 0.1\u00a0km"
    assert matches["Auf der Grenze"].score == pytest.approx(_near_score(0), abs=1e-6)


def test_unpublished_sites_near_the_location_are_judged_only_on_their_own(essen):
    draft = _site_outside("Entwurf daneben", essen.geom, 1_500, status=Site.Status.DRAFT)
    published = _site_outside("Veröffentlicht daneben", essen.geom, 2_500)
    inquiry = InquiryFactory(**LOCATION_ONLY, municipalities=[essen])
    result = inquiry_matches(inquiry)
    assert [m.site.pk for m in result.ranked] == [published.pk]
    assert result.considered == 1
    single = site_match(inquiry, draft)
    assert single.results[0].verdict == Verdict.NEAR
    assert single.score == pytest.approx(_near_score(essen.geom.distance(draft.geom)), abs=1e-6)
