"""A realistic partner corpus, generated here: the same sites as a German and an English
partner write them, in every accepted format, each file with rows that must be rejected.
Every valid row commits with the right values."""

import csv
import datetime as dt
import json
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.gis.geos import Point, Polygon

from accounts.models import User
from properties.models import Site
from properties.services.upload import UploadRejected, sites_upload_commit, sites_upload_plan
from tests.factories import PartnerOrganisationFactory, UserFactory, square

pytestmark = pytest.mark.django_db

# Each site: its canonical values, and how a German ("de") and an English ("en") partner
# write it. Dates: text in CSV / GIS, a real date cell in XLSX.
SITES: list[dict[str, Any]] = [
    {
        "ref": "GE-101",
        "title": "Gewerbepark Nord",
        "de": {
            "kind": "Gewerbegrundstück",
            "use": "GE - Gewerbegebiet",
            "bplan": "rechtskräftig (seit 2019)",
            "owner": "städtisch",
            "price": "85,50 €",
            "available": "01.03.2027",
            "rail": "ja",
            "contact": "Maria Muster <M.Muster@essen.de>",
        },
        "en": {
            "kind": "plot",
            "use": "commercial area",
            "bplan": "in force",
            "owner": "municipal",
            "price": "85.50",
            "available": "2027-03-01",
            "rail": "yes",
            "contact": "Maria Muster, m.muster@essen.de",
        },
        "area_m2": 12_500,
        "expect": {
            "kind": "plot",
            "planning_category": "GE",
            "bplan_status": "binding",
            "ownership": "municipal",
            "price_eur_m2": Decimal("85.50"),
            "price_on_request": False,
            "price_negotiable": False,
            "available_from": dt.date(2027, 3, 1),
            "has_rail_siding": True,
            "contact_name": "Maria Muster",
            "contact_email": "m.muster@essen.de",
        },
    },
    {
        "ref": "GE-102",
        "title": "Halle am Kanal",
        "de": {
            "kind": "Produktionshalle",
            "use": "GI",
            "bplan": "kein B-Plan (§ 34 BauGB)",
            "owner": "sonstige öffentliche Hand",
            "price": "auf Anfrage",
            "available": "sofort",
            "rail": "nein",
            "contact": "jan.ek@essen.de",
        },
        "en": {
            "kind": "Hall / production",
            "use": "industrial area",
            "bplan": "unplanned inner area (§ 34 BauGB)",
            "owner": "other public body",
            "price": "on request",
            "available": "immediately",
            "rail": "no",
            "contact": "jan.ek@essen.de",
        },
        "area_m2": 6_400,
        "expect": {
            "kind": "hall",
            "planning_category": "GI",
            "bplan_status": "section_34",
            "ownership": "other_public",
            "price_eur_m2": None,
            "price_on_request": True,
            "price_negotiable": False,
            "available_from": None,
            "has_rail_siding": False,
            "contact_name": "",
            "contact_email": "jan.ek@essen.de",
        },
    },
    {
        "ref": "GE-103",
        "title": "Logistikfläche Ost",
        "de": {
            "kind": "Lagerhalle",
            "use": "Industriegebiet",
            "bplan": "Außenbereich (§ 35 BauGB)",
            "owner": "privat",
            "price": "VB",
            "available": "ab 30.06.2027",
            "rail": "x",
            "contact": "Dr. Eva Roth",
        },
        "en": {
            "kind": "warehouse",
            "use": "GI",
            "bplan": "outer area (§ 35 BauGB)",
            "owner": "private",
            "price": "negotiable",
            "available": "30/06/2027",
            "rail": "X",
            "contact": "Dr. Eva Roth",
        },
        "area_m2": 25_000,
        "expect": {
            "kind": "logistics",
            "planning_category": "GI",
            "bplan_status": "section_35",
            "ownership": "private",
            "price_eur_m2": None,
            "price_on_request": True,
            "price_negotiable": True,
            "available_from": dt.date(2027, 6, 30),
            "has_rail_siding": True,
            "contact_name": "Dr. Eva Roth",
            "contact_email": "",
        },
    },
    {
        "ref": "GE-104",
        "title": "Büro Zentrum",
        "de": {
            "kind": "Bürogebäude",
            "use": "Mischgebiet",
            "bplan": "B-Plan in Aufstellung",
            "owner": "teils städtisch, teils privat",
            "price": "1.250,00 €",
            "available": "Q3 2027",
            "rail": "0",
            "contact": "",
        },
        "en": {
            "kind": "Office",
            "use": "MI",
            "bplan": "draft",
            "owner": "mixed",
            "price": "1,250.00 EUR",
            "available": "2027-07-01",
            "rail": "false",
            "contact": "",
        },
        "area_m2": 2_500,
        "expect": {
            "kind": "office",
            "planning_category": "MI",
            "bplan_status": "in_preparation",
            "ownership": "mixed",
            "price_eur_m2": Decimal("1250.00"),
            "price_on_request": False,
            "price_negotiable": False,
            "available_from": dt.date(2027, 7, 1),
            "has_rail_siding": False,
            "contact_name": "",
            "contact_email": "",
        },
    },
    # -- rows that must be rejected, and why (a substring of the message) --
    {
        "ref": "GE-105",
        "title": "Wiese am Wald",
        "de": {"kind": "Wiese", "use": "GE", "bplan": "rechtskräftig", "owner": "privat"},
        "en": {"kind": "meadow", "use": "GE", "bplan": "binding", "owner": "private"},
        "area_m2": 3_000,
        "reject": "is not understood",
    },
    {
        "ref": "GE-106",
        "title": "Teures Grundstück",
        "de": {
            "kind": "Grundstück",
            "use": "GE",
            "bplan": "rechtskräftig",
            "owner": "Kirche",
            "price": "teuer",
        },
        "en": {
            "kind": "plot",
            "use": "GE",
            "bplan": "binding",
            "owner": "church",
            "price": "expensive",
        },
        "area_m2": 3_000,
        "reject": "is not understood",
    },
    {
        "ref": "GE-107",
        "title": "",
        "de": {"kind": "Grundstück", "use": "GE", "bplan": "rechtskräftig", "owner": "privat"},
        "en": {"kind": "plot", "use": "GE", "bplan": "binding", "owner": "private"},
        "area_m2": 3_000,
        "reject": "missing title",
    },
]
VALID = [site for site in SITES if "reject" not in site]
REJECTED = [site for site in SITES if "reject" in site]

