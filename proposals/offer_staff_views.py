"""Staff's offer builder: compile sites for an inquiry, order and annotate them, render the
exposé PDF (a background task, with its progress) and share the offer through links."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.permissions import gated_user, staff_required
from properties import search as site_search
from properties.api.filters import SiteFilterSet
from properties.models import Site
from search.models import ShortlistEntry

from .models import Inquiry, Offer, OfferLink, OfferSite
from .offer_forms import OfferForm, OfferLinkForm, OfferSiteAddForm, SiteSearchForm
from .services.offer_documents import match_summary, offer_pdf_request
from .services.offers import (
    offer_create,
    offer_link_create,
    offer_link_revoke,
    offer_link_url,
    offer_site_add,
    offer_site_move,
    offer_site_remove,
    offer_update,
    offerable_sites,
)

SEARCH_RESULTS_MAX = 20


def _offer_or_404(pk: int) -> Offer:
    return get_object_or_404(Offer.objects.select_related("inquiry", "created_by"), pk=pk)


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@staff_required
@require_POST
def offer_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A new offer for the inquiry with the sites posted as repeated `site` (in order)."""
    user = gated_user(request)
    inquiry = get_object_or_404(Inquiry, pk=pk)
    raw_ids = request.POST.getlist("site")
    try:
        site_ids = [int(value) for value in raw_ids if value.strip()]
        offer = offer_create(inquiry=inquiry, site_ids=site_ids, acting_user=user)
    except ValueError:
        messages.error(request, _("Site numbers must be whole numbers."))
        return redirect("inquiry_detail", pk=inquiry.pk)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("inquiry_detail", pk=inquiry.pk)
    messages.success(request, _("Offer created."))
    return redirect("offer_edit", pk=offer.pk)


def _search_sites(
    request: HttpRequest, query: str, exclude: set[int]
) -> tuple[list[Site], list[str]]:
    """Sites for "add from any search": a search page's address or query string (the map's
    own filters), a site number, or part of a title. Returns the sites and any errors."""
    published = offerable_sites().select_related("municipality")
    query = query.strip()
    if query.isdigit():
        queryset = published.filter(pk=int(query))
    elif "=" in query:
        query_string = urlsplit(query).query if ("?" in query or "://" in query) else query
        params = QueryDict(query_string.lstrip("?"))
        data = (site_search.canonical_query(params) or params).copy()
        for name in site_search.PAGE_ONLY_PARAMETERS:
            data.pop(name, None)
        filterset = SiteFilterSet(data, queryset=published, request=request)
        if not filterset.is_valid():
            return [], [
                f"{name}: {' '.join(str(m) for m in errors)}"
                for name, errors in filterset.errors.items()
            ]
        queryset = filterset.qs
    else:
        queryset = published.filter(title__icontains=query)
    return list(queryset.exclude(pk__in=exclude)[:SEARCH_RESULTS_MAX]), []


def _local(value: datetime.datetime, format_name: str) -> str:
    """A moment as staff read it: in our time zone (date_format alone would use UTC)."""
    return date_format(timezone.localtime(value), format_name)


def _link_entry(link: OfferLink) -> dict:
    if link.revoked_at is not None:
        state = _("revoked on %(date)s") % {"date": _local(link.revoked_at, "DATE_FORMAT")}
    elif link.is_expired:
        state = _("expired on %(date)s") % {"date": _local(link.expires_at, "DATE_FORMAT")}
    else:
        state = _("valid until %(date)s") % {"date": _local(link.expires_at, "DATE_FORMAT")}
    return {"link": link, "url": offer_link_url(link), "state": state}


def pdf_state(offer: Offer) -> dict:
    """The PDF's progress for the builder and its status endpoint."""
    status = offer.pdf_status
    labels: dict[str, str] = {
        Offer.PdfStatus.NONE: _("Not rendered yet."),
        Offer.PdfStatus.PENDING: _("The PDF is being rendered…"),
        Offer.PdfStatus.READY: _("The PDF is ready."),
        Offer.PdfStatus.FAILED: _("The PDF could not be rendered."),
    }
    outdated = status == Offer.PdfStatus.READY and not offer.pdf_is_current
    label = labels.get(status, "")
    if outdated:
        label = _("The PDF is out of date: the offer changed since. Render it again.")
    return {
        "status": status,
        "label": label,
        "current": offer.pdf_is_current,
        "outdated": outdated,
        "error": offer.pdf_error if status == Offer.PdfStatus.FAILED else "",
        "url": reverse("offer_pdf", args=[offer.pk]) if status == Offer.PdfStatus.READY else None,
        "rendered_at": _local(offer.pdf_rendered_at, "DATETIME_FORMAT")
        if offer.pdf_rendered_at
        else "",
    }


