"""Reading vector files (GeoJSON, GeoPackage, zipped Shapefile, OSM PBF/XML) through GDAL.

Only plain files on local disk are opened: GDAL virtual-file names (/vsicurl/, /vsizip/ ...),
URLs and VRT files are refused before GDAL sees them, and a zip is unpacked by us, entry by
entry, with limits, into a temporary folder.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry, SpatialReference
from django.contrib.gis.gdal.feature import Feature
from django.contrib.gis.gdal.layer import Layer
from django.contrib.gis.gdal.prototypes import ds as gdal_capi

SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".shp": "Shapefile",
    ".pbf": "OSM PBF",
    ".osm": "OSM XML",
}
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3
MAX_ZIP_ENTRIES = 200
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per entry: more looks like a zip bomb
# Pseudo column: the feature id the file itself gives (GeoJSON's top-level "id", a row id).
FID = "@fid"
_FORBIDDEN_NAME = re.compile(r"^(/vsi|[a-z][a-z0-9+.-]*://)", re.IGNORECASE)


class SourceError(Exception):
    """A file that cannot be read: the message says why, for the person who gave it."""


@dataclass
class RawFeature:
    external_id: str | None
    attributes: dict[str, object]
    geometry: OGRGeometry | None


@dataclass
class OpenedLayer:
    name: str
    srid: int | None
    feature_count: int | None  # None where the driver cannot tell without reading (OSM)
    fields: list[str]
    features: Iterator[RawFeature] = field(repr=False)


def describe_formats() -> str:
    return ", ".join(sorted(set(SUFFIXES.values())))


def check_path(path: Path, *, suffixes: dict[str, str] | None = None) -> Path:
    """Refuses URLs, GDAL virtual files, VRT, empty files and suffixes not in `suffixes`
    (by default the formats GDAL reads here)."""
    suffixes = SUFFIXES if suffixes is None else suffixes
    name = str(path)
    if _FORBIDDEN_NAME.match(name) or "/vsi" in name.lower():
        raise SourceError(
            f"{name}: only local files can be imported, not GDAL virtual files or URLs"
        )
    if not path.is_file():
        raise SourceError(f"{name}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".vrt":
        raise SourceError(f"{name}: VRT files are not accepted (they can point GDAL anywhere)")
    if suffix not in suffixes:
        supported = ", ".join(sorted(set(suffixes.values())))
        raise SourceError(f"{name}: unsupported file type {suffix!r}; supported: {supported}")
    if path.stat().st_size == 0:
        raise SourceError(f"{name}: the file is empty")
    return path


@contextlib.contextmanager
def opened(path: Path, *, layer_name: str | None = None) -> Iterator[tuple[DataSource, str]]:
    """Yields a GDAL DataSource for the file (a zip is unpacked first) and its format name."""
    path = check_path(Path(path))
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="sitefinder-import-") as tmp:
            shapefile = _unpack_shapefile_zip(path, Path(tmp))
            yield _open_gdal(shapefile), SUFFIXES[suffix]
    else:
        yield _open_gdal(path), SUFFIXES[suffix]


def _open_gdal(path: Path) -> DataSource:
    try:
        return DataSource(str(path))
    except GDALException as exc:
        raise SourceError(f"{path.name}: GDAL cannot read this file ({exc})") from exc


def _unpack_shapefile_zip(path: Path, into: Path) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{path.name}: not a valid zip file") from exc
    with archive:
        entries = check_zip_entries(archive, path.name)
        shapefiles = [e for e in entries if e.filename.lower().endswith(".shp")]
        if len(shapefiles) != 1:
            raise SourceError(
                f"{path.name}: the zip must hold exactly one .shp file (with its .dbf, .shx, .prj); "
                f"found {len(shapefiles)}"
            )
        for entry in entries:
            # Flatten: every part lands in one folder under a plain name we chose the root of.
            target = into / PurePosixPath(entry.filename.replace("\\", "/")).name
            with archive.open(entry) as src, open(target, "wb") as dst:
                written = 0
                while chunk := src.read(1024 * 1024):
                    written += len(chunk)
                    if written > entry.file_size:
                        raise SourceError(f"{path.name}: a zip entry is larger than it claims")
                    dst.write(chunk)
        return into / PurePosixPath(shapefiles[0].filename.replace("\\", "/")).name


def check_zip_entries(
    archive: zipfile.ZipFile, name: str, *, max_total_bytes: int = MAX_ZIP_TOTAL_BYTES
) -> list[zipfile.ZipInfo]:
    """The file entries of a zip, refused if a path escapes, a VRT hides inside, or the
    entries unpack to far more than they hold (a zip bomb). Reads no entry."""
    entries = [e for e in archive.infolist() if not e.is_dir()]
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SourceError(f"{name}: too many files in the zip ({len(entries)})")
    total = 0
    for entry in entries:
        entry_name = PurePosixPath(entry.filename.replace("\\", "/"))
        if entry_name.is_absolute() or ".." in entry_name.parts:
            raise SourceError(f"{name}: unsafe path in the zip: {entry.filename!r}")
        if entry_name.suffix.lower() == ".vrt":
            raise SourceError(f"{name}: VRT files are not accepted")
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if total > max_total_bytes or (entry.file_size > 10 * 1024**2 and ratio > MAX_ZIP_RATIO):
            raise SourceError(f"{name}: the zip unpacks to too much data (zip bomb?)")
    return entries


def detect_srid(srs: SpatialReference | None) -> int | None:
    """The EPSG code of a layer's CRS, if GDAL can tell it."""
    if srs is None:
        return None
    srid = srs.srid
    if srid:
        return int(srid)
    with contextlib.suppress(GDALException):
        srs.identify_epsg()
        if srs.srid:
            return int(srs.srid)
    # Shapefile .prj files name UTM 32N / WGS 84 without an EPSG authority.
    wkt = srs.wkt.upper()
    if "UTM" in wkt and ("32N" in wkt or "ZONE 32" in wkt) and ("ETRS" in wkt or "1989" in wkt):
        return 25832
    if srs.geographic and "WGS" in wkt and "84" in wkt:
        return 4326
    return None