HEADERS = {
    "de": {
        "ref": "Flächen-ID",
        "title": "Bezeichnung",
        "kind": "Objektart",
        "use": "Nutzung",
        "bplan": "Planungsrecht",
        "owner": "Eigentümer",
        "area": "Größe (m²)",
        "price": "Preis (€/m²)",
        "available": "Verfügbar ab",
        "rail": "Gleisanschluss",
        "contact": "Ansprechpartner",
        "extra": "Bodenrichtwert (€/m²)",
    },
    "en": {
        "ref": "Site ID",
        "title": "Name",
        "kind": "Property type",
        "use": "Zoning",
        "bplan": "Planning status",
        "owner": "Owner",
        "area": "Area (ha)",
        "price": "Price per m²",
        "available": "Available from",
        "rail": "Rail siding",
        "contact": "Contact",
        "extra": "Land value (€/m²)",
    },
}
# DBF field names, at most ten characters, as a GIS exports them.
DBF_HEADERS = {
    "ref": "FLAECHE_ID",
    "title": "BEZEICHNG",
    "kind": "OBJEKTART",
    "use": "NUTZUNG",
    "bplan": "PLANUNGSRE",
    "owner": "EIGENTUEM",
    "area": "FLAECHE_HA",
    "price": "PREIS_EUR",
    "available": "VERFUEGBAR",
    "rail": "GLEISANSCH",
    "contact": "ANSPRECHPA",
    "extra": "BODENRICHT",
}


def cells(site: dict, language: str) -> dict[str, object]:
    """The site's cells by column key, as the partner writes them."""
    words = site[language]
    area = site["area_m2"] / 10_000 if language == "en" else site["area_m2"]
    return {
        "ref": site["ref"],
        "title": site["title"],
        "kind": words["kind"],
        "use": words["use"],
        "bplan": words["bplan"],
        "owner": words["owner"],
        "area": area,
        "price": words.get("price", ""),
        "available": words.get("available", ""),
        "rail": words.get("rail", ""),
        "contact": words.get("contact", ""),
        "extra": "120",
    }


@pytest.fixture
def organisation(essen):
    return PartnerOrganisationFactory(municipalities=[essen])


@pytest.fixture
def partner(organisation):
    return UserFactory(role=User.Role.PARTNER, organisation=organisation)


