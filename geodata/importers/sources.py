"""Reading vector files (GeoJSON, GeoPackage, zipped Shapefile, OSM PBF/XML) through GDAL.

Only plain files on local disk are opened: GDAL virtual-file names (/vsicurl/, /vsizip/ ...),
URLs, network paths and VRT files are refused before GDAL sees them, and a zip is unpacked
by us, entry by entry, with limits, into a temporary folder.

GDAL picks a driver from a file's content, not its name: an OGR VRT saved as sites.geojson
would be opened as VRT and could make the server fetch a URL or read a local file. So every
file is opened with exactly the one driver its suffix implies (GDALOpenEx with an allowed
driver list), after its first bytes were checked to be that format (GeoJSON: "{", GeoPackage:
the SQLite header, Shapefile: its file code), and a coordinate system may only be named by an
EPSG code of ALLOWED_SRIDS: a GeoJSON "crs" given as a URL, a file path or a PROJ string is
refused before GDAL would resolve it.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from ctypes import c_char_p
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry, SpatialReference
from django.contrib.gis.gdal.driver import Driver
from django.contrib.gis.gdal.feature import Feature
from django.contrib.gis.gdal.layer import Layer
from django.contrib.gis.gdal.prototypes import ds as gdal_capi
from django.utils.encoding import force_bytes
from django.utils.translation import gettext as _

SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".shp": "Shapefile",
    ".pbf": "OSM PBF",
    ".osm": "OSM XML",
}
# The one GDAL driver each suffix is opened with (a .zip holds a Shapefile).
DRIVERS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".pbf": "OSM",
    ".osm": "OSM",
}
# Coordinate systems a file may state (and a user may declare), as integer EPSG codes.
ALLOWED_SRIDS = (4326, 25832, 25833, 3857, 31466, 31467)
MAX_ZIP_TOTAL_BYTES = 2 * 1024**3
MAX_ZIP_ENTRIES = 200
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per entry: more looks like a zip bomb
# Pseudo column: the feature id the file itself gives (GeoJSON's top-level "id", a row id).
FID = "@fid"
_FORBIDDEN_NAME = re.compile(r"^(/vsi|[a-z][a-z0-9+.-]+:/|//|\\\\)", re.IGNORECASE)


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
    """Refuses URLs, GDAL virtual files, network paths, VRT, empty files and suffixes not in
    `suffixes` (by default the formats GDAL reads here)."""
    suffixes = SUFFIXES if suffixes is None else suffixes
    name = str(path)
    if _FORBIDDEN_NAME.match(name) or "/vsi" in name.lower() or "\\vsi" in name.lower():
        raise SourceError(
            _("%(name)s: only local files can be imported, not GDAL virtual files or URLs")
            % {"name": name}
        )
    if not path.is_file():
        raise SourceError(_("%(name)s: no such file") % {"name": name})
    suffix = path.suffix.lower()
    if suffix == ".vrt":
        raise SourceError(
            _("%(name)s: VRT files are not accepted (they can point GDAL anywhere)")
            % {"name": name}
        )
    if suffix not in suffixes:
        supported = ", ".join(sorted(set(suffixes.values())))
        raise SourceError(
            _("%(name)s: unsupported file type %(suffix)s; supported: %(supported)s")
            % {"name": name, "suffix": repr(suffix), "supported": supported}
        )
    if path.stat().st_size == 0:
        raise SourceError(_("%(name)s: the file is empty") % {"name": name})
    return path


@contextlib.contextmanager
def opened(path: Path, *, layer_name: str | None = None) -> Iterator[tuple[DataSource, str]]:
    """Yields a GDAL DataSource for the file (a zip is unpacked first) and its format name."""
    path = check_path(Path(path))
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with tempfile.TemporaryDirectory(prefix="sitefinder-import-") as tmp:
            shapefile = _unpack_shapefile_zip(path, Path(tmp))
            yield open_checked(shapefile, DRIVERS[".shp"], shown_name=path.name), SUFFIXES[suffix]
    else:
        yield open_checked(path, DRIVERS[suffix]), SUFFIXES[suffix]


def open_checked(path: Path, driver: str, *, shown_name: str | None = None) -> DataSource:
    """Opens `path` with exactly the GDAL driver `driver`, after checking that the file's
    content is that format and names no coordinate system GDAL would have to look up."""
    name = shown_name or path.name
    check_content(path, driver, shown_name=name)
    Driver.ensure_registered()
    allowed = (c_char_p * 2)(driver.encode(), None)
    try:
        pointer = gdal_capi.open_ds(
            force_bytes(str(path)),
            gdal_capi.GDAL_OF_READONLY | gdal_capi.GDAL_OF_VECTOR,
            allowed,
            None,
            None,
        )
    except GDALException as exc:
        raise SourceError(
            _("%(name)s: GDAL cannot read this file as %(format)s")
            % {"name": name, "format": driver}
        ) from exc
    datasource = DataSource(pointer, Driver(gdal_capi.get_dataset_driver(pointer)).ptr)
    if datasource.driver.name != driver:  # cannot happen with one allowed driver
        raise SourceError(_("%(name)s: unexpected file format") % {"name": name})
    return datasource


# What the first bytes of each format are.
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHAPEFILE_MAGIC = b"\x00\x00\x27\x0a"
_XML_DISGUISE = re.compile(rb"<\s*(OGRVRTDataSource|VRTDataset|gml:|wfs:|FeatureCollection)", re.I)


def check_content(path: Path, driver: str, *, shown_name: str | None = None) -> None:
    """Refuses a file whose first bytes are not the format `driver` reads (a VRT or GML file
    renamed .geojson, .gpkg, .shp ...), and a GeoJSON "crs" that is not an allowed EPSG code."""
    name = shown_name or path.name
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if _XML_DISGUISE.search(head[:1024]) and driver != "OSM":
        raise SourceError(
            _("%(name)s: the file contains VRT or GML (XML), not %(format)s; refused")
            % {"name": name, "format": driver}
        )
    if driver == "GeoJSON":
        text = head.lstrip(b"\xef\xbb\xbf").lstrip()
        if not text.startswith(b"{"):
            raise SourceError(
                _("%(name)s: this is not a GeoJSON file (it must start with “{”)") % {"name": name}
            )
        check_geojson_crs(path, shown_name=name)
    elif driver == "GPKG":
        if not head.startswith(_SQLITE_MAGIC):
            raise SourceError(_("%(name)s: this is not a GeoPackage file") % {"name": name})
        _check_geopackage(path, name)
    elif driver == "ESRI Shapefile":
        if not head.startswith(_SHAPEFILE_MAGIC):
            raise SourceError(_("%(name)s: the .shp part is not a Shapefile") % {"name": name})
    elif driver == "OSM":
        if not (b"OSMHeader" in head[:64] or b"<osm" in head[:1024]):
            raise SourceError(_("%(name)s: this is not an OpenStreetMap file") % {"name": name})


# A JSON key "crs" (GDAL reads the member of that name at any level it looks at).
_CRS_KEY = re.compile(rb'"crs"\s*:')
# A JSON string escape of a plain ASCII letter or digit: nobody writes "\u0063rs" but to hide
# a key from a scanner like this one.
_ESCAPED_PLAIN = re.compile(rb"\\u00(3[0-9]|[4-7][0-9a-fA-F])")
_CHUNK = 1024 * 1024


def check_geojson_crs(path: Path, *, shown_name: str | None = None) -> None:
    """Streams through a GeoJSON file and checks every "crs" member before GDAL sees it:
    only {"type": "name", "properties": {"name": <an allowed EPSG code>}} (or type "EPSG"
    with an allowed integer code) passes; a link, URL, file path or PROJ string is refused."""
    name = shown_name or path.name
    tail = b""
    offset = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            if _ESCAPED_PLAIN.search(window):
                raise SourceError(
                    _("%(name)s: the file hides plain letters behind \\u escapes; refused")
                    % {"name": name}
                )
            for match in _CRS_KEY.finditer(window):
                position = offset - len(tail) + match.end()
                _check_crs_member(path, position, name)
            tail = window[-64:]
            offset += len(chunk)


def _check_crs_member(path: Path, position: int, name: str) -> None:
    with open(path, "rb") as handle:
        handle.seek(position)
        text = handle.read(4096).decode("utf-8", errors="replace").lstrip()
    if not text.startswith("{"):
        return  # not an object: GDAL does not read it as a CRS
    try:
        value, _end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        raise SourceError(
            _("%(name)s: the coordinate system (crs) cannot be read") % {"name": name}
        ) from None
    properties = value.get("properties") if isinstance(value, dict) else None
    kind = str(value.get("type", "")).lower() if isinstance(value, dict) else ""
    if kind == "name" and isinstance(properties, dict):
        parse_crs(str(properties.get("name", "")), shown_name=name)
        return
    if kind == "epsg" and isinstance(properties, dict):
        parse_crs(f"EPSG:{properties.get('code', '')}", shown_name=name)
        return
    raise SourceError(
        _(
            "%(name)s: the coordinate system must be named by its EPSG code "
            "(e.g. “EPSG:25832”), not given as a link or definition"
        )
        % {"name": name}
    )


_CRS_NAME = re.compile(r"^(?:EPSG:{1,2}|urn:ogc:def:crs:EPSG:[0-9.]*:)(\d{4,6})$", re.IGNORECASE)
_CRS84 = re.compile(r"^urn:ogc:def:crs:OGC:[0-9.]*:CRS84$", re.IGNORECASE)


def parse_crs(text: str, *, shown_name: str = "") -> int:
    """The EPSG code of a CRS named as "EPSG:25832", "urn:ogc:def:crs:EPSG::25832" or a bare
    integer; refuses URLs, file paths, PROJ strings and codes outside ALLOWED_SRIDS."""
    text = text.strip()
    prefix = f"{shown_name}: " if shown_name else ""
    if _CRS84.match(text):
        return 4326
    match = _CRS_NAME.match(text) or re.fullmatch(r"(\d{4,6})", text)
    if not match:
        raise SourceError(
            prefix
            + _(
                "the coordinate system “%(crs)s” is refused: name it by an EPSG code "
                "(e.g. EPSG:25832), not by a URL, a file or a PROJ string"
            )
            % {"crs": text[:80]}
        )
    return checked_srid(int(match.group(1)), shown_name=shown_name)


def checked_srid(srid: int, *, shown_name: str = "") -> int:
    if srid not in ALLOWED_SRIDS:
        prefix = f"{shown_name}: " if shown_name else ""
        raise SourceError(
            prefix
            + _("EPSG:%(srid)s is not supported; use one of %(allowed)s")
            % {"srid": srid, "allowed": describe_srids()}
        )
    return srid


def resolve_srid(name: str, detected: int | None, declared: int | None) -> int | None:
    """The CRS to read a file in: the declared one, which must agree with what the file says,
    else what the file says; either must be in ALLOWED_SRIDS."""
    if declared:
        checked_srid(declared, shown_name=name)
    if declared and detected and declared != detected:
        raise SourceError(
            _(
                "%(name)s: the file says EPSG:%(detected)s but EPSG:%(declared)s was declared; "
                "fix the file or leave out the declaration"
            )
            % {"name": name, "detected": detected, "declared": declared}
        )
    srid = declared or detected
    return checked_srid(srid, shown_name=name) if srid else None


def describe_srids() -> str:
    return ", ".join(f"EPSG:{srid}" for srid in ALLOWED_SRIDS)


def _check_geopackage(path: Path, name: str) -> None:
    """A GeoPackage is an SQLite database: no virtual tables but the spatial index (rtree),
    and no view or trigger naming a GDAL virtual file or a URL."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master").fetchall()
    except sqlite3.Error:
        raise SourceError(
            _("%(name)s: this is not a readable GeoPackage") % {"name": name}
        ) from None
    for _type, _name, sql in rows:
        lowered = sql.lower()
        virtual = "create virtual table" in lowered
        if (virtual and not re.search(r"using\s+rtree", lowered)) or re.search(
            r"/vsi|://|virtualogr|(?<![a-z0-9_])ogr_\w*\s*\(", lowered
        ):
            raise SourceError(
                _("%(name)s: the GeoPackage holds tables or views that point outside the file")
                % {"name": name}
            )


