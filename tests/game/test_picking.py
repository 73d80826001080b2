"""Tests for game.kiosk.picking on the Helsinki package: rays down onto roofs and streets,
rays at facades, and the box prefilter against brute force over every triangle."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely

from game.kiosk.picking import Y_UP_TO_Z_UP, Hit, PickIndex, _ray_triangles, ground_point, package_tiles
from world.city import Building, City
from world.package import load_city
from world.store import FeatureStore


@pytest.fixture(scope="module")
def city(helsinki_package: Path) -> City:
    return load_city(helsinki_package)


@pytest.fixture(scope="module")
def index(helsinki_package: Path) -> PickIndex:
    return PickIndex.build(package_tiles(helsinki_package))


def _lone_buildings(city: City) -> Iterator[Building]:
    """Buildings extruded from their own footprint (no parts, on the ground) that no
    other building overlaps: their roof is flat at height_m over the whole footprint."""
    footprints = [b.footprint for b in city.buildings]
    tree = shapely.STRtree(footprints)
    for i, building in sorted(enumerate(city.buildings), key=lambda item: item[1].id):
        if building.part_ids or building.min_height_m > 0 or building.footprint.geom_type != "Polygon":
            continue
        others = [j for j in tree.query(building.footprint, predicate="intersects") if j != i]
        if all(shapely.intersection(building.footprint, footprints[j]).area < 0.01 for j in others):
            yield building


def test_the_axis_swap_is_panda3ds_y_up_to_z_up() -> None:
    core = pytest.importorskip("panda3d.core")
    mat = core.LMatrix4f.convert_mat(core.CS_yup_right, core.CS_zup_right)
    rows = np.array([[mat.get_cell(r, c) for c in range(3)] for r in range(3)])
    assert np.allclose(rows.T, Y_UP_TO_Z_UP)  # Panda3D multiplies row vectors: p' = p M


def test_the_index_holds_every_building(index: PickIndex, city: City) -> None:
    assert len(index) == len(city.buildings)
    assert {row[0] for row in index.rows} == {b.id for b in city.buildings}
    assert all(row[1] == "building" for row in index.rows)
    assert index.triangles.dtype == np.float64 and index.starts[-1] == len(index.triangles)


def test_a_ray_down_onto_a_roof_hits_that_building_at_its_height(
        index: PickIndex, city: City, helsinki_package: Path) -> None:
    checked = 0
    with FeatureStore(helsinki_package / "features.sqlite") as store:
        for building in _lone_buildings(city):
            row = store.get(building.id)
            assert row is not None and row["kind"] == "building"
            spot = row["geometry"].representative_point()
            hit = index.pick((spot.x, spot.y, 500.0), (0.0, 0.0, -1.0))
            assert hit is not None and hit.feature_id == building.id, building.id
            assert hit.point[2] == pytest.approx(row["height_m"], abs=0.05)
            assert hit.height_m == pytest.approx(row["height_m"], abs=1e-3)
            assert hit.distance_m == pytest.approx(500.0 - row["height_m"], abs=0.05)
            assert (hit.point[0], hit.point[1]) == pytest.approx((spot.x, spot.y))
            assert hit.kind == "building" and hit.cls == row["class"] and hit.name == (row["name"] or "")
            assert hit.tile == row["tile"]
            checked += 1
    assert checked > 300


def test_a_ray_down_onto_an_open_street_hits_nothing(index: PickIndex, city: City) -> None:
    footprints = shapely.STRtree([b.footprint for b in city.buildings])
    checked = 0
    for road in sorted(city.roads, key=lambda r: r.id):
        if road.surface != "carriageway" or road.geometry.geom_type != "LineString":
            continue
        spot = road.geometry.interpolate(0.5, normalized=True)
        if footprints.query(spot, predicate="dwithin", distance=5.0).size:
            continue
        assert index.pick((spot.x, spot.y, 300.0), (0.0, 0.0, -1.0)) is None, road.id
        assert ground_point((spot.x, spot.y, 300.0), (0.0, 0.0, -2.0)) == pytest.approx((spot.x, spot.y))
        checked += 1
        if checked == 50:
            break
    assert checked == 50


def test_a_horizontal_ray_hits_the_facade_at_its_distance(index: PickIndex, city: City) -> None:
    footprints = shapely.STRtree([b.footprint for b in city.buildings])
    checked = 0
    for building in _lone_buildings(city):
        if building.height_m < 3.0:
            continue
        ring = np.asarray(building.footprint.exterior.coords)
        lengths = np.hypot(*(ring[1:] - ring[:-1]).T)
        k = int(np.argmax(lengths))
        a, b = ring[k], ring[k + 1]
        mid, normal = (a + b) / 2.0, np.array([b[1] - a[1], a[0] - b[0]]) / lengths[k]
        if building.footprint.contains(shapely.Point(mid + 0.05 * normal)):
            normal = -normal
        origin = mid + 12.0 * normal
        approach = shapely.LineString([origin, mid + 0.05 * normal])
        if footprints.query(approach, predicate="intersects").size:
            continue  # another building stands in front of this facade
        hit = index.pick((*origin, 2.0), (*-normal, 0.0))
        assert hit is not None and hit.feature_id == building.id, building.id
        assert hit.distance_m == pytest.approx(12.0, abs=0.01)
        assert hit.point == pytest.approx((mid[0], mid[1], 2.0), abs=0.01)
        checked += 1
        if checked == 30:
            break
    assert checked == 30


def _brute_force(index: PickIndex, origin: np.ndarray, direction: np.ndarray) -> tuple[str, float] | None:
    """Every triangle, no boxes."""
    tris = index.triangles
    t = _ray_triangles(origin, direction / np.linalg.norm(direction), tris[:, 0], tris[:, 1] - tris[:, 0],
                       tris[:, 2] - tris[:, 0])
    k = int(np.argmin(t))
    if not math.isfinite(t[k]):
        return None
    feature = int(np.searchsorted(index.starts, k, side="right")) - 1
    return index.rows[feature][0], float(t[k])


def test_the_box_prefilter_agrees_with_brute_force(index: PickIndex, city: City) -> None:
    rng = np.random.default_rng(20240605)
    min_x, min_y, max_x, max_y = city.bbox_m()
    targets = [b.footprint.representative_point() for b in city.buildings]
    hits = 0
    for i in range(200):
        origin = np.array([rng.uniform(min_x, max_x), rng.uniform(min_y, max_y), rng.uniform(0.5, 80.0)])
        if i % 2:  # aimed at a building, so that most rays hit something
            aim = targets[rng.integers(len(targets))]
            direction = np.array([aim.x, aim.y, rng.uniform(0.0, 20.0)]) - origin
        else:
            direction = rng.normal(size=3)
        expected = _brute_force(index, origin, direction)
        hit = index.pick(origin, direction)
        if expected is None:
            assert hit is None, i
            continue
        hits += 1
        assert isinstance(hit, Hit), i
        assert hit.distance_m == pytest.approx(expected[1], abs=1e-9), i
        assert hit.feature_id == expected[0] or math.isclose(hit.distance_m, expected[1], abs_tol=1e-6)
        unit = direction / np.linalg.norm(direction)
        assert hit.point == pytest.approx(tuple(origin + unit * hit.distance_m))
    assert hits > 80


def test_max_distance_and_degenerate_rays(index: PickIndex, city: City) -> None:
    building = next(_lone_buildings(city))
    spot = building.footprint.representative_point()
    origin = (spot.x, spot.y, building.height_m + 10.0)
    assert index.pick(origin, (0.0, 0.0, -1.0)) is not None
    assert index.pick(origin, (0.0, 0.0, -1.0), max_distance_m=9.0) is None
    assert index.pick(origin, (0.0, 0.0, 0.0)) is None
    assert index.pick(origin, (0.0, 0.0, 1.0)) is None  # looking up, away from the roof
    assert ground_point((0.0, 0.0, 10.0), (1.0, 0.0, 0.0)) is None
    assert ground_point((0.0, 0.0, 1.7), (0.0, 3.0, -1.0), z=0.2) == pytest.approx((0.0, 4.5))


def test_other_kinds_and_an_empty_index(helsinki_package: Path, city: City) -> None:
    tiles = package_tiles(helsinki_package)
    trees = PickIndex.build(tiles, kinds=("tree",))
    assert len(trees) == len(city.trees) and {row[1] for row in trees.rows} == {"tree"}
    tree = sorted(city.trees, key=lambda t: t.id)[0]
    hit = trees.pick((tree.geometry.x, tree.geometry.y, 100.0), (0.0, 0.0, -1.0))
    assert hit is not None and hit.kind == "tree"
    with pytest.raises(ValueError, match="feature_table"):
        PickIndex.build([(name, scene) for name, scene, _ in tiles])  # type: ignore[misc]
    empty = PickIndex.build(tiles, kinds=("nothing",))
    assert len(empty) == 0 and empty.pick((0.0, 0.0, 10.0), (0.0, 0.0, -1.0)) is None
