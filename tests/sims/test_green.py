"""Green access by the 3-30-300 rule: each rule on small known cases, the KPIs, the field.

Known answers are counted by hand (trees within 15 m, Nieuwenhuijsen et al. 2022's
operational "3"), by brute force over cell centres (canopy within 300 m), and by
taxicab distances on street grids (the "300"); integer coordinates keep them exact.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sims._green_homes import Homes, discs, trees_near
from sims.green import KPI_NAMES, GreenParams, GreenSimulation, walk_to_park_m
from sims.scene import Scene, make_scene
from tests.sims.toy import HELSINKI_AFTERNOON
from world.city import Area, Building, City, Road, Tree
from world.frame import LocalFrame
from world.raster import Grids, homes_estimate

FRAME = LocalFrame("EPSG:3067", 0.0, 0.0, 0.0)
#: The test district: 300 m × 300 m, streets every 50 m.
AREA = (0.0, 0.0, 300.0, 300.0)
STREETS_M = [float(v) for v in range(0, 301, 50)]
#: A 0.81 ha park over the north-east blocks, and a 0.16 ha pocket park that does not count.
PARK = Area("park", shapely.box(205.0, 205.0, 295.0, 295.0), "park")
POCKET = Area("pocket", shapely.box(55.0, 55.0, 95.0, 95.0), "park")
#: The tolerance zone around a park is its polygon buffered with 8 segments a quarter
#: circle; the chords fall short of the 10 m circle by at most 10·(1 − cos(π/32)) ≈ 0.05 m.
BUFFER_M = 0.1


def flats(bid: str, x: float, y: float, size_m: float = 30.0, levels: int = 4) -> Building:
    """Apartments with ``size_m``² × levels ÷ 75 m² homes (:func:`homes_estimate`)."""
    return Building(bid, shapely.box(x, y, x + size_m, y + size_m), 3.0 * levels, building_type="apartments",
                    levels=levels)


#: Flats far from the park, in the south-west block (38 homes; representative point (23, 24)), in
#: the middle (40 homes; (120, 172.5)) and near the park (30 homes; (182.5, 212.5)). Their
#: representative points lie nearer to one street than to any other, so each walk starts
#: at one well-defined point.
A_FLATS = Building("a", shapely.box(8.0, 12.0, 38.0, 36.0), 12.0, building_type="apartments", levels=4)
B_FLATS = Building("b", shapely.box(105.0, 160.0, 135.0, 185.0), 12.0, building_type="apartments", levels=4)
C_FLATS = Building("c", shapely.box(170.0, 205.0, 195.0, 220.0), 18.0, building_type="apartments", levels=6)


def grid_streets(values: list[float] = STREETS_M) -> list[Road]:
    """One road per block side, so the network needs no noding."""
    roads = []
    for v in values:
        for a, b in pairwise(values):
            roads.append(Road(f"ns{v}:{a}", shapely.LineString([(v, a), (v, b)]), "residential", "carriageway", 8.0))
            roads.append(Road(f"ew{v}:{a}", shapely.LineString([(a, v), (b, v)]), "residential", "carriageway", 8.0))
    return roads


def district(buildings: list[Building] | None = None, trees: list[Tree] | None = None,
             areas: list[Area] | None = None) -> City:
    if buildings is None:
        buildings = [A_FLATS, B_FLATS, C_FLATS,
                     Building("office", shapely.box(60.0, 160.0, 90.0, 190.0), 20.0, building_type="office")]
    if trees is None:
        trees = [Tree(f"t{i}", shapely.Point(5.0 + 10.0 * i, 45.0), 10.0, 6.0) for i in range(5)]
    return City("district", FRAME, buildings, grid_streets(), [PARK, POCKET] if areas is None else areas, trees,
                [], [])


def scene_of(city: City) -> Scene:
    return make_scene(city, HELSINKI_AFTERNOON, AREA, 2.0)


def shares(city: City, params: GreenParams | None = None) -> dict[str, float]:
    run = GreenSimulation(params).run(scene_of(city))
    return {name: kpi.value for name, kpi in run.result.kpis.items()}


# -- the "3": trees within 15 m of the footprint ----------------------------------------------


@pytest.mark.parametrize(("distances_m", "meets"), [((5.0, 10.0, 15.0), True), ((5.0, 10.0, 15.5), False),
                                                     ((0.0, 1.0), False), ((1.0, 2.0, 3.0, 14.0), True)])
def test_three_trees_within_15_m_of_the_footprint(distances_m: tuple[float, ...], meets: bool) -> None:
    home = flats("a", 110.0, 110.0)   # x 110…140: trees to its east, at 140 + d
    trees = [Tree(f"t{i}", shapely.Point(140.0 + d, 125.0), 8.0, 4.0) for i, d in enumerate(distances_m)]
    assert shares(district([home], trees, []))["homes_3_trees_pct"] == (100.0 if meets else 0.0)


def test_trees_are_measured_to_the_footprint_outline_and_each_counts_once() -> None:
    footprint = np.array([shapely.box(0, 0, 10, 10)], dtype=object)
    homes = Homes(np.array([0]), np.array([4]), footprint, np.array([[5.0, 5.0]]), shapely.STRtree(footprint))
    # Inside (0 m), on the corner's diagonal at exactly 15 m, just beyond 15 m; a duplicate counts twice.
    xy = np.array([[5.0, 5.0], [19.0, 22.0], [10.0 + 15.0 / np.sqrt(2) + 0.01, 10.0 + 15.0 / np.sqrt(2)],
                   [25.0, 5.0], [25.0, 5.0]])
    assert trees_near(homes, xy, 15.0).tolist() == [4]


# -- the "30": canopy within 300 m -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.floats(-20.0, 80.0), st.floats(-20.0, 80.0), st.floats(0.5, 40.0), st.sampled_from([0.5, 1.0, 2.0]))
def test_disc_cells_equal_a_brute_force_count(x: float, y: float, radius_m: float, cell_m: float) -> None:
    """Row spans hold exactly the cells whose centres lie within the radius (cut at the
    grid's edge)."""
    grids = Grids.empty((0.0, 60.0), cell_m, rows=round(60 / cell_m), cols=round(60 / cell_m))
    spans = discs(np.array([[x, y]]), radius_m, grids)
    cx, cy = np.meshgrid(grids.xs, grids.ys)
    inside = (cx - x) ** 2 + (cy - y) ** 2 <= radius_m ** 2
    # Cells on the circle itself may fall either way by a rounding; none lies within 1e-9 m of it here.
    near = np.abs(np.hypot(cx - x, cy - y) - radius_m) < 1e-9
    assert abs(int(spans.cells[0]) - int(inside.sum())) <= int(near.sum())


def test_canopy_share_counts_crowns_within_300_m() -> None:
    """A district under 9 m crowns every 10 m has far more than 30 % canopy; five
    street trees have far less."""
    dense = [Tree(f"t{i}-{j}", shapely.Point(5.0 + 10.0 * i, 5.0 + 10.0 * j), 12.0, 9.0)
             for i in range(30) for j in range(30)]
    assert shares(district(trees=dense))["homes_30_canopy_pct"] == 100.0
    assert shares(district())["homes_30_canopy_pct"] == 0.0
    # The threshold is a parameter: the five street trees cover a tenth of the grid's share somewhere.
    scene = scene_of(district())
    covered = float((scene.grids.canopy_m > 0).mean()) * 100.0
    assert shares(district(), GreenParams(min_canopy_pct=covered / 10.0))["homes_30_canopy_pct"] > 0.0


# -- the "300": walking distance to a park of 0.5 ha -------------------------------------------


def test_walk_to_the_park_is_measured_along_the_streets() -> None:
    """Home "c" starts at its representative point (182.5, 212.5): 12.5 m straight to
    the street at y = 200, east along it until the park is within 10 m, at
    x = 205 − √(10² − 5²), and 10 m across to the park's corner (205, 205). Home "b"
    starts 20 m from the street at x = 100; home "a" in the far corner is farther than
    300 m."""
    city = district()
    start = shapely.point_on_surface(np.array([b.footprint for b in city.buildings[:3]], dtype=object))
    assert shapely.get_coordinates(start).tolist() == [[23.0, 24.0], [120.0, 172.5], [182.5, 212.5]]
    walks = walk_to_park_m(city, start)
    corner_m = 205.0 - np.sqrt(75.0)
    assert walks[2] == pytest.approx(12.5 + (corner_m - 182.5) + 10.0, abs=BUFFER_M)
    # b: 20 m west to x = 100, 27.5 m north to y = 200, 100 m east to x = 200, on to the corner.
    assert walks[1] == pytest.approx(20.0 + 27.5 + (corner_m - 100.0) + 10.0, abs=BUFFER_M)
    assert walks[0] > 300.0
    homes = {b.id: homes_estimate(b) for b in city.buildings}
    assert (homes["a"], homes["b"], homes["c"], homes["office"]) == (38, 40, 30, 0)
    assert shares(city)["homes_300_park_pct"] == pytest.approx(100.0 * (40 + 30) / (38 + 40 + 30))


def test_the_walking_limit_is_a_parameter() -> None:
    city = replace(district(), buildings=[C_FLATS])
    walk = float(walk_to_park_m(city, shapely.points([[182.5, 212.5]]))[0])
    assert shares(city, GreenParams(max_walk_m=walk))["homes_300_park_pct"] == 100.0
    assert shares(city, GreenParams(max_walk_m=walk - 0.01))["homes_300_park_pct"] == 0.0


def test_manhattan_home_on_the_crossing_walks_70_m() -> None:
    """The issue's case through the whole simulation: a home whose representative point
    is the crossing (30, 40) of a 10 m street grid, a park with its corner at (0, 0)."""
    values = [float(v) for v in range(0, 101, 10)]
    home = Building("h", shapely.box(28.0, 38.0, 32.0, 42.0), 9.0, building_type="house")
    park = Area("p", shapely.box(-80.0, -80.0, 0.0, 0.0), "park")
    city = City("grid", FRAME, [home], grid_streets(values), [park], [], [], [])
    scene = make_scene(city, HELSINKI_AFTERNOON, (-100.0, -100.0, 100.0, 100.0), 2.0)
    assert shapely.distance(shapely.Point(30.0, 40.0), park.geometry) == 50.0
    for limit_m, share in ((70.0, 100.0), (69.99, 0.0)):
        run = GreenSimulation(GreenParams(max_walk_m=limit_m)).run(scene)
        assert run.result.kpis["homes_300_park_pct"].value == share


def test_a_pocket_park_counts_once_it_grows_past_half_a_hectare() -> None:
    city = district(areas=[POCKET])
    assert shares(city)["homes_300_park_pct"] == 0.0
    grown = district(areas=[POCKET, Area("next", shapely.box(95.0, 55.0, 145.0, 95.0), "forest")])   # + 0.2 ha
    assert shares(grown, GreenParams(min_park_ha=0.35))["homes_300_park_pct"] > 0.0
    assert shares(grown)["homes_300_park_pct"] == 0.0   # 0.36 ha together: still under 0.5 ha


# -- the KPIs and the field --------------------------------------------------------------------


def test_all_three_is_the_share_of_homes_meeting_every_rule() -> None:
    near_c = [Tree(f"n{i}", shapely.Point(175.0 + 5.0 * i, 225.0), 10.0, 6.0) for i in range(3)]
    city = district(trees=near_c)
    dense = GreenParams(min_canopy_pct=0.0)   # every disc meets a 0 % canopy threshold
    kpis = shares(city, dense)
    share_c, share_bc = 100.0 * 30 / 108, 100.0 * 70 / 108   # homes: a 38, b 40, c 30
    assert kpis == pytest.approx({"homes_3_trees_pct": share_c, "homes_30_canopy_pct": 100.0,
                                  "homes_300_park_pct": share_bc, "homes_3_30_300_pct": share_c})


def test_no_homes_gives_zero_shares() -> None:
    office = Building("office", shapely.box(60.0, 160.0, 90.0, 190.0), 20.0, building_type="office")
    run = GreenSimulation().run(scene_of(district([office])))
    assert list(run.result.kpis) == list(KPI_NAMES)
    assert all(k.value == 0.0 and k.better == "higher" and k.unit == "%" for k in run.result.kpis.values())


def test_without_paths_no_park_is_within_walking_reach() -> None:
    city = replace(district(), roads=[])
    run = GreenSimulation().run(scene_of(city))
    assert run.result.kpis["homes_300_park_pct"].value == 0.0
    values = run.result.field.values
    assert set(np.unique(values).tolist()) == {0.0, 1000.0}   # inside the park, and out of reach


def test_only_buildings_in_the_grid_count() -> None:
    outside = flats("out", 400.0, 400.0)
    inside = district()
    assert shares(replace(inside, buildings=[*inside.buildings, outside])) == shares(inside)


def test_the_field_is_the_walk_at_10_m_cells() -> None:
    scene = scene_of(district())
    run = GreenSimulation().run(scene)
    field = run.result.field
    assert (field.cell_m, field.origin, field.unit) == (10.0, scene.grids.origin, "m")
    assert field.values.shape == (30, 30) and field.values.dtype == np.float32
    row, col = (300 - 250) // 10, 250 // 10          # the cell around (255, 245): inside the park
    assert field.values[row, col] == 0.0
    assert field.values.min() >= 0.0 and field.values.max() <= 1000.0
    assert field.values[29, 0] > 300.0               # the south-west corner, 300 m and more away
    assert field.image().shape == (30, 30, 4)


def test_same_scene_same_bytes() -> None:
    a, b = GreenSimulation().run(scene_of(district())), GreenSimulation().run(scene_of(district()))
    assert a.result.field.values.tobytes() == b.result.field.values.tobytes()
    assert a.result.kpis == b.result.kpis


def test_names_and_parameters() -> None:
    assert (GreenSimulation.name, GreenSimulation.label, GreenSimulation.slow) == \
        ("green", "Green access (3-30-300)", False)
    p = GreenParams()
    assert (p.tree_distance_m, p.min_trees, p.canopy_radius_m, p.min_canopy_pct, p.max_walk_m, p.min_park_ha) == \
        (15.0, 3, 300.0, 30.0, 300.0, 0.5)
    for bad in ({"tree_distance_m": 0.0}, {"min_canopy_pct": 101.0}, {"max_walk_m": 2000.0}, {"min_trees": -1}):
        with pytest.raises(ValueError):
            GreenParams(**bad)


# -- Helsinki ----------------------------------------------------------------------------------


def test_helsinki_shares_agree_with_walks_of_each_home(helsinki_city: City) -> None:
    scene = make_scene(helsinki_city, HELSINKI_AFTERNOON, (-500.0, -500.0, 500.0, 500.0), 2.0)
    run = GreenSimulation().run(scene)
    kpis = {name: kpi.value for name, kpi in run.result.kpis.items()}
    by_id = {b.id: b for b in helsinki_city.buildings}
    homed = [by_id[bid] for bid in scene.grids.building_ids if homes_estimate(by_id[bid]) > 0]
    homes = np.array([homes_estimate(b) for b in homed])
    walks = walk_to_park_m(helsinki_city, shapely.point_on_surface(np.array([b.footprint for b in homed],
                                                                             dtype=object)))
    assert homes.sum() > 0
    assert kpis["homes_300_park_pct"] == pytest.approx(100.0 * homes[walks <= 300.0].sum() / homes.sum())
    assert 0.0 < kpis["homes_300_park_pct"] <= 100.0
    assert all(0.0 <= v <= 100.0 for v in kpis.values())
    assert kpis["homes_3_30_300_pct"] <= min(kpis[n] for n in KPI_NAMES[:3])
