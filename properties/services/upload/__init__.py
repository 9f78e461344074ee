"""Partner bulk upload: GeoJSON, GeoPackage, zipped Shapefile, CSV and XLSX into sites.

The file is read (GIS formats through the reference-data import core's safe readers) and
streamed with COPY into a temporary staging table; every check, the CRS handling, the
municipality and the create / update / unchanged decision are set-based SQL on that table.
`sites_upload_plan` is the dry run: it rolls everything back and returns the row-by-row
report. `sites_upload_commit` runs the same plan and, only if no row is rejected, writes
all changed rows with one INSERT … ON CONFLICT, all in one transaction.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.db import DatabaseError, connection, transaction

from geodata.importers.sources import SourceError, check_path, check_zip_entries, opened, read_layer
from geodata.models import STORAGE_SRID
from properties.models import PartnerOrganisation, Site, UploadMapping

from ..proximity import sites_refresh_distances
from . import vocabulary as columns
from .report import (
    CREATE,
    REJECTED,
    UNCHANGED,
    UPDATE,
    ColumnReading,
    FieldChange,
    MissingSite,
    Progress,
    UploadError,
    UploadRejected,
    UploadReport,
    UploadRow,
)

if TYPE_CHECKING:
    from accounts.models import User

SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".csv": "CSV",
    ".txt": "CSV",
    ".xlsx": "XLSX",
}
GDAL_FORMATS = {".geojson", ".json", ".gpkg", ".zip"}
MAX_FILE_BYTES = 200 * 1024**2
MAX_XLSX_BYTES = 50 * 1024**2
MAX_XLSX_UNPACKED_BYTES = 400 * 1024**2
MAX_ROWS = 100_000
MAX_VERTICES = 10_000
MAX_AREA_M2 = 50_000_000  # 5,000 ha
MAX_PRICE_EUR_M2 = 10_000
ACCEPTED_SRIDS = (4326, 25832)
# What GDAL may detect in a GIS file and PostGIS can transform; declared ones are stricter.
READABLE_SRIDS = (4326, 25832, 3857, 4258, 25833, 31466, 31467)

# staging column type per kind of value
_SQL_TYPES = {
    "text": "text",
    "choice": "text",
    "number": "float8",
    "bool": "boolean",
    "date": "date",
    "offers": "varchar[]",
}
# Values for attributes the file has no column for (the model's defaults).
_DEFAULTS: dict[str, str] = {
    "description": "''",
    "restriction_class": "'none'",
    "restriction_notes": "''",
    "broadband": "'none'",
    "street": "''",
    "postcode": "''",
    "contact_name": "''",
    "contact_email": "''",
    "contact_phone": "''",
    "is_divisible": "false",
    "commission_free": "false",
    "price_on_request": "false",
    "price_negotiable": "false",
    "has_water": "false",
    "has_sewer": "false",
    "has_power": "false",
    "has_gas_heat": "false",
    "has_rail_siding": "false",
    "has_port_access": "false",
}


# -- reading --------------------------------------------------------------------------------


@dataclass
class _Record:
    row: int
    values: dict[str, object]
    geom_hex: str | None = None  # WKB, SRID set in SQL from srid
    x: float | None = None
    y: float | None = None
    srid: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class _Source:
    format: str
    headers: list[str]
    records: Iterator[_Record]
    notes: list[str] = field(default_factory=list)
    german: bool = False


def _check_file(path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix == ".vrt" or "/vsi" in str(path).lower():
        check_path(path)  # raises the import core's message for these
    if suffix not in SUFFIXES:
        formats = ", ".join(sorted(set(SUFFIXES.values())))
        raise UploadError(f"{path.name}: files of type {suffix!r} are not accepted; use {formats}")
    check_path(path, suffixes=SUFFIXES)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UploadError(f"{path.name}: the file is larger than {MAX_FILE_BYTES // 1024**2} MB")
    return path


@contextlib.contextmanager
def _open_source(path: Path, declared_srid: int | None) -> Iterator[_Source]:
    suffix = path.suffix.lower()
    if suffix in GDAL_FORMATS:
        with opened(path) as (datasource, format_name):
            layer = read_layer(datasource, layer_name=None, id_field=None)
            srid = _resolve_srid(path, layer.srid, declared_srid)

            def records() -> Iterator[_Record]:
                for number, feature in enumerate(layer.features, start=1):
                    record = _Record(row=number, values=feature.attributes, srid=srid)
                    if feature.geometry is None or feature.geometry.empty:
                        record.errors.append("no geometry")
                    else:
                        record.geom_hex = bytes(feature.geometry.wkb).hex()
                    yield record

            yield _Source(format=format_name, headers=layer.fields, records=records())
    elif suffix == ".xlsx":
        yield _read_xlsx(path, declared_srid)
    else:
        yield _read_csv(path, declared_srid)


def _resolve_srid(path: Path, detected: int | None, declared: int | None) -> int | None:
    if declared and detected and declared != detected:
        raise UploadError(
            f"{path.name}: the file says EPSG:{detected} but EPSG:{declared} was declared; "
            "fix the file or leave out the declaration"
        )
    srid = declared or detected
    if srid and srid not in READABLE_SRIDS:
        raise UploadError(f"{path.name}: EPSG:{srid} is not supported; use EPSG:4326 or EPSG:25832")
    return srid


def _read_csv(path: Path, declared_srid: int | None) -> _Source:
    data = path.read_bytes()
    notes: list[str] = []
    if b"\x00" in data[:65536]:
        raise UploadError(f"{path.name}: this is not a text (CSV) file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        notes.append("the file is not UTF-8: read as Windows-1252 (cp1252); check the umlauts")
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise UploadError(f"{path.name}: the file is empty") from None
    except csv.Error as exc:
        raise UploadError(f"{path.name}: not a readable CSV file ({exc})") from exc

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            yield from enumerate(reader, start=2)
        except csv.Error as exc:
            raise UploadError(f"{path.name}: not a readable CSV file ({exc})") from exc

    german = delimiter == ";"
    return _Source(
        format="CSV",
        headers=headers,
        records=_table_records(headers, rows(), declared_srid, german=german),
        notes=notes,
        german=german,
    )


def _read_xlsx(path: Path, declared_srid: int | None) -> _Source:
    import openpyxl
    from openpyxl import DEFUSEDXML

    if not DEFUSEDXML:  # entity bombs would be expanded by the standard library parser
        raise UploadError("XLSX upload needs the defusedxml package")
    if path.stat().st_size > MAX_XLSX_BYTES:
        raise UploadError(f"{path.name}: XLSX files larger than 50 MB are not accepted")
    try:
        with zipfile.ZipFile(path) as archive:
            check_zip_entries(archive, path.name, max_total_bytes=MAX_XLSX_UNPACKED_BYTES)
    except zipfile.BadZipFile:
        raise UploadError(f"{path.name}: not a valid XLSX file") from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        table = sheet.iter_rows(values_only=True)
        headers = [str(h).strip() if h is not None else "" for h in next(table, ())]
    except Exception as exc:  # openpyxl and defusedxml raise many kinds
        raise UploadError(_xlsx_problem(path, exc)) from exc
    if not any(headers):
        raise UploadError(f"{path.name}: the first sheet is empty")

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            for number, values in enumerate(table, start=2):
                yield number, list(values)
        except Exception as exc:
            raise UploadError(_xlsx_problem(path, exc)) from exc
        finally:
            workbook.close()

    return _Source(
        format="XLSX", headers=headers, records=_table_records(headers, rows(), declared_srid)
    )


def _xlsx_problem(path: Path, exc: BaseException) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:  # openpyxl wraps the parser's error
        chain.append(current)
        current = current.__cause__ or current.__context__
    names = {type(e).__name__ for e in chain}
    if names & {"EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"}:
        return (
            f"{path.name}: the file contains XML entity or DTD declarations, which are refused "
            "(possible XML bomb or external entity)"
        )
    return f"{path.name}: not a readable XLSX file ({type(chain[-1]).__name__})"


def _table_records(
    headers: list[str],
    rows: Iterator[tuple[int, list[object]]],
    declared_srid: int | None,
    *,
    german: bool = False,
) -> Iterator[_Record]:
    _, geometry, _ = columns.map_headers(headers)
    index = {header: position for position, header in reversed(list(enumerate(headers)))}
    if "wkt" in geometry:
        mode = "wkt"
    elif "lon" in geometry and "lat" in geometry:
        mode, x_header, y_header, srid = "xy", geometry["lon"], geometry["lat"], 4326
    elif "easting" in geometry and "northing" in geometry:
        mode, x_header, y_header, srid = "xy", geometry["easting"], geometry["northing"], 25832
    elif "x" in geometry and "y" in geometry:
        mode, x_header, y_header, srid = "xy", geometry["x"], geometry["y"], 0
    else:
        raise UploadError(
            "no geometry columns: give a WKT column (wkt, geometry, geom) or coordinates "
            "(lon/lat, Längengrad/Breitengrad, or rechtswert/hochwert for EPSG:25832)"
        )
    if mode == "xy" and declared_srid and srid and declared_srid != srid:
        raise UploadError(
            f"the columns {x_header!r}/{y_header!r} mean EPSG:{srid}, "
            f"but EPSG:{declared_srid} was declared"
        )
    for number, values in rows:
        if not any(v is not None and str(v).strip() for v in values):
            continue  # blank line
        record = _Record(
            row=number,
            values={h: values[i] if i < len(values) else None for h, i in index.items()},
            srid=declared_srid,
        )
        if mode == "wkt":
            _parse_wkt(record, record.values.get(geometry["wkt"]))
        else:
            record.srid = srid or declared_srid
            try:
                record.x = columns.parse_number(record.values.get(x_header), german=german)
                record.y = columns.parse_number(record.values.get(y_header), german=german)
            except columns.ValueProblem as exc:
                record.errors.append(f"coordinates: {exc} is not a number")
            else:
                if record.x is None or record.y is None:
                    record.errors.append("no geometry (empty coordinates)")
        yield record


def _parse_wkt(record: _Record, value: object) -> None:
    text = str(value or "").strip()
    if not text:
        record.errors.append("no geometry")
        return
    if text.upper().startswith("SRID="):
        prefix, _, text = text.partition(";")
        try:
            record.srid = int(prefix[5:])
        except ValueError:
            record.errors.append(f"unreadable SRID prefix {prefix!r}")
            return
    if not text[:1].isalpha():  # GEOSGeometry would also take hex WKB or GeoJSON: only WKT
        record.errors.append("the geometry is not WKT text")
        return
    try:
        geometry = GEOSGeometry(text)
    except (GEOSException, ValueError, TypeError):
        record.errors.append("the geometry could not be read as WKT")
        return
    if geometry.empty:
        record.errors.append("no geometry (empty)")
        return
    record.geom_hex = bytes(geometry.wkb).hex()


# -- staging --------------------------------------------------------------------------------


def _create_staging(cursor) -> None:
    field_columns = ", ".join(
        f"{name} {_SQL_TYPES[kind]}" for name, (kind, _) in columns.FIELDS.items()
    )
    cursor.execute("DROP TABLE IF EXISTS upload_staging")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE upload_staging (
            row_no integer PRIMARY KEY,
            {field_columns},
            geom geometry,
            x float8,
            y float8,
            in_srid integer,
            errors text[] NOT NULL DEFAULT '{{}}',
            notes text[] NOT NULL DEFAULT '{{}}',
            municipality_id integer,
            site_id integer,
            action text,
            changes text[]
        ) ON COMMIT DROP
        """
    )


