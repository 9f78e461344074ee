"""Investor accounts, saved searches and their e-mail alerts."""

import datetime
import re
import threading
from io import StringIO
from smtplib import SMTPException

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from properties.models import Site
from properties.services.sites import site_save
from search.models import SavedSearch, SearchAlert
from search.services.alerts import (
    alerts_send,
    saved_search_create,
    saved_search_unsubscribe_token,
)
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/saved-searches/"
PASSWORD = "correct horse battery"
# Essen city centre (EPSG:25832) and points around it.
ESSEN = Point(362_800, 5_703_800, srid=25832)


def near_essen(n: int) -> Point:
    return Point(ESSEN.x + 400 * n, ESSEN.y, srid=25832)


@pytest.fixture
def investor(reference_data) -> User:
    return UserFactory(email="investor@example.org", language=User.Language.ENGLISH)


@pytest.fixture
def investor_client(investor) -> Client:
    client = Client()
    client.force_login(investor)
    return client


def plots_search(user: User, query: str = "kind=plot") -> SavedSearch:
    return saved_search_create(user=user, name="Plots in Essen", query=query)


def new_plot(essen, n: int = 0, **fields) -> Site:
    return SiteFactory(municipality=essen, at=near_essen(n), **fields)


# --- accounts -----------------------------------------------------------------------------


