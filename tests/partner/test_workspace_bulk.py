"""The workspace's bulk actions (submit, still current, withdraw on a selection or on all
filtered sites), its search, its inventory map, and where a partner lands after login."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from properties.models import Site, SiteChange
from sitefinder.l10n import translate_path
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # UserFactory's


@pytest.fixture
def team(essen, dortmund) -> dict:
    """Two organisations with a few sites each, and a staff member and an investor."""
    org_a = PartnerOrganisationFactory(name="EWG Essen", municipalities=[essen])
    org_b = PartnerOrganisationFactory(name="WFD Dortmund", municipalities=[dortmund])

    def site(title, ref, status, municipality, organisation):
        return SiteFactory(
            title=title,
            partner_ref=ref,
            status=status,
            municipality=municipality,
            organisation=organisation,
        )

    return {
        "a": UserFactory(username="anna", role=User.Role.PARTNER, organisation=org_a),
        "b": UserFactory(username="bernd", role=User.Role.PARTNER, organisation=org_b),
        "staff": UserFactory(username="stefanie", role=User.Role.STAFF),
        "investor": UserFactory(username="ivo", role=User.Role.INVESTOR),
        "a_draft_1": site("Kanalstraße Nord", "E-101", Site.Status.DRAFT, essen, org_a),
        "a_draft_2": site("Hafenkante Ost", "E-102", Site.Status.DRAFT, essen, org_a),
        "a_published": site("Zeche Zollverein Süd", "E-200", Site.Status.PUBLISHED, essen, org_a),
        "a_submitted": site("Bahnhofsquartier", "E-300", Site.Status.SUBMITTED, essen, org_a),
        "b_draft": site("Phoenix West", "D-1", Site.Status.DRAFT, dortmund, org_b),
        "b_published": site("Westfalenhütte", "D-2", Site.Status.PUBLISHED, dortmund, org_b),
    }


def bulk(client, action: str, sites=(), **data):
    payload = {"action": action, "site": [str(site.pk) for site in sites], **data}
    response = client.post(reverse("partner_sites_bulk"), payload)
    assert response.status_code == 302
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    client.get(response["Location"])  # shows (and so clears) the messages
    return messages


def status_of(site: Site) -> str:
    site.refresh_from_db()
    return site.status


# --- bulk actions ----------------------------------------------------------------------------


def test_bulk_submit_of_the_selection_skips_another_organisations_site(client, team):
    client.force_login(team["a"])
    messages = bulk(
        client,
        "submit",
        [team["a_draft_1"], team["a_draft_2"], team["b_draft"], team["a_submitted"]],
    )
    assert status_of(team["a_draft_1"]) == Site.Status.SUBMITTED
    assert status_of(team["a_draft_2"]) == Site.Status.SUBMITTED
    assert status_of(team["b_draft"]) == Site.Status.DRAFT
    assert not SiteChange.objects.filter(
        site=team["b_draft"], action=SiteChange.Action.SUBMITTED
    ).exists()
    assert "2 sites were submitted for publication." in messages
    skipped = next(message for message in messages if "skipped" in message)
    assert skipped.startswith("2 sites were skipped")
    assert "not a site you may edit" in skipped
    assert "already submitted (1): “Bahnhofsquartier”" in skipped
    assert "Phoenix West" not in skipped  # another organisation's site is not named


def test_bulk_withdraw_withdraws_what_may_be_withdrawn_and_says_why_the_rest_stays(
    client, team, essen
):
    sold = SiteFactory(
        title="Alte Kokerei",
        status=Site.Status.SOLD,
        municipality=essen,
        organisation=team["a"].organisation,
    )
    client.force_login(team["a"])
    messages = bulk(client, "withdraw", [team["a_published"], team["a_draft_1"], sold])
    assert status_of(team["a_published"]) == Site.Status.WITHDRAWN
    assert status_of(team["a_draft_1"]) == Site.Status.WITHDRAWN
    assert status_of(sold) == Site.Status.SOLD
    assert "2 sites were withdrawn." in messages
    skipped = next(message for message in messages if "skipped" in message)
    assert "“Sold”" in skipped and "“Alte Kokerei”" in skipped
    history = SiteChange.objects.get(site=team["a_published"], action=SiteChange.Action.WITHDRAWN)
    assert history.changed_by == team["a"]


def test_bulk_still_current_on_all_filtered_sites(client, team):
    """ "All filtered" re-applies the dashboard's filter on the server: only the sites the
    search finds, only the partner's own."""
    client.force_login(team["a"])
    messages = bulk(client, "verify", scope="filtered", q="E-10")
    for name in ("a_draft_1", "a_draft_2"):
        team[name].refresh_from_db()
        assert team[name].last_verified_at is not None
        assert team[name].verified_by == team["a"]
    for name in ("a_published", "a_submitted", "b_draft", "b_published"):
        team[name].refresh_from_db()
        assert team[name].last_verified_at is None
    assert messages == ["2 sites are confirmed as current."]


