"""Tests for game.kiosk.models: every catalog model builds, fits its geometry, and ghosts.

NodePath and Geom only: no window, no ShowBase.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from panda3d.core import DepthWriteAttrib, GeomNode, NodePath, TransparencyAttrib

from game.kiosk.models import MODELS, ModelError, build_model, ghost, selection_ring
from world.catalog import load_catalog

CATALOG = load_catalog()
POINT = shapely.Point(100.0, 200.0)
LINE = shapely.LineString([(0.0, 0.0), (30.0, 4.0), (48.0, 20.0)])
AREA = shapely.Polygon([(10.0, 10.0), (40.0, 10.0), (44.0, 30.0), (20.0, 36.0), (6.0, 24.0)],
                       [[(20.0, 20.0), (24.0, 20.0), (24.0, 24.0), (20.0, 24.0)]])
ROOF = shapely.box(50.0, 50.0, 70.0, 62.0)
GEOMETRY = {"point": POINT, "line": LINE, "area": AREA, "building-edit": ROOF}
ROOF_Z_M = 12.0


def _build(entry_id: str, geometry: shapely.Geometry | None = None, **kwargs: object) -> NodePath:
    entry = CATALOG[entry_id]
    kwargs.setdefault("roof_z_m", ROOF_Z_M)
    return build_model(entry, geometry if geometry is not None else GEOMETRY[entry.kind], **kwargs)  # type: ignore[arg-type]


def _bounds(node: NodePath) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = node.get_tight_bounds()
    return np.array(lo), np.array(hi)


def _arrays(node: NodePath) -> tuple[np.ndarray, np.ndarray]:
    """Positions and normals (n, 3) of the model's single Geom, in the node's own space."""
    geom = node.node().get_geom(0)
    vdata = geom.get_vertex_data()
    positions, normals = (np.frombuffer(vdata.get_array(i).get_handle().get_data(), np.float32).reshape(-1, 3)
                          for i in (0, 1))
    return positions, normals


@pytest.mark.parametrize("entry_id", CATALOG.ids())
def test_every_entry_builds_one_nonempty_geom(entry_id: str) -> None:
    node = _build(entry_id)
    assert node.get_parent().is_empty(), "a new, unattached NodePath"
    nodes = [node.node()] + [p.node() for p in node.find_all_matches("**/+GeomNode")]
    geoms = [n.get_geom(i) for n in nodes if isinstance(n, GeomNode) for i in range(n.get_num_geoms())]
    assert len(geoms) == 1
    assert geoms[0].get_primitive(0).get_num_vertices() >= 12
    positions, normals = _arrays(node)
    assert np.isfinite(positions).all()
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-4)
    assert node.get_tag("catalog") == entry_id


@pytest.mark.parametrize("entry_id", ["tree-small", "tree-medium", "tree-large"])
def test_tree_height_and_crown_match_the_effect(entry_id: str) -> None:
    effect = CATALOG[entry_id].effect
    lo, hi = _bounds(_build(entry_id))
    assert hi[2] == pytest.approx(effect["height_m"], rel=0.05)
    assert lo[2] == pytest.approx(0.0, abs=0.01)
    crown_m = max(hi[0] - lo[0], hi[1] - lo[1])
    assert crown_m == pytest.approx(2.0 * effect["canopy_radius_m"], rel=0.1)
    assert (lo[:2] < [POINT.x, POINT.y]).all() and (hi[:2] > [POINT.x, POINT.y]).all()


def test_tree_params_override_the_catalog_effect() -> None:
    lo, hi = _bounds(_build("tree-medium", params={"height_m": 7.0, "canopy_radius_m": 2.5}))
    assert hi[2] == pytest.approx(7.0, rel=0.05)
    assert hi[0] - lo[0] == pytest.approx(5.0, rel=0.1)


@pytest.mark.parametrize(("rotation_deg", "axis"), [(0.0, 0), (90.0, 1)])
def test_bench_is_1_8_m_long_along_its_rotation(rotation_deg: float, axis: int) -> None:
    lo, hi = _bounds(_build("bench", rotation_deg=rotation_deg))
    assert hi[axis] - lo[axis] == pytest.approx(1.8, rel=0.02)
    assert hi[1 - axis] - lo[1 - axis] < 0.8
    assert 0.8 < hi[2] < 1.0, "a back about 85 cm high"


def test_rotation_turns_point_models_only() -> None:
    assert _build("bench", rotation_deg=30.0).get_h() == pytest.approx(30.0)
    assert _bounds(_build("park", rotation_deg=30.0))[0] == pytest.approx(_bounds(_build("park"))[0])


@pytest.mark.parametrize("entry_id", ["park", "play-area", "permeable-paving", "rain-garden", "new-building",
                                      "green-roof", "remove-building"])
def test_area_models_cover_their_polygon(entry_id: str) -> None:
    geometry = GEOMETRY[CATALOG[entry_id].kind]
    lo, hi = _bounds(_build(entry_id))
    min_x, min_y, max_x, max_y = geometry.bounds
    slack_m = CATALOG[entry_id].effect.get("tree_canopy_radius_m", 0.05)  # park trees may overhang the edge
    assert lo[0] == pytest.approx(min_x, abs=slack_m) and lo[1] == pytest.approx(min_y, abs=slack_m)
    assert hi[0] == pytest.approx(max_x, abs=slack_m) and hi[1] == pytest.approx(max_y, abs=slack_m)


def test_heights_of_buildings_barriers_and_roofs() -> None:
    lo, hi = _bounds(_build("new-building"))
    assert (lo[2], hi[2]) == (pytest.approx(0.0, abs=1e-6), pytest.approx(CATALOG["new-building"].effect["height_m"]))
    lo, hi = _bounds(_build("new-building", params={"height_m": 24.0}, ground_z_m=2.0))
    assert (lo[2], hi[2]) == (pytest.approx(2.0, abs=1e-5), pytest.approx(26.0))
    lo, hi = _bounds(_build("noise-barrier"))
    assert hi[2] == pytest.approx(CATALOG["noise-barrier"].effect["height_m"], rel=0.05)
    assert lo[2] == pytest.approx(0.0, abs=1e-6)
    lo, hi = _bounds(_build("green-roof"))
    assert lo[2] >= ROOF_Z_M and hi[2] <= ROOF_Z_M + 0.2


def test_park_plants_the_trees_the_simulation_plants() -> None:
    from world.interventions import park_tree_points

    effect = CATALOG["park"].effect
    big = shapely.box(0.0, 0.0, 60.0, 40.0)
    expected = len(park_tree_points(big, effect["trees_per_ha"]))
    positions, _ = _arrays(_build("park", big))
    crown_top = positions[:, 2] > effect["tree_height_m"] - 0.05
    assert expected > 1
    # Every tree's crown has one apex, at the tree's full height.
    assert len(np.unique(np.round(positions[crown_top, :2], 1), axis=0)) == expected


@pytest.mark.parametrize("entry_id", ["bike-lane", "traffic-calming", "noise-barrier"])
def test_line_models_follow_their_line(entry_id: str) -> None:
    lo, hi = _bounds(_build(entry_id))
    min_x, min_y, max_x, max_y = LINE.bounds
    margin_m = 3.5  # the widest: a raised table spans 6 m across the road
    assert (lo[:2] >= [min_x - margin_m, min_y - margin_m]).all()
    assert (hi[:2] <= [max_x + margin_m, max_y + margin_m]).all()
    assert hi[0] - lo[0] > 0.5 * (max_x - min_x) and hi[1] - lo[1] > 0.5 * (max_y - min_y)


def test_bike_lane_is_a_painted_strip_with_marks() -> None:
    straight = shapely.LineString([(0.0, 0.0), (40.0, 0.0)])
    node = _build("bike-lane", straight)
    lo, hi = _bounds(node)
    assert hi[1] - lo[1] == pytest.approx(CATALOG["bike-lane"].effect.get("width_m", 1.8), abs=0.01)
    assert lo[0] == pytest.approx(0.0, abs=0.01) and hi[0] == pytest.approx(40.0, abs=0.01)
    positions, _ = _arrays(node)
    assert hi[2] - lo[2] < 0.05, "flat paint"
    assert len(positions) > 200, "bicycle marks every 10 m"


@pytest.mark.parametrize("entry_id", ["permeable-paving", "remove-building", "bike-lane"])
def test_flat_models_face_up(entry_id: str) -> None:
    _, normals = _arrays(_build(entry_id))
    assert (normals[:, 2] > 0.99).all()


def test_ground_height_lifts_the_model() -> None:
    lo, _ = _bounds(_build("tree-small", ground_z_m=5.0))
    assert lo[2] == pytest.approx(5.0, abs=1e-5)
    node = _build("permeable-paving", ground_z_m=-3.0)
    assert node.get_z() == pytest.approx(-3.0)
    assert _bounds(node)[0][2] > -3.0, "ground parts sit above the tiles' land-cover layers"


def test_a_green_roof_without_a_roof_height_lies_on_the_ground() -> None:
    lo, hi = _bounds(_build("green-roof", roof_z_m=None))
    assert lo[2] >= 0.0 and hi[2] < 0.2


def test_errors_name_the_problem() -> None:
    from dataclasses import replace

    with pytest.raises(ModelError, match=r"no 3D model .* 'gazebo'"):
        build_model(replace(CATALOG["bench"], model="gazebo"), POINT)
    with pytest.raises(ModelError, match="tree-small"):
        build_model(CATALOG["tree-small"], AREA)
    with pytest.raises(ModelError, match="height_m"):
        build_model(CATALOG["noise-barrier"], LINE, {"height_m": -1.0})
    assert set(MODELS) >= {entry.model for entry in CATALOG}


@pytest.mark.parametrize("ok", [True, False])
def test_ghost_is_a_translucent_tinted_preview(ok: bool) -> None:
    node = _build("tree-medium")
    ghost(node, ok)
    assert node.get_transparency() == TransparencyAttrib.M_alpha
    attrib = node.get_state().get_attrib(DepthWriteAttrib)
    assert attrib is not None and attrib.get_mode() == DepthWriteAttrib.M_off
    assert node.get_bin_name() == "transparent"
    scale = node.get_color_scale()
    assert scale[3] < 1.0
    assert (scale[1] > scale[0]) == ok, "green when it may go there, red when refused"
    ghost(node, not ok)
    assert (node.get_color_scale()[1] > node.get_color_scale()[0]) == (not ok)


def test_selection_ring_circles_a_point_and_outlines_an_area() -> None:
    ring = selection_ring(POINT, 3.0)
    lo, hi = _bounds(ring)
    np.testing.assert_allclose(lo[:2], [POINT.x - 3.0, POINT.y - 3.0], atol=0.05)
    np.testing.assert_allclose(hi[:2], [POINT.x + 3.0, POINT.y + 3.0], atol=0.05)
    positions, _ = _arrays(ring)
    radius = np.hypot(positions[:, 0], positions[:, 1])
    assert radius.min() > 2.0, "a ring, not a disc"
    lo, hi = _bounds(selection_ring(ROOF, 1.0, ground_z_m=2.0))
    np.testing.assert_allclose(lo[:2], [49.0, 49.0], atol=0.05)
    assert lo[2] > 2.0
    assert math.isclose(hi[0], 71.0, abs_tol=0.05)
