"""Refreshing the transport layers (motorways, junctions, waterways, ports) from
OpenStreetMap extracts, where the server may reach the internet (issue 11, item 7).

`transport_layers_refresh()` is what the monthly scheduled job and the
`refresh_transport_layers` command call. When SITEFINDER_OSM_EXTRACT_URLS lists extracts
(e.g. the three Regierungsbezirk extracts covering the Ruhr area), each one is downloaded
next to its `.md5` checksum file:

- with resume: an interrupted download continues where it stopped (HTTP Range) instead of
  starting over, and an unchanged extract already on disk is not downloaded again;
- verified: the file's MD5 must equal the published one, else it is deleted;
- all before anything is imported: a failed download or a bad checksum changes nothing.

Then every layer is imported from all extracts at once through the import core (the layer's
OSM tags select its features; a feature in two overlapping extracts counts once) with the
ODbL attribution and the extracts' date, in one transaction, and the site distances to the
changed layers are refreshed.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import struct
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from geodata.importers.core import DatasetInfo, ImportResult, ImportSpec, import_files
from geodata.signals import layers_changed_send
from sitefinder.protobuf import fields as _fields

logger = logging.getLogger("sitefinder.transport_refresh")

TRANSPORT_LAYERS = ("motorways", "junctions", "waterways", "ports")
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
OSM_LICENCE = "ODbL 1.0"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
CHUNK = 1024 * 1024
ATTEMPTS = 4  # per file: the first try and up to three resumes


class RefreshFailed(Exception):
    """A download or a checksum failed; nothing was imported."""


@dataclass
class Extract:
    url: str
    path: Path
    md5: str
    date: datetime
    downloaded_bytes: int = 0
    resumed: bool = False


@dataclass
class RefreshResult:
    extracts: list[Extract] = field(default_factory=list)
    layers: dict[str, ImportResult] = field(default_factory=dict)
    sites_updated: int = 0

    def __str__(self) -> str:
        if not self.extracts:
            return (
                "no OpenStreetMap extracts configured (SITEFINDER_OSM_EXTRACT_URLS): nothing to do"
            )
        lines = [
            f"{e.path.name}: {e.date:%Y-%m-%d}, "
            + (f"{e.downloaded_bytes} bytes downloaded" if e.downloaded_bytes else "up to date")
            + (" (resumed)" if e.resumed else "")
            for e in self.extracts
        ]
        lines += [str(result) for result in self.layers.values()]
        lines.append(f"distances refreshed for {self.sites_updated} sites")
        return "\n".join(lines)


def extract_urls() -> list[str]:
    return list(settings.OSM_EXTRACT_URLS)


def transport_layers_refresh(
    *, urls: list[str] | None = None, download_dir: Path | None = None
) -> RefreshResult:
    """Downloads, verifies and imports the configured extracts; see the module doc.
    Raises RefreshFailed (nothing changed) or the import core's errors (rolled back)."""
    urls = extract_urls() if urls is None else urls
    result = RefreshResult()
    if not urls:
        return result
    folder = Path(download_dir or settings.OSM_DOWNLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for url in urls:
        result.extracts.append(extract_download(url, folder))
    paths = [extract.path for extract in result.extracts]
    as_of = min(extract.date for extract in result.extracts)
    changed: list[str] = []
    with transaction.atomic():
        for slug in TRANSPORT_LAYERS:
            spec = ImportSpec(
                target=slug,
                dataset=DatasetInfo(
                    slug=f"osm-{slug}",
                    title=f"OpenStreetMap {slug} (extract of {as_of:%Y-%m-%d})",
                    source=f"OpenStreetMap extracts as of {as_of:%Y-%m-%d %H:%M} UTC: "
                    + ", ".join(urls),
                    licence=OSM_LICENCE,
                    attribution=OSM_ATTRIBUTION,
                    attribution_url=OSM_COPYRIGHT_URL,
                ),
            )
            imported = import_files(paths, spec, skip_if_unchanged=True)
            result.layers[slug] = imported
            if imported.created or imported.updated or imported.deleted:
                changed.append(slug)
        if changed:
            result.sites_updated = layers_changed_send(sender=RefreshResult, layers=changed)
    logger.info("transport layers refreshed: %s", "; ".join(str(r) for r in result.layers.values()))
    return result


# --- downloading -----------------------------------------------------------------------------


def _check_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise RefreshFailed(f"{url}: only http and https addresses can be downloaded")


def _open(url: str, headers: dict[str, str] | None = None):
    _check_url(url)  # http(s) only, never file: or other schemes
    headers = {"User-Agent": "sitefinder", **(headers or {})}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (checked above)
    return urllib.request.urlopen(request, timeout=settings.OSM_DOWNLOAD_TIMEOUT)  # noqa: S310


def published_md5(url: str) -> str:
    """The checksum published beside the file (`<url>.md5`: "<hex>  <name>")."""
    try:
        with _open(url + ".md5") as response:
            text = response.read(4096).decode("ascii", "replace")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise RefreshFailed(f"{url}.md5: cannot be downloaded ({exc})") from exc
    match = re.match(r"\s*([0-9a-fA-F]{32})\b", text)
    if not match:
        raise RefreshFailed(f"{url}.md5: holds no MD5 checksum")
    return match[1].lower()


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def extract_download(url: str, folder: Path) -> Extract:
    """The extract in `folder`, downloaded (or resumed) and verified against its `.md5`."""
    _check_url(url)
    name = Path(urlsplit(url).path).name or "extract.osm.pbf"
    if not name.endswith((".pbf", ".osm")):
        raise RefreshFailed(f"{url}: not an OSM extract (.osm.pbf or .osm)")
    expected = published_md5(url)
    final = folder / name
    meta_path = folder / (name + ".json")
    if final.exists() and file_md5(final) == expected:
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        return Extract(url, final, expected, _extract_date(final, meta.get("last_modified")))
    part = folder / (name + ".part")
    downloaded = 0
    resumed = False
    last_modified: str | None = None
    for attempt in range(ATTEMPTS):
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with _open(url, headers) as response:
                last_modified = response.headers.get("Last-Modified") or last_modified
                if have and response.status == 206:
                    resumed = True
                    mode = "ab"
                else:  # the server sends the whole file: start over
                    mode = "wb"
                length = response.headers.get("Content-Length")
                received = 0
                with open(part, mode) as out:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        received += len(chunk)
                downloaded += received
                if length is not None and length.isdigit() and received < int(length):
                    # The connection dropped: keep what arrived and ask for the rest.
                    raise http.client.IncompleteRead(b"", int(length) - received)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # nothing left to send: the part may be complete
                break
            part.unlink(missing_ok=True)
            raise RefreshFailed(f"{url}: the server answered {exc.code}") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            logger.warning("%s: download interrupted (%s), attempt %d", url, exc, attempt + 1)
            if attempt == ATTEMPTS - 1:
                raise RefreshFailed(
                    f"{url}: the download failed {ATTEMPTS} times; it resumes on the next run"
                ) from exc
    actual = file_md5(part)
    if actual != expected:
        part.unlink(missing_ok=True)
        raise RefreshFailed(
            f"{url}: checksum mismatch (MD5 {actual}, published {expected}); the file was "
            "deleted and nothing was imported"
        )
    part.replace(final)
    meta_path.write_text(json.dumps({"url": url, "md5": expected, "last_modified": last_modified}))
    return Extract(url, final, expected, _extract_date(final, last_modified), downloaded, resumed)


# --- the extract's date ---------------------------------------------------------------------


def _extract_date(path: Path, last_modified: str | None) -> datetime:
    """When the extract's data was current: the replication timestamp in the file's header
    (PBF or XML), else the server's Last-Modified, else the file's own time."""
    try:
        stamp = pbf_timestamp(path) if path.suffix == ".pbf" else xml_timestamp(path)
    except (OSError, ValueError, zlib.error, struct.error):
        stamp = None
    if stamp is not None:
        return stamp
    if last_modified:
        try:
            return parsedate_to_datetime(last_modified).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def pbf_timestamp(path: Path) -> datetime | None:
    """osmosis_replication_timestamp from a PBF's OSMHeader block (field 32, seconds)."""
    with open(path, "rb") as handle:
        (size,) = struct.unpack(">I", handle.read(4))
        if size > 64 * 1024:
            raise ValueError("implausible PBF blob header")
        header = dict(_fields(handle.read(size)))
        if header.get(1) != b"OSMHeader":
            return None
        blob = dict(_fields(handle.read(int(header[3]))))
    data = zlib.decompress(blob[3]) if 3 in blob else blob.get(1, b"")
    for number, value in _fields(data):
        if number == 32 and isinstance(value, int) and value > 0:
            return datetime.fromtimestamp(value, UTC)
    return None


_XML_STAMP = re.compile(rb'(?:osmosis_replication_timestamp|timestamp|osm_base)="([0-9T:\-]+Z?)"')


def xml_timestamp(path: Path) -> datetime | None:
    """The timestamp of an OSM XML file's <osm> element or <meta osm_base> (Overpass)."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    end = head.find(b"<node")
    match = _XML_STAMP.search(head[: end if end > 0 else len(head)])
    if not match:
        return None
    return datetime.fromisoformat(match[1].decode().replace("Z", "+00:00")).astimezone(UTC)
