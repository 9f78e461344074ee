"""The data contract of the partner bulk upload: what each column of a partner's table means,
generated from the one vocabulary (`properties.services.upload.vocabulary`: the accepted fields,
their kinds, headers and REQUIRED) and the Site model (verbose names, choices, limits), never
from a second hand-written list.

Three front doors use it: the page documenting every column (both languages), the
downloadable XLSX and CSV templates (headers = the fields' verbose names in the template's
language, drop-downs of the codes' labels), and the Frictionless Table Schema (JSON) at a
stable URL. A template filled in with these headers and labels is read back by the same
vocabulary: tests/properties/test_upload_contract.py fills one in and commits it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from properties.map_config import region_bounds
from properties.models import Site
from properties.services.upload import vocabulary

LANGUAGES = ("de", "en")

# The geometry of a template row: a point by its WGS84 coordinates (the template's two
# geometry columns; their range is the region's extent). Other ways a file may give the
# geometry are listed on the page.
GEOMETRY_COLUMNS = (("lon", gettext_lazy("longitude")), ("lat", gettext_lazy("latitude")))
REGION_MARGIN_DEGREES = 0.05
GEOMETRY_ALTERNATIVES = (
    (
        "wkt",
        gettext_lazy(
            "WKT in EPSG:4326 or EPSG:25832 (POINT, POLYGON or MULTIPOLYGON) instead of the "
            "two coordinate columns"
        ),
    ),
    ("easting", gettext_lazy("east value in EPSG:25832 (UTM zone 32), with the north value")),
    ("northing", gettext_lazy("north value in EPSG:25832 (UTM zone 32), with the east value")),
)

TYPE_LABELS = {
    "text": gettext_lazy("text"),
    "number": gettext_lazy("number"),
    "bool": gettext_lazy("yes / no"),
    "date": gettext_lazy("date"),
    "choice": gettext_lazy("one value of the list"),
    "choices": gettext_lazy("values of the list, separated by commas"),
    "geometry": gettext_lazy("coordinate (decimal degrees)"),
}
# Frictionless Table Schema field types.
SCHEMA_TYPES = {
    "text": "string",
    "number": "number",
    "bool": "boolean",
    "date": "date",
    "choice": "string",
    "choices": "string",
    "geometry": "number",
}
TEMPLATE_ROWS = 2000  # rows of the XLSX template that carry the drop-downs and checks
SCHEMA_PATH_NAME = "upload_schema"


@dataclass
class ContractColumn:
    """One column of the contract, in both languages."""

    name: str  # the Site field's name, or the geometry role ("lon", "lat")
    kind: str  # text, number, bool, date, choice, choices, geometry
    headers: dict[str, str]  # language -> the template's header (the verbose name)
    synonyms: list[str]  # further headers the upload understands
    required: bool
    unit: str = ""
    help: dict[str, str] = field(default_factory=dict)
    # code -> {language: label}
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    # code -> further spellings the upload understands (beyond code and labels)
    value_synonyms: dict[str, list[str]] = field(default_factory=dict)
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def type_label(self) -> str:
        return str(TYPE_LABELS.get(self.kind, self.kind))

    def header(self, language: str) -> str:
        return self.headers[language]

    def labels(self, language: str) -> list[str]:
        return [labels[language] for labels in self.codes.values()]


def _in_language(language: str, value: Any) -> str:
    with translation.override(language):
        return str(value)


def _model_field(name: str) -> models.Field | None:
    try:
        model_field = Site._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return model_field if isinstance(model_field, models.Field) else None


def _unit(verbose_name_en: str) -> str:
    """The unit named in a verbose name: "gross area (m²)" -> "m²", "price (€/m²)" -> "€/m²"."""
    match = re.search(r"\(([^()]*(?:m²|€|km|%)[^()]*)\)\s*$", verbose_name_en)
    return match[1] if match else ""


def _limits(model_field: models.Field) -> tuple[float | None, float | None]:
    minimum = maximum = None
    for validator in model_field.validators:
        if isinstance(validator, MinValueValidator):
            minimum = float(validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            maximum = float(validator.limit_value)
    if isinstance(model_field, models.DecimalField) and maximum is None:
        digits = (model_field.max_digits or 0) - (model_field.decimal_places or 0)
        if digits > 0:
            maximum = float(Decimal(10) ** digits - Decimal(1) / Decimal(10) ** 2)
    return minimum, maximum


def _codes(model_field: models.Field) -> dict[str, dict[str, str]]:
    base = model_field.base_field if isinstance(model_field, ArrayField) else model_field
    return {
        str(code): {language: _in_language(language, label) for language in LANGUAGES}
        for code, label in (base.choices or ())
    }


# The vocabulary's kinds of value as the contract states them: a price column is a number
# (it also understands "auf Anfrage" / "on request"), a contact column text (an e-mail in it
# goes to the e-mail field), an e-mail column text.
VOCABULARY_KINDS = {"price": "number", "contact": "text", "email": "text"}


def _vocabulary_fields() -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(field name, kind, further accepted headers) of every field the upload reads."""
    for name, kind in vocabulary.FIELDS.items():
        yield name, VOCABULARY_KINDS.get(kind, kind), tuple(vocabulary.ALIASES.get(name, ()))


