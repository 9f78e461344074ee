"""The partner's bulk upload workflow: the file is stored and checked as a background job
(run at once by the tests' immediate task backend), its report offers the mapping step, the
commit of the valid rows after a confirmation, the rejected rows as a file, and the choice
for sites not in this upload; the organisation's mappings have a page of their own."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from properties.models import Site, UploadJob, UploadMapping
from properties.services.upload_jobs import (
    ProgressWriter,
    UploadBusy,
    upload_job_start,
)
from tests.factories import PartnerOrganisationFactory, square

pytestmark = pytest.mark.django_db

UNKNOWN_OWNERSHIP = "Erbengemeinschaft Müller"
UNKNOWN_COLUMN = "Vermarktungsnotiz"


def inside(municipality) -> Point:
    return municipality.geom.buffer(-1500).point_on_surface


def feature(centre: Point, number: int, ref: str, **properties) -> dict:
    geom = square(Point(centre.x + 300 * number, centre.y, srid=25832), 80)
    return {
        "type": "Feature",
        "properties": {
            "id": ref,
            "title": f"Upload {ref}",
            "kind": "plot",
            "BauNVO": "GE",
            "B-Plan": "binding",
            "ownership": "municipal",
            "area": 6400,
            "price": 70,
            **properties,
        },
        "geometry": json.loads(geom.transform(4326, clone=True).json),
    }


def geojson(features: list[dict], name: str = "flaechen.geojson") -> io.BytesIO:
    file = io.BytesIO(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    file.name = name
    return file


def csv_file(centre: Point, rows: list[dict], name: str = "flaechen.csv") -> io.BytesIO:
    out = io.StringIO()
    headers = [
        "Flächen-ID",
        "Bezeichnung",
        "Art",
        "Gebietsart",
        "B-Plan",
        "Fläche (m²)",
        "Eigentum",
        "lon",
        "lat",
    ]
    extra = sorted({key for row in rows for key in row} - set(headers))
    writer = csv.DictWriter(out, fieldnames=headers + extra, delimiter=";")
    writer.writeheader()
    for number, row in enumerate(rows):
        point = Point(centre.x + 300 * number, centre.y, srid=25832)
        point.transform(4326)
        lon, lat = point.x, point.y
        writer.writerow(
            {
                "Bezeichnung": f"Fläche {row.get('Flächen-ID')}",
                "Art": "Grundstück",
                "Gebietsart": "GE",
                "B-Plan": "rechtskräftig",
                "Fläche (m²)": "6400",
                "Eigentum": "kommunal",
                "lon": f"{lon:.6f}",
                "lat": f"{lat:.6f}",
                **row,
            }
        )
    file = io.BytesIO(out.getvalue().encode("utf-8"))
    file.name = name
    return file


def upload(client, file, headers=None, **data) -> UploadJob:
    response = client.post(reverse("partner_upload"), {"file": file, **data}, headers=headers)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = UploadJob.objects.latest("pk")
    assert response["Location"] == reverse("partner_upload_job", args=[job.pk])
    return job


def job_page(client, job: UploadJob, **params):
    response = client.get(reverse("partner_upload_job", args=[job.pk]), params)
    assert response.status_code == 200
    return response


# --- item 8: the background job ------------------------------------------------------------


def test_a_file_is_checked_as_a_job_and_its_report_shown(client, people, essen, media_root):
    client.force_login(people["a"])
    assert client.get(reverse("partner_upload")).status_code == 200
    job = upload(
        client, geojson([feature(inside(essen), 0, "U-1"), feature(inside(essen), 1, "U-2")])
    )
    job.refresh_from_db()
    assert job.status == UploadJob.Status.DONE and job.operation == UploadJob.Operation.PLAN
    assert job.organisation == people["a"].organisation and job.user == people["a"]
    assert job.counts["create"] == 2 and job.counts["reject"] == 0
    assert (job.rows_read, job.rows_total, job.rows_written) == (2, 2, 0)
    assert not Site.objects.exists()
    # the file is kept under a name the server chose, byte for byte
    stored = Path(media_root) / "uploads" / job.stored_name
    assert stored.is_file() and stored.name != "flaechen.geojson"

    content = job_page(client, job).content.decode()
    assert "Report on flaechen.geojson" in content
    assert content.count("pw-report__row--create") == 2
    assert "Commit 2 rows" in content

    status = client.get(reverse("partner_upload_job_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["finished"] is True
    assert status["read"] == [2, 2] and status["written"] == [0, None]

    report = client.get(reverse("partner_upload_job_report", args=[job.pk]))
    assert report["Content-Type"].startswith("text/csv")
    lines = report.content.decode("utf-8-sig").splitlines()
    rows = [line.split(";")[1:3] for line in lines[1:]]
    assert [row for row in rows if row[0]] == [["U-1", "new"], ["U-2", "new"]]


def test_commit_writes_the_sites_in_the_background(client, people, essen):
    client.force_login(people["a"])
    job = upload(
        client, geojson([feature(inside(essen), 0, "U-1"), feature(inside(essen), 1, "U-2")])
    )
    response = client.post(reverse("partner_upload_job_commit", args=[job.pk]), {"commit": "1"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.committed and job.status == UploadJob.Status.DONE
    assert job.operation == UploadJob.Operation.COMMIT
    assert job.rows_written == 2
    assert set(Site.objects.values_list("partner_ref", flat=True)) == {"U-1", "U-2"}
    content = job_page(client, job).content.decode()
    assert "Committed: 2 sites created, 0 updated, 0 unchanged." in content
    assert 'name="commit"' not in content
    # a committed file cannot be committed twice
    again = client.post(reverse("partner_upload_job_commit", args=[job.pk]), {"commit": "1"})
    assert again.status_code == 302
    assert Site.objects.count() == 2


def test_a_second_upload_of_the_organisation_while_one_runs_is_refused(
    client, people, essen, dortmund
):
    client.force_login(people["a"])
    running = UploadJob.objects.create(
        organisation=people["a"].organisation,
        stored_name="x.geojson",
        filename="erste-liste.geojson",
        status=UploadJob.Status.RUNNING,
    )
    response = client.post(
        reverse("partner_upload"), {"file": geojson([feature(inside(essen), 0, "U-1")])}
    )
    assert response.status_code == 200
    assert (
        "erste-liste.geojson of your organisation is being processed" in response.content.decode()
    )
    assert UploadJob.objects.count() == 1
    # another organisation is not held up
    client.force_login(people["b"])
    upload(client, geojson([feature(inside(dortmund), 0, "D-1")]))
    # and the database refuses a second active job whatever the code path
    with pytest.raises(UploadBusy):
        upload_job_start(
            organisation=running.organisation,
            upload=geojson([feature(inside(essen), 0, "U-1")]),
            acting_user=people["a"],
        )


def test_a_broken_file_fails_the_job_with_a_message_naming_it(client, people, media_root):
    client.force_login(people["a"])
    broken = io.BytesIO(b'{"type": "FeatureCollection", "features": [')
    broken.name = "kaputt.geojson"
    job = upload(client, broken)
    job.refresh_from_db()
    assert job.status == UploadJob.Status.FAILED
    assert "kaputt.geojson" in job.error and job.stored_name not in job.error
    content = job_page(client, job).content.decode()
    assert "kaputt.geojson" in content and 'role="alert"' in content
    wrong = io.BytesIO(b"MZ")
    wrong.name = "setup.exe"
    refused = client.post(reverse("partner_upload"), {"file": wrong})
    assert "Files of this type are not accepted" in refused.content.decode()


def test_a_failure_inside_the_core_is_a_message_not_a_stuck_job(client, people, essen, monkeypatch):
    from properties.services import upload_jobs

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(upload_jobs, "sites_upload_plan", explode)
    client.force_login(people["a"])
    job = upload(client, geojson([feature(inside(essen), 0, "U-1")]))
    job.refresh_from_db()
    assert job.status == UploadJob.Status.FAILED
    assert "error on our side" in job.error and "boom" not in job.error


def test_another_organisations_upload_is_404_and_staff_see_all(client, people, essen):
    client.force_login(people["a"])
    job = upload(client, geojson([feature(inside(essen), 0, "U-1")]))
    client.force_login(people["b"])
    for name in ("partner_upload_job", "partner_upload_job_status", "partner_upload_job_report"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("partner_upload_job_commit", args=[job.pk])).status_code == 404
    assert client.post(reverse("partner_upload_job_discard", args=[job.pk])).status_code == 404
    client.force_login(people["staff"])
    assert client.get(reverse("partner_upload_job", args=[job.pk])).status_code == 200


def test_staff_upload_for_a_chosen_organisation(client, people, dortmund):
    client.force_login(people["staff"])
    organisation = people["b"].organisation
    job = upload(
        client,
        geojson([feature(inside(dortmund), 0, "D-1")]),
        organisation=organisation.pk,
    )
    assert job.organisation == organisation
    missing = client.post(
        reverse("partner_upload"), {"file": geojson([feature(inside(dortmund), 0, "D-1")])}
    )
    assert missing.context["form"].errors["organisation"] == ["This field is required."]


def test_discard_deletes_the_job_and_its_file(client, people, essen, media_root):
    client.force_login(people["a"])
    job = upload(client, geojson([feature(inside(essen), 0, "U-1")]))
    stored = Path(media_root) / "uploads" / job.stored_name
    response = client.post(reverse("partner_upload_job_discard", args=[job.pk]))
    assert response.status_code == 302
    assert not UploadJob.objects.exists() and not stored.exists()


def test_a_large_report_is_paged_by_the_database(client, people, essen, settings):
    from properties import partner_upload_views

    client.force_login(people["a"])
    features = [feature(inside(essen), n, f"U-{n}") for n in range(5)]
    job = upload(client, geojson(features))
    settings.DEBUG = False
    original = partner_upload_views.ROWS_PER_PAGE
    partner_upload_views.ROWS_PER_PAGE = 2
    try:
        first = job_page(client, job, rows="all")
        third = job_page(client, job, rows="all", page=3)
    finally:
        partner_upload_views.ROWS_PER_PAGE = original
    assert [r.partner_ref for r in first.context["report"].rows] == ["U-0", "U-1"]
    assert [r.partner_ref for r in third.context["report"].rows] == ["U-4"]
    assert "page 1 of 3" in first.content.decode()


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_beside_the_uploads_transaction():
    """The core's transaction (rolled back for a dry run) cannot hide or undo the progress."""
    organisation = PartnerOrganisationFactory(name="Progress")
    job = UploadJob.objects.create(
        organisation=organisation, stored_name="p.csv", filename="p.csv", status="running"
    )
    writer = ProgressWriter(job.pk)
    try:
        with transaction.atomic():
            writer("read", 500, 1000)
            writer("checked", 1000, 1000)
            transaction.set_rollback(True)
    finally:
        writer.close()
    job.refresh_from_db()
    assert (job.rows_read, job.rows_checked, job.rows_total, job.stage) == (
        500,
        1000,
        1000,
        "checked",
    )


