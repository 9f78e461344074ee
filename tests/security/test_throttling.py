"""Throttling (issue 11): 30 wrong passwords and then the right one logged in, on the site
and the admin; 20 password-reset mails went to one address in a row; the API had no
limit for anonymous clients."""

import pytest
from django.core import mail
from django.urls import reverse

from sitefinder.l10n import translate_path
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def attempt(client, url: str, username: str, password: str, ip: str = "198.51.100.7", **extra):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


@pytest.mark.parametrize(("url_name", "staff"), [("login", False), ("admin:login", True)])
def test_wrong_passwords_lock_the_account_even_for_the_right_one(client, settings, url_name, staff):
    user = UserFactory(
        username="anna@example.org", is_staff=staff, role="staff" if staff else "investor"
    )
    url = reverse(url_name)
    statuses = [
        attempt(client, url, user.username, "wrong").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # locked at the limit
    response = attempt(client, url, user.username, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    assert "Too many failed logins" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    # From another address the account is still locked: the count is per account too.
    assert attempt(client, url, user.username, PASSWORD, ip="203.0.113.9").status_code == 429
    assert not logged_in(client)


def test_thirty_wrong_passwords_then_the_right_one_does_not_log_in(client):
    user = UserFactory(username="bert@example.org")
    for _ in range(30):
        attempt(client, reverse("login"), user.username, "guess")
    attempt(client, reverse("login"), user.username, PASSWORD)
    assert not logged_in(client)


def test_many_accounts_from_one_address_lock_that_address(client, settings):
    victims = [UserFactory() for _ in range(settings.AXES_FAILURE_LIMIT)]
    for victim in victims:
        attempt(client, reverse("login"), victim.username, "wrong", ip="192.0.2.50")
    fresh = UserFactory()
    assert (
        attempt(client, reverse("login"), fresh.username, PASSWORD, ip="192.0.2.50").status_code
        == 429
    )
    # The same account from elsewhere logs in: the address was locked, not the account.
    response = attempt(client, reverse("login"), fresh.username, PASSWORD, ip="192.0.2.51")
    assert response.status_code == 302 and logged_in(client)


def test_the_client_address_comes_from_the_trusted_proxy(client, settings):
    settings.TRUSTED_PROXIES = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(
            client,
            reverse("login"),
            f"nobody{n}",
            "wrong",
            ip="10.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.99",
        )
    user = UserFactory()
    # Same proxy, another client: not locked. The attacker's address: locked.
    ok = attempt(
        client,
        reverse("login"),
        user.username,
        PASSWORD,
        ip="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.100",
    )
    assert ok.status_code == 302
    client.logout()
    locked = attempt(
        client,
        reverse("login"),
        user.username,
        PASSWORD,
        ip="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert locked.status_code == 429


def test_lock_out_message_is_translated(client, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, reverse("login"), user.username, "wrong")
    response = attempt(client, translate_path(reverse("login"), "de"), user.username, PASSWORD)
    text = response.content.decode()
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldungen" in text and "15 Minuten" in text


def test_a_success_resets_the_count(client, settings):
    user = UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, reverse("login"), user.username, "wrong")
    assert attempt(client, reverse("login"), user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, reverse("login"), user.username, "wrong")
    assert attempt(client, reverse("login"), user.username, PASSWORD).status_code == 302


def test_password_reset_mails_are_limited_per_address(client, settings):
    UserFactory(email="carla@example.org")
    statuses = [
        client.post(
            reverse("password_reset"), {"email": "carla@example.org"}, REMOTE_ADDR=f"192.0.2.{n}"
        ).status_code
        for n in range(20)
    ]
    limit = settings.PASSWORD_RESET_LIMIT_PER_EMAIL
    assert len(mail.outbox) == limit
    assert statuses[:limit] == [302] * limit
    assert set(statuses[limit:]) == {429}
    response = client.post(reverse("password_reset"), {"email": "Carla@example.org"})
    assert response.status_code == 429
    assert "Please try again in 60 minutes" in response.content.decode()
    # An unknown address is counted the same way: the answer does not reveal accounts.
    for _ in range(limit):
        assert (
            client.post(reverse("password_reset"), {"email": "ghost@example.org"}).status_code
            == 302
        )
    assert client.post(reverse("password_reset"), {"email": "ghost@example.org"}).status_code == 429


def test_password_reset_requests_are_limited_per_client(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 4
    statuses = [
        client.post(
            reverse("password_reset"), {"email": f"p{n}@example.org"}, REMOTE_ADDR="192.0.2.9"
        ).status_code
        for n in range(6)
    ]
    assert statuses == [302] * 4 + [429] * 2
    other = client.post(
        reverse("password_reset"), {"email": "p9@example.org"}, REMOTE_ADDR="192.0.2.10"
    )
    assert other.status_code == 302


def test_anonymous_api_clients_are_throttled(client, settings):
    settings.API_ANONYMOUS_RATE = "3/minute"
    url = reverse("api-layer-list")
    statuses = [client.get(url, REMOTE_ADDR="198.51.100.1").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get(url, REMOTE_ADDR="198.51.100.1")
    assert "throttled" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert client.get(url, REMOTE_ADDR="198.51.100.2").status_code == 200  # another client
    client.force_login(UserFactory())
    assert client.get(url, REMOTE_ADDR="198.51.100.1").status_code == 200  # signed in