@pytest.fixture
def shapes(essen) -> list[Polygon]:
    centre = essen.geom.buffer(-1500).point_on_surface
    return [
        square(Point(centre.x + 250 * i, centre.y + 100 * (i % 2), srid=25832), 60)
        for i in range(len(SITES))
    ]


def geojson(path: Path, language: str, shapes, headers=None, hectares=False) -> Path:
    headers = headers or HEADERS[language]
    features = []
    for site, shape in zip(SITES, shapes, strict=True):
        values = cells(site, language)
        if hectares:
            values["area"] = site["area_m2"] / 10_000
        features.append(
            {
                "type": "Feature",
                "properties": {headers[key]: value for key, value in values.items()},
                "geometry": json.loads(shape.transform(4326, clone=True).json),
            }
        )
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def ogr(source: Path, target: Path, *options: str) -> Path:
    subprocess.run(["ogr2ogr", *options, str(target), str(source)], check=True, capture_output=True)
    return target


def geopackage(tmp_path: Path, language: str, shapes) -> Path:
    source = geojson(tmp_path / "source.geojson", language, shapes)
    return ogr(source, tmp_path / "flaechen.gpkg", "-f", "GPKG", "-t_srs", "EPSG:25832")


def shapefile_zip(tmp_path: Path, language: str, shapes) -> Path:
    """Truncated DBF names, ISO-8859-1 attributes with a .cpg, EPSG:25832 in the .prj."""
    source = geojson(tmp_path / "source.geojson", "de", shapes, DBF_HEADERS, hectares=True)
    folder = tmp_path / "shp"
    folder.mkdir()
    ogr(
        source,
        folder / "Gewerbeflaechen.shp",
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=ISO-8859-1",
        "-t_srs",
        "EPSG:25832",
    )
    assert (folder / "Gewerbeflaechen.cpg").read_text().strip() == "ISO-8859-1"
    target = tmp_path / "gewerbeflaechen.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, f"export/{part.name}")
    return target


