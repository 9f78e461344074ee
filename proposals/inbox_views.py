"""Staff's inquiry inbox, an inquiry's page (status, assignee, notes, timeline, offers),
its personal data (export, erasure) and the dashboard. Staff only: everyone else gets a 404,
so not even the existence of an inquiry shows."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import gated_user, staff_required
from properties.presentation import area_short

from .charts import outline_path
from .inbox_forms import (
    ASSIGNEE_ME,
    ASSIGNEE_NOBODY,
    STATUS_ALL,
    STATUS_OPEN,
    AssignForm,
    EraseForm,
    InboxFilterForm,
    NoteForm,
    StatusForm,
    staff_users,
)
from .models import Inquiry, InquiryEvent, Offer, OfferSite
from .presentation import age_text, requirement_rows, requirement_summary
from .services.inbox import inquiry_assign, inquiry_note_add, inquiry_status_set
from .services.privacy import inquiry_erase, inquiry_export

INBOX_PAGE_SIZE = 25


def is_overdue(inquiry: Inquiry, now: datetime.datetime) -> bool:
    """Past the response-time target and still without an offer."""
    return (
        inquiry.status in (Inquiry.Status.NEW, Inquiry.Status.IN_PROGRESS)
        and inquiry.first_offer_sent_at is None
        and now - inquiry.received_at > datetime.timedelta(hours=settings.INQUIRY_RESPONSE_HOURS)
    )


# --- the inbox ----------------------------------------------------------------------------


@dataclass
class InboxRow:
    inquiry: Inquiry
    summary: str
    age: str
    overdue: bool


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Staff: every inquiry, filtered by status, assignee and overdue, newest first."""
    user = gated_user(request)
    staff = list(staff_users().order_by("first_name", "last_name", "username"))
    form = InboxFilterForm(request.GET or None, staff=staff)
    filters = form.filters()
    now = timezone.now()

    inquiries = Inquiry.objects.select_related("assignee").prefetch_related("municipalities")
    if filters["status"] == STATUS_OPEN:
        inquiries = inquiries.open()
    elif filters["status"] != STATUS_ALL:
        inquiries = inquiries.filter(status=filters["status"])
    if filters["assignee"] == ASSIGNEE_ME:
        inquiries = inquiries.filter(assignee=user)
    elif filters["assignee"] == ASSIGNEE_NOBODY:
        inquiries = inquiries.filter(assignee__isnull=True)
    elif filters["assignee"]:
        inquiries = inquiries.filter(assignee_id=int(filters["assignee"]))
    if filters["overdue"]:
        inquiries = inquiries.overdue(hours=settings.INQUIRY_RESPONSE_HOURS, now=now).filter(
            first_offer_sent_at__isnull=True
        )
    order = ("received_at", "id") if filters["sort"] == "oldest" else ("-received_at", "-id")
    page = Paginator(inquiries.order_by(*order), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        InboxRow(
            inquiry=inquiry,
            summary=requirement_summary(inquiry),
            age=age_text(now - inquiry.received_at),
            overdue=is_overdue(inquiry, now),
        )
        for inquiry in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "proposals/inbox.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "response_hours": settings.INQUIRY_RESPONSE_HOURS,
        },
    )


# --- one inquiry --------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    event: InquiryEvent
    who: str
    summary: str  # what happened, in words
    comment: str  # free text of a person (a note, the investor's comment, a reason)
    offer_url: str  # the offer the event concerns, if any


def _person(user: User | None) -> str:
    if user is None:
        return _("Investor or system")
    return user.get_full_name() or user.get_username()


MAIL_LABELS = {
    "confirmation": gettext_lazy("Confirmation to the investor"),
    "staff": gettext_lazy("Notification to staff"),
    "offer_link": gettext_lazy("Offer link to the investor"),
}


