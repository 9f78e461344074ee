from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework_gis.pagination import GeoJsonPagination as DrfGisGeoJsonPagination

from sitefinder.counting import EstimatingPaginator


class GeoJsonPagination(DrfGisGeoJsonPagination):
    """GeoJSON FeatureCollection pages; a page past the end names the valid range. Above
    COUNT_EXACT_MAX matches, `count` is an estimate and `count_is_exact` is false."""

    django_paginator_class = EstimatingPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """`page_size` 1 to max_page_size (the schema's limits); anything else is a 400
        naming the parameter, not silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give page_size as a whole number from 1 to %(max)d.")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

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
        # `schema` is the list serializer's FeatureCollection ({type, features}); a page is
        # that collection with the page's counts and links beside `features`.
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "allOf": [
                schema,
                {
                    "type": "object",
                    "required": ["type", "count", "next", "previous", "features"],
                    "properties": {
                        "count": {"type": "integer", "minimum": 0},
                        "count_is_exact": {
                            "type": "boolean",
                            "description": "False when `count` is an estimate (above the "
                            "exact-count limit).",
                        },
                        "next": {**link, "description": "The next page; null on the last."},
                        "previous": {
                            **link,
                            "description": "The previous page; null on the first.",
                        },
                    },
                },
            ]
        }

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["allowEmptyValue"] = True  # empty: the first page, the default size
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters
