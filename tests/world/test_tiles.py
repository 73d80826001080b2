"""GLB tiles: validator-clean, metadata well formed, and our reader and pygltflib agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, validate_gltf
from tests.world.tile_checks import accessor_array, check_tile
from world.gltf_read import read_gltf
from world.package import build_city
from world.store import FeatureStore


@pytest.fixture(scope="module")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("blocks") / "package"
    build_city([DATA / "geojson" / "blocks.geojson"], out, progress=False, tile_size_m=100)
    return out


def test_small_package_tiles_pass_the_khronos_validator(small_package: Path) -> None:
    tiles = sorted((small_package / "tiles").glob("*.glb"))
    assert len(tiles) >= 2
    reports = validate_gltf(tiles)
    assert [r["numErrors"] for r in reports] == [0] * len(tiles), reports
    assert [r["numWarnings"] for r in reports] == [0] * len(tiles), reports


def test_property_table_matches_the_feature_store(small_package: Path) -> None:
    with FeatureStore(small_package / "features.sqlite") as store:
        for tile in sorted((small_package / "tiles").glob("*.glb")):
            ids = check_tile(tile)["ids"]
            for feature_id in ids:
                row = store.get(feature_id)
                assert row is not None and row["tile"] == tile.stem


def test_reader_and_pygltflib_agree(small_package: Path) -> None:
    for tile in sorted((small_package / "tiles").glob("*.glb")):
        checked = check_tile(tile)
        gltf, blob = checked["gltf"], checked["blob"]
        scene = read_gltf(tile)
        assert len(scene.primitives) == len(gltf.meshes[0].primitives)
        translation = np.array(gltf.nodes[0].translation)
        for ours, theirs in zip(scene.primitives, gltf.meshes[0].primitives, strict=True):
            positions = accessor_array(gltf, blob, theirs.attributes.POSITION)
            assert np.array_equal(ours.positions, positions)
            assert np.array_equal(ours.indices, accessor_array(gltf, blob, theirs.indices).astype(np.uint32))
            assert np.allclose(ours.matrix[:3, 3], translation)
            if ours.feature_ids is not None:
                ids = accessor_array(gltf, blob, theirs.attributes._FEATURE_ID_0)
                assert np.array_equal(ours.feature_ids, ids.astype(np.uint32))


def test_tiles_hold_positions_relative_to_their_origin(small_package: Path) -> None:
    for tile in sorted((small_package / "tiles").glob("*.glb")):
        scene = read_gltf(tile)
        for primitive in scene.primitives:
            # Tiles are 100 m here: vertices stay near the tile origin, well within float32.
            assert np.abs(primitive.positions[:, [0, 2]]).max() < 150.0
