"""Reading an upload: the file's rows as records, streamed (CSV line by line, XLSX through
openpyxl's read-only mode, GIS files feature by feature through GDAL with one allowed
driver), and what each column is read as."""

from __future__ import annotations

import codecs
import contextlib
import csv
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.gis.gdal import GDALException
from django.utils.translation import gettext as _

from geodata.importers.sources import (
    SourceError,
    check_path,
    check_zip_entries,
    checked_srid,
    opened,
    read_layer,
    resolve_srid,
)
from sitefinder.spreadsheet import FORMULA_PREFIXES

from . import vocabulary as vocab
from .report import GEOMETRY, MAPPED, NOT_USED, USED, ColumnReading, UploadError
from .vocabulary import site_field

SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".csv": "CSV",
    ".txt": "CSV",
    ".xlsx": "XLSX",
}
GDAL_SUFFIXES = {".geojson", ".json", ".gpkg", ".zip"}
TABLE, GIS = "table", "gis"
MAX_FILE_BYTES = 200 * 1024**2
MAX_XLSX_BYTES = 50 * 1024**2
MAX_XLSX_UNPACKED_BYTES = 400 * 1024**2
MAX_CELL_CHARS = 64 * 1024**2  # one WKT cell; a monster polygon is a row error


@dataclass
class Record:
    row: int
    cells: list[Any]
    geom_hex: str | None = None  # WKB
    wkt: str | None = None
    x: float | None = None
    y: float | None = None
    srid: int | None = None
    errors: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # fields whose cell was not understood


@dataclass
class Source:
    format: str
    kind: str  # TABLE or GIS
    headers: list[str]
    records: Iterator[Record]
    notes: list[str] = field(default_factory=list)
    german: bool = False
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = 1  # the header's line in a table
    sheet: str = ""


@dataclass
class Assignment:
    """A column read into a field: its position, the field, how to read it."""

    index: int
    field: str
    kind: str
    factor: float = 1.0


@dataclass
class ColumnPlan:
    readings: list[ColumnReading]
    assignments: list[Assignment]
    geometry: dict[str, int]  # role -> column index
    present: dict[str, str]  # field -> header that supplies it (also derived fields)
    notes: list[str]


def row_label(kind: str, number: int) -> str:
    if kind == TABLE:
        return _("line %(number)s") % {"number": number}
    return _("record %(number)s") % {"number": number}


def field_label(name: str) -> str:

    return str(site_field(name).verbose_name)


GEOMETRY_LABELS = {
    "wkt": lambda: _("geometry (WKT)"),
    "lon": lambda: _("longitude"),
    "lat": lambda: _("latitude"),
    "x": lambda: _("x coordinate"),
    "y": lambda: _("y coordinate"),
    "easting": lambda: _("easting (EPSG:25832)"),
    "northing": lambda: _("northing (EPSG:25832)"),
}
LOOKS_LIKE = {
    "price": lambda: _("a price"),
    "area": lambda: _("an area"),
    "date": lambda: _("a date"),
    "id": lambda: _("an id"),
}