def _event_words(event: InquiryEvent, data: dict[str, Any]) -> tuple[str, str]:
    """(summary, comment) of one event: the stored codes turned into words."""
    kind, text = event.kind, event.text
    statuses = dict(Inquiry.Status.choices)
    responses = dict(OfferSite.Response.choices)
    if kind == InquiryEvent.Kind.STATUS:
        change = (
            f"{statuses.get(data.get('from', ''), '–')} → {statuses.get(data.get('to', ''), '–')}"
        )
        return change, text
    if kind == InquiryEvent.Kind.ASSIGNED:
        return f"{data.get('from') or '–'} → {data.get('to') or '–'}", ""
    if kind in (InquiryEvent.Kind.MAIL_SENT, InquiryEvent.Kind.MAIL_FAILED):
        label = MAIL_LABELS.get(str(data.get("mail", "")), _("E-mail"))
        address = data.get("to") or text
        summary = f"{label}: {address}" if address else str(label)
        return summary, text if kind == InquiryEvent.Kind.MAIL_FAILED else ""
    if kind == InquiryEvent.Kind.OFFER_CREATED:
        count = len(data.get("sites") or [])
        return (
            ngettext("%(title)s, %(count)s site", "%(title)s, %(count)s sites", count)
            % {"title": text, "count": count}
        ), ""
    if kind == InquiryEvent.Kind.LINK_CREATED:
        expires = data.get("expires_at")
        parsed = parse_datetime(expires) if isinstance(expires, str) else None
        until = date_format(timezone.localtime(parsed), "DATE_FORMAT") if parsed else "–"
        if data.get("sent"):
            return _("for %(email)s, valid until %(date)s, sent by e-mail") % {
                "email": text or "–",
                "date": until,
            }, ""
        return _("valid until %(date)s, not sent") % {"date": until}, ""
    if kind == InquiryEvent.Kind.LINK_OPENED:
        count = int(data.get("count") or 1)
        return ngettext("opened %(count)s time", "opened %(count)s times", count) % {
            "count": count
        }, ""
    if kind == InquiryEvent.Kind.RESPONSE:
        answer = responses.get(str(data.get("response", "")), "–")
        return f"{data.get('site_title') or '–'}: {answer}", text
    if kind == InquiryEvent.Kind.PDF_READY:
        return _("The exposé PDF is ready."), ""
    if kind in (InquiryEvent.Kind.NOTE, InquiryEvent.Kind.ANONYMISED):
        return "", text
    return text, ""


def timeline_entries(inquiry: Inquiry) -> list[TimelineEntry]:
    offer_urls = {
        pk: reverse("offer_edit", args=[pk])
        for pk in Offer.objects.filter(inquiry=inquiry).values_list("pk", flat=True)
    }
    entries = []
    for event in inquiry.events.select_related("actor").order_by("at", "id"):
        data = dict(event.data or {})
        summary, comment = _event_words(event, data)
        entries.append(
            TimelineEntry(
                event=event,
                who=_person(event.actor),
                summary=summary,
                comment=comment,
                offer_url=offer_urls.get(data.get("offer"), ""),  # type: ignore[arg-type]
            )
        )
    return entries


def _offers(inquiry: Inquiry) -> list[dict[str, Any]]:
    offers = (
        Offer.objects.filter(inquiry=inquiry)
        .select_related("created_by")
        .prefetch_related("items__site", "links")
        .order_by("-created_at", "-id")
    )
    return [
        {
            "offer": offer,
            "edit_url": reverse("offer_edit", args=[offer.pk]),
            "items": list(offer.items.all()),
            "links": list(offer.links.all()),
        }
        for offer in offers
    ]


def _detail_context(
    request: HttpRequest,
    inquiry: Inquiry,
    *,
    status_form: StatusForm | None = None,
    assign_form: AssignForm | None = None,
    note_form: NoteForm | None = None,
) -> dict[str, Any]:
    now = timezone.now()
    source_url = ""
    if inquiry.source_query:
        source_url = reverse("map") + "?" + inquiry.source_query
    area = inquiry.area_of_interest
    return {
        "inquiry": inquiry,
        "age": age_text(now - inquiry.received_at),
        "overdue": is_overdue(inquiry, now),
        "response_hours": settings.INQUIRY_RESPONSE_HOURS,
        "requirements": requirement_rows(inquiry, complete=True),
        "area_path": outline_path(area) if area is not None else "",
        "area_text": area_short(area.area) if area is not None else "",
        "source_url": source_url,
        "status_form": status_form or StatusForm(inquiry=inquiry),
        "assign_form": assign_form or AssignForm(initial={"assignee": inquiry.assignee_id}),
        "note_form": note_form or NoteForm(),
        "timeline": timeline_entries(inquiry),
        "offers": _offers(inquiry),
        "matches_url": reverse("inquiry_matches", args=[inquiry.pk]),
        "offer_create_url": reverse("offer_create", args=[inquiry.pk]),
    }


