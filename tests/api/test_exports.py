import csv
import io
import json
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from properties.models import Site
from properties.services import export
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

ESSEN = Point(362_800, 5_703_800, srid=25832)
DORTMUND = Point(393_200, 5_709_300, srid=25832)
FORMATS = ["csv", "xlsx", "geojson"]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


@pytest.fixture
def sites(essen, dortmund):
    return {
        "essen": SiteFactory(
            municipality=essen,
            at=ESSEN,
            title="Essen plot",
            area_m2=25_000,
            net_area_m2=20_000,
            price_eur_m2=Decimal("95.50"),
            restrictions=["noise", "mining"],
            has_water=True,
            has_power=True,
        ),
        "dortmund": SiteFactory(
            municipality=dortmund, at=DORTMUND, title="Dortmund hall", kind=Site.Kind.HALL
        ),
        "demo": SiteFactory(
            municipality=essen,
            at=Point(361_500, 5_704_500, srid=25832),
            title="Essen demo",
            is_demo=True,
        ),
        "draft": SiteFactory(
            municipality=essen,
            at=Point(364_000, 5_703_000, srid=25832),
            title="Essen draft",
            status=Site.Status.DRAFT,
        ),
    }


def url(fmt: str) -> str:
    return reverse(f"api-site-export-{fmt}")


def read(response, fmt: str) -> tuple[list[str], list[dict], list[str]]:
    """Header labels, rows keyed by label, and the attribution lines of an export."""
    if fmt == "csv":
        return read_csv(response.content)
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(response.content))
        sheet = workbook["Sites"]
        header, *data = [list(row) for row in sheet.iter_rows(values_only=True)]
        sources = [
            row[1] for row in workbook["Sources"].iter_rows(values_only=True) if row[0] == "Source"
        ]
        return header, [dict(zip(header, row, strict=True)) for row in data], sources
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    labels = body["columns"]
    rows = [
        {labels[k]: f["properties"].get(f"{k}_label", f["properties"][k]) for k in labels}
        for f in body["features"]
    ]
    return list(labels.values()), rows, body["attribution"]


def read_csv(content: bytes) -> tuple[list[str], list[dict], list[str]]:
    """A CSV export in either dialect: the sources once on the first line, then the table."""
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    first, rest = text[1:].split("\r\n", 1)
    delimiter = ";" if rest.split("\r\n", 1)[0].count(";") > 3 else ","
    (credit,) = next(csv.reader([first], delimiter=delimiter))
    label, _sep, sources = credit.partition(": ")
    assert label in ("Sources", "Quellen")
    reader = csv.DictReader(io.StringIO(rest), delimiter=delimiter)
    rows = list(reader)
    assert reader.fieldnames is not None
    return list(reader.fieldnames), rows, sources.split(" | ")


def titles(response, fmt: str) -> list[str]:
    return sorted(row["title"] for row in read(response, fmt)[1])


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_hides_drafts_and_has_filename_type_and_attribution(client, sites, fmt):
    response = client.get(url(fmt))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    assert response["Content-Disposition"].startswith('attachment; filename="sitefinder-sites-')
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    header, rows, sources = read(response, fmt)
    assert sorted(row["title"] for row in rows) == ["Dortmund hall", "Essen demo", "Essen plot"]
    assert header[:3] == ["ID", "title", "kind"]
    assert any("BKG" in line for line in sources)  # municipal boundaries
    assert any("DB Station" in line for line in sources)  # a distance layer
    assert any("demo" in line for line in sources)


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_cells_and_demo_flag(client, sites, fmt):
    _header, rows, _ = read(client.get(url(fmt), {"kind": "hall"}), fmt)
    assert [row["title"] for row in rows] == ["Dortmund hall"]
    assert rows[0]["kind"] == "Hall / production"

    _header, rows, _ = read(client.get(url(fmt), {"municipality": "05113000"}), fmt)
    by_title = {row["title"]: row for row in rows}
    assert sorted(by_title) == ["Essen demo", "Essen plot"]
    plot, demo = by_title["Essen plot"], by_title["Essen demo"]
    as_number = (lambda v: float(v.replace(",", "."))) if fmt == "csv" else (lambda v: v)
    assert as_number(plot["gross area (m²)"]) == pytest.approx(25_000)
    assert as_number(plot["gross area (ha)"]) == pytest.approx(2.5)
    assert as_number(plot["net area (ha)"]) == pytest.approx(2.0)
    assert Decimal(str(plot["sale price (€/m²)"])) == Decimal("95.50")
    assert plot["offer type"] == "Sale"
    assert plot["restrictions"] == "Noise, Mining damage"
    assert plot["servicing"] == "water, power"
    assert plot["municipality"] == "Essen" and plot["AGS"] == "05113000"
    assert plot["district"] == "Essen"
    assert plot["distance to station (m)"] not in (None, "")
    assert plot["distance to motorway junction (m)"] in (None, "")  # layer not loaded
    assert 6.9 < as_number(plot["longitude (WGS 84)"]) < 7.1
    assert 51.4 < as_number(plot["latitude (WGS 84)"]) < 51.5
    assert plot["detail page"].endswith(f"/sites/{sites['essen'].pk}/")
    flag = "Demo data (not a real site)"
    if fmt == "geojson":
        assert (plot[flag], demo[flag]) == (False, True)
    else:
        assert (plot[flag], demo[flag]) == ("no", "yes")