def _stage(cursor, source: _Source, present: dict[str, str]) -> int:
    names = list(columns.FIELDS)
    copy_sql = (
        f"COPY upload_staging (row_no, {', '.join(names)}, geom, x, y, in_srid, errors) FROM STDIN"
    )
    count = 0
    with cursor.cursor.copy(copy_sql) as copy:
        for record in source.records:
            count += 1
            if count > MAX_ROWS:
                raise UploadError(f"more than {MAX_ROWS:,} rows: split the file")
            parsed: list[object] = []
            for name in names:
                header = present.get(name)
                parsed.append(None if header is None else _parse(name, header, record, source))
            copy.write_row(
                (
                    record.row,
                    *parsed,
                    record.geom_hex,
                    record.x,
                    record.y,
                    record.srid,
                    record.errors,
                )
            )
    return count


def _parse(name: str, header: str, record: _Record, source: _Source) -> object:
    kind = columns.FIELDS[name][0]
    value = record.values.get(header)
    try:
        if kind == "number":
            return columns.parse_number(value, german=source.german)
        if kind == "choice":
            return columns.parse_choice(name, value)
        return columns.PARSERS[kind](value)
    except columns.ValueProblem:
        expected = {"number": "a number", "bool": "yes/no (ja/nein)", "date": "a date (dd.mm.yyyy)"}
        record.errors.append(f"{header}: {str(value)!r} is not {expected[kind]}")
        return None


