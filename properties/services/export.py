"""Exporting a filtered set of sites: rows for CSV and XLSX, a FeatureCollection for GeoJSON.

Every column is computed by the database in one query (choice labels, yes/no texts, hectares,
rounded distances, the detail URL, lon/lat in EPSG:4326), so the writers only format. Labels
and choice texts are resolved when the query is built, i.e. in the request's language.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Expression,
    F,
    Field,
    FloatField,
    Func,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Round, TruncDate
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geodata.layers import DISTANCE_FIELDS
from geodata.models import Dataset
from geodata.querysets import layers_with_datasets
from properties.models import Site
from sitefinder.db import read_connection
from sitefinder.l10n import unprefixed_path
from sitefinder.spreadsheet import safe_row, safe_text

# Exports stay bounded: a larger result must be narrowed by filters first.
EXPORT_MAX_ROWS = 10_000

DEMO_NOTICE = gettext_lazy(
    "Sites flagged as demo data are generated for demonstration; they are not real sites."
)


@dataclass(frozen=True)
class ExportColumn:
    key: str  # stable machine name: GeoJSON property, never translated
    label: str | Promise  # header in CSV and XLSX, in the active language
    expression: Expression | F
    width: int = 14  # XLSX column width (characters)
    is_bool: bool = False  # True/False in GeoJSON, yes/no text in CSV and XLSX
    # The machine-readable value (a choice's code, a list of codes) where `expression` is a
    # label for people: GeoJSON carries the code under `key` and the label under
    # `<key>_label`, so its properties never change with the language.
    code: Expression | F | None = None


def _choice_label(field: str, choices: Iterable[tuple[str, Any]]) -> Case:
    return Case(
        *[When(**{field: value}, then=Value(str(label))) for value, label in choices],
        default=F(field),
        output_field=CharField(),
    )


def _hectares(field: str) -> Round:
    return Round(Cast(F(field) / 10_000, DecimalField(max_digits=14, decimal_places=4)), 2)


def _metres(field: str) -> Cast:
    return Cast(Round(F(field)), IntegerField())


def _coordinate(function: str) -> Round:
    # ST_X/ST_Y of the point on surface, transformed in SQL; 6 decimals ≈ 0.1 m.
    value = Func(Transform("location", 4326), function=function, output_field=FloatField())
    return Round(Cast(value, DecimalField(max_digits=12, decimal_places=8)), 6)


def _servicing_text() -> Func:
    parts = [
        Case(When(**{field: True}, then=Value(str(_label(field)))))
        for field in ("has_water", "has_sewer", "has_power", "has_gas_heat")
    ]
    # concat_ws skips NULLs: only the services present are listed.
    return Func(Value(", "), *parts, function="concat_ws", output_field=CharField())


def _detail_url(base_url: str) -> Concat:
    marker = 987654321
    # Without a language: the page opens in the reader's (as the API's "url").
    path = unprefixed_path(reverse("site_detail", args=[marker]))
    prefix, suffix = f"{base_url.rstrip('/')}{path}".split(str(marker))
    return Concat(Value(prefix), Cast("id", CharField()), Value(suffix), output_field=CharField())


def _choice_column(key: str, choices: Iterable[tuple[str, Any]], width: int = 14) -> ExportColumn:
    return ExportColumn(key, _label(key), _choice_label(key, choices), width, code=F(key))


def _codes_text(field: str, choices: Iterable[tuple[str, Any]]) -> Func:
    """An array of codes as a comma-separated list of labels, still in SQL."""
    labels: Expression | F = F(field)
    for code, label in choices:
        labels = Func(
            labels,
            Value(code),
            Value(str(label)),
            function="array_replace",
            output_field=ArrayField(CharField()),
        )
    return Func(labels, Value(", "), function="array_to_string", output_field=CharField())


def _label(field: str) -> str | Promise:
    return cast(Field, Site._meta.get_field(field)).verbose_name


def export_columns(*, base_url: str = "") -> list[ExportColumn]:
    """The export's columns, in order; build inside the request (labels are translated)."""
    return [
        ExportColumn("id", "ID", F("id"), 8),
        ExportColumn("title", _label("title"), F("title"), 40),
        _choice_column("kind", Site.Kind.choices, 20),
        _choice_column("status", Site.Status.choices),
        ExportColumn("is_demo", _("Demo data (not a real site)"), F("is_demo"), 12, True),
        ExportColumn("municipality", _label("municipality"), F("municipality__name"), 22),
        ExportColumn("district", _("district"), F("municipality__district__name"), 22),
        ExportColumn("ags", _("AGS"), F("municipality__ags"), 10),
        ExportColumn("gross_area_m2", _label("gross_area_m2"), F("gross_area_m2")),
        ExportColumn("gross_area_ha", _("gross area (ha)"), _hectares("gross_area_m2")),
        ExportColumn("net_area_m2", _label("net_area_m2"), F("net_area_m2")),
        ExportColumn("net_area_ha", _("net area (ha)"), _hectares("net_area_m2")),
        ExportColumn("is_divisible", _label("is_divisible"), F("is_divisible"), 10, True),
        ExportColumn("min_divisible_m2", _label("min_divisible_m2"), F("min_divisible_m2")),
        ExportColumn("max_divisible_m2", _label("max_divisible_m2"), F("max_divisible_m2")),
        _choice_column("planning_category", Site.PlanningCategory.choices, 24),
        _choice_column("bplan_status", Site.BPlanStatus.choices, 30),
        _choice_column("restriction_class", Site.RestrictionClass.choices, 22),
        ExportColumn(
            "restrictions",
            _label("restrictions"),
            _codes_text("restrictions", Site.Restriction.choices),
            30,
            code=F("restrictions"),
        ),
        _choice_column("ownership", Site.Ownership.choices),
        ExportColumn("available_from", _label("available_from"), F("available_from"), 12),
        ExportColumn(
            "offer_types",
            _label("offer_types"),
            _codes_text("offer_types", Site.OfferType.choices),
            20,
            code=F("offer_types"),
        ),
        ExportColumn("price_eur_m2", _label("price_eur_m2"), F("price_eur_m2"), 12),
        ExportColumn("price_total_eur", _label("price_total_eur"), F("price_total_eur"), 14),
        ExportColumn("rent_eur_m2_month", _label("rent_eur_m2_month"), F("rent_eur_m2_month"), 12),
        ExportColumn(
            "ground_rent_eur_m2_year",
            _label("ground_rent_eur_m2_year"),
            F("ground_rent_eur_m2_year"),
            12,
        ),
        ExportColumn(
            "service_charges_eur_m2_month",
            _label("service_charges_eur_m2_month"),
            F("service_charges_eur_m2_month"),
            12,
        ),
        ExportColumn("commission_free", _label("commission_free"), F("commission_free"), 10, True),
        ExportColumn(
            "price_on_request", _label("price_on_request"), F("price_on_request"), 10, True
        ),
        ExportColumn(
            "price_negotiable", _label("price_negotiable"), F("price_negotiable"), 10, True
        ),
        ExportColumn("servicing", _("servicing"), _servicing_text(), 30),
        _choice_column("broadband", Site.Broadband.choices, 20),
        ExportColumn("has_rail_siding", _label("has_rail_siding"), F("has_rail_siding"), 10, True),
        ExportColumn("has_port_access", _label("has_port_access"), F("has_port_access"), 10, True),
        *[ExportColumn(field, _label(field), _metres(field)) for field in DISTANCE_FIELDS],
        ExportColumn(
            "last_verified", _label("last_verified_at"), TruncDate("last_verified_at"), 12
        ),
        ExportColumn("url", _("detail page"), _detail_url(base_url), 40),
        ExportColumn("lon", _("longitude (WGS 84)"), _coordinate("ST_X"), 12),
        ExportColumn("lat", _("latitude (WGS 84)"), _coordinate("ST_Y"), 12),
    ]