def test_all_filtered_by_status_for_staff_spans_organisations(client, team):
    client.force_login(team["staff"])
    messages = bulk(client, "withdraw", scope="filtered", status="published")
    assert status_of(team["a_published"]) == Site.Status.WITHDRAWN
    assert status_of(team["b_published"]) == Site.Status.WITHDRAWN
    assert status_of(team["a_draft_1"]) == Site.Status.DRAFT
    assert messages == ["2 sites were withdrawn."]


def test_a_partner_cannot_act_on_another_organisations_sites_even_all_filtered(client, team):
    client.force_login(team["b"])
    messages = bulk(client, "withdraw", scope="filtered", q="Zeche")
    assert status_of(team["a_published"]) == Site.Status.PUBLISHED
    assert messages == ["Select at least one site."]
    messages = bulk(client, "withdraw", [team["a_published"]])
    assert status_of(team["a_published"]) == Site.Status.PUBLISHED
    assert messages[0] == "0 sites were withdrawn."
    assert "Zeche" not in messages[1]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"action": "submit", "site": ["12abc"]}, "The selection is not valid"),
        ({"action": "submit"}, "Select at least one site."),
        ({"action": "publish", "site": ["{a}"]}, "Unknown action."),
    ],
)
def test_bad_bulk_requests_are_messages_and_change_nothing(client, team, data, expected):
    client.force_login(team["a"])
    site = team["a_draft_1"]
    data = {
        key: [v.format(a=site.pk) for v in value] if isinstance(value, list) else value
        for key, value in data.items()
    }
    response = client.post(reverse("partner_sites_bulk"), data)
    assert response.status_code == 302
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(expected in message for message in messages)
    assert status_of(site) == Site.Status.DRAFT


def test_too_many_sites_at_once_are_refused_with_a_message(client, team, monkeypatch):
    monkeypatch.setattr("properties.services.bulk.MAX_BULK_SITES", 1)
    monkeypatch.setattr("properties.partner_views.MAX_BULK_SITES", 1)
    client.force_login(team["a"])
    messages = bulk(client, "verify", scope="filtered")
    assert messages == ["At most 1 sites can be changed at once; narrow the filter."]
    assert not Site.objects.filter(last_verified_at__isnull=False).exists()


def test_bulk_needs_a_partner_and_post(client, team):
    assert client.post(reverse("partner_sites_bulk"), {"action": "verify"}).status_code == 302
    client.force_login(team["investor"])
    response = client.post(
        reverse("partner_sites_bulk"), {"action": "verify", "site": [team["a_draft_1"].pk]}
    )
    assert response.status_code == 403
    team["a_draft_1"].refresh_from_db()
    assert team["a_draft_1"].last_verified_at is None
    client.force_login(team["a"])
    assert client.get(reverse("partner_sites_bulk")).status_code == 405


def test_bulk_goes_back_to_the_filtered_list(client, team):
    client.force_login(team["a"])
    back = reverse("partner_dashboard") + "?q=Kanal&status=draft"
    response = client.post(
        reverse("partner_sites_bulk"),
        {"action": "verify", "site": [team["a_draft_1"].pk], "next": back},
    )
    assert response["Location"] == back
    evil = client.post(
        reverse("partner_sites_bulk"),
        {"action": "verify", "site": [team["a_draft_1"].pk], "next": "https://evil.example/"},
    )
    assert evil["Location"] == reverse("partner_dashboard")


