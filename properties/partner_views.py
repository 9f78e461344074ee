"""The partner workspace (HTML): the dashboard of a partner's sites, the site editor with
the geometry drawn on the map, a site's history (the bulk upload is in partner_upload_views).

Partners and agency staff only (investors get a 403 page); every site is looked up through
`Site.objects.editable_by(user)`, so another municipality's site is a 404.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import gated_user, partner_or_staff_required
from geodata.models import Municipality

from .basemaps import EDITOR_BASEMAPS
from .map_config import bounds_of, small_map_config, url_template
from .models import Site, SiteChange, SiteMedia
from .partner_forms import SiteForm
from .presentation import site_last_verified
from .querysets import SiteQuerySet, stale_before
from .services.bulk import BULK_ACTIONS, MAX_BULK_SITES, BulkResult, sites_bulk_action
from .services.media import media_thumbnail_url, site_media_add
from .services.moderation import (
    site_allowed_transitions,
    site_mark,
    site_publish,
    site_send_back,
    site_submit,
    site_verify,
)
from .services.sites import SiteConflict, site_field_label, site_save

SITES_PER_PAGE = 25
# A bulk action's summary names this many skipped sites per reason, then counts the rest.
BULK_TITLES_SHOWN = 5

# --- access --------------------------------------------------------------------------------


def _editable_site_or_404(request: HttpRequest, pk: int) -> Site:
    return get_object_or_404(
        Site.objects.editable_by(gated_user(request)).select_related(
            "municipality", "organisation"
        ),
        pk=pk,
    )


# --- dashboard -----------------------------------------------------------------------------


def stale_after_days() -> int:
    return getattr(settings, "SITE_STALE_AFTER_DAYS", 180)


def _freshness(site: Site, cutoff: datetime.datetime) -> dict[str, Any]:
    """When the site was last confirmed (or else created) and whether that is too long ago."""
    reference = site.last_verified_at or site.created_at
    return {"text": site_last_verified(site), "stale": reference < cutoff}


# The buttons of the transitions (to status -> label); sending back has its own form.
# Lazy: translated when a page is rendered, in its language.
ACTION_LABELS = {
    Site.Status.SUBMITTED: gettext_lazy("Submit for publication"),
    Site.Status.PUBLISHED: gettext_lazy("Publish"),
    Site.Status.RESERVED: gettext_lazy("Mark reserved"),
    Site.Status.SOLD: gettext_lazy("Mark sold"),
    Site.Status.WITHDRAWN: gettext_lazy("Mark withdrawn"),
}


def _row_actions(site: Site, user: User) -> list[dict[str, str]]:
    actions = []
    for transition in site_allowed_transitions(site=site, user=user):
        if transition.action == SiteChange.Action.SENT_BACK:
            actions.append({"action": "send_back", "target": transition.target, "label": ""})
        elif transition.target == Site.Status.SUBMITTED:
            actions.append({"action": "submit", "target": transition.target, "label": ""})
        elif transition.source == Site.Status.SUBMITTED:
            actions.append({"action": "publish", "target": transition.target, "label": ""})
        else:
            actions.append({"action": "mark", "target": transition.target, "label": ""})
    for entry in actions:
        if entry["action"] == "send_back":
            entry["label"] = _("Send back")
        elif entry["action"] == "mark" and entry["target"] == Site.Status.PUBLISHED:
            entry["label"] = _("Mark available again")
        else:
            entry["label"] = str(ACTION_LABELS[Site.Status(entry["target"])])
    return actions


@dataclass
class DashboardFilter:
    """What the dashboard's list is narrowed to; the bulk actions' "all filtered" re-applies
    it on the server, so the selection is exactly what the partner saw."""

    municipality_id: str = ""
    status: str = ""
    stale_only: bool = False
    search: str = ""

    @classmethod
    def from_data(cls, data: QueryDict, user: User) -> DashboardFilter:
        municipality_id = data.get("municipality", "")
        status = data.get("status", "")
        return cls(
            municipality_id=(
                municipality_id if user.is_agency_staff and municipality_id.isdigit() else ""
            ),
            status=status if status in Site.Status.values else "",
            stale_only=data.get("stale") == "1",
            search=" ".join(data.get("q", "").split())[:100],
        )

    def apply(self, sites: SiteQuerySet, *, with_status: bool = True) -> SiteQuerySet:
        if self.municipality_id:
            sites = sites.filter(municipality_id=int(self.municipality_id))
        if self.search:
            sites = sites.filter(
                Q(title__icontains=self.search) | Q(partner_ref__icontains=self.search)
            )
        if self.stale_only:
            sites = sites.stale()
        if with_status and self.status:
            sites = sites.filter(status=self.status)
        return sites

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The filter as (name, value) pairs, for the bulk form's hidden inputs."""
        pairs = [
            ("municipality", self.municipality_id),
            ("status", self.status),
            ("stale", "1" if self.stale_only else ""),
            ("q", self.search),
        ]
        return [(name, value) for name, value in pairs if value]


