"""Password reset and change: Django's views in our look, e-mails in the user's language."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Phoenix See 2010!"


def reset_link(message) -> str:
    match = re.search(r"https?://\S+(/accounts/password-reset/\S+/)", message.body)
    assert match, message.body
    return match[1]


def test_login_page_links_the_reset(client):
    content = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in content
    assert "Forgot your password?" in content


def test_reset_mail_is_in_german_for_a_german_user(client, settings):
    settings.SITE_URL = "https://sitefinder.example.org"
    user = UserFactory(email="kerstin@example.org", language="de")
    # The request itself is in English; the e-mail follows the account.
    response = client.post(
        reverse("password_reset"), {"email": "kerstin@example.org"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["kerstin@example.org"]
    assert message.subject == "sitefinder: neues Passwort wählen"
    assert "Passwort" in message.body
    assert "https://sitefinder.example.org/de/accounts/password-reset/" in message.body
    assert user.username in message.body


def test_reset_end_to_end_in_english(client):
    user = UserFactory(email="john@example.org", language="en")
    client.post(reverse("password_reset"), {"email": "john@example.org"})
    (message,) = mail.outbox
    assert message.subject == "sitefinder: choose a new password"
    link = reset_link(message)
    form_page = client.get(link, follow=True)  # Django swaps the token into the session
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Password saved" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The link is used up: a clear page, not an error.
    again = client.get(link, follow=True)
    assert again.status_code == 200
    assert "no longer valid" in again.content.decode()


def test_unknown_address_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert not mail.outbox


def test_password_change(client):
    user = UserFactory()
    url = reverse("password_change")
    assert client.get(url).status_code == 302  # login first
    client.force_login(user)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "old_password": "correct horse battery",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get(reverse("password_change_done")).status_code == 200
