"""The upload's ways through: the organisation's mappings on its next upload, committing the
valid rows only, the rejected rows as a file to fix and upload again, a re-upload that lacks
a site, the command line, the report in German and as JSON."""

import csv
import io
import json
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import User
from properties.models import Site, SiteChange, UploadMapping
from properties.services.upload import (
    UploadError,
    UploadRejected,
    UploadReport,
    sites_upload_commit,
    sites_upload_plan,
    upload_mapping_delete,
    upload_mapping_set,
    upload_rejected_rows_file,
)
from tests.factories import PartnerOrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "Nr;Titel;Art;Gebiet;Planungsrecht;Eigentum;Fläche;Kaufpreis;Kontakt;Geometrie"
# a column nobody but this partner calls so
OWN_HEADER = HEADER.replace("Eigentum", "Träger")


@pytest.fixture
def organisation(essen):
    return PartnerOrganisationFactory(municipalities=[essen])


@pytest.fixture
def partner(organisation):
    return UserFactory(role=User.Role.PARTNER, organisation=organisation)


@pytest.fixture
def spot(essen):
    centre = essen.geom.buffer(-1500).point_on_surface
    return centre.x, centre.y


def line(ref, spot, offset, title="Fläche", owner="Stadt", price="50", kind="Grundstück"):
    x, y = spot[0] + 200 * offset, spot[1]
    return [
        *f"{ref};{title};{kind};GE;rechtskräftig;{owner};1.000;{price};info@essen.de".split(";"),
        f"SRID=25832;POINT({x:.1f} {y:.1f})",
    ]


def write_csv(path: Path, lines: list[list[str]], header: str = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header.split(";"))
        writer.writerows(lines)
    return path


def test_mapping_a_column_and_a_value_is_reused_on_the_next_upload(
    tmp_path, organisation, partner, spot
):
    path = write_csv(
        tmp_path / "a.csv",
        [line("A-1", spot, 0, owner="Eigenbetrieb"), line("A-2", spot, 1, owner="Stadt")],
        OWN_HEADER,
    )
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    columns = {c.header: c for c in report.columns}
    assert columns["Träger"].status == "not_used"
    assert all(row.action == "reject" for row in report.rows)  # no ownership column
    upload_mapping_set(
        organisation=organisation,
        kind="column",
        field="ownership",
        source="Träger",
        acting_user=partner,
    )
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert {c.header: c.status for c in report.columns}["Träger"] == "mapped"
    assert [row.action for row in report.rows] == ["reject", "create"]
    assert report.unknown_values == {"ownership": ["Eigenbetrieb"]}
    upload_mapping_set(
        organisation=organisation,
        kind="value",
        field="ownership",
        source="Eigenbetrieb",
        value="municipal",
        acting_user=partner,
    )
    # a second file of the same partner: both mappings apply without asking again
    second = write_csv(
        tmp_path / "b.csv",
        [line("A-3", spot, 2, owner="EIGENBETRIEB"), line("A-4", spot, 3)],
        OWN_HEADER,
    )
    report = sites_upload_commit(path=second, organisation=organisation, acting_user=partner)
    assert report.committed
    assert Site.objects.get(partner_ref="A-3").ownership == "municipal"
    # another organisation's upload is not affected
    other = PartnerOrganisationFactory(municipalities=list(organisation.municipalities.all()))
    report = sites_upload_plan(path=second, organisation=other, acting_user=None)
    assert {c.header: c.status for c in report.columns}["Träger"] == "not_used"


def test_mapping_a_column_to_nothing_ignores_it(tmp_path, organisation, partner, spot):
    path = write_csv(tmp_path / "a.csv", [line("A-1", spot, 0)])
    mapping = upload_mapping_set(
        organisation=organisation, kind="column", field="", source="Kaufpreis", acting_user=partner
    )
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert {c.header: c.status for c in report.columns}["Kaufpreis"] == "not_used"
    upload_mapping_delete(mapping=mapping, acting_user=partner)
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    assert {c.header: c.status for c in report.columns}["Kaufpreis"] == "used"


def test_one_mapping_per_column(organisation, partner):
    upload_mapping_set(
        organisation=organisation, kind="column", field="title", source="Bez.", acting_user=partner
    )
    upload_mapping_set(
        organisation=organisation,
        kind="column",
        field="description",
        source="bez",
        acting_user=partner,
    )
    assert list(UploadMapping.objects.values_list("field", flat=True)) == ["description"]


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [("value", "ownership", "church"), ("value", "title", "x"), ("column", "nonsense", "")],
)
def test_mapping_refuses_nonsense(kind, field, value, organisation, partner):
    with pytest.raises(ValidationError):
        upload_mapping_set(
            organisation=organisation,
            kind=kind,
            field=field,
            source="Kirche",
            value=value,
            acting_user=partner,
        )


