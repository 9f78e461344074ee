"""Every model has an admin that staff can use: list, search, add form and change form."""

import pytest
from django.contrib import admin
from django.contrib.gis.geos import Point
from django.urls import reverse

from geodata.models import LayerFeature, Municipality
from properties.models import Site
from tests.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, reference_data):
    client.force_login(UserFactory(role="staff", is_staff=True, is_superuser=True))
    return client


def test_every_model_is_registered():
    from django.apps import apps

    ours = [
        m for m in apps.get_models() if m._meta.app_label in ("accounts", "geodata", "properties")
    ]
    assert ours
    assert [m.__name__ for m in ours if m not in admin.site._registry] == []


# Rows the app writes itself (logs, aggregates, jobs, throttles): never added by hand.
WRITTEN_BY_THE_APP = {
    "accessattempt",
    "accessfailurelog",
    "accesslog",
    "dataversion",
    "dbtaskresult",
    "digestlog",
    "emptysearch",
    "layer",
    "offerlink",
    "searchalert",
    "sitechange",
    "sitecluster",
    "siteclusterbuild",
    "throttleevent",
    "uploadjob",
}


def test_changelists_and_forms_render(staff_client, essen):
    site = SiteFactory(municipality=essen)
    objects = {
        Site: site,
        Municipality: essen,
        LayerFeature: LayerFeature.objects.filter(layer__slug="stations").first(),
    }
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = staff_client.get(
            reverse("admin:{}_{}_changelist".format(*info)),
            {"q": "e"} if model_admin.search_fields else {},
        )
        assert changelist.status_code == 200, model
        add = staff_client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code == (403 if model._meta.model_name in WRITTEN_BY_THE_APP else 200), (
            model
        )
        obj = objects.get(model) or model.objects.first()
        if obj is not None:
            change = staff_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert change.status_code == 200, model


def test_site_change_form_has_a_map_widget_and_saving_derives_the_municipality(
    staff_client, essen, dortmund
):
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832))
    url = reverse("admin:properties_site_change", args=[site.pk])
    page = staff_client.get(url)
    assert b"leaflet" in page.content.lower()
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    dortmund_square = (
        Point(393_200, 5_709_300, srid=25832).buffer(60, quadsegs=1).transform(4326, clone=True)
    )
    data.update(
        {
            "geom": dortmund_square.geojson,
            "restrictions": "",
            "media-TOTAL_FORMS": "0",
            "media-INITIAL_FORMS": "0",
            "media-MIN_NUM_FORMS": "0",
            "media-MAX_NUM_FORMS": "1000",
        }
    )
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = staff_client.post(url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    site.refresh_from_db()
    assert site.municipality == dortmund


def test_the_admin_cannot_change_a_sites_status_past_the_workflow(staff_client, essen):
    """Status changes go through the moderation services (checks, history, e-mails to the
    partner); the admin shows the status but only its actions may change it."""
    site = SiteFactory(municipality=essen, status=Site.Status.SUBMITTED)
    url = reverse("admin:properties_site_change", args=[site.pk])
    page = staff_client.get(url)
    form = page.context["adminform"].form
    assert "status" not in form.fields
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "status": Site.Status.SOLD,
            "geom": site.geom.transform(4326, clone=True).geojson,
            "restrictions": "",
            "media-TOTAL_FORMS": "0",
            "media-INITIAL_FORMS": "0",
            "media-MIN_NUM_FORMS": "0",
            "media-MAX_NUM_FORMS": "1000",
        }
    )
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = staff_client.post(url, data)
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.status == Site.Status.SUBMITTED
