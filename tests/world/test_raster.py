"""world.raster: known small cases, Helsinki sanity, exact window updates, determinism."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from world.city import Area, Building, City, Road, Treatment, Tree
from world.frame import LocalFrame
from world.raster import (
    FLOW_FACTOR,
    HEAVY_SHARE_FACTOR,
    IMPERVIOUS,
    LAYERS,
    Grids,
    LandCover,
    RasterError,
    SurfaceTreatment,
    TrafficOverride,
    homes_estimate,
    rasterize,
    rasterize_window,
    receivers,
    road_segments,
)

SCENARIO = (-500.0, -500.0, 500.0, 500.0)  # 1 km² around the origin


def _city(buildings=(), roads=(), areas=(), trees=(), treatments=()) -> City:
    return City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), list(buildings), list(roads), list(areas),
                list(trees), [], [], treatments=list(treatments))


def _same(a: Grids, b: Grids) -> bool:
    return a.building_ids == b.building_ids and all(
        np.array_equal(getattr(a, name), getattr(b, name)) for name in LAYERS)


@pytest.fixture(scope="module")
def helsinki_grids(helsinki_city):
    return rasterize(helsinki_city)


@pytest.fixture(scope="module")
def scenario_grids(helsinki_city):
    return rasterize(helsinki_city, SCENARIO)


# --- known small cases ---------------------------------------------------------------

def test_building_covers_its_footprint_cells_at_its_height():
    city = _city([Building("b", shapely.box(0, 0, 10, 20), 12.5)])
    grids = rasterize(city, (-5.0, -5.0, 15.0, 25.0), cell_m=1.0)
    assert grids.shape == (30, 20)
    inside = grids.building_id == 0
    assert inside.sum() == 200
    assert np.all(grids.building_m[inside] == np.float32(12.5)) and np.all(grids.building_m[~inside] == 0)
    assert np.all(grids.landcover[inside] == LandCover.BUILDING)
    assert np.all(grids.impervious[inside] == 1.0)
    assert grids.building_ids == ("b",)
    # Row 0 is north: the footprint's rows are rows 5..24 counted from the top.
    rows, cols = np.nonzero(inside)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5, 24, 5, 14)


def test_building_parts_give_the_surface_model_its_detail():
    from world.city import Volume

    footprint = shapely.box(0, 0, 10, 10)
    base = Volume(shapely.box(0, 0, 10, 6), 0.0, 10.0)
    tower = Volume(shapely.box(0, 0, 4, 4), 0.0, 30.0)
    building = Building("b", footprint, 30.0, volumes=(base, tower))
    grids = rasterize(_city([building]), (0.0, 0.0, 10.0, 10.0), 1.0)
    assert (grids.building_m == 30.0).sum() == 16 + 40  # the tower, and cells no part covers
    assert (grids.building_m == 10.0).sum() == 60 - 16
    assert (grids.building_id == 0).sum() == 100


def test_tree_crown_is_a_disc_with_transmissivity():
    tree = Tree("t", shapely.Point(0.3, -0.2), height_m=10.0, crown_diameter_m=6.0)
    grids = rasterize(_city(trees=[tree]), (-10.0, -10.0, 10.0, 10.0), cell_m=1.0)
    crown = grids.canopy_m > 0
    assert crown.sum() == pytest.approx(math.pi * 9, rel=0.15)
    assert np.all(grids.canopy_m[crown] == 10.0) and np.all(grids.canopy_base_m[crown] == 4.0)
    assert np.all(grids.transmissivity[crown] == np.float32(0.2)) and np.all(grids.transmissivity[~crown] == 1.0)
    assert np.all(grids.canopy_base_m[~crown] == 0.0)
    assert np.all(grids.landcover == LandCover.OTHER)  # a crown does not change the ground


def test_planted_tree_keeps_its_own_transmissivity_and_the_densest_crown_wins():
    mapped = Tree("m", shapely.Point(0.0, 0.0), height_m=10.0, crown_diameter_m=6.0)
    planted = Tree("p", shapely.Point(2.0, 0.0), height_m=8.0, crown_diameter_m=6.0, attributes={"transmissivity": 0.1})
    grids = rasterize(_city(trees=[mapped, planted]), (-10.0, -10.0, 10.0, 10.0), cell_m=1.0)
    assert grids.transmissivity[grids.cell_of(-2.5, 0.5)] == np.float32(0.2)  # the mapped crown alone
    assert grids.transmissivity[grids.cell_of(4.5, 0.5)] == np.float32(0.1)  # the planted crown alone
    assert grids.transmissivity[grids.cell_of(1.5, 0.5)] == np.float32(0.1)  # both: the minimum
    assert grids.canopy_m[grids.cell_of(1.5, 0.5)] == 10.0  # both: the taller top


def test_treatments_mark_their_cells_with_the_highest_code_and_most_storage():
    roof = Treatment("g", shapely.box(0, 0, 10, 10), "green_roof", 20.0)
    paving = Treatment("p", shapely.box(5, 0, 15, 10), "permeable_paving")
    garden = Treatment("r", shapely.box(12, 0, 20, 10), "rain_garden", 150.0)
    city = _city(treatments=[roof, paving, garden])
    grids = rasterize(city, (-2.0, -2.0, 22.0, 12.0), cell_m=1.0)
    code = {name: int((grids.treatment == code).sum()) for name, code in SurfaceTreatment.__members__.items()}
    # Cell centres: green roof x 0..5 (5 columns), paving 5..12 (7), garden 12..20 (8); 10 rows each.
    assert code == {"NONE": 24 * 14 - 200, "GREEN_ROOF": 50, "PERMEABLE_PAVING": 70, "RAIN_GARDEN": 80}
    assert grids.storage_mm[grids.cell_of(2.5, 5.5)] == 20.0
    assert grids.storage_mm[grids.cell_of(7.5, 5.5)] == 20.0  # the roof's storage under the paving's code
    assert grids.storage_mm[grids.cell_of(13.5, 5.5)] == 150.0
    assert grids.storage_mm[grids.cell_of(-1.5, 5.5)] == 0.0 and grids.treatment[grids.cell_of(-1.5, 5.5)] == 0
    assert np.all(grids.landcover == LandCover.OTHER)  # a treatment does not change the land cover
    flipped = rasterize(replace(city, treatments=city.treatments[::-1]), (-2.0, -2.0, 22.0, 12.0), cell_m=1.0)
    assert _same(flipped, grids)
    with pytest.raises(RasterError, match="'moss'"):
        rasterize(_city(treatments=[Treatment("x", shapely.box(0, 0, 1, 1), "moss")]), (0.0, 0.0, 5.0, 5.0))


def test_road_of_width_six_covers_six_rows():
    road = Road("r", shapely.LineString([(-20, 0), (20, 0)]), "primary", "carriageway", 6.0)
    grids = rasterize(_city(roads=[road]), (-30.0, -10.0, 30.0, 10.0), cell_m=1.0)
    paved = grids.landcover == LandCover.CARRIAGEWAY
    assert paved.sum() == 6 * 40
    assert np.array_equal(np.nonzero(paved.any(axis=1))[0], np.arange(7, 13))
    assert np.all(paved.sum(axis=0)[10:50] == 6)


def test_priority_building_over_road_over_plaza_over_grass():
    city = _city(buildings=[Building("b", shapely.box(-2, -2, 2, 2), 9.0)],
                 roads=[Road("r", shapely.LineString([(-10, 0), (10, 0)]), "residential", "carriageway", 6.0)],
                 areas=[Area("p", shapely.box(-10, -8, 10, 8), "plaza"), Area("g", shapely.box(-10, -10, 10, 10),
                                                                                "grass")])
    grids = rasterize(city, (-10.0, -10.0, 10.0, 10.0), cell_m=1.0)
    assert grids.landcover[grids.cell_of(0.5, 0.5)] == LandCover.BUILDING
    assert grids.landcover[grids.cell_of(6.5, 0.5)] == LandCover.CARRIAGEWAY
    assert grids.landcover[grids.cell_of(6.5, 5.5)] == LandCover.PLAZA
    assert grids.landcover[grids.cell_of(6.5, 9.5)] == LandCover.GRASS
    assert grids.impervious[grids.cell_of(6.5, 9.5)] == IMPERVIOUS[LandCover.GRASS]
    # Same answer whatever order the features come in.
    flipped = replace(city, areas=city.areas[::-1])
    assert np.array_equal(rasterize(flipped, (-10.0, -10.0, 10.0, 10.0), 1.0).landcover, grids.landcover)


def test_overlapping_footprints_the_tallest_owns_the_cell():
    city = _city([Building("low", shapely.box(0, 0, 10, 10), 5.0), Building("high", shapely.box(5, 0, 15, 10), 20.0)])
    grids = rasterize(city, (0.0, 0.0, 15.0, 10.0), cell_m=1.0)
    assert grids.building_id[grids.cell_of(7.5, 5.5)] == 1 and grids.building_m[grids.cell_of(7.5, 5.5)] == 20.0
    assert grids.building_id[grids.cell_of(2.5, 5.5)] == 0


def test_grid_helpers():
    grids = Grids.empty((100.0, 50.0), 2.0, rows=10, cols=20)
    assert grids.bounds == (100.0, 30.0, 140.0, 50.0)
    assert grids.cell_of(*grids.cell_centre(3, 7)) == (3, 7)
    assert grids.xs[7] == grids.cell_centre(3, 7)[0] and grids.ys[3] == grids.cell_centre(3, 7)[1]
    a, b, c, d, e, f = grids.transform
    assert (a * 7 + b * 3 + c, d * 7 + e * 3 + f) == (114.0, 44.0)
    with pytest.raises(RasterError, match="outside the grid"):
        grids.cell_of(99.0, 40.0)
    assert grids.window_of((0.0, 0.0, 1000.0, 1000.0)) == (slice(0, 10), slice(0, 20))
    rows, cols = grids.window_of((500.0, 500.0, 600.0, 600.0))
    assert rows.start == rows.stop or cols.start == cols.stop
    with pytest.raises(RasterError):
        rasterize(_city(), (0.0, 0.0, 1.0, 1.0), cell_m=0.0)


def test_homes_and_receivers_on_a_courtyard_block():
    block = shapely.box(0, 0, 40, 40).difference(shapely.box(10, 10, 30, 30))
    apartments = Building("a", block, 18.0, building_type="apartments", levels=6)
    office = Building("o", shapely.box(40, 0, 60, 40), 18.0, building_type="office")
    city = _city([apartments, office])
    grids = rasterize(city, (-10.0, -10.0, 70.0, 50.0))
    found = receivers(city, grids)
    expected = round(block.area * 6 / 75.0)
    assert homes_estimate(apartments) == expected and homes_estimate(office) == 0
    assert found.homes.sum() == pytest.approx(expected)
    assert np.all(found.z_m == 4.0)
    # Courtyard walls carry receivers, the party wall between the two buildings none.
    in_yard = shapely.contains_xy(shapely.box(10, 10, 30, 30), found.xy_m[:, 0], found.xy_m[:, 1])
    assert in_yard.sum() == 4 * 2
    assert not np.any(np.abs(found.xy_m[:, 0] - 40.0) < 0.5)
    points = shapely.points(found.xy_m)
    assert not np.any(shapely.intersects(points, block) | shapely.intersects(points, office.footprint))
    # Outward normals point away from the owning building.
    probe = shapely.points(found.xy_m - 0.2 * found.normal)
    assert np.all(shapely.intersects(probe, block) | shapely.intersects(probe, office.footprint))


def test_road_segments_defaults_and_overrides():
    main = Road("m", shapely.LineString([(0, 0), (50, 0), (50, 50)]), "primary", "carriageway", 12.0, lanes=4)
    side = Road("s", shapely.LineString([(0, 10), (0, 60)]), "residential", "carriageway", 6.0, maxspeed_kmh=20.0,
                oneway=True)
    path = Road("f", shapely.LineString([(5, 5), (9, 9)]), "footway", "footway", 2.0)
    city = _city(roads=[main, side, path])
    segments = road_segments(city)
    assert segments.ids == ("m", "s") and segments.lanes.tolist() == [4, 1]
    assert segments.speed_kmh.tolist() == [50.0, 20.0]
    assert segments.flow_vph[0].tolist() == [1200.0, 600.0, 150.0]
    assert np.allclose(segments.light_vph + segments.heavy_vph, segments.flow_vph)
    start, _, road = segments.pieces()
    assert start.shape == (3, 2) and road.tolist() == [0, 0, 1]
    changed = road_segments(city, {"s": TrafficOverride(day_vph=0.0, speed_kmh=10.0)})
    assert changed.flow_vph[1, 0] == 0.0 and changed.speed_kmh[1] == 10.0
    with pytest.raises(RasterError, match="'f'"):
        road_segments(city, {"f": TrafficOverride(day_vph=1.0)})


def test_road_segments_scale_flows_and_heavy_share_by_the_road_factors():
    road = Road("m", shapely.LineString([(0, 0), (50, 0)]), "primary", "carriageway", 12.0,
                attributes={FLOW_FACTOR: 0.9 * 0.8, HEAVY_SHARE_FACTOR: 0.8})
    segments = road_segments(_city(roads=[road]))
    # primary: 1200/600/150 vehicles/h with 10 % heavy (DEFAULT_TRAFFIC).
    assert segments.flow_vph[0].tolist() == pytest.approx([1200 * 0.72, 600 * 0.72, 150 * 0.72], rel=1e-12)
    assert segments.heavy_share[0] == pytest.approx(0.08, rel=1e-12)
    capped = replace(road, attributes={HEAVY_SHARE_FACTOR: 20.0})
    assert road_segments(_city(roads=[capped])).heavy_share[0] == 1.0
    # An override is a count: it replaces the scaled value outright.
    assert road_segments(_city(roads=[road]), {"m": TrafficOverride(day_vph=500.0)}).flow_vph[0, 0] == 500.0
    with pytest.raises(RasterError, match="traffic_flow_factor"):
        road_segments(_city(roads=[replace(road, attributes={FLOW_FACTOR: -1.0})]))


# --- Helsinki ------------------------------------------------------------------------

def test_helsinki_building_area_matches_the_footprints(helsinki_city, helsinki_grids):
    grids = helsinki_grids
    union = shapely.union_all([b.footprint for b in helsinki_city.buildings])
    expected_m2 = shapely.intersection(union, shapely.box(*grids.bounds)).area
    cells_m2 = float((grids.landcover == LandCover.BUILDING).sum()) * grids.cell_m ** 2
    assert cells_m2 == pytest.approx(expected_m2, rel=0.02)
    assert np.array_equal(grids.building_id >= 0, grids.landcover == LandCover.BUILDING)
    assert np.all(grids.building_m[grids.building_id >= 0] > 0)


def test_helsinki_layers_are_sane(helsinki_city, helsinki_grids):
    grids = helsinki_grids
    west, north = grids.origin
    assert grids.shape == (math.ceil((north - helsinki_city.bbox_m()[1]) / 2.0),
                           math.ceil((helsinki_city.bbox_m()[2] - west) / 2.0))
    share = np.bincount(grids.landcover.ravel(), minlength=len(LandCover)) / grids.landcover.size
    assert 0.1 < share[LandCover.BUILDING] < 0.6
    assert share[LandCover.CARRIAGEWAY] > 0.03 and share[LandCover.SIDEWALK] > 0.01
    assert share[LandCover.GRASS] > 0.005 and share[LandCover.WATER] > 0.001
    assert np.all((grids.impervious >= 0) & (grids.impervious <= 1))
    assert np.all(grids.ground_m == 0)
    crowns = grids.canopy_m > 0
    assert crowns.any() and np.all(grids.canopy_base_m[crowns] < grids.canopy_m[crowns])
    used = np.unique(grids.building_id[grids.building_id >= 0])
    city_ids = {b.id for b in helsinki_city.buildings}
    assert len(used) > 300 and {grids.building_ids[i] for i in used} <= city_ids
    for name in LAYERS:
        assert getattr(grids, name).shape == grids.shape


def test_helsinki_receivers_carry_the_estimated_homes(helsinki_city, helsinki_grids):
    found = receivers(helsinki_city, helsinki_grids)
    by_id = {b.id: b for b in helsinki_city.buildings}
    with_receivers = {helsinki_grids.building_ids[i] for i in np.unique(found.building)}
    expected = sum(homes_estimate(by_id[bid]) for bid in with_receivers)
    assert expected > 100 and found.homes.sum() == pytest.approx(expected)
    assert len(found) > 1000
    rows, cols = helsinki_grids.shape
    assert np.all((found.cell >= 0) & (found.cell < [rows, cols]))
    assert np.array_equal(found.cell, [helsinki_grids.cell_of(x, y) for x, y in found.xy_m])
    residential = {"apartments", "residential", "dormitory", "terrace"}
    for index in np.unique(found.building[found.homes > 0]):
        assert by_id[helsinki_grids.building_ids[index]].building_type in residential


def test_helsinki_road_segments(helsinki_city):
    segments = road_segments(helsinki_city)
    carriageways = [r for r in helsinki_city.roads if r.surface == "carriageway"]
    assert len(segments) == len(carriageways)
    assert np.all(segments.speed_kmh > 0) and np.all(segments.flow_vph > 0) and np.all(segments.lanes >= 1)


def test_scenario_area_is_a_window_of_the_city(helsinki_grids, scenario_grids):
    assert scenario_grids.shape == (500, 500)
    building_cells = (scenario_grids.landcover == LandCover.BUILDING).sum()
    assert 0 < building_cells < (helsinki_grids.landcover == LandCover.BUILDING).sum()


def test_rasterisation_is_deterministic(helsinki_city, scenario_grids):
    again = rasterize(helsinki_city, SCENARIO)
    for name in LAYERS:
        assert getattr(again, name).tobytes() == getattr(scenario_grids, name).tobytes()
    assert again.building_ids == scenario_grids.building_ids


# --- window re-rasterisation ----------------------------------------------------------

@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=st.floats(-480.0, 460.0), y=st.floats(-480.0, 460.0), height=st.floats(3.0, 60.0),
       tree_dx=st.floats(-40.0, 40.0), transmissivity=st.floats(0.0, 1.0),
       treatment=st.sampled_from(["green_roof", "permeable_paving", "rain_garden"]), storage_mm=st.floats(0.0, 200.0),
       remove=st.integers(-1, 400))
def test_window_update_equals_full_rasterisation(helsinki_city, scenario_grids, x, y, height, tree_dx,
                                                 transmissivity, treatment, storage_mm, remove):
    """A new building, a planted tree with its own transmissivity, a surface treatment
    and (for ``remove`` ≥ 0) one removed building: the window over all of them equals a
    full rasterisation bit for bit."""
    building = Building("new:b", shapely.box(x, y, x + 17.3, y + 23.1).buffer(1.0), height, building_type="apartments")
    tree = Tree("new:t", shapely.Point(x + tree_dx, y - 5.0), 12.0, 8.0, attributes={"transmissivity": transmissivity})
    patch = Treatment("new:s", shapely.box(x - 10.0, y + 3.0, x + 12.5, y + 30.0), treatment, storage_mm)
    kept = list(helsinki_city.buildings)
    changes = [building.footprint, tree.geometry.buffer(4.0), patch.geometry]
    if remove >= 0:
        changes.append(kept.pop(remove % len(kept)).footprint)
    changed = replace(helsinki_city, buildings=[*kept, building], trees=[*helsinki_city.trees, tree],
                      treatments=[patch])
    bbox = shapely.total_bounds(changes)
    updated = rasterize_window(changed, scenario_grids, tuple(bbox))
    assert _same(updated, rasterize(changed, SCENARIO))
    rows, cols = scenario_grids.window_of(tuple(bbox))
    outside = np.ones(scenario_grids.shape, bool)
    outside[rows, cols] = False
    for name in LAYERS:
        if name != "building_id":
            assert np.array_equal(getattr(updated, name)[outside], getattr(scenario_grids, name)[outside])
    assert "new:b" in updated.building_ids


def test_window_update_after_removing_a_building_renumbers_ids(helsinki_city, scenario_grids):
    victim = scenario_grids.building_ids[len(scenario_grids.building_ids) // 2]
    gone = next(b for b in helsinki_city.buildings if b.id == victim)
    changed = replace(helsinki_city, buildings=[b for b in helsinki_city.buildings if b.id != victim])
    updated = rasterize_window(changed, scenario_grids, shapely.bounds(gone.footprint).tolist())
    assert _same(updated, rasterize(changed, SCENARIO))
    assert victim not in updated.building_ids
    # The input grids are left as they were.
    assert victim in scenario_grids.building_ids


def test_window_outside_the_grid_changes_nothing(helsinki_city, scenario_grids):
    updated = rasterize_window(helsinki_city, scenario_grids, (5000.0, 5000.0, 5100.0, 5100.0))
    assert _same(updated, scenario_grids)
