"""The offer's exposé PDF, rendered for real through its task (offer_pdf_request → after
commit → offer_pdf_render) and read back with poppler's pdfinfo and pdftotext: a cover, the
comparison table, one page per site; in English and German; failures are recorded, never
half-written; a changed offer makes the PDF out of date; no network is ever touched."""

from __future__ import annotations

import datetime
import re
import socket
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import weasyprint
from django.contrib.gis.geos import Point
from django.core.files.storage import FileSystemStorage
from django.template import TemplateSyntaxError
from django.urls import reverse

from accounts.models import User
from geodata.models import LayerFeature
from properties.models import Site
from properties.services.expose import LocalOnlyURLFetcher
from proposals.models import Criterion, Inquiry, InquiryEvent, Offer
from proposals.offer_staff_views import pdf_state
from proposals.services import offer_documents
from proposals.services.offer_documents import offer_pdf_request
from proposals.services.offers import offer_create, offer_update
from tests.factories import InquiryFactory
from tests.proposals.conftest import make_site

pytestmark = pytest.mark.django_db


# Cover, comparison table, then exactly one page per site (css/offer-pdf.css).
FIXED_PAGES = 2

NOTES = {
    "en": ["Right at the port, rail siding possible", "Next to the B1", "Quick to build on"],
    "de": ["Direkt am Hafen, Gleisanschluss möglich", "Neben der B1", "Schnell bebaubar"],
}


@pytest.fixture
def sites(essen, dortmund) -> list[Site]:
    hbf = LayerFeature.objects.get(layer__slug="stations", external_id="8000098").geom
    return [
        make_site(
            title="Hafenfläche Nord",
            municipality=essen,
            at=Point(hbf.x + 650, hbf.y, srid=25832),
            area_m2=15_000,
            contact_name="Erika Musterfrau",
            contact_email="standorte@essen.example",
            price_eur_m2=Decimal("95.00"),
        ),
        make_site(title="Gewerbepark Süd", municipality=dortmund, area_m2=22_000, seed=3),
        make_site(title="Logistikfläche Ost", municipality=essen, area_m2=9_000, seed=5),
    ]


def make_offer(inquiry: Inquiry, sites: list[Site], staff: User, language: str) -> Offer:
    offer = offer_create(
        inquiry=inquiry, site_ids=[s.pk for s in sites], acting_user=staff, language=language
    )
    items = list(offer.items.order_by("position"))
    offer_update(
        offer=offer,
        acting_user=staff,
        title=offer.title,
        introduction=offer.introduction,
        language=language,
        items=[
            (item.pk, note) for item, note in zip(items, NOTES[language][: len(items)], strict=True)
        ],
    )
    return offer


def render(offer: Offer, staff: User, captured) -> Offer:
    """Through the task, as in production: requested, then rendered after commit."""
    with captured(execute=True) as callbacks:
        offer_pdf_request(offer=offer, acting_user=staff)
        offer.refresh_from_db()
        assert offer.pdf_status == Offer.PdfStatus.PENDING  # nothing rendered in the request
    # The render task, then (if a previous file is replaced) that file's removal.
    assert 1 <= len(callbacks) <= 2
    offer.refresh_from_db()
    return offer


