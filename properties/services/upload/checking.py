"""Checking an upload: its records parsed and streamed with COPY into a temporary staging
table, then every check (geometry, CRS, region, municipality, required and plausible values,
duplicates) and the create / update / unchanged decision as set-based SQL on that table.

Messages written by SQL are the translated templates of this module turned into format()
calls (`_sql_message`), so they come out in the active language."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import PartnerOrganisation
from geodata.models import STORAGE_SRID

from . import vocabulary as vocab
from .reading import TABLE, ColumnPlan, Record, Source, field_label, table_geometry
from .vocabulary import site_field

MAX_ROWS = 100_000
MAX_VERTICES = 10_000
MAX_AREA_M2 = 50_000_000  # 5,000 ha
MAX_PRICE_EUR_M2 = 10_000
MAX_UNKNOWN_VALUES = 100
PROGRESS_EVERY = 500
_MEMOISED = {"choice", "bool", "date", "price", "number"}

# staging column type per kind of value
_SQL_TYPES = {
    "text": "text",
    "choice": "text",
    "number": "float8",
    "bool": "boolean",
    "date": "date",
    "price": "numeric",
    "contact": "text",
    "email": "text",
}
# What a create stores for a field the file has no column for (the model's defaults).
DEFAULTS: dict[str, str] = {
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
NAMES = list(vocab.FIELDS)
# The same defaults as Python values: applied while staging (cheaper than an UPDATE).
DEFAULT_VALUES: dict[str, Any] = {
    name: {"''": "", "'none'": "none", "false": False}[sql] for name, sql in DEFAULTS.items()
}
# Fields a report shows as the row's values besides those the file supplies.
ALWAYS_REPORTED = (
    "gross_area_m2",
    "price_eur_m2",
    "price_on_request",
    "price_negotiable",
    "contact_name",
    "contact_email",
    "available_from",
)


def quote(text: str) -> str:
    """A SQL string literal of our own fixed messages (never of file content)."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def sql_message(template: str, **expressions: str) -> str:
    """SQL for a translated message: its %(name)s placeholders filled by SQL expressions
    (format() with positional %n$s, so a translation may reorder them)."""
    order: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"%{order.index(name) + 1}$s"

    text = template.replace("%%", "\0")
    text = re.sub(r"%\((\w+)\)s", placeholder, text).replace("\0", "%%")
    arguments = "".join(f", ({expressions[name]})::text" for name in order)
    return f"format({quote(text)}{arguments})"


