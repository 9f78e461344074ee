"""The six languages on the pages and in the e-mails: the URL carries the language, every
page names its alternates, the switcher is remembered, the detail page writes figures in
the reader's format, and an alert e-mail goes out in Polish."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from search.services.alerts import alerts_send, saved_search_create
from sitefinder.i18n_status import catalogue_path
from sitefinder.l10n import translate_path
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
LANGUAGES = [code for code, _name in settings.LANGUAGES]

# The detail page's figures of a site of 9,876 m² at 1,234.50 €/m², per language (from
# 10,000 m² on, an area is told in hectares).
FIGURES = {
    "de": (f"9.876{NBSP}m²", f"1.234,50{NBSP}€/m²"),
    "nl": (f"9.876{NBSP}m²", f"1.234,50{NBSP}€/m²"),
    "tr": (f"9.876{NBSP}m²", f"1.234,50{NBSP}€/m²"),
    "pl": (f"9{NBSP}876{NBSP}m²", f"1{NBSP}234,50{NBSP}€/m²"),
    "en": (f"9,876{NBSP}m²", f"1,234.50{NBSP}€/m²"),
    "zh-hans": (f"9,876{NBSP}m²", f"1,234.50{NBSP}€/m²"),
}


def page_text(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def site(essen):
    return SiteFactory(municipality=essen, area_m2=9_876, price_eur_m2=Decimal("1234.50"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_detail_page_in_every_language_with_its_formats(client, site, language):
    with translation.override(language):
        url = reverse("site_detail", args=[site.pk])
    assert url.startswith(f"/{language}/")
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")  # the URL decides, not the browser
    assert response.status_code == 200
    html = page_text(response)
    assert f'<html lang="{language}">' in html
    area, price = FIGURES[language]
    assert area in html
    assert price.split(NBSP + "€")[0] in html


def test_every_page_names_its_alternates_and_a_default(client, site):
    html = page_text(client.get(reverse("site_detail", args=[site.pk]) + "?x=1"))
    for code in LANGUAGES:
        assert (
            f'<link rel="alternate" hreflang="{code}" '
            f'href="http://testserver/{code}/sites/{site.pk}/?x=1">'
        ) in html
    assert (
        f'<link rel="alternate" hreflang="x-default" href="http://testserver/sites/{site.pk}/?x=1">'
        in html
    )
    # The switcher: every language under its own name, in its own language.
    for code, name in settings.LANGUAGES:
        assert re.search(rf'value="{code}" lang="{code}"\s+aria-pressed="\w+">{name}<', html)


def test_an_old_address_without_a_language_redirects_to_the_visitors(client, site):
    response = client.get(f"/sites/{site.pk}/", HTTP_ACCEPT_LANGUAGE="pl,en;q=0.5")
    assert (response.status_code, response["Location"]) == (302, f"/pl/sites/{site.pk}/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "tr"
    response = client.get(f"/sites/{site.pk}/?x=1", HTTP_ACCEPT_LANGUAGE="pl")
    assert response["Location"] == f"/tr/sites/{site.pk}/?x=1"  # the visitor's choice first


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/sites/", "/tiles/boundaries/8/133/85.pbf"])
def test_machine_endpoints_have_no_language_prefix(client, reference_data, path):
    assert client.get(path).status_code == 200


def test_the_switcher_remembers_the_choice_and_stores_it_on_the_account(client, site):
    user = UserFactory(language="en")
    client.force_login(user)
    page = reverse("site_detail", args=[site.pk])  # /en/sites/…/
    response = client.post(reverse("set_language"), {"language": "nl", "next": page})
    assert response.status_code == 302
    assert response["Location"] == f"/nl/sites/{site.pk}/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    user.refresh_from_db()
    assert user.language == "nl"
    # An unknown language changes nothing.
    client.post(reverse("set_language"), {"language": "xx", "next": page})
    user.refresh_from_db()
    assert user.language == "nl"


def test_a_visitor_choice_is_a_cookie_only(client, site):
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": f"/en/sites/{site.pk}/"}
    )
    assert response["Location"] == f"/zh-hans/sites/{site.pk}/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_login_opens_the_next_page_in_the_accounts_language(client, site):
    user = UserFactory(language="tr")
    user.set_password("a long passphrase 1")
    user.save()
    response = client.post(
        reverse("login"),
        {
            "username": user.username,
            "password": "a long passphrase 1",
            "next": f"/en/sites/{site.pk}/",
        },
    )
    assert response["Location"] == f"/tr/sites/{site.pk}/"


def test_alert_email_in_polish(essen):
    investor = UserFactory(email="inwestor@example.pl", language=User.Language.POLISH)
    search = saved_search_create(user=investor, name="Działki w Essen", query="kind=plot")
    assert search.language == "pl"  # the alerts follow the account's language
    site = SiteFactory(
        municipality=essen, title="Działka przy kanale", area_m2=9_876, price_eur_m2=Decimal(85)
    )

    assert alerts_send() == 1
    (message,) = mail.outbox
    assert message.to == ["inwestor@example.pl"]
    html = message.alternatives[0].content
    # Links in Polish, figures in Polish format (a no-break space groups the thousands).
    assert f"{settings.SITE_URL}/pl/sites/{site.pk}/" in message.body
    assert f"9{NBSP}876{NBSP}m²" in message.body and f"9{NBSP}876{NBSP}m²" in html
    assert "85,00" in message.body
    assert re.search(r'<html[^>]* lang="pl"', html)
    assert "Działka przy kanale" in message.body
    if catalogue_path("pl").exists():  # after the Polish catalogue is merged: no English
        with translation.override("pl"):
            stop = translation.gettext("Stop the alerts of this search")
        assert stop != "Stop the alerts of this search" and stop in message.body
        assert "Stop the alerts of this search" not in message.body


def test_switching_from_a_shared_link_in_another_language_than_the_cookie(client, site):
    """The page came from a Polish link, the visitor's cookie says English: the switcher
    still changes the page's own language (translate_url alone would not find /pl/)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("set_language"), {"language": "de", "next": f"/pl/sites/{site.pk}/?x=1"}
    )
    assert response["Location"] == f"/de/sites/{site.pk}/?x=1"
    with translation.override("tr"):
        assert translate_path(f"/pl/sites/{site.pk}/", "nl") == f"/nl/sites/{site.pk}/"
