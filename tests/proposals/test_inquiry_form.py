"""The public inquiry form: validation that keeps what was typed, the start from a search,
and the spam protection (honeypot, render time, rate limit per address)."""

import hashlib
import hmac
import html
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.urls import reverse
from django.utils import translation

from geodata.models import LayerFeature, Municipality
from proposals.forms import rendered_token
from proposals.models import Inquiry, InquiryEvent
from proposals.presentation import requirement_rows, requirement_summary
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/en/inquiry/"


def essen_polygon(half_side_m: float = 1500) -> dict:
    """A square in Essen as a GeoJSON geometry (EPSG:4326)."""
    essen = Municipality.objects.get(ags="05113000")
    centre = essen.geom.point_on_surface
    square = Polygon.from_bbox(
        (
            centre.x - half_side_m,
            centre.y - half_side_m,
            centre.x + half_side_m,
            centre.y + half_side_m,
        )
    )
    square.srid = 25832
    square.transform(4326)
    return json.loads(square.json)


def form_data(**overrides) -> dict:
    """A complete, valid submission, rendered 10 seconds ago."""
    data = {
        "company": "Rhein Logistik GmbH",
        "contact_name": "Erika Mustermann",
        "email": "erika@example.com",
        "phone": "",
        "language": "en",
        "kinds": ["plot"],
        "area_min": "1",
        "area_max": "3",
        "area_unit": "ha",
        "planning_categories": ["GE", "GI"],
        "budget_max_eur_m2": "85",
        "available_by": "2027-06-30",
        "industry": "Logistics",
        "jobs_planned": "120",
        "municipalities": ["05113000", "05913000"],
        "area_of_interest": "",
        "max_distance_junction_km": "5",
        "max_distance_station_km": "",
        "max_distance_airport_km": "",
        "max_distance_port_km": "",
        "max_distance_university_km": "2.5",
        "needs_rail_siding": "on",
        "message": "A regional distribution centre.",
        "consent": "on",
        "source_query": "",
        "rendered": rendered_token(time.time() - 10),
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post(client, data: dict, address: str = "192.0.2.10"):
    return client.post(URL, data, REMOTE_ADDR=address)


def test_the_form_shows_in_the_active_language(client, reference_data):
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="company"' in content
    assert f'href="{reverse("privacy")}"' in content
    assert 'name="website"' in content and 'tabindex="-1"' in content
    assert response.context["form"]["language"].value() == "en"
    # All 53 municipalities, grouped by district.
    assert content.count('name="municipalities"') == Municipality.objects.count() == 53


def test_a_valid_inquiry_is_stored_in_the_models_units(client, reference_data):
    polygon = essen_polygon()
    response = post(client, form_data(area_of_interest=json.dumps(polygon)))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.company == "Rhein Logistik GmbH"
    assert inquiry.language == "en"
    assert inquiry.channel == Inquiry.Channel.WEB
    assert inquiry.kinds == ["plot"]
    assert inquiry.area_min_m2 == 10_000 and inquiry.area_max_m2 == 30_000
    assert sorted(inquiry.planning_categories) == ["GE", "GI"]
    assert str(inquiry.budget_max_eur_m2) == "85.00"
    assert str(inquiry.available_by) == "2027-06-30"
    assert inquiry.max_distance_junction_m == 5000
    assert inquiry.max_distance_university_m == 2500
    assert inquiry.max_distance_station_m is None
    assert inquiry.needs_rail_siding and not inquiry.needs_port_access
    assert inquiry.jobs_planned == 120
    assert inquiry.privacy_accepted_at is not None
    assert inquiry.user is None
    assert sorted(m.ags for m in inquiry.municipalities.all()) == ["05113000", "05913000"]
    assert inquiry.area_of_interest.srid == 25832
    assert inquiry.area_of_interest.geom_type == "MultiPolygon"
    assert inquiry.area_of_interest.area == pytest.approx(3000 * 3000, rel=0.01)
    expected = hmac.new(settings.SECRET_KEY.encode(), b"192.0.2.10", hashlib.sha256).hexdigest()
    assert inquiry.client_fingerprint == expected
    assert list(inquiry.events.values_list("kind", flat=True))[:1] == [InquiryEvent.Kind.RECEIVED]

    # The thanks page names the reference, and its address names nobody.
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert inquiry.reference in thanks.content.decode()
    assert "erika" not in response["Location"].lower()
    assert str(inquiry.pk) not in response["Location"].split("/")


def test_the_thanks_page_cannot_be_enumerated(client, reference_data):
    assert client.get(reverse("inquiry_thanks", args=["1"])).status_code == 404
    assert client.get(reverse("inquiry_thanks", args=["1:forged"])).status_code == 404


def test_field_errors_keep_everything_typed(client, reference_data):
    polygon = json.dumps(essen_polygon())
    response = post(
        client,
        form_data(email="not-an-address", area_of_interest=polygon, municipalities=["05913000"]),
    )
    assert response.status_code == 200
    assert not Inquiry.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == ["email"]
    content = response.content.decode()
    assert 'value="not-an-address"' in content
    assert 'aria-invalid="true"' in content
    assert 'id="id_email_error"' in content
    # The drawn area, the municipality ticked and the other values are still there.
    assert html.escape(polygon, quote=False) in content or html.escape(polygon) in content
    assert 'value="05913000" id="id_municipalities' in content
    checked = [
        choice["value"]
        for group in form.municipality_groups()
        for choice in group["choices"]
        if choice["checked"]
    ]
    assert checked == ["05913000"]
    assert 'value="Rhein Logistik GmbH"' in content
    assert 'value="plot"' in content and "checked" in content


def test_an_inverted_area_range_is_an_error_on_the_maximum(client, reference_data):
    response = post(client, form_data(area_min="5", area_max="2"))
    assert response.status_code == 200
    assert "area_max" in response.context["form"].errors
    assert "below the smallest" in response.content.decode()
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"area_min": "-1"}, "area_min"),
        ({"area_min": "0"}, "area_min"),
        ({"area_max": "1e12", "area_unit": "ha"}, "area_max"),
        ({"max_distance_junction_km": "-5"}, "max_distance_junction_km"),
        ({"max_distance_port_km": "abc"}, "max_distance_port_km"),
        ({"jobs_planned": "0"}, "jobs_planned"),
        ({"budget_max_eur_m2": "0"}, "budget_max_eur_m2"),
        ({"available_by": "30.06.2027x"}, "available_by"),
        ({"kinds": ["castle"]}, "kinds"),
        ({"municipalities": ["99999999"]}, "municipalities"),
        ({"company": ""}, "company"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_values_are_field_errors(client, reference_data, overrides, field):
    response = post(client, form_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ('{"type": "Polygon", "coordinates": [[[7, 51], [7.1, 51]]]}', "GeoJSON"),
        ("{not json", "GeoJSON"),
        ('{"type": "Point", "coordinates": [7.0, 51.45]}', "Polygon or MultiPolygon"),
        (
            '{"type": "Polygon", "coordinates": '
            "[[[7.0, 51.4], [7.1, 51.5], [7.1, 51.4], [7.0, 51.5], [7.0, 51.4]]]}",
            "crosses itself",
        ),
        # Munich: a valid polygon, but far from the Ruhr area.
        (
            '{"type": "Polygon", "coordinates": '
            "[[[11.5, 48.1], [11.6, 48.1], [11.6, 48.2], [11.5, 48.2], [11.5, 48.1]]]}",
            "outside the Ruhr area",
        ),
    ],
)
def test_a_bad_drawn_area_is_an_error_and_is_kept(client, reference_data, area, message):
    response = post(client, form_data(area_of_interest=area))
    assert response.status_code == 200
    errors = response.context["form"].errors["area_of_interest"]
    assert any(message in str(error) for error in errors), errors
    assert response.context["form"]["area_of_interest"].value() == area
    assert not Inquiry.objects.exists()


