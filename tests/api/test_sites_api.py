import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from properties.models import Site
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

# Essen city centre and Dortmund city centre in EPSG:25832.
ESSEN = Point(362_800, 5_703_800, srid=25832)
DORTMUND = Point(393_200, 5_709_300, srid=25832)


@pytest.fixture
def sites(essen, dortmund):
    return {
        "essen": SiteFactory(municipality=essen, at=ESSEN, title="Essen plot"),
        "dortmund": SiteFactory(
            municipality=dortmund, at=DORTMUND, title="Dortmund hall", kind=Site.Kind.HALL
        ),
        "draft": SiteFactory(
            municipality=essen, at=Point(364_000, 5_703_000, srid=25832), status=Site.Status.DRAFT
        ),
    }


def titles(response) -> set[str]:
    return {feature["properties"]["title"] for feature in response.json()["features"]}


def test_list_is_geojson_in_4326_and_hides_drafts(client, sites):
    response = client.get(reverse("api-site-list"))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 2
    assert titles(response) == {"Essen plot", "Dortmund hall"}
    feature = next(f for f in body["features"] if f["properties"]["title"] == "Essen plot")
    assert feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 6.9 < lon < 7.1 and 51.4 < lat < 51.5
    assert feature["properties"]["municipality"] == "05113000"
    assert feature["properties"]["url"].endswith(f"/sites/{feature['id']}/")


def test_bbox_filter_in_lonlat(client, sites):
    essen_only = "6.95,51.40,7.10,51.50"
    response = client.get(reverse("api-site-list"), {"bbox": essen_only})
    assert response.status_code == 200
    assert titles(response) == {"Essen plot"}


def test_bbox_corners_in_any_order_and_a_box_without_width(client, sites):
    """Every bbox the schema's pattern allows is valid: the corners span the same box in
    either order, and a box of no width or height is a line or point (issue 13)."""
    essen = {"bbox": "7.10,51.50,6.95,51.40"}
    assert titles(client.get(reverse("api-site-list"), essen)) == {"Essen plot"}
    for degenerate in ("7.0,51.45,7.0,51.45", "6.95,51.45,7.10,51.45", "180,90,180,90"):
        assert client.get(reverse("api-site-list"), {"bbox": degenerate}).status_code == 200


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("1,2,3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("-200,0,10,10", "outside the world"),
        ("0,-95,10,10", "outside the world"),
    ],
)
def test_bad_bbox_is_a_400_naming_the_field(client, sites, bbox, message):
    response = client.get(reverse("api-site-list"), {"bbox": bbox})
    assert response.status_code == 400
    assert message in response.json()["bbox"][0]


def test_unknown_filter_value_is_a_400(client, sites):
    response = client.get(reverse("api-site-list"), {"kind": "castle"})
    assert response.status_code == 400
    assert "kind" in response.json()


def test_page_past_the_end_is_a_clear_404(client, sites):
    response = client.get(reverse("api-site-list"), {"page": 99})
    assert response.status_code == 404
    assert "Valid pages: 1 to 1" in response.json()["page"][0]


def test_filter_by_kind_and_municipality(client, sites):
    assert titles(client.get(reverse("api-site-list"), {"kind": "hall"})) == {"Dortmund hall"}
    assert titles(client.get(reverse("api-site-list"), {"municipality": "05113000"})) == {
        "Essen plot"
    }


def test_list_query_count_does_not_grow_with_sites(client, essen, django_assert_max_num_queries):
    for i in range(30):
        SiteFactory(municipality=essen, seed=i)
    with django_assert_max_num_queries(3):  # count, page (+ session lookup headroom)
        response = client.get(reverse("api-site-list"), {"page_size": 30})
    assert len(response.json()["features"]) == 30


def test_detail_has_distances_and_unknown_id_is_404(client, sites):
    site = sites["essen"]
    response = client.get(reverse("api-site-detail", args=[site.pk]))
    assert response.status_code == 200
    properties = response.json()["properties"]
    assert properties["district"] == "Essen"
    assert properties["distance_to_station_m"] is not None
    assert properties["distance_to_junction_m"] is None  # layer not loaded
    assert client.get(reverse("api-site-detail", args=[999_999])).status_code == 404


def test_drafts_are_visible_only_to_their_partner_and_staff(client, sites, essen, dortmund):
    draft = sites["draft"]
    url = reverse("api-site-detail", args=[draft.pk])
    assert client.get(url).status_code == 404

    essen_partner = UserFactory(
        role="partner", organisation=PartnerOrganisationFactory(municipalities=[essen])
    )
    dortmund_partner = UserFactory(
        role="partner", organisation=PartnerOrganisationFactory(municipalities=[dortmund])
    )
    staff = UserFactory(role="staff")
    investor = UserFactory()
    for user, status in [
        (essen_partner, 200),
        (dortmund_partner, 404),
        (staff, 200),
        (investor, 404),
    ]:
        client.force_login(user)
        assert client.get(url).status_code == status, user.username


def test_openapi_schema_and_docs(client, db):
    schema = client.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/sites/" in schema.json()["paths"]
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content  # served from our own static files


def test_validation_messages_follow_the_language_of_the_request(client, sites):
    url = reverse("api-site-list") + "?area_min=-5&bbox=7.1,51.4,6.9"

    english = client.get(url, headers={"accept-language": "en"})
    assert english.status_code == 400
    assert english.json()["area_min"] == ["Ensure this value is greater than or equal to 0."]
    assert "four numbers" in english.json()["bbox"][0]

    german = client.get(url, headers={"accept-language": "de"})
    assert german.status_code == 400
    assert "vier Zahlen" in german.json()["bbox"][0]


def test_an_inverted_range_in_the_api_matches_nothing(client, sites):
    """The API answers what a range means (no site is at least 5 and at most 1 m²) rather
    than refusing it: the OpenAPI schema cannot say that min must not exceed max, and what
    it calls valid is accepted. The search page still says the range is inverted."""
    response = client.get(reverse("api-site-list"), {"area_min": 5, "area_max": 1})
    assert response.status_code == 200
    assert response.json()["features"] == []
