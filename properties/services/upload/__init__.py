"""Partner bulk upload: GeoJSON, GeoPackage, zipped Shapefile, CSV and XLSX into sites.

    reading   the file's rows, streamed (GIS formats through the import core's safe
              readers: one allowed GDAL driver per format), and what each column means
    checking  rows parsed and COPY'd into a temporary staging table; every check and the
              create / update / unchanged decision in set-based SQL
    writing   one INSERT … ON CONFLICT for the new and changed rows, their history, and
              the withdrawal of sites gone from the partner's list

`sites_upload_plan` is the dry run: it rolls everything back and returns the report.
`sites_upload_commit` runs the same plan and writes, in one transaction, either every row
(refused with UploadRejected if any row is rejected) or, with valid_only, the valid ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import PartnerOrganisation
from properties.models import UploadMapping

from ..proximity import sites_refresh_distances
from . import checking, reading, writing
from . import vocabulary as vocab
from .checking import MAX_AREA_M2, MAX_PRICE_EUR_M2, MAX_ROWS
from .reading import SUFFIXES
from .rejected import upload_rejected_rows_file
from .report import (
    CREATE,
    REJECTED,
    UNCHANGED,
    UPDATE,
    ColumnReading,
    FieldChange,
    MissingSite,
    Progress,
    UploadError,
    UploadRejected,
    UploadReport,
    UploadRow,
)
from .vocabulary import site_field

if TYPE_CHECKING:
    from accounts.models import User


def sites_upload_plan(
    *,
    path: Path | str,
    organisation: PartnerOrganisation,
    acting_user: User | None,
    declared_srid: int | None = None,
    filename: str | None = None,
    source_name: str = "",
    progress: Progress | None = None,
) -> UploadReport:
    """The dry run: the row-by-row report of what a commit would do. Writes nothing."""
    path = Path(path)
    filename = filename or path.name
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _lift_statement_timeout(cursor)
            report, _fields = _plan(
                cursor, path, organisation, declared_srid, filename, source_name, progress
            )
            cursor.execute("DROP TABLE upload_staging")
            transaction.set_rollback(True)
    except DatabaseError as exc:
        raise UploadError(_database_problem(filename, exc)) from exc
    return report


def sites_upload_commit(
    *,
    path: Path | str,
    organisation: PartnerOrganisation,
    acting_user: User | None,
    declared_srid: int | None = None,
    filename: str | None = None,
    source_name: str = "",
    valid_only: bool = False,
    withdraw_missing: Iterable[int] | str = (),
    progress: Progress | None = None,
) -> UploadReport:
    """Plans the upload and writes it in one transaction: every row, refused with
    UploadRejected (nothing written) if any is rejected; or, with valid_only, every valid
    row (the rejected ones stay in the report). The chosen missing sites (ids of
    report.missing, or "all") are withdrawn in the same transaction."""
    path = Path(path)
    filename = filename or path.name
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                _lift_statement_timeout(cursor)
                report, fields = _plan(
                    cursor, path, organisation, declared_srid, filename, source_name, progress
                )
                if report.counts[REJECTED] and not valid_only:
                    raise UploadRejected(report)
                if not any(row.action != REJECTED for row in report.rows):
                    raise UploadRejected(report)
                report.site_ids = writing.write(
                    cursor, organisation, acting_user, fields, filename, source_name
                )
                cursor.execute("DROP TABLE upload_staging")
            if progress:
                progress("written", len(report.site_ids), len(report.site_ids))
            report.withdrawn_ids = writing.withdraw(report.missing, withdraw_missing, acting_user)
            sites_refresh_distances(site_ids=report.site_ids)
    except DatabaseError as exc:
        raise UploadError(_database_problem(filename, exc)) from exc
    report.committed = True
    return report


# The staging COPY lasts as long as the file is read, and a 50,000-row file's checks take
# tens of seconds: longer than a web request's statement timeout (STATEMENT_TIMEOUT_MS),
# so an upload's own transaction gets this one (0 = none).
UPLOAD_STATEMENT_TIMEOUT_MS = 600_000


def _lift_statement_timeout(cursor) -> None:
    timeout = getattr(settings, "UPLOAD_STATEMENT_TIMEOUT_MS", UPLOAD_STATEMENT_TIMEOUT_MS)
    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(timeout))])


def _database_problem(filename: str, exc: Exception) -> str:
    return _("%(name)s: the database refused the data (%(error)s)") % {
        "name": filename,
        "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
    }


def _mappings(
    organisation: PartnerOrganisation,
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    columns: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    for mapping in UploadMapping.objects.filter(organisation=organisation):
        if mapping.kind == UploadMapping.Kind.COLUMN:
            columns[mapping.source_key] = mapping.field
        else:
            values.setdefault(mapping.field, {})[mapping.source_key] = mapping.value
    return columns, values


def _plan(
    cursor,
    path: Path,
    organisation: PartnerOrganisation,
    declared_srid: int | None,
    filename: str,
    source_name: str,
    progress: Progress | None,
) -> tuple[UploadReport, dict[str, str]]:
    if declared_srid is not None:
        with _source_errors():
            reading.checked_srid(declared_srid)
    source_name = (source_name or "").strip()[:100]
    column_mappings, value_mappings = _mappings(organisation)
    reading.check_file(path)
    with reading.open_source(path, declared_srid, filename) as source:
        plan = reading.plan_columns(source.headers, source.kind, column_mappings)
        if source.kind == reading.TABLE:
            reading.geometry_mode(plan.geometry, declared_srid)
        report = UploadReport(
            filename=filename,
            format=source.format,
            columns=plan.readings,
            notes=[*source.notes, *plan.notes],
            source_name=source_name,
        )
        parser = checking.Parser(source, plan, value_mappings)
        checking.create_staging(cursor)
        count = checking.stage(cursor, source, plan, parser, declared_srid, progress)
        report.unknown_values = parser.unknown
    if count == 0:
        raise UploadError(_("%(name)s: the file holds no rows") % {"name": filename})
    steps = 4
    checking.check_geometry(cursor, report.notes)
    _checked(progress, 1, steps)
    checking.assign_municipality(cursor, organisation)
    _checked(progress, 2, steps)
    checking.check_values(cursor, plan.present)
    _checked(progress, 3, steps)
    fields = {**plan.present, "gross_area_m2": plan.present.get("gross_area_m2", "")}
    checking.decide(cursor, organisation, fields)
    _checked(progress, 4, steps)
    report.rows = _report_rows(cursor, source.kind, fields)
    report.missing = writing.find_missing(cursor, organisation, source_name)
    return report, fields


def _checked(progress: Progress | None, done: int, total: int) -> None:
    if progress:
        progress("checked", done, total)


@contextlib.contextmanager
def _source_errors() -> Iterator[None]:
    """The import core's SourceError (unsafe zip, unreadable file, CRS) as UploadError."""
    try:
        yield
    except reading.SourceError as exc:
        raise UploadError(str(exc)) from exc


