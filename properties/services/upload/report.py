"""What an upload reports: per row, per column and for the file; JSON for the command line and
for a background job that stores the report and reloads it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from sitefinder.spreadsheet import safe_row

CREATE, UPDATE, UNCHANGED, REJECTED = "create", "update", "unchanged", "reject"
ACTIONS = (CREATE, UPDATE, UNCHANGED, REJECTED)
# Column statuses
USED, GEOMETRY, MAPPED, NOT_USED = "used", "geometry", "mapped", "not_used"

Progress = Callable[[str, int, "int | None"], None]


class UploadError(Exception):
    """The file as a whole cannot be read or is refused; nothing was written."""


class UploadRejected(Exception):
    """The commit was refused because rows are rejected; nothing was written."""

    def __init__(self, report: UploadReport):
        self.report = report
        rejected = report.counts[REJECTED]
        super().__init__(
            _("%(filename)s: %(count)s rows are rejected; nothing was written")
            % {"filename": report.filename, "count": rejected}
        )


@dataclass(slots=True)
class FieldChange:
    field: str
    label: str  # the field's verbose name in the active language
    old: str  # display values
    new: str


@dataclass(slots=True)
class UploadRow:
    # The spreadsheet line (header = line 1) for CSV / XLSX, the record number otherwise;
    # row_label says which ("line 5" / "record 3", translated).
    row: int
    partner_ref: str
    action: str
    messages: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # stored values by Site field name
    changes: list[FieldChange] = field(default_factory=list)
    row_label: str = ""


@dataclass(slots=True)
class ColumnReading:
    header: str  # as in the file
    field: str | None  # Site field name, a geometry role ("wkt", "lon", ...), or None
    label: str  # what it was read as, translated ("" when not used)
    status: str  # used | geometry | mapped | not_used
    hint: str = ""  # translated; why it is not used, the unit read, ...


@dataclass(slots=True)
class MissingSite:
    site_id: int
    partner_ref: str
    title: str
    status: str


@dataclass
class UploadReport:
    filename: str
    format: str
    rows: list[UploadRow] = field(default_factory=list)
    columns: list[ColumnReading] = field(default_factory=list)  # every column, in file order
    notes: list[str] = field(default_factory=list)  # file-wide, each once
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    missing: list[MissingSite] = field(default_factory=list)
    committed: bool = False
    site_ids: list[int] = field(default_factory=list)
    withdrawn_ids: list[int] = field(default_factory=list)
    source_name: str = ""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for row in self.rows:
            counts[row.action] += 1
        counts["missing"] = len(self.missing)
        return counts

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.counts[REJECTED]

    @property
    def ignored_columns(self) -> list[str]:
        """Headers of the columns that are not used."""
        return [c.header for c in self.columns if c.status == NOT_USED and c.header]

    @property
    def rejected_rows(self) -> list[UploadRow]:
        return [row for row in self.rows if row.action == REJECTED]

    def to_json(self) -> dict[str, Any]:
        """The command line's --json shape: the counts at the top level (and under "counts",
        with "rows" the number of rows), "committed", and "rows" the list of rows."""
        counts = self.counts
        return {
            "filename": self.filename,
            "format": self.format,
            "source_name": self.source_name,
            "committed": self.committed,
            **{name: counts[name] for name in (*ACTIONS, "missing")},
            "counts": {"rows": len(self.rows), **counts},
            "notes": list(self.notes),
            "columns": [asdict(column) for column in self.columns],
            "unknown_values": {k: list(v) for k, v in self.unknown_values.items()},
            "missing_sites": [asdict(site) for site in self.missing],
            "site_ids": list(self.site_ids),
            "withdrawn_ids": list(self.withdrawn_ids),
            "rows": [
                {
                    "row": row.row,
                    "row_label": row.row_label,
                    "partner_ref": row.partner_ref,
                    "action": row.action,
                    "messages": list(row.messages),
                    "values": dict(row.values),
                    "changes": [asdict(change) for change in row.changes],
                }
                for row in self.rows
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadReport:
        return cls(
            filename=data.get("filename", ""),
            format=data.get("format", ""),
            source_name=data.get("source_name", ""),
            committed=bool(data.get("committed")),
            notes=list(data.get("notes", [])),
            columns=[ColumnReading(**column) for column in data.get("columns", [])],
            unknown_values={k: list(v) for k, v in data.get("unknown_values", {}).items()},
            missing=[MissingSite(**site) for site in data.get("missing_sites", [])],
            site_ids=list(data.get("site_ids", [])),
            withdrawn_ids=list(data.get("withdrawn_ids", [])),
            rows=[
                UploadRow(
                    row=row["row"],
                    partner_ref=row.get("partner_ref", ""),
                    action=row["action"],
                    messages=list(row.get("messages", [])),
                    values=dict(row.get("values", {})),
                    changes=[FieldChange(**change) for change in row.get("changes", [])],
                    row_label=row.get("row_label", ""),
                )
                for row in data.get("rows", [])
            ],
        )

    def as_csv(self) -> str:
        """The report as a semicolon CSV (the download of the report page)."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow([_("Row"), _("Your site id"), _("Action"), _("Messages")])
        for row in self.rows:
            messages = list(row.messages)
            messages += [f"{c.label}: {c.old} → {c.new}" for c in row.changes]
            # partner_ref, messages and column names come from the uploaded file: neutralised.
            writer.writerow(
                safe_row(
                    [
                        row.row_label or row.row,
                        row.partner_ref,
                        action_label(row.action),
                        " | ".join(messages),
                    ]
                )
            )
        for note in self.notes:
            writer.writerow(safe_row(["", "", _("note"), note]))
        for site in self.missing:
            writer.writerow(safe_row(["", site.partner_ref, _("not in this upload"), site.title]))
        return out.getvalue()


def action_label(action: str) -> str:
    return {
        CREATE: _("new"),
        UPDATE: _("changed"),
        UNCHANGED: _("unchanged"),
        REJECTED: _("rejected"),
    }.get(action, action)
