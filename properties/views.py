"""HTML views of sites: the map page and the site detail page."""

from __future__ import annotations

import io
import json
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.models import User
from accounts.permissions import is_investor_or_visitor
from geodata.models import Dataset
from sitefinder import pagecache

from . import basemaps, map_config, search
from .api.filters import SiteFilterSet
from .models import Site, SiteMedia
from .nearest import NearestFeature, site_nearest
from .presentation import (
    SITE_KIND_COLOURS,
    distance_rows,
    planning_explanations,
    site_facts,
    site_last_verified,
)
from .services.export import EXPORT_MAX_ROWS
from .services.expose import site_expose_pdf
from .signals import search_found_nothing

# Reference layers drawn around a site on its detail page.
SITE_MAP_LAYERS = ("rail_lines", "stations")


@ensure_csrf_cookie  # the shortlist buttons send it with their POST and DELETE requests
def map_view(request: HttpRequest) -> HttpResponse:
    """The investor search: the map of the region with the published sites and the
    reference layers, the filter form and the list of results, all from one URL.
    Anonymous visitors' pages come from the shared cache (sitefinder.pagecache)."""
    canonical = search.canonical_query(request.GET)
    if canonical is not None:
        # A form sent without JavaScript: the same search in the API's parameters.
        query = canonical.urlencode()
        return redirect(reverse("map") + (f"?{query}" if query else ""))
    if not pagecache.cacheable(request):
        return _map_page(request, {})
    key = pagecache.cache_key(request, "map", map_config.reference_version())
    cached = pagecache.cached_response(request, key)
    if cached is not None:
        if cached.anonymous_cache_note == pagecache.EMPTY_SEARCH:  # type: ignore[attr-defined]
            search_found_nothing.send(sender=map_view, query_dict=request.GET, channel="page")
        return cached
    return pagecache.store(request, key, _map_page(request, pagecache.prepare(request)))