def _set_status(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
    inquiry_status_set(inquiry=inquiry, status=data["status"], note=data["note"], acting_user=user)
    return _("Status changed to “%(status)s”.") % {"status": inquiry.get_status_display()}


def _assign(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
    inquiry_assign(inquiry=inquiry, assignee=data["assignee"], acting_user=user)
    return _("Assignment saved.")


def _add_note(inquiry: Inquiry, data: dict[str, Any], user: User) -> str:
    inquiry_note_add(inquiry=inquiry, text=data["text"], acting_user=user)
    return _("Note added.")


# What the inquiry page's forms do, by their `action`: the form, its name in the page's
# context, the field a refusal of the service is shown at, and the service call (which
# returns the success message).
INQUIRY_ACTIONS: dict[str, tuple[Callable[..., Any], str, str, Callable[..., str]]] = {
    "status": (
        lambda data, inquiry: StatusForm(data, inquiry=inquiry),
        "status_form",
        "status",
        _set_status,
    ),
    "assign": (lambda data, inquiry: AssignForm(data), "assign_form", "assignee", _assign),
    "note": (lambda data, inquiry: NoteForm(data), "note_form", "text", _add_note),
}


@staff_required
@require_http_methods(["GET", "POST"])
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: an inquiry with its contact, requirement profile, timeline and offers; POST
    `action` = status | assign | note changes it (form errors keep what was typed)."""
    user = gated_user(request)
    inquiry = get_object_or_404(
        Inquiry.objects.select_related("assignee", "user").prefetch_related("municipalities"),
        pk=pk,
    )
    if request.method == "GET":
        return render(request, "proposals/inquiry_detail.html", _detail_context(request, inquiry))

    action = request.POST.get("action", "")
    if action not in INQUIRY_ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("inquiry_detail", pk=inquiry.pk)
    make_form, context_name, error_field, apply = INQUIRY_ACTIONS[action]
    form = make_form(request.POST, inquiry)
    if form.is_valid():
        try:
            done = apply(inquiry, form.cleaned_data, user)
        except ValidationError as error:
            form.add_error(error_field, error)
        else:
            messages.success(request, done)
            return redirect("inquiry_detail", pk=inquiry.pk)
    forms: dict[str, Any] = {context_name: form}
    return render(
        request,
        "proposals/inquiry_detail.html",
        _detail_context(request, inquiry, **forms),
        status=400,
    )


@staff_required
@require_POST
def inquiry_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: the inquiry's personal data as a JSON download (recorded on the timeline)."""
    user = gated_user(request)
    inquiry = get_object_or_404(Inquiry.objects.select_related("user"), pk=pk)
    data = inquiry_export(inquiry=inquiry, acting_user=user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{inquiry.reference}-personal-data.json"'
    )
    # Personal data: never kept by a browser or proxy cache.
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def inquiry_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: erase the inquiry's personal data, after a confirmation with a reason. A form
    error answers 400; an inquiry erased already says so (409), never a second time."""
    user = gated_user(request)
    inquiry = get_object_or_404(Inquiry, pk=pk)
    form = EraseForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and inquiry.anonymised_at is not None:
        status = 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                inquiry_erase(inquiry=inquiry, acting_user=user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                # Erased by someone else a moment ago: told like any other form error.
                form.add_error(None, error)
                inquiry.refresh_from_db(fields=["anonymised_at"])
                if inquiry.anonymised_at is not None:
                    status = 409
            else:
                messages.success(
                    request,
                    _("The personal data of %(reference)s have been erased.")
                    % {"reference": inquiry.reference},
                )
                return redirect("inquiry_detail", pk=inquiry.pk)
    return render(
        request, "proposals/inquiry_erase.html", {"inquiry": inquiry, "form": form}, status=status
    )