def test_consent_is_required(client, reference_data):
    response = post(client, form_data(consent=None))
    assert response.status_code == 200
    assert "consent" in response.context["form"].errors
    assert "privacy notice" in response.content.decode()
    assert not Inquiry.objects.exists()


def test_the_form_starts_from_the_investors_search(client, reference_data):
    polygon = json.dumps(essen_polygon())
    query = urlencode(
        [
            ("kind", "plot"),
            ("kind", "hall"),
            ("kind", "castle"),  # unknown: left out
            ("area_min_ha", "2"),
            ("area_max_ha", "4.5"),
            ("planning_category", "GI"),
            ("price_max", "90"),
            ("available_by", "2027-01-31"),
            ("municipality", "05113000"),
            ("district", "05562"),  # Kreis Recklinghausen: its ten municipalities
            ("area", polygon),
            ("rail_siding", "true"),
            ("port_access", "false"),
            ("max_distance_junction_m", "5000"),
            ("max_distance_airport_m", "30000"),
            ("sort", "-area"),
            ("page", "2"),
        ]
    )
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["kinds"].value() == ["plot", "hall"]
    assert form["area_min"].value() == "2" and form["area_max"].value() == "4.5"
    assert form["area_unit"].value() == "ha"
    assert form["planning_categories"].value() == ["GI"]
    assert form["budget_max_eur_m2"].value() == "90"
    assert str(form["available_by"].value()) == "2027-01-31"
    ags = form["municipalities"].value()
    assert "05113000" in ags and len(ags) == 11
    assert json.loads(form["area_of_interest"].value())["type"] == "Polygon"
    assert form["needs_rail_siding"].value() is True
    assert not form["needs_port_access"].value()
    assert form["max_distance_junction_km"].value() == "5"
    assert form["max_distance_airport_km"].value() == "30"
    source = form["source_query"].value()
    assert "kind=plot" in source and "sort=" not in source and "page=" not in source
    assert "filled in the form from your search" in response.content.decode()

    # The search it started from is stored with the inquiry.
    post(client, form_data(source_query=source))
    assert Inquiry.objects.get().source_query == source


