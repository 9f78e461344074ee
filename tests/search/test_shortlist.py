from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.urls import reverse
from django.utils import translation

from properties.models import Site
from search.models import SHORTLIST_MAX_SITES, ShortlistEntry
from search.services.shortlist import SESSION_KEY
from tests.factories import SiteFactory, UserFactory, square

pytestmark = pytest.mark.django_db

API = "/api/v1/shortlist/"
PASSWORD = "correct horse battery"

# Essen and Dortmund city centres in EPSG:25832.
ESSEN = Point(362_800, 5_703_800, srid=25832)
DORTMUND = Point(393_200, 5_709_300, srid=25832)


@pytest.fixture
def sites(essen, dortmund):
    return {
        "essen": SiteFactory(municipality=essen, at=ESSEN, title="Essen plot"),
        "dortmund": SiteFactory(municipality=dortmund, at=DORTMUND, title="Dortmund hall"),
        "draft": SiteFactory(
            municipality=essen,
            at=Point(364_000, 5_703_000, srid=25832),
            title="Draft plot",
            status=Site.Status.DRAFT,
        ),
    }


@pytest.fixture
def many_sites(essen):
    """More published sites than a shortlist holds, made in one statement (no distances)."""
    return Site.objects.bulk_create(
        Site(
            title=f"Plot {n}",
            kind=Site.Kind.PLOT,
            status=Site.Status.PUBLISHED,
            geom=square(Point(362_000 + 120 * n, 5_703_000, srid=25832), 100),
            municipality=essen,
            gross_area_m2=10_000,
            planning_category=Site.PlanningCategory.GE,
            bplan_status=Site.BPlanStatus.BINDING,
            ownership=Site.Ownership.MUNICIPAL,
        )
        for n in range(SHORTLIST_MAX_SITES + 1)
    )


def ids(response) -> list[int]:
    return response.json()["ids"]


# --- the API ---------------------------------------------------------------------------


def test_visitor_adds_lists_and_removes_sites_in_the_session(client, sites):
    essen, dortmund = sites["essen"], sites["dortmund"]
    assert ids(client.get(API)) == []

    response = client.post(API, {"site": essen.pk}, content_type="application/json")
    assert response.status_code == 201
    assert ids(response) == [essen.pk]
    response = client.post(API, {"site": dortmund.pk}, content_type="application/json")
    assert ids(response) == [essen.pk, dortmund.pk]
    # Again: no change, no error.
    response = client.post(API, {"site": essen.pk}, content_type="application/json")
    assert response.status_code == 201
    assert ids(response) == [essen.pk, dortmund.pk]

    assert ids(client.get(API)) == [essen.pk, dortmund.pk]
    assert client.session[SESSION_KEY] == [essen.pk, dortmund.pk]
    assert not ShortlistEntry.objects.exists()

    response = client.delete(f"{API}{essen.pk}/")
    assert response.status_code == 200
    assert ids(response) == [dortmund.pk]
    # A site not on the list: nothing to do.
    assert ids(client.delete(f"{API}{essen.pk}/")) == [dortmund.pk]
    assert ids(client.get(API)) == [dortmund.pk]