# --- item 5: partial commit and the rejected rows ------------------------------------------


def test_valid_rows_commit_only_after_confirming_how_many_stay_out(client, people, essen):
    client.force_login(people["a"])
    features = [
        feature(inside(essen), 0, "U-1"),
        feature(inside(essen), 1, "U-2", BauNVO="XX"),
        feature(inside(essen), 2, "U-3"),
    ]
    job = upload(client, geojson(features))
    job.refresh_from_db()
    assert job.counts["reject"] == 1
    content = job_page(client, job).content.decode()
    assert "Commit the 2 valid rows, leave 1 out" in content
    assert "Leave the 1 rejected row out: it is not written." in content
    assert "pw-report__row--reject" in content  # the rejected rows are listed first

    refused = client.post(reverse("partner_upload_job_commit", args=[job.pk]), {"commit": "1"})
    assert refused.status_code == 400
    assert "Confirm that the rejected row stays out" in refused.content.decode()
    assert not Site.objects.exists()

    client.post(reverse("partner_upload_job_commit", args=[job.pk]), {"leave_out": "on"})
    job.refresh_from_db()
    assert job.committed and job.valid_only
    assert set(Site.objects.values_list("partner_ref", flat=True)) == {"U-1", "U-3"}
    assert "1 rejected row was left out." in job_page(client, job).content.decode()


