"""The rejected rows of an upload as a file to fix and upload again: the uploaded format
where possible, with an added error column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from sitefinder.spreadsheet import safe_row, xlsx_text_cell

from . import reading
from .report import REJECTED

if TYPE_CHECKING:
    from .report import UploadReport

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON_TYPE = "application/geo+json"


def upload_rejected_rows_file(
    *, path: Path | str, report: UploadReport, filename: str
) -> tuple[bytes, str, str]:
    """(content, content type, download name): the rejected rows in the uploaded format with
    an added error column ("Fehler" / "errors"): CSV -> CSV (same delimiter, UTF-8 with BOM),
    XLSX -> XLSX, GeoJSON -> GeoJSON (an error property), GeoPackage and Shapefile -> CSV
    with the attributes and a WKT column."""
    path = Path(path)
    errors = {row.row: " | ".join(row.messages) for row in report.rows if row.action == REJECTED}
    stem = Path(filename).stem or "upload"
    column = _("errors")
    suffix = path.suffix.lower()
    reading.check_file(path)
    with reading.open_source(path, None, filename) as source:
        headers = [str(h or "") for h in source.headers]
        if source.format == "XLSX":
            return _xlsx(source, headers, errors, column), XLSX_TYPE, f"{stem}-{_('rejected')}.xlsx"
        if source.kind == reading.TABLE:
            content = _csv(source, headers, errors, column, source.delimiter, wkt=False)
            return content, CSV_TYPE, f"{stem}-{_('rejected')}.csv"
        if suffix in (".geojson", ".json"):
            return (
                _geojson(path, errors, column, filename),
                GEOJSON_TYPE,
                (f"{stem}-{_('rejected')}.geojson"),
            )
        content = _csv(_with_wkt(path, filename), [*headers, "wkt"], errors, column, ";", wkt=True)
        return content, CSV_TYPE, f"{stem}-{_('rejected')}.csv"


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _csv(source, headers, errors, column, delimiter, *, wkt: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    # The cells come from the partner's file and the messages quote them: no cell may run
    # as a formula when the file is opened (the reader takes the apostrophe off again).
    writer.writerow(safe_row([*headers, column]))
    records = source if wkt else source.records
    for record in records:
        if record.row in errors:
            cells = list(record.cells) + [""] * (len(headers) - len(record.cells))
            row = [*(_cell(c) for c in cells[: len(headers)]), errors[record.row]]
            writer.writerow(safe_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(source, headers, errors, column) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(source.sheet or "Sheet1")
    sheet.append([xlsx_text_cell(sheet, h) for h in [*headers, column]])
    for record in source.records:
        if record.row in errors:
            cells = list(record.cells) + [None] * (len(headers) - len(record.cells))
            row = [*cells[: len(headers)], errors[record.row]]
            sheet.append([xlsx_text_cell(sheet, c) for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _gis_features(path: Path, filename: str):
    from geodata.importers.sources import opened, read_layer

    with opened(path) as (datasource, _format):
        layer = read_layer(
            datasource, layer_name=reading.site_layer_name(datasource), id_field=None
        )
        yield layer
        yield from enumerate(layer.features, start=1)


def _with_wkt(path: Path, filename: str):
    features = _gis_features(path, filename)
    layer = next(features)
    for number, feature in features:
        cells = [_cell(feature.attributes.get(h)) for h in layer.fields]
        cells.append(feature.geometry.wkt if feature.geometry is not None else "")
        yield reading.Record(row=number, cells=cells)


def _geojson(path: Path, errors: dict[int, str], column: str, filename: str) -> bytes:
    features = _gis_features(path, filename)
    layer = next(features)
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    if layer.srid and layer.srid != 4326:
        collection["crs"] = {"type": "name", "properties": {"name": f"EPSG:{layer.srid}"}}
    for number, feature in features:
        if number not in errors:
            continue
        properties = {k: _cell(v) for k, v in feature.attributes.items()}
        properties[column] = errors[number]
        geometry = json.loads(feature.geometry.json) if feature.geometry is not None else None
        collection["features"].append(
            {"type": "Feature", "properties": properties, "geometry": geometry}
        )
    return json.dumps(collection, ensure_ascii=False, default=str).encode("utf-8")