# -- checks in SQL --------------------------------------------------------------------------


def _label(name: str) -> str:
    return str(getattr(Site._meta.get_field(name), "verbose_name", name))


def _add_error(cursor, message_sql: str, where: str, params: list[Any] | None = None) -> None:
    cursor.execute(
        f"UPDATE upload_staging s SET errors = errors || ({message_sql})::text WHERE {where}",
        params or [],
    )


def _check_geometry(cursor) -> None:
    cursor.execute(
        "UPDATE upload_staging SET geom = ST_MakePoint(x, y) "
        "WHERE geom IS NULL AND x IS NOT NULL AND y IS NOT NULL"
    )
    # Vertex count first and cheaply: nothing else may touch a monster geometry.
    cursor.execute(
        """
        UPDATE upload_staging SET geom = NULL, errors = errors || format(
            'the geometry has %%s vertices; at most %%s per feature are accepted (simplify it)',
            to_char(ST_NPoints(geom), 'FM999G999G999'), to_char(%s, 'FM999G999'))
        WHERE ST_NPoints(geom) > %s
        """,
        [MAX_VERTICES, MAX_VERTICES],
    )
    cursor.execute(
        """
        UPDATE upload_staging SET geom = NULL, errors = errors || format(
            'geometry type %%s is not accepted: use Point, Polygon or MultiPolygon',
            initcap(GeometryType(geom)))
        WHERE GeometryType(geom) NOT IN ('POINT', 'POLYGON', 'MULTIPOLYGON')
        """,
        [],
    )
    cursor.execute(
        "UPDATE upload_staging SET geom = NULL, errors = errors || 'the geometry is empty'::text "
        "WHERE ST_IsEmpty(geom)"
    )
    cursor.execute("UPDATE upload_staging SET geom = ST_Force2D(geom) WHERE ST_NDims(geom) > 2")
    # The coordinate system: unstated -> guessed from the magnitude; stated -> checked.
    cursor.execute(
        """
        UPDATE upload_staging SET
            in_srid = CASE WHEN ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
                            AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90 THEN 4326 ELSE 25832 END,
            notes = notes || ('coordinate system not stated: read as EPSG:'
                || CASE WHEN ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
                         AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90 THEN '4326' ELSE '25832' END
                || ' from the coordinate values')
        WHERE geom IS NOT NULL AND coalesce(in_srid, 0) = 0
        """
    )
    cursor.execute(
        """
        UPDATE upload_staging SET geom = NULL, errors = errors || format(
            'coordinates (%%s, %%s) are not longitude/latitude: they look like EPSG:25832 metres, '
            'but the file is read as EPSG:%%s; declare EPSG:25832 or fix the file',
            round(ST_XMin(geom)::numeric, 1), round(ST_YMin(geom)::numeric, 1), in_srid)
        WHERE in_srid IN (4326, 4258) AND (ST_XMin(geom) < -180 OR ST_XMax(geom) > 180
                                          OR ST_YMin(geom) < -90 OR ST_YMax(geom) > 90)
        """,
        [],
    )
    cursor.execute(
        """
        UPDATE upload_staging SET geom = NULL, errors = errors ||
            'longitude and latitude look swapped (the first value must be the longitude, ~6–8° here)'::text
        WHERE in_srid IN (4326, 4258) AND ST_XMin(geom) BETWEEN 47 AND 56 AND ST_YMax(geom) BETWEEN 4 AND 16
        """
    )
    cursor.execute(
        """
        UPDATE upload_staging SET geom = NULL, errors = errors || format(
            'coordinates (%%s, %%s) look like longitude/latitude (EPSG:4326), '
            'but the file is read as EPSG:%%s; declare EPSG:4326 or fix the file',
            round(ST_XMin(geom)::numeric, 5), round(ST_YMin(geom)::numeric, 5), in_srid)
        WHERE in_srid NOT IN (4326, 4258) AND ST_XMax(geom) BETWEEN -180 AND 180
          AND ST_YMax(geom) BETWEEN -90 AND 90
        """,
        [],
    )
    cursor.execute(
        "UPDATE upload_staging SET geom = ST_Transform(ST_SetSRID(geom, in_srid), %s) "
        "WHERE geom IS NOT NULL",
        [STORAGE_SRID],
    )
    # Invalid polygons: repaired if the repair keeps a polygon of (about) the same area.
    cursor.execute(
        """
        WITH broken AS (
            SELECT row_no, lower(regexp_replace(ST_IsValidReason(geom), '\\[.*$', '')) AS reason,
                   abs(ST_Area(geom)) AS area_before,
                   ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3)) AS repaired
            FROM upload_staging WHERE geom IS NOT NULL AND NOT ST_IsValid(geom)
        ), judged AS (
            SELECT *, NOT ST_IsEmpty(repaired) AND area_before > 0
                      AND abs(ST_Area(repaired) - area_before) <= 0.01 * area_before AS acceptable
            FROM broken
        )
        UPDATE upload_staging s SET
            geom = CASE WHEN j.acceptable THEN
                       CASE WHEN ST_NumGeometries(j.repaired) = 1 AND GeometryType(s.geom) = 'POLYGON'
                            THEN ST_GeometryN(j.repaired, 1) ELSE j.repaired END END,
            notes = CASE WHEN j.acceptable THEN s.notes || ('repaired: ' || j.reason) ELSE s.notes END,
            errors = CASE WHEN j.acceptable THEN s.errors ELSE s.errors || (
                'invalid geometry (' || j.reason || ') that cannot be repaired without changing '
                || 'its area by more than 1 %%'
            ) END
        FROM judged j WHERE j.row_no = s.row_no
        """,
        [],
    )
    cursor.execute("SELECT name FROM geodata_region ORDER BY id LIMIT 1")
    if cursor.fetchone():
        _add_error(
            cursor,
            "'outside the Ruhr area'::text",
            "geom IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM geodata_region r WHERE ST_Covers(r.geom, s.geom))",
        )