def plan_columns(headers: list[str], kind: str, mappings: dict[str, str]) -> ColumnPlan:
    """What every column is read as, in file order."""
    readings: list[ColumnReading] = []
    assignments: list[Assignment] = []
    geometry: dict[str, int] = {}
    present: dict[str, str] = {}
    notes: list[str] = []
    taken: dict[str, str] = {}
    for index, header in enumerate(headers):
        header = str(header or "").strip()
        reading = vocab.read_header(header, mappings)
        status = MAPPED if reading.how == "mapped" else USED
        if reading.role == "field" and reading.field:
            name = reading.field
            if name in taken:
                readings.append(
                    ColumnReading(
                        header,
                        None,
                        "",
                        NOT_USED,
                        _("a second column for “%(field)s”: the column “%(first)s” is used")
                        % {"field": field_label(name), "first": taken[name]},
                    )
                )
                continue
            taken[name] = header
            value_kind = vocab.FIELDS[name]
            assignments.append(Assignment(index, name, value_kind, reading.factor))
            present[name] = header
            hints = []
            if reading.factor != 1:
                hints.append(_("read in hectares and converted to m²"))
            if value_kind == "price":
                hints.append(_("“on request” and “VB” set price on request / negotiable"))
            if value_kind == "contact":
                hints.append(_("an e-mail address or phone number in it goes to its own field"))
            if reading.how == "truncated":
                hints.append(_("a shortened column name"))
            readings.append(
                ColumnReading(header, name, field_label(name), status, "; ".join(hints))
            )
        elif reading.role == "geometry" and reading.field and kind == TABLE:
            if reading.field in geometry:
                readings.append(
                    ColumnReading(header, None, "", NOT_USED, _("a second geometry column"))
                )
                continue
            geometry[reading.field] = index
            readings.append(
                ColumnReading(
                    header, reading.field, str(GEOMETRY_LABELS[reading.field]()), GEOMETRY, ""
                )
            )
        elif reading.role == "geometry":
            readings.append(
                ColumnReading(
                    header,
                    None,
                    "",
                    NOT_USED,
                    _("not used: the geometry comes from the file's features"),
                )
            )
        elif reading.role == "derived":
            hint = (
                _("not used: the municipality is derived from the geometry")
                if reading.field == "municipality"
                else _("not used: the status is set by the review workflow")
            )
            readings.append(ColumnReading(header, None, "", NOT_USED, hint))
        elif reading.role == "ignored":
            readings.append(ColumnReading(header, None, "", NOT_USED, _("not used (your mapping)")))
        else:
            looks = vocab.looks_like(header) if header else None
            if looks:
                what = str(LOOKS_LIKE[looks]())
                readings.append(
                    ColumnReading(
                        header,
                        None,
                        "",
                        NOT_USED,
                        _("looks like %(what)s but is not understood: map it to a field")
                        % {"what": what},
                    )
                )
                notes.append(
                    _(
                        "The column “%(header)s” looks like %(what)s but is not understood, "
                        "so it is not read: map it to a field."
                    )
                    % {"header": header, "what": what}
                )
            else:
                readings.append(
                    ColumnReading(
                        header,
                        None,
                        "",
                        NOT_USED,
                        _("not understood") if header else _("no header"),
                    )
                )
    # Fields a price or contact column fills besides its own.
    names = {a.field for a in assignments}
    for assignment in assignments:
        header = headers[assignment.index]
        if assignment.kind == "price":
            for derived in ("price_on_request", "price_negotiable"):
                present.setdefault(derived, header)
        if assignment.kind == "contact":
            for derived in ("contact_email", "contact_phone"):
                if derived not in names:
                    present.setdefault(derived, header)
    return ColumnPlan(readings, assignments, geometry, present, notes)


# -- opening --------------------------------------------------------------------------------