def _is_required(name: str, model_field: models.Field | None) -> bool:
    """Required by the upload (REQUIRED), or by the model: not blank and no default."""
    if name in vocabulary.REQUIRED:
        return True
    if model_field is None:
        return False
    return not model_field.blank and not model_field.has_default() and not model_field.null


def contract_columns() -> list[ContractColumn]:
    """Every column of the contract: the upload's fields in the vocabulary's order, with the
    two coordinate columns after the title."""
    result: list[ContractColumn] = []
    for name, kind, aliases in _vocabulary_fields():
        model_field = _model_field(name)
        verbose = model_field.verbose_name if model_field is not None else name
        headers = {language: capfirst(_in_language(language, verbose)) for language in LANGUAGES}
        help_text = model_field.help_text if model_field is not None else ""
        codes = _codes(model_field) if model_field is not None else {}
        if isinstance(model_field, ArrayField):
            kind = "choices" if codes else kind
        elif codes:
            kind = "choice"
        minimum, maximum = _limits(model_field) if model_field is not None else (None, None)
        shown = {normalised for normalised in map(vocabulary.normalise, headers.values())}
        column = ContractColumn(
            name=name,
            kind=kind,
            headers=headers,
            synonyms=_unique(
                alias for alias in aliases if vocabulary.normalise(alias) not in shown
            ),
            required=_is_required(name, model_field),
            unit=_unit(_in_language("en", verbose)),
            help={
                language: _in_language(language, help_text) if help_text else ""
                for language in LANGUAGES
            },
            codes=codes,
            value_synonyms={
                code: list(words)
                for code, words in vocabulary.CHOICE_WORDS.get(name, {}).items()
                if code in codes and words
            },
            max_length=getattr(model_field, "max_length", None) if kind == "text" else None,
            minimum=minimum,
            maximum=maximum,
        )
        result.append(column)
        if name == "title":
            result.extend(_geometry_columns())
    if not any(column.kind == "geometry" for column in result):
        result.extend(_geometry_columns())
    return result


def _coordinate_ranges() -> dict[str, tuple[float, float]]:
    """lon/lat -> (minimum, maximum): the region's extent with a margin, else the globe."""
    bounds = region_bounds()
    if bounds is None:
        return {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0)}
    (south, west), (north, east) = bounds
    margin = REGION_MARGIN_DEGREES
    return {
        "lon": (round(west - margin, 2), round(east + margin, 2)),
        "lat": (round(south - margin, 2), round(north + margin, 2)),
    }


def _geometry_columns() -> list[ContractColumn]:
    columns = []
    ranges = _coordinate_ranges()
    for role, label in GEOMETRY_COLUMNS:
        minimum, maximum = ranges[role]
        headers = {language: capfirst(_in_language(language, label)) for language in LANGUAGES}
        shown = {vocabulary.normalise(header) for header in headers.values()}
        columns.append(
            ContractColumn(
                name=role,
                kind="geometry",
                headers=headers,
                synonyms=_unique(
                    alias
                    for alias in vocabulary.GEOMETRY_HEADERS.get(role, ())
                    if vocabulary.normalise(alias) not in shown
                ),
                required=True,
                unit="°",
                help={
                    language: _in_language(
                        language, gettext_lazy("WGS84 (EPSG:4326), a point inside the site")
                    )
                    for language in LANGUAGES
                },
                minimum=minimum,
                maximum=maximum,
            )
        )
    return columns


