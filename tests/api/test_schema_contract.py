"""The OpenAPI schema says what the API really does (issue 13): public endpoints carry no
security requirement, every operation documents its error answers, exports their files."""

import pytest
import yaml
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get(reverse("api-schema"))
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_public_endpoints_are_shown_as_public(schema):
    paths = schema["paths"]
    assert paths["/api/v1/sites/"]["get"].get("security", []) == []
    assert paths["/api/v1/municipalities/"]["get"].get("security", []) == []
    assert paths["/api/v1/saved-searches/"]["get"]["security"]  # needs the session


def test_errors_and_export_media_types_are_documented(schema):
    sites = schema["paths"]["/api/v1/sites/"]["get"]["responses"]
    assert {"200", "400", "403", "404"} <= set(sites)
    assert "application/json" in sites["400"]["content"]
    csv = schema["paths"]["/api/v1/sites/export.csv"]["get"]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"]
    geojson = schema["paths"]["/api/v1/sites/export.geojson"]["get"]["responses"]["200"]
    assert list(geojson["content"]) == ["application/geo+json"]
    dialect = next(
        p
        for p in schema["paths"]["/api/v1/sites/export.csv"]["get"]["parameters"]
        if p["name"] == "dialect"
    )
    assert dialect["schema"]["enum"] == ["de", "en", "nl", "pl", "tr"]


def test_docs_page_sits_in_the_sites_frame_with_a_way_back(client):
    html = client.get(reverse("api-docs"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="site-header"' in html
    assert 'href="/en/"' in html and "Back to the map" in html
    assert 'id="swagger-ui"' in html
