"""Staff invite municipal partners: an inactive account, a one-time link by e-mail, the
partner sets a password and is logged in as a member of the right organisation."""

import re

import pytest
from django.contrib.auth import get_user
from django.core import mail
from django.urls import reverse

from accounts.models import PartnerOrganisation, User
from tests.factories import PartnerOrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Zeche Zollverein 1932!"


@pytest.fixture
def staff():
    return UserFactory(role="staff")


@pytest.fixture
def essen_org(essen):
    return PartnerOrganisationFactory(name="EWG Essen", municipalities=[essen])


def invite(client, staff, **data):
    client.force_login(staff)
    response = client.post(reverse("staff_invite"), data, follow=True)
    client.logout()
    return response


def link_in(message) -> str:
    match = re.search(r"https?://\S+/accounts/invitation/\S+/", message.body)
    assert match, message.body
    return match[0]


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_invite_page_is_for_staff_only(client, essen_org):
    url = reverse("staff_invite")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(role="partner", organisation=essen_org))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(role="investor"))
    assert client.get(url).status_code == 404


def test_invitation_end_to_end(client, staff, essen_org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client,
            staff,
            email="Anna.Becker@Essen.example.org",
            organisation=essen_org.pk,
            language="en",
        )
    assert response.status_code == 200
    assert "Invitation sent to anna.becker@essen.example.org" in response.content.decode()
    user = User.objects.get(email="anna.becker@essen.example.org")
    assert user.role == "partner" and user.organisation == essen_org
    assert not user.is_active and not user.has_usable_password()

    (message,) = mail.outbox
    assert message.to == ["anna.becker@essen.example.org"]
    assert message.subject == "Your invitation to sitefinder"
    assert "EWG Essen" in message.body
    link = path_of(link_in(message))

    page = client.get(link)
    assert page.status_code == 200
    assert "EWG Essen" in page.content.decode()
    response = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    logged_in = get_user(client)
    assert logged_in.is_authenticated and logged_in.pk == user.pk
    user.refresh_from_db()
    assert user.is_active and user.check_password(PASSWORD)
    assert user.organisation == essen_org and user.is_partner
    assert response.cookies["django_language"].value == "en"

    # The link works once.
    client.logout()
    used = client.get(link)
    assert used.status_code == 400
    assert "no longer valid" in used.content.decode()
    assert client.post(link, {"new_password1": "x", "new_password2": "x"}).status_code == 400
    # And the password works at the login.
    assert client.login(username="anna.becker@essen.example.org", password=PASSWORD)


def test_invitation_into_a_new_organisation_in_german(
    client, staff, essen, dortmund, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(
            client,
            staff,
            email="wifoe@dortmund.example.org",
            new_organisation_name="  Wirtschaftsförderung   Dortmund ",
            new_organisation_municipalities=[dortmund.pk, essen.pk],
            language="de",
        )
    organisation = PartnerOrganisation.objects.get(name="Wirtschaftsförderung Dortmund")
    assert set(organisation.municipalities.all()) == {essen, dortmund}
    assert User.objects.get(email="wifoe@dortmund.example.org").organisation == organisation
    (message,) = mail.outbox
    assert message.subject == "Ihre Einladung zu sitefinder"
    assert "Wirtschaftsförderung Dortmund" in message.body
    assert "Passwort" in message.body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "a@example.org", "language": "de"}, "organisation"),
        (
            {"email": "a@example.org", "language": "de", "new_organisation_name": "Neu"},
            "new_organisation_municipalities",
        ),
        ({"email": "taken@example.org", "language": "de", "organisation": "ORG"}, "email"),
    ],
)
def test_invite_form_errors(client, staff, essen_org, data, field):
    UserFactory(username="taken@example.org", email="taken@example.org")
    data = {k: (essen_org.pk if v == "ORG" else v) for k, v in data.items()}
    client.force_login(staff)
    response = client.post(reverse("staff_invite"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not mail.outbox
    assert not User.objects.filter(email="a@example.org").exists()


def test_invite_with_both_an_organisation_and_a_new_name_is_refused(client, staff, essen_org):
    client.force_login(staff)
    response = client.post(
        reverse("staff_invite"),
        {
            "email": "a@example.org",
            "language": "de",
            "organisation": essen_org.pk,
            "new_organisation_name": "Neu",
        },
    )
    assert "new_organisation_name" in response.context["form"].errors


@pytest.mark.parametrize(
    "link",
    [
        "/en/accounts/invitation/MTIz/abc-def/",
        "/en/accounts/invitation/!!!/abc/",
        "/en/accounts/invitation/{uid}/{token}x/",
        "/en/accounts/invitation/{uid}/0-0/",
    ],
)
def test_a_tampered_link_is_a_clear_page_not_an_error(
    client, staff, essen_org, django_capture_on_commit_callbacks, link
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, staff, email="b@example.org", organisation=essen_org.pk, language="de")
    _prefix, uid, token = path_of(link_in(mail.outbox[0])).strip("/").rsplit("/", 2)
    response = client.get(link.format(uid=uid, token=token))
    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()
    assert not User.objects.get(email="b@example.org").is_active


def test_an_active_users_reset_style_token_is_no_invitation(client, essen_org):
    """The link only ever activates invited, inactive partners."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = UserFactory(role="partner", organisation=essen_org)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = client.get(reverse("invitation_accept", args=[uid, token]))
    assert response.status_code == 400