def test_a_radius_search_becomes_a_drawn_circle(client, reference_data):
    response = client.get(f"{URL}?near=7.01,51.45&radius_m=2000")
    area = json.loads(response.context["form"]["area_of_interest"].value())
    assert area["type"] == "Polygon"
    circle = Polygon(area["coordinates"][0], srid=4326).transform(25832, clone=True)
    assert circle.area == pytest.approx(3.14159 * 2000**2, rel=0.01)


def test_a_search_with_bad_values_still_opens_the_form(client, reference_data):
    response = client.get(f"{URL}?area_min=abc&area=garbage&near=x,y&radius_m=5&available_by=no")
    assert response.status_code == 200
    form = response.context["form"]
    assert form["area_min"].value() is None
    assert not form["area_of_interest"].value()


def test_logged_in_investors_find_their_details_and_own_the_inquiry(client, reference_data):
    user = UserFactory(
        first_name="Max",
        last_name="Muster",
        email="max@example.org",
        company="Muster AG",
        language="de",
    )
    client.force_login(user)
    form = client.get(URL).context["form"]
    assert form["company"].value() == "Muster AG"
    assert form["contact_name"].value() == "Max Muster"
    assert form["email"].value() == "max@example.org"
    assert form["language"].value() == "de"

    response = post(client, form_data(email="max@example.org"))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.user == user


