"""The partner workspace's bulk upload (HTML): a file is stored and checked in the
background (a dry run with a progress bar the page polls); its report offers the mapping
step (columns and values the app did not understand), the commit of all or only the valid
rows, the rejected rows as a file to fix, and the choice for sites not in this upload.
The organisation's mappings have a page of their own.

Partners and agency staff only, like the rest of the workspace (partner_views); a partner
sees only their organisation's uploads (another's is a 404).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import PartnerOrganisation
from accounts.permissions import gated_user, partner_or_staff_required

from .models import UploadJob, UploadMapping
from .partner_forms import UploadForm
from .partner_upload_forms import CommitForm, MappingForm, field_codes, site_field_label
from .services.upload import (
    UploadError,
    upload_mapping_delete,
    upload_mapping_set,
    upload_rejected_rows_file,
)
from .services.upload.report import ACTIONS, action_label
from .services.upload_jobs import (
    UploadBusy,
    upload_job_commit,
    upload_job_discard,
    upload_job_path,
    upload_job_recheck,
    upload_job_report,
    upload_job_start,
)

ROWS_PER_PAGE = 100


def action_labels() -> dict[str, str]:
    return {action: action_label(action) for action in ACTIONS}


def column_status_labels() -> dict[str, str]:
    return {
        "used": _("read as"),
        "geometry": _("geometry"),
        "mapped": _("read as (your mapping)"),
        "not_used": _("not used"),
    }


def _job_or_404(request: HttpRequest, pk: int) -> UploadJob:
    return get_object_or_404(
        UploadJob.objects.visible_to(gated_user(request)).select_related("organisation", "user"),
        pk=pk,
    )


def _organisation(request: HttpRequest, form: UploadForm) -> PartnerOrganisation | None:
    user = gated_user(request)
    if user.is_agency_staff:
        return form.cleaned_data.get("organisation")
    return user.organisation


@partner_or_staff_required
@require_http_methods(["GET", "POST"])
def partner_upload(request: HttpRequest) -> HttpResponse:
    """The upload form; the file is stored and its dry run queued, then the job's page."""
    user = gated_user(request)
    form = UploadForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        organisation = _organisation(request, form)
        if organisation is None:
            form.add_error(None, _("Your account belongs to no partner organisation."))
        else:
            try:
                job = upload_job_start(
                    organisation=organisation,
                    upload=form.cleaned_data["file"],
                    acting_user=user,
                    declared_srid=form.cleaned_data["declared_srid"],
                    source_name=form.cleaned_data.get("source_name") or "",
                )
            except (UploadBusy, UploadError) as error:
                form.add_error(None, str(error))
            else:
                return redirect("partner_upload_job", pk=job.pk)
    jobs = UploadJob.objects.visible_to(user).select_related("organisation", "user")
    return render(
        request,
        "partner/upload.html",
        {"form": form, "jobs": jobs.defer("report")[:10], "action_labels": action_labels()},
    )


def _rows_filter(request: HttpRequest, counts: dict[str, int]) -> str:
    """The action whose rows are listed: asked for, else the rejected, else the changed."""
    asked = request.GET.get("rows", "")
    if asked in ACTIONS or asked == "all":
        return asked
    for action in ("reject", "update"):
        if counts.get(action):
            return action
    return "all"


def _report_context(request: HttpRequest, job: UploadJob) -> dict[str, Any]:
    counts = job.counts or {}
    shown = _rows_filter(request, counts)
    actions = ACTIONS if shown == "all" else (shown,)
    total = sum(counts.get(action, 0) for action in actions)
    page = Paginator(range(total), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    report = upload_job_report(
        job,
        actions=() if shown == "all" else actions,
        offset=page.start_index() - 1 if total else 0,
        limit=ROWS_PER_PAGE,
    )
    context: dict[str, Any] = {"report": report, "page": page, "shown": shown}
    if report is None:
        return context
    labels = action_labels()
    context["filters"] = [
        (key, label, sum(counts.get(a, 0) for a in ACTIONS) if key == "all" else counts.get(key, 0))
        for key, label in [("all", _("all rows")), *labels.items()]
    ]
    context["valid"] = sum(counts.get(action, 0) for action in ("create", "update", "unchanged"))
    if not job.committed:
        context["mapping_form"] = MappingForm(report=report, revision=job.revision)
        context["commit_form"] = CommitForm(counts=counts, missing=report.missing)
    return context


@partner_or_staff_required
@require_GET
def partner_upload_job(request: HttpRequest, pk: int) -> HttpResponse:
    """An upload: its progress while the worker has it, then its report."""
    job = _job_or_404(request, pk)
    context: dict[str, Any] = {
        "job": job,
        "action_labels": action_labels(),
        "column_status_labels": column_status_labels(),
        "file_kept": upload_job_path(job) is not None,
    }
    if job.status == UploadJob.Status.DONE:
        context.update(_report_context(request, job))
    return render(request, "partner/upload_job.html", context)


@partner_or_staff_required
@require_GET
def partner_upload_job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """How far the worker is (polled by the job's page)."""
    job = _job_or_404(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "stage": job.stage,
            "stage_label": job.get_stage_display() if job.stage else "",
            "read": [job.rows_read, job.rows_total],
            "checked": [job.rows_checked, job.checked_total],
            "written": [job.rows_written, job.written_total],
            "finished": not job.is_active,
        }
    )