def test_valid_only_commits_the_valid_rows_atomically(tmp_path, organisation, partner, spot):
    path = write_csv(
        tmp_path / "a.csv",
        [
            line("A-1", spot, 0),
            line("A-2", spot, 1, kind="Wiese"),
            line("A-3", spot, 2, price="teuer"),
            line("A-4", spot, 3),
        ],
    )
    with pytest.raises(UploadRejected) as caught:
        sites_upload_commit(path=path, organisation=organisation, acting_user=partner)
    assert caught.value.report.counts["reject"] == 2
    assert not Site.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        report = sites_upload_commit(
            path=path, organisation=organisation, acting_user=partner, valid_only=True
        )
    assert report.committed
    assert [(r.partner_ref, r.action) for r in report.rows] == [
        ("A-1", "create"),
        ("A-2", "reject"),
        ("A-3", "reject"),
        ("A-4", "create"),
    ]
    assert sorted(Site.objects.values_list("partner_ref", flat=True)) == ["A-1", "A-4"]
    inserts = [q for q in queries.captured_queries if "INSERT INTO properties_site " in q["sql"]]
    assert len(inserts) == 1  # one statement: all valid rows or none


def test_valid_only_with_nothing_valid_writes_nothing(tmp_path, organisation, partner, spot):
    path = write_csv(tmp_path / "a.csv", [line("A-1", spot, 0, kind="Wiese")])
    with pytest.raises(UploadRejected):
        sites_upload_commit(
            path=path, organisation=organisation, acting_user=partner, valid_only=True
        )
    assert not Site.objects.exists()


def test_rejected_rows_file_csv_round_trip(tmp_path, organisation, partner, spot):
    path = write_csv(
        tmp_path / "liste.csv",
        [line("A-1", spot, 0), line("A-2", spot, 1, kind="Wiese"), line("A-3", spot, 2)],
    )
    report = sites_upload_commit(
        path=path, organisation=organisation, acting_user=partner, valid_only=True
    )
    with translation.override("de"):
        content, content_type, name = upload_rejected_rows_file(
            path=path, report=report, filename="liste.csv"
        )
    assert content_type.startswith("text/csv") and name.endswith(".csv")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [*HEADER.split(";"), "Fehler"]
    assert [row[0] for row in rows[1:]] == ["A-2"]
    assert "Wiese" in rows[1][-1]
    # fixed and uploaded again (the error column is not understood and not used)
    rows[1][2] = "Grundstück"
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    again = sites_upload_commit(path=fixed, organisation=organisation, acting_user=partner)
    assert [(r.partner_ref, r.action) for r in again.rows] == [("A-2", "create")]
    assert Site.objects.count() == 3


def test_rejected_rows_file_xlsx(tmp_path, organisation, partner, spot):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for values in [HEADER.split(";"), line("X-1", spot, 0), line("X-2", spot, 1, kind="Wiese")]:
        sheet.append(values)
    path = tmp_path / "liste.xlsx"
    workbook.save(path)
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    with translation.override("en"):
        content, content_type, name = upload_rejected_rows_file(
            path=path, report=report, filename="liste.xlsx"
        )
    assert name.endswith(".xlsx") and "spreadsheetml" in content_type
    out = openpyxl.load_workbook(io.BytesIO(content))
    values = list(out.active.iter_rows(values_only=True))
    assert values[0][-1] == "errors"
    assert [row[0] for row in values[1:]] == ["X-2"]


def test_rejected_rows_file_never_holds_a_live_formula(tmp_path, organisation, partner, spot):
    """A title typed as a formula comes back as text in the CSV and the XLSX, and the
    apostrophe that keeps it text is taken off again when the fixed file is uploaded."""
    title = '=HYPERLINK("http://evil.example","x")'
    rows = [line("F-1", spot, 0, title=title, kind="Wiese")]
    csv_path = write_csv(tmp_path / "formel.csv", rows)
    report = sites_upload_plan(path=csv_path, organisation=organisation, acting_user=partner)
    content, _, _ = upload_rejected_rows_file(path=csv_path, report=report, filename="formel.csv")
    cells = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))[1]
    assert cells[1] == "'" + title
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    cells[2] = "Grundstück"
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, delimiter=";").writerows([HEADER.split(";"), cells[:-1]])
    sites_upload_commit(path=fixed, organisation=organisation, acting_user=partner)
    assert Site.objects.get(partner_ref="F-1").title == title

    workbook = openpyxl.Workbook()
    for values in [HEADER.split(";"), *rows]:
        workbook.active.append(values)
    workbook.active.cell(row=2, column=2).data_type = "s"  # typed as text in the partner's file
    xlsx_path = tmp_path / "formel.xlsx"
    workbook.save(xlsx_path)
    report = sites_upload_plan(path=xlsx_path, organisation=organisation, acting_user=partner)
    content, _, _ = upload_rejected_rows_file(path=xlsx_path, report=report, filename="f.xlsx")
    cell = openpyxl.load_workbook(io.BytesIO(content)).active.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value == "'" + title