def test_rejected_rows_download_in_the_uploaded_format_with_an_error_column(client, people, essen):
    client.force_login(people["a"])
    rows = [{"Flächen-ID": "C-1"}, {"Flächen-ID": "C-2", "Gebietsart": "XX"}]
    job = upload(client, csv_file(inside(essen), rows))
    response = client.get(reverse("partner_upload_job_rejected", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][0] == "Flächen-ID" and lines[0][-1] == "errors"
    assert [line[0] for line in lines[1:]] == ["C-2"]
    assert lines[1][-1]  # the reason
    # nothing rejected: nothing to download
    clean = upload(client, csv_file(inside(essen), [{"Flächen-ID": "C-3"}], name="ok.csv"))
    assert client.get(reverse("partner_upload_job_rejected", args=[clean.pk])).status_code == 302


# --- item 4: the mapping step --------------------------------------------------------------


def mapping_file(essen, refs=("M-1", "M-2"), name="liste.csv"):
    rows = [
        {"Flächen-ID": refs[0], "Eigentum": UNKNOWN_OWNERSHIP, UNKNOWN_COLUMN: "Top-Lage"},
        {"Flächen-ID": refs[1], UNKNOWN_COLUMN: "ruhig"},
    ]
    return csv_file(inside(essen), rows, name=name)


def test_mapping_a_value_and_a_column_is_kept_and_the_file_checked_again(client, people, essen):
    client.force_login(people["a"])
    job = upload(client, mapping_file(essen))
    job.refresh_from_db()
    assert job.counts["reject"] == 1
    page = job_page(client, job)
    form = page.context["mapping_form"]
    content = page.content.decode()
    assert f"Column “{UNKNOWN_COLUMN}” is" in content
    assert f"“{UNKNOWN_OWNERSHIP}” means" in content
    [(column_name, column)] = form.column_fields
    assert column.header == UNKNOWN_COLUMN
    [(value_name, field, raw)] = form.value_fields
    assert (field, raw) == ("ownership", UNKNOWN_OWNERSHIP)
    assert ("private", "Private") in form.fields[value_name].choices
    targets = form.fields[column_name]
    assert targets.valid_value("description") and targets.valid_value("easting")  # a table
    assert not targets.valid_value("status") and not targets.valid_value("geom")

    response = client.post(
        reverse("partner_upload_job_mappings", args=[job.pk]),
        {"revision": job.revision, column_name: "description", value_name: "private"},
    )
    assert response.status_code == 302
    mappings = {(m.kind, m.field, m.source, m.value) for m in UploadMapping.objects.all()}
    assert mappings == {
        ("column", "description", UNKNOWN_COLUMN, ""),
        ("value", "ownership", UNKNOWN_OWNERSHIP, "private"),
    }
    job.refresh_from_db()
    assert job.status == UploadJob.Status.DONE and job.revision == 2
    assert job.counts["reject"] == 0
    content = job_page(client, job).content.decode()
    assert "(your mapping)" in content

    # the next upload of the organisation is read with the mappings
    client.post(reverse("partner_upload_job_commit", args=[job.pk]), {"commit": "1"})
    site = Site.objects.get(partner_ref="M-1")
    assert site.ownership == "private" and site.description == "Top-Lage"
    second = upload(client, mapping_file(essen, refs=("M-3", "M-4"), name="zweite.csv"))
    second.refresh_from_db()
    assert second.counts["reject"] == 0 and second.counts["create"] == 2


def test_a_mapping_form_of_an_older_report_is_refused(client, people, essen):
    client.force_login(people["a"])
    job = upload(client, mapping_file(essen))
    response = client.post(
        reverse("partner_upload_job_mappings", args=[job.pk]),
        {"revision": job.revision - 1, "value_0": "municipal"},
        follow=True,
    )
    assert "The report has changed since this page was loaded" in response.content.decode()
    assert not UploadMapping.objects.exists()
    empty = client.post(
        reverse("partner_upload_job_mappings", args=[job.pk]),
        {"revision": job.revision},
        follow=True,
    )
    assert "Choose a field for a column or a code for a value first." in empty.content.decode()


def test_mappings_page_lists_and_deletes_only_the_organisations_own(client, people, essen):
    own = UploadMapping.objects.create(
        organisation=people["a"].organisation,
        kind="value",
        field="ownership",
        source=UNKNOWN_OWNERSHIP,
        source_key="x",
        value="private",
    )
    other = UploadMapping.objects.create(
        organisation=people["b"].organisation,
        kind="column",
        field="",
        source="Interne Nummer",
        source_key="y",
    )
    client.force_login(people["a"])
    content = client.get(reverse("partner_upload_mappings")).content.decode()
    assert UNKNOWN_OWNERSHIP in content and "Private" in content
    assert "Interne Nummer" not in content
    assert client.post(reverse("partner_upload_mapping_delete", args=[other.pk])).status_code == 404
    assert client.post(reverse("partner_upload_mapping_delete", args=[own.pk])).status_code == 302
    assert list(UploadMapping.objects.all()) == [other]
    client.force_login(people["staff"])
    assert "Interne Nummer" in client.get(reverse("partner_upload_mappings")).content.decode()


# --- item 6: re-upload: sites not in this upload, changes field by field ---------------------


def test_reupload_lists_missing_sites_and_withdraws_the_chosen_ones(client, people, essen):
    client.force_login(people["a"])
    centre = inside(essen)
    first = upload(client, geojson([feature(centre, n, f"R-{n}") for n in range(3)]))
    client.post(reverse("partner_upload_job_commit", args=[first.pk]), {"commit": "1"})
    assert Site.objects.count() == 3

    second = upload(
        client,
        geojson(
            [feature(centre, 0, "R-0", price=95), feature(centre, 1, "R-1")], name="neu.geojson"
        ),
    )
    page = job_page(client, second, rows="update")
    content = page.content.decode()
    assert "Not in this upload" in content
    assert "Upload R-2 (R-2)" in content
    [changed] = page.context["report"].rows
    assert changed.partner_ref == "R-0"
    assert any(c.field == "price_eur_m2" for c in changed.changes)
    assert "→" in content

    missing_id = Site.objects.get(partner_ref="R-2").pk
    client.post(
        reverse("partner_upload_job_commit", args=[second.pk]), {"withdraw": [str(missing_id)]}
    )
    second.refresh_from_db()
    assert second.committed and second.withdraw_missing == [missing_id]
    assert Site.objects.get(pk=missing_id).status == Site.Status.WITHDRAWN
    assert Site.objects.get(partner_ref="R-1").status != Site.Status.WITHDRAWN


def test_a_site_id_not_in_the_report_cannot_be_withdrawn(client, people, essen):
    client.force_login(people["a"])
    job = upload(client, geojson([feature(inside(essen), 0, "U-1")]))
    response = client.post(
        reverse("partner_upload_job_commit", args=[job.pk]), {"withdraw": ["999999"]}
    )
    assert response.status_code == 302  # no missing sites: the choice is not offered, ignored
    job.refresh_from_db()
    assert job.withdraw_missing == []


# --- item 9: the report speaks the user's language -----------------------------------------


def test_the_report_page_in_german(client, people, essen):
    people["a"].language = "de"
    people["a"].save()
    client.force_login(people["a"])
    with translation.override("de"):  # the German pages (/de/...)
        job = upload(client, mapping_file(essen))
        job.refresh_from_db()
        assert job.language == "de"
        response = client.get(reverse("partner_upload_job", args=[job.pk]))
    content = response.content.decode()
    assert "Bericht zu liste.csv" in content
    assert "Spalten der Datei" in content
    assert "abgelehnt" in content
    assert "Zeile 2" in content  # the row label counts file lines (header = line 1)
