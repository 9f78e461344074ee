"""The public inquiry form (/inquiry/) and its thanks page."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.gis.geos import Point
from django.core import signing
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from geodata.models import STORAGE_SRID, Layer, LayerFeature, Municipality
from properties import map_config
from properties.api.filters import RADIUS_MAX_M, SearchAreaField
from properties.map_config import small_map_config
from properties.models import Site
from properties.views import site_detail_context, visible_site_or_404
from sitefinder import pagecache
from sitefinder.net import client_address

from .forms import (
    DISTANCE_FIELDS,
    DISTANCE_LAYERS,
    HONEYPOT_FIELD,
    InquiryForm,
    SiteQuestionForm,
    rendered_token,
)
from .models import Inquiry
from .services.inquiries import client_fingerprint, inquiry_create, inquiry_rate_limit_reached

logger = logging.getLogger(__name__)

THANKS_SALT = "proposals.inquiry-thanks"
THANKS_MAX_AGE = 7 * 24 * 60 * 60

# Parameters of the search page that say how results are shown, not what is wanted.
SEARCH_VIEW_PARAMETERS = ("sort", "page", "page_size", "map", "selected", "format")


def _layers_with_data() -> set[str]:
    """The distance layers that have features: distances to the others cannot be checked."""
    return set(
        Layer.objects.filter(slug__in=DISTANCE_LAYERS.values())
        .filter(Exists(LayerFeature.objects.filter(layer=OuterRef("pk"))))
        .values_list("slug", flat=True)
    )


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def _search_area(params: QueryDict) -> str:
    """The search's drawn area, or its radius as a polygon, as GeoJSON (EPSG:4326)."""
    if params.get("area"):
        try:
            geom = SearchAreaField(required=False).clean(params["area"])
        except forms.ValidationError:
            return ""
        return geom.json if geom is not None else ""
    near, radius = params.get("near", ""), _decimal(params.get("radius_m"))
    if near and radius is not None and radius <= RADIUS_MAX_M:
        try:
            lon, lat = (float(part) for part in near.split(","))
        except ValueError:
            return ""
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return ""
        circle = Point(lon, lat, srid=4326).transform(STORAGE_SRID, clone=True)
        polygon = circle.buffer(float(radius), 16)
        polygon.transform(4326)
        return polygon.json
    return ""


def search_initial(params: QueryDict) -> dict[str, Any]:
    """The form's initial values from the investor search's query string (its parameter
    names: properties/api/filters.py). Values the search would reject are left out."""
    initial: dict[str, Any] = {}
    kinds = [kind for kind in params.getlist("kind") if kind in Site.Kind.values]
    if kinds:
        initial["kinds"] = kinds
    categories = [
        c for c in params.getlist("planning_category") if c in Site.PlanningCategory.values
    ]
    if categories:
        initial["planning_categories"] = categories
    hectares = bool(params.get("area_min_ha") or params.get("area_max_ha"))
    initial["area_unit"] = "ha" if hectares else "m2"
    for bound in ("min", "max"):
        value = _decimal(params.get(f"area_{bound}_ha" if hectares else f"area_{bound}"))
        if value is not None:
            initial[f"area_{bound}"] = _plain(value)
    budget = _decimal(params.get("price_max"))
    if budget is not None:
        initial["budget_max_eur_m2"] = _plain(budget)
    try:
        initial["available_by"] = datetime.date.fromisoformat(params.get("available_by", ""))
    except ValueError:
        pass
    ags = set(params.getlist("municipality"))
    districts = params.getlist("district")
    if districts:
        ags.update(
            Municipality.objects.filter(district__ags__in=districts).values_list("ags", flat=True)
        )
    if ags:
        initial["municipalities"] = sorted(
            Municipality.objects.filter(ags__in=ags).values_list("ags", flat=True)
        )
    area = _search_area(params)
    if area:
        initial["area_of_interest"] = area
    if params.get("rail_siding") == "true":
        initial["needs_rail_siding"] = True
    if params.get("port_access") == "true":
        initial["needs_port_access"] = True
    for form_name, model_name in DISTANCE_FIELDS.items():
        metres = _decimal(params.get(model_name))
        if metres is not None:
            initial[form_name] = _plain(metres / 1000)
    query = params.copy()
    for name in SEARCH_VIEW_PARAMETERS:
        query.pop(name, None)
    if query:
        initial["source_query"] = query.urlencode()[:4000]
    return initial


def _user_initial(user: User) -> dict[str, Any]:
    return {
        "company": user.company,
        "contact_name": user.get_full_name(),
        "email": user.email,
        "language": user.language,
    }


def _render_form(
    request: HttpRequest, form: InquiryForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "form": form,
        # A fresh render time with every page: after an error the clock starts anew.
        "rendered_token": rendered_token(),
        "map_config": small_map_config(
            inputId=form["area_of_interest"].auto_id,
            messages={
                "drawHint": _(
                    "Click on the map to set the corners; click the first corner to finish."
                ),
                "editHint": _(
                    "Drag the corners to change the area; click “Edit area” again when done."
                ),
                "nothing": _("No area drawn: the municipalities and distances decide."),
                "drawn": _("Drawn: an area of about %(km2)s km²."),
                "unreadable": _(
                    "The area below is not GeoJSON, so it cannot be shown on the map; it is sent as it is."
                ),
            },
        ),
        **extra,
    }
    return render(request, "proposals/inquiry_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def inquiry_new(request: HttpRequest) -> HttpResponse:
    """The public inquiry form; it starts from the investor's search when given its query."""
    user = request.user if isinstance(request.user, User) else None
    layers = _layers_with_data()
    if request.method != "POST":
        initial = search_initial(request.GET)
        if user is not None:
            initial.update(_user_initial(user))
        return _render_form(request, InquiryForm(initial=initial, layers_with_data=layers))

    if request.POST.get(HONEYPOT_FIELD):
        # A bot: it sees the usual thanks page, and nothing is stored or sent.
        logger.info("inquiry form: honeypot filled in, submission dropped")
        return render(request, "proposals/inquiry_thanks.html", {"reference": None})

    form = InquiryForm(request.POST, layers_with_data=layers)
    fingerprint = client_fingerprint(client_address(request))
    if inquiry_rate_limit_reached(client_fingerprint=fingerprint):
        logger.info("inquiry form: rate limit reached for %s", fingerprint[:12])
        return _render_form(request, form, status=429, rate_limited=True)
    if not form.is_valid():
        return _render_form(request, form)
    inquiry = inquiry_create(
        data=form.inquiry_data(), acting_user=user, client_fingerprint=fingerprint
    )
    token = signing.dumps(inquiry.pk, salt=THANKS_SALT)
    return redirect("inquiry_thanks", token=token)


@require_GET
def inquiry_thanks(request: HttpRequest, token: str) -> HttpResponse:
    """After sending: the reference number only (the signed link names no one)."""
    try:
        pk = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature:
        raise Http404 from None
    inquiry = Inquiry.objects.filter(pk=pk).only("pk", "site").first()
    if inquiry is None:
        raise Http404
    context: dict[str, Any] = {"reference": inquiry.reference, "site": None}
    if inquiry.site_id is not None:
        context["site"] = Site.objects.filter(pk=inquiry.site_id).only("pk", "title").first()
    return render(request, "proposals/inquiry_thanks.html", context)


# The "ask about this site" form's signed render time: fresh in every response, also in a
# page from the anonymous cache.
RENDERED_MARK = "sfrendered-5a1c0e77d3"
_FRESH_RENDER_TIME = {RENDERED_MARK: rendered_token}


@ensure_csrf_cookie  # the shortlist button sends it with its POST and DELETE requests
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The facts of one site, its photos and documents, a map with the nearest feature of
    every reference layer, the distances, and its planning situation in plain words (all
    from properties), with "Ask about this site", which makes an inquiry: the page is
    composed here because proposals builds on properties, not the other way round.
    Anonymous visitors' pages come from the shared cache (sitefinder.pagecache)."""
    if not pagecache.cacheable(request):
        return _site_detail_page(request, pk, {})
    key = pagecache.cache_key(request, "site-detail", map_config.reference_version())
    cached = pagecache.cached_response(request, key, _FRESH_RENDER_TIME)
    if cached is not None:
        return cached
    placeholders = {**pagecache.prepare(request), "rendered_token": RENDERED_MARK}
    return pagecache.store(
        request, key, _site_detail_page(request, pk, placeholders), _FRESH_RENDER_TIME
    )


def _site_detail_page(request: HttpRequest, pk: int, placeholders: dict[str, Any]) -> HttpResponse:
    site = visible_site_or_404(request, pk)
    user = request.user if isinstance(request.user, User) else None
    initial = {"contact_name": user.get_full_name(), "email": user.email} if user else {}
    return _site_page(request, site, SiteQuestionForm(initial=initial), **placeholders)


def _site_page(
    request: HttpRequest, site: Site, form: SiteQuestionForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    # A fresh render time with every page (after an error the clock starts anew), unless
    # the page is rendered for the cache with a placeholder in its place.
    extra.setdefault("rendered_token", rendered_token())
    context = site_detail_context(site, question_form=form, **extra)
    return render(request, "properties/site_detail.html", context, status=status)


@require_http_methods(["POST"])
def site_question(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Ask about this site" (the form on the site's page): an inquiry tied to the site in
    staff's inbox, its partner told by e-mail; the inquiry form's spam protection."""
    site = visible_site_or_404(request, pk)
    user = request.user if isinstance(request.user, User) else None
    if request.POST.get(HONEYPOT_FIELD):
        logger.info("site question: honeypot filled in, submission dropped")
        return render(request, "proposals/inquiry_thanks.html", {"reference": None, "site": site})

    form = SiteQuestionForm(request.POST)
    fingerprint = client_fingerprint(client_address(request))

    def page(status: int, **extra: Any) -> HttpResponse:
        return _site_page(request, site, form, status=status, **extra)

    if inquiry_rate_limit_reached(client_fingerprint=fingerprint):
        logger.info("site question: rate limit reached for %s", fingerprint[:12])
        return page(429, question_rate_limited=True)
    if not form.is_valid():
        return page(200)  # as the inquiry form: the page again, with the errors marked
    inquiry = inquiry_create(
        data=form.inquiry_data(site),
        acting_user=user,
        client_fingerprint=fingerprint,
        site=site,
    )
    token = signing.dumps(inquiry.pk, salt=THANKS_SALT)
    return redirect("inquiry_thanks", token=token)