def test_the_honeypot_shows_thanks_and_stores_nothing(client, reference_data, caplog):
    with caplog.at_level(logging.INFO, logger="proposals.views"):
        response = post(client, form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you for your inquiry" in response.content.decode()
    assert not Inquiry.objects.exists()
    assert any("honeypot" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("rendered", "message"),
    [
        (lambda: rendered_token(time.time()), "faster than a person"),
        (lambda: rendered_token(time.time() - 2 * 24 * 3600), "more than a day ago"),
        (lambda: rendered_token(time.time() - 10)[:-2] + "xx", "could not be checked"),
        (lambda: "", "could not be checked"),
    ],
)
def test_the_render_time_is_checked(client, reference_data, settings, rendered, message):
    settings.SITEFINDER_FORM_MIN_FILL_SECONDS = 3
    response = post(client, form_data(rendered=rendered()))
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert 'value="Rhein Logistik GmbH"' in content
    assert not Inquiry.objects.exists()
    # The page comes with a fresh render time: sent again later, it is accepted.
    assert response.context["rendered_token"] != form_data()["rendered"]


def test_the_rate_limit_per_address(client, reference_data, settings):
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 2
    for _ in range(2):
        assert post(client, form_data(), address="198.51.100.7").status_code == 302
    refused = post(client, form_data(company="Third GmbH"), address="198.51.100.7")
    assert refused.status_code == 429
    content = refused.content.decode()
    assert "Too many inquiries" in content
    assert 'value="Third GmbH"' in content
    assert Inquiry.objects.count() == 2

    # Another address is still welcome.
    assert post(client, form_data(), address="198.51.100.8").status_code == 302
    assert Inquiry.objects.count() == 3

    # An hour later the first address may send again.
    Inquiry.objects.filter(company="Rhein Logistik GmbH").update(
        received_at=Inquiry.objects.earliest("received_at").received_at.replace(year=2020)
    )
    assert post(client, form_data(), address="198.51.100.7").status_code == 302


def test_behind_a_proxy_the_limit_counts_the_forwarded_client(client, reference_data, settings):
    """Behind one proxy every request has the proxy's REMOTE_ADDR: the client is the last
    entry of X-Forwarded-For (a forged first entry counts for nothing)."""
    settings.INQUIRY_RATE_LIMIT_PER_HOUR = 1
    settings.TRUSTED_PROXIES = 1

    def via_proxy(client_ip: str, forged: str = "") -> int:
        forwarded = f"{forged}, {client_ip}" if forged else client_ip
        return client.post(
            URL, form_data(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert via_proxy("198.51.100.20") == 302
    assert via_proxy("198.51.100.21") == 302  # another client behind the same proxy
    assert via_proxy("198.51.100.20", forged="203.0.113.99") == 429
    assert Inquiry.objects.count() == 2


def test_a_distance_without_data_is_accepted_and_explained(client, reference_data):
    LayerFeature.objects.of_layer("ports").delete()
    response = client.get(URL)
    form = response.context["form"]
    assert "max_distance_port_km" in form.layers_without_data
    assert "We have no data for this yet" in str(form["max_distance_port_km"].help_text)
    # No openly licensed copy of the junctions is bundled: that layer is empty too.
    assert not LayerFeature.objects.of_layer("junctions").exists()
    assert "max_distance_junction_km" in form.layers_without_data
    assert "max_distance_station_km" not in form.layers_without_data

    assert post(client, form_data(max_distance_port_km="12")).status_code == 302
    assert Inquiry.objects.get().max_distance_port_m == 12_000


def test_the_map_page_links_to_the_form_with_its_search(client, reference_data):
    response = client.get("/en/?kind=plot&area_min_ha=1")
    content = response.content.decode()
    assert 'href="/en/inquiry/?kind=plot&amp;area_min_ha=1"' in content


def test_the_inquiry_carries_the_offer_type_to_the_inbox_and_from_the_search(
    client, reference_data
):
    """Sale, rent or leasehold (issue 13): stored, shown in staff's inbox line and the
    inquiry's profile, and taken over from the search the form was opened from."""
    response = post(client, form_data(offer_types=["rent", "leasehold"]))
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.offer_types == ["rent", "leasehold"]
    with translation.override("de"):
        assert "Miete, Erbbaurecht" in requirement_summary(inquiry)
        assert ("Angebotsart", "Miete, Erbbaurecht") in requirement_rows(inquiry)
    started = client.get(URL + "?offer_type=sale&offer_type=barter", HTTP_ACCEPT_LANGUAGE="en")
    assert started.context["form"].initial["offer_types"] == ["sale"]
