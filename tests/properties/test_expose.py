"""The exposé PDF: rendered for real by WeasyPrint, read back with poppler's tools."""

import re
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone, translation
from weasyprint import HTML

from accounts.models import User
from geodata.models import LayerFeature
from properties.models import Site
from properties.services.expose import (
    LocalOnlyURLFetcher,
    MapFrame,
    site_expose_context,
    site_expose_pdf,
)
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "expose.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    assert match, info.stdout
    return int(match.group(1))


@pytest.fixture
def demo_site(essen) -> Site:
    """A demo plot whose nearest edge lies 600 m east of Essen Hbf (category 2)."""
    hbf = LayerFeature.objects.get(layer__slug="stations", external_id="8000098").geom
    return SiteFactory(
        title="Demo-Gewerbefläche Essen-Mitte",
        municipality=essen,
        at=Point(hbf.x + 650, hbf.y, srid=25832),
        area_m2=10_000,
        is_demo=True,
        planning_category=Site.PlanningCategory.GI,
        restriction_class=Site.RestrictionClass.LIGHT,
        restrictions=[Site.Restriction.CONTAMINATION, Site.Restriction.MINING],
        contact_name="Erika Musterfrau",
        contact_email="standorte@example.org",
        last_verified_at=timezone.now() - timedelta(days=3),
    )


def test_expose_pdf_has_title_demo_banner_distances_and_attribution(client, demo_site, tmp_path):
    response = client.get(reverse("site_expose", args=[demo_site.pk]), {"lang": "en"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="expose-{demo_site.pk}-demo-gewerbeflache-essen-mitte.pdf"'
    )
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    assert "Demo-Gewerbefläche Essen-Mitte" in text
    assert "This site was generated as demo data. It is not a real offer." in text
    # The nearest major station (Essen Hbf) lies 600 m from the plot's edge.
    assert re.search(r"Railway stations \(category 1–3\) Essen Hbf 0\.6 km", text)
    assert "GeoBasis-DE / BKG" in text  # the municipal boundaries' source
    assert "DB Netz AG" in text  # the railway lines' source
    assert "Industrial area (§ 9 BauNVO)" in text
    assert "Erika Musterfrau" in text
    assert "Site plan" in text
    # Overview map and facts, then the site plan (Lageplan) with the remaining sections.
    assert pdf_pages(pdf, tmp_path) == 3


def test_expose_speaks_german_by_default_and_english_on_request(demo_site, tmp_path):
    german = pdf_text(site_expose_pdf(site=demo_site, language="de"), tmp_path)
    english = pdf_text(site_expose_pdf(site=demo_site, language="en"), tmp_path)

    assert "Demo-Daten" in german
    assert "Dieser Standort wurde als Demo-Datensatz erzeugt" in german
    assert "Industriegebiet (§ 9 BauNVO)" in german
    assert "Essen Hbf 0,6 km" in german
    assert "Entfernungen" in german and "Distances" not in german

    assert "Distances" in english and "Entfernungen" not in english
    assert "Essen Hbf 0.6 km" in english


def test_expose_language_follows_the_url_and_lang_parameter(client, demo_site):
    with translation.override("de"):
        url = reverse("site_expose", args=[demo_site.pk])  # /de/sites/…/expose.pdf
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get(url)["Content-Language"] == "de"
    assert client.get(url, {"lang": "en"})["Content-Language"] == "en"
    assert client.get(url, {"lang": "xx"})["Content-Language"] == "de"


def test_expose_of_a_draft_is_hidden_like_its_page(client, essen):
    draft = SiteFactory(municipality=essen, status=Site.Status.DRAFT)
    url = reverse("site_expose", args=[draft.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("site_detail", args=[draft.pk])).status_code == 404

    client.force_login(UserFactory(role=User.Role.INVESTOR))
    assert client.get(url).status_code == 404

    client.force_login(UserFactory(role=User.Role.STAFF))
    assert client.get(url).status_code == 200


def test_expose_map_is_drawn_from_our_data(demo_site):
    context = site_expose_context(site=demo_site)
    drawing = context["map"]

    assert drawing["site"]["path"].startswith("M")
    assert drawing["area"]  # the municipality, filled
    assert any(boundary["own"] for boundary in drawing["boundaries"])
    assert drawing["rail"] and drawing["stations"]
    numbered = {row["marker"] for row in context["distances"] if row["marker"]}
    assert sorted(feature["number"] for feature in drawing["features"]) == sorted(numbered)
    assert len(drawing["connectors"]) == len(numbered)
    assert re.fullmatch(r"\d+ k?m", drawing["scale"]["label"])
    # Everything drawn lies in the map's millimetre space.
    for feature in drawing["features"]:
        assert 0 <= feature["mx"] <= drawing["width"] and 0 <= feature["my"] <= drawing["height"]
    assert {dataset.slug for dataset in context["datasets"]} >= {"db-stations"}


def test_map_frame_keeps_proportions_and_a_minimum_size():
    frame = MapFrame.around((360_000, 5_700_000, 360_100, 5_700_050))
    assert frame.xmax - frame.xmin == pytest.approx(2_500)
    assert (frame.xmax - frame.xmin) / (frame.ymax - frame.ymin) == pytest.approx(
        frame.width_mm / frame.height_mm
    )
    wide = MapFrame.around((350_000, 5_690_000, 380_000, 5_700_000))
    assert wide.xmin < 350_000 and wide.xmax > 380_000


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.png",
        "https://example.org/x.css",
        "ftp://example.org/x.png",
        "file:///etc/passwd",
    ],
)
def test_url_fetcher_refuses_everything_but_our_static_files(url):
    with pytest.raises(ValueError):
        LocalOnlyURLFetcher().fetch(url)


