from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework_gis.pagination import GeoJsonPagination as DrfGisGeoJsonPagination


class GeoJsonPagination(DrfGisGeoJsonPagination):
    """GeoJSON FeatureCollection pages; a page past the end names the valid range."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            paginator = self.django_paginator_class(queryset, self.get_page_size(request))
            message = _("Page %(page)s does not exist. Valid pages: 1 to %(last)s.") % {
                "page": request.query_params.get(self.page_query_param),
                "last": paginator.num_pages,
            }
            raise NotFound({"page": [message]}) from None