def test_rejected_rows_file_geojson_and_geopackage(tmp_path, organisation, partner, spot):
    import subprocess

    from django.contrib.gis.geos import Point

    features = []
    for number, kind in enumerate(["plot", "meadow"]):
        point = Point(spot[0] + 100 * number, spot[1], srid=25832).transform(4326, clone=True)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"G-{number}",
                    "title": "T",
                    "kind": kind,
                    "zoning": "GE",
                    "B-Plan": "binding",
                    "owner": "private",
                    "area": 100,
                },
                "geometry": json.loads(point.json),
            }
        )
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    content, content_type, name = upload_rejected_rows_file(
        path=path, report=report, filename="sites.geojson"
    )
    data = json.loads(content)
    assert content_type == "application/geo+json" and name.endswith(".geojson")
    assert [f["properties"]["id"] for f in data["features"]] == ["G-1"]
    assert "meadow" in data["features"][0]["properties"]["errors"]
    gpkg = tmp_path / "sites.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(path)], check=True)
    report = sites_upload_plan(path=gpkg, organisation=organisation, acting_user=partner)
    content, content_type, name = upload_rejected_rows_file(
        path=gpkg, report=report, filename="sites.gpkg"
    )
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert name.endswith(".csv") and rows[0][-2:] == ["wkt", "errors"]
    assert rows[1][0] == "G-1" and rows[1][-2].startswith("POINT")


def test_reupload_lists_the_missing_site_and_withdraws_it(tmp_path, organisation, partner, spot):
    first = write_csv(
        tmp_path / "a.csv", [line("M-1", spot, 0), line("M-2", spot, 1), line("M-3", spot, 2)]
    )
    sites_upload_commit(
        path=first, organisation=organisation, acting_user=partner, source_name="Gewerbe"
    )
    # A site of another list and a hand-made site are never "missing" from this one.
    other = write_csv(tmp_path / "o.csv", [line("O-1", spot, 4)])
    sites_upload_commit(
        path=other, organisation=organisation, acting_user=partner, source_name="Büro"
    )
    second = write_csv(
        tmp_path / "b.csv",
        [line("M-1", spot, 0), line("M-3", spot, 2, title="Fläche neu", price="55")],
    )
    report = sites_upload_plan(
        path=second, organisation=organisation, acting_user=partner, source_name="Gewerbe"
    )
    assert [(m.partner_ref, m.status) for m in report.missing] == [("M-2", "draft")]
    assert report.counts["missing"] == 1
    changed = next(row for row in report.rows if row.partner_ref == "M-3")
    assert changed.action == "update"
    assert [(c.field, c.label, c.old, c.new) for c in changed.changes] == [
        ("title", "title", "Fläche", "Fläche neu"),
        ("price_eur_m2", "sale price (€/m²)", "50", "55"),
    ]
    # all uploaded sites of the organisation when no list is named
    unscoped = sites_upload_plan(path=second, organisation=organisation, acting_user=partner)
    assert sorted(m.partner_ref for m in unscoped.missing) == ["M-2", "O-1"]
    with pytest.raises(UploadError, match="not one of the sites missing"):
        sites_upload_commit(
            path=second,
            organisation=organisation,
            acting_user=partner,
            source_name="Gewerbe",
            withdraw_missing=[Site.objects.get(partner_ref="O-1").pk],
        )
    assert Site.objects.get(partner_ref="M-3").title == "Fläche"  # nothing half-written
    committed = sites_upload_commit(
        path=second,
        organisation=organisation,
        acting_user=partner,
        source_name="Gewerbe",
        withdraw_missing="all",
    )
    gone = Site.objects.get(partner_ref="M-2")
    assert committed.withdrawn_ids == [gone.pk]
    assert gone.status == Site.Status.WITHDRAWN
    assert gone.changes.filter(action=SiteChange.Action.WITHDRAWN, changed_by=partner).exists()
    assert Site.objects.get(partner_ref="O-1").status == Site.Status.DRAFT
    # withdrawn: no longer missing
    again = sites_upload_plan(
        path=second, organisation=organisation, acting_user=partner, source_name="Gewerbe"
    )
    assert again.missing == []


