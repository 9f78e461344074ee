"""The investor's private offer page (/offers/<token>/): no login, the token is the key.
It shows the offer with a map and lets the investor answer per site while the link is
usable; a revoked or expired link says so plainly (410). Openings are counted for staff:
GETs by anyone but agency staff (staff previewing a link are not the investor)."""

from __future__ import annotations

import datetime
import json
import time

from django.contrib import messages
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import User
from properties.map_config import small_map_config
from properties.models import Site
from properties.nearest import site_nearest
from properties.presentation import SITE_KIND_COLOURS, distance_rows

from .models import Offer, OfferLink, OfferSite
from .offer_forms import OfferResponseForm
from .offer_staff_views import offer_pdf_response
from .services.offer_documents import comparison_row, offer_contact, offer_pdf_request
from .services.offers import OfferLinkUnusable, offer_link_open, offer_site_respond

# After a failed rendering, the investor's reloads ask for a new one at most this often
# (each rendering takes seconds of a small server; staff see the failure in the builder).
PDF_RETRY_INTERVAL = datetime.timedelta(minutes=10)

PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    # The address (with its token) never goes to another site. Not "no-referrer": under it
    # browsers send `Origin: null` with the page's own forms, and Django's CSRF check
    # refuses every response and the language switcher (403).
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}


def _private(response: HttpResponseBase, language: str) -> HttpResponseBase:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    response["Content-Language"] = language
    return response


def _link_or_404(token: str) -> OfferLink:
    link = (
        OfferLink.objects.select_related("offer__inquiry", "offer__created_by", "revoked_by")
        .filter(token=token)
        .first()
    )
    if link is None:
        raise Http404
    return link


def _language(request: HttpRequest, offer: Offer) -> str:
    """The language of the URL: the link is sent in the offer's language (offer_link_url);
    the investor may switch to another, which changes the URL's prefix."""
    return translation.get_language_from_path(request.path_info) or offer.language


@require_safe
def offer_link_unprefixed(request: HttpRequest, token: str) -> HttpResponseBase:
    """An offer link without a language (sent before URLs carried one): to the offer's
    language, not the browser's."""
    link = _link_or_404(token)
    with translation.override(link.offer.language):
        return redirect(reverse("offer_link", args=[token]))


def _date(value: datetime.datetime | None) -> str:
    """A date as the investor reads it: in our time zone, in the active language."""
    return date_format(timezone.localtime(value), "DATE_FORMAT") if value else ""


def _is_staff(request: HttpRequest) -> bool:
    return isinstance(request.user, User) and request.user.is_agency_staff


def _gone(request: HttpRequest, link: OfferLink, language: str) -> HttpResponseBase:
    with translation.override(language):
        response = render(
            request,
            "proposals/offer_link_gone.html",
            {
                "link": link,
                "revoked": link.is_revoked,
                "revoked_on": _date(link.revoked_at),
                "expired_on": _date(link.expires_at),
                "contact": offer_contact(link.offer),
                "reference": link.offer.inquiry.reference,
            },
            status=410,
        )
    return _private(response, language)


def _site_geojson(items: list[OfferSite]) -> dict:
    """The offered sites as a GeoJSON FeatureCollection in EPSG:4326 (PostGIS transforms)."""
    geometries = dict(
        Site.objects.filter(pk__in=[item.site_id for item in items])
        .annotate(geojson=AsGeoJSON(Transform("geom", 4326), precision=6))
        .values_list("pk", "geojson")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(geometries[item.site_id]),
                "properties": {
                    "number": item.position,
                    "title": item.site.translated("title").text,
                    "anchor": f"site-{item.pk}",
                    "colour": SITE_KIND_COLOURS.get(item.site.kind, "#546e7a"),
                },
            }
            for item in items
            if geometries.get(item.site_id)
        ],
    }


def _page(
    request: HttpRequest,
    link: OfferLink,
    language: str,
    *,
    invalid: tuple[int, OfferResponseForm] | None = None,
) -> HttpResponseBase:
    offer = link.offer
    items = list(offer.items.select_related("site__municipality__district").order_by("position"))
    # A site sold or withdrawn since the offer stays in it, but has no public page any more.
    public = set(
        Site.objects.published()
        .filter(pk__in=[item.site_id for item in items])
        .values_list("pk", flat=True)
    )
    with translation.override(language):
        cards = []
        for item in items:
            if invalid and invalid[0] == item.pk:
                form = invalid[1]
            else:
                form = OfferResponseForm(
                    prefix=f"item{item.pk}",
                    initial={"response": item.response or None, "comment": item.response_comment},
                )
            cards.append(
                {
                    "item": item,
                    "row": comparison_row(item),
                    "distances": [
                        row
                        for row in distance_rows(site_nearest(item.site))
                        if row["loaded"] and row["distance"]
                    ],
                    "form": form,
                    "public": item.site_id in public,
                }
            )
        map_config = small_map_config()
        response = render(
            request,
            "proposals/offer_link.html",
            {
                "link": link,
                "offer": offer,
                "inquiry": offer.inquiry,
                "cards": cards,
                "sites_geojson": _site_geojson(items),
                "map_config": map_config,
                "contact": offer_contact(offer),
                "expires_on": _date(link.expires_at),
                "pdf_ready": offer.pdf_is_current,
                "staff_preview": _is_staff(request),
            },
            status=400 if invalid else 200,
        )
    return _private(response, language)


