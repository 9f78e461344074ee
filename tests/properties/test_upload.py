"""Partner bulk upload: every format, dry run, commit, idempotence, all or nothing, and a
corpus of hostile and broken files generated here."""

import csv
import json
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.contrib.gis.geos import Point, Polygon

from accounts.models import User
from properties.models import Site
from properties.services.upload import (
    FieldChange,
    UploadError,
    UploadRejected,
    UploadRow,
    sites_upload_commit,
    sites_upload_plan,
)
from tests.factories import PartnerOrganisationFactory, UserFactory, square

pytestmark = pytest.mark.django_db

ROWS = [
    # partner_ref, title, kind (de), kind (en), area, price
    ("E-1", "Gewerbefläche Nord", "Grundstück", "plot", 10000, 85.5),
    ("E-2", "Büro am Park", "Büro", "office", 2500, 120.0),
    ("E-3", "Halle Süd", "Halle", "hall", 6400, None),
]


@pytest.fixture
def organisation(essen):
    return PartnerOrganisationFactory(municipalities=[essen])


@pytest.fixture
def partner(organisation):
    return UserFactory(role=User.Role.PARTNER, organisation=organisation)


@pytest.fixture
def centre(essen) -> Point:
    return essen.geom.buffer(-1500).point_on_surface


def squares(centre: Point) -> list[Polygon]:
    return [square(Point(centre.x + 300 * i, centre.y, srid=25832), 80) for i in range(3)]


def as_4326(geom):
    return geom.transform(4326, clone=True)


def geojson_file(path: Path, centre: Point, rows=ROWS, geoms=None, crs_25832=False) -> Path:
    geoms = geoms or squares(centre)
    features = []
    for (ref, title, _, kind, area, price), geom in zip(rows, geoms, strict=True):
        shape = geom if crs_25832 else as_4326(geom)
        properties = {
            "id": ref,
            "title": title,
            "kind": kind,
            "BauNVO": "GE",
            "B-Plan": "binding",
            "ownership": "public",
            "area": area,
            "price": price,
        }
        features.append(
            {"type": "Feature", "properties": properties, "geometry": json.loads(shape.json)}
        )
    collection: dict = {"type": "FeatureCollection", "features": features}
    if crs_25832:
        collection["crs"] = {"type": "name", "properties": {"name": "EPSG:25832"}}
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def expected(start: int, action: str = "create") -> list[tuple]:
    return [(start + i, ref, action, []) for i, (ref, *_) in enumerate(ROWS)]


def summary(rows: list[UploadRow]) -> list[tuple]:
    """(row, partner_ref, action, messages) of each row."""
    return [(r.row, r.partner_ref, r.action, r.messages) for r in rows]


def csv_comma(path: Path, centre: Point) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "site_id",
                "name",
                "type",
                "planning category",
                "bplan_status",
                "owner",
                "gross area",
                "price",
                "wkt",
                "colour",
            ]
        )
        for (ref, title, _, kind, area, price), geom in zip(ROWS, squares(centre), strict=True):
            writer.writerow(
                [
                    ref,
                    title,
                    kind,
                    "GE",
                    "binding",
                    "public",
                    area,
                    price or "",
                    as_4326(geom).wkt,
                    "blue",
                ]
            )
    return path


def csv_semicolon_german(path: Path, centre: Point, encoding="utf-8-sig") -> Path:
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "Flächen-ID",
                "Bezeichnung",
                "Art",
                "Gebietsart",
                "Planungsrecht",
                "Eigentum",
                "Größe (m²)",
                "Preis (€/m²)",
                "Verfügbar ab",
                "Gleisanschluss",
                "Geometrie",
            ]
        )
        for (ref, title, kind, _, area, price), geom in zip(ROWS, squares(centre), strict=True):
            german_area = f"{area:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")
            german_price = "" if price is None else f"{price:.2f}".replace(".", ",")
            writer.writerow(
                [
                    ref,
                    title,
                    kind,
                    "GE",
                    "rechtskräftig",
                    "öffentlich",
                    german_area,
                    german_price,
                    "01.03.2027",
                    "ja",
                    "SRID=25832;" + geom.wkt,
                ]
            )
    return path