def _map_page(request: HttpRequest, placeholders: dict[str, str]) -> HttpResponse:
    reference = map_config.map_reference()
    boundaries = reference["boundaries"]
    layers = reference["layers"]
    layers_with_data = {entry["slug"] for entry in layers if entry["featureCount"]}
    kinds = [
        {"value": kind.value, "label": str(kind.label), "colour": SITE_KIND_COLOURS[kind]}
        for kind in Site.Kind
    ]
    user = request.user if isinstance(request.user, User) else None
    filter_data = request.GET.copy()
    for name in search.PAGE_ONLY_PARAMETERS:
        filter_data.pop(name, None)
    filterset = SiteFilterSet(filter_data, queryset=Site.objects.visible_to(user), request=request)
    form = search.search_form(filterset, layers_with_data, reference["places"])
    count, count_is_exact, page = search.result_page(filterset, request.GET.get("page"))
    recorded = False
    if count == 0 and filterset.is_valid() and is_investor_or_visitor(request.user):
        # Unmet demand: an investor's search that found nothing (search records it).
        search_found_nothing.send(sender=map_view, query_dict=request.GET, channel="page")
        recorded = True
    sort = request.GET.get("sort") or "newest"
    entries = search.result_entries(page, sort, {k["value"]: k["label"] for k in kinds})
    # The layer a distance sort measures to, named next to each entry's distance.
    sort_distance_labels = {
        choice.value: str(search.SORT_LABELS[choice.value])
        for choice in form["sort"].choices
        if choice.value.startswith("distance_")
    }
    config = {
        "tiles": map_config.tile_urls(),
        "siteUrl": map_config.url_template("site_detail", pk=7770004),
        "apiUrl": reverse("api-site-list"),
        "placesUrl": reverse("api-places"),
        "shortlistUrl": _shortlist_api_url(),
        "pageSize": search.RESULTS_PER_PAGE,
        # Invalid filters (shown as form errors) must not reach the tiles: they would 400.
        "filtersValid": filterset.is_valid(),
        "proximityParameters": list(search.PROXIMITY_ORDER),
        "bounds": reference["bounds"],
        "basemap": map_config.basemap(),
        "attributionPrefix": format_html(
            '<a href="{}">{}</a>', reverse("attributions"), _("Data & licences")
        ),
        "boundaries": boundaries,
        "layers": layers,
        "sitesAttribution": reference["sitesAttribution"],
        "municipalityLabels": reference["municipalityLabels"],
        "kinds": kinds,
        "sortDistanceLabels": sort_distance_labels,
        "exportMaxRows": EXPORT_MAX_ROWS,
        "messages": {
            "demo": _("Demo data"),
            "unfilteredClusters": _(
                "Too many matching sites to group at this zoom: the circles count all "
                "sites. Zoom in to see only the search's sites."
            ),
            "kind": _("Kind"),
            "status": _("Status"),
            "area": _("Area"),
            "price": _("Price"),
            "priceOnRequest": _("on request"),
            "priceUnknown": _("not stated"),
            "offerLabels": {value: str(label) for value, label in Site.OfferType.choices},
            "unitSale": _("€/m²"),
            "unitRent": _("€/m²/month"),
            "unitLeasehold": _("€/m²/year"),
            "commissionFree": _("commission-free"),
            "municipality": _("Municipality"),
            "details": _("Details"),
            "detailsOf": _("Details of %(title)s"),
            "reserved": _("Reserved"),
            "resultsOne": _("1 site"),
            "resultsMany": _("%(count)s sites"),
            "resultsAbout": _("about %(count)s sites"),
            "resultsNone": _("No sites match this search."),
            "loading": _("Searching …"),
            "failed": _("The search failed. Please try again."),
            "invalid": _("Please correct the marked filters."),
            "pageOf": _("Page %(page)s of %(pages)s"),
            "previous": _("Previous page"),
            "next": _("Next page"),
            "shortlistAdd": _("Add %(title)s to the shortlist"),
            "shortlistRemove": _("Remove %(title)s from the shortlist"),
            "shortlisted": _("On the shortlist"),
            "shortlist": _("Shortlist"),
            "drawPolygonHint": _(
                "Click on the map to set the corners; click the first corner to finish."
            ),
            "drawCircleHint": _("Click the centre, then click again to set the radius."),
            "areaPolygon": _("Search area: drawn polygon"),
            "areaCircle": _("Search area: %(km)s km around a point"),
            "areaNone": _("No search area: the whole region."),
            "scopeBbox": _("in the map area searched"),
            "scopeArea": _("in the drawn area"),
            "scopeNear": _("around the chosen point"),
            "scopePlaces": _("in the chosen municipalities"),
            "scopeRegion": _("in the whole Ruhr area"),
            "placeSearchEmpty": _("No place found. Try a town, station or site number."),
            "placeSearchFailed": _("The place search failed. Please try again."),
            "exportTooMany": _(
                "Too many results to export: narrow the search to at most %(max)s sites."
            ),
        },
    }
    context = {
        "config": config,
        "layer_groups": [
            {"title": _("Boundaries"), "entries": boundaries},
            {"title": _("Infrastructure"), "entries": layers},
        ],
        "kinds": kinds,
        "form": form,
        "count": count,
        "count_text": (
            _("1 site")
            if count == 1
            else (_("%(count)s sites") if count_is_exact else _("about %(count)s sites"))
            % {"count": number_format(count, 0, force_grouping=True)}
        ),
        "scope_text": search.search_scope(request.GET),
        "page": page,
        "entries": entries,
        "sort_label": sort_distance_labels.get(sort, ""),
        "query": _query_without(request.GET, "page"),
        "selected": request.GET.get("selected", ""),
        # Exports and a saved search take the filters and the sort, not the page's view.
        "search_query": _query_without(request.GET, *search.PAGE_ONLY_PARAMETERS),
        "exports": _export_links(),
        "export_too_many": count > EXPORT_MAX_ROWS,
        "export_max_rows": number_format(EXPORT_MAX_ROWS, 0, force_grouping=True),
        **placeholders,
    }
    response = render(request, "properties/map.html", context)
    if recorded:  # each visit is recorded, also those answered from the cache
        response.anonymous_cache_note = pagecache.EMPTY_SEARCH  # type: ignore[attr-defined]
    return response


def _query_without(params: QueryDict, *names: str) -> str:
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _shortlist_api_url() -> str:
    return reverse("api-shortlist")


