"""The noise simulation's path machinery: screening on rasters, the fast kernel against the
dB reference, path–box crossing, and the source tree."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sims._cnossos_propagation import air_absorption_db_per_km
from sims._noise_kernel import attenuation_factors
from sims._noise_screening import Screen, obstacles, screen
from sims._noise_sources import SOURCE_HEIGHT_M, build_sources, pairs
from sims._noise_update import crossing
from sims.noise import path_attenuation_db
from world.city import Barrier, City, Road
from world.frame import LocalFrame
from world.raster import Grids, LandCover, road_segments

#: float32 per-band arithmetic in the kernel: relative error ~1e-6, i.e. < 1e-3 dB.
KERNEL_TOL_DB = 1e-3
#: Raster screening puts edges on sample centres: half a cell off, 0.5 m cells here.
EDGE_TOL_M = 0.5


def _grids(origin: tuple[float, float], cell_m: float, rows: int, cols: int) -> Grids:
    return Grids.empty(origin, cell_m, rows, cols)


def _building(grids: Grids, box: tuple[float, float, float, float], height_m: float) -> None:
    rows, cols = grids.window_of(box)
    grids.building_m[rows, cols] = height_m
    grids.landcover[rows, cols] = LandCover.BUILDING
    grids.building_id[rows, cols] = 0


def _screen_one(grids: Grids, source: tuple[float, float], receiver: tuple[float, float, float],
                barriers: list | None = None) -> Screen:
    return screen(obstacles(grids, barriers or []), np.array([source], float), np.array([SOURCE_HEIGHT_M]),
                  np.array([receiver[:2]], float), np.array([receiver[2]]))


def test_tc10_cube_found_on_a_raster() -> None:
    """ISO/TR 17534-4 TC10's 10 m cube on a 0.5 m raster: edges at 5 and 15 m, and A_dif
    within 0.3 dB of the exact geometry (edges move by up to half a cell)."""
    g = _grids((45.0, 20.0), 0.5, 40, 60)
    _building(g, (55.0, 5.0, 65.0, 15.0), 10.0)
    sc = screen(obstacles(g, []), np.array([[50.0, 10.0]]), np.array([1.0]), np.array([[70.0, 10.0]]),
                np.array([4.0]))
    assert bool(sc.edge[0])
    assert float(sc.t1_m[0]) == pytest.approx(5.0, abs=EDGE_TOL_M)
    assert float(sc.t2_m[0]) == pytest.approx(15.0, abs=EDGE_TOL_M)
    assert float(sc.h1_m[0]) == float(sc.h2_m[0]) == 10.0
    raster = path_attenuation_db(20.0, 1.0, 4.0, 0.5, edges=(sc.t1_m, sc.h1_m, sc.t2_m, sc.h2_m, 0.5, 0.5))
    exact = path_attenuation_db(20.0, 1.0, 4.0, 0.5, edges=(5.0, 10.0, 15.0, 10.0, 0.5, 0.5))
    np.testing.assert_allclose(raster.a_dif_h, exact.a_dif_h, atol=0.3)


def test_barrier_crossing_is_exact() -> None:
    """TC07's thin wall, as a Barrier: the edge is the crossing, 170.23 m from the source."""
    g = _grids((0.0, 260.0), 2.0, 130, 110)
    wall = Barrier("w", shapely.LineString([(100.0, 240.0), (265.0, -180.0)]), 6.0)
    sc = _screen_one(g, (10.0, 10.0), (200.0, 50.0, 4.0), [wall])
    assert bool(sc.edge[0])
    assert float(sc.t1_m[0]) == pytest.approx(170.23, abs=0.01)
    assert float(sc.t2_m[0]) == pytest.approx(170.23, abs=0.01)
    assert float(sc.h1_m[0]) == 6.0


def test_open_path_and_ground_factor() -> None:
    """No obstacle: no edge; G_path is the share of soft cells (grass on half the path)."""
    g = _grids((0.0, 20.0), 2.0, 10, 100)
    g.landcover[:, 50:] = LandCover.GRASS
    sc = _screen_one(g, (1.0, 10.0), (199.0, 10.0, 4.0))
    assert not bool(sc.edge[0])
    assert float(sc.g_path[0]) == pytest.approx(0.5, abs=0.03)