def _builder(
    request: HttpRequest,
    user: User,
    offer: Offer,
    *,
    form: OfferForm | None = None,
    link_form: OfferLinkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    form = form or OfferForm(offer=offer)
    items = form.items
    in_offer = {item.site_id for item in items}
    search_form = SiteSearchForm(request.GET if "q" in request.GET else None)
    results: list[Site] = []
    search_errors: list[str] = []
    if search_form.is_bound and search_form.is_valid():
        results, search_errors = _search_sites(request, search_form.cleaned_data["q"], in_offer)
    shortlist = [
        entry.site
        for entry in ShortlistEntry.objects.filter(user=user, site__in=offerable_sites())
        .exclude(site_id__in=in_offer)
        .select_related("site__municipality")
        .order_by("-added_at")
    ]
    links = offer.links.select_related("created_by").order_by("-created_at")
    context = {
        "offer": offer,
        "inquiry": offer.inquiry,
        "form": form,
        "entries": [
            {
                "item": item,
                "note": form.note_field(item),
                "match": match_summary(item.match),
                "first": index == 0,
                "last": index == len(items) - 1,
            }
            for index, item in enumerate(items)
        ],
        "search_form": search_form,
        "results": results,
        "search_errors": search_errors,
        "shortlist": shortlist,
        "pdf": pdf_state(offer),
        "links": [_link_entry(link) for link in links],
        "link_form": link_form or OfferLinkForm(initial={"recipient_email": offer.inquiry.email}),
    }
    return render(request, "proposals/offer_builder.html", context, status=status)


@staff_required
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder. Its one form saves title, language, introduction and notes; the move
    and remove buttons submit it too (`action`), so nothing typed is lost."""
    user = gated_user(request)
    offer = _offer_or_404(pk)
    if request.method != "POST":
        return _builder(request, user, offer)
    form = OfferForm(request.POST, offer=offer)
    if not form.is_valid():
        return _builder(request, user, offer, form=form, status=400)
    try:
        offer_update(
            offer=offer,
            acting_user=user,
            title=form.cleaned_data["title"],
            introduction=form.cleaned_data["introduction"],
            language=form.cleaned_data["language"],
            items=form.item_notes(),
        )
        action, _sep, item_id = request.POST.get("action", "save").partition(":")
        if action in ("up", "down", "remove"):
            item = (
                OfferSite.objects.filter(offer=offer, pk=item_id).first()
                if item_id.isdigit()
                else None
            )
            if item is None:
                raise ValidationError(_("This site is not part of the offer."))
            if action == "remove":
                offer_site_remove(offer_site=item, acting_user=user)
                messages.success(request, _("“%(title)s” removed.") % {"title": item.site.title})
            else:
                offer_site_move(offer_site=item, direction=action, acting_user=user)
                # Back at the moved site, not at the top of a long page.
                return redirect(reverse("offer_edit", args=[offer.pk]) + f"#item-{item.pk}")
        else:
            messages.success(request, _("Offer saved."))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("offer_edit", pk=offer.pk)


@staff_required
@require_POST
def offer_site_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = gated_user(request)
    offer = _offer_or_404(pk)
    form = OfferSiteAddForm(request.POST)
    site = None
    if form.is_valid():
        site = offerable_sites().filter(pk=form.cleaned_data["site"]).first()
    if site is None:
        messages.error(request, _("No published site with this number."))
    else:
        try:
            offer_site_add(offer=offer, site=site, acting_user=user)
            messages.success(request, _("“%(title)s” added.") % {"title": site.title})
        except ValidationError as error:
            messages.error(request, _error_text(error))
    back = request.POST.get("q", "")
    url = reverse("offer_edit", args=[offer.pk])
    if back:
        url += "?" + _q(back)
    return redirect(url + "#add-sites")


def _q(value: str) -> str:
    query = QueryDict(mutable=True)
    query["q"] = value
    return query.urlencode()


@staff_required
@require_POST
def offer_pdf_request_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = gated_user(request)
    offer = _offer_or_404(pk)
    offer_pdf_request(offer=offer, acting_user=user)
    messages.info(request, _("The PDF is being rendered."))
    return redirect(reverse("offer_edit", args=[offer.pk]) + "#pdf")


@staff_required
@require_GET
def offer_pdf_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The PDF's progress, polled by the builder while it is rendered."""
    response = JsonResponse(pdf_state(_offer_or_404(pk)))
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_GET
def offer_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The rendered PDF for staff (also an out-of-date one: the builder says so)."""
    offer = _offer_or_404(pk)
    return offer_pdf_response(offer)


def offer_pdf_response(offer: Offer) -> FileResponse:
    if offer.pdf_status != Offer.PdfStatus.READY or not offer.pdf:
        raise Http404
    try:
        handle = offer.pdf.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(
        handle,
        content_type="application/pdf",
        filename=f"{offer.inquiry.reference}-offer-{offer.pk}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_POST
def offer_link_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = gated_user(request)
    offer = _offer_or_404(pk)
    form = OfferLinkForm(request.POST)
    if not form.is_valid():
        return _builder(request, user, offer, link_form=form, status=400)
    try:
        link = offer_link_create(
            offer=offer,
            acting_user=user,
            recipient_email=form.cleaned_data["recipient_email"] or "",
            days=form.cleaned_data["days"],
            send=form.cleaned_data["send"],
        )
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _builder(request, user, offer, link_form=form, status=400)
    if form.cleaned_data["send"]:
        messages.success(
            request, _("Link created and sent to %(email)s.") % {"email": link.recipient_email}
        )
    else:
        messages.success(request, _("Link created."))
    return redirect(reverse("offer_edit", args=[offer.pk]) + "#links")


@staff_required
@require_POST
def offer_link_revoke_view(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    user = gated_user(request)
    offer = _offer_or_404(pk)
    link = get_object_or_404(OfferLink, pk=link_pk, offer=offer)
    offer_link_revoke(link=link, acting_user=user)
    messages.success(request, _("Link revoked."))
    return redirect(reverse("offer_edit", args=[offer.pk]) + "#links")
