"""Authorization that holds everywhere: every URL of the project, walked as anonymous, investor,
partner A, partner B and staff, against an explicit table of expected answers; and no answer
to a role that must not see a draft holds the draft (HTML, JSON, CSV, XLSX, GeoJSON, MVT, PDF,
files).

A URL pattern the table does not cover fails the test: a new URL needs an authorization rule.
A rule whose URL name no longer resolves fails it too: a renamed URL keeps its rule.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIRequestFactory

from accounts.models import PartnerOrganisation, User
from geodata.models import Municipality
from ops.health import heartbeat_beat
from properties.api.permissions import CanEditSite
from properties.media_views import other_media_file, site_media_file
from properties.models import Site, SiteMedia, UploadJob, UploadMapping
from properties.services.upload import UploadReport
from proposals.models import Inquiry, Offer, OfferLink
from proposals.services.offers import offer_create, offer_link_create
from search.models import SavedSearch, ShortlistEntry
from search.services.alerts import saved_search_create, saved_search_unsubscribe_token
from sitefinder.l10n import unprefixed_path
from tests.factories import (
    InquiryFactory,
    PartnerOrganisationFactory,
    SiteFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "investor", "partner_a", "partner_b", "staff")

# Unique titles: no page, file or tile may hold them for a role that must not see the site.
DRAFT_A = "SECRET-DRAFT-A-7731"
SUBMITTED_A = "SECRET-SUBMITTED-A-7732"
DRAFT_B = "SECRET-DRAFT-B-7733"
PUBLISHED_A = "PUBLIC-SITE-A-7734"
DRAFT_A_FILE = b"%PDF-1.4 SECRET-DRAFT-A-7731 document"
# An inquiry's personal data: for staff only (and for whoever holds the offer link's token).
INQUIRY_COMPANY = "SECRET-INQUIRY-CO-7735"
INQUIRY_EMAIL = "secret-investor-7736@example.com"

# --- expected answers ----------------------------------------------------------------------
# Each cell is a status code, a tuple of acceptable codes, or:
LOGIN = "login"  # 302 to the login page
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page
NO = (403, 404)  # refused (the contract prefers 404: ids of others are not confirmed)
TILE = (200, 204)  # a tile with or without features
ADMIN_STAFF = (200, 302, 403, 404, 405)  # the admin's own answers; never a 500

EVERYONE = (200, 200, 200, 200, 200)
ACCOUNT = (LOGIN, 200, 200, 200, 200)
SEES_DRAFT_A = (404, 404, 200, 404, 200)  # drafts/submitted of A: A's partner and staff
SEES_DRAFT_B = (404, 404, 404, 200, 200)
PARTNER_PAGE = (LOGIN, NO, 200, 200, 200)
PARTNER_PAGE_A = (LOGIN, NO, 200, 404, 200)  # a page about one of A's sites
PARTNER_PAGE_B = (LOGIN, NO, 404, 200, 200)
STAFF_PAGE = (LOGIN, NO, NO, NO, 200)
STAFF_POST = (LOGIN, NO, NO, NO, (302, 303))


@dataclass(frozen=True)
class Rule:
    """One request of the matrix: a URL name, its path parameters (names of World attributes
    or literal values), and the expected answer per role (order of ROLES)."""

    name: str
    expect: tuple[Any, Any, Any, Any, Any]
    params: dict[str, str] = field(default_factory=dict)
    method: str = "get"
    query: str = ""
    data: dict[str, Any] | None = None


# The order matters where a request changes state (deleting, logging out): last.
RULES: list[Rule] = [
    # Public pages and the search
    Rule("map", EVERYONE),
    Rule("map", EVERYONE, query="status=draft&status=submitted&status=published"),
    Rule("attributions", EVERYONE),
    Rule("site_detail", EVERYONE, {"pk": "published_a"}),
    Rule("site_detail", SEES_DRAFT_A, {"pk": "draft_a"}),
    Rule("site_detail", SEES_DRAFT_A, {"pk": "submitted_a"}),
    Rule("site_detail", SEES_DRAFT_B, {"pk": "draft_b"}),
    Rule("site_expose", EVERYONE, {"pk": "published_a"}),
    Rule("site_expose", SEES_DRAFT_A, {"pk": "draft_a"}),
    Rule("site_expose", SEES_DRAFT_B, {"pk": "draft_b"}),
    Rule("site_media_file", EVERYONE, {"name": "published_a_photo"}),
    Rule("site_media_file", SEES_DRAFT_A, {"name": "draft_a_document"}),
    Rule("site_media_file", (404,) * 5, {"name": "2026/01/no-such-file.pdf"}),
    # Shortlist (session or account) and saved searches (accounts)
    Rule("shortlist", EVERYONE),
    Rule("shortlist-remove", (303,) * 5, method="post", data={"site": "draft_b"}),
    Rule("saved_searches", ACCOUNT),
    Rule(
        "saved_search_resume",
        (LOGIN, 303, 404, 404, 404),
        {"pk": "saved_search"},
        method="post",
    ),
    Rule(
        "saved_search_update",
        (LOGIN, 303, 404, 404, 404),
        {"pk": "saved_search"},
        method="post",
    ),
    Rule(
        "saved_search_pause",
        (LOGIN, 303, 404, 404, 404),
        {"pk": "saved_search"},
        method="post",
    ),
    Rule("saved_search_unsubscribe", EVERYONE, {"pk": "saved_search", "token": "token"}),
    Rule("saved_search_unsubscribe", (404,) * 5, {"pk": "saved_search", "token": "forged"}),
    Rule(
        "saved_search_delete",
        (LOGIN, 303, 404, 404, 404),
        {"pk": "saved_search"},
        method="post",
    ),
    # Accounts
    Rule("login", (200, (200, 302), (200, 302), (200, 302), (200, 302))),
    Rule("signup", (200, (200, 302), (200, 302), (200, 302), (200, 302))),
    Rule("privacy", EVERYONE),
    # Sites API and exports (the exports are asked for drafts by id, too)
    Rule("api-site-list", EVERYONE),
    Rule("api-site-list", EVERYONE, query="status=draft&status=submitted"),
    Rule("api-site-detail", EVERYONE, {"pk": "published_a"}),
    Rule("api-site-detail", SEES_DRAFT_A, {"pk": "draft_a"}),
    Rule("api-site-detail", SEES_DRAFT_A, {"pk": "submitted_a"}),
    Rule("api-site-detail", SEES_DRAFT_B, {"pk": "draft_b"}),
    # No writes in the API yet: a method the view does not answer is a 405 for everyone
    # (the schema lists none); CanEditSite guards writes once a view has them.
    Rule(
        "api-site-detail",
        (405, 405, 405, 405, 405),
        {"pk": "draft_a"},
        method="put",
        data={"title": "x"},
    ),
    Rule("api-site-export-csv", EVERYONE, query="ids={all_ids}"),
    Rule("api-site-export-xlsx", EVERYONE, query="ids={all_ids}"),
    Rule("api-site-export-geojson", EVERYONE, query="ids={all_ids}"),
    Rule("api-site-export-geojson", EVERYONE, query="status=draft&status=submitted"),
    # Reference data API
    Rule("api-layer-list", EVERYONE),
    Rule("api-layer-features", EVERYONE, {"slug": "stations"}),
    Rule("api-dataset-list", EVERYONE),
    Rule("api-district-list", EVERYONE),
    Rule("api-municipality-list", EVERYONE),
    Rule("api-places", EVERYONE, query="q=essen"),
    Rule("api-places", (400,) * 5, query="q="),
    Rule("api-municipality-detail", EVERYONE, {"ags": "05113000"}),
    Rule("api-schema", EVERYONE),
    Rule("api-docs", EVERYONE),
    # Any /api/ path no endpoint answers: a JSON 404 for everyone.
    Rule("api-not-found", (404,) * 5),
    # Shortlist and saved searches API
    Rule("api-shortlist", EVERYONE),
    Rule(
        "api-shortlist",
        (404, 404, 201, 404, 201),
        method="post",
        data={"site": "draft_a"},
    ),
    Rule("api-shortlist-entry", EVERYONE, {"site_id": "draft_b"}, method="delete"),
    Rule("api-saved-search-list", (403, 200, 200, 200, 200)),
    Rule(
        "api-saved-search-list",
        (403, 201, 201, 201, 201),
        method="post",
        data={"name": "Essen", "query": ""},
    ),
    Rule(
        "api-saved-search-detail",
        (403, 204, 404, 404, 404),
        {"pk": "api_saved_search"},
        method="delete",
    ),
    # Tiles: public sites only, for everyone (partners see their drafts in the list, not
    # on the map); the tile covering the drafts, at footprint and cluster zoom.
    Rule("tile-sites", (TILE,) * 5, {"z": "z", "x": "x", "y": "y"}),
    Rule("tile-sites", (TILE,) * 5, {"z": "z_low", "x": "x_low", "y": "y_low"}),
    Rule(
        "tile-sites",
        (TILE,) * 5,
        {"z": "z", "x": "x", "y": "y"},
        query="status=draft&status=submitted",
    ),
    Rule("tile-layer", (TILE,) * 5, {"slug": "stations", "z": "z", "x": "x", "y": "y"}),
    Rule("tile-boundaries", (TILE,) * 5, {"z": "z", "x": "x", "y": "y"}),
    Rule("healthz", EVERYONE),
    # Readiness: the world has a fresh worker and scheduler heartbeat.
    Rule("readyz", EVERYONE),
    # Operations: Prometheus metrics (staff session or bearer token) and the job status page.
    Rule("metrics", (404, 404, 404, 404, 200)),
    Rule("staff_jobs", STAFF_PAGE),
    # Site proposals: the public inquiry form, the investor's private offer link (the
    # token is the key), and staff's inbox, matching, offer builder and dashboard.
    Rule("inquiry_new", EVERYONE),
    Rule("inquiry_thanks", (404,) * 5, {"token": "forged"}),
    # "Ask about this site": an empty question is a form error on the site's page (200, as
    # the inquiry form answers); a site the role cannot see is a 404.
    Rule("site_question", EVERYONE, {"pk": "published_a"}, method="post", data={}),
    Rule("site_question", SEES_DRAFT_A, {"pk": "draft_a"}, method="post", data={}),
    Rule("offer_link", EVERYONE, {"token": "offer_token"}),
    Rule("offer_link", (404,) * 5, {"token": "forged"}),
    # A link sent before URLs carried the language: to the offer's language.
    Rule("offer_link_unprefixed", (302,) * 5, {"token": "offer_token"}),
    # A forged one goes to the visitor's language like any old address, and is a 404 there.
    Rule("offer_link_unprefixed", (302,) * 5, {"token": "forged"}),
    # Ready, or being rendered (202, the page reloads itself).
    Rule("offer_link_pdf", ((200, 202),) * 5, {"token": "offer_token"}),
    Rule("offer_link_pdf", (404,) * 5, {"token": "forged"}),
    Rule("inbox", STAFF_PAGE),
    Rule("inquiry_detail", STAFF_PAGE, {"pk": "inquiry"}),
    Rule("inquiry_matches", STAFF_PAGE, {"pk": "inquiry"}),
    Rule("inquiry_erase", STAFF_PAGE, {"pk": "inquiry"}),
    Rule("inquiry_export", (LOGIN, NO, NO, NO, 200), {"pk": "inquiry"}, method="post"),
    Rule("staff_dashboard", STAFF_PAGE),
    Rule("offer_edit", STAFF_PAGE, {"pk": "offer"}),
    Rule("offer_pdf_status", STAFF_PAGE, {"pk": "offer"}),
    Rule("offer_pdf", (LOGIN, NO, NO, NO, (200, 404)), {"pk": "offer"}),
    Rule("offer_pdf_request", STAFF_POST, {"pk": "offer"}, method="post"),
    Rule(
        "offer_create",
        STAFF_POST,
        {"pk": "inquiry"},
        method="post",
        data={"site": "published_a"},
    ),
    Rule(
        "offer_site_add",
        STAFF_POST,
        {"pk": "offer"},
        method="post",
        data={"site": "draft_a"},
    ),
    Rule(
        "offer_link_create",
        STAFF_POST,
        {"pk": "offer"},
        method="post",
        data={"recipient_email": INQUIRY_EMAIL, "days": 30},
    ),
    Rule(
        "offer_link_revoke",
        STAFF_POST,
        {"pk": "offer", "link_pk": "spare_link"},
        method="post",
    ),
    # Planned by the partner workspace contract: checked once they exist.
    Rule("partner_dashboard", PARTNER_PAGE),
    # The search and the inventory map stay inside the partner's own sites.
    Rule("partner_dashboard", PARTNER_PAGE, query="q=SECRET"),
    Rule("partner_dashboard", PARTNER_PAGE, query="q=7733&status=draft&stale=1"),
    Rule("partner_site_new", PARTNER_PAGE),
    Rule("partner_site_edit", PARTNER_PAGE_A, {"pk": "draft_a"}),
    Rule("partner_site_edit", PARTNER_PAGE_B, {"pk": "draft_b"}),
    Rule("partner_site_history", PARTNER_PAGE_A, {"pk": "draft_a"}),
    Rule("partner_site_history", PARTNER_PAGE_B, {"pk": "draft_b"}),
    Rule("partner_upload", PARTNER_PAGE),
    # The upload's data contract holds no data: public.
    Rule("upload_contract", EVERYONE),
    Rule("upload_schema", EVERYONE),
    Rule("upload_template", EVERYONE, {"language": "de", "extension": "xlsx"}),
    Rule("upload_template", EVERYONE, {"language": "en", "extension": "csv"}),
    Rule("upload_template", (404,) * 5, {"language": "fr", "extension": "xlsx"}),
    Rule("upload_template", (404,) * 5, {"language": "de", "extension": "pdf"}),
    # An upload of A's organisation (checked, nothing rejected) and a running one of B's.
    Rule("partner_upload_job", PARTNER_PAGE_A, {"pk": "upload_job_a"}),
    Rule("partner_upload_job_status", PARTNER_PAGE_A, {"pk": "upload_job_a"}),
    Rule("partner_upload_job_report", PARTNER_PAGE_A, {"pk": "upload_job_a"}),
    Rule("partner_upload_job_rejected", (LOGIN, NO, 302, 404, 302), {"pk": "upload_job_a"}),
    Rule(
        "partner_upload_job_mappings",
        (LOGIN, NO, 302, 404, 302),
        {"pk": "upload_job_a"},
        method="post",
    ),
    # Nothing to commit in an empty report: a form error.
    Rule(
        "partner_upload_job_commit",
        (LOGIN, NO, 400, 404, 400),
        {"pk": "upload_job_a"},
        method="post",
    ),
    # A running upload is not deleted: a message.
    Rule(
        "partner_upload_job_discard",
        (LOGIN, NO, 404, 302, 302),
        {"pk": "upload_job_b"},
        method="post",
    ),
    Rule("partner_upload_mappings", PARTNER_PAGE),
    Rule("staff_data_health", STAFF_PAGE),
    Rule("staff_review_queue", STAFF_PAGE),
    Rule("staff_review_queue", (LOGIN, NO, NO, NO, 400), method="post", data={}),
    Rule("staff_invite", STAFF_PAGE),
    Rule("password_reset", EVERYONE),
    Rule("password_reset_done", EVERYONE),
    Rule(
        "password_reset_confirm",
        EVERYONE,
        {"uidb64": "MQ", "token": "set-password"},
    ),
    Rule("password_reset_complete", EVERYONE),
    Rule("password_change", ACCOUNT),
    Rule("password_change_done", ACCOUNT),
    Rule("invitation_accept", (400,) * 5, {"uidb64": "MQ", "token": "forged"}),
    # State-changing, last. "verify" (still current) changes nothing anyone else sees.
    Rule(
        "partner_site_action",
        (LOGIN, NO, (302, 303), 404, (302, 303)),
        {"pk": "draft_a"},
        method="post",
        data={"action": "verify"},
    ),
    Rule(
        "partner_site_action",
        (LOGIN, NO, 404, (302, 303), (302, 303)),
        {"pk": "draft_b"},
        method="post",
        data={"action": "verify"},
    ),
    # Bulk actions: each site checked on its own; another organisation's id is skipped
    # (partner A: nothing done, redirect with the summary), never a 500.
    Rule(
        "partner_sites_bulk",
        (LOGIN, NO, (302, 303), (302, 303), (302, 303)),
        method="post",
        data={"action": "verify", "site": "draft_b"},
    ),
    Rule(
        "partner_sites_bulk",
        (LOGIN, NO, (302, 303), (302, 303), (302, 303)),
        method="post",
        data={"action": "verify", "scope": "filtered", "q": "SECRET"},
    ),
    # B's mapping: deleted by B, then gone for staff.
    Rule(
        "partner_upload_mapping_delete",
        (LOGIN, NO, 404, 302, (302, 404)),
        {"pk": "mapping_b"},
        method="post",
    ),
    Rule("set_language", ((200, 204, 302),) * 5, method="post", data={"language": "en"}),
    Rule("logout", (302,) * 5, method="post"),
]

# The admin is for agency staff (is_staff) only: everyone else is sent to its login page.
# Its URLs come from the registered ModelAdmins (tests/admin checks every model has one).
ADMIN_EXPECT = (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_STAFF)
ADMIN_SPECIAL = {
    "admin:login": ((200, 200, 200, 200, (200, 302)), "get"),
    "admin:logout": (((302, 405),) * 5, "post"),  # ends the session: sent last
}


# --- the project's URL patterns -------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name ("admin:index"), or the route itself for unnamed patterns
    route: str  # the full route, e.g. "sites/<int:pk>/"


def project_routes() -> list[Route]:
    def walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                key = namespace + pattern.name if pattern.name else route
                yield Route(key=key, route=route)

    return list(walk(get_resolver().url_patterns, "", ""))


_ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def build_path(route: str, values: dict[str, Any]) -> str:
    """The route with its parameters filled in (route syntax and regex groups)."""

    def fill(match: re.Match) -> str:
        name = match[1] or match[2]
        if name not in values:
            raise KeyError(f"no value for the parameter {name!r} of {route!r}")
        return str(values[name])

    return "/" + _ROUTE_PARAMETER.sub(fill, route).lstrip("^").rstrip("$")


# --- the world the matrix runs in ------------------------------------------------------------


def tile_of(point: Point, z: int) -> tuple[int, int]:
    geographic = point.transform(4326, clone=True)
    assert isinstance(geographic, Point)
    lon, lat = geographic.x, geographic.y
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@dataclass
class World:
    published_a: Site
    draft_a: Site
    submitted_a: Site
    draft_b: Site
    users: dict[str, User | None]
    saved_search: SavedSearch
    api_saved_search: SavedSearch
    media: dict[str, SiteMedia]
    inquiry: Inquiry
    offer: Offer
    offer_link: OfferLink
    spare_link: OfferLink
    uploads: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        """A Rule's parameter: a site, search or file by name, else the literal."""
        if name in ("published_a", "draft_a", "submitted_a", "draft_b"):
            return getattr(self, name).pk
        if name in ("saved_search", "api_saved_search"):
            return getattr(self, name).pk
        if name == "token":
            return saved_search_unsubscribe_token(self.saved_search)
        if name in ("inquiry", "offer", "spare_link"):
            return getattr(self, name).pk
        if name in self.uploads:
            return self.uploads[name].pk
        if name == "offer_token":
            return self.offer_link.token
        if name in self.media:
            return (self.media[name].file.name or "").removeprefix("sites/")
        centre = self.draft_a.geom.centroid
        tiles = {"z": 14, "z_low": 9}
        if name in tiles:
            return tiles[name]
        if name in ("x", "y", "x_low", "y_low"):
            z = tiles["z" if len(name) == 1 else "z_low"]
            return tile_of(centre, z)[0 if name.startswith("x") else 1]
        return name

    def forbidden(self, role: str) -> list[Site]:
        """Sites a role must not see: the drafts and submitted sites of others."""
        return {
            "anonymous": [self.draft_a, self.submitted_a, self.draft_b],
            "investor": [self.draft_a, self.submitted_a, self.draft_b],
            "partner_a": [self.draft_b],
            "partner_b": [self.draft_a, self.submitted_a],
            "staff": [],
        }[role]