def _assign_municipality(cursor, organisation: PartnerOrganisation) -> None:
    # Whole site inside one municipality (almost all): an indexed covers test. Otherwise the
    # municipality with the largest overlap (a point on a boundary: the first by AGS).
    cursor.execute(
        """
        UPDATE upload_staging s SET municipality_id = m.id FROM geodata_municipality m
        WHERE s.geom IS NOT NULL AND cardinality(s.errors) = 0 AND ST_Covers(m.geom, s.geom)
        """
    )
    cursor.execute(
        """
        UPDATE upload_staging s SET municipality_id = (
            SELECT m.id FROM geodata_municipality m WHERE ST_Intersects(m.geom, s.geom)
            ORDER BY ST_Area(ST_Intersection(m.geom, s.geom)) DESC, m.ags LIMIT 1)
        WHERE s.municipality_id IS NULL AND s.geom IS NOT NULL AND cardinality(s.errors) = 0
        """
    )
    _add_error(
        cursor,
        "'not inside any municipality of the region'::text",
        "geom IS NOT NULL AND cardinality(errors) = 0 AND municipality_id IS NULL",
    )
    cursor.execute(
        """
        UPDATE upload_staging s SET errors = errors || format(
            'lies in %%s, which your organisation does not manage', m.name)
        FROM geodata_municipality m
        WHERE m.id = s.municipality_id AND NOT EXISTS (
            SELECT 1 FROM properties_partnerorganisation_municipalities om
            WHERE om.partnerorganisation_id = %s AND om.municipality_id = m.id)
        """,
        [organisation.pk],
    )


