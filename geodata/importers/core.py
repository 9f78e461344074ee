"""The one import core for reference geodata: every front door (the import_layer command,
the bundled-data loader, tests) calls import_file().

A file is streamed into a temporary staging table with COPY, checked and repaired there in
SQL (ids, validity, CRS, extent), and merged into its target in set-based statements, all in
one transaction: an import that fails leaves the database exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from geodata.layers import get_layer_spec
from geodata.models import STORAGE_SRID, Dataset, Layer

from .sources import FID, SourceError, opened, read_layer, resolve_srid

TARGETS = ("municipalities", "districts", "region")
# Generous bounds of Germany and its neighbours in EPSG:25832: anything outside is a CRS
# mix-up (UTM metres read as degrees, or lon/lat swapped), not a real feature.
PLAUSIBLE_EXTENT_25832 = (-200_000.0, 5_000_000.0, 1_200_000.0, 6_300_000.0)
MAX_REPORTED_ERRORS = 20


class ImportFailed(Exception):
    """The file was read but its content cannot be imported; nothing was written."""

    def __init__(self, message: str, errors: list[str] | None = None):
        self.errors = errors or []
        detail = "".join(f"\n  - {e}" for e in self.errors[:MAX_REPORTED_ERRORS])
        more = len(self.errors) - MAX_REPORTED_ERRORS
        if more > 0:
            detail += f"\n  … and {more} more"
        super().__init__(message + detail)


@dataclass(frozen=True)
class DatasetInfo:
    slug: str
    title: str
    source: str = ""
    licence: str = ""
    attribution: str = ""
    attribution_url: str = ""
    demo_only: bool = False


@dataclass(frozen=True)
class ImportSpec:
    """What to import from a file and where to.

    target: a layer slug (stations, motorways, ...) or municipalities / districts / region.
    id_field: the column with the stable id ("@fid" for the file's own feature id); for OSM
    files the OSM id is used. Without one, a hash of the geometry serves as id.
    fields: for boundary targets, model attribute -> file column.
    """

    target: str
    dataset: DatasetInfo
    id_field: str | None = None
    name_field: str | None = "name"
    category_field: str | None = None
    layer_name: str | None = None
    srid: int | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    target: str
    read: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    repaired: int = 0
    skipped_same_file: bool = False

    def __str__(self) -> str:
        if self.skipped_same_file:
            return f"{self.target}: unchanged file, nothing to do"
        parts = [
            f"{self.read} read",
            f"{self.created} created",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.deleted} deleted",
        ]
        if self.repaired:
            parts.append(f"{self.repaired} invalid geometries repaired")
        if self.skipped:
            parts.append(f"{self.skipped} features of other kinds skipped")
        return f"{self.target}: " + ", ".join(parts)


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    path: Path | str, spec: ImportSpec, *, skip_if_unchanged: bool = False
) -> ImportResult:
    """Imports one file into its target, all or nothing. Raises SourceError / ImportFailed."""
    return import_files([Path(path)], spec, skip_if_unchanged=skip_if_unchanged)


def import_files(
    paths: list[Path], spec: ImportSpec, *, skip_if_unchanged: bool = False
) -> ImportResult:
    """Imports several files as one dataset (e.g. neighbouring OSM extracts that overlap at
    their borders): a feature found in more than one file is taken from the first. Within
    one file an id must still be unique. All or nothing, like import_file."""
    if spec.target not in TARGETS:
        try:
            get_layer_spec(spec.target)
        except KeyError as exc:
            raise ImportFailed(str(exc.args[0])) from None
    checksums = [file_checksum(path) if path.is_file() else "" for path in paths]
    checksum = (
        checksums[0]
        if len(checksums) == 1
        else hashlib.sha256("".join(checksums).encode()).hexdigest()
    )
    result = ImportResult(target=spec.target)
    if (
        skip_if_unchanged
        and Dataset.objects.filter(slug=spec.dataset.slug, checksum=checksum).exists()
    ):
        result.skipped_same_file = True
        return result
    try:
        with transaction.atomic():
            dataset = _save_dataset(spec.dataset, checksum)
            with connection.cursor() as cursor:
                _create_staging(cursor)
                last_seq = 0
                for path in paths:
                    first_seq = last_seq
                    last_seq = _stage(path, spec, cursor, result, seq_start=first_seq)
                    if first_seq:  # the overlap with the files before this one
                        cursor.execute(
                            """
                            DELETE FROM import_staging s WHERE s.seq > %s AND EXISTS (
                                SELECT 1 FROM import_staging p
                                WHERE p.seq <= %s AND p.external_id = s.external_id)
                            """,
                            [first_seq, first_seq],
                        )
                        result.read -= cursor.rowcount
                if result.read == 0:
                    names = ", ".join(path.name for path in paths)
                    raise ImportFailed(f"{names}: the file holds no features for {spec.target}")
                _check_and_prepare(cursor, spec, result)
                _merge(cursor, spec, dataset, result)
                cursor.execute("DROP TABLE import_staging")
    except DatabaseError as exc:
        names = ", ".join(path.name for path in paths)
        raise ImportFailed(f"{names}: the database refused the data ({exc})") from exc
    return result


def _save_dataset(info: DatasetInfo, checksum: str) -> Dataset:
    dataset, _ = Dataset.objects.update_or_create(
        slug=info.slug,
        defaults={
            "title": info.title,
            "source": info.source,
            "licence": info.licence,
            "attribution": info.attribution,
            "attribution_url": info.attribution_url,
            "demo_only": info.demo_only,
            "checksum": checksum,
            "imported_at": timezone.now(),
        },
    )
    return dataset


def _create_staging(cursor) -> None:
    # ON COMMIT DROP only fires at a real commit; inside an outer transaction (a caller's
    # atomic block, the tests) an earlier import's table may still be there.
    cursor.execute("DROP TABLE IF EXISTS import_staging")
    cursor.execute(
        """
        CREATE TEMPORARY TABLE import_staging (
            seq integer PRIMARY KEY,
            external_id text,
            name text,
            category integer,
            properties jsonb NOT NULL,
            geom geometry
        ) ON COMMIT DROP
        """
    )


def _osm_match(attributes: dict[str, object], tags: dict[str, tuple[str, ...]]) -> bool:
    return any(str(attributes.get(key) or "") in values for key, values in tags.items())


def _stage(path: Path, spec: ImportSpec, cursor, result: ImportResult, seq_start: int = 0) -> int:
    """Copies the file's features into the staging table (seq from seq_start + 1); returns
    the last seq used."""
    is_osm = path.suffix.lower() in (".pbf", ".osm")
    layer_spec = None if spec.target in TARGETS else get_layer_spec(spec.target)
    if is_osm and (layer_spec is None or not layer_spec.osm_tags):
        raise ImportFailed(f"{path.name}: OSM files can only be imported into a transport layer")
    osm_tags = layer_spec.osm_tags if is_osm and layer_spec else None
    layer_name = layer_spec.osm_layer if is_osm and layer_spec else spec.layer_name
    id_field = "osm_id" if is_osm else spec.id_field
    errors: list[str] = []
    with opened(path) as (datasource, format_name):
        layer = read_layer(datasource, layer_name=layer_name, id_field=id_field)
        srid = 4326 if is_osm else _resolve_srid(path, layer.srid, spec.srid)
        with cursor.cursor.copy(
            "COPY import_staging (seq, external_id, name, category, properties, geom) FROM STDIN"
        ) as copy:
            seq = seq_start
            for seq, feature in enumerate(layer.features, start=seq_start + 1):
                attributes = feature.attributes
                if osm_tags is not None:
                    if not _osm_match(attributes, osm_tags):
                        result.skipped += 1
                        continue
                    osm_way = attributes.get("osm_way_id")
                    feature.external_id = (
                        f"w{osm_way}"
                        if osm_way
                        else f"{_OSM_PREFIX[layer.name]}{attributes.get('osm_id')}"
                    )
                result.read += 1
                if feature.geometry is None or feature.geometry.empty:
                    errors.append(f"feature {seq}: no geometry")
                    continue
                geometry = feature.geometry
                wkb = bytes(geometry.wkb)
                external_id = feature.external_id
                if external_id is None:
                    if id_field:
                        errors.append(f"feature {seq}: empty id column {id_field!r}")
                        continue
                    external_id = "g" + hashlib.sha1(wkb, usedforsecurity=False).hexdigest()[:20]
                name = attributes.get(spec.name_field) if spec.name_field else None
                category = (
                    _as_int(attributes.get(spec.category_field)) if spec.category_field else None
                )
                copy.write_row(
                    (
                        seq,
                        external_id,
                        None if name is None else str(name)[:200],
                        category,
                        json.dumps(attributes, default=str, ensure_ascii=False),
                        _ewkb_hex(wkb, srid),
                    )
                )
    if errors:
        raise ImportFailed(f"{path.name}: {len(errors)} features cannot be imported", errors)
    return seq


_OSM_PREFIX = {
    "points": "n",
    "lines": "w",
    "multilinestrings": "r",
    "multipolygons": "r",
    "other_relations": "r",
}


def _ewkb_hex(wkb: bytes, srid: int) -> str:
    """Geometry text input PostGIS reads without parsing WKT: an SRID prefix and hex WKB."""
    return f"SRID={srid};" + wkb.hex()


def _as_int(value: object) -> int | None:
    if not isinstance(value, int | float | str):
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _resolve_srid(path: Path, detected: int | None, declared: int | None) -> int:
    srid = resolve_srid(path.name, detected, declared)
    if not srid:
        raise SourceError(
            f"{path.name}: the coordinate system cannot be read from the file; "
            "declare it (EPSG:4326 for lon/lat or EPSG:25832 for UTM 32N)"
        )
    return srid


def _check_and_prepare(cursor, spec: ImportSpec, result: ImportResult) -> None:
    cursor.execute(
        """
        SELECT external_id, count(*) FROM import_staging
        GROUP BY external_id HAVING count(*) > 1 ORDER BY count(*) DESC, external_id LIMIT 50
        """
    )
    duplicates = cursor.fetchall()
    if duplicates:
        raise ImportFailed(
            "the same id appears more than once in the file",
            [f"id {external_id!r} appears {count} times" for external_id, count in duplicates],
        )
    # Geographic coordinates out of range mean the CRS is wrong: say so instead of letting
    # ST_Transform fail with a projection error.
    cursor.execute(
        """
        SELECT seq FROM import_staging
        WHERE ST_SRID(geom) IN (4326, 4258)
          AND (ST_XMin(geom) < -180 OR ST_XMax(geom) > 180 OR ST_YMin(geom) < -90 OR ST_YMax(geom) > 90)
        ORDER BY seq LIMIT 50
        """
    )
    out_of_range = [row[0] for row in cursor.fetchall()]
    if out_of_range:
        raise ImportFailed(
            "coordinates are not longitude/latitude: is the file really in EPSG:4326?",
            [f"feature {seq}: coordinates out of range" for seq in out_of_range],
        )
    cursor.execute(
        """
        UPDATE import_staging SET geom = ST_MakeValid(geom)
        WHERE NOT ST_IsValid(geom)
        """
    )
    result.repaired = cursor.rowcount
    cursor.execute("UPDATE import_staging SET geom = ST_Transform(geom, %s)", [STORAGE_SRID])
    xmin, ymin, xmax, ymax = PLAUSIBLE_EXTENT_25832
    cursor.execute(
        """
        SELECT seq FROM import_staging
        WHERE NOT geom && ST_MakeEnvelope(%s, %s, %s, %s, %s)
           OR ST_XMin(geom) < %s OR ST_XMax(geom) > %s OR ST_YMin(geom) < %s OR ST_YMax(geom) > %s
        ORDER BY seq LIMIT 50
        """,
        [xmin, ymin, xmax, ymax, STORAGE_SRID, xmin, xmax, ymin, ymax],
    )
    far_away = [row[0] for row in cursor.fetchall()]
    if far_away:
        raise ImportFailed(
            "features lie far outside Germany: is the coordinate system right?",
            [f"feature {seq}: outside the plausible area" for seq in far_away],
        )


def _merge(cursor, spec: ImportSpec, dataset: Dataset, result: ImportResult) -> None:
    if spec.target == "districts":
        _merge_districts(cursor, spec, dataset, result)
    elif spec.target == "municipalities":
        _merge_municipalities(cursor, spec, dataset, result)
    elif spec.target == "region":
        _merge_region(cursor, spec, dataset, result)
    else:
        _merge_layer(cursor, spec, dataset, result)


def _count_changes(cursor, result: ImportResult) -> None:
    """created / updated from the RETURNING of an upsert that reports xmax = 0 for inserts."""
    rows = cursor.fetchall()
    result.created += sum(1 for (inserted,) in rows if inserted)
    result.updated += sum(1 for (inserted,) in rows if not inserted)
    result.unchanged = result.read - result.created - result.updated


def _merge_layer(cursor, spec: ImportSpec, dataset: Dataset, result: ImportResult) -> None:
    layer = Layer.objects.get(slug=spec.target)
    cursor.execute(
        """
        SELECT count(*) FROM import_staging s
        JOIN geodata_layerfeature f ON f.layer_id = %s AND f.external_id = s.external_id
        WHERE f.dataset_id IS DISTINCT FROM %s
        """,
        [layer.pk, dataset.pk],
    )
    (clashes,) = cursor.fetchone()
    if clashes:
        raise ImportFailed(
            f"{clashes} ids already belong to another dataset in layer {spec.target!r}; "
            "use a different dataset name or remove the other import first"
        )
    cursor.execute(
        """
        INSERT INTO geodata_layerfeature (layer_id, external_id, name, category, properties, geom, dataset_id)
        SELECT %s, external_id, coalesce(name, ''), category, properties, geom, %s FROM import_staging
        ON CONFLICT (layer_id, external_id) DO UPDATE SET
            name = EXCLUDED.name, category = EXCLUDED.category,
            properties = EXCLUDED.properties, geom = EXCLUDED.geom, dataset_id = EXCLUDED.dataset_id
        WHERE (geodata_layerfeature.name, geodata_layerfeature.category, geodata_layerfeature.properties)
              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category, EXCLUDED.properties)
           OR NOT ST_OrderingEquals(geodata_layerfeature.geom, EXCLUDED.geom)
        RETURNING (xmax = 0)
        """,
        [layer.pk, dataset.pk],
    )
    _count_changes(cursor, result)
    cursor.execute(
        """
        DELETE FROM geodata_layerfeature f
        WHERE f.layer_id = %s AND f.dataset_id = %s
          AND NOT EXISTS (SELECT 1 FROM import_staging s WHERE s.external_id = f.external_id)
        """,
        [layer.pk, dataset.pk],
    )
    result.deleted = cursor.rowcount


def _column(spec: ImportSpec, attribute: str) -> str:
    """The file column feeding a model attribute (defaults to the same name)."""
    return spec.fields.get(attribute, attribute)


def _require_polygons(cursor) -> None:
    cursor.execute(
        """
        SELECT seq, GeometryType(geom) FROM import_staging
        WHERE GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON') ORDER BY seq LIMIT 50
        """
    )
    wrong = cursor.fetchall()
    if wrong:
        raise ImportFailed(
            "boundaries must be polygons",
            [f"feature {seq}: {kind.lower()}" for seq, kind in wrong],
        )
    # ST_MakeValid may turn a polygon into a collection; keep the polygonal part.
    cursor.execute("UPDATE import_staging SET geom = ST_Multi(ST_CollectionExtract(geom, 3))")


def _merge_districts(cursor, spec: ImportSpec, dataset: Dataset, result: ImportResult) -> None:
    _require_polygons(cursor)
    cursor.execute(
        """
        INSERT INTO geodata_district (ags, name, kind, regierungsbezirk, population, area_km2, geom, dataset_id)
        SELECT external_id, coalesce(name, external_id), coalesce(properties->>%s, ''),
               coalesce(properties->>%s, ''), (properties->>%s)::numeric::integer,
               (properties->>%s)::double precision, geom, %s
        FROM import_staging
        ON CONFLICT (ags) DO UPDATE SET
            name = EXCLUDED.name, kind = EXCLUDED.kind, regierungsbezirk = EXCLUDED.regierungsbezirk,
            population = EXCLUDED.population, area_km2 = EXCLUDED.area_km2, geom = EXCLUDED.geom,
            dataset_id = EXCLUDED.dataset_id
        WHERE (geodata_district.name, geodata_district.kind, geodata_district.population,
               geodata_district.area_km2, geodata_district.regierungsbezirk)
              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.population,
               EXCLUDED.area_km2, EXCLUDED.regierungsbezirk)
           OR NOT ST_OrderingEquals(geodata_district.geom, EXCLUDED.geom)
        RETURNING (xmax = 0)
        """,
        [
            _column(spec, "kind"),
            _column(spec, "regierungsbezirk"),
            _column(spec, "population"),
            _column(spec, "area_km2"),
            dataset.pk,
        ],
    )
    _count_changes(cursor, result)


def _merge_municipalities(cursor, spec: ImportSpec, dataset: Dataset, result: ImportResult) -> None:
    _require_polygons(cursor)
    district_column = _column(spec, "district_ags")
    cursor.execute(
        """
        SELECT s.external_id, s.properties->>%s FROM import_staging s
        LEFT JOIN geodata_district d ON d.ags = s.properties->>%s
        WHERE d.id IS NULL ORDER BY s.seq LIMIT 50
        """,
        [district_column, district_column],
    )
    orphans = cursor.fetchall()
    if orphans:
        raise ImportFailed(
            "municipalities refer to districts that are not loaded (import the districts first)",
            [f"municipality {ags}: district {district!r}" for ags, district in orphans],
        )
    cursor.execute(
        """
        INSERT INTO geodata_municipality
            (ags, name, kind, district_id, population, area_km2, postcode, geom, centre, dataset_id)
        SELECT s.external_id, coalesce(s.name, s.external_id), coalesce(s.properties->>%s, ''), d.id,
               (s.properties->>%s)::numeric::integer, (s.properties->>%s)::double precision,
               coalesce(s.properties->>%s, ''), s.geom,
               coalesce(
                   ST_Transform(ST_SetSRID(ST_MakePoint((s.properties->>%s)::double precision,
                                                        (s.properties->>%s)::double precision), 4326), %s),
                   ST_PointOnSurface(s.geom)),
               %s
        FROM import_staging s JOIN geodata_district d ON d.ags = s.properties->>%s
        ON CONFLICT (ags) DO UPDATE SET
            name = EXCLUDED.name, kind = EXCLUDED.kind, district_id = EXCLUDED.district_id,
            population = EXCLUDED.population, area_km2 = EXCLUDED.area_km2,
            postcode = EXCLUDED.postcode, geom = EXCLUDED.geom, centre = EXCLUDED.centre,
            dataset_id = EXCLUDED.dataset_id
        WHERE (geodata_municipality.name, geodata_municipality.kind, geodata_municipality.district_id,
               geodata_municipality.population, geodata_municipality.area_km2, geodata_municipality.postcode)
              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.district_id,
               EXCLUDED.population, EXCLUDED.area_km2, EXCLUDED.postcode)
           OR NOT ST_OrderingEquals(geodata_municipality.geom, EXCLUDED.geom)
        RETURNING (xmax = 0)
        """,
        [
            _column(spec, "kind"),
            _column(spec, "population"),
            _column(spec, "area_km2"),
            _column(spec, "postcode"),
            _column(spec, "centre_lon"),
            _column(spec, "centre_lat"),
            STORAGE_SRID,
            dataset.pk,
            district_column,
        ],
    )
    _count_changes(cursor, result)


def _merge_region(cursor, spec: ImportSpec, dataset: Dataset, result: ImportResult) -> None:
    _require_polygons(cursor)
    cursor.execute(
        """
        INSERT INTO geodata_region (slug, name, population, area_km2, geom, dataset_id)
        SELECT lower(external_id), coalesce(name, external_id), (properties->>%s)::numeric::integer,
               (properties->>%s)::double precision, geom, %s
        FROM import_staging
        ON CONFLICT (slug) DO UPDATE SET
            name = EXCLUDED.name, population = EXCLUDED.population, area_km2 = EXCLUDED.area_km2,
            geom = EXCLUDED.geom, dataset_id = EXCLUDED.dataset_id
        WHERE (geodata_region.name, geodata_region.population, geodata_region.area_km2)
              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.population, EXCLUDED.area_km2)
           OR NOT ST_OrderingEquals(geodata_region.geom, EXCLUDED.geom)
        RETURNING (xmax = 0)
        """,
        [_column(spec, "population"), _column(spec, "area_km2"), dataset.pk],
    )
    _count_changes(cursor, result)


__all__ = [
    "FID",
    "DatasetInfo",
    "ImportFailed",
    "ImportResult",
    "ImportSpec",
    "SourceError",
    "import_file",
]