def check_file(path: Path) -> Path:
    suffix = path.suffix.lower()
    try:
        if suffix == ".vrt" or "/vsi" in str(path).lower():
            check_path(path)  # raises the import core's message for these
        if suffix not in SUFFIXES:
            formats = ", ".join(sorted(set(SUFFIXES.values())))
            raise UploadError(
                _("%(name)s: files of type %(suffix)s are not accepted; use %(formats)s")
                % {"name": path.name, "suffix": repr(suffix), "formats": formats}
            )
        check_path(path, suffixes=SUFFIXES)
    except SourceError as exc:
        raise UploadError(str(exc)) from exc
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UploadError(
            _("%(name)s: the file is larger than %(size)s MB")
            % {"name": path.name, "size": MAX_FILE_BYTES // 1024**2}
        )
    return path


@contextlib.contextmanager
def open_source(path: Path, declared_srid: int | None, filename: str) -> Iterator[Source]:
    suffix = path.suffix.lower()
    try:
        if suffix in GDAL_SUFFIXES:
            with opened(path) as (datasource, format_name):
                yield _gis_source(datasource, format_name, declared_srid, filename)
        elif suffix == ".xlsx":
            with _xlsx_source(path, declared_srid, filename) as source:
                yield source
        else:
            with _csv_source(path, declared_srid, filename) as source:
                yield source
    except SourceError as exc:
        raise UploadError(str(exc).replace(path.name, filename)) from exc
    except GDALException as exc:
        raise UploadError(
            _("%(name)s: GDAL cannot read this file (%(error)s)") % {"name": filename, "error": exc}
        ) from exc


def site_layer_name(datasource) -> str | None:
    """Of several layers, the one holding the sites: the only one with at least two columns
    of site fields (a GeoPackage often carries a boundary or a contacts layer beside the
    sites). None when there is one layer or no single such layer (the reader then asks)."""
    if datasource.layer_count < 2:
        return None
    candidates = [
        datasource[index].name
        for index in range(datasource.layer_count)
        if sum(vocab.read_header(f).role == "field" for f in datasource[index].fields) >= 2
    ]
    return candidates[0] if len(candidates) == 1 else None


def _gis_source(datasource, format_name: str, declared: int | None, filename: str) -> Source:
    chosen = site_layer_name(datasource)
    layer = read_layer(datasource, layer_name=chosen, id_field=None)
    srid = resolve_srid(filename, layer.srid, declared)
    notes = []
    if chosen:
        others = [datasource[i].name for i in range(datasource.layer_count)]
        notes.append(
            _("Layer %(layer)s read; the other layers (%(others)s) hold no sites.")
            % {"layer": chosen, "others": ", ".join(n for n in others if n != chosen)}
        )
    if srid:
        notes.append(_("Coordinate system: EPSG:%(srid)s.") % {"srid": srid})

    def records() -> Iterator[Record]:
        for number, feature in enumerate(layer.features, start=1):
            record = Record(
                row=number, cells=[feature.attributes.get(h) for h in layer.fields], srid=srid
            )
            geometry = feature.geometry
            if geometry is None or geometry.empty:
                record.errors.append(_("no geometry"))
            elif not all(math.isfinite(v) for v in geometry.extent):
                record.errors.append(_("the geometry has coordinates that are not numbers"))
            else:
                record.geom_hex = bytes(geometry.wkb).hex()
            yield record

    return Source(
        format=format_name, kind=GIS, headers=list(layer.fields), records=records(), notes=notes
    )


def _detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if every byte of the file decodes as such, else cp1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


@contextlib.contextmanager
def _csv_source(path: Path, declared_srid: int | None, filename: str) -> Iterator[Source]:
    with open(path, "rb") as handle:
        if b"\x00" in handle.read(65536):
            raise UploadError(_("%(name)s: this is not a text (CSV) file") % {"name": filename})
    encoding = _detect_encoding(path)
    notes = []
    if encoding == "cp1252":
        notes.append(_("The file is not UTF-8: read as Windows-1252 (cp1252); check the umlauts."))
    csv.field_size_limit(MAX_CELL_CHARS)
    with open(path, encoding=encoding, errors="replace", newline="") as text:
        first_line = text.readline()
        text.seek(0)
        delimiter = max((";", ",", "\t", "|"), key=first_line.count)
        reader = csv.reader(text, delimiter=delimiter)
        try:
            headers = [h.strip() for h in next(reader)]
        except StopIteration:
            raise UploadError(_("%(name)s: the file is empty") % {"name": filename}) from None
        except csv.Error as exc:
            raise UploadError(_not_csv(filename, exc)) from exc

        def rows() -> Iterator[tuple[int, list[Any]]]:
            line = reader.line_num
            try:
                for values in reader:
                    yield line + 1, values
                    line = reader.line_num
            except csv.Error as exc:
                raise UploadError(_not_csv(filename, exc)) from exc

        german = delimiter == ";"
        yield Source(
            format="CSV",
            kind=TABLE,
            headers=headers,
            records=_table_records(rows(), declared_srid),
            notes=notes,
            german=german,
            delimiter=delimiter,
            encoding=encoding,
        )


def _not_csv(filename: str, exc: Exception) -> str:
    return _("%(name)s: not a readable CSV file (%(error)s)") % {"name": filename, "error": exc}


@contextlib.contextmanager
def _xlsx_source(path: Path, declared_srid: int | None, filename: str) -> Iterator[Source]:
    import openpyxl
    from openpyxl import DEFUSEDXML

    if not DEFUSEDXML:  # entity bombs would be expanded by the standard library parser
        raise UploadError(_("XLSX upload needs the defusedxml package"))
    if path.stat().st_size > MAX_XLSX_BYTES:
        raise UploadError(
            _("%(name)s: XLSX files larger than 50 MB are not accepted") % {"name": filename}
        )
    try:
        with zipfile.ZipFile(path) as archive:
            check_zip_entries(archive, filename, max_total_bytes=MAX_XLSX_UNPACKED_BYTES)
    except zipfile.BadZipFile:
        raise UploadError(_("%(name)s: not a valid XLSX file") % {"name": filename}) from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and defusedxml raise many kinds
        raise UploadError(_xlsx_problem(filename, exc)) from exc
    try:
        try:
            sheet, header_row, headers = _data_sheet(workbook)
        except UploadError:
            raise
        except Exception as exc:
            raise UploadError(_xlsx_problem(filename, exc)) from exc
        if not any(headers):
            raise UploadError(_("%(name)s: the first sheet is empty") % {"name": filename})

        def rows() -> Iterator[tuple[int, list[Any]]]:
            try:
                for number, values in enumerate(
                    sheet.iter_rows(min_row=header_row + 1, values_only=True),
                    start=header_row + 1,
                ):
                    yield number, list(values)
            except Exception as exc:
                raise UploadError(_xlsx_problem(filename, exc)) from exc

        yield Source(
            format="XLSX",
            kind=TABLE,
            headers=headers,
            records=_table_records(rows(), declared_srid),
            header_row=header_row,
            sheet=sheet.title,
        )
    finally:
        workbook.close()


def _data_sheet(workbook) -> tuple[Any, int, list[str]]:
    """The sheet and row holding the headers: of the first ten rows of each sheet, the one
    with the most understood headers (a template may put an instructions sheet or a title
    row first)."""
    best: tuple[int, Any, int, list[str]] | None = None
    for sheet in workbook.worksheets:
        for number, values in enumerate(sheet.iter_rows(max_row=10, values_only=True), start=1):
            headers = [str(v).strip() if v is not None else "" for v in values]
            while headers and not headers[-1]:
                headers.pop()
            known = sum(1 for h in headers if h and vocab.read_header(h).field)
            if best is None or known > best[0]:
                best = (known, sheet, number, headers)
    if best is None:
        sheet = workbook.worksheets[0]
        return sheet, 1, []
    return best[1], best[2], best[3]


def _xlsx_problem(filename: str, exc: BaseException) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:  # openpyxl wraps the parser's error
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = {type(e).__name__ for e in chain}
    if names & {"EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"}:
        return _(
            "%(name)s: the file contains XML entity or DTD declarations, which are refused "
            "(possible XML bomb or external entity)"
        ) % {"name": filename}
    return _("%(name)s: not a readable XLSX file (%(error)s)") % {
        "name": filename,
        "error": type(chain[-1]).__name__,
    }


FORMULA_CHARS = "".join(FORMULA_PREFIXES)


def _table_records(
    rows: Iterator[tuple[int, list[Any]]], declared_srid: int | None
) -> Iterator[Record]:
    for number, values in rows:
        if not any(v is not None and str(v).strip() for v in values):
            continue  # blank line
        yield Record(row=number, cells=[_unescaped(v) for v in values], srid=declared_srid)


def _unescaped(value: Any) -> Any:
    """A cell as the partner meant it: our own spreadsheet files (the rejected rows, the
    exports) write text that starts like a formula ("=", "-12") with a leading apostrophe so
    that no spreadsheet runs it (sitefinder.spreadsheet); read back, the apostrophe goes."""
    if (
        isinstance(value, str)
        and value.startswith("'")
        and value[1:2]
        and value[1] in FORMULA_CHARS
    ):
        return value[1:]
    return value


def table_geometry(
    record: Record, geometry: dict[str, int], declared_srid: int | None, german: bool
) -> None:
    """Fills the record's geometry from its WKT or coordinate cells."""

    def cell(role: str) -> Any:
        index = geometry[role]
        return record.cells[index] if index < len(record.cells) else None

    if "wkt" in geometry:
        _parse_wkt(record, cell("wkt"))
        return
    for x_role, y_role, srid in (
        ("lon", "lat", 4326),
        ("easting", "northing", 25832),
        ("x", "y", None),
    ):
        if x_role in geometry and y_role in geometry:
            record.srid = srid or declared_srid
            try:
                record.x = vocab.parse_number(cell(x_role), german=german)
                record.y = vocab.parse_number(cell(y_role), german=german)
            except vocab.ValueProblem as exc:
                record.errors.append(
                    _("coordinates: %(value)s is not a number") % {"value": repr(str(exc))}
                )
                record.x = record.y = None
            else:
                if record.x is None or record.y is None:
                    record.errors.append(_("no geometry (empty coordinates)"))
                elif record.srid in UTM_ZONES:
                    record.x = _without_zone(record.x, UTM_ZONES[record.srid])
            return


UTM_ZONES = {25832: 32, 25833: 33}


def _without_zone(easting: float, zone: int) -> float:
    """A Rechtswert written with its zone number in front (32380000.5 for 380000.5 in zone
    32), as ALKIS and many GIS exports do: the easting without it."""
    if zone * 1_000_000 <= easting < (zone + 1) * 1_000_000:
        return easting - zone * 1_000_000
    return easting


def geometry_mode(geometry: dict[str, int], declared_srid: int | None) -> int | None:
    """The CRS the coordinate columns imply; refuses a table without geometry columns."""
    if "wkt" in geometry:
        return None
    for x_role, y_role, srid in (("lon", "lat", 4326), ("easting", "northing", 25832)):
        if x_role in geometry and y_role in geometry:
            if declared_srid and declared_srid != srid:
                raise UploadError(
                    _(
                        "the coordinate columns mean EPSG:%(srid)s, but EPSG:%(declared)s was declared"
                    )
                    % {"srid": srid, "declared": declared_srid}
                )
            return srid
    if "x" in geometry and "y" in geometry:
        return declared_srid
    raise UploadError(
        _(
            "no geometry columns: give a WKT column (wkt, geometry, geom) or coordinates "
            "(lon/lat, Längengrad/Breitengrad, or Rechtswert/Hochwert for EPSG:25832)"
        )
    )


def _parse_wkt(record: Record, value: object) -> None:
    text = str(value or "").strip()
    if not text:
        record.errors.append(_("no geometry"))
        return
    if text.upper().startswith("SRID="):
        prefix, _sep, text = text.partition(";")
        try:
            record.srid = checked_srid(int(prefix[5:]))
        except ValueError:
            record.errors.append(
                _("unreadable SRID prefix %(prefix)s") % {"prefix": repr(prefix[:20])}
            )
            return
        except SourceError as exc:
            record.errors.append(str(exc))
            return
    if not text[:1].isalpha():  # only WKT (not hex WKB or GeoJSON)
        record.errors.append(_("the geometry is not WKT text"))
        return
    if _NOT_A_NUMBER.search(text, text.find("(") + 1 or len(text)):
        record.errors.append(_("the geometry has coordinates that are not numbers"))
        return
    record.wkt = text  # parsed by PostGIS, set-based (checking.check_geometry)


_NOT_A_NUMBER = re.compile(r"nan|inf", re.IGNORECASE)
