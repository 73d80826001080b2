"""The Helsinki sample, built as `make run` builds it: counts, geometry, metadata, safety."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from tests.conftest import DATA, HELSINKI_LAT, HELSINKI_LON, validate_gltf
from tests.world.tile_checks import check_tile, enclosed_volume_m3, feature_triangles
from world.errors import PackageError, SourceError
from world.inspect import inspect_path
from world.mesh import MATERIALS
from world.package import build_city
from world.store import FeatureStore


def test_every_helsinki_tile_passes_the_khronos_validator(helsinki_package: Path) -> None:
    tiles = sorted((helsinki_package / "tiles").glob("*.glb"))
    reports = validate_gltf(tiles)
    assert len(reports) == len(tiles) > 10
    failing = [r for r in reports if r["numErrors"]]
    assert failing == []


def test_counts_agree_between_city_store_metadata_and_tiles(helsinki_package: Path, helsinki_city) -> None:
    meta = json.loads((helsinki_package / "city.json").read_text())
    expected = helsinki_city.counts()
    assert meta["features"] == expected
    with FeatureStore(helsinki_package / "features.sqlite") as store:
        assert store.counts() == {k: v for k, v in expected.items() if v}
    ids_in_tiles: list[str] = []
    for tile in meta["tiles"]:
        checked = check_tile(helsinki_package / tile["uri"])
        ids_in_tiles += checked["ids"]
        assert len(checked["materials"]) <= len(MATERIALS), "at most one draw call per material"
    assert sorted(ids_in_tiles) == sorted(f.id for f in helsinki_city.features())


def test_metadata_places_the_city_where_the_extract_is(helsinki_package: Path) -> None:
    summary = inspect_path(helsinki_package)
    assert summary["crs"] == "EPSG:3067"
    lon, lat = summary["origin_lonlat"]
    assert HELSINKI_LON[0] < lon < HELSINKI_LON[1] and HELSINKI_LAT[0] < lat < HELSINKI_LAT[1]
    min_x, min_y, max_x, max_y = summary["bbox_m"]
    # The extract is about 1.0 × 1.7 km; features crossing its edge stick out a little.
    assert 950 < max_x - min_x < 1300 and 1600 < max_y - min_y < 2000
    assert summary["features"]["building"] > 400 and summary["features"]["tree"] > 600
    assert "© OpenStreetMap contributors" in " ".join(summary["attribution"])
    tileset = json.loads((helsinki_package / "tileset.json").read_text())
    assert tileset["asset"]["version"] == "1.1"
    assert len(tileset["root"]["children"]) == summary["tiles"]
    matrix = np.array(tileset["root"]["transform"]).reshape(4, 4).T
    assert 6.3e6 < np.linalg.norm(matrix[:3, 3]) < 6.4e6, "the origin lies on the Earth's surface"


def test_extruded_volume_is_footprint_area_times_height(helsinki_package: Path, helsinki_city) -> None:
    volumes = {fid: enclosed_volume_m3(t) for fid, t in feature_triangles(helsinki_package).items()}
    checked = 0
    for building in helsinki_city.buildings:
        expected = sum(v.footprint.area * (v.height_m - v.min_height_m) for v in building.volumes)
        assert volumes[building.id] == pytest.approx(expected, rel=0.005), building.id
        checked += 1
    assert checked == len(helsinki_city.buildings) > 400


def test_picking_finds_a_building_by_its_footprint(helsinki_package: Path, helsinki_city) -> None:
    building = max(helsinki_city.buildings, key=lambda b: b.footprint.area)
    inside = building.footprint.representative_point()
    with FeatureStore(helsinki_package / "features.sqlite") as store:
        hits = store.pick(inside.x, inside.y, radius_m=0.0)
        assert building.id in [h["id"] for h in hits]
        row = store.get(building.id)
        assert row["geometry"].equals_exact(building.footprint, 1e-6)
        assert row["height_m"] == pytest.approx(building.height_m)
        assert math.isclose(shapely.area(row["geometry"]), building.footprint.area)


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "city"
    with pytest.raises(SourceError):
        build_city([DATA / "geojson" / "blocks.geojson", tmp_path / "missing.osm.pbf"], out, progress=False)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_rebuild_replaces_a_package_but_never_other_folders(tmp_path: Path) -> None:
    out = tmp_path / "city"
    build_city([DATA / "geojson" / "blocks.geojson"], out, progress=False)
    first = json.loads((out / "city.json").read_text())
    build_city([DATA / "geojson" / "blocks.geojson"], out, progress=False, tile_size_m=50)
    assert json.loads((out / "city.json").read_text())["tile_size_m"] == 50 != first["tile_size_m"]
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(PackageError, match="not a city package"):
        build_city([DATA / "geojson" / "blocks.geojson"], precious, progress=False)
    assert (precious / "notes.txt").read_text() == "keep me"
