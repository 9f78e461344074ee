"""The import core: formats, idempotence, CRS handling, and bad files that change nothing."""

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from geodata.importers.core import DatasetInfo, ImportFailed, ImportSpec, import_file
from geodata.importers.sources import SourceError
from geodata.models import Dataset, LayerFeature

pytestmark = pytest.mark.django_db

DATASET = DatasetInfo(slug="test-junctions", title="Test junctions", attribution="© test")
# Two real motorway junctions (positions rounded): Kreuz Bochum/Witten and AS Essen-Frillendorf.
JUNCTIONS = [
    ("J1", "AK Bochum/Witten", 7.2905, 51.4223),
    ("J2", "AS Essen-Frillendorf", 7.0551, 51.4617),
]


def feature_collection(points, crs: str | None = None) -> dict:
    data: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ref": ref, "name": name},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
            for ref, name, x, y in points
        ],
    }
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return data


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def spec(**overrides: Any) -> ImportSpec:
    values: dict[str, Any] = {"target": "junctions", "dataset": DATASET, "id_field": "ref"}
    values.update(overrides)
    return ImportSpec(**values)


def junctions():
    return LayerFeature.objects.filter(layer__slug="junctions")


def test_geojson_import_is_idempotent_and_tracks_changes(tmp_path, reference_data):
    path = write_json(tmp_path / "junctions.geojson", feature_collection(JUNCTIONS))

    first = import_file(path, spec())
    assert (first.created, first.updated, first.deleted) == (2, 0, 0)
    stored = junctions().get(external_id="J1")
    assert stored.geom.srid == 25832
    # Stored in UTM 32N metres (ETRS89 / UTM zone 32N).
    assert stored.geom.coords == pytest.approx((381_141.2, 5_698_174.3), abs=50)
    ids_before = set(junctions().values_list("id", flat=True))

    again = import_file(path, spec())
    assert (again.created, again.updated, again.unchanged, again.deleted) == (0, 0, 2, 0)
    assert set(junctions().values_list("id", flat=True)) == ids_before

    moved = [("J1", "AK Bochum/Witten", 7.2910, 51.4223)]
    write_json(path, feature_collection(moved))
    third = import_file(path, spec())
    assert (third.created, third.updated, third.deleted) == (0, 1, 1)
    assert list(junctions().values_list("external_id", flat=True)) == ["J1"]
    assert Dataset.objects.get(slug="test-junctions").attribution == "© test"


def test_declared_25832_and_detected_crs(tmp_path, reference_data):
    # Essen Hbf in UTM 32N metres.
    utm = [("J9", "Essen", 362_700.0, 5_703_300.0)]
    path = write_json(
        tmp_path / "utm.geojson", feature_collection(utm, crs="urn:ogc:def:crs:EPSG::25832")
    )
    import_file(path, spec())
    assert junctions().get(external_id="J9").geom.coords == pytest.approx((362_700.0, 5_703_300.0))


def test_utm_coordinates_declared_as_lonlat_are_refused(tmp_path, reference_data):
    utm = [("J9", "Essen", 362_700.0, 5_703_300.0)]
    path = write_json(
        tmp_path / "utm.geojson", feature_collection(utm)
    )  # no crs: GeoJSON means 4326
    with pytest.raises(ImportFailed, match="not longitude/latitude"):
        import_file(path, spec())
    assert not junctions().exists()


def test_conflicting_declared_crs_is_refused(tmp_path, reference_data):
    path = write_json(tmp_path / "j.geojson", feature_collection(JUNCTIONS))
    with pytest.raises(SourceError, match="EPSG:4326 but EPSG:25832 was declared"):
        import_file(path, spec(srid=25832))


def test_failed_import_leaves_database_as_it_was(tmp_path, reference_data):
    good = write_json(tmp_path / "good.geojson", feature_collection(JUNCTIONS))
    import_file(good, spec())
    before = list(junctions().order_by("external_id").values_list("external_id", "name"))
    duplicate = JUNCTIONS + [("J1", "again", 7.0, 51.5)]
    bad = write_json(tmp_path / "bad.geojson", feature_collection(duplicate))
    with pytest.raises(ImportFailed, match="same id appears more than once") as excinfo:
        import_file(bad, spec())
    assert "'J1' appears 2 times" in str(excinfo.value)
    assert list(junctions().order_by("external_id").values_list("external_id", "name")) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.geojson", b"", "the file is empty"),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [', "GDAL cannot read"),
        ("layer.vrt", b"<OGRVRTDataSource/>", "VRT files are not accepted"),
        ("table.csv", b"a,b\n1,2\n", "unsupported file type"),
        ("notazip.zip", b"PK\x03\x04garbage", "not a valid zip"),
    ],
)
def test_unreadable_files_get_a_clear_error(tmp_path, reference_data, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        import_file(path, spec())
    assert not junctions().exists()


def test_gdal_virtual_file_names_are_refused(reference_data):
    with pytest.raises(SourceError, match="only local files"):
        import_file("/vsicurl/http://example.org/x.geojson", spec())


def test_zip_with_parent_path_is_refused(tmp_path, reference_data):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../escape.shp", b"x")
    with pytest.raises(SourceError, match="unsafe path"):
        import_file(path, spec())


def test_invalid_polygon_is_repaired_with_a_note(tmp_path, reference_data):
    bowtie = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ref": "P1", "name": "Hafen (Test)"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[6.75, 51.45], [6.76, 51.46], [6.76, 51.45], [6.75, 51.46], [6.75, 51.45]]
                    ],
                },
            }
        ],
    }
    path = write_json(tmp_path / "ports.geojson", bowtie)
    result = import_file(path, spec(target="ports"))
    assert result.repaired == 1
    port = LayerFeature.objects.get(layer__slug="ports", external_id="P1")
    assert port.geom.valid