def xlsx_file(path: Path, centre: Point) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["Objekt-Nr", "Titel", "Typ", "Gebietsart", "B-Plan", "Eigentum", "Fläche", "Preis", "wkt"]
    )
    for (ref, title, kind, _, area, price), geom in zip(ROWS, squares(centre), strict=True):
        sheet.append(
            [ref, title, kind, "GE", "rechtskräftig", "öffentlich", area, price, as_4326(geom).wkt]
        )
    workbook.save(path)
    return path


def ogr(source: Path, target: Path, driver: str) -> Path:
    subprocess.run(
        ["ogr2ogr", "-f", driver, str(target), str(source)], check=True, capture_output=True
    )
    return target


def shapefile_zip(tmp_path: Path, centre: Point) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    ogr(geojson_file(tmp_path / "src.geojson", centre), folder / "sites.shp", "ESRI Shapefile")
    target = tmp_path / "sites.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return target


FORMATS = {
    "geojson": (lambda tmp, c: geojson_file(tmp / "sites.geojson", c), 1),
    "geojson_25832": (lambda tmp, c: geojson_file(tmp / "sites.geojson", c, crs_25832=True), 1),
    "gpkg": (
        lambda tmp, c: ogr(geojson_file(tmp / "src.geojson", c), tmp / "sites.gpkg", "GPKG"),
        1,
    ),
    "shp_zip": (shapefile_zip, 1),
    "csv_comma": (lambda tmp, c: csv_comma(tmp / "sites.csv", c), 2),  # WKT, declared 4326
    "csv_semicolon_german": (lambda tmp, c: csv_semicolon_german(tmp / "sites.csv", c), 2),
    "xlsx": (lambda tmp, c: xlsx_file(tmp / "sites.xlsx", c), 2),
}


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_plans_three_creates(name, tmp_path, centre, organisation, partner):
    build, first_row = FORMATS[name]
    path = build(tmp_path, centre)
    declared = 4326 if name in ("csv_comma", "xlsx") else None  # WKT without SRID
    report = sites_upload_plan(
        path=path, organisation=organisation, acting_user=partner, declared_srid=declared
    )
    assert summary(report.rows) == expected(first_row)
    assert report.counts == {"create": 3, "update": 0, "unchanged": 0, "reject": 0, "missing": 0}
    assert not Site.objects.exists()  # the dry run writes nothing


def test_german_csv_values_are_read(tmp_path, centre, organisation, partner, essen):
    path = csv_semicolon_german(tmp_path / "sites.csv", centre)
    report = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert report.committed
    site = Site.objects.get(partner_ref="E-1")
    assert (site.kind, site.bplan_status, site.ownership) == ("plot", "binding", "municipal")
    assert site.gross_area_m2 == 10000.0
    assert float(site.price_eur_m2) == 85.5
    assert str(site.available_from) == "2027-03-01"
    assert site.has_rail_siding is True
    assert report.ignored_columns == []


def test_commit_creates_then_reupload_changes_nothing(
    tmp_path, centre, organisation, partner, essen
):
    path = geojson_file(tmp_path / "sites.geojson", centre)
    report = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert report.counts["create"] == 3
    sites = Site.objects.filter(organisation=organisation).order_by("partner_ref")
    assert [s.partner_ref for s in sites] == ["E-1", "E-2", "E-3"]
    for site in sites:
        assert site.status == Site.Status.DRAFT
        assert site.municipality == essen
        assert site.verified_by == partner
        assert site.last_verified_at is not None
        assert site.distances_computed_at is not None
    before = {s.pk: (s.updated_at, s.last_verified_at) for s in sites}

    again = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert summary(again.rows) == expected(1, "unchanged")
    after = {s.pk: (s.updated_at, s.last_verified_at) for s in Site.objects.all()}
    assert after == before


