"""Safe readers: a VRT (or GML) renamed to a GIS suffix, a crs given as a URL, a file or a
PROJ string, network paths — refused before GDAL sees them. A loopback HTTP server proves
that no request leaves the server while such files are read."""

import json
import socketserver
import threading
import urllib.request
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from geodata.importers.sources import SourceError, open_checked, parse_crs
from properties.models import Site
from properties.services.upload import UploadError, sites_upload_commit, sites_upload_plan
from tests.factories import PartnerOrganisationFactory

pytestmark = pytest.mark.django_db


class _Recorder(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.connections = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    def verify_request(self, request, client_address):
        self.connections += 1  # any TCP connection counts, even one that sends nothing
        return True


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        body = json.dumps({"type": "FeatureCollection", "features": []}).encode()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body)


@pytest.fixture(scope="module")
def server():
    recorder = _Recorder()
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()


@pytest.fixture
def url(server):
    before = server.connections
    address = f"http://127.0.0.1:{server.server_address[1]}"
    yield address
    assert server.connections == before, "the server made an outbound request"


def test_the_recorder_would_notice_a_request(server):
    before = server.connections
    port = server.server_address[1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/probe", timeout=5) as response:  # noqa: S310
        response.read()
    assert server.connections == before + 1


def vrt(url: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="sites">'
        f"<SrcDataSource>/vsicurl/{url}/sites.geojson</SrcDataSource>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


@pytest.fixture
def organisation(essen):
    return PartnerOrganisationFactory(municipalities=[essen])


@pytest.mark.parametrize("name", ["sites.geojson", "sites.json", "sites.gpkg"])
def test_vrt_renamed_is_refused(name, tmp_path, url, organisation):
    path = tmp_path / name
    path.write_text(vrt(url))
    with pytest.raises(UploadError, match="VRT or GML"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


def test_vrt_with_leading_whitespace_and_bom(tmp_path, url, organisation):
    path = tmp_path / "sites.geojson"
    path.write_bytes(b"\xef\xbb\xbf\n  " + vrt(url).encode())
    with pytest.raises(UploadError, match="VRT or GML|not a GeoJSON"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


def test_gml_as_json_is_refused(tmp_path, url, organisation):
    path = tmp_path / "sites.json"
    path.write_text(
        '<?xml version="1.0"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs">'
        f'<gml:featureMember xlink:href="{url}/x"/></wfs:FeatureCollection>'
    )
    with pytest.raises(UploadError, match="VRT or GML"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


def test_vrt_inside_a_zip_is_refused(tmp_path, url, organisation):
    path = tmp_path / "sites.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sites.shp", vrt(url))
        archive.writestr("sites.dbf", b"")
        archive.writestr("sites.shx", b"")
    with pytest.raises(UploadError, match="VRT or GML|not a Shapefile"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


def test_vrt_file_in_a_zip_is_refused(tmp_path, url, organisation):
    path = tmp_path / "sites.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sites.vrt", vrt(url))
    with pytest.raises(UploadError, match="VRT files are not accepted"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


def test_vrt_as_csv_is_only_text(tmp_path, url, organisation):
    """A CSV is read by our own reader: the VRT is a header, never opened by GDAL."""
    path = tmp_path / "sites.csv"
    path.write_text(vrt(url) + "\n1\n")
    with pytest.raises(UploadError, match="no geometry columns"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


def feature_collection(crs: dict | None) -> str:
    collection: dict = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "A"},
                "geometry": {"type": "Point", "coordinates": [7.0, 51.45]},
            }
        ],
    }
    if crs is not None:
        collection["crs"] = crs
    return json.dumps(collection)


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "link", "properties": {"href": "{url}/crs.prj", "type": "proj4"}},
        {"type": "url", "properties": {"url": "{url}/crs.prj"}},
        {"type": "name", "properties": {"name": "{url}/def/crs/EPSG/0/25832"}},
        {"type": "name", "properties": {"name": "/etc/passwd"}},
        {"type": "name", "properties": {"name": "+proj=utm +zone=32 +ellps=GRS80"}},
        {"type": "name", "properties": {"name": "EPSG:9999"}},
    ],
)
def test_crs_that_is_not_an_allowed_epsg_code_is_refused(crs, tmp_path, url, organisation):
    path = tmp_path / "sites.geojson"
    path.write_text(feature_collection(crs).replace("{url}", url))
    with pytest.raises(UploadError, match="coordinate system|EPSG:9999 is not supported"):
        sites_upload_commit(path=path, organisation=organisation, acting_user=None)
    assert not Site.objects.exists()