# --- search, the selection form and the map --------------------------------------------------


def dashboard(client, **query):
    response = client.get(reverse("partner_dashboard"), query)
    assert response.status_code == 200
    return response.content.decode()


def inventory(content: str) -> dict:
    match = re.search(
        r'<script id="inventory-sites" type="application/json">(.*?)</script>', content
    )
    assert match
    return json.loads(match[1])


def test_search_by_title_or_partner_id(client, team):
    client.force_login(team["a"])
    by_title = dashboard(client, q="hafenkante")
    assert "Hafenkante Ost" in by_title and "Kanalstraße Nord" not in by_title
    by_ref = dashboard(client, q="E-200")
    assert "Zeche Zollverein Süd" in by_ref and "Hafenkante Ost" not in by_ref
    assert 'value="E-200"' in by_ref  # the search box keeps the term
    # The status tabs count what the search finds.
    assert re.search(r'data-status="all">\s*All <span class="pw-count">1</span>', by_ref)
    nothing = dashboard(client, q="Phoenix")  # another organisation's site
    assert "Phoenix West" not in nothing
    assert inventory(nothing)["features"] == []


def test_dashboard_offers_the_bulk_form_with_the_filter(client, team):
    client.force_login(team["a"])
    content = dashboard(client, q="E-10", status="draft")
    assert 'id="bulk-form"' in content
    assert f'name="site" value="{team["a_draft_1"].pk}" form="bulk-form"' in content
    assert '<input type="hidden" name="q" value="E-10">' in content
    assert '<input type="hidden" name="status" value="draft">' in content
    assert "Select all 2 filtered sites" in content
    for action in ("submit", "verify", "withdraw"):
        assert f'name="action" value="{action}"' in content


def test_inventory_map_shows_the_organisations_sites_in_wgs84(client, team):
    client.force_login(team["a"])
    collection = inventory(dashboard(client))
    ids = {feature["properties"]["id"] for feature in collection["features"]}
    assert ids == {
        team[name].pk for name in ("a_draft_1", "a_draft_2", "a_published", "a_submitted")
    }
    feature = next(
        f for f in collection["features"] if f["properties"]["id"] == team["a_draft_1"].pk
    )
    assert feature["properties"]["url"] == reverse("partner_site_edit", args=[team["a_draft_1"].pk])
    assert feature["properties"]["status"] == "draft"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 6.5 < lon < 7.9 and 51.2 < lat < 51.8  # Essen, in degrees
    filtered = inventory(dashboard(client, status="published"))
    assert [f["properties"]["id"] for f in filtered["features"]] == [team["a_published"].pk]
    client.force_login(team["staff"])
    assert len(inventory(dashboard(client))["features"]) == 6


def test_inventory_map_is_capped_and_says_so(client, team, monkeypatch):
    monkeypatch.setattr("properties.partner_views.INVENTORY_MAP_LIMIT", 2)
    client.force_login(team["a"])
    content = dashboard(client)
    assert len(inventory(content)["features"]) == 2
    assert "The map shows the 2 most recently changed of these sites" in content


def test_dashboard_in_german(client, team):
    client.force_login(team["a"])
    with translation.override("de"):  # the page's URL carries the language
        content = dashboard(client)
    assert "Für die ausgewählten Flächen" in content
    assert "Karte dieser Flächen" in content
    # The buttons of each row too (their labels were once fixed at import, in English).
    assert "Als zurückgezogen markieren" in content
    assert "Mark withdrawn" not in content


# --- where people land after login -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "landing"),
    [("a", "partner_dashboard"), ("staff", "map"), ("investor", "map")],
)
def test_after_login_a_partner_lands_on_the_workspace(client, team, role, landing):
    user = team[role]
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    with translation.override(user.language):  # the account's language
        assert response["Location"] == reverse(landing)


def test_a_partner_with_a_next_page_goes_there(client, team):
    user = team["a"]
    target = reverse("partner_upload")
    response = client.post(
        reverse("login") + f"?next={target}",
        {"username": user.username, "password": PASSWORD, "next": target},
    )
    assert response["Location"] == translate_path(target, user.language)
