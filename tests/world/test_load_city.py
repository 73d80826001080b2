"""A built package gives back the City the simulations need (world.package.load_city)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from world.errors import PackageError
from world.package import load_city


def test_load_city_round_trips_the_model(helsinki_package: Path, helsinki_city) -> None:
    city = load_city(helsinki_package)
    assert city.counts() == helsinki_city.counts()
    assert city.frame == helsinki_city.frame
    built = {b.id: b for b in helsinki_city.buildings}
    for building in city.buildings:
        original = built[building.id]
        assert (building.height_m, building.building_type, building.levels) == \
            (original.height_m, original.building_type, original.levels)
        assert shapely.equals_exact(building.footprint, original.footprint, tolerance=1e-9)
    roads = {r.id: r for r in helsinki_city.roads}
    for road in city.roads:
        original = roads[road.id]
        assert (road.road_class, road.surface, road.width_m, road.lanes, road.maxspeed_kmh, road.oneway) == \
            (original.road_class, original.surface, original.width_m, original.lanes, original.maxspeed_kmh,
             original.oneway)
    trees = {t.id: t for t in helsinki_city.trees}
    assert all(t.crown_diameter_m == trees[t.id].crown_diameter_m for t in city.trees)


def test_an_old_package_is_refused_with_a_rebuild_hint(tmp_path: Path, helsinki_package: Path) -> None:
    meta = json.loads((helsinki_package / "city.json").read_text())
    meta["format"] = 1
    (tmp_path / "city.json").write_text(json.dumps(meta))
    with pytest.raises(PackageError, match="rebuild it"):
        load_city(tmp_path)


def test_a_missing_feature_store_is_named(tmp_path: Path, helsinki_package: Path) -> None:
    (tmp_path / "city.json").write_text((helsinki_package / "city.json").read_text())
    with pytest.raises(PackageError, match="feature store is missing"):
        load_city(tmp_path)
