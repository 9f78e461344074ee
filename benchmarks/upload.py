"""Benchmark of the partner bulk upload: a generated GeoJSON of N non-overlapping squares
inside one municipality, timed through plan (dry run), commit (all created), re-upload (all
unchanged) and a commit with a tenth of the rows changed.

Everything runs inside one transaction that is rolled back at the end, so the database the
settings point at is left as it was.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.utils import timezone

from geodata.models import Municipality
from properties.models import PartnerOrganisation
from properties.services.upload import UploadReport, sites_upload_commit, sites_upload_plan

RESULTS_PATH = Path(settings.BASE_DIR) / "benchmarks" / "results" / "upload.md"
SIDE_M = 40.0
SPACING_M = 60.0


def squares_inside(municipality: Municipality, count: int) -> list[Polygon]:
    """`count` squares on a grid, each well inside the municipality, none overlapping."""
    inner = municipality.geom.buffer(-2 * SPACING_M).prepared
    xmin, ymin, xmax, ymax = municipality.geom.extent
    found: list[Polygon] = []
    y = ymin
    while y < ymax and len(found) < count:
        x = xmin
        while x < xmax and len(found) < count:
            square = Polygon.from_bbox((x, y, x + SIDE_M, y + SIDE_M))
            square.srid = municipality.geom.srid
            if inner.contains(square):
                found.append(square)
            x += SPACING_M
        y += SPACING_M
    if len(found) < count:
        raise RuntimeError(f"only {len(found)} squares fit into {municipality}")
    return found


def write_geojson(path: Path, squares: list[Polygon], *, changed_every: int = 0) -> Path:
    features = []
    for number, square in enumerate(squares, start=1):
        title = f"Benchmark-Fläche {number}"
        if changed_every and number % changed_every == 0:
            title += " (geändert)"
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"B-{number:06d}",
                    "Bezeichnung": title,
                    "Art": "Grundstück",
                    "Gebietsart": "GE",
                    "Planungsrecht": "rechtskräftig",
                    "Eigentum": "öffentlich",
                    "Preis": 85,
                },
                "geometry": json.loads(square.transform(4326, clone=True).json),
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _timed(step: Callable[[], UploadReport]) -> tuple[float, UploadReport]:
    started = time.perf_counter()
    report = step()
    return time.perf_counter() - started, report


def run(*, count: int = 10_000, ags: str = "05113000") -> dict:
    municipality = Municipality.objects.get(ags=ags)
    results: dict = {
        "measured_at": timezone.now().isoformat(timespec="seconds"),
        "features": count,
        "municipality": municipality.name,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "steps": [],
    }
    with tempfile.TemporaryDirectory(prefix="sitefinder-bench-") as tmp, transaction.atomic():
        squares = squares_inside(municipality, count)
        first = write_geojson(Path(tmp) / "sites.geojson", squares)
        changed = write_geojson(Path(tmp) / "changed.geojson", squares, changed_every=10)
        results["file_mb"] = round(first.stat().st_size / 1024**2, 1)
        organisation = PartnerOrganisation.objects.create(name="Benchmark upload (rolled back)")
        organisation.municipalities.add(municipality)

        def plan(path: Path) -> UploadReport:
            return sites_upload_plan(path=path, organisation=organisation, acting_user=None)

        def commit(path: Path) -> UploadReport:
            return sites_upload_commit(path=path, organisation=organisation, acting_user=None)

        steps: list[tuple[str, Callable[[], UploadReport]]] = [
            ("plan (dry run), all new", lambda: plan(first)),
            ("commit, all created", lambda: commit(first)),
            ("re-upload, all unchanged", lambda: commit(first)),
            ("commit, 10 % changed", lambda: commit(changed)),
        ]
        for name, step in steps:
            seconds, report = _timed(step)
            results["steps"].append(
                {"name": name, "seconds": round(seconds, 2), "counts": report.counts}
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            results["postgis"] = cursor.fetchone()[0]
        transaction.set_rollback(True)
    return results


def as_markdown(results: dict) -> str:
    lines = [
        f"# Upload benchmark\n\nMeasured {results['measured_at']} on {results['cpu_count']} cores, "
        f"PostGIS {results['postgis']}: a GeoJSON of {results['features']:,} squares "
        f"({results['file_mb']} MB, EPSG:4326) inside {results['municipality']}.",
        "",
        "| step | seconds | created | updated | unchanged | rejected |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step in results["steps"]:
        counts = step["counts"]
        lines.append(
            f"| {step['name']} | {step['seconds']} | {counts['create']} | {counts['update']} "
            f"| {counts['unchanged']} | {counts['rejected']} |"
        )
    return "\n".join(lines) + "\n"


def write(results: dict) -> Path:
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(as_markdown(results), encoding="utf-8")
    return RESULTS_PATH
