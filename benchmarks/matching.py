"""Benchmark of the matching engine: `inquiry_matches()` for representative inquiries
against every published site of the database the settings point at.

The inquiries are created inside a transaction that is rolled back at the end, so the
database is left as it was. Each case is timed end to end (profile, ranking query, the
Python explanations of the rows returned) after one warm-up run. Prints p50 / p95 per case
and writes benchmarks/results/matching.md (committed) and matching.json (git-ignored). The
machine's load average is recorded with each case: on a shared machine a high load means
the figures are inflated, so measure again when it is quiet.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import platform
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site
from proposals.matching import _Profile, _scored_sql, inquiry_matches
from proposals.models import Inquiry
from proposals.services.offer_documents import offer_pdf_bytes
from proposals.services.offers import offer_create

from .runner import Case, measure

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BUDGET_MS = 1000.0


def _inquiries() -> list[tuple[str, Inquiry]]:
    essen = Municipality.objects.get(ags="05113000")
    centre = essen.centre or essen.geom.point_on_surface
    drawn = Polygon.from_bbox(
        (centre.x - 6_000, centre.y - 6_000, centre.x + 6_000, centre.y + 6_000)
    )
    drawn.srid = 25832
    common: dict[str, Any] = {"company": "Benchmark (rolled back)", "language": "en"}
    few = Inquiry.objects.create(
        **common, kinds=[Site.Kind.PLOT], area_min_m2=10_000, area_max_m2=50_000
    )
    many = Inquiry.objects.create(
        **common,
        kinds=[Site.Kind.PLOT, Site.Kind.LOGISTICS],
        area_min_m2=20_000,
        area_max_m2=100_000,
        planning_categories=[Site.PlanningCategory.GE, Site.PlanningCategory.GI],
        budget_max_eur_m2=Decimal("120"),
        available_by=timezone.localdate() + datetime.timedelta(days=180),
        area_of_interest=MultiPolygon(drawn, srid=25832),
        max_distance_junction_m=5_000,
        max_distance_station_m=5_000,
        max_distance_airport_m=30_000,
        max_distance_port_m=20_000,
        max_distance_university_m=15_000,
        needs_rail_siding=True,
    )
    by_municipality = Inquiry.objects.create(
        **common,
        kinds=[Site.Kind.PLOT],
        area_min_m2=10_000,
        area_max_m2=30_000,
        planning_categories=[Site.PlanningCategory.GE],
    )
    by_municipality.municipalities.set(
        Municipality.objects.filter(name__in=["Essen", "Bochum", "Gelsenkirchen"])
    )
    large_towns = Inquiry.objects.create(
        **common,
        kinds=[Site.Kind.HALL, Site.Kind.LOGISTICS],
        area_min_m2=5_000,
        budget_max_eur_m2=Decimal("90"),
        max_distance_station_m=3_000,
        hard_criteria=["kind", "area"],
    )
    large_towns.municipalities.set(
        Municipality.objects.filter(name__in=["Dortmund", "Hamm", "Unna", "Werne"])
    )
    dortmund = Municipality.objects.get(ags="05913000")
    beyond = dortmund.centre or dortmund.geom.point_on_surface
    drawn_east = Polygon.from_bbox(
        (beyond.x - 4_000, beyond.y - 4_000, beyond.x + 4_000, beyond.y + 4_000)
    )
    drawn_east.srid = 25832
    both = Inquiry.objects.create(
        **common,
        kinds=[Site.Kind.PLOT, Site.Kind.HALL],
        area_min_m2=5_000,
        area_of_interest=MultiPolygon(drawn_east, srid=25832),
        hard_criteria=["location"],
    )
    both.municipalities.set(Municipality.objects.filter(name__in=["Essen", "Bochum"]))
    return [
        ("few criteria: kind, area", few),
        ("many criteria incl. drawn area, 5 distances, rail", many),
        ("3 municipalities, kind, area, planning", by_municipality),
        ("4 large municipalities (soft location), budget, station", large_towns),
        ("2 municipalities + drawn area (location a must-have), kind, area", both),
    ]


def _explain(inquiry: Inquiry, limit: int) -> str:
    sql, params = _scored_sql(_Profile.of(inquiry), Site.objects.published(), limit)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def run(*, repeat: int = 20, limit: int = 50, explain: bool = False) -> dict:
    results: dict[str, Any] = {
        "measured_at": timezone.now().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "repeat": repeat,
        "limit": limit,
        "sites": Site.objects.count(),
        "published_sites": Site.objects.published().count(),
        "budget_ms": BUDGET_MS,
        "cases": [],
        "explain": {},
    }
    with transaction.atomic():
        inquiries = _inquiries()
        for name, inquiry in inquiries:
            last = inquiry_matches(inquiry, limit=limit)
            load_before = os.getloadavg()[0]
            case = measure(
                name,
                functools.partial(inquiry_matches, inquiry, limit=limit),
                repeat=repeat,
                note=f"{last.ranked_total:,} ranked, {last.excluded_total:,} excluded",
            )
            results["cases"].append(
                asdict(case)
                | {
                    "within_budget": case.p95_ms <= BUDGET_MS,
                    "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                }
            )
            if explain:
                results["explain"][name] = _explain(inquiry, limit)
        # The soft-location inquiry: its matches are many, as for most real inquiries.
        results["workflow"] = [
            asdict(case) for case in _workflow(inquiries[3][1], repeat=max(3, repeat // 2))
        ]
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            results["postgis"] = cursor.fetchone()[0]
        transaction.set_rollback(True)
    return results


def _workflow(inquiry: Inquiry, *, repeat: int) -> list[Case]:
    """Staff's pages and the offer's work around one inquiry, through the test client (no
    network, the same process): what staff wait for between inquiry and offer."""
    staff = User.objects.create_user(username="benchmark-staff", role=User.Role.STAFF)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    site_ids = [match.site.pk for match in inquiry_matches(inquiry, limit=3).ranked]
    offer = offer_create(inquiry=inquiry, site_ids=site_ids, acting_user=staff)
    pages = {
        "matches page (HTML, 50 sites per list)": reverse("inquiry_matches", args=[inquiry.pk]),
        "inquiry page (HTML)": reverse("inquiry_detail", args=[inquiry.pk]),
        "inbox (HTML, first page)": reverse("inbox"),
        "dashboard (HTML)": reverse("staff_dashboard"),
        "offer builder (HTML)": reverse("offer_edit", args=[offer.pk]),
    }
    cases = [
        measure(name, functools.partial(_ok, client, path), repeat=repeat)
        for name, path in pages.items()
    ]
    cases.append(
        measure(
            "offer of 3 sites created, with their verdicts",
            functools.partial(offer_create, inquiry=inquiry, site_ids=site_ids, acting_user=staff),
            repeat=repeat,
        )
    )
    cases.append(
        measure(
            "offer exposé PDF of 3 sites (rendered by the task)",
            functools.partial(offer_pdf_bytes, offer=offer),
            repeat=max(3, repeat // 2),
        )
    )
    return cases


def _ok(client: Client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code}")


def as_markdown(results: dict) -> str:
    lines = [
        "# Matching benchmark\n",
        f"Measured {results['measured_at']} on {results['cpu_count']} cores, PostGIS "
        f"{results['postgis']}: `inquiry_matches(inquiry, limit={results['limit']})` against "
        f"the {results['published_sites']:,} published sites of {results['sites']:,}, "
        f"{results['repeat']} runs per case after a warm-up (profile, ranking query and the "
        f"Python explanations of the rows returned). Budget: p95 ≤ {BUDGET_MS:.0f} ms for "
        f"every case. Load: the machine's 1-minute load average before and after the case, "
        f"this benchmark's own query included (about 1); on {results['cpu_count']} cores, "
        f"much more means other work inflated the figures.",
        "",
        "| case | p50 ms | p95 ms | max ms | within budget | load | result |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for case in results["cases"]:
        load = " → ".join(str(value) for value in case["load"])
        lines.append(
            f"| {case['name']} | {case['p50_ms']} | {case['p95_ms']} | {case['max_ms']} "
            f"| {'yes' if case['within_budget'] else '**no**'} | {load} | {case['note']} |"
        )
    if results.get("workflow"):
        lines += [
            "",
            "## Staff's workflow around the 4-municipality inquiry",
            "",
            "Pages through Django's test client in the same process; the offer and its PDF as "
            "the services and the task run them.",
            "",
            "| case | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {case['name']} | {case['p50_ms']} | {case['p95_ms']} | {case['max_ms']} |"
            for case in results["workflow"]
        ]
    for name, plan in results.get("explain", {}).items():
        lines += ["", f"## EXPLAIN ANALYZE: {name}", "", "```", plan, "```"]
    return "\n".join(lines) + "\n"


def write(results: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "matching.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    path = RESULTS_DIR / "matching.md"
    path.write_text(as_markdown(results), encoding="utf-8")
    return path


def over_budget(results: dict) -> list[Case]:
    """The cases whose p95 exceeds the budget."""
    names = {f.name for f in fields(Case)}
    cases = [Case(**{k: v for k, v in c.items() if k in names}) for c in results["cases"]]
    return [c for c in cases if c.p95_ms > BUDGET_MS]
