"""The partner workspace (HTML): the dashboard of a partner's sites, the site editor with
the geometry drawn on the map, a site's history and the bulk upload.

Partners and agency staff only (investors get a 403 page); every site is looked up through
`Site.objects.editable_by(user)`, so another municipality's site is a 404.
"""

from __future__ import annotations

import datetime
import functools
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from geodata.models import Municipality

from .map_config import small_map_config
from .models import PartnerOrganisation, Site, SiteChange, SiteMedia
from .partner_forms import SiteForm, UploadForm
from .presentation import site_last_verified
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
from .services.upload import (
    REJECTED,
    SUFFIXES,
    UploadError,
    UploadRejected,
    UploadReport,
    sites_upload_commit,
    sites_upload_plan,
)

SITES_PER_PAGE = 25
UPLOAD_SESSION_KEY = "partner_upload"
UPLOAD_DIR = "uploads"

ViewFunction = Callable[..., HttpResponse]


# --- access --------------------------------------------------------------------------------


def partner_or_staff_required(view: ViewFunction) -> ViewFunction:
    """Logged in (else to the login page), and a partner or agency staff (else 403)."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not (user.is_partner or user.is_agency_staff):
            return render(request, "partner/403.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # partner_or_staff_required let none through
        raise PermissionDenied
    return request.user


def _editable_site_or_404(request: HttpRequest, pk: int) -> Site:
    return get_object_or_404(
        Site.objects.editable_by(_user(request)).select_related("municipality", "organisation"),
        pk=pk,
    )


# --- dashboard -----------------------------------------------------------------------------


def stale_after_days() -> int:
    return getattr(settings, "SITE_STALE_AFTER_DAYS", 180)


def _freshness(site: Site, cutoff: datetime.datetime) -> dict[str, Any]:
    """When the site was last confirmed (or else created) and whether that is too long ago."""
    reference = site.last_verified_at or site.created_at
    return {"text": site_last_verified(site), "stale": reference < cutoff}


# The buttons of the transitions (to status -> label); sending back has its own form. Lazy:
# a label translated at import would be in the default language on every page.
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


@partner_or_staff_required
@require_GET
def partner_dashboard(request: HttpRequest) -> HttpResponse:
    """The partner's sites (staff: all, by municipality) by status, with their freshness and
    what can be done with each."""
    user = _user(request)
    sites = Site.objects.editable_by(user)
    municipalities: list[Municipality] = []
    municipality_id = request.GET.get("municipality", "")
    if user.is_agency_staff:
        municipalities = list(Municipality.objects.order_by("name").only("pk", "name"))
        if municipality_id.isdigit():
            sites = sites.filter(municipality_id=int(municipality_id))
        else:
            municipality_id = ""
    counts = dict(sites.order_by().values_list("status").annotate(n=Count("id")))
    status = request.GET.get("status", "")
    if status in Site.Status.values:
        sites = sites.filter(status=status)
    else:
        status = ""
    stale_only = request.GET.get("stale") == "1"
    cutoff = timezone.now() - datetime.timedelta(days=stale_after_days())
    if stale_only:
        sites = sites.filter(_stale_q(cutoff))
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
    return render(
        request,
        "partner/dashboard.html",
        {
            "rows": rows,
            "page": page,
            "status": status,
            "status_tabs": status_tabs,
            "filter_query": filter_query.urlencode(),
            "query": query.urlencode(),
            "municipalities": municipalities,
            "municipality_id": municipality_id,
            "stale_only": stale_only,
            "stale_after_days": stale_after_days(),
            "is_staff": user.is_agency_staff,
        },
    )


def _stale_q(cutoff: datetime.datetime) -> Q:
    """Sites last confirmed (or, never confirmed, created) before `cutoff`."""
    return Q(last_verified_at__lt=cutoff) | Q(last_verified_at=None, created_at__lt=cutoff)


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
    user = _user(request)
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


def _editor_config(form: SiteForm) -> dict[str, Any]:
    return small_map_config(
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
    user = _user(request)
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
        "editor_config": _editor_config(form),
    }
    return render(request, "partner/site_form.html", context, status=200)


@partner_or_staff_required
@require_http_methods(["GET", "POST"])
def partner_site_new(request: HttpRequest) -> HttpResponse:
    """A new site (a draft) of one of the partner's municipalities."""
    user = _user(request)
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


# --- bulk upload ---------------------------------------------------------------------------


def _upload_root() -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR


def _store_upload(upload) -> tuple[str, Path]:
    """Writes the uploaded file under a name the server chose: MEDIA_ROOT/uploads/<uuid>.<ext>."""
    suffix = "." + upload.name.rsplit(".", 1)[-1].lower()
    if suffix not in SUFFIXES:  # UploadForm.clean_file refused it already
        raise UploadError(_("Files of this type are not accepted."))
    token = uuid.uuid4().hex
    root = _upload_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{token}{suffix}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return token, path


