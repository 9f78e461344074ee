"""The monthly refresh of the transport layers from OpenStreetMap extracts (issue 11,
item 7), against a loopback HTTP server serving small synthetic extracts and their .md5:
a good run, an interrupted download that resumes, a corrupt file, a missing file."""

import hashlib
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from geodata.models import Dataset, LayerFeature
from geodata.services.transport_refresh import (
    TRANSPORT_LAYERS,
    RefreshFailed,
    pbf_timestamp,
    transport_layers_refresh,
    xml_timestamp,
)
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

EXTRACT_TIME = datetime(2026, 11, 30, 21, 15, 3, tzinfo=UTC)


def write_extract(path: Path, *, west: bool) -> Path:
    """A small extract: a junction, a motorway (in both halves: the extracts overlap at
    their border), a canal and a port area; and a bench that no layer takes."""
    import osmium

    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", EXTRACT_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"))
    writer = osmium.SimpleWriter(str(path), header=header)
    node = osmium.osm.mutable.Node
    way = osmium.osm.mutable.Way
    try:
        if west:
            writer.add_node(
                node(
                    id=1,
                    location=(7.0551, 51.4617),
                    tags={"highway": "motorway_junction", "name": "Essen-Frillendorf"},
                )
            )
            writer.add_node(node(id=3, location=(7.06, 51.47), tags={"amenity": "bench"}))
        else:
            writer.add_node(
                node(
                    id=2,
                    location=(7.2905, 51.4223),
                    tags={"highway": "motorway_junction", "name": "Bochum/Witten"},
                )
            )
        for n, (lon, lat) in enumerate([(7.00, 51.46), (7.05, 51.465), (7.10, 51.47)], start=10):
            writer.add_node(node(id=n, location=(lon, lat), tags={}))
        port = [(6.75, 51.45), (6.77, 51.45), (6.77, 51.46), (6.75, 51.46)]
        for n, (lon, lat) in enumerate(port, start=20):
            writer.add_node(node(id=n, location=(lon, lat), tags={}))
        writer.add_way(way(id=100, nodes=[10, 11, 12], tags={"highway": "motorway", "ref": "A 40"}))
        if west:
            writer.add_way(
                way(id=101, nodes=[10, 12], tags={"waterway": "canal", "name": "Rhein-Herne-Kanal"})
            )
            writer.add_way(
                way(
                    id=102,
                    nodes=[20, 21, 22, 23, 20],
                    tags={"landuse": "port", "name": "Duisburger Hafen"},
                )
            )
    finally:
        writer.close()
    return path


class ExtractServer:
    """Serves files over loopback HTTP with Range support; can cut a response short once,
    and records every request."""

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.requests: list[tuple[str, str | None]] = []
        self.cut_once: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append((name, self.headers.get("Range")))
                body = server.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                start, status = 0, 200
                if rng := self.headers.get("Range"):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    status = 206
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Last-Modified", "Mon, 30 Nov 2026 22:00:00 GMT")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                if name in server.cut_once:
                    server.cut_once.discard(name)
                    self.wfile.write(body[start : start + len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the connection drops mid-file
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def with_md5(name: str, body: bytes) -> dict[str, bytes]:
    return {
        name: body,
        name + ".md5": f"{hashlib.md5(body, usedforsecurity=False).hexdigest()}  {name}\n".encode(),
    }


@pytest.fixture
def extracts(tmp_path):
    west = write_extract(tmp_path / "west.osm.pbf", west=True).read_bytes()
    east = write_extract(tmp_path / "east.osm.pbf", west=False).read_bytes()
    server = ExtractServer({**with_md5("west.osm.pbf", west), **with_md5("east.osm.pbf", east)})
    yield server
    server.close()


def transport_counts() -> dict[str, int]:
    return {
        slug: LayerFeature.objects.filter(layer__slug=slug).count() for slug in TRANSPORT_LAYERS
    }


def test_a_refresh_imports_every_transport_layer_with_attribution_and_date(
    extracts, reference_data, essen, tmp_path, settings
):
    settings.OSM_EXTRACT_URLS = [extracts.url("west.osm.pbf"), extracts.url("east.osm.pbf")]
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832))
    assert site.distance_to_junction_m is None
    result = transport_layers_refresh(download_dir=tmp_path / "osm")
    # The motorway is in both extracts and counts once; the bench is in no layer.
    assert transport_counts() == {"motorways": 1, "junctions": 2, "waterways": 1, "ports": 1}
    dataset = Dataset.objects.get(slug="osm-junctions")
    assert dataset.attribution == "© OpenStreetMap contributors"
    assert dataset.licence == "ODbL 1.0"
    assert "2026-11-30" in dataset.title and "2026-11-30 21:15" in dataset.source
    assert extracts.url("east.osm.pbf") in dataset.source
    assert [e.date for e in result.extracts] == [EXTRACT_TIME, EXTRACT_TIME]
    site.refresh_from_db()
    assert site.distance_to_junction_m is not None and site.distance_to_motorway_m is not None
    assert result.sites_updated >= 1

    # A second run: the extracts are unchanged, so only the checksums are fetched again.
    extracts.requests.clear()
    again = transport_layers_refresh(download_dir=tmp_path / "osm")
    assert sorted(name for name, _ in extracts.requests) == ["east.osm.pbf.md5", "west.osm.pbf.md5"]
    assert all(layer.skipped_same_file for layer in again.layers.values())
    assert transport_counts() == {"motorways": 1, "junctions": 2, "waterways": 1, "ports": 1}


