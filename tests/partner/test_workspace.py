"""The partner workspace pages: dashboard, editor (geometry, conflicts, photos and
documents) and history (the bulk upload: test_upload_jobs), each for partners of two municipalities, staff and
investors."""

import datetime
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import User
from properties.models import Site, SiteMedia
from properties.services.media import media_thumbnail_name
from properties.services.sites import site_save
from tests.factories import SiteFactory, square

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_a(essen, people) -> Site:
    return SiteFactory(
        title="Gewerbepark Essen-Nord",
        municipality=essen,
        status=Site.Status.DRAFT,
        organisation=people["a"].organisation,
    )


@pytest.fixture
def site_b(dortmund, people) -> Site:
    return SiteFactory(
        title="Hafen Dortmund",
        municipality=dortmund,
        status=Site.Status.DRAFT,
        organisation=people["b"].organisation,
    )


def login(client, user: User):
    client.force_login(user)
    return client


def polygon_4326(centre: Point, side_m: float = 100) -> str:
    return square(centre, side_m).transform(4326, clone=True).json


def site_data(geometry: str, **overrides) -> dict:
    data = {
        "title": "Neue Fläche am Kanal",
        "partner_ref": "",
        "kind": "plot",
        "gross_area_m2": "10000",
        "planning_category": "GE",
        "bplan_status": "binding",
        "restriction_class": "none",
        "ownership": "municipal",
        "broadband": "fast",
        "price_eur_m2": "85",
        "has_water": "on",
        "geometry": geometry,
    }
    data.update(overrides)
    return data


def inside(municipality) -> Point:
    return municipality.geom.buffer(-1500).point_on_surface


# --- access ----------------------------------------------------------------------------