def _check_values(cursor, present: dict[str, str]) -> None:
    # Empty cells of columns with a default take the default; text columns are never NULL.
    fill = [
        f"{name} = coalesce({name}, {default})"
        for name, default in _DEFAULTS.items()
        if name in present
    ]
    if fill:
        cursor.execute(f"UPDATE upload_staging SET {', '.join(fill)}", [])
    missing = []
    for name in columns.REQUIRED:
        if name in present:
            message = f"missing {_label(name)} (column {present[name]!r} is empty)"
        else:
            message = (
                f"missing {_label(name)}: the file has no column for it "
                f"(accepted headers: {columns.accepted_headers(name)}, …)"
            )
        missing.append(f"CASE WHEN {name} IS NULL THEN {_quote(message)} END")
    cursor.execute(
        f"UPDATE upload_staging SET errors = errors || array_remove(ARRAY[{', '.join(missing)}], NULL)",
        [],
    )
    # The gross area defaults to the polygon's area.
    cursor.execute(
        """
        UPDATE upload_staging SET gross_area_m2 = round(ST_Area(geom)),
            notes = notes || format('gross area taken from the geometry: %%s m²',
                                    to_char(round(ST_Area(geom)), 'FM999G999G999'))
        WHERE gross_area_m2 IS NULL AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')
        """,
        [],
    )
    _add_error(
        cursor,
        _quote(f"missing {_label('gross_area_m2')} (needed for a point)"),
        "gross_area_m2 IS NULL AND geom IS NOT NULL",
    )
    for name in ("gross_area_m2", "net_area_m2", "min_divisible_m2", "max_divisible_m2"):
        _add_error(
            cursor,
            f"format('%%s %%s m² is not plausible (must be above 0 and at most 5,000 ha)', "
            f"{_quote(_label(name))}, {name})",
            f"{name} <= 0 OR {name} > %s",
            [MAX_AREA_M2],
        )
    _add_error(
        cursor,
        "format('price %%s €/m² is not plausible (0 to 10,000 €/m²)', price_eur_m2)",
        "price_eur_m2 < 0 OR price_eur_m2 > %s",
        [MAX_PRICE_EUR_M2],
    )
    _check_offer(cursor)
    _add_error(
        cursor,
        "format('net area (%%s m²) is larger than the gross area (%%s m²)', net_area_m2, gross_area_m2)",
        "net_area_m2 > gross_area_m2",
    )
    _add_error(
        cursor,
        "format('smallest divisible part (%%s m²) is larger than the largest (%%s m²)', "
        "min_divisible_m2, max_divisible_m2)",
        "min_divisible_m2 > max_divisible_m2",
    )
    for name, values in columns.CHOICES.items():
        if name not in present:
            continue
        _add_error(
            cursor,
            f"format('%%s %%L is not one of: %%s', {_quote(_label(name))}, {name}, "
            f"{_quote(columns.allowed_values(name))})",
            f"{name} IS NOT NULL AND NOT {name} = ANY(%s)",
            [list(values)],
        )
    for name in present:
        max_length = getattr(Site._meta.get_field(name), "max_length", None)
        if max_length and columns.FIELDS[name][0] == "text":
            _add_error(
                cursor,
                _quote(f"{_label(name)} is longer than {max_length} characters"),
                f"length({name}) > {max_length}",
            )
    cursor.execute(
        """
        UPDATE upload_staging s SET errors = errors || format(
            'id %%s appears more than once in the file (rows %%s)', s.partner_ref, d.rows)
        FROM (SELECT partner_ref, string_agg(row_no::text, ', ' ORDER BY row_no) AS rows
              FROM upload_staging WHERE partner_ref IS NOT NULL
              GROUP BY partner_ref HAVING count(*) > 1) d
        WHERE d.partner_ref = s.partner_ref
        """,
        [],
    )