ESSEN_CENTRE = Point(362_800, 5_703_800, srid=25832)
DORTMUND_CENTRE = Point(393_200, 5_709_300, srid=25832)


def _offset(point: Point, dx: float, dy: float) -> Point:
    return Point(point.x + dx, point.y + dy, srid=point.srid)


def _user(**fields: Any) -> User:
    return UserFactory(**fields)


@pytest.fixture
def world(reference_data, settings, tmp_path, monkeypatch) -> World:
    settings.MEDIA_ROOT = tmp_path
    # The walk takes longer than a heartbeat stays fresh.
    monkeypatch.setattr("ops.health.WORKER_STALE_SECONDS", 3600)
    heartbeat_beat(process_id="test-worker", role="worker")
    heartbeat_beat(process_id="test-scheduler", role="scheduler")
    essen = Municipality.objects.get(ags="05113000")
    dortmund = Municipality.objects.get(ags="05913000")
    organisation_a = PartnerOrganisationFactory(municipalities=[essen])
    organisation_b = PartnerOrganisationFactory(municipalities=[dortmund])

    def site(title: str, status: str, municipality: Municipality, at: Point) -> Site:
        return SiteFactory(
            title=title, status=status, municipality=municipality, at=at, area_m2=5_000
        )

    # Side by side, so one tile holds the public site and the drafts.
    published_a = site(PUBLISHED_A, "published", essen, ESSEN_CENTRE)
    draft_a = site(DRAFT_A, "draft", essen, _offset(ESSEN_CENTRE, 120, 0))
    submitted_a = site(SUBMITTED_A, "submitted", essen, _offset(ESSEN_CENTRE, 0, 120))
    draft_b = site(DRAFT_B, "draft", dortmund, DORTMUND_CENTRE)
    media = {
        "draft_a_document": SiteMedia.objects.create(
            site=draft_a,
            kind=SiteMedia.Kind.DOCUMENT,
            caption=DRAFT_A,
            file=ContentFile(DRAFT_A_FILE, name="secret-draft-a-plan.pdf"),
        ),
        "published_a_photo": SiteMedia.objects.create(
            site=published_a,
            kind=SiteMedia.Kind.PHOTO,
            file=ContentFile(b"\x89PNG public photo", name="public-photo.png"),
        ),
    }
    investor = _user(role=User.Role.INVESTOR)
    partner_a = _user(role=User.Role.PARTNER, organisation=organisation_a)
    partner_b = _user(role=User.Role.PARTNER, organisation=organisation_b)
    users: dict[str, User | None] = {
        "anonymous": None,
        "investor": investor,
        "partner_a": partner_a,
        "partner_b": partner_b,
        "staff": _user(role=User.Role.STAFF, is_staff=True, is_superuser=True),
    }
    # Shortlists holding others' drafts (e.g. shortlisted while published, then withdrawn).
    for holder in (investor, partner_b):
        ShortlistEntry.objects.create(user=holder, site=draft_a)
        ShortlistEntry.objects.create(user=holder, site=published_a)
    ShortlistEntry.objects.create(user=partner_a, site=draft_b)
    inquiry: Inquiry = InquiryFactory.create(company=INQUIRY_COMPANY, email=INQUIRY_EMAIL)
    staff = users["staff"]
    assert staff is not None
    offer = offer_create(inquiry=inquiry, site_ids=[published_a.pk], acting_user=staff)
    offer_link, spare_link = (
        offer_link_create(offer=offer, acting_user=staff, recipient_email=INQUIRY_EMAIL, send=False)
        for _ in range(2)
    )
    return World(
        published_a=published_a,
        draft_a=draft_a,
        submitted_a=submitted_a,
        draft_b=draft_b,
        users=users,
        saved_search=saved_search_create(user=investor, name="Essen", query="kind=plot"),
        api_saved_search=saved_search_create(user=investor, name="Ruhr", query=""),
        media=media,
        inquiry=inquiry,
        offer=offer,
        offer_link=offer_link,
        spare_link=spare_link,
        uploads={
            "upload_job_a": UploadJob.objects.create(
                organisation=cast(PartnerOrganisation, organisation_a),
                stored_name="a.geojson",
                filename="a.geojson",
                status=UploadJob.Status.DONE,
                report=UploadReport(filename="a.geojson", format="GeoJSON").to_json(),
                counts=UploadReport(filename="a.geojson", format="GeoJSON").counts,
            ),
            "upload_job_b": UploadJob.objects.create(
                organisation=cast(PartnerOrganisation, organisation_b),
                stored_name="b.geojson",
                filename="b.geojson",
                status=UploadJob.Status.RUNNING,
            ),
            "mapping_b": UploadMapping.objects.create(
                organisation=cast(PartnerOrganisation, organisation_b),
                kind="column",
                field="",
                source="X",
                source_key="x",
            ),
        },
    )