def test_url_fetcher_serves_static_files_and_data_urls():
    fetcher = LocalOnlyURLFetcher()
    stylesheet = Path(settings.BASE_DIR / "static" / "css" / "expose.css")
    response = fetcher.fetch(stylesheet.as_uri())
    assert b"@page" in response.read()
    assert response.content_type == "text/css"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_rendering_never_opens_a_network_connection(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the exposé tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    html = (
        '<link rel="stylesheet" href="https://example.org/x.css">'
        '<img src="http://example.org/x.png"><p>offline</p>'
    )
    pdf = HTML(string=html, url_fetcher=LocalOnlyURLFetcher()).write_pdf()
    assert pdf.startswith(b"%PDF-")


def test_expose_has_a_site_plan_framing_the_site_itself(demo_site):
    from properties.services.expose import SITE_PLAN_MIN_WIDTH_M, site_plan_svg_data

    plan = site_plan_svg_data(demo_site)
    overview = site_expose_context(site=demo_site)["map"]
    assert plan["site"]["path"].startswith("M")
    assert plan["features"] == [] and plan["connectors"] == []
    # Close up: a much larger scale than the map of the surroundings, never too close.
    plan_m = float(plan["scale"]["label"].split()[0]) * (
        1000 if "km" in plan["scale"]["label"] else 1
    )
    overview_m = float(overview["scale"]["label"].split()[0]) * (
        1000 if "km" in overview["scale"]["label"] else 1
    )
    assert plan_m < overview_m
    assert plan_m * 5 >= SITE_PLAN_MIN_WIDTH_M * 0.5
    assert "1 :" in str(plan["scale_note"])


def test_an_overview_map_numbers_every_site(demo_site, dortmund):
    from properties.services.expose import sites_overview_svg_data

    other = SiteFactory(title="Dortmund Nord", municipality=dortmund)
    overview = sites_overview_svg_data([demo_site, other])
    assert overview is not None and overview["site"] is None
    assert [marker["number"] for marker in overview["sites"]] == [1, 2]
    for marker in overview["sites"]:
        assert 0 <= marker["x"] <= overview["width"] and 0 <= marker["y"] <= overview["height"]
    assert sites_overview_svg_data([]) is None
