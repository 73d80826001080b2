"""City packages from CityJSON (3D BAG multi-LoD buildings, the Delft block)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, validate_gltf
from tests.world.tile_checks import enclosed_volume_m3, feature_triangles
from world.cityjson import read_cityjson
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


def test_cityjson_tiles_pass_the_khronos_validator(packages: dict[str, Path]) -> None:
    tiles = [t for p in packages.values() for t in sorted((p / "tiles").glob("*.glb"))]
    reports = validate_gltf(tiles)
    assert len(reports) == len(tiles) >= 4
    assert [r for r in reports if r["numErrors"]] == []


def test_lod_22_roofs_stay_sloped_and_lod_12_roofs_are_flat(packages: dict[str, Path]) -> None:
    for lod, expect_sloped in (("2.2", True), ("1.2", False)):
        t = np.concatenate(list(feature_triangles(packages[lod]).values()))
        normal = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        sloped = (normal[:, 2] > 0.1) & (normal[:, 2] < 0.99)
        assert sloped.any() == expect_sloped, lod


def test_lod_12_solids_enclose_footprint_times_height(packages: dict[str, Path]) -> None:
    """3D BAG LoD 1.2 solids are prisms: volume = footprint area × height (within 0.5 %)."""
    volumes = {fid: enclosed_volume_m3(t) for fid, t in feature_triangles(packages["1.2"]).items()}
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
