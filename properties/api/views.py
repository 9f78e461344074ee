import hashlib
import json

from django.conf import settings
from django.db import router
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from accounts.permissions import is_investor_or_visitor
from properties.clusters import site_clusters_for_tiles
from properties.models import Site
from properties.signals import search_found_nothing
from properties.tiles import sites_tile
from sitefinder import pagecache
from sitefinder.api_fields import geojson_4326
from sitefinder.tiles import recent_data_version, tile_error, tile_response

from .filters import VIEW_PARAMETERS, SiteFilterSet
from .permissions import CanEditSite
from .serializers import SiteDetailSerializer, SiteSerializer


class VisibleSitesMixin:
    def get_queryset(self):
        return (
            Site.objects.visible_to(self.request.user)
            .for_listing()
            .annotate(geom_4326=geojson_4326())
        )


class AnonymousCacheMixin:
    """Anonymous JSON answers from the shared cache (sitefinder.pagecache), keyed on the
    query and the data version of the sites and municipalities (read at most
    DATA_VERSION_MEMO_SECONDS ago); authentication, permissions and the anonymous throttle
    have run before (DRF's initial())."""

    page_cache_name = ""
    page_cache_key: str | None = None

    def cached_answer(self, request):
        if not (pagecache.cacheable(request) and request.accepted_renderer.format == "json"):
            return None
        version = recent_data_version(("sites", "boundaries"))
        if version is None:
            return None
        self.page_cache_key = pagecache.cache_key(request, self.page_cache_name, version)
        return pagecache.cached_response(request, self.page_cache_key)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.page_cache_key and isinstance(response, Response):
            response = pagecache.store(request, self.page_cache_key, response)
        return response


class SiteList(AnonymousCacheMixin, VisibleSitesMixin, generics.ListAPIView):
    """Sites as a GeoJSON FeatureCollection (EPSG:4326), paginated, filterable by bbox.

    Anonymous users and investors see published and reserved sites; partners also their own
    municipalities' drafts; staff everything.
    """

    serializer_class = SiteSerializer
    filterset_class = SiteFilterSet
    page_cache_name = "api-sites"

    def list(self, request, *args, **kwargs):
        cached = self.cached_answer(request)
        if cached is not None:
            if cached.anonymous_cache_note == pagecache.EMPTY_SEARCH:
                search_found_nothing.send(
                    sender=type(self), query_dict=request.query_params, channel="api"
                )
            return cached
        response = super().list(request, *args, **kwargs)
        # Unmet demand: an investor's search that found nothing (search records it), on
        # every such search, also when it is answered from the cache.
        found_nothing = response.status_code == 200 and response.data.get("count") == 0
        if found_nothing and is_investor_or_visitor(request.user):
            search_found_nothing.send(
                sender=type(self), query_dict=request.query_params, channel="api"
            )
            response.anonymous_cache_note = pagecache.EMPTY_SEARCH
        return response


class SiteDetail(AnonymousCacheMixin, VisibleSitesMixin, generics.RetrieveAPIView):
    serializer_class = SiteDetailSerializer
    # Read-only today; the organisation scoping for writes is in place before any write is.
    permission_classes = [CanEditSite]
    page_cache_name = "api-site"

    def retrieve(self, request, *args, **kwargs):
        cached = self.cached_answer(request)
        return cached if cached is not None else super().retrieve(request, *args, **kwargs)

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("municipality__district")
            .defer("municipality__district__geom")
            .prefetch_related("media")
        )


@extend_schema(
    parameters=[SiteFilterSet],
    responses={(200, "application/vnd.mapbox-vector-tile"): OpenApiTypes.BINARY},
)
def site_tile(request, z: int, x: int, y: int):
    """Public sites as a Mapbox Vector Tile (layer `sites`).

    Takes the same filter parameters as /api/v1/sites/, so the map shows exactly the
    result set of a search; each distinct filter gets its own cache entries."""
    filters = {
        key: sorted(request.GET.getlist(key))
        for key in sorted(request.GET)
        if key not in VIEW_PARAMETERS and request.GET.getlist(key) != [""]
    }
    using = router.db_for_read(Site)
    clusters, current = None, False
    if z < settings.SITE_TILE_POINT_MIN_ZOOM and not tile_error(z, x, y):
        clusters, current = site_clusters_for_tiles(using)
    if not filters:
        return tile_response(
            request,
            name="sites",
            versions=("sites",),
            z=z,
            x=x,
            y=y,
            build=lambda: sites_tile(z, x, y, clusters=clusters, using=using),
            # Built from the aggregates: cached under what they were built from (the sites'
            # version and the day of the staleness cut-off), not anything newer.
            version=f"c{clusters.sites_version}-{clusters.day.isoformat()}" if clusters else None,
            # Right for the sites' current version only while the aggregates are current.
            current=str(clusters.sites_version) if clusters and current else None,
        )
    filterset = SiteFilterSet(request.GET, queryset=Site.objects.published(), request=request)
    if not filterset.is_valid():
        return JsonResponse(filterset.errors, status=400)
    digest = hashlib.sha256(json.dumps(filters).encode()).hexdigest()[:16]
    return tile_response(
        request,
        name=f"sites-{digest}",
        versions=("sites",),
        z=z,
        x=x,
        y=y,
        # A search's tile is keyed on the sites' own version: aggregates that are behind
        # them are not used for it.
        build=lambda: sites_tile(
            z, x, y, only=filterset.qs, clusters=clusters if current else None, using=using
        ),
    )