# A visit of the offer page: pages seen within this time of the last one are the same visit.
VISIT_GAP_SECONDS = 30 * 60


def _new_visit(request: HttpRequest, link: OfferLink) -> bool:
    """Whether this page view starts a visit of the link (remembered in the session)."""
    key = f"offer-link-seen-{link.pk}"
    now = int(time.time())
    last = request.session.get(key)
    request.session[key] = now
    return not isinstance(last, int) or now - last > VISIT_GAP_SECONDS


@require_http_methods(["GET", "HEAD", "POST"])
def offer_link(request: HttpRequest, token: str) -> HttpResponseBase:
    link = _link_or_404(token)
    language = _language(request, link.offer)
    if not link.is_usable:
        return _gone(request, link, language)
    if request.method != "POST":
        # HEAD comes from link checkers, not from the investor reading the offer; reloads
        # and the page after the investor's own answers belong to the same visit.
        if request.method == "GET" and not _is_staff(request) and _new_visit(request, link):
            offer_link_open(link=link)
        return _page(request, link, language)

    item_id = request.POST.get("item", "")
    item = link.offer.items.filter(pk=item_id).first() if item_id.isdigit() else None
    if item is None:
        raise Http404
    if _is_staff(request):
        # The answer is the investor's to give; staff note what they heard on the timeline.
        with translation.override(language):
            messages.error(
                request,
                _(
                    "Staff preview: only the investor can respond here. Note what the investor "
                    "told you on the inquiry's timeline instead."
                ),
            )
        return _private(
            redirect(reverse("offer_link", args=[token]) + f"#site-{item.pk}"), language
        )
    with translation.override(language):
        form = OfferResponseForm(request.POST, prefix=f"item{item.pk}")
        if form.is_valid():
            try:
                offer_site_respond(
                    link=link,
                    offer_site=item,
                    response=form.cleaned_data["response"],
                    comment=form.cleaned_data["comment"],
                )
            except OfferLinkUnusable:
                return _gone(request, link, language)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Thank you: your response on “%(title)s” was saved.")
                    % {"title": item.site.title},
                )
                return _private(
                    redirect(reverse("offer_link", args=[token]) + f"#site-{item.pk}"), language
                )
    return _page(request, link, language, invalid=(item.pk, form))


def _pdf_unavailable(request: HttpRequest, link: OfferLink, language: str) -> HttpResponseBase:
    with translation.override(language):
        response = render(
            request,
            "proposals/offer_link_pdf_failed.html",
            {"link": link, "contact": offer_contact(link.offer)},
            # Unavailable for now, not a server error: the offer page itself works.
            status=503,
        )
    response["Retry-After"] = str(int(PDF_RETRY_INTERVAL.total_seconds()))
    return _private(response, language)


@require_safe
def offer_link_pdf(request: HttpRequest, token: str) -> HttpResponseBase:
    """The offer's PDF while the link is usable and the PDF is current; otherwise it is
    requested and the page says it is being prepared. After a failure it is requested
    again only every PDF_RETRY_INTERVAL, so reloads do not keep the server rendering."""
    link = _link_or_404(token)
    offer = link.offer
    language = _language(request, offer)
    if not link.is_usable:
        return _gone(request, link, language)
    if not offer.pdf_is_current:
        if offer.pdf_status == Offer.PdfStatus.FAILED and (
            timezone.now() - offer.updated_at < PDF_RETRY_INTERVAL
        ):
            return _pdf_unavailable(request, link, language)
        if offer.pdf_status != Offer.PdfStatus.PENDING:
            offer_pdf_request(offer=offer, acting_user=None)
            offer.refresh_from_db()
        if offer.pdf_status == Offer.PdfStatus.FAILED:
            return _pdf_unavailable(request, link, language)
        if not offer.pdf_is_current:
            with translation.override(language):
                response = render(
                    request,
                    "proposals/offer_link_pdf_pending.html",
                    {"link": link, "offer": offer},
                    # Accepted: the work is under way (not a server error; the page reloads).
                    status=202,
                )
            response["Retry-After"] = "10"
            return _private(response, language)
    return _private(offer_pdf_response(offer), language)
