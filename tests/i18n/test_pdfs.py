"""Exposé and offer PDF in Chinese and Turkish: the text is in the PDF (pdftotext) and every
font is embedded (pdffonts), Chinese in Noto CJK.

The site's title is data the test controls (Chinese and Turkish, with ı/İ/ğ/ş); the
interface's own words are checked too once the language's catalogue is in the tree (they
are then translated: the PDF must carry the translation)."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from accounts.models import User
from properties.models import Site
from properties.services.expose import site_expose_pdf
from proposals.services.offer_documents import offer_pdf_bytes
from proposals.services.offers import offer_create
from sitefinder.i18n_status import catalogue_path
from tests.factories import InquiryFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

TITLES = {
    "zh-hans": "杜伊斯堡港口物流用地",
    "tr": "Iğdır İşletmeleri için Lojistik Alanı ışık",
}
GERMAN_TITLE = "Logistikfläche am Hafen"
# A word of the interface on both documents.
UI_WORDS = {"expose": "Distances", "offer": "The sites at a glance"}


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(font name, embedded yes/no) of every font in the PDF."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    fonts = []
    for line in lines:
        columns = line.split()
        # name type [encoding words] emb sub uni object-id generation
        fonts.append((columns[0], columns[-5]))
    return fonts


def assert_fonts_embedded(pdf: bytes, tmp_path: Path, language: str) -> None:
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts, "no fonts in the PDF"
    assert all(embedded == "yes" for _name, embedded in fonts), fonts
    if language == "zh-hans":
        assert any("Noto-Sans-CJK" in name for name, _e in fonts), fonts


def assert_ui_translated(text: str, language: str, msgid: str) -> None:
    """Once the catalogue is merged, the PDF speaks the language, not English."""
    if not catalogue_path(language).exists():
        return
    with translation.override(language):
        translated = translation.gettext(msgid)
    assert translated != msgid, f"{msgid!r} is not translated into {language}"
    assert re.sub(r"\s+", "", translated) in re.sub(r"\s+", "", text)


@pytest.fixture
def site(essen) -> Site:
    return SiteFactory(
        title=GERMAN_TITLE,
        municipality=essen,
        area_m2=9_876,
        price_eur_m2=Decimal("1234.50"),
        translations={language: {"title": title} for language, title in TITLES.items()},
    )


@pytest.mark.parametrize("language", ["zh-hans", "tr"])
def test_expose_in_chinese_and_turkish(site, tmp_path, language):
    pdf = site_expose_pdf(site=site, language=language)
    text = pdf_text(pdf, tmp_path)
    squeezed = re.sub(r"\s+", "", text)

    assert re.sub(r"\s+", "", TITLES[language]) in squeezed
    # The area in the language's format: 9.876 m² (tr), 9,876 m² (zh).
    assert ("9.876" if language == "tr" else "9,876") in text
    assert_fonts_embedded(pdf, tmp_path, language)
    assert_ui_translated(text, language, UI_WORDS["expose"])


@pytest.mark.parametrize("language", ["zh-hans", "tr"])
def test_offer_pdf_in_chinese_and_turkish(site, tmp_path, language):
    staff = UserFactory(role=User.Role.STAFF)
    offer = offer_create(
        inquiry=InquiryFactory(), site_ids=[site.pk], acting_user=staff, language=language
    )
    pdf = offer_pdf_bytes(offer=offer)
    text = pdf_text(pdf, tmp_path)

    assert re.sub(r"\s+", "", TITLES[language]) in re.sub(r"\s+", "", text)
    assert GERMAN_TITLE not in text  # the partner's own translation, not the original
    assert_fonts_embedded(pdf, tmp_path, language)
    assert_ui_translated(text, language, UI_WORDS["offer"])


def test_a_site_without_the_readers_language_shows_the_german_original_labelled(essen, tmp_path):
    plain = SiteFactory(title=GERMAN_TITLE, municipality=essen)
    text = pdf_text(site_expose_pdf(site=plain, language="en"), tmp_path)
    assert GERMAN_TITLE in text
    assert "original in German" in text
