"""The partner workspace's bulk upload (HTML): the file is checked (dry run, a row-by-row
report) and then committed.

Partners and agency staff only, like the rest of the workspace (partner_views).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .models import PartnerOrganisation
from .partner_forms import UploadForm
from .partner_views import _user, partner_or_staff_required
from .services.upload import (
    REJECTED,
    SUFFIXES,
    UploadError,
    UploadRejected,
    UploadReport,
    sites_upload_commit,
    sites_upload_plan,
)

UPLOAD_SESSION_KEY = "partner_upload"
UPLOAD_DIR = "uploads"


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