def test_changed_row_is_an_update(tmp_path, centre, organisation, partner):
    sites_upload_commit(
        path=geojson_file(tmp_path / "a.geojson", centre),
        organisation=organisation,
        acting_user=partner,
    )
    rows = [ROWS[0], (ROWS[1][0], "Büro am Stadtpark", *ROWS[1][2:]), ROWS[2]]
    path = geojson_file(tmp_path / "b.geojson", centre, rows=rows)
    report = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert [r.action for r in report.rows] == ["unchanged", "update", "unchanged"]
    assert report.rows[1].messages == []
    assert report.rows[1].changes == [
        FieldChange("title", "title", "Büro am Park", "Büro am Stadtpark")
    ]
    site = Site.objects.get(partner_ref="E-2")
    assert site.title == "Büro am Stadtpark"
    # The upload is in the site's history like any edit: who, what before and after.
    assert site.version == 2
    created, changed = site.changes.order_by("changed_at", "id")
    assert (created.action, created.before, created.version) == ("uploaded", {}, 1)
    assert created.after["title"] == ROWS[1][1] and "geom" in created.after
    assert (changed.action, changed.changed_by, changed.reason) == (
        "uploaded",
        partner,
        "Upload: b.geojson",
    )
    assert changed.before == {"title": ROWS[1][1]}
    assert changed.after == {"title": "Büro am Stadtpark"}
    assert changed.version == 2
    assert Site.objects.get(partner_ref="E-1").changes.count() == 1  # unchanged: no new entry


def test_one_bad_row_writes_nothing(tmp_path, centre, organisation, partner):
    rows = [ROWS[0], (ROWS[1][0], ROWS[1][1], "", "Wiese", 2500, 1.0), ROWS[2]]
    path = geojson_file(tmp_path / "sites.geojson", centre, rows=rows)
    with pytest.raises(UploadRejected) as caught:
        sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    bad = caught.value.report.rows[1]
    assert bad.action == "reject"
    assert bad.messages[0].startswith(
        "kind: “Wiese” is not understood; allowed: Plot (plot), Office"
    )
    assert not Site.objects.exists()
    assert "rejected" in caught.value.report.as_csv()


def test_row_in_another_municipality_is_rejected(tmp_path, centre, organisation, partner, dortmund):
    elsewhere = dortmund.geom.buffer(-1500).point_on_surface
    geoms = [*squares(centre)[:2], square(elsewhere, 80)]
    path = geojson_file(tmp_path / "sites.geojson", centre, geoms=geoms)
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert summary(report.rows)[2] == (
        3,
        "E-3",
        "reject",
        ["lies in Dortmund, which your organisation does not manage"],
    )
    with pytest.raises(UploadRejected):
        sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert not Site.objects.exists()


def test_lon_lat_columns_with_decimal_commas(tmp_path, centre, organisation, partner):
    point = as_4326(Point(centre.x, centre.y, srid=25832))
    path = tmp_path / "points.csv"
    path.write_text(
        "Objekt-Nr;Titel;Art;Gebietsart;B-Plan;Eigentum;Fläche;Längengrad;Breitengrad;Farbe\n"
        f"P-1;Büro;Büro;MI;§34;privat;1.234,5;{str(point.x).replace('.', ',')};"
        f"{str(point.y).replace('.', ',')};rot\n",
        encoding="utf-8",
    )
    report = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert summary(report.rows) == [(2, "P-1", "create", [])]
    assert report.ignored_columns == ["Farbe"]
    site = Site.objects.get()
    assert (site.gross_area_m2, site.bplan_status, site.geom.geom_type) == (
        1234.5,
        "section_34",
        "Point",
    )


# -- hostile and broken files ---------------------------------------------------------------


def zip_bomb(tmp_path, centre):
    path = tmp_path / "bomb.zip"
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.shp", "w", force_zip64=True) as entry:
            for _ in range(200):
                entry.write(chunk)
    return path


def zip_slip(tmp_path, centre):
    path = tmp_path / "slip.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.shp", b"x" * 100)
    return path


def vsicurl(tmp_path, centre):
    return Path("/vsicurl/http://example.org/sites.geojson")


def vrt(tmp_path, centre):
    path = tmp_path / "sites.vrt"
    path.write_text(
        "<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>/etc/passwd"
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"
    )
    return path