def _unpack_shapefile_zip(path: Path, into: Path) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SourceError(_("%(name)s: not a valid zip file") % {"name": path.name}) from exc
    with archive:
        entries = check_zip_entries(archive, path.name)
        shapefiles = [e for e in entries if e.filename.lower().endswith(".shp")]
        if len(shapefiles) != 1:
            raise SourceError(
                _(
                    "%(name)s: the zip must hold exactly one .shp file (with its .dbf, .shx, "
                    ".prj); found %(count)s"
                )
                % {"name": path.name, "count": len(shapefiles)}
            )
        for entry in entries:
            # Flatten: every part lands in one folder under a plain name we chose the root of.
            target = into / PurePosixPath(entry.filename.replace("\\", "/")).name
            with archive.open(entry) as src, open(target, "wb") as dst:
                written = 0
                while chunk := src.read(1024 * 1024):
                    written += len(chunk)
                    if written > entry.file_size:
                        raise SourceError(
                            _("%(name)s: a zip entry is larger than it claims")
                            % {"name": path.name}
                        )
                    dst.write(chunk)
        return into / PurePosixPath(shapefiles[0].filename.replace("\\", "/")).name


def check_zip_entries(
    archive: zipfile.ZipFile, name: str, *, max_total_bytes: int = MAX_ZIP_TOTAL_BYTES
) -> list[zipfile.ZipInfo]:
    """The file entries of a zip, refused if a path escapes, a VRT hides inside, or the
    entries unpack to far more than they hold (a zip bomb). Reads no entry."""
    entries = [e for e in archive.infolist() if not e.is_dir()]
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SourceError(
            _("%(name)s: too many files in the zip (%(count)s)")
            % {"name": name, "count": len(entries)}
        )
    total = 0
    for entry in entries:
        entry_name = PurePosixPath(entry.filename.replace("\\", "/"))
        if entry_name.is_absolute() or ".." in entry_name.parts:
            raise SourceError(
                _("%(name)s: unsafe path in the zip: %(entry)s")
                % {"name": name, "entry": repr(entry.filename)}
            )
        if entry_name.suffix.lower() == ".vrt":
            raise SourceError(_("%(name)s: VRT files are not accepted") % {"name": name})
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if total > max_total_bytes or (entry.file_size > 10 * 1024**2 and ratio > MAX_ZIP_RATIO):
            raise SourceError(
                _("%(name)s: the zip unpacks to too much data (zip bomb?)") % {"name": name}
            )
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
            raise SourceError(
                _("no layer %(layer)s in the file; layers: %(layers)s")
                % {"layer": repr(layer_name), "layers": ", ".join(names)}
            )
        layer = datasource[names.index(layer_name)]
    elif len(names) == 1:
        layer = datasource[0]
    else:
        raise SourceError(
            _("the file has several layers; name one of: %(layers)s") % {"layers": ", ".join(names)}
        )
    fields = list(layer.fields)
    if id_field and id_field != FID and id_field not in fields:
        raise SourceError(
            _("no id column %(column)s in layer %(layer)s; columns: %(columns)s")
            % {"column": repr(id_field), "layer": repr(layer.name), "columns": ", ".join(fields)}
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

    try:
        srs = layer.srs
    except GDALException:
        srs = None
    return OpenedLayer(
        name=layer.name,
        srid=detect_srid(srs),
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