def signup_data(**overrides) -> dict[str, str]:
    data = {
        "email": "New.Investor@Example.org",
        "password1": "a long and unusual passphrase",
        "password2": "a long and unusual passphrase",
        "company": "Logistik GmbH",
        "language": "en",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_signup_creates_a_logged_in_investor_with_their_language(reference_data):
    client = Client()
    response = client.post(reverse("signup"), signup_data(language="de"))
    assert response.status_code == 302
    with translation.override("de"):  # the new account's language
        assert response["Location"] == reverse("map")
    user = User.objects.get(email="new.investor@example.org")
    assert user.username == "new.investor@example.org"
    assert user.role == User.Role.INVESTOR
    assert user.language == "de"
    assert user.company == "Logistik GmbH"
    assert user.privacy_accepted_at is not None
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert client.get(reverse("saved_searches")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent": ""}, "consent"),
        ({"password2": "something else entirely"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password1"),
        ({"email": "not an address"}, "email"),
    ],
)
def test_signup_rejects_incomplete_forms(reference_data, overrides, field):
    response = Client().post(reverse("signup"), signup_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.filter(email="new.investor@example.org").exists()


def test_signup_rejects_a_known_address(investor):
    response = Client().post(reverse("signup"), signup_data(email="INVESTOR@example.org"))
    assert "email" in response.context["form"].errors


def test_signup_page_offers_the_privacy_notice(reference_data):
    response = Client().get(reverse("signup"))
    assert response.status_code == 200
    assert reverse("privacy").encode() in response.content
    assert Client().get(reverse("privacy")).status_code == 200


def test_login_with_the_email_address_in_any_case_and_logout(reference_data):
    Client().post(reverse("signup"), signup_data())
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": "NEW.investor@example.org", "password": "a long and unusual passphrase"},
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert client.get(reverse("saved_searches")).status_code == 200

    assert client.get(reverse("logout")).status_code == 405  # logging out is a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    response = client.get(reverse("saved_searches"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_account_pages_speak_german(reference_data):
    client = Client(headers={"accept-language": "de"})
    # An address without a language goes to the browser's language.
    response = client.get("/accounts/signup/")
    assert (response.status_code, response["Location"]) == (302, "/de/accounts/signup/")
    with translation.override("de"):
        assert "Als Investor registrieren" in client.get(reverse("signup")).content.decode()
        assert "Anmelden" in client.get(reverse("login")).content.decode()
        client.force_login(UserFactory())
        page = client.get(reverse("saved_searches")).content.decode()
    assert "Meine gespeicherten Suchen" in page


def test_login_page_renders(reference_data):
    response = Client().get(reverse("login") + "?next=/account/searches/")
    assert response.status_code == 200
    assert b'name="next" value="/account/searches/"' in response.content


# --- saving searches ----------------------------------------------------------------------


def test_api_saves_lists_and_deletes_searches(investor_client, investor):
    response = investor_client.post(
        API,
        {"name": "Big plots", "query": "?kind=plot&area_min=10000&page=3"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    saved = response.json()
    assert saved["query"] == "kind=plot&area_min=10000"  # without "?" and the page
    assert saved["language"] == "en"
    assert saved["is_active"] is True
    assert saved["last_alert_at"] is None
    assert saved["search_url"] == "/en/?kind=plot&area_min=10000"  # the search's language

    listed = investor_client.get(API).json()
    assert [s["id"] for s in listed] == [saved["id"]]

    assert investor_client.delete(f"{API}{saved['id']}/").status_code == 204
    assert investor_client.get(API).json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("area_min=lots", "area_min"),
        ("kind=castle", "kind"),
        ("municipality=99999999", "municipality"),
        ("price_min=100&price_max=10", "price_max"),
    ],
)
def test_api_rejects_an_invalid_query_naming_the_field(investor_client, query, field):
    response = investor_client.post(
        API, {"name": "Broken", "query": query}, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not SavedSearch.objects.exists()


def test_api_names_a_search_after_its_filters_without_a_name(investor_client):
    response = investor_client.post(API, {"query": "kind=plot"}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["name"] == "Plot"
    assert response.json()["frequency"] == "instant"


def test_a_name_is_kept_on_one_line(investor):
    search = saved_search_create(user=investor, name=" Halls\r\nBcc: x@example.org ", query="")
    assert search.name == "Halls Bcc: x@example.org"


def test_api_is_for_signed_in_users_only(reference_data):
    client = Client()
    response = client.post(API, {"name": "x", "query": ""}, content_type="application/json")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert client.get(API).status_code == 403


def test_api_deletes_only_own_searches(investor_client, reference_data):
    other = plots_search(UserFactory())
    assert investor_client.delete(f"{API}{other.pk}/").status_code == 404
    assert SavedSearch.objects.filter(pk=other.pk).exists()


def test_page_saves_a_search_from_the_search_page_form(investor_client, investor):
    response = investor_client.post(
        reverse("saved_searches"),
        {"name": "Halls", "query": "kind=hall", "next": "/?kind=hall"},
    )
    assert response.status_code == 303
    assert response["Location"] == "/?kind=hall"
    search = SavedSearch.objects.get(user=investor)
    assert (search.name, search.query) == ("Halls", "kind=hall")

    page = investor_client.get(reverse("saved_searches"))
    assert page.status_code == 200
    assert b"Halls" in page.content
    assert b'href="/en/?kind=hall"' in page.content


def test_page_shows_why_a_query_is_invalid(investor_client):
    response = investor_client.post(
        reverse("saved_searches"), {"name": "Broken", "query": "area_min=lots"}
    )
    assert response.status_code == 400
    assert "area_min" in str(response.context["form"].non_field_errors())
    assert not SavedSearch.objects.exists()


def test_page_deletes_with_a_form_and_only_own_searches(investor_client, investor):
    own = plots_search(investor)
    other = plots_search(UserFactory())
    response = investor_client.post(reverse("saved_search_delete", args=[own.pk]))
    assert response.status_code == 303
    assert not SavedSearch.objects.filter(pk=own.pk).exists()
    response = investor_client.post(reverse("saved_search_delete", args=[other.pk]))
    assert response.status_code == 404
    assert SavedSearch.objects.filter(pk=other.pk).exists()


def test_page_needs_a_login(reference_data):
    response = Client().get(reverse("saved_searches"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- alerts -------------------------------------------------------------------------------


def test_a_new_matching_site_is_alerted_once(investor, essen):
    search = plots_search(investor)
    site = new_plot(essen, title="Plot by the canal")

    assert alerts_send() == 1
    assert alerts_send() == 0  # a second run finds nothing new
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["investor@example.org"]
    assert "Plot by the canal" in message.body
    assert f"{settings.SITE_URL}/en/sites/{site.pk}/" in message.body  # the search's language
    assert "Essen" in message.body
    assert "2\xa0ha gross" in message.body  # the one way an area is told (area_pair)
    assert "Sale 85.00\u00a0€/m²" in message.body  # the offer type with its figure
    html = message.alternatives[0].content
    assert f'href="{settings.SITE_URL}/en/sites/{site.pk}/"' in html
    alert = SearchAlert.objects.get()
    assert (alert.saved_search, alert.site, alert.site_version) == (search, site, site.updated_at)
    assert alert.sent_at is not None


def test_one_email_per_search_lists_all_its_sites(investor, essen):
    plots_search(investor)
    new_plot(essen, 0, title="First plot")
    new_plot(essen, 1, title="Second plot")
    assert alerts_send() == 1
    assert "First plot" in mail.outbox[0].body
    assert "Second plot" in mail.outbox[0].body
    assert "2 new or changed sites" in mail.outbox[0].subject


def test_a_changed_site_is_alerted_again_once(investor, essen):
    plots_search(investor)
    site = new_plot(essen)
    alerts_send()

    site_save(site=site, acting_user=None, fields={"price_eur_m2": 70})
    assert alerts_send() == 1
    assert alerts_send() == 0
    assert len(mail.outbox) == 2
    assert "70.00\u00a0€/m²" in mail.outbox[1].body
    assert SearchAlert.objects.filter(site=site).count() == 2


def test_sites_that_do_not_match_are_not_alerted(investor, essen):
    plots_search(investor, query="kind=office")
    new_plot(essen)
    assert alerts_send() == 0
    assert mail.outbox == []


def test_unpublished_sites_are_not_alerted(investor, essen):
    plots_search(investor)
    new_plot(essen, 0, status=Site.Status.DRAFT)
    new_plot(essen, 1, status=Site.Status.SUBMITTED)
    assert alerts_send() == 0
    assert mail.outbox == []


def test_sites_from_before_the_search_was_saved_are_not_alerted(investor, essen):
    new_plot(essen)
    plots_search(investor)
    assert alerts_send() == 0
    assert mail.outbox == []


def test_a_site_unpublished_before_the_email_is_not_mentioned(investor, essen, monkeypatch):
    plots_search(investor)
    site = new_plot(essen)
    monkeypatch.setattr(EmailMultiAlternatives, "send", _refuse)
    alerts_send()  # recorded, not sent
    monkeypatch.undo()
    site_save(site=site, acting_user=None, fields={"status": Site.Status.WITHDRAWN})
    assert alerts_send() == 0
    assert not SearchAlert.objects.exists()


def test_a_change_committed_late_is_still_alerted(investor, essen):
    """A site saved before a run's end but committed after it: the next run looks back."""
    search = plots_search(investor)
    SavedSearch.objects.filter(pk=search.pk).update(
        alerts_since=search.alerts_since - datetime.timedelta(hours=1)
    )
    assert alerts_send() == 0
    search.refresh_from_db()
    site = new_plot(essen)
    Site.objects.filter(pk=site.pk).update(
        updated_at=search.last_checked_at - datetime.timedelta(minutes=1)
    )
    assert alerts_send() == 1
    assert alerts_send() == 0


def test_inactive_searches_are_not_alerted(investor, essen):
    search = plots_search(investor)
    SavedSearch.objects.filter(pk=search.pk).update(is_active=False)
    new_plot(essen)
    assert alerts_send() == 0


@pytest.mark.parametrize(
    ("language", "subject", "body_snippets"),
    [
        (
            "en",
            "sitefinder: 1 new or changed site for “Plots in Essen”",
            [
                "New or changed sites match your saved search",
                "2\u00a0ha gross",
                "Sale 85.00\u00a0€/m²",
                "/en/account/searches/",
            ],
        ),
        (
            "de",
            "sitefinder: 1 neuer oder geänderter Standort zu „Plots in Essen“",
            [
                "Neue oder geänderte Standorte passen",
                "2\u00a0ha brutto",
                "Kauf 85,00\u00a0€/m²",
                "/de/account/searches/",
            ],
        ),
    ],
)
def test_email_in_the_users_language(essen, language, subject, body_snippets):
    user = UserFactory(language=language)
    plots_search(user)
    new_plot(essen)
    alerts_send()
    message = mail.outbox[0]
    assert message.subject == subject
    for snippet in body_snippets:
        assert snippet in message.body
        assert snippet.replace(" m²", "&nbsp;m²").replace(" €", "&nbsp;€") in (
            message.alternatives[0].content
        )


def _refuse(*args, **kwargs):
    raise SMTPException("mail server down")


def test_mail_failure_keeps_the_alerts_for_the_next_run(investor, essen, monkeypatch):
    plots_search(investor)
    new_plot(essen)
    monkeypatch.setattr(EmailMultiAlternatives, "send", _refuse)
    assert alerts_send() == 0
    alert = SearchAlert.objects.get()
    assert alert.sent_at is None

    monkeypatch.undo()
    assert alerts_send() == 1
    assert alerts_send() == 0
    assert len(mail.outbox) == 1
    alert.refresh_from_db()
    assert alert.sent_at is not None


def _unsubscribe_path(message) -> str:
    match = re.search(
        re.escape(settings.SITE_URL) + r"(/[a-z-]+/account/searches/\d+/unsubscribe/[^/\s]+/)",
        message.body,
    )
    assert match, message.body
    return match.group(1)


def test_unsubscribe_link_stops_the_alerts_without_login(investor, essen):
    search = plots_search(investor)
    new_plot(essen, 0)
    alerts_send()
    message = mail.outbox[0]
    path = _unsubscribe_path(message)
    assert message.extra_headers["List-Unsubscribe"] == f"<{settings.SITE_URL}{path}>"

    client = Client(enforce_csrf_checks=True)  # one-click unsubscribe has no CSRF token
    confirm = client.get(path)
    assert confirm.status_code == 200
    search.refresh_from_db()
    assert search.is_active  # a link checker opening it changes nothing

    assert client.post(path).status_code == 200
    search.refresh_from_db()
    assert not search.is_active

    new_plot(essen, 1)
    assert alerts_send() == 0


@pytest.mark.parametrize("tamper", ["token", "id"])
def test_a_tampered_unsubscribe_link_is_not_found(investor, reference_data, tamper):
    search = plots_search(investor)
    other = plots_search(UserFactory())
    token = saved_search_unsubscribe_token(search)
    if tamper == "token":
        path = reverse("saved_search_unsubscribe", args=[search.pk, token[:-2] + "xx"])
    else:
        path = reverse("saved_search_unsubscribe", args=[other.pk, token])
    assert Client().get(path).status_code == 404
    assert Client().post(path).status_code == 404
    assert SavedSearch.objects.filter(is_active=True).count() == 2


def test_resume_turns_alerts_on_for_changes_from_then(investor_client, investor, essen):
    search = plots_search(investor)
    SavedSearch.objects.filter(pk=search.pk).update(is_active=False)
    new_plot(essen, 0)  # while the alerts were off
    response = investor_client.post(reverse("saved_search_resume", args=[search.pk]))
    assert response.status_code == 303
    search.refresh_from_db()
    assert search.is_active
    assert alerts_send() == 0


def test_command_reports_emails_and_alerts(investor, essen):
    plots_search(investor)
    new_plot(essen, 0)
    new_plot(essen, 1)
    out = StringIO()
    call_command("send_search_alerts", stdout=out)
    assert out.getvalue().strip() == "Sent 1 e-mail(s) with 2 site alert(s)."
    out = StringIO()
    call_command("send_search_alerts", stdout=out)
    assert out.getvalue().strip() == "Sent 0 e-mail(s) with 0 site alert(s)."


@pytest.mark.django_db(transaction=True)
def test_a_search_another_run_is_sending_is_skipped(reference_data, essen):
    """Two runs at once: the second skips the search the first holds (SKIP LOCKED)."""
    user = UserFactory()
    search = plots_search(user)
    new_plot(essen)
    locked, release = threading.Event(), threading.Event()

    def other_run_holding_the_search():
        try:
            with transaction.atomic():
                SavedSearch.objects.select_for_update().get(pk=search.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_run_holding_the_search)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert alerts_send() == 0
        assert not SearchAlert.objects.exists()
    finally:
        release.set()
        holder.join()
    assert alerts_send() == 1
    assert len(mail.outbox) == 1


# -- saved searches people can manage (issue 13) --------------------------------------------


def test_a_search_without_a_name_is_named_after_its_filters(investor, essen):
    query = f"kind=plot&area_min_ha=2.5&municipality={essen.ags}&offer_type=sale&rent_max=7.5"
    english = saved_search_create(user=investor, name="  ", query=query)
    assert english.name == "Plot, area ≥ 2.5\u00a0ha, Sale, rent ≤ 7.5 €/m²/month, Essen"
    german = saved_search_create(user=investor, name="", query=query, language="de")
    assert german.name == "Grundstück, Fläche ≥ 2,5\u00a0ha, Kauf, Miete ≤ 7,5 €/m²/Monat, Essen"
    assert saved_search_create(user=investor, name="", query="").name == "All sites"


def test_page_renames_and_sets_the_frequency(investor_client, investor):
    search = plots_search(investor)
    url = reverse("saved_search_update", args=[search.pk])
    prefix = f"search-{search.pk}"
    response = investor_client.post(
        url, {f"{prefix}-name": "Big plots", f"{prefix}-frequency": "weekly"}
    )
    assert response.status_code == 303
    search.refresh_from_db()
    assert (search.name, search.frequency) == ("Big plots", "weekly")
    # An empty name falls back to the filters; a bad frequency changes nothing.
    investor_client.post(url, {f"{prefix}-name": "", f"{prefix}-frequency": "hourly"})
    search.refresh_from_db()
    assert (search.name, search.frequency) == ("Big plots", "weekly")
    investor_client.post(url, {f"{prefix}-name": "", f"{prefix}-frequency": "daily"})
    search.refresh_from_db()
    assert (search.name, search.frequency) == ("Plot", "daily")
    page = investor_client.get(reverse("saved_searches")).content.decode()
    assert "Daily" in page and "Plot" in page
    # Another user's search is not found.
    other = plots_search(UserFactory())
    other_url = reverse("saved_search_update", args=[other.pk])
    assert (
        investor_client.post(
            other_url, {f"search-{other.pk}-name": "x", f"search-{other.pk}-frequency": "daily"}
        ).status_code
        == 404
    )


def test_pause_and_resume(investor_client, investor, essen):
    search = plots_search(investor)
    assert investor_client.post(reverse("saved_search_pause", args=[search.pk])).status_code == 303
    search.refresh_from_db()
    assert not search.is_active
    new_plot(essen, 0)
    assert alerts_send() == 0
    assert "paused" in investor_client.get(reverse("saved_searches")).content.decode()
    investor_client.post(reverse("saved_search_resume", args=[search.pk]))
    search.refresh_from_db()
    assert search.is_active


def test_daily_and_weekly_searches_gather_their_sites(investor, essen):
    from django.utils import timezone

    daily = saved_search_create(user=investor, name="Daily", query="kind=plot", frequency="daily")
    weekly = saved_search_create(user=investor, name="Weekly", query="", frequency="weekly")
    start = timezone.now()
    new_plot(essen, 0, title="First plot")
    assert alerts_send(now=start + datetime.timedelta(minutes=1)) == 2  # the first e-mails
    new_plot(essen, 1, title="Second plot")
    new_plot(essen, 2, title="Third plot")
    assert alerts_send(now=start + datetime.timedelta(hours=2)) == 0  # not their turn yet
    assert alerts_send(now=start + datetime.timedelta(days=1, minutes=2)) == 1  # daily
    digest = mail.outbox[-1]
    assert "Daily" in digest.subject
    assert "Second plot" in digest.body and "Third plot" in digest.body
    assert alerts_send(now=start + datetime.timedelta(days=7, minutes=2)) == 1  # weekly
    assert "Weekly" in mail.outbox[-1].subject
    daily.refresh_from_db()
    weekly.refresh_from_db()
    assert weekly.last_emailed_at > daily.last_emailed_at


def test_alert_dates_and_numbers_follow_the_language(investor_client, investor, essen):
    search = plots_search(investor)
    SavedSearch.objects.filter(pk=search.pk).update(
        created_at=datetime.datetime(2026, 3, 4, 12, tzinfo=datetime.UTC)
    )
    page = investor_client.get(reverse("saved_searches"), HTTP_ACCEPT_LANGUAGE="en-GB")
    assert "04/03/2026" in page.content.decode()  # en-GB: day first