def _export_links() -> list[dict[str, str]]:
    """The exports of the result set; the page's script appends the current query."""
    return [
        {"format": label, "url": reverse(name), "type": content_type}
        # Names of file formats: the same in every language.
        for label, name, content_type in (
            ("CSV", "api-site-export-csv", "text/csv"),
            (
                "XLSX",
                "api-site-export-xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ("GeoJSON", "api-site-export-geojson", "application/geo+json"),
        )
    ]


def site_detail_context(site: Site, **extra: Any) -> dict:
    """What the site's page (proposals.views.site_detail) shows of the site; the page adds
    the "ask about this site" form in `extra`."""
    nearest = site_nearest(site)
    media = list(site.media.all())
    reference = map_config.map_reference()
    context = {
        "site": site,
        "kind_colour": SITE_KIND_COLOURS.get(site.kind, "#546e7a"),
        "facts": site_facts(site),
        "distances": distance_rows(nearest),
        "explanations": planning_explanations(site),
        "contact": {
            "name": site.contact_name,
            "email": site.contact_email,
            "phone": site.contact_phone,
        },
        "last_verified": site_last_verified(site),
        "photos": [item for item in media if item.kind == SiteMedia.Kind.PHOTO],
        "documents": [
            _document_entry(item) for item in media if item.kind == SiteMedia.Kind.DOCUMENT
        ],
        "site_geometry": _geometry_feature(site),
        "map_config": map_config.small_map_config(
            reference,
            # Context around the site: the railway, with its stations.
            layers=[
                entry
                for entry in reference["layers"]
                if entry["slug"] in SITE_MAP_LAYERS and entry["featureCount"]
            ],
            siteColour=SITE_KIND_COLOURS.get(site.kind, "#546e7a"),
            nearest=_nearest_map_entries(nearest),
        ),
        **extra,
    }
    return context


def site_expose(request: HttpRequest, pk: int) -> FileResponse:
    """The site's exposé as PDF, in the active language (?lang=en|de overrides it)."""
    site = visible_site_or_404(request, pk)
    language = request.GET.get("lang", "")
    if language not in dict(settings.LANGUAGES):
        language = get_language() or settings.LANGUAGE_CODE
    pdf = site_expose_pdf(site=site, language=language)
    response = FileResponse(
        io.BytesIO(pdf),
        content_type="application/pdf",
        filename=f"expose-{site.pk}-{slugify(site.title) or 'site'}.pdf",
    )
    response["Content-Language"] = language
    return response


def visible_site_or_404(request: HttpRequest, pk: int) -> Site:
    """The site if the user may see it (drafts only for its editors), else 404."""
    user = request.user if isinstance(request.user, User) else None
    return get_object_or_404(
        Site.objects.visible_to(user)
        .select_related("municipality__district")
        # Their outlines: thousands of vertices the page does not show.
        .defer("municipality__geom", "municipality__district__geom"),
        pk=pk,
    )


# --- site detail ----------------------------------------------------------------------


def _geometry_feature(site: Site) -> dict:
    """The site as a GeoJSON feature in EPSG:4326 (transformed by PostGIS)."""
    geojson = (
        Site.objects.filter(pk=site.pk)
        .annotate(geojson=AsGeoJSON(Transform("geom", 4326), precision=7))
        .values_list("geojson", flat=True)
        .get()
    )
    return {"type": "Feature", "properties": {"title": site.title}, "geometry": json.loads(geojson)}


def _document_entry(item: SiteMedia) -> dict:
    """A document link with its file type and size (None if the file has gone missing)."""
    name = (item.file.name or "").rsplit("/", 1)[-1]
    try:
        size: int | None = item.file.size
    except OSError:
        size = None
    extension = name.rsplit(".", 1)[-1].upper() if "." in name else ""
    return {"url": item.file.url, "title": item.caption or name, "type": extension, "size": size}


def _nearest_map_entries(nearest: list[NearestFeature]) -> list[dict]:
    """For the detail map: per stored distance with a feature, its geometry and the
    connector from the site, both in EPSG:4326 (computed by PostGIS), and the distance."""
    entries = []
    for entry, row in zip(nearest, distance_rows(nearest), strict=True):
        if entry.feature_id is None or entry.layer is None:
            continue
        entries.append(
            {
                "field": entry.field,
                "layer": entry.layer.slug,
                "layerName": row["layer"],
                "colour": entry.layer.colour,
                "featureId": entry.feature_id,
                "name": entry.feature_name,
                "distance": row["distance"],
                "distanceM": entry.distance_m,
                "feature": entry.feature_geojson,
                "connector": entry.connector_geojson,
            }
        )
    return entries


def attributions(request: HttpRequest) -> HttpResponse:
    """Every dataset shown by sitefinder with its source, licence and required attribution
    (the reference data's datasets, the base maps, and whether demo sites are shown)."""
    context = {
        "datasets": Dataset.objects.order_by("title"),
        "demo_site_count": Site.objects.published().demo().count(),
        "basemaps": basemaps.attribution_rows(),
    }
    return render(request, "geodata/attributions.html", context)