def create_staging(cursor) -> None:
    field_columns = ", ".join(f"{name} {_SQL_TYPES[vocab.FIELDS[name]]}" for name in NAMES)
    cursor.execute("DROP TABLE IF EXISTS upload_staging")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE upload_staging (
            row_no integer PRIMARY KEY,
            {field_columns},
            geom geometry,
            wkt text,
            x float8,
            y float8,
            in_srid integer,
            errors text[] NOT NULL DEFAULT '{{}}',
            unreadable text[] NOT NULL DEFAULT '{{}}',
            notes text[] NOT NULL DEFAULT '{{}}',
            municipality_id integer,
            site_id integer,
            action text,
            changes jsonb
        ) ON COMMIT DROP
        """
    )


class Parser:
    """Turns a record's cells into field values (appending the record's errors) and
    collects the coded values nobody understood."""

    def __init__(self, source: Source, plan: ColumnPlan, value_mappings: dict[str, dict[str, str]]):
        self.source = source
        self.plan = plan
        self.value_mappings = value_mappings
        self.unknown: dict[str, list[str]] = {}
        self._unknown_seen: dict[str, set[str]] = {}
        # Text cells of XLSX sheets and GIS attributes are typed by German offices: "9.800"
        # is 9800 there (numeric cells arrive as numbers). Only a comma or tab CSV is not.
        self.german = source.german or source.format != "CSV"
        # Coded values repeat from row to row: each distinct cell is read once.
        self._memo: dict[tuple[str, str, Any], tuple[dict[str, Any], str | None]] = {}

    def values(self, record: Record) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for assignment in self.plan.assignments:
            raw = record.cells[assignment.index] if assignment.index < len(record.cells) else None
            if assignment.kind in _MEMOISED and isinstance(raw, str | int | float | None):
                key = (assignment.field, assignment.kind, raw)
                memo = self._memo.get(key)
                if memo is None:
                    scratch = Record(row=0, cells=[])
                    out: dict[str, Any] = {}
                    self._read(
                        assignment.field, assignment.kind, assignment.factor, raw, scratch, out
                    )
                    memo = (out, scratch.errors[0] if scratch.errors else None)
                    if len(self._memo) < 50_000:
                        self._memo[key] = memo
                out, error = memo
                for name, value in out.items():
                    if assignment.kind == "bool" or name in (
                        "price_on_request",
                        "price_negotiable",
                    ):
                        result[name] = (
                            bool(result.get(name)) or value
                            if value is not None
                            else result.get(name)
                        )
                    else:
                        result[name] = value
                if error:
                    record.errors.append(error)
                    record.unreadable.append(assignment.field)
            else:
                self._read(
                    assignment.field, assignment.kind, assignment.factor, raw, record, result
                )
        return result

    def _read(
        self, name: str, kind: str, factor: float, raw: Any, record: Record, out: dict
    ) -> None:
        header = self.plan.present.get(name, name)
        try:
            if kind == "number":
                number, unit_factor = vocab.parse_area_unit(raw, name, german=self.german)
                if unit_factor is not None:
                    factor = unit_factor  # the cell's own unit wins over the column's
                out[name] = None if number is None else number * factor
            elif kind == "choice":
                out[name] = vocab.parse_choice(name, raw, self.value_mappings.get(name))
            elif kind == "bool":
                mapped = self.value_mappings.get(name, {}).get(vocab.normalise(str(raw or "")))
                value = (mapped == "true") if mapped else vocab.parse_bool(raw)
                out[name] = bool(out.get(name)) or value if value is not None else out.get(name)
            elif kind == "date":
                out[name] = vocab.parse_date(raw)
            elif kind == "price":
                price = vocab.parse_price(raw, german=self.german)
                if price is not None:
                    out[name] = None if price.eur_m2 is None else round(price.eur_m2, 2)
                    if price.on_request:
                        out["price_on_request"] = True
                    if price.negotiable:
                        out["price_negotiable"] = True
            elif kind == "contact":
                contact = vocab.parse_contact(raw)
                if contact is not None:
                    out[name] = contact.name
                    if contact.email and not out.get("contact_email"):
                        out["contact_email"] = contact.email
                    if contact.phone and not out.get("contact_phone"):
                        out["contact_phone"] = contact.phone
            elif kind == "email":
                email = vocab.parse_email(raw)
                if email is not None:
                    out[name] = email
            else:
                out[name] = vocab.parse_text(raw)
        except vocab.ValueProblem:
            record.errors.append(self._problem(name, kind, header, raw))
            record.unreadable.append(name)

    def _problem(self, name: str, kind: str, header: str, raw: Any) -> str:
        value = str(raw).strip()
        if kind == "choice":
            seen = self._unknown_seen.setdefault(name, set())
            if value not in seen and len(seen) < MAX_UNKNOWN_VALUES:
                seen.add(value)
                self.unknown.setdefault(name, []).append(value)
            return _("%(field)s: “%(value)s” is not understood; allowed: %(allowed)s") % {
                "field": field_label(name),
                "value": value[:100],
                "allowed": allowed_values(name),
            }
        expected = {
            "number": _("a number"),
            "price": _("a price (e.g. 12,50 or “auf Anfrage”)"),
            "bool": _("yes/no (ja/nein)"),
            "date": _("a date (DD.MM.YYYY or YYYY-MM-DD) or “sofort”"),
            "email": _("an e-mail address"),
        }.get(kind, _("readable"))
        return _("%(header)s: “%(value)s” is not %(expected)s") % {
            "header": header,
            "value": value[:100],
            "expected": expected,
        }


def allowed_values(name: str) -> str:
    choices = site_field(name).choices or ()
    return ", ".join(f"{label} ({code})" for code, label in choices)


def stage(
    cursor,
    source: Source,
    plan: ColumnPlan,
    parser: Parser,
    declared_srid: int | None,
    progress: Callable[[str, int, int | None], None] | None,
    total: int | None = None,
) -> int:
    copy_sql = (
        f"COPY upload_staging (row_no, {', '.join(NAMES)}, geom, wkt, x, y, in_srid, errors, "
        "unreadable) "
        "FROM STDIN"
    )
    count = 0
    with cursor.cursor.copy(copy_sql) as copy:
        for record in source.records:
            count += 1
            if count > MAX_ROWS:
                from .report import UploadError

                raise UploadError(
                    _("more than %(count)s rows: split the file") % {"count": f"{MAX_ROWS:,}"}
                )
            if source.kind == TABLE:
                table_geometry(record, plan.geometry, declared_srid, source.german)
            values = parser.values(record)
            copy.write_row(
                (
                    record.row,
                    *(
                        DEFAULT_VALUES.get(name) if values.get(name) is None else values[name]
                        for name in NAMES
                    ),
                    record.geom_hex,
                    record.wkt,
                    record.x,
                    record.y,
                    record.srid,
                    record.errors,
                    record.unreadable,
                )
            )
            if progress and count % PROGRESS_EVERY == 0:
                progress("read", count, total)
    if progress:
        progress("read", count, count)
    return count


# -- checks in SQL --------------------------------------------------------------------------


def _add_error(cursor, message_sql: str, where: str, params: list[Any] | None = None) -> None:
    cursor.execute(
        f"UPDATE upload_staging s SET errors = errors || ({message_sql})::text WHERE {where}",
        params or [],
    )


def _number(expression: str, digits: int = 0) -> str:
    pattern = "FM999G999G999" + ("D" + "0" * digits if digits else "")
    return f"to_char({expression}, '{pattern}')"


def check_geometry(cursor, notes: list[str]) -> None:
    # WKT cells: parsed by PostGIS; an unreadable one is that row's error, not the file's.
    cursor.execute(
        """
        CREATE OR REPLACE FUNCTION pg_temp.upload_wkt(text) RETURNS geometry
        LANGUAGE plpgsql AS $$
        BEGIN
            RETURN ST_GeomFromText($1);
        EXCEPTION WHEN OTHERS THEN
            RETURN NULL;
        END $$
        """,
        [],
    )
    unreadable = quote(_("the geometry could not be read as WKT"))
    cursor.execute(
        f"""
        UPDATE upload_staging SET geom = g.geom, wkt = NULL,
            errors = CASE WHEN g.geom IS NULL THEN errors || {unreadable}::text ELSE errors END
        FROM (SELECT row_no, pg_temp.upload_wkt(wkt) AS geom
              FROM upload_staging WHERE wkt IS NOT NULL) g
        WHERE g.row_no = upload_staging.row_no
        """,
        [],
    )
    cursor.execute(
        "UPDATE upload_staging SET geom = ST_MakePoint(x, y) "
        "WHERE geom IS NULL AND x IS NOT NULL AND y IS NOT NULL",
        [],
    )
    # Vertex count first and cheaply: nothing else may touch a monster geometry.
    message_0 = sql_message(
        _(
            "the geometry has %(count)s vertices; at most %(max)s per feature are "
            "accepted (simplify it)"
        ),
        count=_number("ST_NPoints(geom)"),
        max=_number(str(MAX_VERTICES)),
    )
    cursor.execute(
        f"""
        UPDATE upload_staging SET geom = NULL, errors = errors || {message_0}
        WHERE ST_NPoints(geom) > %s
        """,
        [MAX_VERTICES],
    )
    message_1 = sql_message(
        _("geometry type %(type)s is not accepted: use Point, Polygon or MultiPolygon"),
        type="initcap(GeometryType(geom))",
    )
    cursor.execute(
        f"""
        UPDATE upload_staging SET geom = NULL, errors = errors || {message_1}
        WHERE GeometryType(geom) NOT IN ('POINT', 'POLYGON', 'MULTIPOLYGON')
        """,
        [],
    )
    empty = quote(_("the geometry is empty"))
    cursor.execute(
        f"UPDATE upload_staging SET geom = NULL, errors = errors || "
        f"{empty}::text WHERE ST_IsEmpty(geom)",
        [],
    )
    cursor.execute("UPDATE upload_staging SET geom = ST_Force2D(geom) WHERE ST_NDims(geom) > 2", [])
    # The coordinate system: unstated -> guessed from the magnitude, said once for the file.
    cursor.execute(
        """
        UPDATE upload_staging SET in_srid = CASE
            WHEN ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
             AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90 THEN -4326 ELSE -25832 END
        WHERE geom IS NOT NULL AND coalesce(in_srid, 0) = 0
        """,
        [],
    )
    cursor.execute(
        "SELECT -in_srid, count(*) FROM upload_staging WHERE in_srid < 0 GROUP BY 1 ORDER BY 1",
        [],
    )
    for srid, count in cursor.fetchall():
        notes.append(
            _(
                "Coordinate system not stated: %(count)s rows read as EPSG:%(srid)s from the "
                "coordinate values."
            )
            % {"count": count, "srid": srid}
        )
    cursor.execute("UPDATE upload_staging SET in_srid = -in_srid WHERE in_srid < 0", [])
    message_2 = sql_message(
        _(
            "coordinates (%(x)s, %(y)s) are not longitude/latitude: they look like "
            "EPSG:25832 metres, but the file is read as EPSG:%(srid)s; declare "
            "EPSG:25832 or fix the file"
        ),
        x="round(ST_XMin(geom)::numeric, 1)",
        y="round(ST_YMin(geom)::numeric, 1)",
        srid="in_srid",
    )
    cursor.execute(
        f"""
        UPDATE upload_staging SET geom = NULL, errors = errors || {message_2}
        WHERE in_srid = 4326 AND (ST_XMin(geom) < -180 OR ST_XMax(geom) > 180
                                  OR ST_YMin(geom) < -90 OR ST_YMax(geom) > 90)
        """,
        [],
    )
    message_3 = quote(
        _("longitude and latitude look swapped (the first value must be the longitude, ~6–8° here)")
    )
    cursor.execute(
        f"""
        UPDATE upload_staging SET geom = NULL, errors = errors || {message_3}::text
        WHERE in_srid = 4326 AND ST_XMin(geom) BETWEEN 47 AND 56 AND ST_YMax(geom) BETWEEN 4 AND 16
        """,
        [],
    )
    message_4 = sql_message(
        _(
            "coordinates (%(x)s, %(y)s) look like longitude/latitude (EPSG:4326), but "
            "the file is read as EPSG:%(srid)s; declare EPSG:4326 or fix the file"
        ),
        x="round(ST_XMin(geom)::numeric, 5)",
        y="round(ST_YMin(geom)::numeric, 5)",
        srid="in_srid",
    )
    cursor.execute(
        f"""
        UPDATE upload_staging SET geom = NULL, errors = errors || {message_4}
        WHERE in_srid <> 4326 AND ST_XMax(geom) BETWEEN -180 AND 180
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
    message_5 = sql_message(
        _(
            "invalid geometry (%(reason)s) that cannot be repaired without changing "
            "its area by more than 1 %%"
        ),
        reason="j.reason",
    )
    message_9 = sql_message(_("repaired: %(reason)s"), reason="j.reason")
    cursor.execute(
        f"""
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
            notes = CASE WHEN j.acceptable
                THEN s.notes || {message_9}
                ELSE s.notes END,
            errors = CASE WHEN j.acceptable THEN s.errors ELSE s.errors || {message_5} END
        FROM judged j WHERE j.row_no = s.row_no
        """,
        [],
    )
    cursor.execute("SELECT name FROM geodata_region ORDER BY id LIMIT 1", [])
    if cursor.fetchone():
        _add_error(
            cursor,
            quote(_("outside the Ruhr area")),
            "geom IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM geodata_region r WHERE ST_Covers(r.geom, s.geom))",
        )