# The offer types a row's figures imply when it names none: the rule of
# properties.services.sites.site_offer_types_implied, in SQL.
_IMPLIED_OFFER_TYPES = """
    coalesce(nullif(array_remove(ARRAY[
        CASE WHEN price_eur_m2 IS NOT NULL OR price_total_eur IS NOT NULL THEN 'sale' END,
        CASE WHEN rent_eur_m2_month IS NOT NULL THEN 'rent' END,
        CASE WHEN ground_rent_eur_m2_year IS NOT NULL THEN 'leasehold' END], NULL), '{}'),
        CASE WHEN kind = 'plot' THEN ARRAY['sale'] ELSE ARRAY['rent'] END)
"""
OFFER_FIELDS = (
    "offer_types",
    "price_eur_m2",
    "price_total_eur",
    "rent_eur_m2_month",
    "ground_rent_eur_m2_year",
)


def _check_offer(cursor) -> None:
    """Offer types: known codes; a row naming none gets those its figures imply; rents,
    ground rents and additional costs within 0 to 1,000 €/m²."""
    _add_error(
        cursor,
        f"format('offer type %%L is not one of: %%s', array_to_string(offer_types, ', '), "
        f"{_quote(columns.allowed_offer_types())})",
        "offer_types IS NOT NULL AND NOT offer_types::text[] <@ %s::text[]",
        [list(columns.OFFER_TYPES)],
    )
    cursor.execute(
        f"UPDATE upload_staging SET offer_types = {_IMPLIED_OFFER_TYPES} "
        "WHERE offer_types IS NULL OR cardinality(offer_types) = 0"
    )
    for name in ("rent_eur_m2_month", "ground_rent_eur_m2_year", "service_charges_eur_m2_month"):
        _add_error(
            cursor,
            f"format('%%s %%s €/m² is not plausible (0 to 1,000 €/m²)', "
            f"{_quote(_label(name))}, {name})",
            f"{name} < 0 OR {name} > 1000",
        )