@partner_or_staff_required
@require_POST
def partner_upload_job_mappings(request: HttpRequest, pk: int) -> HttpResponse:
    """Keeps the mappings chosen on the report for the organisation and checks the file again."""
    job = _job_or_404(request, pk)
    user = gated_user(request)
    report = upload_job_report(job, limit=0) if job.status == UploadJob.Status.DONE else None
    if report is None or job.committed:
        messages.error(request, _("This upload cannot be changed any more."))
        return redirect("partner_upload_job", pk=job.pk)
    form = MappingForm(request.POST, report=report, revision=job.revision)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("partner_upload_job", pk=job.pk)
    try:
        with transaction.atomic():
            for mapping in form.mappings():
                upload_mapping_set(organisation=job.organisation, acting_user=user, **mapping)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("partner_upload_job", pk=job.pk)
    try:
        upload_job_recheck(job=job, acting_user=user)
    except (UploadBusy, UploadError) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Your choices are kept for your organisation's uploads; the file is checked again."),
        )
    return redirect("partner_upload_job", pk=job.pk)


@partner_or_staff_required
@require_POST
def partner_upload_job_commit(request: HttpRequest, pk: int) -> HttpResponse:
    """Writes the checked file: all rows, or the valid ones after the confirmation."""
    job = _job_or_404(request, pk)
    report = upload_job_report(job, limit=0) if job.status == UploadJob.Status.DONE else None
    if report is None or job.committed:
        messages.error(request, _("This upload cannot be committed."))
        return redirect("partner_upload_job", pk=job.pk)
    form = CommitForm(request.POST, counts=job.counts, missing=report.missing)
    if not form.is_valid():
        context = {
            "job": job,
            "action_labels": action_labels(),
            "column_status_labels": column_status_labels(),
            "file_kept": upload_job_path(job) is not None,
            **_report_context(request, job),
            "commit_form": form,
        }
        return render(request, "partner/upload_job.html", context, status=400)
    try:
        upload_job_commit(
            job=job,
            acting_user=gated_user(request),
            valid_only=bool(form.rejected),
            withdraw_missing=form.withdraw_missing(),
        )
    except (UploadBusy, UploadError) as error:
        messages.error(request, str(error))
    return redirect("partner_upload_job", pk=job.pk)


@partner_or_staff_required
@require_POST
def partner_upload_job_discard(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    try:
        upload_job_discard(job=job, acting_user=gated_user(request))
    except UploadBusy as error:
        messages.error(request, str(error))
        return redirect("partner_upload_job", pk=job.pk)
    messages.success(request, _("The upload and its file were deleted."))
    return redirect("partner_upload")


@partner_or_staff_required
@require_GET
def partner_upload_job_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows in the uploaded format, with an error column, to fix and upload."""
    job = _job_or_404(request, pk)
    path = upload_job_path(job)
    report = upload_job_report(job, actions=["reject"]) if path is not None else None
    if path is None or report is None or not job.counts.get("reject"):
        messages.error(request, _("There are no rejected rows to download."))
        return redirect("partner_upload_job", pk=job.pk)
    try:
        content, content_type, filename = upload_rejected_rows_file(
            path=path, report=report, filename=job.filename
        )
    except UploadError as error:
        messages.error(request, str(error))
        return redirect("partner_upload_job", pk=job.pk)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@partner_or_staff_required
@require_GET
def partner_upload_job_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole report as CSV (semicolons, UTF-8 with BOM for Excel), in the page's language."""
    job = _job_or_404(request, pk)
    report = upload_job_report(job)
    if report is None:
        messages.error(request, _("This upload has no report yet."))
        return redirect("partner_upload_job", pk=job.pk)
    stem = slugify(Path(job.filename).stem)[:60] or "upload"
    response = HttpResponse("\ufeff" + report.as_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"report-{stem}.csv")
    return response


# --- the organisation's mappings -----------------------------------------------------------


@partner_or_staff_required
@require_GET
def partner_upload_mappings(request: HttpRequest) -> HttpResponse:
    user = gated_user(request)
    mappings = UploadMapping.objects.select_related("organisation", "created_by")
    if not user.is_agency_staff:
        mappings = mappings.filter(organisation_id=user.organisation_id)
    entries = []
    for mapping in mappings.order_by("organisation__name", "kind", "field", "source_key"):
        codes = dict(field_codes(mapping.field)) if mapping.kind == "value" else {}
        entries.append(
            {
                "mapping": mapping,
                "field_label": site_field_label(mapping.field) if mapping.field else "",
                "value_label": codes.get(mapping.value, mapping.value),
            }
        )
    return render(
        request,
        "partner/upload_mappings.html",
        {"entries": entries, "show_organisation": user.is_agency_staff},
    )


@partner_or_staff_required
@require_POST
def partner_upload_mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = gated_user(request)
    mappings = UploadMapping.objects.all()
    if not user.is_agency_staff:
        mappings = mappings.filter(organisation_id=user.organisation_id)
    mapping = get_object_or_404(mappings, pk=pk)
    upload_mapping_delete(mapping=mapping, acting_user=user)
    messages.success(
        request, _("The mapping of “%(source)s” was deleted.") % {"source": mapping.source}
    )
    return redirect(reverse("partner_upload_mappings"))