def assign_municipality(cursor, organisation: PartnerOrganisation) -> None:
    # Whole site inside one municipality (almost all): an indexed covers test, one
    # municipality at a time, so its prepared polygon serves all its rows (joined, the
    # planner loops over the rows and tests each against the polygons: 10 s at 50,000).
    # Otherwise the municipality with the largest overlap (on a boundary: the first AGS).
    # Analysed for this and for the join with the sites in `decide` (autovacuum never
    # analyses temporary tables).
    cursor.execute("CREATE INDEX upload_staging_geom ON upload_staging USING gist (geom)", [])
    cursor.execute("ANALYZE upload_staging", [])
    cursor.execute(
        """
        CREATE TEMPORARY TABLE upload_covered (row_no integer, municipality_id integer,
                                               ags text) ON COMMIT DROP
        """,
        [],
    )
    cursor.execute(
        """
        SELECT m.id FROM geodata_municipality m
        WHERE m.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, %s) FROM upload_staging)
        ORDER BY m.ags
        """,
        [STORAGE_SRID],
    )
    for (municipality_id,) in cursor.fetchall():
        cursor.execute(
            """
            INSERT INTO upload_covered
            SELECT s.row_no, m.id, m.ags FROM geodata_municipality m, upload_staging s
            WHERE m.id = %s AND ST_Covers(m.geom, s.geom)
            """,
            [municipality_id],
        )
    # Every later UPDATE of the staging rows would have to maintain the index.
    cursor.execute("DROP INDEX upload_staging_geom", [])
    cursor.execute(
        """
        UPDATE upload_staging s SET municipality_id = c.municipality_id
        FROM (SELECT DISTINCT ON (row_no) row_no, municipality_id FROM upload_covered
              ORDER BY row_no, ags) c
        WHERE c.row_no = s.row_no AND cardinality(s.errors) = 0
        """,
        [],
    )
    cursor.execute("DROP TABLE upload_covered", [])
    cursor.execute(
        """
        UPDATE upload_staging s SET municipality_id = (
            SELECT m.id FROM geodata_municipality m WHERE ST_Intersects(m.geom, s.geom)
            ORDER BY ST_Area(ST_Intersection(m.geom, s.geom)) DESC, m.ags LIMIT 1)
        WHERE s.municipality_id IS NULL AND s.geom IS NOT NULL AND cardinality(s.errors) = 0
        """,
        [],
    )
    _add_error(
        cursor,
        quote(_("not inside any municipality of the region")),
        "geom IS NOT NULL AND cardinality(errors) = 0 AND municipality_id IS NULL",
    )
    message_6 = sql_message(
        _("lies in %(municipality)s, which your organisation does not manage"),
        municipality="m.name",
    )
    cursor.execute(
        f"""
        UPDATE upload_staging s SET errors = errors || {message_6}
        FROM geodata_municipality m
        WHERE m.id = s.municipality_id AND NOT EXISTS (
            SELECT 1 FROM properties_partnerorganisation_municipalities om
            WHERE om.partnerorganisation_id = %s AND om.municipality_id = m.id)
        """,
        [organisation.pk],
    )