def test_report_speaks_german(tmp_path, organisation, partner, spot):
    path = write_csv(tmp_path / "a.csv", [line("A-1", spot, 0, kind="Wiese")])
    with translation.override("de"):
        report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    row = report.rows[0]
    assert row.row_label == "Zeile 2"
    assert row.messages[0].startswith("Art: „Wiese“ wird nicht verstanden")
    assert {c.header: c.label for c in report.columns}["Eigentum"] == "Eigentum"


def test_progress_is_reported(tmp_path, organisation, partner, spot):
    path = write_csv(tmp_path / "a.csv", [line(f"P-{i}", spot, i % 5) for i in range(1200)])
    calls = []
    sites_upload_plan(
        path=path,
        organisation=organisation,
        acting_user=partner,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert [c for c in calls if c[0] == "read"] == [
        ("read", 500, None),
        ("read", 1000, None),
        ("read", 1200, 1200),
    ]
    assert [c[1] for c in calls if c[0] == "checked"] == [1, 2, 3, 4]


def test_report_json_round_trip(tmp_path, organisation, partner, spot):
    path = write_csv(tmp_path / "a.csv", [line("A-1", spot, 0), line("A-2", spot, 1, kind="?x")])
    report = sites_upload_plan(path=path, organisation=organisation, acting_user=partner)
    data = json.loads(json.dumps(report.to_json()))
    assert UploadReport.from_json(data) == report


def run_cli(*args, **options) -> tuple[dict, int]:
    out = StringIO()
    try:
        call_command("upload_sites", *args, json=True, stdout=out, **options)
    except CommandError as exc:
        return json.loads(out.getvalue().splitlines()[-1]), exc.returncode
    return json.loads(out.getvalue()), 0


def test_command_line_json(tmp_path, organisation, partner, spot):
    path = write_csv(
        tmp_path / "a.csv",
        [line("C-1", spot, 0, price="12,50 €"), line("C-2", spot, 1, price="auf Anfrage")],
    )
    data, code = run_cli(str(path), organisation=organisation.pk)
    assert code == 0
    assert {k: data[k] for k in ("create", "update", "unchanged", "reject", "missing")} == {
        "create": 2,
        "update": 0,
        "unchanged": 0,
        "reject": 0,
        "missing": 0,
    }
    assert data["counts"]["rows"] == 2 and data["committed"] is False
    first = data["rows"][0]
    assert {k: first[k] for k in ("row", "partner_ref", "action", "messages")} == {
        "row": 2,
        "partner_ref": "C-1",
        "action": "create",
        "messages": [],
    }
    values = first["values"]
    assert values["price_eur_m2"] == 12.5 and values["price_on_request"] is False
    assert values["contact_email"] == "info@essen.de" and values["gross_area_m2"] == 1000
    assert values["available_from"] is None
    assert data["rows"][1]["values"]["price_on_request"] is True
    assert not Site.objects.exists()
    data, code = run_cli(str(path), organisation=organisation.pk, commit=True)
    assert (code, data["committed"], Site.objects.count()) == (0, True, 2)


def test_command_line_refusals(tmp_path, organisation, spot):
    path = write_csv(tmp_path / "a.csv", [line("C-1", spot, 0), line("C-2", spot, 1, kind="?")])
    data, code = run_cli(str(path), organisation=organisation.pk, commit=True)
    assert code == 2 and data["committed"] is False and data["reject"] == 1
    assert not Site.objects.exists()
    data, code = run_cli(str(path), organisation=organisation.pk, commit=True, valid_only=True)
    assert code == 0 and data["committed"] is True and Site.objects.count() == 1
    data, code = run_cli(str(tmp_path / "missing.csv"), organisation=organisation.pk)
    assert code == 1 and "no such file" in data["error"]
    data, code = run_cli(str(path), organisation=999_999)
    assert code == 1 and "no partner organisation" in data["error"]


def test_partner_organisation_create(essen, dortmund):
    out = StringIO()
    call_command(
        "partner_organisation_create",
        name="Wirtschaftsförderung  Ruhr-Mitte",
        ags=[essen.ags, dortmund.ags.lstrip("0")],
        stdout=out,
    )
    new_id = int(out.getvalue().strip().splitlines()[-1])
    organisation = PartnerOrganisationFactory._meta.model.objects.get(pk=new_id)
    assert organisation.name == "Wirtschaftsförderung Ruhr-Mitte"
    assert set(organisation.municipalities.all()) == {essen, dortmund}
    with pytest.raises(CommandError, match="unknown AGS: 99999999"):
        call_command("partner_organisation_create", name="X", ags=["99999999"], stdout=out)
    with pytest.raises(CommandError, match="name"):
        call_command(
            "partner_organisation_create",
            name="Wirtschaftsförderung Ruhr-Mitte",
            ags=[essen.ags],
            stdout=out,
        )