def poppler(tool: str, pdf: Path, *args: str) -> str:
    return subprocess.run(
        [tool, *args, str(pdf), *(["-"] if tool == "pdftotext" else [])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def page_count(pdf: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", pdf), re.M)
    assert match
    return int(match.group(1))


def page_text(pdf: Path, page: int) -> str:
    text = poppler("pdftotext", pdf, "-enc", "UTF-8", "-f", str(page), "-l", str(page))
    return re.sub(r"\s+", " ", text)


def pdf_path(offer: Offer) -> Path:
    return Path(offer.pdf.path)


EXPECTED = {
    "en": {
        "headings": [
            "No.",
            "Site",
            "Kind",
            "Area",
            "Planning",
            "Price",
            "Available from",
            "Junction",
            "Station",
            "Match",
        ],
        "cover": ["Site proposal for Rhein Logistik GmbH", "Your contact", "Dear Erika Mustermann"],
        "comparison": ["The sites at a glance", "Data sources"],
        "site": ["Our note:", "Why it fits", "Distances", "Contact"],
        "absent": ["Standort", "Entfernungen"],
    },
    "de": {
        "headings": [
            "Nr.",
            "Fläche",
            "Art",
            "Fläche",
            "Planung",
            "Preis",
            "Verfügbar ab",
            "Anschlussstelle",
            "Bahnhof",
            "Passung",
        ],
        "cover": [
            "Standortangebot für Rhein Logistik GmbH",
            "Ihr Kontakt",
            "Guten Tag Erika Mustermann",
        ],
        "comparison": ["Die Standorte im Überblick", "Datenquellen", "Planungsrecht", "sofort"],
        "site": ["Unsere Notiz:", "Warum er passt", "Entfernungen", "Kontakt"],
        "absent": ["Distances", "Why it fits", "Our note"],
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_offer_pdf_renders_cover_comparison_and_a_page_per_site(
    language, inquiry, sites, staff, django_capture_on_commit_callbacks
):
    offer = render(
        make_offer(inquiry, sites, staff, language), staff, django_capture_on_commit_callbacks
    )
    assert offer.pdf_status == Offer.PdfStatus.READY and offer.pdf_is_current
    assert offer.pdf_error == "" and offer.pdf_rendered_at is not None
    path = pdf_path(offer)
    assert path.read_bytes().startswith(b"%PDF-")
    expected = EXPECTED[language]

    assert page_count(path) == FIXED_PAGES + len(sites)
    info = poppler("pdfinfo", path)
    assert re.search(rf"^Title:\s+{re.escape(offer.title)}$", info, re.M)

    cover = page_text(path, 1)
    assert "Rhein Logistik GmbH, Erika Mustermann" in cover
    assert inquiry.reference in cover
    for text in expected["cover"]:
        assert text in cover, text
    assert "Petra Planer" in cover and "petra.planer@agency.example" in cover

    comparison = page_text(path, 2)
    for heading in expected["headings"]:
        assert heading in comparison, heading
    for text in expected["comparison"]:
        assert text in comparison, text
    for site in sites:
        assert site.title in comparison
    # The attribution of the data drawn and measured: boundaries, stations, railways.
    assert "GeoBasis-DE / BKG" in comparison
    assert "DB Station&Service" in comparison and "DB Netz AG" in comparison

    for number, (site, note) in enumerate(zip(sites, NOTES[language], strict=True), start=1):
        page = page_text(path, FIXED_PAGES + number)
        assert site.title in page
        assert note in page, note
        for text in expected["site"]:
            assert text in page, text
        # Each page names whom to contact: the site's own contact, else staff.
        if site.contact_name:
            assert "Erika Musterfrau" in page and "standorte@essen.example" in page
        else:
            assert "Petra Planer" in page and "petra.planer@agency.example" in page
    # The first site lies 650 m east of Essen Hbf: the nearest station, by name.
    first_site = page_text(path, FIXED_PAGES + 1)
    station = "Railway stations" if language == "en" else "Bahnhöfe"
    assert re.search(rf"{station} Essen Hbf 0[.,]\d km", first_site)

    everything = " ".join(page_text(path, page) for page in range(1, FIXED_PAGES + 4))
    for text in expected["absent"]:
        assert text not in everything, text

    ready = inquiry.events.get(kind=InquiryEvent.Kind.PDF_READY)
    assert ready.data["offer"] == offer.pk
    assert ready.data["content_version"] == offer.content_version
    assert ready.data["bytes"] == path.stat().st_size


def test_a_full_requirement_profile_still_fits_one_page_per_site(
    essen, sites, staff, django_capture_on_commit_callbacks
):
    """Every criterion stated (13 verdicts per site), in German, the longer language."""
    inquiry = InquiryFactory(
        company="Rhein Logistik GmbH",
        offer_types=["sale", "leasehold"],
        budget_max_eur_m2=Decimal("90"),
        available_by=datetime.date(2025, 1, 1),
        max_distance_junction_m=3_000,
        max_distance_station_m=2_000,
        max_distance_airport_m=20_000,
        max_distance_port_m=5_000,
        max_distance_university_m=5_000,
        needs_rail_siding=True,
        needs_port_access=True,
        municipalities=[essen],
        hard_criteria=[str(criterion) for criterion in Criterion],
    )
    offer = render(
        make_offer(inquiry, sites, staff, "de"), staff, django_capture_on_commit_callbacks
    )
    path = pdf_path(offer)
    first = offer.items.order_by("position").first()
    assert first is not None and len(first.match["results"]) == len(Criterion)
    assert page_count(path) == FIXED_PAGES + len(sites)
    for number, site in enumerate(sites, start=1):
        page = page_text(path, FIXED_PAGES + number)
        assert site.title in page and "Hafenzugang" in page and "Kontakt" in page


def test_switching_the_language_rewrites_the_verdicts_in_it(
    inquiry, sites, staff, django_capture_on_commit_callbacks
):
    offer = offer_create(inquiry=inquiry, site_ids=[sites[0].pk], acting_user=staff)
    assert offer.language == "en"
    offer_update(
        offer=offer,
        acting_user=staff,
        title="Ein Standort",
        introduction="",
        language="de",
        items=[],
    )
    area = next(r for r in offer.items.get().match["results"] if r["criterion"] == "area")
    assert area["label"] == "Fläche"
    offer = render(offer, staff, django_capture_on_commit_callbacks)
    text = page_text(pdf_path(offer), FIXED_PAGES + 1)
    assert "Warum er passt" in text and "Fläche" in text
    assert "within the" not in text  # no English explanation left over


# --- failures -----------------------------------------------------------------------------


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def _break_template(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise TemplateSyntaxError("Invalid block tag on line 7: 'endfor'")

    monkeypatch.setattr(offer_documents, "render_to_string", broken)


def _break_rendering(monkeypatch) -> None:
    def broken(*, offer):
        raise RuntimeError("WeasyPrint ran out of memory")

    monkeypatch.setattr(offer_documents, "offer_pdf_bytes", broken)


def _break_storage(monkeypatch) -> None:
    def full(self, name, content, max_length=None):
        # Half a file, then the disk is full.
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.read()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full)


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        (_break_template, "TemplateSyntaxError: Invalid block tag on line 7: 'endfor'"),
        (_break_rendering, "RuntimeError: WeasyPrint ran out of memory"),
        (_break_storage, "No space left on device"),
    ],
)
def test_a_failure_is_recorded_and_leaves_the_previous_pdf_alone(
    breakage,
    error,
    inquiry,
    sites,
    staff,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    offer = render(
        make_offer(inquiry, sites[:1], staff, "en"), staff, django_capture_on_commit_callbacks
    )
    previous_name, previous_bytes = offer.pdf.name, pdf_path(offer).read_bytes()
    before = _media_files(settings)
    offer_update(
        offer=offer, acting_user=staff, title="Changed", introduction="", language="en", items=[]
    )

    breakage(monkeypatch)
    offer = render(offer, staff, django_capture_on_commit_callbacks)

    assert offer.pdf_status == Offer.PdfStatus.FAILED
    assert error in offer.pdf_error
    assert not offer.pdf_is_current
    # Nothing half-written: the previous file is untouched, no new file stays behind.
    assert _media_files(settings) == before
    assert offer.pdf.name == previous_name and pdf_path(offer).read_bytes() == previous_bytes
    failed = inquiry.events.get(kind=InquiryEvent.Kind.PDF_FAILED)
    assert error in failed.text
    assert failed.data == {"offer": offer.pk, "content_version": offer.content_version}

    # The builder shows the error and a retry; nobody gets the stale file as current.
    state = pdf_state(offer)
    assert state["status"] == "failed" and error in state["error"] and state["url"] is None


def test_the_builder_shows_a_failure_and_retries(
    client, inquiry, sites, staff, monkeypatch, django_capture_on_commit_callbacks
):
    offer = make_offer(inquiry, sites[:1], staff, "en")
    _break_rendering(monkeypatch)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("offer_pdf_request", args=[offer.pk]))
    assert response.status_code == 302
    html = client.get(reverse("offer_edit", args=[offer.pk])).content.decode()
    assert "The PDF could not be rendered." in html
    assert "RuntimeError: WeasyPrint ran out of memory" in html
    assert "Try again" in html
    status = client.get(reverse("offer_pdf_status", args=[offer.pk])).json()
    assert status["status"] == "failed" and status["url"] is None

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("offer_pdf_request", args=[offer.pk]))
    status = client.get(reverse("offer_pdf_status", args=[offer.pk])).json()
    assert status["status"] == "ready" and status["current"] and status["error"] == ""
    assert status["url"] == reverse("offer_pdf", args=[offer.pk])


# --- out of date --------------------------------------------------------------------------


def test_a_content_change_makes_the_pdf_out_of_date(
    client, inquiry, sites, staff, django_capture_on_commit_callbacks
):
    offer = render(
        make_offer(inquiry, sites[:2], staff, "en"), staff, django_capture_on_commit_callbacks
    )
    client.force_login(staff)
    builder = reverse("offer_edit", args=[offer.pk])
    html = client.get(builder).content.decode()
    assert "The PDF is ready." in html and "out of date" not in html

    second = offer.items.order_by("position").last()
    assert second is not None
    client.post(
        builder,
        {
            "title": offer.title,
            "language": "en",
            "introduction": offer.introduction,
            "action": f"up:{second.pk}",
        },
    )
    offer.refresh_from_db()
    assert not offer.pdf_is_current and offer.pdf_status == Offer.PdfStatus.READY
    html = client.get(builder).content.decode()
    assert "The PDF is out of date: the offer changed since. Render it again." in html
    assert "offer-pdf__status--outdated" in html
    state = client.get(reverse("offer_pdf_status", args=[offer.pk])).json()
    assert state["outdated"] and not state["current"]
    # Staff may still look at the old one; the builder says it is old.
    response = client.get(reverse("offer_pdf", args=[offer.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"

    offer = render(offer, staff, django_capture_on_commit_callbacks)
    assert offer.pdf_is_current
    # The new order is in the new PDF, and the old file is gone.
    assert "Gewerbepark Süd" in page_text(pdf_path(offer), FIXED_PAGES + 1)
    assert len(list(Path(offer.pdf.path).parent.glob("*.pdf"))) == 1


# --- no network ---------------------------------------------------------------------------


def test_rendering_never_touches_the_network(
    inquiry, sites, staff, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("the offer's PDF tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)

    fetchers: list[object] = []
    fetched: list[str] = []
    original_html = weasyprint.HTML
    original_fetch = LocalOnlyURLFetcher.fetch

    def html(*args, **kwargs):
        fetchers.append(kwargs.get("url_fetcher"))
        return original_html(*args, **kwargs)

    def fetch(self, url, headers=None):
        fetched.append(url)
        return original_fetch(self, url, headers)

    monkeypatch.setattr(offer_documents, "HTML", html)
    monkeypatch.setattr(LocalOnlyURLFetcher, "fetch", fetch)

    offer = render(
        make_offer(inquiry, sites[:1], staff, "en"), staff, django_capture_on_commit_callbacks
    )
    assert offer.pdf_status == Offer.PdfStatus.READY, offer.pdf_error
    assert fetchers and all(isinstance(f, LocalOnlyURLFetcher) for f in fetchers)
    assert all(url.startswith(("file:", "data:")) for url in fetched), fetched