def test_facade_receiver_is_not_screened_by_its_own_wall() -> None:
    """A receiver 0.1 m in front of a wall hears the road in front of it in the open, and
    the road behind the building over its roof."""
    g = _grids((0.0, 60.0), 2.0, 30, 30)
    _building(g, (20.0, 20.0, 40.0, 40.0), 15.0)
    in_front = _screen_one(g, (30.0, 5.0), (30.0, 19.9, 4.0))
    behind = _screen_one(g, (30.0, 55.0), (30.0, 19.9, 4.0))
    assert not bool(in_front.edge[0])
    assert bool(behind.edge[0]) and float(behind.h1_m[0]) == 15.0


def test_low_obstacle_under_the_line_gives_partial_diffraction() -> None:
    """A 1.7 m kiosk 0.35 m under a line of sight from 0.05 m to 4 m is kept as a partial
    edge; diffraction applies only in the bands where 40/λ·δ ≥ −2 (the low ones)."""
    g = _grids((0.0, 20.0), 0.5, 40, 120)
    _building(g, (30.0, 9.0, 31.0, 11.0), 1.7)
    sc = _screen_one(g, (1.0, 10.0), (59.0, 10.0, 4.0))
    assert bool(sc.edge[0])
    a = path_attenuation_db(sc.dp_m, SOURCE_HEIGHT_M, 4.0, 0.0, edges=(sc.t1_m, sc.h1_m, sc.t2_m, sc.h2_m, 0.0, 0.0))
    applies = ~np.isnan(a.a_dif_h[0])
    assert applies[0] and not applies[-1]


# -- the kernel against the dB reference ----------------------------------------------

paths = st.fixed_dictionaries({
    "dp": st.floats(5.0, 250.0), "zr": st.floats(1.5, 20.0), "g": st.sampled_from([0.0, 0.3, 1.0]),
    "edge": st.booleans(), "f1": st.floats(0.05, 0.9), "f2": st.floats(0.0, 1.0),
    "h1": st.floats(0.5, 40.0), "h2": st.floats(0.5, 40.0), "g_so": st.sampled_from([0.0, 0.6]),
    "g_or": st.sampled_from([0.0, 1.0]),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(paths, min_size=1, max_size=12), st.sampled_from([0.0, 0.5]))
def test_kernel_equals_reference(rows: list[dict], g_source: float) -> None:
    """The linear-domain kernel gives 10^(−A/10) of the dB reference (all terms) in both
    conditions, for open, blocked and partially diffracted paths, hard and soft ground."""
    col = {k: np.array([r[k] for r in rows], float) for k in rows[0]}
    dp = col["dp"]
    t1 = col["f1"] * dp
    t2 = t1 + col["f2"] * (0.95 * dp - t1)
    edge = col["edge"].astype(bool)
    h2 = np.where(t2 == t1, col["h1"], col["h2"])
    sc = Screen(dp_m=dp, edge=edge, t1_m=t1, h1_m=col["h1"], t2_m=t2, h2_m=h2, g_path=col["g"],
                g_so=np.where(edge, col["g_so"], col["g"]), g_or=np.where(edge, col["g_or"], col["g"]))
    zs = np.full(len(dp), SOURCE_HEIGHT_M)
    alpha = air_absorption_db_per_km(15.0, 70.0)
    kernel = -10.0 * np.log10(attenuation_factors(sc, zs, col["zr"], g_source, alpha).astype(np.float64))
    for i in range(len(dp)):
        edges = (t1[i], col["h1"][i], t2[i], h2[i], sc.g_so[i], sc.g_or[i]) if edge[i] else None
        ref = path_attenuation_db(dp[i], SOURCE_HEIGHT_M, col["zr"][i], col["g"][i], g_source=g_source, edges=edges)
        np.testing.assert_allclose(kernel[:8, i], ref.a_h[0], atol=KERNEL_TOL_DB)
        np.testing.assert_allclose(kernel[8:, i], ref.a_f[0], atol=KERNEL_TOL_DB)


# -- crossing --------------------------------------------------------------------------

coords = st.floats(-50.0, 50.0)


@settings(max_examples=200, deadline=None)
@given(coords, coords, coords, coords, coords, coords, st.floats(0.1, 30.0), st.floats(0.1, 30.0))
def test_crossing_agrees_with_shapely(x0: float, y0: float, x1: float, y1: float, bx: float, by: float,
                                      w: float, h: float) -> None:
    """Crossing the box (shrunk by 1 µm) implies True; missing it (grown by 1 µm) False:
    segments that only graze the box may go either way."""
    box = (bx, by, bx + w, by + h)
    got = bool(crossing(np.array([[x0, y0]]), np.array([[x1, y1]]), box, np.zeros(1))[0])
    line = shapely.LineString([(x0, y0), (x1, y1)]) if (x0, y0) != (x1, y1) else shapely.Point(x0, y0)
    eps = 1e-6
    if shapely.intersects(line, shapely.box(bx + eps, by + eps, bx + w - eps, by + h - eps)):
        assert got
    if not shapely.intersects(line, shapely.box(bx - eps, by - eps, bx + w + eps, by + h + eps)):
        assert not got


def test_crossing_margin_grows_the_box() -> None:
    start, end = np.array([[0.0, 5.0]]), np.array([[10.0, 5.0]])
    assert not crossing(start, end, (4.0, 0.0, 6.0, 2.0), np.zeros(1))[0]
    assert crossing(start, end, (4.0, 0.0, 6.0, 2.0), np.array([3.5]))[0]


# -- sources ---------------------------------------------------------------------------


def _road_city() -> City:
    roads = [Road("a", shapely.LineString([(-90, 0), (90, 0)]), "primary", "carriageway", 10.0),
             Road("b", shapely.LineString([(0, -90), (0, -5), (30, 60)]), "residential", "carriageway", 6.0),
             Road("c", shapely.LineString([(-60, 40), (-59, 41)]), "service", "carriageway", 4.0)]
    return City("roads", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], roads, [], [], [], [])