def shapefile_zip(tmp_path: Path, srid: int) -> Path:
    """A real zipped Shapefile written by GDAL (ogr2ogr from a GeoJSON)."""
    import subprocess

    source = write_json(tmp_path / "src.geojson", feature_collection(JUNCTIONS))
    folder = tmp_path / "shp"
    folder.mkdir()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "ESRI Shapefile",
            "-t_srs",
            f"EPSG:{srid}",
            str(folder / "junctions.shp"),
            str(source),
        ],
        check=True,
    )
    path = tmp_path / "junctions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return path


def test_zipped_shapefile_in_25832_is_detected(tmp_path, reference_data):
    result = import_file(shapefile_zip(tmp_path, 25832), spec())
    assert result.created == 2
    assert junctions().get(external_id="J2").geom.transform(4326, clone=True).x == pytest.approx(
        7.0551, abs=1e-6
    )


def test_geopackage(tmp_path, reference_data):
    import subprocess

    source = write_json(tmp_path / "src.geojson", feature_collection(JUNCTIONS))
    path = tmp_path / "junctions.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", "-t_srs", "EPSG:25832", str(path), str(source)], check=True
    )
    assert import_file(path, spec()).created == 2


def osm_pbf(tmp_path: Path) -> Path:
    """A small OSM extract written with pyosmium: two junction nodes, a motorway, a canal."""
    import osmium

    path = tmp_path / "extract.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    try:
        writer.add_node(
            osmium.osm.mutable.Node(
                id=1,
                location=(7.2905, 51.4223),
                tags={"highway": "motorway_junction", "name": "Bochum/Witten", "ref": "20"},
            )
        )
        writer.add_node(
            osmium.osm.mutable.Node(
                id=2,
                location=(7.0551, 51.4617),
                tags={"highway": "motorway_junction", "name": "Essen-Frillendorf"},
            )
        )
        writer.add_node(
            osmium.osm.mutable.Node(id=3, location=(7.06, 51.47), tags={"amenity": "bench"})
        )
        writer.add_node(osmium.osm.mutable.Node(id=10, location=(7.00, 51.46), tags={}))
        writer.add_node(osmium.osm.mutable.Node(id=11, location=(7.05, 51.465), tags={}))
        writer.add_node(osmium.osm.mutable.Node(id=12, location=(7.10, 51.47), tags={}))
        writer.add_way(
            osmium.osm.mutable.Way(
                id=100, nodes=[10, 11, 12], tags={"highway": "motorway", "ref": "A 40"}
            )
        )
        writer.add_way(
            osmium.osm.mutable.Way(
                id=101, nodes=[10, 12], tags={"waterway": "canal", "name": "Rhein-Herne-Kanal"}
            )
        )
    finally:
        writer.close()
    return path


def test_osm_pbf_is_filtered_by_the_layers_tags(tmp_path, reference_data):
    path = osm_pbf(tmp_path)
    osm = DatasetInfo(
        slug="osm",
        title="OpenStreetMap",
        attribution="© OpenStreetMap contributors",
        licence="ODbL",
    )
    junction_result = import_file(path, ImportSpec(target="junctions", dataset=osm))
    assert junction_result.created == 2 and junction_result.skipped == 1
    assert set(junctions().values_list("external_id", "name")) == {
        ("n1", "Bochum/Witten"),
        ("n2", "Essen-Frillendorf"),
    }
    motorway = import_file(
        path, ImportSpec(target="motorways", dataset=DatasetInfo(slug="osm-motorways", title="OSM"))
    )
    assert motorway.created == 1
    assert LayerFeature.objects.get(layer__slug="motorways").external_id == "w100"
    canal = import_file(
        path, ImportSpec(target="waterways", dataset=DatasetInfo(slug="osm-waterways", title="OSM"))
    )
    assert canal.created == 1


def test_import_layer_command_reports_and_fails_cleanly(tmp_path, reference_data, capsys):
    path = write_json(tmp_path / "j.geojson", feature_collection(JUNCTIONS))
    call_command(
        "import_layer", str(path), layer="junctions", dataset="cmd-junctions", id_field="ref"
    )
    assert "2 created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no id column 'nope'"):
        call_command(
            "import_layer", str(path), layer="junctions", dataset="cmd-junctions", id_field="nope"
        )
    assert junctions().count() == 2


def test_bundled_reference_data_is_complete(reference_data):
    from geodata.models import District, Municipality, Region

    assert Municipality.objects.count() == 53
    assert District.objects.count() == 15
    assert Region.objects.count() == 1
    assert Municipality.objects.get(ags="05113000").district.ags == "05113"
    assert LayerFeature.objects.filter(layer__slug="stations").count() == 197
    assert LayerFeature.objects.filter(layer__slug="stations", category__lte=3).count() == 20
    assert LayerFeature.objects.filter(layer__slug="rail_lines").count() == 1226
    assert LayerFeature.objects.filter(layer__slug="airports").count() == 8
    assert LayerFeature.objects.filter(layer__slug="universities").count() == 20
    essen_hbf = LayerFeature.objects.get(layer__slug="stations", external_id="8000098")
    assert Municipality.objects.get(geom__contains=essen_hbf.geom).ags == "05113000"


def test_load_reference_data_twice_loads_nothing_twice(reference_data, capsys):
    call_command("load_reference_data")
    output = capsys.readouterr().out
    assert output.count("unchanged file, nothing to do") == 7