def _alias(key: str) -> str:
    # Annotation names may not shadow model fields; the prefix keeps them apart.
    return f"export_{key}"


def _export_values(queryset: QuerySet, columns: Sequence[ExportColumn], **extra: Any) -> QuerySet:
    annotations = {_alias(column.key): column.expression for column in columns}
    return queryset.annotate(**annotations, **extra).values(*annotations, *extra)


def sites_export_rows(
    *, queryset: QuerySet[Site], columns: Sequence[ExportColumn] | None = None
) -> Iterator[dict[str, Any]]:
    """The sites as dicts keyed by column key, in the queryset's order, from ONE query."""
    columns = columns if columns is not None else export_columns()
    keys = {_alias(column.key): column.key for column in columns}
    for row in _export_values(queryset, columns).iterator(chunk_size=2000):
        yield {keys[alias]: value for alias, value in row.items()}


def sites_export_geojson_features(
    *, queryset: QuerySet[Site], columns: Sequence[ExportColumn]
) -> str:
    """The sites' GeoJSON features (a JSON array as text), built by PostGIS in one query.

    Properties carry codes (`kind: "plot"`), never translated text; a column shown to people
    as a label has it as an extra property (`kind_label`). The ORM-built query is wrapped as
    a subquery; every value, including the property names, is a bound parameter.
    """
    codes = {_code_alias(c.key): c.code for c in columns if c.code is not None}
    inner = _export_values(
        queryset,
        columns,
        export_geometry=AsGeoJSON(Transform("geom", 4326), precision=6),
        **codes,
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    quote = read_connection(Site).ops.quote_name
    names: list[str] = []
    pairs: list[str] = []
    for column in columns:
        if column.code is not None:
            names += [column.key, f"{column.key}_label"]
            pairs.append(f"%s::text, t.{quote(_code_alias(column.key))}")
            pairs.append(f"%s::text, t.{quote(_alias(column.key))}")
        else:
            names.append(column.key)
            pairs.append(f"%s::text, t.{quote(_alias(column.key))}")
    # json_build_object takes at most 100 arguments: the properties are built in chunks
    # and merged.
    chunks = [pairs[i : i + 45] for i in range(0, len(pairs), 45)]
    properties = " || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks)
    sql = (
        "SELECT COALESCE(json_agg(json_build_object("
        "'type', 'Feature', 'id', t.{id}, 'geometry', t.export_geometry::json, "
        f"'properties', ({properties})::json)), '[]'::json)::text "
        f"FROM ({inner_sql}) AS t"
    ).replace("{id}", quote(_alias("id")))
    params = names + list(inner_params)
    # Read where the rows were read (a replica on a public GET).
    with read_connection(Site).cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _code_alias(key: str) -> str:
    return f"export_code_{key}"


def export_attribution() -> list[str]:
    """Who to credit: the boundary datasets and the datasets of every distance layer, then
    the demo notice. Four queries, whatever the number of sites."""
    boundary_datasets = Dataset.objects.filter(municipality__isnull=False).distinct()
    distance_layers = {spec.slug for spec, _filter in DISTANCE_FIELDS.values()}
    datasets: dict[int, Dataset] = {dataset.pk: dataset for dataset in boundary_datasets}
    for layer in layers_with_datasets():
        if layer.slug in distance_layers:
            for dataset in layer.datasets:
                datasets.setdefault(dataset.pk, dataset)
    lines = []
    for dataset in datasets.values():
        parts = [dataset.attribution or dataset.title]
        if dataset.licence:
            parts.append(f"({dataset.licence})")
        if dataset.attribution_url:
            parts.append(dataset.attribution_url)
        lines.append(" ".join(parts))
    lines.append(str(DEMO_NOTICE))
    return lines


def _text(column: ExportColumn, value: Any) -> Any:
    if column.is_bool:
        return _("yes") if value else _("no")
    return value


@dataclass(frozen=True)
class CsvDialect:
    """How a spreadsheet in a language reads CSV: German Excel splits on ";" and reads
    "1234,5" as a number; English Excel and most tools expect "," and "1234.5"."""

    code: str
    delimiter: str
    decimal: str


# Dutch, Polish and Turkish spreadsheets read decimal commas like German ones; Chinese
# ones read CSV as English ones do.
CSV_DIALECTS = {
    "de": CsvDialect("de", ";", ","),
    "en": CsvDialect("en", ",", "."),
    "nl": CsvDialect("nl", ";", ","),
    "pl": CsvDialect("pl", ";", ","),
    "tr": CsvDialect("tr", ";", ","),
}


def csv_dialect_for(language: str | None) -> CsvDialect:
    """The CSV dialect of a language (German, Dutch, Polish, Turkish: ";" and decimal
    commas); English otherwise (Chinese too)."""
    return CSV_DIALECTS.get((language or "")[:2], CSV_DIALECTS["en"])


def _csv_cell(column: ExportColumn, value: Any, dialect: CsvDialect) -> Any:
    if value is None:
        return ""
    if column.is_bool:
        return _("yes") if value else _("no")
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        return text.replace(".", dialect.decimal)
    return value


def sites_export_csv(
    *,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[ExportColumn],
    attribution: Sequence[str],
    dialect: CsvDialect | None = None,
) -> bytes:
    """CSV in the dialect of the language (`csv_dialect_for`): UTF-8 with BOM (Excel then
    reads umlauts), no thousands separators.

    The first line credits the sources once ("Sources: … | …", one cell); the second is the
    column header, then one row per site: a reader skips one line (pandas `skiprows=1`,
    QGIS "number of header lines to discard").
    """
    dialect = dialect or CSV_DIALECTS["en"]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(safe_row([_("Sources: %(sources)s") % {"sources": " | ".join(attribution)}]))
    writer.writerow(safe_row([str(column.label) for column in columns]))
    for row in rows:
        # Neutralised before numbers become text: "-12,5" is a number, not a formula.
        writer.writerow([_csv_cell(c, safe_text(row[c.key]), dialect) for c in columns])
    return buffer.getvalue().encode("utf-8")


def sites_export_xlsx(
    *,
    rows: Iterable[dict[str, Any]],
    columns: Sequence[ExportColumn],
    attribution: Sequence[str],
    filter_query: str,
    generated_at: datetime,
) -> bytes:
    """An XLSX workbook: the sites (bold frozen header, auto-filter, widths) and a sources
    sheet with the attribution, the demo notice, the filter used and the export time.
    Written by sitefinder.xlsx (text cells are inline strings, never formulas)."""
    from sitefinder.xlsx import BOLD, HIGHLIGHT, Cell, Sheet, workbook_bytes

    sheet = Sheet(
        str(_("Sites")),
        widths={index: column.width for index, column in enumerate(columns, start=1)},
        freeze="C2",  # header row and id/title stay visible
    )
    sheet.append([Cell(str(column.label), BOLD) for column in columns])
    demo_index = [column.key for column in columns].index("is_demo")
    count = 0
    yes_no = {True: _("yes"), False: _("no")}  # translated once, not per cell
    keys = [(column.key, column.is_bool) for column in columns]
    for row in rows:
        count += 1
        values: list[Any] = [
            yes_no[bool(row[key])] if is_bool else row[key] for key, is_bool in keys
        ]
        if row["is_demo"]:
            # Only the flag cell is highlighted.
            values[demo_index] = Cell(values[demo_index], HIGHLIGHT)
        sheet.append(values)
    sheet.auto_filter = f"A1:{_column_letter(len(columns))}{count + 1}"

    sources = Sheet(str(_("Sources")), widths={1: 24, 2: 100})
    sources.append([Cell(str(_("Sources")), BOLD)])
    for line in attribution:
        sources.append([str(_("Source")), line])
    sources.append([])
    sources.append([str(_("Filter")), filter_query or str(_("(none)"))])
    sources.append([str(_("Exported at")), generated_at.strftime("%Y-%m-%d %H:%M %Z")])
    sources.append([str(_("Sites")), count])
    return workbook_bytes([sheet, sources])


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def sites_export_geojson(
    *,
    queryset: QuerySet[Site],
    columns: Sequence[ExportColumn],
    attribution: Sequence[str],
    filter_query: str,
    generated_at: datetime,
) -> bytes:
    """A FeatureCollection in EPSG:4326; the features come from SQL as text, unparsed."""
    features = sites_export_geojson_features(queryset=queryset, columns=columns)
    head = {
        "type": "FeatureCollection",
        "attribution": list(attribution),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "filter": filter_query,
        "columns": {column.key: str(column.label) for column in columns},
    }
    return (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ' + features + "}").encode()
