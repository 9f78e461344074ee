from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework_gis.pagination import GeoJsonPagination as DrfGisGeoJsonPagination

from sitefinder.counting import EstimatingPaginator


class GeoJsonPagination(DrfGisGeoJsonPagination):
    """GeoJSON FeatureCollection pages; a page past the end names the valid range. Above
    COUNT_EXACT_MAX matches, `count` is an estimate and `count_is_exact` is false."""

    django_paginator_class = EstimatingPaginator
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

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_is_exact"] = self.page.paginator.count_is_exact
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_exact"] = {
            "type": "boolean",
            "description": "False when `count` is an estimate (above the exact-count limit).",
        }
        return schema
