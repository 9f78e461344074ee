"""Benchmark of the partner bulk upload as partners run it: a generated GeoJSON of N
non-overlapping squares inside one municipality is checked (dry run) and committed as a
background job (`UploadJob`, the task `upload_job_run`), each run in a fresh worker process
so its peak memory (max RSS) is the worker's own. The database holds at least
`other_sites` other sites (demo sites are generated to make up the number and kept).

Per size and step: p50 and max wall time and peak RSS over `repeat` runs; every commit
starts from the same state (the benchmark organisation's sites are deleted in between), and
the benchmark organisation is deleted at the end.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.utils import timezone

from geodata.models import Municipality

RESULTS_DIR = Path(settings.BASE_DIR) / "benchmarks" / "results"
ORGANISATION_NAME = "Benchmark upload (deleted afterwards)"
SIDE_M = 30.0
SPACING_M = 45.0


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


def write_geojson(path: Path, squares: list[Polygon]) -> Path:
    """A partner's file in German vocabulary, written feature by feature."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for number, square in enumerate(squares, start=1):
            feature = {
                "type": "Feature",
                "properties": {
                    "id": f"B-{number:06d}",
                    "Bezeichnung": f"Benchmark-Fläche {number}",
                    "Art": "Grundstück",
                    "Gebietsart": "GE",
                    "Planungsrecht": "rechtskräftig",
                    "Eigentum": "kommunal",
                    "Preis": "85,00",
                    "Kontakt": "Wirtschaftsförderung <wf@example.org>",
                },
                "geometry": json.loads(square.transform(4326, clone=True).json),
            }
            out.write(("" if number == 1 else ",\n") + json.dumps(feature, ensure_ascii=False))
        out.write("\n]}\n")
    return path


def _run_in_worker(job) -> dict:
    """Runs the queued job in a fresh Python process (benchmarks/upload_worker.py)."""
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.upload_worker", str(job.pk), str(job.revision)],
        cwd=settings.BASE_DIR,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = finished.stdout.strip().splitlines()
    if finished.returncode or not lines:
        raise RuntimeError(f"the worker failed: {finished.stderr[-3000:]}")
    outcome = json.loads(lines[-1])
    if outcome["status"] != "done":
        raise RuntimeError(f"the upload job failed: {outcome['error']}")
    return outcome


