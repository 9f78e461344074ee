"""A German partner's upload in Chromium: a list with one value the app does not know and one
row it must reject; the partner maps the value, commits the valid rows, leaves the rejected
one out and downloads it to fix it. The report page also fits a 390 px phone."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from geodata.models import Municipality
from properties.models import Site, UploadJob, UploadMapping
from properties.services.upload_jobs import upload_job_run
from tests.browser.test_partner import log_in
from tests.factories import PartnerOrganisationFactory, UserFactory

UNKNOWN_OWNERSHIP = "Erbengemeinschaft Müller"


@pytest.fixture
def partner(reference_data, settings, tmp_path) -> User:
    settings.MEDIA_ROOT = tmp_path / "media"
    essen = Municipality.objects.get(ags="05113000")
    organisation = PartnerOrganisationFactory(name="EWG Essen", municipalities=[essen])
    return UserFactory(
        username="greta", role=User.Role.PARTNER, organisation=organisation, language="de"
    )


def partner_list(folder: Path) -> Path:
    """Three rows in German vocabulary: one fine, one with an ownership the app does not
    know, one without coordinates."""
    essen = Municipality.objects.get(ags="05113000")
    centre = essen.geom.buffer(-1500).point_on_surface
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    headers = ["Flächen-ID", "Bezeichnung", "Art", "Gebietsart", "B-Plan", "Fläche (m²)"]
    writer.writerow([*headers, "Eigentum", "lon", "lat"])
    for number, (ref, ownership) in enumerate(
        [("E-1", "kommunal"), ("E-2", UNKNOWN_OWNERSHIP), ("E-3", "privat")]
    ):
        point = Point(centre.x + 400 * number, centre.y, srid=25832)
        point.transform(4326)
        lon, lat = (f"{point.x:.6f}", f"{point.y:.6f}") if ref != "E-3" else ("", "")
        writer.writerow(
            [ref, f"Gewerbefläche {ref}", "Grundstück", "GE", "rechtskräftig", "6400", ownership]
            + [lon, lat]
        )
    path = folder / "flaechen-essen.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_german_partner_maps_a_value_commits_the_valid_rows_and_downloads_the_rejected(
    new_page, partner, tmp_path
):
    browser_page = new_page(locale="de-DE")
    page = browser_page.page
    log_in(page, browser_page.base_url, partner, reverse("partner_upload"))
    expect(page.get_by_role("heading", name="Eine Datei mit Flächen hochladen")).to_be_visible()
    page.locator("input[type=file]").set_input_files(str(partner_list(tmp_path)))
    page.get_by_role("button", name="Prüfen (Probelauf)").click()

    # The report, in German: the unknown value is offered for mapping.
    expect(
        page.get_by_role("heading", name=re.compile("Bericht zu flaechen-essen.csv"))
    ).to_be_visible()
    expect(page.locator('[data-count="reject"] strong')).to_have_text("2")
    value_choice = page.locator(f'[data-mapping-value="{UNKNOWN_OWNERSHIP}"] select')
    expect(value_choice).to_be_visible()
    value_choice.select_option("private")
    page.get_by_role("button", name="Auswahl speichern und erneut prüfen").click()

    # Checked again with the mapping: only the row without coordinates is rejected.
    expect(page.locator(".messages")).to_contain_text("Ihre Auswahl wird")
    expect(page.locator('[data-count="reject"] strong')).to_have_text("1")
    expect(page.locator(".pw-report__row--reject")).to_contain_text("E-3")
    mapping = UploadMapping.objects.get()
    assert (mapping.field, mapping.source, mapping.value) == (
        "ownership",
        UNKNOWN_OWNERSHIP,
        "private",
    )

    # The report fits a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    browser_page.screenshot("upload-report-de-390.png", full_page=True)
    page.set_viewport_size({"width": 1400, "height": 860})

    # Commit the valid rows: only after confirming that one stays out.
    commit = page.get_by_role("button", name="Die 2 gültigen Zeilen übernehmen, 1 auslassen")
    page.get_by_label("Die 1 abgelehnte Zeile auslassen: Sie wird nicht geschrieben.").check()
    commit.click()
    expect(page.locator(".pw-committed")).to_contain_text(
        "Übernommen: 2 Flächen angelegt, 0 geändert, 0 unverändert."
    )
    expect(page.locator(".pw-committed")).to_contain_text("1 abgelehnte Zeile wurde ausgelassen.")
    browser_page.screenshot("upload-committed-de.png", full_page=True)
    assert set(Site.objects.values_list("partner_ref", "ownership")) == {
        ("E-1", "municipal"),
        ("E-2", "private"),
    }
    assert UploadJob.objects.get().committed

    # The rejected row as a CSV to fix: the file's own columns and the reason.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Die abgelehnte Zeile zum Korrigieren herunterladen").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    content = Path(download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0][:6] == [
        "Flächen-ID",
        "Bezeichnung",
        "Art",
        "Gebietsart",
        "B-Plan",
        "Fläche (m²)",
    ]
    assert rows[0][-1] == "Fehler"
    assert len(rows) == 2 and rows[1][0] == "E-3" and rows[1][-1]
    browser_page.assert_self_contained()


def test_the_page_follows_a_job_in_the_background_and_shows_its_report(
    new_page, partner, tmp_path, settings
):
    """The worker is elsewhere: the page shows the progress, polls it and, when the worker
    is done, shows the report without the partner doing anything."""
    stored = Path(settings.MEDIA_ROOT) / "uploads" / "queued-list.csv"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(partner_list(tmp_path).read_bytes())
    job = UploadJob.objects.create(
        organisation=partner.organisation,
        user=partner,
        stored_name=stored.name,
        filename="flaechen-essen.csv",
        language="de",
        revision=1,
    )
    browser_page = new_page(locale="de-DE")
    page = browser_page.page
    log_in(page, browser_page.base_url, partner, reverse("partner_upload_job", args=[job.pk]))
    expect(page.get_by_role("heading", name="Die Datei wird geprüft …")).to_be_visible()
    expect(page.locator("#progress-status")).to_contain_text("wartet auf die Verarbeitung")

    upload_job_run.call(job_id=job.pk, revision=job.revision)  # the worker's turn

    expect(
        page.get_by_role("heading", name=re.compile("Bericht zu flaechen-essen.csv"))
    ).to_be_visible()
    expect(page.locator('[data-count="create"] strong')).to_have_text("1")
    browser_page.assert_self_contained()