def clients(world: World) -> dict[str, Client]:
    result = {}
    for role, user in world.users.items():
        # A crash is a failure of the matrix like any other, listed with the rest.
        client = Client(raise_request_exception=False)
        if user is None:
            # A visitor's session shortlist naming drafts of both partners.
            session = client.session
            session["shortlist"] = [world.draft_a.pk, world.draft_b.pk, world.published_a.pk]
            session.save()
        else:
            client.force_login(user)
        result[role] = client
    return result


# --- reading answers --------------------------------------------------------------------------


def body_bytes(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def body_text(raw: bytes) -> str:
    """Everything readable in an answer: XLSX (and any zip) unpacked."""
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            raw = b"\n".join(archive.read(name) for name in archive.namelist())
    return raw.decode("utf-8", errors="replace")


def leaked_ids(text: str, forbidden_ids: set[int]) -> set[int]:
    """Ids of forbidden sites named in a JSON answer: features, `ids` lists."""
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    found: set[int] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Feature":
                ids = (node.get("id"), (node.get("properties") or {}).get("id"))
                found.update(value for value in ids if isinstance(value, int))
            if isinstance(node.get("ids"), list):
                found.update(node["ids"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(data)
    return found & forbidden_ids


def status_matches(response, expected: Any, login_url: str, admin_login_url: str) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(login_url)
    if expected == ADMIN_LOGIN:
        return response.status_code == 302 and response["Location"].startswith(admin_login_url)
    if isinstance(expected, tuple):
        return response.status_code in expected
    return response.status_code == expected


# --- the matrix -------------------------------------------------------------------------------


def admin_values(route: str, world: World) -> dict[str, Any]:
    """Path parameters of an admin URL: an object of the model it belongs to."""
    from django.apps import apps

    values: dict[str, Any] = {"app_label": "properties", "url": "no-such-page/"}
    values["content_type_id"] = ContentType.objects.get_for_model(Site).pk
    values["object_id"] = world.draft_a.pk
    values["id"] = world.users["investor"].pk  # type: ignore[union-attr]
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match:
        try:
            model = apps.get_model(match[1], match[2])
        except LookupError:
            pass
        else:
            obj = world.draft_a if model is Site else model.objects.order_by("pk").first()
            values["object_id"] = obj.pk if obj is not None else 1
    return values


def addresses_of(path: str) -> list[str]:
    """A page's path in every language, longest first (the unprefixed one last)."""
    bare = unprefixed_path(path)
    return [f"/{code}{bare}" for code, _name in settings.LANGUAGES] + [bare]


def test_every_url_answers_every_role_as_the_table_says(world):
    routes = project_routes()
    by_name = {route.key: route for route in routes}
    ruled = {rule.name for rule in RULES}
    uncovered = [
        route.route
        for route in routes
        if route.key not in ruled and not route.route.startswith("admin/")
    ]
    assert uncovered == [], f"new URL without an authorization rule: {uncovered}"
    gone = sorted(rule.name for rule in RULES if rule.name not in by_name)
    assert gone == [], f"authorization rules for URLs that no longer exist: {gone}"

    requests: list[tuple[str, str, Rule | None, tuple, str]] = []  # label, path, rule, ...
    for rule in RULES:
        route = by_name[rule.name]
        values = {key: world.value(value) for key, value in rule.params.items()}
        path = build_path(route.route, values)
        all_ids = ",".join(
            str(site.pk)
            for site in (world.published_a, world.draft_a, world.submitted_a, world.draft_b)
        )
        query = rule.query.replace("{all_ids}", all_ids)
        requests.append((rule.name, path + (f"?{query}" if query else ""), rule, rule.expect, ""))
    for route in routes:
        if not route.route.startswith("admin/"):
            continue
        expect, method = ADMIN_SPECIAL.get(route.key, (ADMIN_EXPECT, "get"))
        path = build_path(route.route, admin_values(route.route, world))
        requests.append((route.key, path, None, expect, method))
    # Logging out ends the session the other requests need: last.
    requests.sort(key=lambda request: request[0] in ("logout", "admin:logout"))

    login_url = reverse("login")
    admin_login_url = reverse("admin:login")
    forbidden = {role: world.forbidden(role) for role in ROLES}
    role_clients = clients(world)
    failures: list[str] = []
    for label, path, rule, expect, admin_method in requests:
        for role, expected in zip(ROLES, expect, strict=True):
            client = role_clients[role]
            method = rule.method if rule else admin_method
            data = None
            if rule and rule.data is not None:
                data = {
                    key: world.value(value) if isinstance(value, str) else value
                    for key, value in rule.data.items()
                }
            if method == "get":
                response = client.get(path)
            elif method == "post":
                response = client.post(path, data or {})
            else:
                response = getattr(client, method)(
                    path, json.dumps(data or {}), content_type="application/json"
                )
            where = f"{role:9} {method.upper()} {path}"
            if expected == ADMIN_STAFF and response.get("Location", "").startswith(admin_login_url):
                failures.append(f"{where}: staff sent to the admin's login page")
            elif response.status_code >= 500 or not status_matches(
                response, expected, login_url, admin_login_url
            ):
                failures.append(f"{where}: {response.status_code}, expected {expected}")
            # Pages echo their own address (the login link's ?next=, the same page in the
            # other languages): that is no leak.
            text = body_text(body_bytes(response))
            for own in addresses_of(path.split("?")[0]):
                text = text.replace(own, "")
            for site in forbidden[role]:
                if site.title in text:
                    failures.append(f"{where}: LEAK of the title {site.title}")
                if f"/sites/{site.pk}/" in text:
                    failures.append(f"{where}: LEAK of a link to {site.title}")
            if label.startswith(("api-site", "api-shortlist")):  # other features have ids too
                leaked = leaked_ids(text, {site.pk for site in forbidden[role]})
                if leaked:
                    failures.append(f"{where}: LEAK of site ids {sorted(leaked)}")
            if DRAFT_A_FILE in body_bytes(response) and world.draft_a in forbidden[role]:
                failures.append(f"{where}: LEAK of the draft's file")
            # Nobody but staff sees inquiries; the offer link shows its holder their own.
            if role != "staff" and label not in ("offer_link", "offer_link_pdf"):
                for secret in (INQUIRY_COMPANY, INQUIRY_EMAIL):
                    if secret in text:
                        failures.append(f"{where}: LEAK of the inquiry's {secret}")
    assert failures == [], "\n".join(failures)


def test_the_markers_are_found_where_they_may_be_seen(world):
    """The leak check is only worth something if it finds the drafts where they belong."""
    role_clients = clients(world)
    partner_a, staff = role_clients["partner_a"], role_clients["staff"]
    ids = f"{world.draft_a.pk},{world.draft_b.pk}"
    assert DRAFT_A in partner_a.get(reverse("api-site-list")).content.decode()
    assert DRAFT_A in body_text(
        partner_a.get(reverse("api-site-export-xlsx") + f"?ids={ids}").content
    )
    assert DRAFT_B in staff.get(reverse("map")).content.decode()
    inbox = staff.get(reverse("inbox")).content.decode()
    assert INQUIRY_COMPANY in inbox
    detail = staff.get(reverse("inquiry_detail", args=[world.inquiry.pk])).content.decode()
    assert INQUIRY_EMAIL in detail
    document = world.media["draft_a_document"].file.name.removeprefix("sites/")
    response = partner_a.get(reverse("site_media_file", kwargs={"name": document}))
    assert response.status_code == 200
    assert body_bytes(response) == DRAFT_A_FILE
    assert "private" in response["Cache-Control"]
    # The public site is on the tile that covers the drafts; the drafts never are.
    z = 14
    x, y = tile_of(world.draft_a.geom.centroid, z)
    tile = body_bytes(partner_a.get(reverse("tile-sites", kwargs={"z": z, "x": x, "y": y})))
    assert PUBLISHED_A.encode() in tile
    assert DRAFT_A.encode() not in tile


# --- media files ------------------------------------------------------------------------------


def test_media_of_sites_is_not_served_by_the_development_file_server(world, settings):
    """`static()` (DEBUG) serves other media; a path that normalises into sites/ is refused."""
    request = RequestFactory().get("/media/x")
    document = world.media["draft_a_document"].file.name
    for disguised in (f"./{document}", f"/{document}", f"other/../{document}", document):
        with pytest.raises(Http404):
            other_media_file(request, disguised, document_root=str(settings.MEDIA_ROOT))
    (settings.MEDIA_ROOT / "logos").mkdir()
    (settings.MEDIA_ROOT / "logos" / "agency.txt").write_text("logo")
    response = other_media_file(request, "logos/agency.txt", document_root=settings.MEDIA_ROOT)
    assert response.status_code == 200


def test_every_site_file_url_reaches_the_checked_view(world):
    """The URLs the pages and the API print for site files (FieldFile.url) resolve to the
    checked view, not to a file server."""
    for media in world.media.values():
        assert resolve(media.file.url).func is site_media_file


def test_site_media_file_refuses_odd_names_and_missing_files(world):
    request = RequestFactory().get("/media/sites/x")
    request.user = world.users["staff"]
    document = world.media["draft_a_document"].file.name.removeprefix("sites/")
    for name in (f"./{document}", f"x/../{document}", "../secret", ""):
        with pytest.raises(Http404):
            site_media_file(request, name)
    world.media["draft_a_document"].file.storage.delete(world.media["draft_a_document"].file.name)
    with pytest.raises(Http404):
        site_media_file(request, document)


# --- the API permission -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "site", "may"),
    [
        ("anonymous", "draft_a", False),
        ("investor", "published_a", False),
        ("partner_a", "draft_a", True),
        ("partner_a", "published_a", True),
        ("partner_a", "draft_b", False),
        ("partner_b", "draft_a", False),
        ("staff", "draft_b", True),
    ],
)
def test_can_edit_site_follows_editable_by(world, role, site, may):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    permission = CanEditSite()
    user = world.users[role] or AnonymousUser()
    unsafe = Request(APIRequestFactory().patch("/"))
    unsafe.user = user
    safe = Request(APIRequestFactory().get("/"))
    safe.user = user
    obj = getattr(world, site)
    allowed = permission.has_permission(unsafe, None) and permission.has_object_permission(
        unsafe, None, obj
    )
    assert allowed is may
    assert permission.has_permission(safe, None)
    assert permission.has_object_permission(safe, None, obj)


# --- the admin: staff only; scoped all the same -----------------------------------------------


def test_a_partner_given_admin_access_still_sees_and_changes_only_its_own_sites(world):
    """Defence in depth: the admin is for staff, but should a partner get is_staff and the
    site permissions, SiteAdmin still scopes through editable_by."""
    partner = world.users["partner_a"]
    assert partner is not None
    partner.is_staff = True
    partner.save()
    partner.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="properties",
            content_type__model__in=["site", "sitemedia", "sitechange"],
        )
    )
    client = Client()
    client.force_login(partner)
    changelist = client.get(reverse("admin:properties_site_changelist")).content.decode()
    assert DRAFT_A in changelist
    assert DRAFT_B not in changelist
    own = client.get(reverse("admin:properties_site_change", args=[world.draft_a.pk]))
    assert own.status_code == 200
    for name in ("admin:properties_site_change", "admin:properties_site_delete"):
        other = client.get(reverse(name, args=[world.draft_b.pk]))
        assert other.status_code == 302  # "does not exist": back to the admin index
        assert DRAFT_B not in other.content.decode()
    media = client.get(reverse("admin:properties_sitemedia_changelist")).content.decode()
    assert DRAFT_A in media  # its caption
    b_media = SiteMedia.objects.create(
        site=world.draft_b, kind=SiteMedia.Kind.PHOTO, file=ContentFile(b"x", name="b.png")
    )
    assert (
        "b.png" not in client.get(reverse("admin:properties_sitemedia_changelist")).content.decode()
    )
    other_media = client.get(reverse("admin:properties_sitemedia_change", args=[b_media.pk]))
    assert other_media.status_code == 302
    history = client.get(reverse("admin:properties_sitechange_changelist")).content.decode()
    assert DRAFT_B not in history


def test_partners_and_investors_have_no_admin(world):
    for role in ("investor", "partner_a"):
        client = Client()
        client.force_login(world.users[role])
        response = client.get(reverse("admin:properties_site_changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
