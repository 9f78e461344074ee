"""The moderation workflow, the history of sites and concurrent edits."""

from decimal import Decimal
from smtplib import SMTPException

import pytest
from django.contrib.gis.geos import Point
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives

from properties.models import Site, SiteChange
from properties.services.moderation import (
    site_mark,
    site_publish,
    site_send_back,
    site_submit,
    site_verify,
)
from properties.services.sites import SiteConflict, site_save
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory, square

pytestmark = pytest.mark.django_db

ESSEN_CENTRE = Point(362_800, 5_703_800, srid=25832)


@pytest.fixture
def people(essen, dortmund):
    essen_org = PartnerOrganisationFactory(
        municipalities=[essen], email="wirtschaft@essen.example.org"
    )
    dortmund_org = PartnerOrganisationFactory(municipalities=[dortmund])
    return {
        "partner": UserFactory(role="partner", organisation=essen_org, language="de"),
        "colleague": UserFactory(role="partner", organisation=essen_org, language="en"),
        "other_partner": UserFactory(role="partner", organisation=dortmund_org),
        "investor": UserFactory(role="investor"),
        "staff": UserFactory(role="staff"),
        "organisation": essen_org,
    }


def make_site(essen, people, status="draft", **kwargs) -> Site:
    return SiteFactory(
        municipality=essen,
        at=ESSEN_CENTRE,
        status=status,
        organisation=people["organisation"],
        **kwargs,
    )


def transition(action: str, site: Site, user) -> Site:
    if action == "submit":
        return site_submit(site=site, acting_user=user)
    if action == "publish":
        return site_publish(site=site, acting_user=user)
    if action == "send_back":
        return site_send_back(site=site, acting_user=user, reason="The price is missing.")
    return site_mark(site=site, acting_user=user, status=action)


# --- transitions -------------------------------------------------------------------------

ALLOWED = [
    # (user, from, action, to)
    ("partner", "draft", "submit", "submitted"),
    ("staff", "draft", "submit", "submitted"),
    ("staff", "submitted", "publish", "published"),
    ("staff", "submitted", "send_back", "draft"),
    ("staff", "published", "send_back", "draft"),
    ("staff", "reserved", "send_back", "draft"),
    ("staff", "sold", "send_back", "draft"),
    ("staff", "withdrawn", "send_back", "draft"),
    *(
        (user, source, target, target)
        for user in ("partner", "staff")
        for source, target in [
            ("published", "reserved"),
            ("published", "sold"),
            ("published", "withdrawn"),
            ("reserved", "published"),
            ("reserved", "sold"),
            ("reserved", "withdrawn"),
        ]
    ),
]


@pytest.mark.parametrize(("user", "source", "action", "target"), ALLOWED)
def test_allowed_transition(people, essen, user, source, action, target):
    site = make_site(essen, people, status=source)
    transition(action, site, people[user])
    site.refresh_from_db()
    assert site.status == target
    assert site.version == 2
    change = site.changes.first()
    assert change.changed_by == people[user]
    assert change.before["status"] == source
    assert change.after["status"] == target
    assert change.version == 2


FORBIDDEN = [
    # (user, from, action, exception)
    ("partner", "draft", "publish", ValidationError),  # nobody skips "submitted"
    ("staff", "draft", "publish", ValidationError),
    ("partner", "submitted", "publish", PermissionDenied),
    ("partner", "submitted", "send_back", PermissionDenied),
    ("partner", "published", "send_back", PermissionDenied),
    ("partner", "sold", "published", ValidationError),
    ("partner", "withdrawn", "published", ValidationError),
    ("partner", "sold", "send_back", PermissionDenied),
    ("partner", "draft", "reserved", ValidationError),
    ("partner", "submitted", "sold", ValidationError),
    ("staff", "draft", "sold", ValidationError),
    ("staff", "published", "submit", ValidationError),
    ("staff", "published", "publish", ValidationError),
    ("staff", "draft", "send_back", ValidationError),
    ("partner", "draft", "draft", ValidationError),
    *(
        (user, source, action, PermissionDenied)
        for user in ("other_partner", "investor")
        for source, action in [
            ("draft", "submit"),
            ("submitted", "publish"),
            ("submitted", "send_back"),
            ("published", "reserved"),
            ("reserved", "sold"),
        ]
    ),
]


@pytest.mark.parametrize(("user", "source", "action", "error"), FORBIDDEN)
def test_forbidden_transition(people, essen, user, source, action, error):
    site = make_site(essen, people, status=source)
    with pytest.raises(error):
        transition(action, site, people[user])
    site.refresh_from_db()
    assert site.status == source
    assert site.version == 1
    assert list(site.changes.values_list("action", flat=True)) == ["created"]