def test_an_interrupted_download_resumes_with_a_range_request(extracts, reference_data, tmp_path):
    extracts.cut_once.add("west.osm.pbf")
    result = transport_layers_refresh(
        urls=[extracts.url("west.osm.pbf")], download_dir=tmp_path / "osm"
    )
    file_requests = [rng for name, rng in extracts.requests if name == "west.osm.pbf"]
    assert file_requests[0] is None and file_requests[1] is not None
    assert file_requests[1].startswith("bytes=") and file_requests[1] != "bytes=0-"
    assert result.extracts[0].resumed
    assert transport_counts()["junctions"] == 1
    assert not list((tmp_path / "osm").glob("*.part"))


def test_a_corrupt_extract_changes_nothing(extracts, reference_data, tmp_path):
    transport_layers_refresh(urls=[extracts.url("west.osm.pbf")], download_dir=tmp_path / "osm")
    before = transport_counts()
    datasets = list(
        Dataset.objects.filter(slug__startswith="osm-").values_list("title", "checksum")
    )
    body = bytearray(extracts.files["east.osm.pbf"])
    body[len(body) // 2] ^= 0xFF  # one flipped byte: the published MD5 no longer matches
    extracts.files["east.osm.pbf"] = bytes(body)
    with pytest.raises(RefreshFailed, match="checksum mismatch"):
        transport_layers_refresh(
            urls=[extracts.url("west.osm.pbf"), extracts.url("east.osm.pbf")],
            download_dir=tmp_path / "osm",
        )
    assert transport_counts() == before
    assert (
        list(Dataset.objects.filter(slug__startswith="osm-").values_list("title", "checksum"))
        == datasets
    )
    assert not (tmp_path / "osm" / "east.osm.pbf").exists()
    assert not (tmp_path / "osm" / "east.osm.pbf.part").exists()


@pytest.mark.parametrize("missing", ["gone.osm.pbf", "gone.osm.pbf.md5"])
def test_a_failed_download_changes_nothing(extracts, reference_data, tmp_path, missing):
    name = "gone.osm.pbf"
    extracts.files.update(with_md5(name, extracts.files["west.osm.pbf"]))
    del extracts.files[missing]
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command(
            "refresh_transport_layers",
            "--url",
            extracts.url("east.osm.pbf"),
            "--url",
            extracts.url(name),
        )
    assert transport_counts() == dict.fromkeys(TRANSPORT_LAYERS, 0)
    assert not Dataset.objects.filter(slug__startswith="osm-").exists()


def test_without_configured_extracts_nothing_happens(settings, tmp_path):
    settings.OSM_EXTRACT_URLS = []
    result = transport_layers_refresh(download_dir=tmp_path / "osm")
    assert result.extracts == [] and "nothing to do" in str(result)
    with pytest.raises(RefreshFailed, match="only http and https"):
        transport_layers_refresh(urls=["file:///etc/passwd.osm.pbf"], download_dir=tmp_path)


def test_the_extract_date_comes_from_the_file_header(tmp_path):
    assert pbf_timestamp(write_extract(tmp_path / "x.osm.pbf", west=True)) == EXTRACT_TIME
    xml = tmp_path / "x.osm"
    xml.write_text(
        '<?xml version="1.0"?><osm version="0.6" generator="t" '
        'timestamp="2026-10-01T00:00:00Z"><node id="1" lat="51" lon="7"/></osm>'
    )
    assert xml_timestamp(xml) == datetime(2026, 10, 1, tzinfo=UTC)


def test_the_refresh_is_a_monthly_scheduled_job(settings):
    from ops.scheduler import registered_jobs

    settings.OSM_EXTRACT_URLS = []
    job = registered_jobs()["refresh_transport_layers"]
    assert job.cron == "30 4 1 * *"  # 04:30 on the first of every month
    assert "nothing to do" in str(job.run())  # offline install: no extracts configured
