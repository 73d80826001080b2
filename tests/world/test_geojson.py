"""GeoJSON footprints and the choice of importer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from tests.conftest import DATA, HELSINKI_PBF
from world.errors import CrsError, SourceError
from world.geojson import DEFAULT_HEIGHT_M, STOREY_M, read_geojson
from world.sources import detect_format, read_city_config

BLOCKS = DATA / "geojson" / "blocks.geojson"


def test_heights_holes_and_crs() -> None:
    source = read_geojson(BLOCKS)
    assert source.crs == "EPSG:32635"  # UTM zone of 24.94° E
    by_id = {b.id: b for b in source.buildings}
    assert set(by_id) == {"gj:blocks:a", "gj:blocks:b"}
    kiasma = by_id["gj:blocks:a"]
    assert (kiasma.height_m, kiasma.height_source, kiasma.name) == (21.5, "height", "Kiasma")
    assert len(kiasma.footprint.interiors) == 1, "the courtyard is kept"
    assert kiasma.footprint.area < shapely.Polygon(kiasma.footprint.exterior).area
    levels = by_id["gj:blocks:b"]
    assert (levels.height_m, levels.height_source, levels.levels) == (4 * STOREY_M, "levels", 4)


def test_projected_coordinates_need_a_declared_crs(tmp_path: Path) -> None:
    square = [[[385_000, 6_672_000], [385_020, 6_672_000], [385_020, 6_672_020], [385_000, 6_672_000]]]
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": square}}]}
    path = tmp_path / "projected.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(CrsError, match=r"projected\.geojson: coordinates are not longitude/latitude"):
        read_geojson(path)
    source = read_geojson(path, crs="EPSG:3067")
    assert source.crs == "EPSG:3067"
    (building,) = source.buildings
    assert building.height_m == DEFAULT_HEIGHT_M and building.height_source == "default"
    assert building.footprint.area == pytest.approx(200.0)
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3067"}}
    path.write_text(json.dumps(doc))
    assert read_geojson(path).crs == "EPSG:3067"


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ('{"type": "Topology"}', "not a GeoJSON FeatureCollection"),
    ('{"type": "FeatureCollection", "features": []}', "contains no Polygon"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
     '{"type": "Polygon", "coordinates": [[[0, 0], [1]]]}}]}', "feature 0 has an invalid geometry"),
])
def test_bad_geojson(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with pytest.raises(SourceError, match=f"bad.geojson: {message}"):
        read_geojson(path)


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(HELSINKI_PBF) == "osm"
    assert detect_format(DATA / "cityjson" / "delft.json") == "cityjson"
    assert detect_format(BLOCKS) == "geojson"
    plain = tmp_path / "features.json"
    plain.write_text(BLOCKS.read_text())
    assert detect_format(plain) == "geojson"
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}')
    with pytest.raises(SourceError, match=r"other\.json: a JSON file that is neither CityJSON nor GeoJSON"):
        detect_format(other)
    with pytest.raises(SourceError, match="unknown format"):
        detect_format(tmp_path / "model.obj")


def test_city_config(tmp_path: Path) -> None:
    config = read_city_config(HELSINKI_PBF.parent)
    assert config.crs == "EPSG:3067" and config.sources == [HELSINKI_PBF]
    (tmp_path / "city.toml").write_text("name = 'x'\nsources = []\n")
    with pytest.raises(SourceError, match="'sources' must be a non-empty list"):
        read_city_config(tmp_path)
    (tmp_path / "city.toml").write_text("name = \n")
    with pytest.raises(SourceError, match="not valid TOML"):
        read_city_config(tmp_path)
