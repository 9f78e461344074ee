"""The base maps offered by settings: none by default, the official presets by key, the
operator's own tile URL kept working, the data page crediting each."""

import pytest
from django.urls import reverse

from properties import basemaps
from properties.map_config import small_map_config


def test_no_base_map_unless_configured(settings):
    settings.BASEMAPS = []
    settings.BASEMAP_URL = ""
    config = basemaps.basemap_config()
    assert config["layers"] == []
    assert config["default"] == basemaps.NONE
    assert basemaps.origins() == []


def test_presets_by_key_with_licence_and_none_stays_the_default(settings):
    settings.BASEMAPS = ["basemapde", "dop_nrw", "alkis_nrw", "no-such-map"]
    settings.BASEMAP_URL = ""
    settings.BASEMAP_DEFAULT = ""
    config = basemaps.basemap_config()
    keys = [layer["key"] for layer in config["layers"]]
    assert keys == ["basemapde", "dop_nrw", "alkis_nrw"]
    assert config["default"] == "none"
    parcels = config["layers"][2]
    assert parcels["overlay"] is True and parcels["minZoom"] == 15
    assert parcels["kind"] == "wms" and parcels["wmsLayers"] == "adv_alkis_flurstuecke"
    assert "dl-de/zero-2-0" in parcels["attribution"]
    assert "CC BY 4.0" in config["layers"][0]["attribution"]
    assert basemaps.origins() == ["https://sgx.geodatenzentrum.de", "https://www.wms.nrw.de"]


def test_default_names_an_offered_base_map_and_never_an_overlay(settings):
    settings.BASEMAPS = ["topplus", "alkis_nrw"]
    settings.BASEMAP_URL = ""
    settings.BASEMAP_DEFAULT = "topplus"
    assert basemaps.basemap_config()["default"] == "topplus"
    settings.BASEMAP_DEFAULT = "alkis_nrw"
    assert basemaps.basemap_config()["default"] == "none"


@pytest.mark.django_db
def test_the_operators_own_tile_url_keeps_working(settings):
    settings.BASEMAPS = []
    settings.BASEMAP_DEFAULT = ""
    settings.BASEMAP_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.BASEMAP_ATTRIBUTION = "© Example"
    config = small_map_config()["basemap"]
    assert config["default"] == "custom"
    assert config["layers"][0]["url"] == settings.BASEMAP_URL
    assert config["layers"][0]["attribution"] == "© Example"


@pytest.mark.django_db
def test_data_page_lists_the_offered_base_maps_with_licence(client, settings):
    settings.BASEMAPS = ["topplus", "dop_nrw"]
    settings.BASEMAP_URL = ""
    html = client.get(reverse("attributions"), headers={"accept-language": "en"}).content.decode()
    assert "Topographic map (TopPlusOpen)" in html
    assert "Datenlizenz Deutschland – Namensnennung – 2.0" in html
    assert "Datenlizenz Deutschland – Zero – 2.0" in html