def german_area(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def csv_semicolon_wkt(tmp_path: Path, language: str, shapes) -> Path:
    """German Excel export: semicolons, decimal commas, thousands dots, EWKT in EPSG:25832,
    cp1252; one extra row with a NaN coordinate."""
    headers = HEADERS[language]
    path = tmp_path / "flaechen.csv"
    with open(path, "w", newline="", encoding="cp1252") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([*headers.values(), "Geometrie"])
        for site, shape in zip(SITES, shapes, strict=True):
            values = cells(site, language)
            if language == "de":
                values["area"] = german_area(site["area_m2"])
            else:
                values["area"] = str(site["area_m2"] / 10_000).replace(".", ",")
            writer.writerow([*values.values(), f"SRID=25832;{shape.wkt}"])
        writer.writerow(
            [
                "GE-199",
                "Kaputt",
                "Grundstück",
                "GE",
                "§ 34",
                "privat",
                "1.000",
                "",
                "",
                "",
                "",
                "",
                "SRID=25832;POINT(nan nan)",
            ]
        )
    return path


def csv_comma_lonlat(tmp_path: Path, language: str, shapes) -> Path:
    headers = HEADERS[language]
    path = tmp_path / "sites.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*headers.values(), "longitude", "latitude"])
        for site, shape in zip(SITES, shapes, strict=True):
            point = shape.centroid.transform(4326, clone=True)
            writer.writerow([*cells(site, language).values(), f"{point.x:.6f}", f"{point.y:.6f}"])
        writer.writerow(
            [
                "GE-199",
                "Broken",
                "plot",
                "GE",
                "binding",
                "private",
                "0.1",
                "",
                "",
                "",
                "",
                "",
                "NaN",
                "51.45",
            ]
        )
    return path


def xlsx(tmp_path: Path, language: str, shapes) -> Path:
    """An instructions sheet first, a title row above the headers, real date cells."""
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Hinweise" if language == "de" else "Instructions"
    notes.append(["Bitte ab Zeile 3 ausfüllen." if language == "de" else "Fill in from row 3."])
    sheet = workbook.create_sheet("Flächen" if language == "de" else "Sites")
    sheet.append(["Gewerbeflächen 2026" if language == "de" else "Sites 2026"])
    headers = HEADERS[language]
    sheet.append([*headers.values(), "WKT"])
    for site, shape in zip(SITES, shapes, strict=True):
        values = cells(site, language)
        expect = site.get("expect", {})
        if expect.get("available_from"):
            values["available"] = dt.datetime.combine(expect["available_from"], dt.time())
        sheet.append([*values.values(), shape.transform(4326, clone=True).wkt])
    path = tmp_path / "flaechen.xlsx"
    workbook.save(path)
    return path


FORMATS = {
    "geojson": lambda tmp, language, shapes: geojson(tmp / "flaechen.geojson", language, shapes),
    "gpkg": geopackage,
    "shp_zip": shapefile_zip,
    "csv_semicolon_wkt": csv_semicolon_wkt,
    "csv_comma_lonlat": csv_comma_lonlat,
    "xlsx": xlsx,
}
CASES = [
    (name, language)
    for name in FORMATS
    for language in ("de", "en")
    if not (name == "shp_zip" and language == "en")  # DBF names are German here
]


def check_site(site: dict, language: str, format_name: str) -> None:
    stored = Site.objects.get(partner_ref=site["ref"])
    assert stored.title == site["title"]
    assert stored.status == Site.Status.DRAFT
    for name, value in site["expect"].items():
        assert getattr(stored, name) == value, (format_name, language, site["ref"], name)
    if format_name == "csv_comma_lonlat":
        assert stored.geom.geom_type == "Point"
    else:
        assert abs(stored.gross_area_m2 - site["area_m2"]) < 1e-6


@pytest.mark.parametrize(("format_name", "language"), CASES)
def test_partner_files_commit_their_valid_rows(
    format_name, language, tmp_path, organisation, partner, shapes
):
    path = FORMATS[format_name](tmp_path, language, shapes)
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    by_ref = {row.partner_ref: row for row in report.rows}
    for site in VALID:
        row = by_ref[site["ref"]]
        assert row.action == "create", (row.partner_ref, row.messages)
    for site in REJECTED:
        row = by_ref[site["ref"]]
        assert row.action == "reject"
        assert any(site["reject"] in message for message in row.messages), row.messages
    if format_name.startswith("csv"):
        broken = by_ref["GE-199"]
        assert broken.action == "reject"
        assert any("number" in m or "no geometry" in m for m in broken.messages), broken.messages
    # every column is listed; the unknown price-like one is named, not dropped silently
    headers = [column.header for column in report.columns]
    extra = DBF_HEADERS["extra"] if format_name == "shp_zip" else HEADERS[language]["extra"]
    assert extra in headers
    assert any(extra in note for note in report.notes), report.notes
    assert "Kirche" in report.unknown_values.get("ownership", []) or language == "en"
    # all or nothing refuses; the valid rows go in on their own
    with pytest.raises(UploadRejected):
        sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert not Site.objects.exists()
    committed = sites_upload_commit(
        path=path, organisation=organisation, acting_user=partner, valid_only=True
    )
    assert committed.committed
    assert len(committed.site_ids) == len(VALID)
    assert set(Site.objects.values_list("partner_ref", flat=True)) == {s["ref"] for s in VALID}
    for site in VALID:
        check_site(site, language, format_name)
    # the report's values are what was stored
    values = {row.partner_ref: row.values for row in committed.rows}
    assert values["GE-101"]["price_eur_m2"] == 85.5
    assert values["GE-102"]["price_on_request"] is True
    assert values["GE-101"]["contact_email"] == "m.muster@essen.de"
    # the same file again: nothing changes
    again = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert {row.partner_ref: row.action for row in again.rows if row.action != "reject"} == {
        site["ref"]: "unchanged" for site in VALID
    }


def test_shapefile_umlauts_survive_iso_8859_1(tmp_path, organisation, partner, shapes):
    path = shapefile_zip(tmp_path, "de", shapes)
    sites_upload_commit(path=path, organisation=organisation, acting_user=partner, valid_only=True)
    assert Site.objects.get(partner_ref="GE-104").title == "Büro Zentrum"
    assert Site.objects.get(partner_ref="GE-103").bplan_status == "section_35"


def test_columns_are_reported_in_file_order(tmp_path, organisation, partner, shapes):
    path = geojson(tmp_path / "flaechen.geojson", "de", shapes)
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    readings = {c.header: (c.field, c.status) for c in report.columns}
    assert readings["Preis (€/m²)"] == ("price_eur_m2", "used")
    assert readings["Ansprechpartner"] == ("contact_name", "used")
    assert readings["Bodenrichtwert (€/m²)"] == (None, "not_used")
    assert [c.header for c in report.columns] == list(HEADERS["de"].values())