@pytest.mark.parametrize("payload", [{"site": "abc"}, {"site": -3}, {"site": None}, {}])
def test_malformed_site_is_a_400_naming_the_field(client, payload):
    response = client.post(API, payload, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["site"]


def test_unknown_site_is_a_404_naming_the_field(client, sites):
    response = client.post(API, {"site": 999_999}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"site": ["There is no site with the id 999999."]}


def test_draft_site_cannot_be_added_and_is_never_listed(client, sites):
    draft = sites["draft"]
    response = client.post(API, {"site": draft.pk}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"site": [f"There is no site with the id {draft.pk}."]}

    # Even if it got into the session somehow, neither the API nor the page shows it.
    session = client.session
    session[SESSION_KEY] = [draft.pk, sites["essen"].pk]
    session.save()
    assert ids(client.get(API)) == [sites["essen"].pk]
    page = client.get(reverse("shortlist"))
    assert "Essen plot" in page.text
    assert "Draft plot" not in page.text


def test_shortlist_holds_at_most_50_sites(client, many_sites):
    for site in many_sites[:SHORTLIST_MAX_SITES]:
        response = client.post(API, {"site": site.pk}, content_type="application/json")
        assert response.status_code == 201
    response = client.post(API, {"site": many_sites[-1].pk}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "site": ["Your shortlist is full: it holds at most 50 sites. Remove one to add another."]
    }
    assert len(ids(client.get(API))) == SHORTLIST_MAX_SITES

    # Taking one off makes room.
    client.delete(f"{API}{many_sites[0].pk}/")
    response = client.post(API, {"site": many_sites[-1].pk}, content_type="application/json")
    assert response.status_code == 201
    assert ids(response)[-1] == many_sites[-1].pk


def test_a_hidden_site_gives_way_on_a_full_list(client, many_sites):
    session = client.session
    session[SESSION_KEY] = [site.pk for site in many_sites[:SHORTLIST_MAX_SITES]]
    session.save()
    Site.objects.filter(pk=many_sites[3].pk).update(status=Site.Status.WITHDRAWN)

    response = client.post(API, {"site": many_sites[-1].pk}, content_type="application/json")
    assert response.status_code == 201
    assert many_sites[3].pk not in client.session[SESSION_KEY]
    assert len(client.session[SESSION_KEY]) == SHORTLIST_MAX_SITES


def test_unsafe_requests_need_the_csrf_token_also_for_visitors(sites):
    client = Client(enforce_csrf_checks=True)
    site = sites["essen"]
    response = client.post(API, {"site": site.pk}, content_type="application/json")
    assert response.status_code == 403

    # The shortlist page sets the cookie its script reads the token from.
    token = client.get(reverse("shortlist")).cookies["csrftoken"].value
    response = client.post(
        API, {"site": site.pk}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201
    response = client.delete(f"{API}{site.pk}/")
    assert response.status_code == 403
    response = client.delete(f"{API}{site.pk}/", headers={"X-CSRFToken": token})
    assert ids(response) == []


# --- registered investors --------------------------------------------------------------


def test_investor_list_is_kept_in_the_account(client, sites):
    investor = UserFactory()
    client.force_login(investor)
    client.post(API, {"site": sites["dortmund"].pk}, content_type="application/json")
    client.post(API, {"site": sites["essen"].pk}, content_type="application/json")

    assert list(ShortlistEntry.objects.filter(user=investor).values_list("site_id", flat=True)) == [
        sites["dortmund"].pk,
        sites["essen"].pk,
    ]
    assert SESSION_KEY not in client.session

    elsewhere = Client()
    elsewhere.force_login(investor)
    assert ids(elsewhere.get(API)) == [sites["dortmund"].pk, sites["essen"].pk]

    client.delete(f"{API}{sites['dortmund'].pk}/")
    assert ids(elsewhere.get(API)) == [sites["essen"].pk]


def test_site_unpublished_later_drops_out_but_stays_stored(client, sites):
    investor = UserFactory()
    client.force_login(investor)
    essen = sites["essen"]
    client.post(API, {"site": essen.pk}, content_type="application/json")

    Site.objects.filter(pk=essen.pk).update(status=Site.Status.WITHDRAWN)
    assert ids(client.get(API)) == []
    assert "Essen plot" not in client.get(reverse("shortlist")).text
    assert ShortlistEntry.objects.filter(user=investor, site=essen).exists()

    Site.objects.filter(pk=essen.pk).update(status=Site.Status.PUBLISHED)
    assert ids(client.get(API)) == [essen.pk]


def _log_in_with_client_login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def _log_in_with_the_login_view(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("log_in", [_log_in_with_client_login, _log_in_with_the_login_view])
def test_session_list_merges_into_the_account_on_login(client, sites, essen, log_in):
    investor = UserFactory()
    earlier = SiteFactory(municipality=essen, at=Point(361_500, 5_702_500, srid=25832))
    ShortlistEntry.objects.create(user=investor, site=earlier)

    client.post(API, {"site": sites["essen"].pk}, content_type="application/json")
    client.post(API, {"site": earlier.pk}, content_type="application/json")
    client.post(API, {"site": sites["dortmund"].pk}, content_type="application/json")

    log_in(client, investor)

    assert ids(client.get(API)) == [earlier.pk, sites["essen"].pk, sites["dortmund"].pk]
    assert ShortlistEntry.objects.filter(user=investor).count() == 3
    assert SESSION_KEY not in client.session


def test_force_login_merges_too(client, sites):
    client.post(API, {"site": sites["essen"].pk}, content_type="application/json")
    investor = UserFactory()
    client.force_login(investor)
    assert ids(client.get(API)) == [sites["essen"].pk]


# --- the comparison page ---------------------------------------------------------------


class CompareTable(HTMLParser):
    """Reads the comparison table: {row label: {site id: (text, marked best)}}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[int, tuple[str, bool]]] = {}
        self._label: str | None = None
        self._cell: tuple[int, bool] | None = None
        self._text: list[str] = []
        self._in_row_header = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "th" and attributes.get("scope") == "row":
            self._in_row_header, self._text = True, []
        elif tag == "td" and "data-site-id" in attributes:
            best = "is-best" in (attributes.get("class") or "")
            self._cell, self._text = (int(attributes["data-site-id"]), best), []

    def handle_endtag(self, tag):
        text = " ".join("".join(self._text).split()).replace("★", "").strip()
        if tag == "th" and self._in_row_header:
            self._label, self._in_row_header = text, False
            self.rows[text] = {}
        elif tag == "td" and self._cell is not None and self._label is not None:
            site_id, best = self._cell
            self.rows[self._label][site_id] = (text, best)
            self._cell = None

    def handle_data(self, data):
        self._text.append(data)


def compare_table(response) -> dict[str, dict[int, tuple[str, bool]]]:
    parser = CompareTable()
    parser.feed(response.text)
    return parser.rows


def test_compare_page_shows_the_values_side_by_side(client, essen, dortmund):
    cheap = SiteFactory(
        municipality=essen,
        at=ESSEN,
        title="Cheap plot",
        area_m2=12_345,
        price_eur_m2=Decimal("62.50"),
        is_demo=True,
        available_from=date(2027, 3, 1),
    )
    dear = SiteFactory(
        municipality=dortmund,
        at=DORTMUND,
        title="Dear hall",
        kind=Site.Kind.HALL,
        area_m2=40_000,
        price_eur_m2=Decimal("85.00"),
        has_rail_siding=True,
    )
    on_request = SiteFactory(
        municipality=essen,
        at=Point(364_500, 5_704_500, srid=25832),
        title="Secret plot",
        price_eur_m2=None,
        price_on_request=True,
    )
    Site.objects.filter(pk=cheap.pk).update(distance_to_junction_m=5_640)
    Site.objects.filter(pk=dear.pk).update(distance_to_junction_m=1_234)
    Site.objects.filter(pk=on_request.pk).update(distance_to_junction_m=None)
    for site in (cheap, dear, on_request):
        client.post(API, {"site": site.pk}, content_type="application/json")

    response = client.get(reverse("shortlist"))
    assert response.status_code == 200
    rows = compare_table(response)

    assert rows["Gross area"] == {
        cheap.pk: ("12,345 m² (1.23 ha)", False),
        dear.pk: ("40,000 m² (4.00 ha)", False),
        on_request.pk: ("20,000 m² (2.00 ha)", False),
    }
    assert rows["Sale price"] == {
        cheap.pk: ("62.50 €/m² (lowest price)", True),
        dear.pk: ("85.00 €/m²", False),
        on_request.pk: ("on request", False),
    }
    assert rows["Offer"][dear.pk] == ("Sale 85.00 €/m²", False)
    assert rows["Motorway junctions"] == {
        cheap.pk: ("5.6 km", False),
        dear.pk: ("1.2 km (shortest distance)", True),
        on_request.pk: ("–", False),
    }
    assert rows["Kind"][dear.pk] == ("Hall / production", False)
    assert rows["Municipality"][dear.pk] == ("Dortmund", False)
    assert rows["Rail siding"] == {
        cheap.pk: ("no", False),
        dear.pk: ("yes", False),
        on_request.pk: ("no", False),
    }
    assert rows["Available from"][cheap.pk] == ("1 Mar 2027", False)  # en-GB: day first

    html = response.text
    assert "Demo data" in html
    assert f'href="{reverse("site_detail", args=[cheap.pk])}"' in html
    assert f"/api/v1/sites/export.csv?ids={cheap.pk},{dear.pk},{on_request.pk}" in html
    assert "csrftoken" in response.cookies


def test_empty_shortlist_explains_itself(client, reference_data):
    response = client.get(reverse("shortlist"))
    assert response.status_code == 200
    assert "Your shortlist is empty." in response.text
    assert "<table" not in response.text


def test_remove_form_works_without_javascript(client, sites):
    for key in ("essen", "dortmund"):
        client.post(API, {"site": sites[key].pk}, content_type="application/json")

    response = client.post(
        reverse("shortlist-remove"), {"site": sites["essen"].pk, "next": "https://evil.example/"}
    )
    assert response.status_code == 303
    assert response["Location"] == reverse("shortlist")
    page = client.get(response["Location"])
    assert "Essen plot" not in page.text
    assert "Dortmund hall" in page.text

    detail = reverse("site_detail", args=[sites["dortmund"].pk])
    response = client.post(
        reverse("shortlist-remove"), {"site": sites["dortmund"].pk, "next": detail}
    )
    assert response["Location"] == detail
    assert ids(client.get(API)) == []


def test_compare_page_query_count_does_not_grow_with_the_sites(
    client, many_sites, django_assert_max_num_queries
):
    investor = UserFactory()
    client.force_login(investor)
    # Session, user, shortlist ids, sites with their municipality: the same for 1 or 20.
    client.post(API, {"site": many_sites[0].pk}, content_type="application/json")
    with django_assert_max_num_queries(4):
        client.get(reverse("shortlist"))
    for site in many_sites[1:20]:
        client.post(API, {"site": site.pk}, content_type="application/json")
    with django_assert_max_num_queries(4):
        response = client.get(reverse("shortlist"))
    assert len(compare_table(response)["Gross area"]) == 20


def test_compare_page_speaks_german(client, essen):
    site = SiteFactory(municipality=essen, at=ESSEN, area_m2=12_345, price_eur_m2=Decimal("62.50"))
    client.post(API, {"site": site.pk}, content_type="application/json")
    with translation.override("de"):
        response = client.get(reverse("shortlist"))
    rows = compare_table(response)
    assert rows["Bruttofläche"][site.pk] == ("12.345 m² (1,23 ha)", False)
    assert rows["Kaufpreis"][site.pk] == ("62,50 €/m²", False)
    assert "Merkliste" in response.text
