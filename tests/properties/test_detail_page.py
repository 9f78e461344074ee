"""The site detail page: photos, documents, explanations, the exposé link and the map's
nearest features."""

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from geodata.models import Layer
from properties.models import Site, SiteMedia
from sitefinder.l10n import translate_path
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png_file(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "#c2185b").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def json_script(html: str, element_id: str) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


@pytest.fixture
def site(essen) -> Site:
    return SiteFactory(
        title="Gewerbepark Testfeld",
        municipality=essen,
        planning_category=Site.PlanningCategory.GI,
        bplan_status=Site.BPlanStatus.FNP_ONLY,
        restriction_class=Site.RestrictionClass.SEVERE,
        restrictions=[Site.Restriction.CONTAMINATION, Site.Restriction.MINING],
        contact_name="Erika Musterfrau",
        contact_email="standorte@example.org",
        contact_phone="+49 201 123456",
    )


def test_photos_form_a_captioned_gallery_and_documents_a_list(client, site, media_root):
    SiteMedia.objects.create(
        site=site, kind=SiteMedia.Kind.PHOTO, file=png_file("aerial.png"), caption="Aerial view"
    )
    SiteMedia.objects.create(
        site=site, kind=SiteMedia.Kind.PHOTO, file=png_file("gate.png"), position=1
    )
    SiteMedia.objects.create(
        site=site,
        kind=SiteMedia.Kind.DOCUMENT,
        file=SimpleUploadedFile("soil-survey.pdf", b"%PDF-1.4\n" + b"x" * 2039),
        caption="Soil survey 2023",
    )

    html = client.get(reverse("site_detail", args=[site.pk])).content.decode()

    gallery = html[html.index('class="gallery"') :]
    assert 'alt="Aerial view"' in gallery
    assert "<figcaption>Aerial view</figcaption>" in gallery
    # Without a caption the alt text still says what the photo is.
    assert 'alt="Photo 2 of Gewerbepark Testfeld"' in gallery
    assert gallery.index("aerial") < gallery.index("gate")
    assert re.search(
        r'<a href="/media/sites/[\d/]+soil-survey[^"]*\.pdf">Soil survey 2023</a>', html
    )
    assert re.search(r"PDF, 2\.0\xa0KB", html)


def test_a_site_without_media_shows_no_gallery_or_documents(client, site, media_root):
    html = client.get(reverse("site_detail", args=[site.pk])).content.decode()
    assert 'class="gallery"' not in html
    assert 'class="documents"' not in html


def test_planning_and_restrictions_are_explained_in_both_languages(client, site):
    url = reverse("site_detail", args=[site.pk])
    english = client.get(url).content.decode()
    assert "Industrial area (§ 9 BauNVO)" in english
    assert "a binding local plan has to be made first" in english
    assert "Significant restrictions are known" in english
    assert "a soil survey and possibly remediation are needed" in english
    assert "Former coal mining below the site" in english

    german = client.get(translate_path(url, "de")).content.decode()
    assert "Industriegebiet (§ 9 BauNVO)" in german
    assert "Flächennutzungsplan (FNP)" in german
    assert "Erhebliche Restriktionen sind bekannt" in german
    assert "Bodengutachten" in german
    assert "Steinkohlenbergbau" in german


def test_page_links_the_expose_and_shows_contact_and_last_verified(client, site):
    html = client.get(reverse("site_detail", args=[site.pk])).content.decode()
    assert f'href="/en/sites/{site.pk}/expose.pdf?lang=en"' in html
    assert "Download exposé (PDF)" in html
    assert 'href="mailto:standorte@example.org"' in html
    assert 'href="tel:+49201123456"' in html
    assert "not yet verified" in html


def test_map_config_has_the_nearest_feature_of_every_loaded_layer(client, site):
    html = client.get(reverse("site_detail", args=[site.pk])).content.decode()
    nearest = json_script(html, "site-map-config")["nearest"]

    loaded = set(
        Layer.objects.filter(features__isnull=False).values_list("slug", flat=True).distinct()
    )
    assert loaded >= {"stations", "rail_lines", "airports", "universities"}
    assert {entry["layer"] for entry in nearest} == loaded
    # One entry per stored distance of a loaded layer (stations: any and category 1-3).
    assert [entry["field"] for entry in nearest] == [
        "distance_to_station_m",
        "distance_to_major_station_m",
        "distance_to_rail_line_m",
        "distance_to_airport_m",
        "distance_to_university_m",
    ]
    for entry in nearest:
        assert entry["connector"]["type"] == "LineString"
        start, end = entry["connector"]["coordinates"]
        # EPSG:4326 inside the Ruhr area, from the site to the feature.
        for lon, lat in (start, end):
            assert 6.0 < lon < 8.5 and 51.0 < lat < 52.0
        assert entry["feature"]["type"] in {"Point", "LineString", "MultiLineString"}
        # A random spot may lie within 50 m of a station: "< 0.1 km".
        assert re.fullmatch(r"(\d+\.\d|< 0\.1)\xa0km", entry["distance"])
        assert entry["name"]


def test_distances_below_50_metres_do_not_read_as_zero():
    from django.utils import translation

    from properties.presentation import km

    with translation.override("en"):
        assert km(15) == "< 0.1\u00a0km"
        assert km(0) == "0.0\u00a0km"
        assert km(3_740) == "3.7\u00a0km"
    with translation.override("de"):
        assert km(15) == "< 0,1\u00a0km"


def test_the_area_is_one_row_gross_as_headline_and_net_beside_it(client, essen):
    """One definition of the area everywhere (issue 13): the detail page tells it as the
    list, the exposé, the offer PDF and the matches do, not as two separate rows."""
    site = SiteFactory(municipality=essen, area_m2=43_210, net_area_m2=39_000)
    for language, expected in (
        ("en", "4.3\xa0ha gross · 3.9\xa0ha net"),
        ("de", "4,3\xa0ha brutto · 3,9\xa0ha netto"),
    ):
        with translation.override(language):
            url = reverse("site_detail", args=[site.pk])  # the language is in the URL
        html = client.get(url).content.decode()
        assert expected in html
        assert "Gross area" not in html and "Net area" not in html
