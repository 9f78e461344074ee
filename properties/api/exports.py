"""Exports of a site search as CSV, XLSX and GeoJSON: the list's filters, the list's
visibility rules, bounded in size, with the attribution included."""

import re
from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from properties.models import Site
from properties.services import export
from sitefinder.counting import capped_count

from .filters import ApiSiteFilterSet

# Site ids, comma-separated (ASCII digits only: "¹".isdigit() is true, int("¹") fails).
IDS_PATTERN = r"^[0-9]{1,18}(,[0-9]{1,18})*$"
# The shortlist's filter, the same in every export's schema.
IDS_PARAMETER = OpenApiParameter(
    "ids",
    str,
    pattern=IDS_PATTERN,
    description="Comma-separated site ids (a shortlist); others are left out.",
)
_ID = re.compile(r"[0-9]{1,18}")


def _parse_ids(raw_values: list[str]) -> list[int]:
    ids: list[int] = []
    for raw in raw_values:
        for part in raw.split(","):
            part = part.strip()
            if not _ID.fullmatch(part):
                raise ValidationError(
                    {"ids": [_("Give site ids as comma-separated whole numbers, e.g. 1,2,3.")]}
                )
            ids.append(int(part))
    return ids


@extend_schema(
    parameters=[IDS_PARAMETER],
    responses={200: OpenApiTypes.BINARY},
)
class SiteExport(generics.GenericAPIView):
    """Base of the three exports; `export_format` selects the writer."""

    filterset_class = ApiSiteFilterSet
    renderer_classes = [JSONRenderer]  # for the 400s; the exports are HttpResponses
    pagination_class = None
    export_format = ""
    content_type = ""

    def get_queryset(self):
        return Site.objects.visible_to(self.request.user)

    def get(self, request, *args, **kwargs):
        # The same FilterSet as /api/v1/sites/: invalid values raise a 400 naming the field.
        dialect = request.query_params.get("dialect")
        if dialect is not None and dialect not in export.CSV_DIALECTS:
            raise ValidationError(
                {
                    "dialect": [
                        _("Give dialect=%(choices)s.")
                        % {"choices": " or ".join(sorted(export.CSV_DIALECTS))}
                    ]
                }
            )
        queryset = self.filter_queryset(self.get_queryset())
        if "ids" in request.query_params:
            queryset = queryset.filter(pk__in=_parse_ids(request.query_params.getlist("ids")))
        # Counted only as far as the limit (a broad search at a million sites would count
        # them all to refuse), then estimated, as the search page says it.
        total, exact = capped_count(queryset, export.EXPORT_MAX_ROWS)
        if total > export.EXPORT_MAX_ROWS:
            raise ValidationError(
                {
                    "non_field_errors": [
                        _(
                            "%(count)d sites match; an export holds at most %(max)d. "
                            "Please narrow the search."
                        )
                        if exact
                        else _(
                            "About %(count)d sites match; an export holds at most %(max)d. "
                            "Please narrow the search."
                        )
                        % {"count": total, "max": export.EXPORT_MAX_ROWS}
                    ]
                }
            )
        generated_at = timezone.localtime()
        columns = export.export_columns(base_url=request.build_absolute_uri("/"))
        attribution = export.export_attribution()
        filter_query = request.query_params.urlencode()
        body = self.render_export(
            queryset=queryset,
            columns=columns,
            attribution=attribution,
            filter_query=filter_query,
            generated_at=generated_at,
        )
        response = HttpResponse(body, content_type=self.content_type)
        filename = f"sitefinder-sites-{generated_at:%Y-%m-%d}.{self.export_format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Content-Language"] = request.LANGUAGE_CODE
        return response

    def render_export(
        self,
        *,
        queryset: QuerySet[Site],
        columns: list[export.ExportColumn],
        attribution: list[str],
        filter_query: str,
        generated_at: datetime,
    ) -> bytes:
        raise NotImplementedError


@extend_schema(
    parameters=[
        IDS_PARAMETER,
        OpenApiParameter(
            "dialect",
            str,
            enum=sorted(export.CSV_DIALECTS),
            description='de: ";" and decimal commas (German Excel); en: "," and decimal points. '
            "Default: the response language's.",
        ),
    ],
    responses={200: OpenApiTypes.BINARY},
)
class SiteExportCsv(SiteExport):
    """The filtered sites as CSV in the language's dialect (German: ";" and decimal commas;
    `dialect` chooses); UTF-8 with BOM; the first line credits the sources."""

    export_format = "csv"
    content_type = "text/csv; charset=utf-8"

    def render_export(self, *, queryset, columns, attribution, filter_query, generated_at):
        rows = export.sites_export_rows(queryset=queryset, columns=columns)
        return export.sites_export_csv(
            rows=rows, columns=columns, attribution=attribution, dialect=self.dialect()
        )

    def dialect(self) -> export.CsvDialect:
        requested = self.request.query_params.get("dialect")
        if requested is None:
            return export.csv_dialect_for(self.request.LANGUAGE_CODE)
        return export.CSV_DIALECTS[requested]


class SiteExportXlsx(SiteExport):
    """The filtered sites as an Excel workbook with a sources sheet."""

    export_format = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def render_export(self, *, queryset, columns, attribution, filter_query, generated_at):
        return export.sites_export_xlsx(
            rows=export.sites_export_rows(queryset=queryset, columns=columns),
            columns=columns,
            attribution=attribution,
            filter_query=filter_query,
            generated_at=generated_at,
        )


class SiteExportGeoJson(SiteExport):
    """The filtered sites as a GeoJSON FeatureCollection (EPSG:4326) with attribution."""

    export_format = "geojson"
    content_type = "application/geo+json"

    def render_export(self, *, queryset, columns, attribution, filter_query, generated_at):
        return export.sites_export_geojson(
            queryset=queryset,
            columns=columns,
            attribution=attribution,
            filter_query=filter_query,
            generated_at=generated_at,
        )
