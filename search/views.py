"""HTML pages of the search app: the shortlist with its comparison table, and the investor's
saved searches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from geodata.layers import DISTANCE_FIELDS
from properties.models import Site
from properties.presentation import offer_figure, site_price
from sitefinder import l10n

from .forms import SavedSearchEditForm, SavedSearchForm
from .models import SHORTLIST_MAX_SITES, SavedSearch
from .services.alerts import (
    saved_search_create,
    saved_search_default_name,
    saved_search_delete,
    saved_search_for_unsubscribe_token,
    saved_search_pause,
    saved_search_resume,
    saved_search_unsubscribe,
    saved_search_update,
    search_page_url,
)
from .services.shortlist import shortlist_remove, shortlist_sites

Number = float | Decimal


@require_safe
@ensure_csrf_cookie  # the page's script sends the token with its DELETE requests
def shortlist(request: HttpRequest) -> HttpResponse:
    """The shortlisted sites side by side, one column each."""
    sites = shortlist_sites(request=request)
    ids = ",".join(str(site.pk) for site in sites)
    context = {
        "sites": sites,
        "sections": _comparison(sites) if sites else [],
        "max_sites": SHORTLIST_MAX_SITES,
        "exports": [
            (label, f"{reverse(name)}?ids={ids}")
            # Names of file formats: the same in every language.
            for label, name in (
                ("CSV", "api-site-export-csv"),
                ("Excel (XLSX)", "api-site-export-xlsx"),
                ("GeoJSON", "api-site-export-geojson"),
            )
        ],
    }
    return render(request, "search/shortlist.html", context)


@require_POST
def shortlist_remove_site(request: HttpRequest) -> HttpResponse:
    """The remove button of a form that works without JavaScript; back to `next` (a page
    of this site) or the shortlist."""
    try:
        site_id = int(request.POST.get("site", ""))
    except ValueError:
        return HttpResponseBadRequest(_("Give the id of a site."))
    shortlist_remove(request=request, site_id=site_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("shortlist")
    response = redirect(next_url)
    response.status_code = 303  # see other: the result is a GET of the page
    return response


# --- the comparison table ----------------------------------------------------------------


def _comparison(sites: Sequence[Site]) -> list[dict]:
    """Sections of rows; each row a label and one cell per site. Where lower is better
    (price, distances) the lowest value is marked `best`."""
    return [
        {
            "title": _("Location and size"),
            "rows": [
                _row(_("Kind"), sites, lambda s: s.get_kind_display()),
                _row(_("Municipality"), sites, lambda s: s.municipality.name),
                _row(_("Gross area"), sites, lambda s: _area(s.gross_area_m2)),
                _row(_("Net area"), sites, lambda s: _area(s.net_area_m2)),
            ],
        },
        {
            "title": _("Planning"),
            "rows": [
                _row(_("Planning category"), sites, lambda s: s.get_planning_category_display()),
                _row(_("B-Plan status"), sites, lambda s: s.get_bplan_status_display()),
                _row(_("Restriction class"), sites, lambda s: s.get_restriction_class_display()),
                _row(_("Ownership"), sites, lambda s: s.get_ownership_display()),
            ],
        },
        {
            "title": _("Availability and price"),
            "rows": [
                _row(_("Available from"), sites, _available_from),
                _row(_("Offer"), sites, site_price),
                _row(
                    _("Sale price"),
                    sites,
                    lambda s: offer_figure(s, Site.OfferType.SALE),
                    key=lambda s: s.price_eur_m2,
                    best_label=_("lowest price"),
                ),
                _row(
                    _("Monthly rent"),
                    sites,
                    lambda s: offer_figure(s, Site.OfferType.RENT),
                    key=lambda s: s.rent_eur_m2_month,
                    best_label=_("lowest rent"),
                ),
            ],
        },
        {
            "title": _("Infrastructure"),
            "rows": [
                _row(_("Servicing"), sites, _servicing),
                _row(_("Broadband"), sites, lambda s: s.get_broadband_display()),
                _row(_("Rail siding"), sites, lambda s: _yes_no(s.has_rail_siding)),
                _row(_("Port access"), sites, lambda s: _yes_no(s.has_port_access)),
            ],
        },
        {
            "title": _("Distances (straight line)"),
            "rows": [_distance_row(name, sites) for name in DISTANCE_FIELDS],
        },
        {
            "title": _("Record"),
            "rows": [_row(_("Last verified"), sites, _last_verified)],
        },
    ]


def _row(
    label: str,
    sites: Sequence[Site],
    text: Callable[[Site], str],
    *,
    key: Callable[[Site], Number | None] | None = None,
    best_label: str = "",
) -> dict:
    best = _lowest([key(site) for site in sites]) if key else [False] * len(sites)
    return {
        "label": label,
        "best_label": best_label,
        "cells": [
            {"site_id": site.pk, "text": text(site), "best": is_best}
            for site, is_best in zip(sites, best, strict=True)
        ],
    }


def _lowest(values: list[Number | None] | list[int | None]) -> list[bool]:
    """Marks the lowest known value (ties: each of them); nothing when fewer than two sites
    have a value or all have the same."""
    known = [value for value in values if value is not None]
    if len(known) < 2 or min(known) == max(known):
        return [False] * len(values)
    lowest = min(known)
    return [value is not None and value == lowest for value in values]


def _distance_row(field_name: str, sites: Sequence[Site]) -> dict:
    layer, feature_filter = DISTANCE_FIELDS[field_name]
    label = layer.name
    if feature_filter.get("max_category"):
        label = _("%(layer)s (category 1–%(max)s)") % {
            "layer": label,
            "max": feature_filter["max_category"],
        }

    def hectometres(site: Site) -> int | None:
        # Compared as shown (0.1 km), so two equal-looking values are both the shortest.
        metres = getattr(site, field_name)
        return None if metres is None else round(metres / 100)

    def text(site: Site) -> str:
        tenths = hectometres(site)
        return "–" if tenths is None else l10n.km(tenths * 100)

    return _row(label, sites, text, key=hectometres, best_label=_("shortest distance"))


def _area(m2: float | None) -> str:
    """ "12,345 m² (1.23 ha)" in the active language."""
    if m2 is None:
        return "–"
    return f"{l10n.area_m2(m2)} ({l10n.hectares(m2, 2)})"


def _available_from(site: Site) -> str:
    if site.available_from is None:
        return pgettext("available", "immediately")
    return date_format(site.available_from, "DATE_FORMAT")


def _servicing(site: Site) -> str:
    present = [
        str(label)
        for has, label in (
            (site.has_water, _("water")),
            (site.has_sewer, _("sewer")),
            (site.has_power, _("power")),
            (site.has_gas_heat, _("gas / district heat")),
        )
        if has
    ]
    return ", ".join(present) or _("none stated")


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _last_verified(site: Site) -> str:
    if site.last_verified_at is None:
        return _("not yet verified")
    return date_format(localtime(site.last_verified_at), "DATE_FORMAT")


# --- saved searches ----------------------------------------------------------------------


def _account(request: HttpRequest) -> User:
    # login_required has let only signed-in users through.
    assert isinstance(request.user, User)  # noqa: S101
    return request.user


def _see_other(request: HttpRequest, default: str) -> HttpResponse:
    """303 to `next` (a page of this site) or `default`: the result of a form is a GET."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = default
    response = redirect(next_url)
    response.status_code = 303
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def saved_searches(request: HttpRequest) -> HttpResponse:
    """The user's saved searches; POST saves one ("Save this search" on the search page:
    `name`, `query` = the search's URL query string, optional `next`)."""
    user = _account(request)
    form = SavedSearchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            search = saved_search_create(
                user=user,
                name=form.cleaned_data["name"],
                query=form.cleaned_data["query"],
                frequency=form.cleaned_data["frequency"],
            )
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    if field == "name":
                        form.add_error("name", message)
                    else:  # a filter parameter of the (hidden) query
                        form.add_error(None, f"{field}: {message}")
        else:
            messages.success(
                request,
                _("Saved the search “%(name)s”. We e-mail you when a new or changed site matches.")
                % {"name": search.name},
            )
            return _see_other(request, reverse("saved_searches"))
    searches = [
        {
            "search": search,
            "url": search_page_url(search.query),
            "filters": saved_search_default_name(search.query),
            "form": SavedSearchEditForm(
                initial={"name": search.name, "frequency": search.frequency},
                prefix=f"search-{search.pk}",
            ),
        }
        for search in SavedSearch.objects.of_user(user).with_last_alert()
    ]
    return render(
        request,
        "search/saved_searches.html",
        {"searches": searches, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def saved_search_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not saved_search_delete(user=_account(request), saved_search_id=pk):
        raise Http404(_("You have no saved search with the id %(id)s.") % {"id": pk})
    messages.success(request, _("The saved search was deleted."))
    return _see_other(request, reverse("saved_searches"))


@login_required
@require_POST
def saved_search_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Renames a saved search and sets how often it alerts (the form of its row)."""
    if not SavedSearch.objects.of_user(_account(request)).filter(pk=pk).exists():
        raise Http404(_("You have no saved search with the id %(id)s.") % {"id": pk})
    form = SavedSearchEditForm(request.POST, prefix=f"search-{pk}")
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}")
        return _see_other(request, reverse("saved_searches"))
    try:
        search = saved_search_update(
            user=_account(request),
            saved_search_id=pk,
            name=form.cleaned_data["name"],
            frequency=form.cleaned_data["frequency"],
        )
    except ValidationError as error:
        for messages_of_field in error.message_dict.values():
            for message in messages_of_field:
                messages.error(request, message)
        return _see_other(request, reverse("saved_searches"))
    if search is None:
        raise Http404(_("You have no saved search with the id %(id)s.") % {"id": pk})
    messages.success(request, _("Saved the changes to “%(name)s”.") % {"name": search.name})
    return _see_other(request, reverse("saved_searches"))


@login_required
@require_POST
def saved_search_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not saved_search_pause(user=_account(request), saved_search_id=pk):
        raise Http404(_("You have no saved search with the id %(id)s.") % {"id": pk})
    messages.success(request, _("Alerts of this search are paused."))
    return _see_other(request, reverse("saved_searches"))


@login_required
@require_POST
def saved_search_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not saved_search_resume(user=_account(request), saved_search_id=pk):
        raise Http404(_("You have no saved search with the id %(id)s.") % {"id": pk})
    messages.success(request, _("Alerts are on again, for sites published or changed from now."))
    return _see_other(request, reverse("saved_searches"))


# The signed token is what protects it; mail clients' one-click unsubscribe (RFC 8058) POSTs
# without a CSRF token.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def saved_search_unsubscribe_view(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The link in every alert e-mail, no login needed. GET asks to confirm (link checkers
    of mail servers open links too), POST turns the search's alerts off."""
    search = saved_search_for_unsubscribe_token(saved_search_id=pk, token=token)
    if search is None:
        raise Http404(_("This unsubscribe link is not valid."))
    if request.method == "POST":
        saved_search_unsubscribe(saved_search=search)
    with translation.override(search.language):  # the language of the e-mail it came from
        return render(
            request,
            "search/unsubscribe.html",
            {"search": search, "done": request.method == "POST"},
        )
