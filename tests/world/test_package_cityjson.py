"""City packages from CityJSON (3D BAG multi-LoD buildings, the Delft block)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, validate_gltf
from tests.world.tile_checks import check_tile
from world.cityjson import read_cityjson
from world.gltf_read import read_gltf
from world.package import build_city
from world.store import FeatureStore

MULTI_LOD = DATA / "cityjson" / "multi_lod.json"
DELFT = DATA / "cityjson" / "delft.json"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cityjson")
    out = {}
    for lod in ("1.2", "2.2"):
        out[lod] = root / f"bag-{lod}"
        # 3D BAG data is in EPSG:7415 (RD New + NAP); this file does not say so itself.
        build_city([MULTI_LOD], out[lod], lod=float(lod), crs="EPSG:7415", progress=False)
    out["delft"] = root / "delft"
    build_city([DELFT], out["delft"], progress=False)
    return out


def _building_triangles(package: Path) -> tuple[dict[str, list[np.ndarray]], dict[str, float]]:
    """Per building id: its triangles (local metres, z up) from the tiles; and volumes."""
    triangles: dict[str, list[np.ndarray]] = {}
    for tile in sorted((package / "tiles").glob("*.glb")):
        ids = check_tile(tile)["ids"]
        for primitive in read_gltf(tile).primitives:
            if primitive.feature_ids is None:
                continue
            p = primitive.positions.astype(np.float64)
            xyz = np.column_stack([p[:, 0], -p[:, 2], p[:, 1]])[primitive.indices.reshape(-1, 3)]
            owner = primitive.feature_ids[primitive.indices[::3]]
            for index in np.unique(owner):
                triangles.setdefault(ids[index], []).append(xyz[owner == index])
    volumes = {}
    for fid, parts in triangles.items():
        t = np.concatenate(parts)
        volumes[fid] = float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0)
    return triangles, volumes


def test_cityjson_tiles_pass_the_khronos_validator(packages: dict[str, Path]) -> None:
    tiles = [t for p in packages.values() for t in sorted((p / "tiles").glob("*.glb"))]
    reports = validate_gltf(tiles)
    assert len(reports) == len(tiles) >= 4
    assert [r for r in reports if r["numErrors"]] == []


def test_lod_22_roofs_stay_sloped_and_lod_12_roofs_are_flat(packages: dict[str, Path]) -> None:
    for lod, expect_sloped in (("2.2", True), ("1.2", False)):
        triangles, _ = _building_triangles(packages[lod])
        t = np.concatenate([np.concatenate(parts) for parts in triangles.values()])
        normal = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        sloped = (normal[:, 2] > 0.1) & (normal[:, 2] < 0.99)
        assert sloped.any() == expect_sloped, lod


def test_lod_12_solids_enclose_footprint_times_height(packages: dict[str, Path]) -> None:
    """3D BAG LoD 1.2 solids are prisms: volume = footprint area × height (within 0.5 %)."""
    _, volumes = _building_triangles(packages["1.2"])
    with FeatureStore(packages["1.2"] / "features.sqlite") as store:
        for fid, volume in volumes.items():
            row = store.get(fid)
            assert row is not None
            assert volume == pytest.approx(row["geometry"].area * row["height_m"], rel=0.005), fid


def test_counts_agree_with_the_files(packages: dict[str, Path]) -> None:
    document = json.loads(MULTI_LOD.read_text())
    buildings = [k for k, o in document["CityObjects"].items() if o["type"] == "Building"]
    with FeatureStore(packages["2.2"] / "features.sqlite") as store:
        assert store.counts() == {"building": len(buildings)}
    source = read_cityjson(DELFT)
    meta = json.loads((packages["delft"] / "city.json").read_text())
    assert meta["crs"] == "EPSG:28992"
    assert meta["features"] == {"building": len(source.buildings), "road": len(source.roads),
                                "area": len(source.areas), "tree": len(source.trees)}
    delft = json.loads(DELFT.read_text())
    top_level = [o for o in delft["CityObjects"].values() if o["type"] == "Building" and not o.get("parents")]
    assert len(source.buildings) == len(top_level)
