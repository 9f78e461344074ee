from rest_framework.exceptions import NotFound
from rest_framework_gis.pagination import GeoJsonPagination as DrfGisGeoJsonPagination


class GeoJsonPagination(DrfGisGeoJsonPagination):
    """GeoJSON FeatureCollection pages; a page past the end says so with the page count."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            raise NotFound(
                {"page": [f"{exc.detail} Valid pages: 1 to {self.page.paginator.num_pages}." if hasattr(self, "page") else str(exc.detail)]}
            ) from exc
