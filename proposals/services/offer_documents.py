"""The exposé of an offer: a cover, a comparison table of all sites, then one page per site
with its map (drawn on the server from our own data, no tiles), facts, distances, contact,
staff's note and why it fits. Rendered by WeasyPrint without any network, reusing the site
exposé's pieces (properties.services.expose), as a task: the request that asks for it
never waits."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from weasyprint import CSS, HTML

from accounts.models import User
from properties.presentation import area_pair, km, site_contact, site_price
from properties.services.expose import (
    EXPOSE_STYLESHEET,
    LocalOnlyURLFetcher,
    site_expose_context,
    sites_overview_svg_data,
)

from ..models import InquiryEvent, Offer, OfferSite
from .timeline import inquiry_event_add

logger = logging.getLogger(__name__)

OFFER_STYLESHEET = "css/offer-pdf.css"
PDF_ERROR_MAX_LENGTH = 500


def match_summary(match: dict) -> dict:
    """The stored verdict of a site (SiteMatch.as_json()) in a few words: score and how
    many criteria pass, nearly pass, fail or lack data."""
    labels = {
        "pass": _("met"),
        "near": _("nearly"),
        "fail": _("missed"),
        "unknown": _("no data"),
    }
    results = [
        {**result, "verdict_label": labels.get(str(result.get("verdict")), labels["unknown"])}
        for result in match.get("results") or []
    ]
    counts = dict.fromkeys(labels, 0)
    for result in results:
        verdict = str(result.get("verdict", "unknown"))
        counts[verdict] = counts.get(verdict, 0) + 1
    parts = []
    if counts["pass"]:
        parts.append(_("%(count)s met") % {"count": counts["pass"]})
    if counts["near"]:
        parts.append(_("%(count)s nearly") % {"count": counts["near"]})
    if counts["fail"]:
        parts.append(_("%(count)s missed") % {"count": counts["fail"]})
    if counts["unknown"]:
        parts.append(_("%(count)s without data") % {"count": counts["unknown"]})
    score = match.get("score")
    return {
        "score": round(float(score)) if isinstance(score, int | float) else None,
        "counts": counts,
        "text": " · ".join(parts),
        "results": results,
    }


def comparison_row(item: OfferSite) -> dict:
    """One line of the comparison table, formatted for the active language."""
    site = item.site
    return {
        "number": item.position,
        "title": site.translated("title").text,
        "municipality": site.municipality.name,
        "kind": site.get_kind_display(),
        "area": area_pair(site),
        "planning": site.get_planning_category_display(),
        "price": site_price(site),
        "available": date_format(site.available_from, "DATE_FORMAT")
        if site.available_from
        else pgettext("available", "immediately"),
        "junction": km(site.distance_to_junction_m) or "–",
        "station": km(site.distance_to_station_m) or "–",
        "match": match_summary(item.match),
    }


def offer_contact(offer: Offer) -> dict[str, str]:
    """Whom the investor contacts about the offer: the staff member who compiled it."""
    person = offer.created_by or offer.inquiry.assignee
    if person is None:
        return {"name": "", "email": settings.DEFAULT_FROM_EMAIL}
    return {"name": person.get_full_name() or person.username, "email": person.email}


def offer_document_context(*, offer: Offer) -> dict:
    """The template context of the offer's exposé, in the active language."""
    items = list(offer.items.select_related("site__municipality__district").order_by("position"))
    pages = []
    datasets: dict[int, object] = {}
    for item in items:
        context = site_expose_context(site=item.site)
        for dataset in context["datasets"]:
            datasets.setdefault(dataset.pk, dataset)
        pages.append(
            {
                "item": item,
                "row": comparison_row(item),
                "contact": site_contact(item.site),
                **context,
            }
        )
    return {
        "offer": offer,
        "inquiry": offer.inquiry,
        "today": date_format(timezone.localdate(), "DATE_FORMAT"),
        "rows": [page["row"] for page in pages],
        "pages": pages,
        "datasets": sorted(datasets.values(), key=lambda d: getattr(d, "title", "")),
        "has_demo": any(item.site.is_demo for item in items),
        "overview": sites_overview_svg_data([item.site for item in items]),
        "agency_contact": offer_contact(offer),
        "language": offer.language,
    }