def _report_rows(cursor, kind: str, fields: dict[str, str]) -> list[UploadRow]:
    reported = [
        name for name in checking.NAMES if name in fields or name in checking.ALWAYS_REPORTED
    ]
    cursor.execute(
        f"""
        SELECT row_no, coalesce(partner_ref, ''), action, errors || notes, changes,
               jsonb_build_object({", ".join(f"'{n}', {n}" for n in reported)})
        FROM upload_staging ORDER BY row_no
        """,
        [],
    )
    rows = []
    for number, ref, action, messages, changes, values in cursor:
        values = _json(values)
        changes = _json(changes)
        if "price_eur_m2" in values and values["price_eur_m2"] is not None:
            values["price_eur_m2"] = float(values["price_eur_m2"])
        rows.append(
            UploadRow(
                row=number,
                partner_ref=ref,
                action=action,
                messages=list(messages),
                values=values,
                changes=[_change(*change) for change in changes or ()] if action == UPDATE else [],
                row_label=reading.row_label(kind, number),
            )
        )
    return rows


def _json(value: Any) -> Any:
    """Django hands jsonb over as text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _change(name: str, old: Any, new: Any) -> FieldChange:
    if name == "geom":
        return FieldChange(
            "geom",
            str(site_field("geom").verbose_name),
            _("%(area)s m²") % {"area": _display_number(old)},
            _("%(area)s m² (new shape)") % {"area": _display_number(new)},
        )
    return FieldChange(
        name, reading.field_label(name), display_value(name, old), display_value(name, new)
    )


def _display_number(value: Any) -> str:
    if value is None:
        return "–"
    number = Decimal(str(value))
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return formats.number_format(number, use_l10n=True, force_grouping=True)


def display_value(name: str, value: Any) -> str:
    """A stored value as the user reads it: choices by label, yes/no, localised numbers and
    dates; "–" for nothing."""
    if value is None or value == "":
        return "–"
    model_field = site_field(name)
    if model_field.choices:
        return str(dict(model_field.choices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "available_from":
        with contextlib.suppress(ValueError):
            return formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
    if isinstance(value, int | float | Decimal):
        return _display_number(value)
    return str(value)


# -- the organisation's own words -----------------------------------------------------------


def upload_mapping_set(
    *,
    organisation: PartnerOrganisation,
    kind: str,
    field: str,
    source: str,
    value: str = "",
    acting_user: User | None,
) -> UploadMapping:
    """Keeps an organisation's reading of a column header (kind "column": `source` read as
    `field`, "" = ignore the column) or of a raw value (kind "value": `source` in the coded
    field `field` read as the code `value`). Applied to its later uploads."""
    from django.core.exceptions import ValidationError

    source = str(source or "").strip()
    key = vocab.normalise(source)
    if kind == UploadMapping.Kind.COLUMN:
        if not key:
            raise ValidationError({"source": _("Name the column.")})
        if field and field not in vocab.FIELDS and field not in vocab.GEOMETRY_HEADERS:
            raise ValidationError(
                {"field": _("“%(field)s” is not a site field.") % {"field": field}}
            )
        value = ""
    elif kind == UploadMapping.Kind.VALUE:
        if field not in vocab.FIELDS or vocab.FIELDS[field] not in ("choice", "bool"):
            raise ValidationError({"field": _("Values can be mapped for coded fields only.")})
        if not key:
            raise ValidationError({"source": _("Name the value.")})
        if vocab.FIELDS[field] == "bool":
            allowed = ["true", "false"]
        else:
            allowed = [code for code, _label in site_field(field).choices or ()]
        if value not in allowed:
            raise ValidationError(
                {
                    "value": _("“%(value)s” is not one of: %(allowed)s")
                    % {"value": value, "allowed": ", ".join(allowed)}
                }
            )
    else:
        raise ValidationError({"kind": _("Unknown kind of mapping.")})
    with transaction.atomic():
        if kind == UploadMapping.Kind.COLUMN:  # one reading per header
            UploadMapping.objects.filter(
                organisation=organisation, kind=kind, source_key=key
            ).exclude(field=field).delete()
        mapping, _created = UploadMapping.objects.update_or_create(
            organisation=organisation,
            kind=kind,
            field=field,
            source_key=key,
            defaults={"source": source[:200], "value": value, "created_by": acting_user},
        )
    return mapping


def upload_mapping_delete(*, mapping: UploadMapping, acting_user: User | None) -> None:
    """Forgets one of the organisation's mappings."""
    mapping.delete()


__all__ = [
    "CREATE",
    "MAX_AREA_M2",
    "MAX_PRICE_EUR_M2",
    "MAX_ROWS",
    "REJECTED",
    "SUFFIXES",
    "UNCHANGED",
    "UPDATE",
    "ColumnReading",
    "FieldChange",
    "MissingSite",
    "Progress",
    "UploadError",
    "UploadRejected",
    "UploadReport",
    "UploadRow",
    "display_value",
    "sites_upload_commit",
    "sites_upload_plan",
    "upload_mapping_delete",
    "upload_mapping_set",
    "upload_rejected_rows_file",
]