def test_crs_key_hidden_behind_escapes_is_refused(tmp_path, url, organisation):
    path = tmp_path / "sites.geojson"
    text = feature_collection({"type": "name", "properties": {"name": f"{url}/x"}})
    path.write_text(text.replace('"crs"', '"\\u0063rs"'))
    with pytest.raises(UploadError, match="escapes"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


@pytest.mark.parametrize(
    ("text", "srid"),
    [
        ("EPSG:25832", 25832),
        ("urn:ogc:def:crs:EPSG::25832", 25832),
        ("urn:ogc:def:crs:EPSG:6.6:31467", 31467),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326),
        ("EPSG:3857", 3857),
        ("25833", 25833),
    ],
)
def test_allowed_crs_names(text, srid):
    assert parse_crs(text) == srid


@pytest.mark.parametrize(
    "text",
    [
        "http://www.opengis.net/def/crs/EPSG/0/25832",
        "/usr/share/proj/epsg",
        "+proj=longlat",
        "EPSG:4258x",
    ],
)
def test_refused_crs_names(text):
    with pytest.raises(SourceError, match="is refused"):
        parse_crs(text)


@pytest.mark.parametrize("srid", [2056, 9999, 0])
def test_declared_crs_outside_the_allow_list_is_a_clear_message(srid, tmp_path, organisation):
    path = tmp_path / "sites.geojson"
    path.write_text(feature_collection(None))
    with pytest.raises(UploadError, match="not supported"):
        sites_upload_plan(
            path=path, organisation=organisation, acting_user=None, declared_srid=srid
        )


def test_file_with_an_unsupported_crs_is_a_clear_message(tmp_path, organisation):
    path = tmp_path / "sites.geojson"
    path.write_text(feature_collection({"type": "name", "properties": {"name": "EPSG:2056"}}))
    with pytest.raises(UploadError, match="EPSG:2056 is not supported"):
        sites_upload_plan(path=path, organisation=organisation, acting_user=None)


@pytest.mark.parametrize(
    "name",
    ["/vsicurl/http://127.0.0.1/x.geojson", "//server/share/x.geojson", "http://127.0.0.1/x.json"],
)
def test_network_paths_are_refused(name, organisation):
    with pytest.raises(UploadError, match="only local files"):
        sites_upload_plan(path=Path(name), organisation=organisation, acting_user=None)


def test_open_checked_uses_only_the_named_driver(tmp_path, url):
    path = tmp_path / "x.geojson"
    path.write_text(feature_collection(None))
    with pytest.raises(SourceError, match="cannot read this file as GPKG|not a GeoPackage"):
        open_checked(path, "GPKG")
    assert open_checked(path, "GeoJSON").driver.name == "GeoJSON"


def test_geopackage_pointing_outside_is_refused(tmp_path, url):
    import sqlite3

    path = tmp_path / "x.gpkg"
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE VIEW v AS SELECT '/vsicurl/{url}/x' AS source")
    with pytest.raises(SourceError, match="point outside the file"):
        open_checked(path, "GPKG")


def test_command_line_upload_refuses_the_vrt(tmp_path, url, organisation):
    path = tmp_path / "sites.geojson"
    path.write_text(vrt(url))
    out = StringIO()
    with pytest.raises(CommandError, match="VRT or GML"):
        call_command("upload_sites", str(path), organisation=organisation.pk, json=True, stdout=out)
    assert json.loads(out.getvalue())["committed"] is False


@pytest.mark.parametrize("name", ["stations.geojson", "stations.gpkg"])
def test_import_layer_refuses_the_vrt(name, tmp_path, url):
    path = tmp_path / name
    path.write_text(vrt(url))
    with pytest.raises(CommandError, match="VRT or GML"):
        call_command("import_layer", str(path), layer="stations", dataset="x", stdout=StringIO())


def test_import_layer_refuses_a_crs_link(tmp_path, url):
    path = tmp_path / "stations.geojson"
    path.write_text(
        feature_collection({"type": "link", "properties": {"href": f"{url}/crs", "type": "ogcwkt"}})
    )
    with pytest.raises(CommandError, match="coordinate system"):
        call_command("import_layer", str(path), layer="stations", dataset="x", stdout=StringIO())
