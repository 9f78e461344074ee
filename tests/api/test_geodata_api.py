import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_layers_list_counts_and_marks_empty_layers(client, reference_data):
    response = client.get(reverse("api-layer-list"))
    assert response.status_code == 200
    layers = {layer["slug"]: layer for layer in response.json()}
    assert layers["stations"]["feature_count"] == 197
    assert layers["stations"]["is_empty"] is False
    assert layers["stations"]["datasets"][0]["attribution"].startswith(
        "Stationsdaten: DB Station&Service AG"
    )
    for empty in ("motorways", "junctions", "waterways", "ports"):
        assert layers[empty]["is_empty"] is True
        assert layers[empty]["datasets"] == []


def test_layer_features_geojson_with_bbox_and_category(client, reference_data):
    url = reverse("api-layer-features", args=["stations"])
    response = client.get(url, {"max_category": 1, "page_size": 100})
    assert response.status_code == 200
    names = {f["properties"]["name"] for f in response.json()["features"]}
    assert names == {"Dortmund Hbf", "Duisburg Hbf", "Essen Hbf"}
    essen = client.get(url, {"bbox": "6.99,51.44,7.03,51.46", "max_category": 1}).json()
    assert [f["properties"]["name"] for f in essen["features"]] == ["Essen Hbf"]
    assert client.get(reverse("api-layer-features", args=["castles"])).status_code == 404


def test_municipalities_and_districts(client, reference_data):
    response = client.get(reverse("api-municipality-list"), {"page_size": 100})
    body = response.json()
    assert body["count"] == 53
    essen = client.get(reverse("api-municipality-detail", args=["05113000"])).json()
    assert essen["properties"]["name"] == "Essen"
    assert essen["properties"]["district"] == "05113"
    assert essen["geometry"]["type"] == "MultiPolygon"
    assert client.get(reverse("api-municipality-detail", args=["99999999"])).status_code == 404
    wesel = client.get(
        reverse("api-municipality-list"), {"district": "05170", "page_size": 100}
    ).json()
    assert wesel["count"] == 13
    assert client.get(reverse("api-district-list"), {"page_size": 100}).json()["count"] == 15


def test_datasets_carry_attributions(client, reference_data):
    datasets = {d["slug"]: d for d in client.get(reverse("api-dataset-list")).json()}
    assert datasets["hochschulkompass"]["demo_only"] is True
    assert "GeoBasis-DE / BKG" in datasets["vg250-gemeinden"]["attribution"]