# The inventory map shows at most this many sites (the newest changed first).
INVENTORY_MAP_LIMIT = 2000


def _inventory_geojson(sites: SiteQuerySet) -> dict[str, Any]:
    """The filtered sites as a GeoJSON FeatureCollection in EPSG:4326, built by PostGIS."""
    rows = (
        sites.order_by("-updated_at", "-id")
        .annotate(geojson=AsGeoJSON(Transform("geom", 4326), precision=6))
        .values_list("pk", "title", "status", "partner_ref", "geojson")[:INVENTORY_MAP_LIMIT]
    )
    labels = dict(Site.Status.choices)
    edit_url = url_template("partner_site_edit", pk=7770001)  # reversed once, not per site
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(geojson),
                "properties": {
                    "id": pk,
                    "title": title,
                    "ref": partner_ref,
                    "status": status,
                    "statusLabel": str(labels.get(status, status)),
                    "url": edit_url.replace("{pk}", str(pk)),
                },
            }
            for pk, title, status, partner_ref, geojson in rows
            if geojson
        ],
    }


@partner_or_staff_required
@require_GET
def partner_dashboard(request: HttpRequest) -> HttpResponse:
    """The partner's sites (staff: all, by municipality) by status, with their freshness and
    what can be done with each; a search by title or the partner's id, a map of the
    filtered inventory, and bulk actions on a selection or on all filtered sites."""
    user = gated_user(request)
    municipalities: list[Municipality] = []
    if user.is_agency_staff:
        municipalities = list(Municipality.objects.order_by("name").only("pk", "name"))
    selection = DashboardFilter.from_data(request.GET, user)
    unfiltered_by_status = selection.apply(Site.objects.editable_by(user), with_status=False)
    counts = dict(unfiltered_by_status.order_by().values_list("status").annotate(n=Count("id")))
    sites = selection.apply(Site.objects.editable_by(user))
    cutoff = stale_before()
    page = Paginator(
        sites.select_related("municipality", "organisation").order_by("-updated_at", "-id"),
        SITES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    rows = [
        {"site": site, "freshness": _freshness(site, cutoff), "actions": _row_actions(site, user)}
        for site in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    status_tabs = [
        {"value": "", "label": _("All"), "count": sum(counts.values())},
        *(
            {"value": value, "label": label, "count": counts.get(value, 0)}
            for value, label in Site.Status.choices
        ),
    ]
    filter_query = request.GET.copy()
    filter_query.pop("page", None)
    filter_query.pop("status", None)
    inventory = _inventory_geojson(sites)
    return render(
        request,
        "partner/dashboard.html",
        {
            "rows": rows,
            "page": page,
            "status": selection.status,
            "status_tabs": status_tabs,
            "filter_query": filter_query.urlencode(),
            "query": query.urlencode(),
            "municipalities": municipalities,
            "municipality_id": selection.municipality_id,
            "stale_only": selection.stale_only,
            "search": selection.search,
            "stale_after_days": stale_after_days(),
            "is_staff": user.is_agency_staff,
            "bulk_actions": [(key, label) for key, (label, _call) in BULK_ACTIONS.items()],
            "bulk_filter": selection.hidden_fields(),
            "inventory": inventory,
            "inventory_truncated": page.paginator.count > len(inventory["features"]),
            "inventory_limit": INVENTORY_MAP_LIMIT,
            "inventory_map_config": small_map_config(
                messages={"edit": _("Edit"), "empty": _("No site with a geometry here.")}
            ),
        },
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("partner_dashboard")


@partner_or_staff_required
@require_POST
def partner_site_action(request: HttpRequest, pk: int) -> HttpResponse:
    """One workflow step from the dashboard: submit, publish, send back (with a reason),
    mark, or confirm the site as still current."""
    user = gated_user(request)
    site = _editable_site_or_404(request, pk)
    action = request.POST.get("action", "")
    try:
        if action == "submit":
            site_submit(site=site, acting_user=user)
            done = _("“%(title)s” was submitted for publication.")
        elif action == "publish":
            site_publish(site=site, acting_user=user)
            done = _("“%(title)s” is published.")
        elif action == "send_back":
            site_send_back(site=site, acting_user=user, reason=request.POST.get("reason", ""))
            done = _("“%(title)s” was sent back to its partner.")
        elif action == "mark":
            site_mark(site=site, acting_user=user, status=request.POST.get("status", ""))
            done = _("“%(title)s” is now: %(status)s.")
        elif action == "verify":
            site_verify(site=site, acting_user=user)
            done = _("“%(title)s” is confirmed as current.")
        else:
            messages.error(request, _("Unknown action."))
            return redirect(_next_url(request))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"title": site.title, "status": site.get_status_display()})
    return redirect(_next_url(request))


def _bulk_summary(request: HttpRequest, result: BulkResult) -> None:
    """One message with the count done, one naming what was skipped and why."""
    done = len(result.done)
    if result.action == "submit":
        text = ngettext(
            "%(count)s site was submitted for publication.",
            "%(count)s sites were submitted for publication.",
            done,
        )
    elif result.action == "verify":
        text = ngettext(
            "%(count)s site is confirmed as current.",
            "%(count)s sites are confirmed as current.",
            done,
        )
    else:
        text = ngettext("%(count)s site was withdrawn.", "%(count)s sites were withdrawn.", done)
    (messages.success if done else messages.info)(request, text % {"count": done})
    if not result.skipped:
        return
    parts = []
    for reason, skips in result.reasons().items():
        titles = [f"“{skip.title}”" for skip in skips if skip.title]
        shown = ", ".join(titles[:BULK_TITLES_SHOWN])
        if len(titles) > BULK_TITLES_SHOWN:
            shown += " " + _("and %(count)s more") % {"count": len(titles) - BULK_TITLES_SHOWN}
        part = f"{reason} ({len(skips)})"
        parts.append(f"{part}: {shown}" if shown else part)
    messages.warning(
        request,
        ngettext(
            "%(count)s site was skipped: %(reasons)s.",
            "%(count)s sites were skipped: %(reasons)s.",
            len(result.skipped),
        )
        % {"count": len(result.skipped), "reasons": "; ".join(parts)},
    )


@partner_or_staff_required
@require_POST
def partner_sites_bulk(request: HttpRequest) -> HttpResponse:
    """One workflow step for the selected sites, or for every site the dashboard's filter
    (sent along) finds: submit, mark still current, or withdraw. Each site goes through the
    one-site service with its own permission check; the summary counts what was done and
    says what was skipped and why."""
    user = gated_user(request)
    action = request.POST.get("action", "")
    if request.POST.get("scope") == "filtered":
        selection = DashboardFilter.from_data(request.POST, user)
        site_ids = list(
            selection.apply(Site.objects.editable_by(user))
            .order_by("-updated_at", "-id")
            .values_list("pk", flat=True)[: MAX_BULK_SITES + 1]
        )
    else:
        raw = request.POST.getlist("site")
        site_ids = [int(value) for value in raw if value.isdigit()]
        if len(site_ids) != len(raw):
            messages.error(request, _("The selection is not valid; select the sites again."))
            return redirect(_next_url(request))
    if not site_ids:
        messages.error(request, _("Select at least one site."))
        return redirect(_next_url(request))
    try:
        result = sites_bulk_action(site_ids=site_ids, action=action, acting_user=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _bulk_summary(request, result)
    return redirect(_next_url(request))


# --- the site editor -------------------------------------------------------------------


def _geometry_geojson(site: Site) -> dict | None:
    """The site's geometry in EPSG:4326 (transformed by PostGIS)."""
    if site.pk is None:
        return None
    text = (
        Site.objects.filter(pk=site.pk)
        .annotate(geojson=AsGeoJSON(Transform("geom", 4326), precision=7))
        .values_list("geojson", flat=True)
        .get()
    )
    return json.loads(text)


def _editor_config(form: SiteForm, user: User) -> dict[str, Any]:
    """The editor's map opens on the partner's own municipalities (staff: the region) and
    offers the aerial image and the parcels first when they are configured."""
    own = Municipality.objects.none()
    if user.organisation_id is not None:
        own = Municipality.objects.filter(partner_organisations=user.organisation_id)
    return small_map_config(
        startBounds=bounds_of(own),
        preferredBasemaps=EDITOR_BASEMAPS,
        inputId=form["geometry"].id_for_label,
        kindId=form["kind"].id_for_label,
        messages={
            "drawPolygonHint": _(
                "Click on the map to set the corners; click the first corner to finish."
            ),
            "markerHint": _("Click on the map where the premises are."),
            "editHint": _(
                "Drag the corners to change the shape; click “Edit shape” again when done."
            ),
            "noGeometry": _("Nothing drawn yet."),
            "polygon": _("Drawn: a polygon of %(area)s m²."),
            "point": _("Drawn: a marker."),
        },
    )


def _history_value_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict) and "area_m2" in value:
        return _("%(type)s, %(area)s m²") % {
            "type": value.get("type", ""),
            "area": value["area_m2"],
        }
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def _field_value_text(name: str, value: Any) -> str:
    """A value from the history as people read it: choices by their label."""
    try:
        field = Site._meta.get_field(name)
    except FieldDoesNotExist:
        return _history_value_text(value)
    choices = dict(getattr(field, "flatchoices", None) or ())
    if isinstance(value, str) and value in choices:
        return str(choices[value])
    return _history_value_text(value)


def _conflict_rows(conflict: SiteConflict) -> list[dict[str, Any]]:
    return [
        {
            "label": change.label,
            "before": _field_value_text(change.field, change.before),
            "after": _field_value_text(change.field, change.after),
            "who": change.changed_by,
            "when": change.changed_at,
        }
        for change in conflict.changes
    ]


def _apply_errors(form: SiteForm, error: ValidationError) -> None:
    """Puts a service's ValidationError on the form: `geom` on the map's field, fields the
    form does not have on the form as a whole."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = "geometry" if name in ("geom", "municipality") else name
        form.add_error(
            target if target in form.fields and target != NON_FIELD_ERRORS else None, errors
        )


def _site_editor(request: HttpRequest, site: Site) -> HttpResponse:
    user = gated_user(request)
    creating = site.pk is None
    conflict: SiteConflict | None = None
    if request.method == "POST":
        form = SiteForm(request.POST, request.FILES, instance=site, user=user)
        if form.is_valid():
            fields: dict[str, Any] = {"geom": form.geom}
            if "organisation" in form.fields:
                fields["organisation"] = form.cleaned_data["organisation"]
            try:
                with transaction.atomic():
                    saved = site_save(
                        site=form.instance,
                        acting_user=user,
                        fields=fields,
                        expected_version=None if creating else form.cleaned_data["version"],
                    )
                    for kind, name in (
                        (SiteMedia.Kind.PHOTO, "photos"),
                        (SiteMedia.Kind.DOCUMENT, "documents"),
                    ):
                        for upload in form.cleaned_data[name]:
                            site_media_add(site=saved, kind=kind, upload=upload, acting_user=user)
            except SiteConflict as error:
                conflict = error
                form.add_error(None, error)
                if creating:
                    site.pk = None
            except ValidationError as error:
                _apply_errors(form, error)
                if creating:
                    site.pk = None
            else:
                if creating:
                    messages.success(
                        request, _("“%(title)s” was created as a draft.") % {"title": saved.title}
                    )
                else:
                    messages.success(request, _("“%(title)s” was saved.") % {"title": saved.title})
                return redirect("partner_site_edit", pk=saved.pk)
    else:
        form = SiteForm(
            instance=site,
            user=user,
            initial={
                "geometry": json.dumps(_geometry_geojson(site)) if not creating else "",
                "version": site.version if not creating else None,
            },
        )
    media = list(site.media.all()) if not creating else []
    context = {
        "form": form,
        "site": site,
        "creating": creating,
        "conflict": conflict,
        "conflict_rows": _conflict_rows(conflict) if conflict else [],
        "photos": [
            {"media": item, "thumbnail": media_thumbnail_url(item) or item.file.url}
            for item in media
            if item.kind == SiteMedia.Kind.PHOTO
        ],
        "documents": [item for item in media if item.kind == SiteMedia.Kind.DOCUMENT],
        "editor_config": _editor_config(form, user),
    }
    return render(request, "partner/site_form.html", context, status=200)


@partner_or_staff_required
@require_http_methods(["GET", "POST"])
def partner_site_new(request: HttpRequest) -> HttpResponse:
    """A new site (a draft) of one of the partner's municipalities."""
    user = gated_user(request)
    return _site_editor(request, Site(organisation=user.organisation, status=Site.Status.DRAFT))


@partner_or_staff_required
@require_http_methods(["GET", "POST"])
def partner_site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's attributes, geometry, photos and documents; a stale form is a conflict."""
    return _site_editor(request, _editable_site_or_404(request, pk))


# --- history -------------------------------------------------------------------------------


@partner_or_staff_required
@require_GET
def partner_site_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed what and when, newest first."""
    site = _editable_site_or_404(request, pk)
    changes = Paginator(
        site.changes.select_related("changed_by").order_by("-changed_at", "-id"), 50
    ).get_page(request.GET.get("page"))
    entries = []
    for change in changes:
        who = change.changed_by
        entries.append(
            {
                "change": change,
                "who": (who.get_full_name() or who.username) if who else _("the system"),
                "fields": [
                    {
                        "label": site_field_label(name),
                        "before": _field_value_text(name, change.before.get(name)),
                        "after": _field_value_text(name, change.after.get(name)),
                    }
                    for name in change.changed_fields
                ],
            }
        )
    return render(
        request, "partner/site_history.html", {"site": site, "entries": entries, "page": changes}
    )
