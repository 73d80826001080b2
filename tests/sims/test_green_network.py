"""The walking network of green access: noding, snapping, parks entered, shortest walks.

Known answer (the issue's validation case): on a Manhattan street grid, a home at
(30, 40) is 50 m from a park corner at (0, 0) as the crow flies and 30 + 40 = 70 m
along the streets (taxicab distance; Krause E.F. 1975, *Taxicab Geometry*). Streets
with integer coordinates make every edge length and sum exact in floating point, so the
comparison tolerance is zero.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sims._green_parks import Park, entries, qualifying
from sims._walk_network import build_walk_network, same_roads
from sims._walk_route import node_distances, snap
from sims.green import GreenParams, walk_to_park_m
from world.city import Area, City, Road
from world.frame import LocalFrame

EXACT_M = 0.0
#: The tolerance zone around a park is its polygon buffered with 8 segments a quarter
#: circle; the chords fall short of the 10 m circle by at most 10·(1 − cos(π/32)) ≈ 0.05 m,
#: which moves where a stretch of path enters the zone by a little more than that.
BUFFER_M = 0.1
FRAME = LocalFrame("EPSG:3067", 0.0, 0.0, 0.0)


def street(rid: str, coords: list[tuple[float, float]], road_class: str = "residential",
           **attributes: str) -> Road:
    return Road(rid, shapely.LineString(coords), road_class, "carriageway" if road_class != "footway" else "footway",
                8.0, attributes=dict(attributes))


def manhattan(xs: list[float], ys: list[float], whole_lines: bool) -> list[Road]:
    """Streets along every x in ``xs`` and every y in ``ys``: each as one unbroken line
    (to be noded where they cross) or cut into one road per block."""
    roads = []
    for x in xs:
        pts = [(x, y) for y in ys] if not whole_lines else [(x, ys[0]), (x, ys[-1])]
        roads += [street(f"x{x}:{i}", [a, b]) for i, (a, b) in enumerate(pairwise(pts))] \
            if not whole_lines else [street(f"x{x}", pts)]
    for y in ys:
        pts = [(x, y) for x in xs] if not whole_lines else [(xs[0], y), (xs[-1], y)]
        roads += [street(f"y{y}:{i}", [a, b]) for i, (a, b) in enumerate(pairwise(pts))] \
            if not whole_lines else [street(f"y{y}", pts)]
    return roads


def city_of(roads: list[Road], areas: list[Area]) -> City:
    return City("test", FRAME, [], roads, areas, [], [], [])


#: A 0.64 ha park whose north-east corner is (0, 0).
PARK = Area("park", shapely.box(-80.0, -80.0, 0.0, 0.0), "park")


@pytest.mark.parametrize("whole_lines", [True, False])
@pytest.mark.parametrize(("xs", "ys"), [
    ([float(x) for x in range(0, 101, 10)], [float(y) for y in range(0, 101, 10)]),   # streets every 10 m
    ([0.0, 30.0, 60.0, 90.0], [0.0, 40.0, 80.0]),                                    # 30 m × 40 m blocks
])
def test_manhattan_home_is_50_m_away_and_70_m_walk(xs: list[float], ys: list[float], whole_lines: bool) -> None:
    city = city_of(manhattan(xs, ys, whole_lines), [PARK])
    home = shapely.Point(30.0, 40.0)
    assert shapely.distance(home, PARK.geometry) == pytest.approx(50.0, abs=EXACT_M)
    assert walk_to_park_m(city, np.array([home]))[0] == pytest.approx(70.0, abs=EXACT_M)


def test_crossing_lines_are_noded_only_at_grade() -> None:
    """Two streets crossing without a shared vertex meet; a footbridge over one does not."""
    main = street("main", [(-100.0, 0.0), (100.0, 0.0)])
    cross = street("cross", [(0.0, -100.0), (0.0, 100.0)])
    bridge = street("bridge", [(0.0, -100.0), (0.0, 100.0)], "footway", bridge="yes", layer="1")
    assert len(build_walk_network([main, cross]).xy) == 5
    assert len(build_walk_network([main, bridge]).xy) == 4
    # Walking from the bridge's south end to a park beside the main street: at grade the
    # crossing is 100 m away, over the bridge there is no way down.
    park = Area("p", shapely.box(40.0, 0.0, 140.0, 100.0), "park")
    start = np.array([shapely.Point(0.0, -100.0)])
    assert walk_to_park_m(city_of([main, cross], [park]), start)[0] == 140.0
    assert walk_to_park_m(city_of([main, bridge], [park]), start)[0] == 100.0 + 40.0  # snaps onto main, not the bridge


def test_motorways_are_not_walked() -> None:
    home, park = (0.0, 0.0), Area("p", shapely.box(200.0, -50.0, 300.0, 50.0), "park")
    around = [street("a", [home, (0.0, 100.0), (200.0, 100.0), (200.0, 0.0)], "footway")]
    motorway = street("m", [home, (200.0, 0.0)], "motorway")
    here = np.array([shapely.Point(home)])
    assert walk_to_park_m(city_of(around + [motorway], [park]), here)[0] == 100.0 + 200.0 + 50.0


def test_a_path_entering_a_park_mid_edge() -> None:
    """The park is reached where the edge enters it, not at the edge's far node; a home
    snapped onto that very edge walks straight in."""
    path = [street("r", [(0.0, 0.0), (100.0, 0.0)], "footway")]
    park = Area("p", shapely.box(60.0, -50.0, 160.0, 50.0), "park")
    city = city_of(path, [park])
    walks = walk_to_park_m(city, shapely.points([[0.0, 0.0], [50.0, 3.0], [100.0, 0.0]]))
    assert walks.tolist() == [60.0, 3.0 + 10.0, 0.0]


@pytest.mark.parametrize(("offset_m", "reached"), [(5.0, True), (8.0, True), (10.0, True), (12.0, False)])
def test_a_park_no_path_enters_is_reached_across_a_small_gap(offset_m: float, reached: bool) -> None:
    """Entry tolerance: from a street passing within ``entry_gap_m`` (10 m) of a park,
    people step in straight from where the street first comes within 10 m: here across
    to the park's corner at (100, offset), from x = 100 − √(10² − offset²)."""
    path = [street("r", [(0.0, 0.0), (200.0, 0.0)], "footway")]
    park = Area("p", shapely.box(100.0, offset_m, 200.0, offset_m + 100.0), "park")
    walk = walk_to_park_m(city_of(path, [park]), shapely.points([[0.0, 0.0]]))[0]
    if reached:
        assert walk == pytest.approx(100.0 - np.sqrt(100.0 - offset_m**2) + 10.0, abs=BUFFER_M)
    else:
        assert walk == np.inf