def _unique(values: Iterator[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        key = vocabulary.normalise(value)
        if key not in seen:
            seen.add(key)
            result.append(value)
    return result


def geometry_alternatives() -> list[dict[str, Any]]:
    return [
        {"headers": list(vocabulary.GEOMETRY_HEADERS.get(role, ())), "text": str(text)}
        for role, text in GEOMETRY_ALTERNATIVES
    ]


# --- yes/no and dates in the templates --------------------------------------------------------

BOOL_WORDS = {"de": ("ja", "nein"), "en": ("yes", "no")}
# language -> (Excel number format, how the instructions write it, strftime pattern)
DATE_FORMATS = {
    "de": ("DD.MM.YYYY", "TT.MM.JJJJ", "%d.%m.%Y"),
    "en": ("YYYY-MM-DD", "YYYY-MM-DD", "%Y-%m-%d"),
}


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unknown template language {language!r}")
    return language


# --- the Frictionless Table Schema --------------------------------------------------------------


def table_schema() -> dict[str, Any]:
    """The contract as a Frictionless Table Schema: one field per template column (its
    English header as the title; `name` is the Site field or geometry role); codes as
    `enum` plus `categories` with labels; both languages' headers and labels, the accepted
    synonyms and the unit as extra properties."""
    fields = []
    for column in contract_columns():
        entry: dict[str, Any] = {
            "name": column.name,
            "title": column.headers["en"],
            "type": SCHEMA_TYPES.get(column.kind, "string"),
            "description": column.help["en"] or column.headers["en"],
            "titles": column.headers,
            "synonyms": column.synonyms,
        }
        if column.unit:
            entry["unit"] = column.unit
        if column.kind == "bool":
            entry["trueValues"] = _spellings(vocabulary.TRUE_WORDS)
            entry["falseValues"] = _spellings(vocabulary.FALSE_WORDS)
        if column.kind == "date":
            entry["format"] = "any"
        constraints: dict[str, Any] = {"required": column.required}
        if column.codes:
            entry["categories"] = [
                {
                    "value": code,
                    "label": labels["en"],
                    "labels": labels,
                    "synonyms": column.value_synonyms.get(code, []),
                }
                for code, labels in column.codes.items()
            ]
            if column.kind == "choice":
                constraints["enum"] = list(column.codes)
        if column.max_length:
            constraints["maxLength"] = column.max_length
        if column.minimum is not None:
            constraints["minimum"] = column.minimum
        if column.maximum is not None:
            constraints["maximum"] = column.maximum
        entry["constraints"] = constraints
        fields.append(entry)
    return {
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "title": "sitefinder site upload",
        "description": (
            "Columns of a partner's site list for the sitefinder bulk upload. Headers may be "
            "the field name, the German or English title, or one of the synonyms; coded "
            "values may be the code or its German or English label."
        ),
        "fields": fields,
        "missingValues": [""],
        "primaryKey": ["partner_ref"],
        "geometryAlternatives": [
            {"headers": alternative["headers"], "description": _in_language("en", text)}
            for alternative, (_role, text) in zip(
                geometry_alternatives(), GEOMETRY_ALTERNATIVES, strict=True
            )
        ],
    }


def _spellings(words: set[str]) -> list[str]:
    """The vocabulary's yes/no words as written: lower case and capitalised."""
    return sorted({spelling for word in words for spelling in (word, word.capitalize())})


# --- the CSV template ---------------------------------------------------------------------------


def csv_template(language: str) -> bytes:
    """The header row only: German with ";" and a UTF-8 BOM (Excel opens it right),
    English with ","."""
    language = _check_language(language)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if language == "de" else ",", lineterminator="\r\n")
    writer.writerow([column.header(language) for column in contract_columns()])
    text = out.getvalue()
    return (("\ufeff" + text) if language == "de" else text).encode("utf-8")


# --- the XLSX template --------------------------------------------------------------------------


def _sheet_names(language: str) -> dict[str, str]:
    with translation.override(language):
        return {
            "data": _("Sites"),
            "instructions": _("Instructions"),
            "lists": _("Lists"),
        }


def xlsx_template(language: str) -> bytes:
    """The template workbook: the data sheet first (headers only; the upload reads the first
    sheet), an instructions sheet with every column and an example value, and a hidden
    sheet with the drop-down lists."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname

    language = _check_language(language)
    columns = contract_columns()
    names = _sheet_names(language)
    workbook = Workbook()
    data = workbook.worksheets[0]
    data.title = names["data"]
    instructions = workbook.create_sheet(names["instructions"])
    lists = workbook.create_sheet(names["lists"])
    lists.sheet_state = "hidden"

    required_fill = PatternFill("solid", fgColor="FFE082")
    optional_fill = PatternFill("solid", fgColor="E0E0E0")
    bold = Font(bold=True)
    last_row = TEMPLATE_ROWS + 1
    with translation.override(language):
        for position, column in enumerate(columns, start=1):
            letter = get_column_letter(position)
            cell = data.cell(row=1, column=position, value=column.header(language))
            cell.font = bold
            cell.fill = required_fill if column.required else optional_fill
            cell.comment = Comment(_column_note(column, language), "sitefinder")
            data.column_dimensions[letter].width = max(
                14, min(40, len(column.header(language)) + 4)
            )
            target = f"{letter}2:{letter}{last_row}"
            validation = _validation(column, language, lists, position, quote_sheetname)
            if validation is not None:
                # A warning, not a stop: the upload understands more than the lists hold
                # ("rechtskräftig", "1.250,00 €"), so the partner may keep such a value.
                validation.errorStyle = "warning"
                validation.error = _(
                    "This value is not one the template expects (see the note on the header). "
                    "Keep it only if it means one of them."
                )
                validation.errorTitle = column.header(language)[:32]  # Excel's limit
                validation.prompt = _column_note(column, language)[:250]
                validation.promptTitle = column.header(language)[:32]
                data.add_data_validation(validation)
                validation.add(target)
        data.freeze_panes = "A2"
        _write_instructions(instructions, columns, language, bold, required_fill)
    instructions.column_dimensions["A"].width = 32
    for letter in "BCDEF":
        instructions.column_dimensions[letter].width = 24
    for row in instructions.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.active = 0
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _validation(column: ContractColumn, language: str, lists, position: int, quote) -> Any:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    choices: list[str] = []
    if column.kind == "choice":
        choices = column.labels(language)
    elif column.kind == "bool":
        choices = list(BOOL_WORDS[language])
    if choices:
        letter = get_column_letter(position)
        lists.cell(row=1, column=position, value=column.header(language))
        for row, label in enumerate(choices, start=2):
            lists.cell(row=row, column=position, value=label)
        source = f"{quote(lists.title)}!${letter}$2:${letter}${len(choices) + 1}"
        return DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True)
    if column.kind in ("number", "geometry"):
        minimum = column.minimum if column.minimum is not None else -1e15
        maximum = column.maximum if column.maximum is not None else 1e15
        return DataValidation(
            type="decimal",
            operator="between",
            formula1=_number(minimum),
            formula2=_number(maximum),
            allow_blank=True,
            showErrorMessage=True,
        )
    if column.kind == "date":
        return DataValidation(
            type="date",
            operator="greaterThan",
            formula1="1",
            allow_blank=True,
            showErrorMessage=True,
        )
    if column.kind == "text" and column.max_length:
        return DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(column.max_length),
            allow_blank=True,
            showErrorMessage=True,
        )
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _column_note(column: ContractColumn, language: str) -> str:
    with translation.override(language):
        parts = [_("required") if column.required else _("optional"), column.type_label]
        if column.unit:
            parts.append(_("unit: %(unit)s") % {"unit": column.unit})
        if column.kind == "date":
            parts.append(DATE_FORMATS[language][1])
        if column.help.get(language):
            parts.append(column.help[language])
        return " · ".join(parts)


def example_value(column: ContractColumn, language: str) -> Any:
    """An example for the instructions sheet and the page (never in the data sheet)."""
    if column.codes:
        return next(iter(column.codes.values()))[language]
    if column.kind == "bool":
        return BOOL_WORDS[language][0]
    if column.kind == "date":
        return dt.date(2027, 3, 1).strftime(DATE_FORMATS[language][2])
    if column.kind == "geometry" and column.minimum is not None and column.maximum is not None:
        return round((column.minimum + column.maximum) / 2, 4)  # the region's middle
    if column.kind == "number":
        return {"m²": 2500, "€/m²": 45}.get(column.unit, 1)
    samples = {
        "partner_ref": "GE-2027-001",
        "title": _in_language(language, gettext_lazy("Commercial park north, plot 3")),
        "contact_email": "wirtschaft@example.org",
        "postcode": "45127",
    }
    return samples.get(column.name, "")


def _write_instructions(sheet, columns, language, bold, required_fill) -> None:
    sheet.append([_("How to fill in this template")])
    sheet["A1"].font = bold
    for line in (
        _("Enter one site per row on the first sheet, starting in row 2; keep the headers."),
        _(
            "Columns with a yellow header are required. Choose coded values from the drop-down "
            "lists; yes/no columns accept yes or no."
        ),
        _(
            "Give the position as longitude and latitude in decimal degrees (WGS84), or replace "
            "the two columns by a WKT column with a polygon."
        ),
        _("Dates as %(format)s; numbers with a decimal comma or point.")
        % {"format": DATE_FORMATS[language][1]},
        _("Rows with the same site id update the site on the next upload."),
    ):
        sheet.append([line])
    sheet.append([])
    header = [
        _("Column"),
        _("Required"),
        _("Type"),
        _("Unit"),
        _("Allowed values"),
        _("Example"),
    ]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for column in columns:
        sheet.append(
            [
                column.header(language),
                _("yes") if column.required else _("no"),
                column.type_label,
                column.unit,
                ", ".join(column.labels(language))
                or (" / ".join(BOOL_WORDS[language]) if column.kind == "bool" else ""),
                example_value(column, language),
            ]
        )
        if column.required:
            sheet.cell(row=sheet.max_row, column=1).fill = required_fill