def offer_pdf_bytes(*, offer: Offer) -> bytes:
    """The offer's exposé as PDF bytes, in the offer's language."""
    started = time.perf_counter()
    fetcher = LocalOnlyURLFetcher()
    with translation.override(offer.language):
        html = render_to_string("proposals/offer_pdf.html", offer_document_context(offer=offer))
    stylesheets = []
    for name in (EXPOSE_STYLESHEET, OFFER_STYLESHEET):
        path = finders.find(name)
        if not path:
            raise FileNotFoundError(name)
        stylesheets.append(CSS(filename=str(path), url_fetcher=fetcher))
    base = Path(str(finders.find(OFFER_STYLESHEET))).parent.as_uri() + "/"
    pdf = HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)
    logger.info(
        "offer %s (%d sites) rendered in %.2f s, %d bytes",
        offer.pk,
        offer.items.count(),
        time.perf_counter() - started,
        len(pdf),
    )
    return pdf


@transaction.atomic
def offer_pdf_request(*, offer: Offer, acting_user: User | None) -> Offer:
    """Marks the PDF as being rendered and has it rendered after commit (a task)."""
    offer.pdf_status = Offer.PdfStatus.PENDING
    offer.pdf_error = ""
    offer.save(update_fields=["pdf_status", "pdf_error", "updated_at"])
    offer_id, version = offer.pk, offer.content_version
    transaction.on_commit(
        lambda: offer_pdf_render.enqueue(offer_id=offer_id, content_version=version)
    )
    return offer


@task
def offer_pdf_render(*, offer_id: int, content_version: int) -> None:
    """Renders the offer's current content into `Offer.pdf`; READY or FAILED (with the
    error) either way, and the timeline says which. A failure at any step, storing the
    file included, leaves the previous PDF as it was and no new file behind."""
    offer = Offer.objects.select_related("inquiry", "created_by").filter(pk=offer_id).first()
    if offer is None:
        return
    if offer.pdf_is_current and offer.pdf_content_version >= content_version:  # type: ignore[operator]
        return  # asked twice for the same content: rendered already
    rendered_version = offer.content_version
    try:
        pdf = offer_pdf_bytes(offer=offer)
        _pdf_store(offer=offer, rendered_version=rendered_version, pdf=pdf)
    except Exception as error:  # any failure is shown to staff, never a half-written file
        logger.exception("offer %s: the PDF failed", offer_id)
        message = f"{type(error).__name__}: {error}"[:PDF_ERROR_MAX_LENGTH]
        with transaction.atomic():
            Offer.objects.filter(pk=offer_id).update(
                pdf_status=Offer.PdfStatus.FAILED, pdf_error=message, updated_at=timezone.now()
            )
            inquiry_event_add(
                inquiry=offer.inquiry,
                kind=InquiryEvent.Kind.PDF_FAILED,
                text=message,
                data={"offer": offer_id, "content_version": rendered_version},
            )


@transaction.atomic
def _pdf_store(*, offer: Offer, rendered_version: int, pdf: bytes) -> None:
    """The new file under a new name, then the row; the old file goes after commit. If
    anything fails on the way, the new file (or what the storage left of it) is removed."""
    locked = Offer.objects.select_for_update().get(pk=offer.pk)
    previous = locked.pdf.name if locked.pdf else ""
    storage = locked.pdf.storage
    target = storage.get_available_name(
        locked.pdf.field.generate_filename(locked, f"offer-{offer.pk}-v{rendered_version}.pdf")
    )
    try:
        locked.pdf.name = storage.save(target, ContentFile(pdf))
        locked.pdf_status = Offer.PdfStatus.READY
        locked.pdf_content_version = rendered_version
        locked.pdf_rendered_at = timezone.now()
        locked.pdf_error = ""
        locked.save(
            update_fields=[
                "pdf",
                "pdf_status",
                "pdf_content_version",
                "pdf_rendered_at",
                "pdf_error",
                "updated_at",
            ]
        )
        inquiry_event_add(
            inquiry=offer.inquiry,
            kind=InquiryEvent.Kind.PDF_READY,
            data={"offer": offer.pk, "content_version": rendered_version, "bytes": len(pdf)},
        )
    except Exception:
        for leftover in {target, locked.pdf.name or ""} - {previous, ""}:
            if storage.exists(leftover):
                storage.delete(leftover)
        raise
    if previous and previous != locked.pdf.name:
        transaction.on_commit(lambda: storage.delete(previous))