def test_publishing_a_draft_says_submit_it_first(people, essen):
    site = make_site(essen, people, status="draft")
    with pytest.raises(ValidationError) as excinfo:
        site_publish(site=site, acting_user=people["staff"])
    assert "submit it first" in excinfo.value.message_dict["status"][0]


def test_partner_publishing_is_told_only_staff_may(people, essen):
    site = make_site(essen, people, status="submitted")
    with pytest.raises(PermissionDenied, match="Only agency staff"):
        site_publish(site=site, acting_user=people["partner"])


def test_other_partner_is_told_the_site_is_not_theirs(people, essen):
    site = make_site(essen, people, status="draft")
    with pytest.raises(PermissionDenied, match="not a site of your municipality"):
        site_submit(site=site, acting_user=people["other_partner"])


@pytest.mark.parametrize("reason", ["", "   "])
def test_send_back_needs_a_reason(people, essen, reason):
    site = make_site(essen, people, status="submitted")
    with pytest.raises(ValidationError) as excinfo:
        site_send_back(site=site, acting_user=people["staff"], reason=reason)
    assert "status_reason" in excinfo.value.message_dict
    site.refresh_from_db()
    assert site.status == "submitted"


def test_send_back_keeps_the_reason_on_the_site_and_in_the_history(people, essen):
    site = make_site(essen, people, status="submitted")
    site_send_back(site=site, acting_user=people["staff"], reason="Add the B-Plan, please.")
    site.refresh_from_db()
    assert site.status == "draft"
    assert site.status_reason == "Add the B-Plan, please."
    change = site.changes.first()
    assert change.action == "sent_back"
    assert change.reason == "Add the B-Plan, please."
    # Submitting again clears the reason.
    site_submit(site=site, acting_user=people["partner"])
    site.refresh_from_db()
    assert site.status_reason == ""


def test_mark_refuses_statuses_that_are_not_markings(people, essen):
    site = make_site(essen, people, status="published")
    with pytest.raises(ValidationError):
        site_mark(site=site, acting_user=people["partner"], status="draft")


def test_the_whole_way_from_draft_to_sold(people, essen):
    site = make_site(essen, people, status="draft")
    site_submit(site=site, acting_user=people["partner"])
    site_publish(site=site, acting_user=people["staff"])
    site_mark(site=site, acting_user=people["partner"], status="reserved")
    site_mark(site=site, acting_user=people["partner"], status="sold")
    site.refresh_from_db()
    assert site.status == "sold"
    assert site.version == 5
    assert list(site.changes.values_list("action", flat=True)) == [
        "sold",
        "reserved",
        "published",
        "submitted",
        "created",
    ]


# --- e-mails -----------------------------------------------------------------------------


def test_publishing_emails_each_partner_member_and_the_organisation_once(
    people, essen, django_capture_on_commit_callbacks
):
    UserFactory(role="investor", language="en")  # not of the organisation: not mailed
    site = make_site(essen, people, status="submitted", title="Gewerbepark Nord")
    with django_capture_on_commit_callbacks(execute=True):
        site_publish(site=site, acting_user=people["staff"])
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted(
        [
            people["partner"].email,
            people["colleague"].email,
            "wirtschaft@essen.example.org",
        ]
    )
    assert all(len(message.to) == 1 for message in mail.outbox)


def test_decision_emails_are_in_each_recipients_language(
    people, essen, django_capture_on_commit_callbacks
):
    site = make_site(essen, people, status="submitted", title="Gewerbepark Nord")
    with django_capture_on_commit_callbacks(execute=True):
        site_send_back(site=site, acting_user=people["staff"], reason="Preis fehlt.")
    by_address = {message.to[0]: message for message in mail.outbox}
    german = by_address[people["partner"].email]
    english = by_address[people["colleague"].email]
    assert "zurückgegeben" in german.subject
    assert "Begründung" in german.body
    assert "sent back" in english.subject
    assert "Reason" in english.body
    for message in (german, english):
        assert "Preis fehlt." in message.body
        assert "Gewerbepark Nord" in message.subject
        assert f"/sites/{site.pk}/" in message.body
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert "Preis fehlt." in html
    # The organisation's own address gets German.
    assert "zurückgegeben" in by_address["wirtschaft@essen.example.org"].subject


def test_published_email_in_english(people, essen, django_capture_on_commit_callbacks):
    site = make_site(essen, people, status="submitted", title="Gewerbepark Nord")
    with django_capture_on_commit_callbacks(execute=True):
        site_publish(site=site, acting_user=people["staff"])
    english = next(m for m in mail.outbox if m.to == [people["colleague"].email])
    assert english.subject == "sitefinder: “Gewerbepark Nord” is published"
    assert "has been published" in english.body


