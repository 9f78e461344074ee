"""The upload's data contract: the XLSX and CSV templates filled in as a partner would
(choosing drop-down labels, in German and in English) commit with the right values; the
Table Schema lists every field; the documentation page shows every column in both languages.

Values are chosen from the contract itself (each drop-down's list, each column's kind), so a
field added to the vocabulary is filled in and checked too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import openpyxl
import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from properties.models import Site
from properties.services.upload import sites_upload_commit
from properties.services.upload import vocabulary as upload_columns
from properties.upload_contract import LANGUAGES, ContractColumn, contract_columns
from sitefinder.l10n import translate_path
from tests.factories import PartnerOrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

ROWS = 6  # more than the longest code list: every label is chosen at least once


@pytest.fixture
def partner(essen) -> User:
    """A partner of an organisation for Essen."""
    organisation = PartnerOrganisationFactory(municipalities=[essen])
    return UserFactory(role=User.Role.PARTNER, organisation=organisation)


@pytest.fixture
def positions(essen) -> list[Point]:
    """Points inside Essen, in EPSG:4326, 200 m apart."""
    centre = essen.geom.buffer(-1500).point_on_surface
    points = []
    for i in range(ROWS):
        point = Point(centre.x + 200 * i, centre.y, srid=25832).transform(4326, clone=True)
        assert isinstance(point, Point)
        points.append(point)
    return points


def columns_by_header(language: str) -> dict[str, ContractColumn]:
    return {column.header(language): column for column in contract_columns()}


# --- filling in -------------------------------------------------------------------------------


def cell_value(column: ContractColumn, row: int, options: list[str], position: Point) -> Any:
    """What a partner would enter in `column` on data row `row` (0-based): a label from the
    drop-down, yes/no from its list, numbers and dates as the spreadsheet holds them (or as
    text in a CSV)."""
    if column.kind == "geometry":
        return round(position.x if column.name == "lon" else position.y, 6)
    if column.kind == "choices":  # several labels in one cell
        return ", ".join(options[(row + offset) % len(options)] for offset in range(2))
    if options:
        return options[row % len(options)]
    if column.kind == "number":
        numbers = {
            "gross_area_m2": 1000 + 250 * row,
            "net_area_m2": 900 + 250 * row,
            "min_divisible_m2": 100,
            "max_divisible_m2": 500,
            "price_eur_m2": 12.5 + row,
        }
        return numbers.get(column.name, 10 + row)
    if column.kind == "date":
        return dt.date(2027, 1 + row, 15)
    texts = {
        "partner_ref": f"VORLAGE-{row + 1}",
        "title": f"Gewerbefläche Vorlage {row + 1}",
        "postcode": "45127",
        "contact_email": f"wirtschaft{row}@example.org",
        "contact_phone": "+49 201 123456",
        "street": f"Hafenstraße {row + 1}",
    }
    value = texts.get(column.name, f"{column.name} {row}")
    return value[: column.max_length] if column.max_length else value


def stored_value(column: ContractColumn, entered: Any, language: str) -> Any:
    """What the site must hold after the commit."""

    def code(label: str) -> str:
        return next(code for code, labels in column.codes.items() if labels[language] == label)

    if column.kind == "choice":
        return code(entered)
    if column.kind == "choices":
        return [code(label) for label in entered.split(", ")]
    if column.kind == "bool":
        return entered in ("ja", "yes")
    if column.kind == "number":
        return pytest.approx(float(entered))
    return entered


def drop_downs(workbook) -> dict[str, list[str]]:
    """Column letter of the data sheet -> the values of its drop-down list."""
    data = workbook.worksheets[0]
    result: dict[str, list[str]] = {}
    for validation in data.data_validations.dataValidation:
        if validation.type != "list":
            continue
        sheet_name, cells = validation.formula1.rsplit("!", 1)
        source = workbook[sheet_name.strip("'")]
        values = [cell.value for row in source[cells.replace("$", "")] for cell in row]
        for cell_range in str(validation.sqref).split():
            letter = re.sub(r"\d.*", "", cell_range)
            result[letter] = [str(value) for value in values if value is not None]
    return result


def fill_xlsx(
    content: bytes, language: str, positions: list[Point], path: Path, required_only: bool
) -> list[dict]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    data = workbook.worksheets[0]
    lists = drop_downs(workbook)
    by_header = columns_by_header(language)
    entered: list[dict] = [{} for _ in range(ROWS)]
    for cell in data[1]:
        column = by_header[cell.value]
        options = lists.get(cell.column_letter, [])
        if column.kind == "choices":  # no drop-down for several values: typed
            options = column.labels(language)
        for row in range(ROWS):
            if required_only and not column.required:
                continue  # left empty
            value = cell_value(column, row, options, positions[row])
            data.cell(row=row + 2, column=cell.column, value=value)
            entered[row][column.name] = value
    workbook.save(path)
    return entered


def fill_csv(
    content: bytes, language: str, positions: list[Point], path: Path, required_only: bool
) -> list[dict]:
    text = content.decode("utf-8-sig")
    delimiter = ";" if language == "de" else ","
    headers = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    by_header = columns_by_header(language)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    entered: list[dict] = []
    for row in range(ROWS):
        values: dict[str, Any] = {}
        line = []
        for header in headers:
            column = by_header[header]
            options = column.labels(language)
            if column.kind == "bool":
                options = ["ja", "nein"] if language == "de" else ["yes", "no"]
            if required_only and not column.required:
                line.append("")
                continue
            value = cell_value(column, row, options, positions[row])
            values[column.name] = value
            line.append(as_csv_text(value, language))
        writer.writerow(line)
        entered.append(values)
    prefix = "\ufeff" if content.startswith(b"\xef\xbb\xbf") else ""
    path.write_text(prefix + out.getvalue(), encoding="utf-8")
    return entered


def as_csv_text(value: Any, language: str) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d")
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = f"{value}"
        return text.replace(".", ",") if language == "de" else text
    return str(value)


def assert_committed(report, entered: list[dict], language: str, organisation) -> None:
    assert report.counts["reject"] == 0, [row.messages for row in report.rows]
    assert report.counts["create"] == ROWS
    columns = {column.name: column for column in contract_columns()}
    for values in entered:
        site = Site.objects.get(organisation=organisation, partner_ref=values["partner_ref"])
        location = site.geom.transform(4326, clone=True)
        assert location.x == pytest.approx(values["lon"], abs=1e-5)
        assert location.y == pytest.approx(values["lat"], abs=1e-5)
        for name, value in values.items():
            column = columns[name]
            if column.kind == "geometry":
                continue
            stored = getattr(site, name)
            if column.kind == "number" and stored is not None:
                stored = float(stored)
            expected = stored_value(column, value, language)
            if column.kind == "choices":
                stored, expected = sorted(stored), sorted(expected)
            assert stored == expected, (name, value, stored)


@pytest.mark.parametrize("required_only", [False, True], ids=["every-column", "required-only"])
@pytest.mark.parametrize("extension", ["xlsx", "csv"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_filled_in_template_commits_with_the_right_values(
    client, language, extension, required_only, tmp_path, positions, partner
):
    response = client.get(reverse("upload_template", args=[language, extension]))
    assert response.status_code == 200
    path = tmp_path / f"vorlage-{language}.{extension}"
    fill = fill_xlsx if extension == "xlsx" else fill_csv
    entered = fill(response.content, language, positions, path, required_only)
    with translation.override(language):
        report = sites_upload_commit(
            path=path, organisation=partner.organisation, acting_user=partner, filename=path.name
        )
    assert_committed(report, entered, language, partner.organisation)


# --- the templates themselves ---------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_header_is_understood_as_its_field(language):
    for column in contract_columns():
        reading = upload_columns.read_header(column.header(language))
        assert reading.field == column.name, column.header(language)
        assert reading.role == ("geometry" if column.kind == "geometry" else "field")
        assert reading.factor == 1.0


def test_the_templates_cover_every_field_of_the_vocabulary():
    names = [column.name for column in contract_columns()]
    assert set(upload_columns.FIELDS) <= set(names)
    assert len(names) == len(set(names))
    for column in contract_columns():
        model_field = (
            Site._meta.get_field(column.name) if column.name in upload_columns.FIELDS else None
        )
        if model_field is not None and model_field.choices:
            assert list(column.codes) == [code for code, _label in model_field.choices]


def test_xlsx_template_has_drop_downs_instructions_and_a_hidden_lists_sheet(client):
    for language in LANGUAGES:
        content = client.get(reverse("upload_template", args=[language, "xlsx"])).content
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        data, instructions, lists = workbook.worksheets
        assert workbook.active.title == data.title
        assert lists.sheet_state == "hidden"
        assert data.max_row == 1  # headers only: no example row to upload by mistake
        headers = [cell.value for cell in data[1]]
        assert headers == [column.header(language) for column in contract_columns()]
        assert {v.errorStyle for v in data.data_validations.dataValidation} == {"warning"}
        menus = drop_downs(workbook)
        by_header = columns_by_header(language)
        for cell in data[1]:
            column = by_header[cell.value]
            if column.kind == "choice":
                assert menus[cell.column_letter] == column.labels(language)
        text = " ".join(
            str(value) for row in instructions.iter_rows(values_only=True) for value in row if value
        )
        for column in contract_columns():
            assert column.header(language) in text
    german = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("upload_template", args=["de", "xlsx"])).content)
    )
    assert german.worksheets[0]["A1"].value == contract_columns()[0].header("de")
    assert "Anleitung" in german.sheetnames


def test_csv_templates_dialects(client):
    german = client.get(reverse("upload_template", args=["de", "csv"]))
    assert german.content.startswith(b"\xef\xbb\xbf")
    assert german["Content-Disposition"] == 'attachment; filename="sitefinder-vorlage.csv"'
    header = german.content.decode("utf-8-sig").strip()
    assert header.split(";") == [column.header("de") for column in contract_columns()]
    english = client.get(reverse("upload_template", args=["en", "csv"]))
    assert not english.content.startswith(b"\xef\xbb\xbf")
    row = next(csv.reader(io.StringIO(english.content.decode())))
    assert row == [column.header("en") for column in contract_columns()]


# --- the Table Schema -------------------------------------------------------------------------

# The parts of the Frictionless Table Schema profile the contract uses (specs v1/v2).
TABLE_SCHEMA_PROFILE = {
    "type": "object",
    "required": ["fields"],
    "properties": {
        "fields": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "type": {
                        "enum": [
                            "string",
                            "number",
                            "integer",
                            "boolean",
                            "date",
                            "datetime",
                            "object",
                            "array",
                            "geopoint",
                            "geojson",
                            "any",
                        ]
                    },
                    "format": {"type": "string"},
                    "trueValues": {"type": "array", "items": {"type": "string"}},
                    "falseValues": {"type": "array", "items": {"type": "string"}},
                    "categories": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["value"],
                            "properties": {"value": {}, "label": {"type": "string"}},
                        },
                    },
                    "constraints": {
                        "type": "object",
                        "properties": {
                            "required": {"type": "boolean"},
                            "enum": {"type": "array", "minItems": 1},
                            "maxLength": {"type": "integer", "minimum": 0},
                            "minimum": {"type": "number"},
                            "maximum": {"type": "number"},
                        },
                        "additionalProperties": False,
                    },
                },
            },
        },
        "missingValues": {"type": "array", "items": {"type": "string"}},
        "primaryKey": {"type": "array", "items": {"type": "string"}},
    },
}


def test_schema_is_a_table_schema_listing_every_field(client):
    response = client.get(reverse("upload_schema"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = json.loads(response.content)
    jsonschema.validate(schema, TABLE_SCHEMA_PROFILE)
    fields = {entry["name"]: entry for entry in schema["fields"]}
    assert set(upload_columns.FIELDS) | {"lon", "lat"} == set(fields)
    assert set(schema["primaryKey"]) <= set(fields)
    for column in contract_columns():
        entry = fields[column.name]
        assert entry["titles"] == column.headers
        assert entry["constraints"]["required"] is column.required
        if column.kind == "choice":
            assert entry["constraints"]["enum"] == list(column.codes)
            assert [c["labels"] for c in entry["categories"]] == list(column.codes.values())
    assert fields["kind"]["constraints"]["enum"] == list(Site.Kind.values)
    assert fields["gross_area_m2"]["unit"] == "m²"
    assert fields["gross_area_m2"]["type"] == "number"
    assert fields["available_from"]["type"] == "date"
    assert fields["has_water"]["type"] == "boolean"
    assert fields["kind"]["titles"]["de"] == "Art"
    # The same in every language: a stable contract.
    client.cookies["django_language"] = "de"
    assert json.loads(client.get(reverse("upload_schema")).content) == schema


# --- the page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "heading"), [("de", "Vorlagen"), ("en", "Templates")])
def test_the_page_documents_every_column_in_both_languages(client, language, heading):
    response = client.get(translate_path(reverse("upload_contract"), language))
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<h2 id="downloads-title">{heading}</h2>' in content
    for column in contract_columns():
        assert f'data-column="{column.name}"' in content
        for header in column.headers.values():
            assert _escaped(header) in content
        for labels in column.codes.values():
            assert _escaped(labels["de"]) in content and _escaped(labels["en"]) in content
    for code in ("de", "en"):
        for extension in ("xlsx", "csv"):
            assert reverse("upload_template", args=[code, extension]) in content
    assert reverse("upload_schema") in content


def _escaped(text: str) -> str:
    from django.utils.html import escape

    return escape(text)