def _xlsx_with_sheet_doctype(tmp_path, name, doctype: str, cell: str) -> Path:
    """A minimal valid workbook whose first sheet's XML carries a DTD."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "title", "wkt"])
    workbook.save(tmp_path / "plain.xlsx")
    sheet = (
        '<?xml version="1.0"?>' + doctype + '<worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        + cell
        + "</t></is></c></row></sheetData></worksheet>"
    )
    path = tmp_path / name
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            target.writestr(item, data)
    return path


def xml_bomb(tmp_path, centre):
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    doctype = '<!DOCTYPE worksheet [<!ENTITY lol0 "lol">' + entities + "]>"
    return _xlsx_with_sheet_doctype(tmp_path, "bomb.xlsx", doctype, "&lol9;")


def xml_external_entity(tmp_path, centre):
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return _xlsx_with_sheet_doctype(tmp_path, "xxe.xlsx", doctype, "&xxe;")


def empty_file(tmp_path, centre):
    path = tmp_path / "empty.geojson"
    path.write_bytes(b"")
    return path


def header_only_csv(tmp_path, centre):
    path = tmp_path / "header.csv"
    path.write_text("id;Titel;wkt\n")
    return path


def kml_file(tmp_path, centre):
    path = tmp_path / "sites.kml"
    path.write_text("<kml/>")
    return path


HOSTILE_FILES = {
    "zip_bomb": (zip_bomb, "zip bomb"),
    "zip_slip": (zip_slip, "unsafe path in the zip"),
    "vsicurl": (vsicurl, "not GDAL virtual files or URLs"),
    "vrt": (vrt, "VRT files are not accepted"),
    "xml_bomb": (xml_bomb, "XML entity or DTD declarations"),
    "xml_external_entity": (xml_external_entity, "XML entity or DTD declarations"),
    "empty": (empty_file, "the file is empty"),
    "header_only": (header_only_csv, "the file holds no rows"),
    "kml": (kml_file, "files of type '.kml' are not accepted"),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file_is_refused_and_nothing_written(name, tmp_path, centre, organisation, partner):
    build, message = HOSTILE_FILES[name]
    path = build(tmp_path, centre)
    with pytest.raises(UploadError, match=message):
        sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert not Site.objects.exists()
    # The server is still healthy: a normal upload goes through.
    good = geojson_file(tmp_path / "good.geojson", centre)
    assert sites_upload_commit(path=good, organisation=organisation, acting_user=partner).committed


def _bad_rows(tmp_path, centre, geoms, rows=None, **kwargs):
    rows = rows or ROWS[: len(geoms)]
    return geojson_file(tmp_path / "bad.geojson", centre, rows=rows, geoms=geoms, **kwargs)


def test_self_intersection_is_repaired_with_a_note(tmp_path, centre, organisation, partner):
    x, y = centre.x, centre.y
    # A square whose last edge crosses the first one, leaving a tiny second lobe.
    ring = [
        (x, y),
        (x + 100, y),
        (x + 100, y + 100),
        (x, y + 100),
        (x + 2, y - 1),
        (x - 1, y + 2),
        (x, y),
    ]
    path = _bad_rows(tmp_path, centre, [Polygon(ring, srid=25832)])
    report = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert summary(report.rows) == [(1, "E-1", "create", ["repaired: self-intersection"])]
    assert Site.objects.get().geom.valid


def test_bowtie_that_repair_would_change_is_rejected(tmp_path, centre, organisation, partner):
    x, y = centre.x, centre.y
    ring = [(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100), (x, y)]
    report = sites_upload_plan(
        path=_bad_rows(tmp_path, centre, [Polygon(ring, srid=25832)]),
        organisation=organisation,
        acting_user=partner,
    )
    assert report.rows[0].action == "reject"
    assert "invalid geometry (self-intersection)" in report.rows[0].messages[0]


def test_million_vertices_rejected_fast(tmp_path, centre, organisation, partner):
    import math

    x, y = centre.x, centre.y
    n = 1_000_000
    ring = [
        (x + 200 * math.cos(2 * math.pi * i / n), y + 200 * math.sin(2 * math.pi * i / n))
        for i in range(n)
    ]
    ring.append(ring[0])
    path = tmp_path / "huge.csv"
    wkt = "POLYGON((" + ",".join(f"{a:.2f} {b:.2f}" for a, b in ring) + "))"
    path.write_text(
        "id;title;kind;BauNVO;B-Plan;ownership;wkt\n"
        f'H-1;Huge;plot;GE;binding;public;"SRID=25832;{wkt}"\n'
    )
    started = time.monotonic()
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert time.monotonic() - started < 10
    assert report.rows[0].action == "reject"
    assert report.rows[0].messages == [
        "the geometry has 1,000,001 vertices; at most 10,000 per feature are accepted (simplify it)"
    ]


def test_cp1252_csv_with_umlauts(tmp_path, centre, organisation, partner):
    path = csv_semicolon_german(tmp_path / "sites.csv", centre, encoding="cp1252")
    report = sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert report.notes == [
        "The file is not UTF-8: read as Windows-1252 (cp1252); check the umlauts."
    ]
    assert Site.objects.get(partner_ref="E-1").title == "Gewerbefläche Nord"


def test_mixed_geometry_types(tmp_path, centre, organisation, partner):
    from django.contrib.gis.geos import LineString

    geoms = [
        Point(centre.x, centre.y, srid=25832),
        squares(centre)[1],
        LineString((centre.x, centre.y), (centre.x + 50, centre.y + 50), srid=25832),
    ]
    report = sites_upload_plan(
        path=_bad_rows(tmp_path, centre, geoms), organisation=organisation, acting_user=partner
    )
    assert [r.action for r in report.rows] == ["create", "create", "reject"], report.rows
    assert report.rows[2].messages == [
        "geometry type Linestring is not accepted: use Point, Polygon or MultiPolygon"
    ]


def test_duplicate_ids(tmp_path, centre, organisation, partner):
    rows = [ROWS[0], ROWS[1], (ROWS[0][0], *ROWS[2][1:])]
    report = sites_upload_plan(
        path=geojson_file(tmp_path / "dup.geojson", centre, rows=rows),
        organisation=organisation,
        acting_user=partner,
    )
    assert [r.action for r in report.rows] == ["reject", "create", "reject"]
    assert report.rows[0].messages == ["id E-1 appears more than once in the file (rows 1, 3)"]


def test_outside_the_region(tmp_path, centre, organisation, partner):
    cologne = Point(6.96, 50.94, srid=4326).transform(25832, clone=True)
    report = sites_upload_plan(
        path=_bad_rows(tmp_path, centre, [square(cologne, 80)]),
        organisation=organisation,
        acting_user=partner,
    )
    assert report.rows[0].messages == ["outside the Ruhr area"]


def test_utm_coordinates_declared_as_4326(tmp_path, centre, organisation, partner):
    path = tmp_path / "utm.csv"
    path.write_text(
        "id,title,kind,BauNVO,B-Plan,ownership,area,x,y\n"
        f"U-1,Platz,plot,GE,binding,public,500,{centre.x:.1f},{centre.y:.1f}\n"
    )
    report = sites_upload_plan(
        path=path, organisation=organisation, acting_user=partner, declared_srid=4326
    )
    assert report.rows[0].action == "reject"
    assert (
        "look like EPSG:25832 metres, but the file is read as EPSG:4326"
        in (report.rows[0].messages[0])
    )
    # Undeclared, the magnitude tells: read as EPSG:25832 with a note.
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert summary(report.rows) == [(2, "U-1", "create", [])]
    # said once for the file, not on every row
    assert report.notes == [
        "Coordinate system not stated: 1 rows read as EPSG:25832 from the coordinate values."
    ]


def test_unreadable_wkt_and_nan_coordinates_are_row_messages(
    tmp_path, centre, organisation, partner
):
    point = as_4326(Point(centre.x, centre.y, srid=25832))
    path = tmp_path / "mixed.csv"
    path.write_text(
        "id,title,kind,BauNVO,B-Plan,ownership,area,wkt\n"
        f'W-1,Gut,plot,GE,binding,public,500,"POINT({point.x} {point.y})"\n'
        'W-2,Kaputt,plot,GE,binding,public,500,"POLYGON((1 2, 3"\n'
        'W-3,NaN,plot,GE,binding,public,500,"POINT(NaN 51.4)"\n'
        'W-4,Inf,plot,GE,binding,public,500,"POINT(7 Infinity)"\n'
    )
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert summary(report.rows) == [
        (2, "W-1", "create", []),
        (3, "W-2", "reject", ["the geometry could not be read as WKT"]),
        (4, "W-3", "reject", ["the geometry has coordinates that are not numbers"]),
        (5, "W-4", "reject", ["the geometry has coordinates that are not numbers"]),
    ]
    lonlat = tmp_path / "lonlat.csv"
    lonlat.write_text(
        "id,title,kind,BauNVO,B-Plan,ownership,area,lon,lat\n"
        "N-1,NaN,plot,GE,binding,public,500,nan,51.4\n"
    )
    report = sites_upload_plan(path=lonlat, organisation=organisation, acting_user=partner)
    assert report.rows[0].messages == ["coordinates: 'nan' is not a number"]