def _quote(text: str) -> str:
    """A SQL string literal of our own fixed messages (never of file content)."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def _decide(cursor, organisation: PartnerOrganisation, present: dict[str, str]) -> None:
    # Autovacuum never analyses temporary tables: without statistics the planner takes the
    # staging table for a few rows and joins 10,000 of them to the sites by nested loop
    # over every site (minutes at 100,000 sites instead of milliseconds).
    cursor.execute("ANALYZE upload_staging")
    cursor.execute(
        """
        UPDATE upload_staging s SET site_id = p.id FROM properties_site p
        WHERE p.organisation_id = %s AND p.partner_ref = s.partner_ref AND p.partner_ref <> ''
        """,
        [organisation.pk],
    )
    compared = [name for name in present if name != "partner_ref"]
    changes = [
        f"CASE WHEN p.{name} IS DISTINCT FROM s.{name} THEN {_quote(name)} END" for name in compared
    ]
    changes.append("CASE WHEN NOT ST_OrderingEquals(p.geom, s.geom) THEN 'geometry' END")
    cursor.execute(
        f"""
        UPDATE upload_staging s SET changes = array_remove(ARRAY[{", ".join(changes)}], NULL)
        FROM properties_site p WHERE p.id = s.site_id AND cardinality(s.errors) = 0
        """,
        [],
    )
    cursor.execute(
        """
        UPDATE upload_staging SET action = CASE
            WHEN cardinality(errors) > 0 THEN 'reject'
            WHEN site_id IS NULL THEN 'create'
            WHEN cardinality(changes) > 0 THEN 'update'
            ELSE 'unchanged' END
        """
    )


def _report_rows(cursor) -> list[UploadRow]:
    cursor.execute(
        """
        SELECT row_no, coalesce(partner_ref, ''), action,
               errors || notes || CASE WHEN action = 'update'
                   THEN ARRAY['changes: ' || array_to_string(changes, ', ')] ELSE '{}' END
        FROM upload_staging ORDER BY row_no
        """
    )
    return [UploadRow(row, ref, action, list(messages)) for row, ref, action, messages in cursor]


# -- services -------------------------------------------------------------------------------


def _plan(
    cursor, path: Path, organisation: PartnerOrganisation, declared_srid: int | None, filename: str
) -> tuple[UploadReport, dict[str, str]]:
    if declared_srid is not None and declared_srid not in ACCEPTED_SRIDS:
        raise UploadError(f"EPSG:{declared_srid} cannot be declared; use EPSG:4326 or EPSG:25832")
    with _source_errors(), _open_source(path, declared_srid) as source:
        present, _, ignored = columns.map_headers(source.headers)
        report = UploadReport(
            filename=filename,
            format=source.format,
            columns=[ColumnReading(h, f, _label(f), "used") for f, h in present.items()]
            + [ColumnReading(h, None, "", "not_used") for h in ignored],
            notes=list(source.notes),
        )
        _create_staging(cursor)
        count = _stage(cursor, source, present)
        report.notes.extend(source.notes[len(report.notes) :])
    if count == 0:
        raise UploadError(f"{filename}: the file holds no rows")
    cursor.execute("ANALYZE upload_staging")
    _check_geometry(cursor)
    _assign_municipality(cursor, organisation)
    _check_values(cursor, present)
    _decide(cursor, organisation, present)
    report.rows = _report_rows(cursor)
    return report, present


def sites_upload_plan(
    *,
    path: Path | str,
    organisation: PartnerOrganisation,
    acting_user: User | None,
    declared_srid: int | None = None,
    filename: str | None = None,
    source_name: str = "",
    progress: Progress | None = None,
) -> UploadReport:
    """The dry run: the row-by-row report of what a commit would do. Writes nothing."""
    path = Path(path)
    filename = filename or path.name
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            report, _ = _plan(cursor, _check_safe(path), organisation, declared_srid, filename)
            cursor.execute("DROP TABLE upload_staging")
            transaction.set_rollback(True)
    except DatabaseError as exc:
        raise UploadError(f"{filename}: the database refused the data ({exc})") from exc
    return report


def sites_upload_commit(
    *,
    path: Path | str,
    organisation: PartnerOrganisation,
    acting_user: User | None,
    declared_srid: int | None = None,
    filename: str | None = None,
    source_name: str = "",
    valid_only: bool = False,
    withdraw_missing: Iterable[int] | str = (),
    progress: Progress | None = None,
) -> UploadReport:
    """Plans the upload and, if no row is rejected, writes every new or changed row in one
    statement; raises UploadRejected (writing nothing) otherwise."""
    path = Path(path)
    filename = filename or path.name
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                report, present = _plan(
                    cursor, _check_safe(path), organisation, declared_srid, filename
                )
                if report.counts[REJECTED]:
                    raise UploadRejected(report)
                report.site_ids = _write(cursor, organisation, acting_user, present, filename)
                cursor.execute("DROP TABLE upload_staging")
            sites_refresh_distances(site_ids=report.site_ids)
    except DatabaseError as exc:
        raise UploadError(f"{filename}: the database refused the data ({exc})") from exc
    report.committed = True
    return report


@contextlib.contextmanager
def _source_errors() -> Iterator[None]:
    """The import core's SourceError (unsafe zip, unreadable file) as this module's error."""
    try:
        yield
    except SourceError as exc:
        raise UploadError(str(exc)) from exc


def _check_safe(path: Path) -> Path:
    try:
        return _check_file(path)
    except SourceError as exc:
        raise UploadError(str(exc)) from exc


def _snapshot(fields: list[str], prefix: str) -> str:
    """SQL for a JSON object of a site row's fields as the history keeps them (prices as
    text, the geometry as type, area and a hash, like properties.services.sites)."""
    parts = []
    for name in fields:
        value = f"{prefix}{name}"
        if name in ("price_eur_m2", *columns.DECIMAL_FIELDS):
            value = f"{value}::text"
        parts.append(f"'{name}', to_jsonb({value})")
    geom = f"{prefix}geom"
    parts.append(
        f"'geom', jsonb_build_object('type', substr(ST_GeometryType({geom}), 4), "
        f"'area_m2', round(ST_Area({geom})::numeric, 1), "
        f"'sha256', substr(encode(sha256(ST_AsBinary({geom})), 'hex'), 1, 16))"
    )
    return "jsonb_build_object(" + ", ".join(parts) + ")"


def _write(
    cursor,
    organisation: PartnerOrganisation,
    acting_user: User | None,
    present: dict[str, str],
    filename: str,
) -> list[int]:
    """Writes new and changed rows in one statement, bumps the version of changed sites and
    records each in the site history (action "uploaded": the fields before and after)."""
    names = [name for name in columns.FIELDS if name != "partner_ref"]
    # Always from the staging row: the area (else the polygon's), the offer types (else
    # implied by the figures); an update sets the offer types only if the file speaks of
    # the offer at all.
    from_staging = {"gross_area_m2", "offer_types"}
    values = [
        f"s.{name}" if name in present or name in from_staging else _DEFAULTS.get(name, "NULL")
        for name in names
    ]
    offer_given = any(name in present for name in OFFER_FIELDS)
    updated = [
        name
        for name in names
        if name in present or name == "gross_area_m2" or (name == "offer_types" and offer_given)
    ]
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in updated)
    params = {
        "organisation": organisation.pk,
        "user": acting_user.pk if acting_user else None,
        "reason": f"Upload: {filename}",
    }
    # The changed sites as they were, for the history's "before".
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE upload_before ON COMMIT DROP AS
        SELECT p.id, {_snapshot(updated, "p.")} AS data
        FROM upload_staging s JOIN properties_site p ON p.id = s.site_id
        WHERE s.action = 'update'
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO properties_site (
            organisation_id, partner_ref, {", ".join(names)}, geom, municipality_id, status,
            is_demo, restrictions, created_at, updated_at, last_verified_at, verified_by_id
        )
        SELECT %(organisation)s, s.partner_ref, {", ".join(values)}, s.geom, s.municipality_id,
               'draft', false, '{{}}', now(), now(), now(), %(user)s
        FROM upload_staging s WHERE s.action IN ('create', 'update') ORDER BY s.row_no
        ON CONFLICT (organisation_id, partner_ref) WHERE partner_ref <> '' DO UPDATE SET
            {assignments}, geom = EXCLUDED.geom, municipality_id = EXCLUDED.municipality_id,
            updated_at = now(), last_verified_at = now(), verified_by_id = EXCLUDED.verified_by_id,
            version = properties_site.version + 1
        RETURNING id
        """,
        params,
    )
    site_ids = [row[0] for row in cursor.fetchall()]
    # One history entry per written site: the fields that changed, before and after.
    cursor.execute(
        f"""
        INSERT INTO properties_sitechange
            (site_id, changed_at, changed_by_id, action, reason, before, after, version)
        SELECT n.id, now(), %(user)s, 'uploaded', %(reason)s,
               coalesce((SELECT jsonb_object_agg(key, b.data -> key)
                         FROM jsonb_object_keys(n.data) key
                         WHERE b.id IS NOT NULL AND b.data -> key IS DISTINCT FROM n.data -> key),
                        '{{}}'::jsonb),
               coalesce((SELECT jsonb_object_agg(key, n.data -> key)
                         FROM jsonb_object_keys(n.data) key
                         WHERE b.id IS NULL OR b.data -> key IS DISTINCT FROM n.data -> key),
                        '{{}}'::jsonb),
               n.version
        FROM (SELECT p.id, p.version, {_snapshot(updated, "p.")} AS data
              FROM properties_site p WHERE p.id = ANY(%(ids)s)) n
        LEFT JOIN upload_before b ON b.id = n.id
        """,
        {**params, "ids": site_ids},
    )
    cursor.execute("DROP TABLE upload_before")
    return site_ids