@pytest.mark.parametrize("ratio", [0.3, 0.7, 2.0])
def test_pairs_partition_the_roads(ratio: float) -> None:
    """Each receiver hears every piece of road exactly once (through itself or one
    cluster above it) when nothing is out of reach."""
    tree = build_sources(road_segments(_road_city()), (-100.0, -100.0, 100.0, 100.0), 5.0)
    receivers = np.array([[0.0, 3.0, 4.0], [80.0, 80.0, 4.0], [-95.0, -95.0, 1.5]])
    rec, node = pairs(tree, receivers, 1e6, ratio)
    for r in range(len(receivers)):
        used = node[rec == r]
        cover = np.isin(tree.ancestor, used).sum(axis=1)
        assert np.all(cover == 1)


def test_cluster_power_is_the_sum_of_its_pieces() -> None:
    tree = build_sources(road_segments(_road_city()), (-100.0, -100.0, 100.0, 100.0), 5.0)
    power = tree.node_power(tree.length_m[:, None])
    assert np.all(tree.length_m <= 5.0 + 1e-9)
    top = tree.parent < 0
    assert float(power[top].sum()) == pytest.approx(float(tree.length_m.sum()))
    # A child's disc lies inside its parent's, so far parents mean far children.
    child = np.flatnonzero(tree.parent >= 0)
    parent = tree.parent[child]
    reach = np.hypot(*(tree.xy_m[child] - tree.xy_m[parent]).T) + tree.radius_m[child]
    assert np.all(reach <= tree.radius_m[parent] + 1e-9)


def test_near_receivers_hear_fine_pieces_far_ones_clusters() -> None:
    tree = build_sources(road_segments(_road_city()), (-100.0, -100.0, 100.0, 100.0), 5.0)
    rec, node = pairs(tree, np.array([[0.0, 3.0, 4.0], [95.0, 95.0, 4.0]]), 1e6, 0.7)
    near_levels = tree.level[node[rec == 0]]
    far_levels = tree.level[node[rec == 1]]
    assert near_levels.min() == 0 and far_levels.max() > 0
    assert (rec == 1).sum() < (rec == 0).sum()


def test_max_distance_drops_far_sources() -> None:
    tree = build_sources(road_segments(_road_city()), (-100.0, -100.0, 100.0, 100.0), 5.0)
    _, node = pairs(tree, np.array([[0.0, 3.0, 4.0]]), 30.0, 0.7)
    d = np.hypot(*(tree.xy_m[node] - [0.0, 3.0]).T)
    assert len(node) and np.all(np.hypot(d, 4.0 - SOURCE_HEIGHT_M) <= 30.0)