@pytest.mark.parametrize("fmt", FORMATS)
def test_ids_selection(client, sites, fmt):
    ids = f"{sites['essen'].pk},{sites['draft'].pk},999999"
    response = client.get(url(fmt), {"ids": ids})
    assert titles(response, fmt) == ["Essen plot"]  # draft invisible, unknown id ignored


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "castle"}, "kind"), ({"bbox": "1,2,3"}, "bbox"), ({"ids": "1,x"}, "ids")],
)
def test_bad_parameters_are_a_400_naming_the_field(client, sites, fmt, params, field):
    response = client.get(url(fmt), params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_rows_is_a_400(client, sites, fmt, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_MAX_ROWS", 2)
    response = client.get(url(fmt))
    assert response.status_code == 400
    assert "narrow the search" in response.json()["non_field_errors"][0]
    assert client.get(url(fmt), {"kind": "hall"}).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_query_count_does_not_grow_with_sites(client, essen, fmt, django_assert_max_num_queries):
    for i in range(25):
        SiteFactory(municipality=essen, seed=i)
    # count, rows, 1 boundary datasets + 3 layer sources (+ session headroom)
    with django_assert_max_num_queries(7):
        response = client.get(url(fmt))
    assert len(read(response, fmt)[1]) == 25


def test_labels_follow_the_language(client, sites):
    response = client.get(url("csv"), {"kind": "hall"}, HTTP_ACCEPT_LANGUAGE="de")
    header, rows, sources = read(response, "csv")
    assert header[:3] == ["ID", "Titel", "Art"]
    assert any("Demo" in line for line in sources)
    assert rows[0]["Art"] == "Halle / Produktion"
    assert rows[0]["Demodaten (keine echte Fläche)"] == "nein"
    workbook = load_workbook(io.BytesIO(client.get(url("xlsx"), HTTP_ACCEPT_LANGUAGE="de").content))
    assert workbook.sheetnames == ["Standorte", "Quellen"]


def test_xlsx_layout_and_sources_sheet(client, sites):
    workbook = load_workbook(io.BytesIO(client.get(url("xlsx"), {"kind": "plot"}).content))
    sheet = workbook["Sites"]
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["B"].width == 40
    sources = [row for row in workbook["Sources"].iter_rows(values_only=True) if row]
    labels = {row[0]: row[1] if len(row) > 1 else None for row in sources}
    assert labels["Filter"] == "kind=plot"
    assert labels["Exported at"]
    assert labels["Sites"] == 2


def test_geojson_geometry_and_metadata(client, sites):
    body = json.loads(client.get(url("geojson"), {"kind": "hall"}).content)
    assert body["generated_at"]
    assert body["filter"] == "kind=hall"
    (feature,) = body["features"]
    assert feature["id"] == sites["dortmund"].pk
    assert feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 7.3 < lon < 7.6 and 51.4 < lat < 51.6
    assert feature["properties"]["is_demo"] is False
    empty = json.loads(client.get(url("geojson"), {"ids": "999999"}).content)
    assert empty["features"] == []


# -- formula injection (issue 11): partner-set text never becomes a live formula ----------

EVIL_TITLES = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_prefixes_are_neutralised_in_every_text_cell(client, essen, fmt):
    for n, title in enumerate(EVIL_TITLES):
        at = Point(362_000 + n * 100, 5_703_800, srid=25832)
        SiteFactory(municipality=essen, at=at, title=title)
    response = client.get(url(fmt))
    assert response.status_code == 200
    _header, rows, _ = read(response, fmt)
    # (XLSX stores a carriage return in text as a line feed)
    got = sorted(row["title"].replace("\n", "\r") for row in rows)
    assert got == sorted("'" + t for t in EVIL_TITLES)
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content))["Sites"]
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert not [c for c in cells if c.data_type == "f"], "no formula cells"
        for cell in cells:
            if isinstance(cell.value, str):
                assert cell.data_type == "s"
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
    else:
        body = response.content.decode("utf-8")[1:]
        for line in csv.reader(io.StringIO(body)):  # English: comma separated
            assert not [cell for cell in line if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_negative_numbers_stay_numbers_in_xlsx_and_csv(sites):
    columns = export.export_columns(base_url="http://testserver/")
    rows = list(export.sites_export_rows(queryset=Site.objects.published(), columns=columns))
    price_key = next(c.key for c in columns if "price" in c.key)
    rows[0][price_key] = Decimal("-12.5")
    rows[0]["title"] = "-12.5"
    xlsx = export.sites_export_xlsx(
        rows=rows,
        columns=columns,
        attribution=["=evil source"],
        filter_query="title=%3D1",
        generated_at=timezone.localtime(),
    )
    workbook = load_workbook(io.BytesIO(xlsx))
    header, first, *_ = list(workbook["Sites"].iter_rows(values_only=True))
    row = dict(zip(header, first, strict=True))
    price_label = str(next(c.label for c in columns if c.key == price_key))
    assert row[price_label] == pytest.approx(-12.5)  # a number, not text
    assert row["title"] == "'-12.5"  # text that looks like a formula is text
    sources = [r for r in workbook["Sources"].iter_rows(values_only=True) if r[0] == "Source"]
    assert sources == [("Source", "'=evil source")]

    text = export.sites_export_csv(rows=rows, columns=columns, attribution=["@x"])
    _header, (first_row, *_rest), sources = read_csv(text)
    assert first_row[price_label] == "-12.5"
    assert first_row["title"] == "'-12.5"
    german = export.sites_export_csv(
        rows=rows, columns=columns, attribution=["@x"], dialect=export.CSV_DIALECTS["de"]
    )
    _header, (first_row, *_rest), _sources = read_csv(german)
    assert first_row[price_label] == "-12,5"  # a number in German Excel, not a formula


# -- dialects, the attribution once, codes in GeoJSON (issue 13) ---------------------------


def test_german_csv_uses_semicolons_and_decimal_commas(client, sites):
    response = client.get(url("csv"), {"kind": "plot"}, HTTP_ACCEPT_LANGUAGE="de")
    text = response.content.decode("utf-8")[1:]
    lines = text.split("\r\n")
    assert lines[0].lstrip('"').startswith("Quellen: ")
    assert lines[1].startswith("ID;Titel;Art;")
    header, rows, sources = read_csv(response.content)
    plot = next(row for row in rows if row["Titel"] == "Essen plot")
    assert plot["Bruttofläche (ha)"] == "2,50"
    assert plot["Kaufpreis (€/m²)"] == "95,50"
    assert len(sources) >= 3
    # The attribution is on its line only, not repeated in every row.
    assert text.count("BKG") == 1


def test_csv_dialect_parameter_overrides_the_language(client, sites):
    english = client.get(url("csv"), {"dialect": "en"}, HTTP_ACCEPT_LANGUAGE="de")
    assert english.content.decode("utf-8").split("\r\n")[1].startswith("ID,Titel,Art,")
    german = client.get(url("csv"), {"dialect": "de"})
    assert german.content.decode("utf-8").split("\r\n")[1].startswith("ID;title;kind;")
    bad = client.get(url("csv"), {"dialect": "excel"})
    assert bad.status_code == 400 and "dialect" in bad.json()


def test_geojson_carries_codes_whatever_the_language(client, sites):
    bodies = [
        json.loads(client.get(url("geojson"), {"kind": "hall"}, HTTP_ACCEPT_LANGUAGE=lang).content)
        for lang in ("de", "en")
    ]
    german, english = (body["features"][0]["properties"] for body in bodies)
    assert german["kind"] == english["kind"] == "hall"
    assert german["offer_types"] == english["offer_types"] == ["sale"]  # it has a sale price
    assert german["kind_label"] == "Halle / Produktion"
    assert english["kind_label"] == "Hall / production"
    assert german["planning_category"] == "GE" and german["ownership"] == "municipal"
    codes = {k: v for k, v in german.items() if not k.endswith("_label")}
    assert codes == {k: v for k, v in english.items() if not k.endswith("_label")}