def check_values(cursor, present: dict[str, str]) -> None:
    # (Empty cells of columns with a default took the default while staging.)
    missing = []
    for name in vocab.REQUIRED:
        if name in present:
            message = _("missing %(field)s (the column “%(header)s” is empty)") % {
                "field": field_label(name),
                "header": present[name],
            }
        else:
            message = _(
                "missing %(field)s: the file has no column for it (accepted headers: "
                "%(headers)s, …)"
            ) % {"field": field_label(name), "headers": accepted_headers(name)}
        missing.append(
            f"CASE WHEN {name} IS NULL AND NOT '{name}' = ANY(unreadable) THEN {quote(message)} END"
        )
    cursor.execute(
        "UPDATE upload_staging SET errors = errors || "
        f"array_remove(ARRAY[{', '.join(missing)}], NULL) "
        f"WHERE {' OR '.join(f'{name} IS NULL' for name in vocab.REQUIRED)}",
        [],
    )
    # The gross area defaults to the polygon's area.
    message_7 = sql_message(
        _("gross area taken from the geometry: %(area)s m²"),
        area=_number("round(ST_Area(geom))"),
    )
    cursor.execute(
        f"""
        UPDATE upload_staging SET gross_area_m2 = round(ST_Area(geom)),
            notes = notes || {message_7}
        WHERE gross_area_m2 IS NULL AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')
        """,
        [],
    )
    _add_error(
        cursor,
        quote(
            _("missing %(field)s (needed for a point)") % {"field": field_label("gross_area_m2")}
        ),
        "gross_area_m2 IS NULL AND geom IS NOT NULL",
    )
    for name in vocab.AREA_FIELDS:
        _add_error(
            cursor,
            sql_message(
                _("%(field)s %(value)s m² is not plausible (must be above 0 and at most 5,000 ha)")
                % {"field": field_label(name), "value": "%(value)s"},
                value=name,
            ),
            f"{name} <= 0 OR {name} > %s",
            [MAX_AREA_M2],
        )
    _add_error(
        cursor,
        sql_message(
            _("price %(price)s €/m² is not plausible (0 to 10,000 €/m²)"), price="price_eur_m2"
        ),
        "price_eur_m2 < 0 OR price_eur_m2 > %s",
        [MAX_PRICE_EUR_M2],
    )
    _add_error(
        cursor,
        sql_message(
            _("net area (%(net)s m²) is larger than the gross area (%(gross)s m²)"),
            net="net_area_m2",
            gross="gross_area_m2",
        ),
        "net_area_m2 > gross_area_m2",
    )
    _add_error(
        cursor,
        sql_message(
            _("smallest divisible part (%(min)s m²) is larger than the largest (%(max)s m²)"),
            min="min_divisible_m2",
            max="max_divisible_m2",
        ),
        "min_divisible_m2 > max_divisible_m2",
    )
    for name in present:
        model_field = site_field(name)
        max_length = getattr(model_field, "max_length", None)
        if max_length and vocab.FIELDS[name] in ("text", "contact", "email"):
            _add_error(
                cursor,
                quote(
                    _("%(field)s is longer than %(max)s characters")
                    % {"field": field_label(name), "max": max_length}
                ),
                f"length({name}) > {max_length}",
            )
    if "contact_email" in present:
        _add_error(
            cursor,
            sql_message(
                _("contact e-mail “%(email)s” is not an e-mail address"), email="contact_email"
            ),
            "contact_email <> '' AND contact_email !~ '^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$'",
        )
    message_8 = sql_message(
        _("id %(id)s appears more than once in the file (rows %(rows)s)"),
        id="s.partner_ref",
        rows="d.rows",
    )
    cursor.execute(
        f"""
        UPDATE upload_staging s SET errors = errors || {message_8}
        FROM (SELECT partner_ref, string_agg(row_no::text, ', ' ORDER BY row_no) AS rows
              FROM upload_staging WHERE partner_ref IS NOT NULL
              GROUP BY partner_ref HAVING count(*) > 1) d
        WHERE d.partner_ref = s.partner_ref
        """,
        [],
    )


