""" "Ask about this site": the short form on a site's page becomes an inquiry tied to the
site in staff's inbox, its partner organisation is told by e-mail, and the inquiry form's
spam protection applies (honeypot, signed render time, limit per address)."""

import time

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from properties.models import Site
from proposals.forms import rendered_token
from proposals.models import Inquiry
from sitefinder.l10n import translate_path
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(essen) -> Site:
    organisation = PartnerOrganisationFactory(municipalities=[essen])
    UserFactory(
        username="petra",
        email="petra@essen.example",
        role=User.Role.PARTNER,
        organisation=organisation,
        language="de",
    )
    UserFactory(username="stefan", email="stefan@agency.example", role=User.Role.STAFF)
    return SiteFactory(title="Gewerbepark Nord", municipality=essen, organisation=organisation)


def question(**overrides) -> dict:
    return {
        "contact_name": "Ida Investor",
        "company": "Logistik GmbH",
        "email": "ida@logistik.example",
        "phone": "",
        "message": "Is the plot still available for a 2027 start?",
        "consent": "on",
        "rendered": rendered_token(time.time() - 10),
        "website": "",
        **overrides,
    }


def ask(client, site: Site, data: dict, address: str = "192.0.2.20"):
    return client.post(reverse("site_question", args=[site.pk]), data, REMOTE_ADDR=address)


def test_the_detail_page_offers_the_form_share_link_and_print(client, site):
    html = client.get(translate_path(reverse("site_detail", args=[site.pk]), "de"))
    text = html.content.decode()
    assert "Frage zu diesem Grundstück" in text
    assert reverse("site_question", args=[site.pk]) in text
    assert 'name="website"' in text and 'name="rendered"' in text
    assert f"/sites/{site.pk}/" in text and "site-share" in text


def test_a_question_becomes_an_inquiry_about_the_site_and_tells_staff_and_partner(
    client, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, site, question())
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.site == site
    assert inquiry.channel == Inquiry.Channel.SITE
    assert inquiry.status == Inquiry.Status.NEW
    assert inquiry.kinds == [site.kind]
    assert list(inquiry.municipalities.all()) == [site.municipality]
    assert inquiry.message.startswith("Is the plot")
    recipients = {message.to[0]: message for message in mail.outbox}
    assert set(recipients) == {
        "ida@logistik.example",
        "stefan@agency.example",
        "petra@essen.example",
    }
    partner_mail = recipients["petra@essen.example"]
    assert "Gewerbepark Nord" in partner_mail.subject
    assert "ida@logistik.example" in partner_mail.body
    assert f"/sites/{site.pk}/" in partner_mail.body
    assert f"/sites/{site.pk}/" in recipients["stefan@agency.example"].body
    # The thanks page leads back to the site.
    thanks = client.get(response["Location"])
    assert reverse("site_detail", args=[site.pk]) in thanks.content.decode()


def test_the_inbox_shows_the_question(client, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, site, question())
    client.force_login(User.objects.get(username="stefan"))
    page = client.get(reverse("inbox")).content.decode()
    assert "Logistik GmbH" in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"message": ""}, "message"),
        ({"consent": ""}, "consent"),
    ],
)
def test_errors_are_shown_on_the_page_and_nothing_is_stored(client, site, overrides, field):
    response = ask(client, site, question(**overrides))
    assert response.status_code == 200
    assert response.context["question_form"].errors[field]
    assert "Ida Investor" in response.content.decode()  # what was typed is kept
    assert not Inquiry.objects.exists()


def test_spam_protection(client, site, settings):
    settings.SITEFINDER_FORM_MIN_FILL_SECONDS = 3
    assert ask(client, site, question(website="http://spam.example")).status_code == 200
    too_fast = ask(client, site, question(rendered=rendered_token(time.time())))
    assert too_fast.status_code == 200
    assert "faster than a person" in too_fast.content.decode()
    assert not Inquiry.objects.exists()


def test_the_limit_per_address(client, site, settings):
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 2
    assert ask(client, site, question()).status_code == 302
    assert ask(client, site, question()).status_code == 302
    assert ask(client, site, question()).status_code == 429
    assert ask(client, site, question(), address="192.0.2.99").status_code == 302
    assert Inquiry.objects.count() == 3


def test_a_site_not_visible_cannot_be_asked_about(client, site):
    site.status = Site.Status.DRAFT
    site.save(update_fields=["status"])
    assert ask(client, site, question()).status_code == 404