def test_small_parks_count_only_when_they_adjoin() -> None:
    """Two 0.3 ha pieces that share an edge make one 0.6 ha park (≥ 0.5 ha); apart,
    neither qualifies."""
    a, b = shapely.box(0, 0, 60, 50), shapely.box(60, 0, 120, 50)
    far = shapely.box(200, 0, 260, 50)
    assert qualifying([Park("a", a, a), Park("b", b, b)], 5000.0).tolist() == [True, True]
    assert qualifying([Park("a", a, a), Park("c", far, far)], 5000.0).tolist() == [False, False]
    path = [street("r", [(-100.0, -5.0), (300.0, -5.0)], "footway")]
    here = shapely.points([[-100.0, -5.0]])
    adjoining = city_of(path, [Area("a", a, "park"), Area("b", b, "forest")])
    apart = city_of(path, [Area("a", a, "park"), Area("c", far, "park")])
    # Along the path to x = −√(10² − 5²), then 10 m across to the corner (0, 0).
    assert walk_to_park_m(adjoining, here)[0] == pytest.approx(100.0 - np.sqrt(75.0) + 10.0, abs=BUFFER_M)
    assert walk_to_park_m(apart, here)[0] == np.inf


def test_a_small_park_does_not_count() -> None:
    path = [street("r", [(0.0, 0.0), (100.0, 0.0)], "footway")]
    pocket = Area("p", shapely.box(40.0, 0.0, 100.0, 50.0), "park")  # 0.3 ha
    assert walk_to_park_m(city_of(path, [pocket]), shapely.points([[0.0, 0.0]]))[0] == np.inf
    assert walk_to_park_m(city_of(path, [pocket]), shapely.points([[0.0, 0.0]]),
                          GreenParams(min_park_ha=0.25))[0] == 40.0


def test_homes_do_not_join_a_stray_fragment() -> None:
    """A footway mapped without its connections is not where a home joins the network."""
    xs = [float(x) for x in range(0, 201, 20)]
    stray = street("stray", [(105.0, 105.0), (115.0, 105.0)], "footway")
    city = city_of(manhattan(xs, xs, False) + [stray], [Area("p", shapely.box(-100, 0, 0, 100), "park")])
    network = build_walk_network(city.roads)
    where = snap(network, shapely.points([[110.0, 106.0]]))
    assert where.gap_m[0] == pytest.approx(6.0)   # to the street at y = 100, not the stray piece 1 m away
    assert walk_to_park_m(city, shapely.points([[110.0, 106.0]]))[0] == pytest.approx(6.0 + 110.0)


def test_same_roads_ignores_traffic_but_not_geometry() -> None:
    roads = manhattan([0.0, 50.0], [0.0, 50.0], True)
    network = build_walk_network(roads)
    from dataclasses import replace
    calmer = [replace(r, maxspeed_kmh=20.0) for r in roads]
    assert same_roads(network, calmer)
    moved = [*roads[:-1], replace(roads[-1], geometry=shapely.LineString([(0, 51), (50, 51)]))]
    assert not same_roads(network, moved)
    assert not same_roads(network, roads[:-1])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 120), min_size=1, max_size=6), st.lists(st.integers(0, 120), min_size=1, max_size=6),
       st.lists(st.floats(0.0, 50.0), min_size=12, max_size=12))
def test_two_searches_and_a_minimum_equal_one_search(a: list[int], b: list[int], weights: list[float]) -> None:
    """The incremental park update relies on min(search from A, search from B) being the
    search from A ∪ B bit for bit (not merely within a tolerance)."""
    rng = np.random.default_rng(len(a) * 7 + len(b))
    xs = np.cumsum(rng.uniform(3.0, 17.0, 11)).round(3).tolist()
    network = build_walk_network(manhattan(xs, xs, False))
    n = len(network.xy)
    na, nb = np.array(a) % n, np.array(b) % n
    wa, wb = np.array(weights[:len(a)]), np.array(weights[6:6 + len(b)])
    both = node_distances(network, np.concatenate([na, nb]), np.concatenate([wa, wb]), np.inf)
    apart = np.minimum(node_distances(network, na, wa, np.inf), node_distances(network, nb, wb, np.inf))
    assert np.array_equal(both, apart)


def test_entries_of_a_park_a_path_crosses() -> None:
    network = build_walk_network([street("r", [(0.0, 0.0), (100.0, 0.0)], "footway")])
    found = entries(network, shapely.box(30.0, -10.0, 70.0, 10.0), 10.0)
    ends = dict(zip(network.xy[found.node, 0].tolist(), found.node_m.tolist(), strict=True))
    assert ends == {0.0: 30.0, 100.0: 30.0}