def accepted_headers(name: str) -> str:
    aliases = list(dict.fromkeys([name, *vocab.ALIASES.get(name, ())]))
    return ", ".join(f"“{alias}”" for alias in aliases[:5])


def decide(cursor, organisation: PartnerOrganisation, present: dict[str, str]) -> None:
    # (The staging table was analysed in assign_municipality: autovacuum never analyses
    # temporary tables, and without statistics the planner takes it for a few rows and
    # joins 10,000 of them to the sites by nested loop over every site.)
    cursor.execute(
        """
        UPDATE upload_staging s SET site_id = p.id FROM properties_site p
        WHERE p.organisation_id = %s AND p.partner_ref = s.partner_ref AND p.partner_ref <> ''
        """,
        [organisation.pk],
    )
    compared = [name for name in present if name != "partner_ref"]
    changes = [
        f"CASE WHEN p.{name} IS DISTINCT FROM s.{name} "
        f"THEN jsonb_build_array('{name}', to_jsonb(p.{name}), to_jsonb(s.{name})) END"
        for name in compared
    ]
    changes.append(
        "CASE WHEN NOT ST_OrderingEquals(p.geom, s.geom) THEN jsonb_build_array('geom', "
        "round(ST_Area(p.geom)), round(ST_Area(s.geom))) END"
    )
    cursor.execute(
        f"""
        UPDATE upload_staging s SET changes = (
            SELECT coalesce(jsonb_agg(c), '[]'::jsonb)
            FROM unnest(ARRAY[{", ".join(changes)}]) c WHERE c IS NOT NULL)
        FROM properties_site p WHERE p.id = s.site_id AND cardinality(s.errors) = 0
        """,
        [],
    )
    cursor.execute(
        """
        UPDATE upload_staging SET action = CASE
            WHEN cardinality(errors) > 0 THEN 'reject'
            WHEN site_id IS NULL THEN 'create'
            WHEN jsonb_array_length(changes) > 0 THEN 'update'
            ELSE 'unchanged' END
        """,
        [],
    )
    # The values a row stands for: the file's, else what the site has (an update keeps the
    # fields the file has no column for), else the defaults a new site gets.
    absent = [name for name in NAMES if name not in present and name != "partner_ref"]
    if absent:
        cursor.execute(
            f"""
            UPDATE upload_staging s SET {", ".join(f"{name} = p.{name}" for name in absent)}
            FROM properties_site p WHERE p.id = s.site_id
            """,
            [],
        )