def parse_osm_other_tags(value: object) -> dict[str, str]:
    """GDAL's OSM driver packs tags it has no column for as hstore text: "k"=>"v","k2"=>"v2"."""
    if not value:
        return {}
    return dict(re.findall(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"', str(value)))


def read_layer(
    datasource: DataSource, *, layer_name: str | None, id_field: str | None
) -> OpenedLayer:
    """One layer of the datasource; the only one, or the one named."""
    names = [datasource[index].name for index in range(datasource.layer_count)]
    if layer_name:
        if layer_name not in names:
            raise SourceError(f"no layer {layer_name!r} in the file; layers: {', '.join(names)}")
        layer = datasource[names.index(layer_name)]
    elif len(names) == 1:
        layer = datasource[0]
    else:
        raise SourceError(f"the file has several layers; name one of: {', '.join(names)}")
    fields = list(layer.fields)
    if id_field and id_field != FID and id_field not in fields:
        raise SourceError(
            f"no id column {id_field!r} in layer {layer.name!r}; columns: {', '.join(fields)}"
        )

    def features() -> Iterator[RawFeature]:
        for feature in _iter_features(layer):
            attributes = {name: feature.get(name) for name in fields}
            if "other_tags" in attributes:
                attributes.update(parse_osm_other_tags(attributes.pop("other_tags")))
            if id_field == FID:
                external_id: object = feature.fid
            else:
                external_id = attributes.get(id_field) if id_field else None
            yield RawFeature(
                external_id=None if external_id in (None, "") else str(external_id),
                attributes=attributes,
                geometry=_feature_geometry(feature),
            )

    return OpenedLayer(
        name=layer.name,
        srid=detect_srid(layer.srs),
        feature_count=_feature_count(layer),
        fields=fields,
        features=features(),
    )


def _feature_geometry(feature: Feature) -> OGRGeometry | None:
    """The feature's geometry, None if it has none. (Feature.geom_type is the layer's type,
    "Unknown" for a layer of mixed types, so it cannot tell.)"""
    try:
        return feature.geom
    except GDALException:  # a NULL geometry
        return None


def _feature_count(layer) -> int | None:
    try:
        return len(layer)
    except ValueError:  # GDAL answers -1 ("unknown"), which len() refuses
        return None


def _iter_features(layer: Layer) -> Iterator[Feature]:
    """Every feature of a layer, read until GDAL has no more.

    Django's Layer.__iter__ counts to len(layer) first, which the OSM driver cannot tell
    (it answers -1), so it would yield nothing for a PBF file.
    """
    gdal_capi.reset_reading(layer.ptr)
    while True:
        try:
            pointer = gdal_capi.get_next_feature(layer.ptr)
        except GDALException:  # NULL: the end of the layer
            return
        yield Feature(pointer, layer)
