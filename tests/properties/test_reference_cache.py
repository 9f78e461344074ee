"""The map pages' reference data is cached per data version: a write to any table it is
built from shows on the next page, without anything being purged by hand."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from geodata.models import Dataset, District, Layer, Municipality
from properties import map_config
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def config_of(html: str, element_id: str) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no json_script #{element_id}"
    return json.loads(match.group(1))


def map_config_of(client) -> dict:
    return config_of(client.get(reverse("map")).content.decode(), "map-config")


def test_the_second_map_page_reads_no_reference_data_again(client, reference_data):
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("map"))
    with CaptureQueriesContext(connection) as second:
        client.get(reverse("map"))
    reference_reads = [
        q["sql"]
        for q in second.captured_queries
        if 'FROM "geodata_' in q["sql"] and "properties_site" not in q["sql"]
    ]
    assert reference_reads == []
    assert len(second.captured_queries) < len(first.captured_queries)


def test_a_renamed_municipality_shows_on_the_next_map_page(client, essen):
    before = map_config_of(client)
    assert "Essen" in {label["name"] for label in before["municipalityLabels"]}
    Municipality.objects.filter(pk=essen.pk).update(name="Essen an der Ruhr")
    after = map_config_of(client)
    names = {label["name"] for label in after["municipalityLabels"]}
    assert "Essen an der Ruhr" in names and "Essen" not in names
    page = client.get(reverse("map")).content.decode()
    assert "Essen an der Ruhr" in page  # the form's place choices too


def test_a_renamed_district_shows_in_the_form_on_the_next_page(client, reference_data):
    district = District.objects.exclude(kind__istartswith="kreisfrei").first()
    client.get(reverse("map"))
    District.objects.filter(pk=district.pk).update(name="Kreis Umbenannt")
    assert "Kreis Umbenannt" in client.get(reverse("map")).content.decode()


def test_a_layer_and_a_dataset_change_show_on_the_next_page(client, reference_data):
    layer = Layer.objects.get(slug="rail_lines")
    before = {entry["slug"]: entry for entry in map_config_of(client)["layers"]}
    assert before["rail_lines"]["colour"] == layer.colour
    Layer.objects.filter(pk=layer.pk).update(colour="#123456", name_en="Railways renamed")
    after = {entry["slug"]: entry for entry in map_config_of(client)["layers"]}
    assert after["rail_lines"]["colour"] == "#123456"
    assert after["rail_lines"]["name"] == "Railways renamed"

    dataset = map_config._boundary_datasets()[0]
    Dataset.objects.filter(pk=dataset.pk).update(attribution="Attribution changed")
    boundaries = map_config_of(client)["boundaries"]
    assert all("Attribution changed" in entry["attribution"] for entry in boundaries)


def test_the_first_demo_site_adds_the_demo_credit_on_the_next_page(client, essen):
    assert map_config_of(client)["sitesAttribution"] == ""
    SiteFactory(municipality=essen, is_demo=True)
    assert "demo" in map_config_of(client)["sitesAttribution"].lower()


def test_the_detail_page_map_follows_a_write_too(client, essen):
    site = SiteFactory(municipality=essen)
    url = reverse("site_detail", args=[site.pk])
    config = config_of(client.get(url).content.decode(), "site-map-config")
    Layer.objects.filter(slug="rail_lines").update(colour="#654321")
    config = config_of(client.get(url).content.decode(), "site-map-config")
    colours = {entry["slug"]: entry["colour"] for entry in config["layers"]}
    assert colours["rail_lines"] == "#654321"


def test_the_reference_data_is_cached_per_language(client, reference_data):
    with translation.override("de"):
        german = map_config.map_reference()
    with translation.override("en"):
        english = map_config.map_reference()
    assert german["boundaries"][0]["name"] != english["boundaries"][0]["name"]