def test_partner_markings_send_no_email(people, essen, django_capture_on_commit_callbacks):
    site = make_site(essen, people, status="published")
    with django_capture_on_commit_callbacks(execute=True):
        site_mark(site=site, acting_user=people["partner"], status="reserved")
        site_submit(site=make_site(essen, people), acting_user=people["partner"])
    assert mail.outbox == []


def test_no_email_before_the_decision_commits(people, essen, django_capture_on_commit_callbacks):
    site = make_site(essen, people, status="submitted")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        site_publish(site=site, acting_user=people["staff"])
    assert mail.outbox == []
    assert len(callbacks) == 1


def _refuse(self, fail_silently=False):
    raise SMTPException("mail server down")


def test_a_failing_mail_server_does_not_undo_the_decision(
    people, essen, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    monkeypatch.setattr(EmailMultiAlternatives, "send", _refuse)
    site = make_site(essen, people, status="submitted")
    with django_capture_on_commit_callbacks(execute=True):
        site_publish(site=site, acting_user=people["staff"])
    site.refresh_from_db()
    assert site.status == "published"
    assert site.changes.first().action == "published"
    assert mail.outbox == []
    assert "decision e-mail" in caplog.text


# --- history -----------------------------------------------------------------------------


def test_creating_a_site_is_recorded(people, essen):
    site = make_site(essen, people, status="draft", title="Am Hafen")
    change = site.changes.get()
    assert change.action == "created"
    assert change.version == 1
    assert change.before == {}
    assert change.after["title"] == "Am Hafen"
    assert change.after["municipality"] == "Essen"
    assert change.after["geom"]["area_m2"] == pytest.approx(20_000, rel=1e-6)


def test_an_edit_is_recorded_with_the_changed_fields_before_and_after(people, essen):
    site = make_site(essen, people, status="draft", price_eur_m2=Decimal("80.00"))
    site_save(
        site=site,
        acting_user=people["partner"],
        fields={"price_eur_m2": Decimal("95.00"), "title": "Neuer Titel"},
    )
    site.refresh_from_db()
    assert site.version == 2
    change = site.changes.first()
    assert change.action == "updated"
    assert change.changed_by == people["partner"]
    assert change.version == 2
    assert change.before == {"price_eur_m2": "80.00", "title": site_title_before(site)}
    assert change.after == {"price_eur_m2": "95.00", "title": "Neuer Titel"}
    assert change.changed_fields == ["title", "price_eur_m2"]


def site_title_before(site: Site) -> str:
    return site.changes.get(action="created").after["title"]


def test_a_geometry_change_is_flagged_with_the_areas(people, essen):
    site = make_site(essen, people, status="draft")  # 20,000 m²
    site_save(
        site=site,
        acting_user=people["partner"],
        fields={"geom": square(ESSEN_CENTRE, 100), "gross_area_m2": 10_000},
    )
    change = site.changes.first()
    assert set(change.before) == {"geom", "gross_area_m2"}
    assert change.before["geom"]["area_m2"] == pytest.approx(20_000, rel=1e-6)
    assert change.after["geom"]["area_m2"] == pytest.approx(10_000, rel=1e-6)
    assert change.before["geom"]["sha256"] != change.after["geom"]["sha256"]


def test_the_same_geometry_in_another_srid_is_no_change(people, essen):
    site = make_site(essen, people, status="draft")
    same = site.geom.transform(4326, clone=True)
    site_save(site=site, acting_user=people["partner"], fields={"title": "Nur der Titel"})
    site_save(site=site, acting_user=people["partner"], fields={"geom": same})
    site.refresh_from_db()
    site.refresh_from_db()
    assert site.version == 2
    assert site.changes.count() == 2


def test_a_save_without_changes_writes_no_history_and_keeps_the_version(people, essen):
    site = make_site(essen, people, status="draft")
    site_save(site=site, acting_user=people["partner"], fields={"title": site.title})
    site.refresh_from_db()
    assert site.version == 1
    assert site.changes.count() == 1


def test_history_is_newest_first(people, essen):
    site = make_site(essen, people, status="draft")
    site_submit(site=site, acting_user=people["partner"])
    site_publish(site=site, acting_user=people["staff"])
    assert [c.action for c in SiteChange.objects.filter(site=site)] == [
        "published",
        "submitted",
        "created",
    ]


# --- concurrent edits --------------------------------------------------------------------


def test_the_second_of_two_editors_gets_a_conflict_naming_the_first_ones_changes(people, essen):
    site = make_site(essen, people, status="draft", price_eur_m2=Decimal("80.00"))
    first = Site.objects.get(pk=site.pk)
    second = Site.objects.get(pk=site.pk)
    assert first.version == second.version == 1

    site_save(
        site=first,
        acting_user=people["partner"],
        fields={"price_eur_m2": Decimal("95.00")},
        expected_version=1,
    )
    with pytest.raises(SiteConflict) as excinfo:
        site_save(
            site=second,
            acting_user=people["colleague"],
            fields={"title": "Second editor's title", "price_eur_m2": Decimal("70.00")},
            expected_version=1,
        )
    conflict = excinfo.value
    assert conflict.current_version == 2
    assert [(c.field, c.before, c.after) for c in conflict.changes] == [
        ("price_eur_m2", "80.00", "95.00")
    ]
    assert conflict.changes[0].changed_by == people["partner"].username
    message = conflict.message_dict["__all__"][0]
    assert people["partner"].username in message
    assert "price" in message
    assert isinstance(conflict, ValidationError)

    site.refresh_from_db()
    assert site.price_eur_m2 == Decimal("95.00")
    assert site.title != "Second editor's title"
    assert site.version == 2
    assert site.changes.count() == 2


def test_a_status_decision_meanwhile_is_a_conflict_too(people, essen):
    site = make_site(essen, people, status="submitted")
    editor = Site.objects.get(pk=site.pk)
    site_publish(site=site, acting_user=people["staff"])
    with pytest.raises(SiteConflict) as excinfo:
        site_save(
            site=editor, acting_user=people["partner"], fields={"title": "X"}, expected_version=1
        )
    assert [c.field for c in excinfo.value.changes] == ["status"]


def test_saving_at_the_current_version_goes_through(people, essen):
    site = make_site(essen, people, status="draft")
    site_save(site=site, acting_user=people["partner"], fields={"title": "A"}, expected_version=1)
    site_save(site=site, acting_user=people["partner"], fields={"title": "B"}, expected_version=2)
    site.refresh_from_db()
    assert (site.title, site.version) == ("B", 3)


# --- freshness ---------------------------------------------------------------------------


def test_verify_marks_the_site_current_and_writes_history(people, essen):
    site = make_site(essen, people, status="published")
    updated_at = site.updated_at
    site_verify(site=site, acting_user=people["partner"])
    site.refresh_from_db()
    assert site.last_verified_at is not None
    assert site.verified_by == people["partner"]
    assert site.updated_at == updated_at  # no alert to investors
    assert site.version == 1  # no conflict for someone editing
    change = site.changes.first()
    assert change.action == "verified"
    assert change.changed_by == people["partner"]
    assert change.after["last_verified_at"] == site.last_verified_at.isoformat()


@pytest.mark.parametrize("user", ["other_partner", "investor"])
def test_only_editors_verify(people, essen, user):
    site = make_site(essen, people, status="published")
    with pytest.raises(PermissionDenied):
        site_verify(site=site, acting_user=people[user])
    site.refresh_from_db()
    assert site.last_verified_at is None


# --- admin -------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, people):
    admin_user = UserFactory(role="staff", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    client.admin_user = admin_user
    return client


def test_admin_publish_action_goes_through_the_service(
    staff_client, people, essen, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    submitted = make_site(essen, people, status="submitted")
    draft = make_site(essen, people, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:properties_site_changelist"),
            {"action": "publish_selected", "_selected_action": [submitted.pk, draft.pk]},
            follow=True,
        )
    assert response.status_code == 200
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert submitted.status == "published"
    assert submitted.changes.first().changed_by == staff_client.admin_user
    assert draft.status == "draft"
    text = response.content.decode()
    assert "1 site published." in text
    assert "submit it first" in text
    assert len(mail.outbox) == 3  # the two members and the organisation, for one site


def test_admin_change_form_shows_the_history(staff_client, people, essen):
    from django.urls import reverse

    site = make_site(essen, people, status="draft")
    site_submit(site=site, acting_user=people["partner"])
    response = staff_client.get(reverse("admin:properties_site_change", args=[site.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "History" in text
    assert "Submitted" in text
    assert people["partner"].username in text
    assert 'name="expected_version"' in text


def test_admin_form_refuses_saving_over_a_newer_version(people, essen):
    from properties.admin import SiteAdminForm

    site = make_site(essen, people, status="draft")
    form = SiteAdminForm(instance=site)
    data = {name: form[name].value() for name in form.fields}
    site_save(
        site=Site.objects.get(pk=site.pk), acting_user=people["partner"], fields={"title": "Neu"}
    )
    data.update({"title": "Mine", "expected_version": 1, "geom": site.geom.ewkt})
    data = {k: v for k, v in data.items() if v is not None}
    bound = SiteAdminForm(data=data, instance=Site.objects.get(pk=site.pk))
    assert not bound.is_valid()
    assert "while you were editing" in str(bound.non_field_errors())