def test_login_is_required(client):
    response = client.get(reverse("partner_dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_investors_get_a_403_page(client, people):
    login(client, people["investor"])
    for name in ("partner_dashboard", "partner_site_new", "partner_upload"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert b"for municipal partners and agency staff" in response.content


@pytest.mark.parametrize("name", ["partner_site_edit", "partner_site_history"])
def test_partner_b_cannot_open_partner_as_site(client, people, site_a, name):
    login(client, people["b"])
    assert client.get(reverse(name, args=[site_a.pk])).status_code == 404


def test_partner_b_cannot_edit_or_transition_partner_as_site(client, people, site_a, dortmund):
    login(client, people["b"])
    edit = client.post(
        reverse("partner_site_edit", args=[site_a.pk]),
        site_data(polygon_4326(inside(dortmund)), version=site_a.version),
    )
    assert edit.status_code == 404
    for action in ("submit", "verify"):
        response = client.post(reverse("partner_site_action", args=[site_a.pk]), {"action": action})
        assert response.status_code == 404
    site_a.refresh_from_db()
    assert site_a.status == Site.Status.DRAFT
    assert site_a.title == "Gewerbepark Essen-Nord"
    assert site_a.last_verified_at is None


# --- dashboard -------------------------------------------------------------------------


def test_dashboard_of_a_partner_shows_only_its_sites(client, people, site_a, site_b):
    login(client, people["a"])
    response = client.get(reverse("partner_dashboard"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Gewerbepark Essen-Nord" in content
    assert "Hafen Dortmund" not in content
    assert 'name="municipality"' not in content  # the staff's filter
    assert reverse("partner_site_edit", args=[site_a.pk]) in content
    assert reverse("partner_site_history", args=[site_a.pk]) in content
    assert reverse("site_detail", args=[site_a.pk]) in content
    # A draft: submit and "still current", no publishing for a partner.
    assert 'data-action="submit"' in content
    assert 'data-action="publish"' not in content
    assert 'value="verify"' in content


def test_dashboard_of_staff_shows_all_with_a_municipality_filter(
    client, people, site_a, site_b, dortmund
):
    login(client, people["staff"])
    content = client.get(reverse("partner_dashboard")).content.decode()
    assert "Gewerbepark Essen-Nord" in content and "Hafen Dortmund" in content
    assert 'name="municipality"' in content
    filtered = client.get(reverse("partner_dashboard"), {"municipality": dortmund.pk})
    assert "Hafen Dortmund" in filtered.content.decode()
    assert "Gewerbepark Essen-Nord" not in filtered.content.decode()


def test_dashboard_counts_filters_by_status_and_flags_stale_sites(
    client, people, essen, site_a, settings
):
    settings.SITE_STALE_AFTER_DAYS = 180
    published = SiteFactory(
        title="Alte Zeche", municipality=essen, organisation=people["a"].organisation
    )
    Site.objects.filter(pk=published.pk).update(
        last_verified_at=timezone.now() - datetime.timedelta(days=400)
    )
    login(client, people["a"])
    content = client.get(reverse("partner_dashboard")).content.decode()
    counts = dict(
        re.findall(r'data-status="(\w+)">\s*\w+ <span class="pw-count">(\d+)</span>', content)
    )
    assert counts["all"] == "2" and counts["draft"] == "1" and counts["published"] == "1"
    assert content.count("pw-badge--stale") == 1
    only_published = client.get(reverse("partner_dashboard"), {"status": "published"})
    assert "Alte Zeche" in only_published.content.decode()
    assert "Gewerbepark Essen-Nord" not in only_published.content.decode()
    stale = client.get(reverse("partner_dashboard"), {"stale": "1"}).content.decode()
    assert "Alte Zeche" in stale and "Gewerbepark Essen-Nord" not in stale


def test_dashboard_paginates(client, people, essen):
    for number in range(27):
        SiteFactory(
            title=f"Fläche {number}",
            municipality=essen,
            organisation=people["a"].organisation,
            seed=1000 + number,
            area_m2=900,
        )
    login(client, people["a"])
    first = client.get(reverse("partner_dashboard")).content.decode()
    assert first.count('<tr data-site-id="') == 25
    assert "Page 1 of 2" in first
    second = client.get(reverse("partner_dashboard"), {"page": 2}).content.decode()
    assert second.count('<tr data-site-id="') == 2


# --- transitions -----------------------------------------------------------------------


def act(client, site: Site, action: str, **data):
    return client.post(
        reverse("partner_site_action", args=[site.pk]), {"action": action, **data}, follow=True
    )


def test_transitions_through_the_dashboard_forms(client, people, site_a):
    login(client, people["a"])
    response = act(client, site_a, "submit")
    assert "was submitted for publication" in response.content.decode()
    site_a.refresh_from_db()
    assert site_a.status == Site.Status.SUBMITTED

    refused = act(client, site_a, "publish")
    assert "Only agency staff can publish" in refused.content.decode()
    site_a.refresh_from_db()
    assert site_a.status == Site.Status.SUBMITTED

    client.force_login(people["staff"])
    dashboard = client.get(reverse("partner_dashboard")).content.decode()
    assert 'data-action="publish"' in dashboard and 'data-action="send_back"' in dashboard
    no_reason = act(client, site_a, "send_back", reason=" ")
    assert "Say why the site is sent back" in no_reason.content.decode()
    act(client, site_a, "publish")
    site_a.refresh_from_db()
    assert site_a.status == Site.Status.PUBLISHED

    client.force_login(people["a"])
    act(client, site_a, "mark", status="reserved")
    site_a.refresh_from_db()
    assert site_a.status == Site.Status.RESERVED

    client.force_login(people["staff"])
    act(client, site_a, "send_back", reason="Die Preisangabe fehlt.")
    site_a.refresh_from_db()
    assert site_a.status == Site.Status.DRAFT
    assert site_a.status_reason == "Die Preisangabe fehlt."
    client.force_login(people["a"])
    assert "Die Preisangabe fehlt." in client.get(reverse("partner_dashboard")).content.decode()


def test_still_current_in_one_click(client, people, site_a):
    login(client, people["a"])
    response = act(client, site_a, "verify")
    assert "is confirmed as current" in response.content.decode()
    site_a.refresh_from_db()
    assert site_a.last_verified_at is not None
    assert site_a.verified_by == people["a"]


# --- the editor ------------------------------------------------------------------------


def test_create_with_a_drawn_polygon(client, people, essen):
    login(client, people["a"])
    page = client.get(reverse("partner_site_new"))
    assert page.status_code == 200
    assert 'id="editor-config"' in page.content.decode()
    response = client.post(
        reverse("partner_site_new"), site_data(polygon_4326(inside(essen)), partner_ref="E-77")
    )
    assert response.status_code == 302
    site = Site.objects.get(title="Neue Fläche am Kanal")
    assert response["Location"] == reverse("partner_site_edit", args=[site.pk])
    assert site.municipality == essen
    assert site.organisation == people["a"].organisation
    assert site.status == Site.Status.DRAFT
    assert site.geom.srid == 25832
    assert site.geom.area == pytest.approx(10_000, rel=0.01)
    assert site.has_water and site.partner_ref == "E-77"


def test_premises_as_a_marker(client, people, essen):
    login(client, people["a"])
    point = inside(essen).transform(4326, clone=True).json
    response = client.post(
        reverse("partner_site_new"), site_data(point, kind="office", gross_area_m2="800")
    )
    assert response.status_code == 302
    assert Site.objects.get(kind="office").geom.geom_type == "Point"
    refused = client.post(reverse("partner_site_new"), site_data(point, title="Punktfläche"))
    assert "Draw a plot as a polygon." in refused.content.decode()


def test_outside_the_partners_municipality_is_a_form_error(client, people, dortmund):
    login(client, people["a"])
    response = client.post(reverse("partner_site_new"), site_data(polygon_4326(inside(dortmund))))
    assert response.status_code == 200
    errors = response.context["form"].errors["geometry"]
    assert errors == [f"The site lies in {dortmund.name}, which is not one of your municipalities."]
    assert not Site.objects.exists()


def test_outside_the_region_and_implausible_values_are_form_errors(client, people, essen):
    login(client, people["a"])
    berlin = json.dumps(
        {
            "type": "Polygon",
            "coordinates": [[[13.4, 52.52], [13.401, 52.52], [13.401, 52.521], [13.4, 52.52]]],
        }
    )
    outside = client.post(reverse("partner_site_new"), site_data(berlin))
    assert "The site lies outside" in outside.context["form"].errors["geometry"][0]
    implausible = client.post(
        reverse("partner_site_new"),
        site_data(polygon_4326(inside(essen)), gross_area_m2="900000", price_eur_m2="25000"),
    )
    errors = implausible.context["form"].errors
    assert "far from the drawn area" in errors["gross_area_m2"][0]
    assert errors["price_eur_m2"] == ["A price from 0 to 10,000 €/m² is plausible."]
    broken = client.post(reverse("partner_site_new"), site_data("{not json"))
    assert broken.context["form"].errors["geometry"] == [
        "The geometry could not be read; draw the site again."
    ]
    assert not Site.objects.exists()


def test_edit_saves_at_the_current_version(client, people, site_a, essen):
    login(client, people["a"])
    page = client.get(reverse("partner_site_edit", args=[site_a.pk]))
    form = page.context["form"]
    assert form["version"].value() == site_a.version
    geometry = form["geometry"].value()
    assert json.loads(geometry)["type"] == "Polygon"
    response = client.post(
        reverse("partner_site_edit", args=[site_a.pk]),
        site_data(geometry, title="Gewerbepark Essen-Nord II", version=site_a.version),
    )
    assert response.status_code == 302
    site_a.refresh_from_db()
    assert site_a.title == "Gewerbepark Essen-Nord II"
    assert site_a.version == 2


def test_edit_with_a_stale_version_is_a_conflict_and_overwrites_nothing(client, people, site_a):
    login(client, people["a"])
    loaded = client.get(reverse("partner_site_edit", args=[site_a.pk])).context["form"]
    loaded_version, geometry = loaded["version"].value(), loaded["geometry"].value()
    # Meanwhile staff rename the site.
    site_save(
        site=Site.objects.get(pk=site_a.pk),
        acting_user=people["staff"],
        fields={"title": "Gewerbepark Essen-Nord (Staff)"},
    )
    response = client.post(
        reverse("partner_site_edit", args=[site_a.pk]),
        site_data(geometry, title="Mein Titel", price_eur_m2="99", version=loaded_version),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Someone else changed this site while you were editing it" in content
    conflict_rows = response.context["conflict_rows"]
    assert conflict_rows == [
        {
            "label": "title",
            "before": "Gewerbepark Essen-Nord",
            "after": "Gewerbepark Essen-Nord (Staff)",
            "who": "stefanie",
            "when": conflict_rows[0]["when"],
        }
    ]
    assert "stefanie" in content
    # The user's input is kept in the form.
    assert 'value="Mein Titel"' in content
    site_a.refresh_from_db()
    assert site_a.title == "Gewerbepark Essen-Nord (Staff)"
    assert str(site_a.price_eur_m2) == "85.00"


# --- photos and documents --------------------------------------------------------------


def image_file(name: str, size=(800, 600), image_format="JPEG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 40, 90)).save(buffer, format=image_format)
    buffer.seek(0)
    buffer.name = name
    return buffer


def edit_with_files(client, site: Site, **files):
    form = client.get(reverse("partner_site_edit", args=[site.pk])).context["form"]
    data = site_data(form["geometry"].value(), title=site.title, version=site.version)
    return client.post(reverse("partner_site_edit", args=[site.pk]), {**data, **files})


def test_photo_upload_makes_a_thumbnail(client, people, site_a, media_root):
    login(client, people["a"])
    response = edit_with_files(client, site_a, photos=[image_file("halle.png", (1600, 900), "PNG")])
    assert response.status_code == 302
    photo = SiteMedia.objects.get(site=site_a)
    assert photo.kind == SiteMedia.Kind.PHOTO
    assert photo.file.name.endswith(".png")
    thumbnail = Path(media_root) / media_thumbnail_name(photo.file.name)
    with Image.open(thumbnail) as image:
        assert image.size == (480, 270)
    page = client.get(reverse("partner_site_edit", args=[site_a.pk])).content.decode()
    assert media_thumbnail_name(photo.file.name) in page
    # The thumbnail is served like its photo: to whoever may see the site, to nobody else.
    thumbnail_url = settings.MEDIA_URL + media_thumbnail_name(photo.file.name)
    served = client.get(thumbnail_url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    client.logout()
    assert client.get(thumbnail_url).status_code == 404  # site_a is a draft


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: image_file("klein.jpg", (300, 200)), "klein.jpg is 300 px wide"),
        (lambda: image_file("bild.gif", (800, 600), "GIF"), "bild.gif is not a JPEG, PNG or WebP"),
        (
            lambda: io.BytesIO(b"just text, not a picture"),
            "is not a JPEG, PNG or WebP picture",
        ),
    ],
)
def test_photo_validation(client, people, site_a, upload, message):
    login(client, people["a"])
    file = upload()
    if not hasattr(file, "name"):
        file.name = "foto.jpg"
    response = edit_with_files(client, site_a, photos=[file])
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["photos"])
    assert not SiteMedia.objects.exists()
    site_a.refresh_from_db()
    assert site_a.version == 1  # nothing saved


def test_documents_must_be_pdf(client, people, site_a):
    login(client, people["a"])
    fake = io.BytesIO(b"PK\x03\x04 not a pdf")
    fake.name = "plan.pdf"
    refused = edit_with_files(client, site_a, documents=[fake])
    assert refused.context["form"].errors["documents"] == ["plan.pdf is not a PDF file."]
    pdf = io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    pdf.name = "Bebauungsplan.PDF"
    accepted = edit_with_files(client, site_a, documents=[pdf])
    assert accepted.status_code == 302
    document = SiteMedia.objects.get(site=site_a)
    assert document.kind == SiteMedia.Kind.DOCUMENT
    assert document.file.name.endswith("Bebauungsplan.pdf")


# --- history ---------------------------------------------------------------------------


def test_history_page_newest_first(client, people, site_a):
    site_save(
        site=Site.objects.get(pk=site_a.pk),
        acting_user=people["a"],
        fields={"title": "Umbenannt"},
    )
    login(client, people["a"])
    act(client, site_a, "submit")
    response = client.get(reverse("partner_site_history", args=[site_a.pk]))
    content = response.content.decode()
    entries = response.context["entries"]
    assert [entry["change"].action for entry in entries] == ["submitted", "updated", "created"]
    assert entries[1]["who"] == "anna"
    assert entries[1]["fields"] == [
        {"label": "title", "before": "Gewerbepark Essen-Nord", "after": "Umbenannt"}
    ]
    assert "Gewerbepark Essen-Nord → Umbenannt" in content
    assert "Draft → Submitted" in content