def _pending_upload(request: HttpRequest) -> dict[str, Any] | None:
    """The upload checked in this session (if its file is still there)."""
    pending = request.session.get(UPLOAD_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    path = _upload_root() / pending.get("stored", "")
    if not pending.get("stored") or path.parent != _upload_root() or not path.is_file():
        return None
    return {**pending, "path": path}


def _discard_upload(request: HttpRequest) -> None:
    pending = _pending_upload(request)
    if pending is not None:
        pending["path"].unlink(missing_ok=True)
    request.session.pop(UPLOAD_SESSION_KEY, None)


def _upload_organisation(request: HttpRequest, organisation_id: int | None):
    user = _user(request)
    if user.is_agency_staff:
        if organisation_id is None:
            return None
        return PartnerOrganisation.objects.filter(pk=organisation_id).first()
    return user.organisation


def _plan_pending(request: HttpRequest, pending: dict[str, Any]) -> UploadReport:
    organisation = _upload_organisation(request, pending.get("organisation"))
    if organisation is None:
        raise UploadError(_("The organisation of this upload no longer exists."))
    return sites_upload_plan(
        path=pending["path"],
        organisation=organisation,
        acting_user=_user(request),
        declared_srid=pending.get("declared_srid"),
        filename=pending["filename"],
    )


def _upload_message(error: Exception, pending: dict[str, Any]) -> str:
    """The service's message about the stored file, naming the file as the user knows it
    (never the server's path)."""
    path = Path(pending["path"])
    return (
        str(error).replace(str(path), pending["filename"]).replace(path.name, pending["filename"])
    )


def _report_context(report: UploadReport) -> dict[str, Any]:
    return {
        "report": report,
        "counts": report.counts,
        "rejected": report.counts[REJECTED],
    }


@partner_or_staff_required
@require_http_methods(["GET", "POST"])
def partner_upload(request: HttpRequest) -> HttpResponse:
    """Bulk upload: "Check (dry run)" stores the file and shows the row-by-row report;
    "Commit" writes the checked file's sites (all or nothing)."""
    user = _user(request)
    context: dict[str, Any] = {"error": "", "report": None}
    if request.method == "POST" and "commit" in request.POST:
        pending = _pending_upload(request)
        if pending is None or request.POST.get("token") != pending.get("token"):
            context["error"] = _("There is no checked file to commit; check the file first.")
            form = UploadForm(user=user)
        else:
            organisation = _upload_organisation(request, pending.get("organisation"))
            try:
                if organisation is None:
                    raise UploadError(_("The organisation of this upload no longer exists."))
                report = sites_upload_commit(
                    path=pending["path"],
                    organisation=organisation,
                    acting_user=user,
                    declared_srid=pending.get("declared_srid"),
                    filename=pending["filename"],
                )
            except UploadRejected as rejected:
                context.update(_report_context(rejected.report))
                context["error"] = _(
                    "Nothing was written: %(count)s rows are rejected. Correct the file and "
                    "check it again."
                ) % {"count": rejected.report.counts[REJECTED]}
                context["pending"] = pending
                form = UploadForm(user=user)
            except UploadError as error:
                _discard_upload(request)
                context["error"] = _upload_message(error, pending)
                form = UploadForm(user=user)
            else:
                _discard_upload(request)
                counts = report.counts
                messages.success(
                    request,
                    _(
                        "%(filename)s: %(create)s sites created, %(update)s updated, "
                        "%(unchanged)s unchanged. New sites are drafts: submit them when ready."
                    )
                    % {"filename": report.filename, **counts},
                )
                return redirect("partner_dashboard")
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            _discard_upload(request)
            token, path = _store_upload(form.cleaned_data["file"])
            organisation = form.cleaned_data.get("organisation")
            pending = {
                "token": token,
                "stored": path.name,
                "filename": Path(form.cleaned_data["file"].name).name[:200],
                "declared_srid": form.cleaned_data["declared_srid"],
                "organisation": organisation.pk if organisation else None,
            }
            request.session[UPLOAD_SESSION_KEY] = pending
            try:
                report = _plan_pending(request, {**pending, "path": path})
            except UploadError as error:
                _discard_upload(request)
                context["error"] = _upload_message(error, {**pending, "path": path})
            else:
                context.update(_report_context(report))
                context["pending"] = pending
    else:
        form = UploadForm(user=user)
    context["form"] = form
    return render(request, "partner/upload.html", context)


@partner_or_staff_required
@require_GET
def partner_upload_report(request: HttpRequest) -> HttpResponse:
    """The checked file's report as CSV (generated again from the stored file)."""
    pending = _pending_upload(request)
    if pending is None:
        messages.error(request, _("There is no checked file; check the file first."))
        return redirect("partner_upload")
    try:
        report = _plan_pending(request, pending)
    except UploadError as error:
        messages.error(request, _upload_message(error, pending))
        return redirect("partner_upload")
    stem = slugify(Path(pending["filename"]).stem)[:60] or "upload"
    response = HttpResponse("\ufeff" + report.as_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{stem}.csv"'
    return response