def upload_mapping_set(
    *,
    organisation: PartnerOrganisation,
    kind: str,
    field: str,
    source: str,
    value: str = "",
    acting_user: User | None,
) -> UploadMapping:
    """Keeps an organisation's reading of a column header (kind "column": `source` read as
    `field`, "" = ignore the column) or of a raw value (kind "value": `source` in `field`
    read as the code `value`)."""
    raise NotImplementedError


def upload_mapping_delete(*, mapping: UploadMapping, acting_user: User | None) -> None:
    raise NotImplementedError


def upload_rejected_rows_file(
    *, path: Path | str, report: UploadReport, filename: str
) -> tuple[bytes, str, str]:
    """The rejected rows in the uploaded format with an added error column."""
    raise NotImplementedError


__all__ = [
    "CREATE",
    "MAX_AREA_M2",
    "MAX_PRICE_EUR_M2",
    "REJECTED",
    "SUFFIXES",
    "UNCHANGED",
    "UPDATE",
    "ColumnReading",
    "FieldChange",
    "MissingSite",
    "Progress",
    "UploadError",
    "UploadRejected",
    "UploadReport",
    "UploadRow",
    "sites_upload_commit",
    "sites_upload_plan",
    "upload_mapping_delete",
    "upload_mapping_set",
    "upload_rejected_rows_file",
]
