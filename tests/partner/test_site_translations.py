"""Partner-written text in more than one language: German is the original (required), the
other languages are optional; readers see their language when a person wrote it, else the
original labelled "original in German". Nothing is machine-translated."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from properties.models import Site, clean_translations
from sitefinder.l10n import translate_path
from tests.factories import SiteFactory
from tests.partner.test_workspace import inside, login, polygon_4326, site_data

pytestmark = pytest.mark.django_db


def test_the_editor_saves_other_languages_and_shows_them_again(client, people, essen):
    login(client, people["a"])
    page = client.get(reverse("partner_site_new")).content.decode()
    assert 'name="title"' in page and 'name="kind"' in page  # the original's fields
    assert 'name="title__zh_hans"' in page and 'lang="zh-hans"' in page
    assert "Nederlands" in page and "简体中文" in page
    data = site_data(
        polygon_4326(inside(essen)),
        title="Fläche am Kanal",
        description="Erschlossen, sofort verfügbar.",
        title__en="  Site by the canal ",
        description__en="Serviced, available now.",
        title__zh_hans="运河边的地块",
        restriction_notes__tr="",
    )
    response = client.post(reverse("partner_site_new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    site = Site.objects.get(title="Fläche am Kanal")
    assert site.translations == {
        "en": {"title": "Site by the canal", "description": "Serviced, available now."},
        "zh-hans": {"title": "运河边的地块"},
    }
    edit = client.get(reverse("partner_site_edit", args=[site.pk])).content.decode()
    assert 'value="运河边的地块"' in edit


def test_a_too_long_translated_title_is_a_field_error(client, people, essen):
    login(client, people["a"])
    response = client.post(
        reverse("partner_site_new"), site_data(polygon_4326(inside(essen)), title__nl="x" * 201)
    )
    assert response.status_code == 200
    assert "title__nl" in response.content.decode()
    assert not Site.objects.exists()


def test_pages_show_the_readers_language_or_the_labelled_original(client, essen):
    site = SiteFactory(
        municipality=essen,
        title="Gewerbefläche Nord",
        description="Erschlossene Fläche.",
        translations={"en": {"title": "Commercial site North"}},
    )
    url = reverse("site_detail", args=[site.pk])
    english = client.get(translate_path(url, "en")).content.decode()
    assert "Commercial site North" in english
    # The description exists only in German: shown as it is, marked as German.
    assert '<span lang="de">Erschlossene Fläche.</span>' in english
    assert "original in German" in english

    dutch = client.get(translate_path(url, "nl")).content.decode()
    assert '<span lang="de">Gewerbefläche Nord</span>' in dutch
    assert 'class="original-language"' in dutch

    german = client.get(translate_path(url, "de")).content.decode()
    assert "Gewerbefläche Nord" in german and 'class="original-language"' not in german


@pytest.mark.parametrize(
    "value",
    [
        {"fr": {"title": "x"}},  # not one of the languages
        {"de": {"title": "x"}},  # German is the original, in the columns
        {"en": {"price": "1"}},  # not a translatable field
        {"en": "Site"},
        ["en"],
    ],
)
def test_translations_are_checked(value):
    with pytest.raises(ValidationError) as error:
        clean_translations(value)
    assert "translations" in error.value.message_dict


def test_empty_texts_are_dropped():
    assert clean_translations({"en": {"title": " "}, "pl": {}}) == {}
    assert clean_translations(None) == {}
