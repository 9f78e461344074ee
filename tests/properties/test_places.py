"""The place search (GET /api/v1/places/): our own data first, in the request's language;
an optional geocoder (tested against a loopback server); bad input is a 400 naming the
field."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse

from geodata.models import Municipality
from properties.models import Site
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db
URL = reverse("api-places")


def search(client, q, language="en", **params):
    return client.get(URL, {"q": q, **params}, headers={"accept-language": language})


def test_a_station_by_part_of_its_name_with_where_it_lies(client, reference_data):
    results = search(client, "dortmund hbf").json()["results"]
    station = results[0]
    assert station["kind"] == "stations"
    assert station["name"] == "Dortmund Hbf"
    assert station["kind_label"] == "Railway station"
    assert station["where"] == "Dortmund"
    assert 7.3 < station["lon"] < 7.6 and 51.4 < station["lat"] < 51.6
    german = search(client, "dortmund hbf", language="de").json()["results"][0]
    assert german["kind_label"] == "Bahnhof"


def test_a_municipality_before_features_that_merely_contain_its_name(client, reference_data):
    results = search(client, "Essen").json()["results"]
    assert results[0]["kind"] == "municipality" and results[0]["name"] == "Essen"
    west, south, east, north = results[0]["bbox"]
    assert west < results[0]["lon"] < east and south < results[0]["lat"] < north
    assert any(r["kind"] == "stations" and r["name"].startswith("Essen") for r in results)


def test_postcode_universities_and_districts(client, reference_data):
    essen = Municipality.objects.get(ags="05113000")
    if essen.postcode:
        results = search(client, essen.postcode[:3]).json()["results"]
        assert any(r["kind"] == "postcode" and "Essen" in r["name"] for r in results)
    assert search(client, "Ruhr-Universität").json()["results"][0]["kind"] == "universities"
    districts = search(client, "Recklinghausen", limit=20).json()["results"]
    assert {"district", "municipality"} <= {r["kind"] for r in districts}


def test_sites_by_title_or_number_only_when_visible(client, essen):
    site = SiteFactory(title="Gewerbepark Zeche Helene", municipality=essen)
    draft = SiteFactory(title="Zeche Entwurf", municipality=essen, status=Site.Status.DRAFT)
    by_title = search(client, "zeche").json()["results"]
    assert [r["url"] for r in by_title if r["kind"] == "site"] == [f"/sites/{site.pk}/"]
    by_number = search(client, f"#{site.pk}").json()["results"]
    assert by_number[0]["kind"] == "site" and by_number[0]["name"].endswith(f"(#{site.pk})")
    assert not [r for r in search(client, str(draft.pk)).json()["results"] if r["kind"] == "site"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "x"},
        {"q": "a" * 101},
        {"q": "essen", "limit": "0"},
        {"q": "essen", "limit": "many"},
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, reference_data, params):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) <= {"q", "limit"} and response.json()


class _Geocoder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the standard library's name)
        _Geocoder.requests.append(self.path)
        body = {
            "features": [
                {
                    "geometry": {"type": "Point", "coordinates": [7.01, 51.45]},
                    "properties": {"name": "Kruppstraße 5", "postcode": "45128", "city": "Essen"},
                }
            ]
        }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def geocoder(settings):
    server = HTTPServer(("127.0.0.1", 0), _Geocoder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_port}/api"
    settings.GEOCODER_KIND = "photon"
    _Geocoder.requests = []
    yield _Geocoder
    server.shutdown()


def test_addresses_from_a_configured_geocoder_after_our_own_places(
    client, reference_data, geocoder
):
    results = search(client, "Kruppstraße").json()["results"]
    assert results[-1]["kind"] == "address"
    assert results[-1]["name"] == "Kruppstraße 5" and results[-1]["where"] == "45128 Essen"
    assert "bbox=" in geocoder.requests[0] and "q=Kruppstra" in geocoder.requests[0]


def test_a_failing_geocoder_leaves_our_own_places(client, reference_data, settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9/api"  # nothing listens there
    response = search(client, "Dortmund Hbf")
    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "Dortmund Hbf"


@pytest.mark.parametrize("typed", ["Muelheim", "Mulheim", "mülheim", "MÜLHEIM AN DER RUHR"])
def test_accents_and_umlaut_spellings_are_folded(client, reference_data, typed):
    results = search(client, typed).json()["results"]
    assert results[0]["kind"] == "municipality"
    assert results[0]["name"] == "Mülheim an der Ruhr"


def test_a_site_title_and_a_feature_without_their_umlauts(client, essen):
    SiteFactory(title="Gewerbefläche Überruhr-Süd", municipality=essen)
    sites = [r["name"] for r in search(client, "ueberruhr-sud").json()["results"]]
    assert any(name.startswith("Gewerbefläche Überruhr-Süd") for name in sites)
    airport = search(client, "Dusseldorf").json()["results"]
    assert any("Düsseldorf" in place["name"] for place in airport)
