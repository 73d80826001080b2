"""Meshing: exact volumes and areas, outward normals, tiles that add up."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from world.city import Surface, Volume
from world.mesh import MeshSoup, extrude_volumes, split_by_tile, triangulate
from world.mesh import _surfaces as surfaces_mesh

_GREY = (128, 128, 128, 255)


@st.composite
def footprints(draw: st.DrawFn) -> shapely.Polygon:
    """Random star-shaped (often concave) polygons, sometimes with a hole."""
    n = draw(st.integers(3, 14))
    radii = draw(st.lists(st.floats(4.0, 30.0), min_size=n, max_size=n))
    angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    shell = np.column_stack([np.cos(angles) * radii, np.sin(angles) * radii])
    polygon = shapely.Polygon(shell)
    if draw(st.booleans()):
        hole = shapely.Point(0.0, 0.0).buffer(min(radii) * 0.4, quad_segs=3)
        polygon = shapely.Polygon(shell, [hole.exterior.coords])
    assume(polygon.is_valid and polygon.area > 1.0)
    return polygon


@settings(max_examples=150, deadline=None)
@given(footprint=footprints(), height=st.floats(2.0, 80.0), base=st.sampled_from([0.0, 3.0]))
def test_extruded_volume_is_area_times_height(footprint: shapely.Polygon, height: float, base: float) -> None:
    top = base + height
    soup = extrude_volumes([Volume(footprint, base, top)], [0], [_GREY], [_GREY])
    # Raised volumes are closed (floor included); ground ones are closed by z = 0.
    assert soup.volume_m3() == pytest.approx(footprint.area * height, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(footprint=footprints())
def test_triangulation_covers_the_polygon_exactly(footprint: shapely.Polygon) -> None:
    xy, owner = triangulate(np.array([footprint], dtype=object))
    assert (owner == 0).all()
    cross = ((xy[:, 1, 0] - xy[:, 0, 0]) * (xy[:, 2, 1] - xy[:, 0, 1])
             - (xy[:, 1, 1] - xy[:, 0, 1]) * (xy[:, 2, 0] - xy[:, 0, 0]))
    assert (cross > 0).all(), "every triangle is counter-clockwise (faces up)"
    assert cross.sum() / 2.0 == pytest.approx(footprint.area, rel=1e-9)


def test_wall_normals_point_out_of_the_solid() -> None:
    footprint = shapely.Polygon([(0, 0), (20, 0), (20, 20), (10, 8), (0, 20)], [[(4, 2), (4, 5), (7, 5), (7, 2)]])
    soup = extrude_volumes([Volume(footprint, 0.0, 10.0)], [0], [_GREY], [_GREY])
    walls = np.abs(soup.normals[:, 2]) < 1e-6
    # Walls are quads of four consecutive vertices: probe just outside each one's centre.
    centre = soup.positions[walls].reshape(-1, 4, 3).mean(axis=1)[:, :2]
    probe = centre + soup.normals[walls][::4, :2] * 0.05
    inside = shapely.contains_xy(footprint, probe[:, 0], probe[:, 1])
    assert not inside.any()
    roofs = soup.normals[:, 2] > 0.5
    assert np.allclose(soup.positions[roofs][:, 2], 10.0)


def _cube_surfaces(size: float) -> list[Surface]:
    """A closed cube as six outward, counter-clockwise surfaces (CityJSON convention)."""
    s = size
    v = np.array([[0, 0, 0], [s, 0, 0], [s, s, 0], [0, s, 0], [0, 0, s], [s, 0, s], [s, s, s], [0, s, s]], float)
    faces = {"ground": [0, 3, 2, 1], "roof": [4, 5, 6, 7], "wall": [0, 1, 5, 4]}
    rings = [("ground", faces["ground"]), ("roof", faces["roof"]), ("wall", [0, 1, 5, 4]),
             ("wall", [1, 2, 6, 5]), ("wall", [2, 3, 7, 6]), ("wall", [3, 0, 4, 7])]
    return [Surface(kind, (v[idx],)) for kind, idx in rings]  # type: ignore[arg-type]


def test_surfaces_keep_their_shape_and_orientation() -> None:
    soup = surfaces_mesh(_cube_surfaces(3.0), [0] * 6, [_GREY] * 6)
    assert len(soup.triangles) == 12
    assert soup.volume_m3() == pytest.approx(27.0, rel=1e-12)
    # A gable roof: a 10 × 6 box 4 m high with a 3 m ridge along x; prism volume 10·6·3/2.
    ridge = [Surface("roof", (np.array([[0, 0, 4], [10, 0, 4], [10, 3, 7], [0, 3, 7]], float),)),
             Surface("roof", (np.array([[10, 6, 4], [0, 6, 4], [0, 3, 7], [10, 3, 7]], float),))]
    soup = surfaces_mesh(ridge, [0, 0], [_GREY, _GREY])
    z = soup.positions[:, 2]
    assert z.min() == pytest.approx(4.0) and z.max() == pytest.approx(7.0), "the roof stays sloped"
    assert (soup.normals[:, 2] > 0).all()


def test_split_by_tile_keeps_every_triangle() -> None:
    boxes = [shapely.box(i * 30.0, 0.0, i * 30.0 + 10.0, 10.0) for i in range(6)]
    soup = extrude_volumes([Volume(b, 0.0, 5.0 + i) for i, b in enumerate(boxes)], list(range(6)),
                           [_GREY] * 6, [_GREY] * 6)
    tile_of_feature = np.array([0, 1, 0, 2, 1, 0])
    tiles = split_by_tile(soup, tile_of_feature, 3)
    assert sum(len(t.triangles) for t in tiles) == len(soup.triangles)
    for tile_index, tile in enumerate(tiles):
        assert set(np.unique(tile.features)) == set(np.flatnonzero(tile_of_feature == tile_index))
        assert tile.triangles.min() >= 0 and tile.triangles.max() < tile.vertex_count
        for feature in np.unique(tile.features):
            assert tile.volume_m3(int(feature)) == pytest.approx(soup.volume_m3(int(feature)))
    merged = MeshSoup.concat(tiles)
    assert merged.volume_m3() == pytest.approx(soup.volume_m3())
