"""The bulk upload from the command line: the same core as the partner workspace."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.models import PartnerOrganisation
from geodata.importers.sources import ALLOWED_SRIDS
from properties.services.upload import (
    UploadError,
    UploadRejected,
    UploadReport,
    sites_upload_commit,
    sites_upload_plan,
)

EXIT_REJECTED = 2


class Command(BaseCommand):
    help = (
        "Checks a file of sites (GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX) for a "
        "partner organisation and, with --commit, writes it. --json prints one JSON object: "
        "the counts (rows, create, update, unchanged, reject, missing), committed, and the "
        "rows with their stored values. Exit code 1: the file is refused; 2: rows are rejected "
        "and --commit without --valid-only wrote nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--organisation", type=int, required=True, help="organisation id")
        parser.add_argument(
            "--srid", type=int, choices=ALLOWED_SRIDS, help="declare the file's CRS (EPSG code)"
        )
        parser.add_argument("--commit", action="store_true", help="write (default: dry run)")
        parser.add_argument(
            "--valid-only", action="store_true", help="with --commit: write the valid rows"
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--source", default="", help="name of the partner's list (scopes 'missing')"
        )
        parser.add_argument(
            "--language", choices=["de", "en"], help="language of the messages (default: en)"
        )

    def handle(self, *args, **options):
        with translation.override(options["language"] or "en"):
            self._handle(options)

    def _handle(self, options):
        organisation = PartnerOrganisation.objects.filter(pk=options["organisation"]).first()
        if organisation is None:
            self._fail(options, f"no partner organisation with id {options['organisation']}")
        arguments = {
            "path": options["path"],
            "organisation": organisation,
            "acting_user": None,
            "declared_srid": options["srid"],
            "source_name": options["source"],
        }
        rejected = False
        try:
            if options["commit"]:
                report = sites_upload_commit(**arguments, valid_only=options["valid_only"])
            else:
                report = sites_upload_plan(**arguments)
        except UploadRejected as exc:
            report, rejected = exc.report, True
        except UploadError as exc:
            self._fail(options, str(exc))
        self._print(report, options)
        if rejected:
            raise CommandError(
                f"{report.counts['reject']} rows are rejected: nothing was written "
                "(fix them, or commit the valid rows with --valid-only)",
                returncode=EXIT_REJECTED,
            )

    def _fail(self, options, message: str):
        if options["json"]:
            self.stdout.write(json.dumps({"error": message, "committed": False}))
        raise CommandError(message)

    def _print(self, report: UploadReport, options) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(report.to_json(), ensure_ascii=False))
            return
        counts = report.counts
        for row in report.rows:
            if row.messages or row.changes or row.action == "reject":
                details = [*row.messages, *(f"{c.label}: {c.old} → {c.new}" for c in row.changes)]
                self.stdout.write(
                    f"{row.row_label} {row.partner_ref or '-'}: {row.action}: {'; '.join(details)}"
                )
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        for site in report.missing:
            self.stdout.write(
                f"not in this upload: {site.partner_ref} {site.title} ({site.status})"
            )
        self.stdout.write(
            f"{report.filename}: {len(report.rows)} rows, {counts['create']} create, "
            f"{counts['update']} update, {counts['unchanged']} unchanged, "
            f"{counts['reject']} reject, {counts['missing']} missing; "
            + ("committed" if report.committed else "nothing written")
        )