def _delete_sites(organisation) -> None:
    """The benchmark organisation's sites and their history, in two statements (Django's
    cascade would collect 50,000 sites in Python)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM properties_sitechange WHERE site_id IN "
            "(SELECT id FROM properties_site WHERE organisation_id = %s)",
            [organisation.pk],
        )
        cursor.execute("DELETE FROM properties_site WHERE organisation_id = %s", [organisation.pk])


def ensure_other_sites(count: int) -> int:
    from properties.models import Site
    from properties.services.demo import sites_generate_demo

    present = Site.objects.exclude(organisation__name=ORGANISATION_NAME).count()
    if present < count:
        sites_generate_demo(count=count - present, seed=present + 1)
    return Site.objects.exclude(organisation__name=ORGANISATION_NAME).count()


def _summary(name: str, rows: int, runs: list[dict], counts: dict) -> dict:
    seconds = [run["seconds"] for run in runs]
    peaks = [run["peak_mb"] for run in runs]
    return {
        "name": name,
        "rows": rows,
        "runs": len(runs),
        "p50_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
        "peak_mb": round(max(peaks), 1),
        "counts": counts,
    }


def run(
    *,
    sizes: tuple[int, ...] = (10_000, 50_000),
    repeat: int = 3,
    other_sites: int = 100_000,
    ags: str = "05113000",
) -> dict:
    from accounts.models import PartnerOrganisation
    from properties.models import UploadJob

    municipality = Municipality.objects.get(ags=ags)
    results: dict = {
        "measured_at": timezone.now().isoformat(timespec="seconds"),
        "municipality": municipality.name,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_before": round(os.getloadavg()[0], 1),
        "other_sites": ensure_other_sites(other_sites),
        "steps": [],
    }
    PartnerOrganisation.objects.filter(name=ORGANISATION_NAME).delete()
    organisation = PartnerOrganisation.objects.create(name=ORGANISATION_NAME)
    organisation.municipalities.add(municipality)
    try:
        with tempfile.TemporaryDirectory(prefix="sitefinder-bench-") as tmp:
            for size in sizes:
                squares = squares_inside(municipality, size)
                upload_dir = Path(settings.MEDIA_ROOT) / "uploads"
                upload_dir.mkdir(parents=True, exist_ok=True)
                source = write_geojson(Path(tmp) / f"sites-{size}.geojson", squares)
                del squares
                results.setdefault("file_mb", {})[size] = round(source.stat().st_size / 1024**2, 1)
                plans, commits = [], []
                counts: dict = {}
                for _ in range(repeat):
                    stored = upload_dir / f"benchmark-{size}.geojson"
                    stored.write_bytes(source.read_bytes())
                    job = UploadJob.objects.create(
                        organisation=organisation,
                        stored_name=stored.name,
                        filename=source.name,
                        format="GeoJSON",
                        language="de",
                        revision=1,
                    )
                    plans.append(_run_in_worker(job))
                    job.refresh_from_db()
                    counts["plan"] = job.counts
                    UploadJob.objects.filter(pk=job.pk).update(
                        operation=UploadJob.Operation.COMMIT,
                        status=UploadJob.Status.QUEUED,
                        revision=2,
                    )
                    job.refresh_from_db()
                    commits.append(_run_in_worker(job))
                    job.refresh_from_db()
                    counts["commit"] = job.counts
                    _delete_sites(organisation)
                    job.delete()
                    stored.unlink(missing_ok=True)
                results["steps"].append(_summary("dry run", size, plans, counts["plan"]))
                results["steps"].append(_summary("commit", size, commits, counts["commit"]))
                end_to_end = [
                    p["seconds"] + c["seconds"] for p, c in zip(plans, commits, strict=True)
                ]
                results.setdefault("end_to_end_p50_s", {})[size] = round(
                    statistics.median(end_to_end), 2
                )
    finally:
        _delete_sites(organisation)
        organisation.delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        results["postgis"] = cursor.fetchone()[0]
    results["load_average_after"] = round(os.getloadavg()[0], 1)
    return results


def as_markdown(results: dict) -> str:
    lines = [
        f"# Upload benchmark\n\nMeasured {results['measured_at']} on {results['cpu_count']} cores, "
        f"PostGIS {results['postgis']}, with {results['other_sites']:,} other sites in the "
        f"database: GeoJSON files of N squares (EPSG:4326, German vocabulary) inside "
        f"{results['municipality']}, each step run as an upload job in a fresh worker process "
        "(p50 over the runs; peak = the worker's max RSS). Load average (1 min) before / after: "
        f"{results.get('load_average_before')} / {results.get('load_average_after')} — other "
        "work on this shared machine slows every figure.",
        "",
        "| rows | step | runs | p50 s | max s | peak MB | created | updated | unchanged | rejected |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in results["steps"]:
        counts = step["counts"]
        lines.append(
            f"| {step['rows']:,} | {step['name']} | {step['runs']} | {step['p50_s']} "
            f"| {step['max_s']} | {step['peak_mb']} | {counts.get('create', 0)} "
            f"| {counts.get('update', 0)} | {counts.get('unchanged', 0)} "
            f"| {counts.get('reject', 0)} |"
        )
    lines.append("")
    for size, seconds in results.get("end_to_end_p50_s", {}).items():
        lines.append(
            f"- {int(size):,} rows end to end (dry run + commit), p50: {seconds} s "
            f"(file {results['file_mb'][size]} MB)"
        )
    return "\n".join(lines) + "\n"


def write(results: dict, *, name: str = "upload") -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(as_markdown(results), encoding="utf-8")
    return path
