"""The wall's basemap from a real city package: layers, triangles, attribution, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from game.wall.basemap import LAYERS, find_city, load_basemap, triangulate
from multiplayer.errors import MultiplayerError
from multiplayer.workshop import spec_from_scenario
from world.frame import LocalFrame
from world.package import read_metadata
from world.scenario import load_scenario


@pytest.fixture(scope="module")
def area_m(helsinki_package: Path) -> tuple[float, float, float, float]:
    """The helsinki-centre workshop's area in the package's local metres (as the state has it)."""
    meta = read_metadata(helsinki_package)
    frame = LocalFrame(meta["crs"], *(float(v) for v in meta["origin_m"]))
    return spec_from_scenario(load_scenario("helsinki-centre"), frame).area_m


@pytest.fixture(scope="module")
def basemap(helsinki_package: Path, area_m: tuple[float, float, float, float]):
    return load_basemap(helsinki_package, area_m)


def _triangle_areas(triangles: np.ndarray) -> np.ndarray:
    a, b, c = (triangles[:, i, :].astype(np.float64) for i in range(3))
    return np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) / 2.0


def test_every_layer_has_shapes_inside_the_area(basemap, area_m) -> None:
    assert tuple(basemap.shapes) == LAYERS
    area = shapely.box(*area_m).buffer(1e-6)
    for layer in LAYERS:
        shapes = basemap.shapes[layer]
        assert shapes, layer
        assert all(isinstance(s, shapely.Polygon) and s.is_valid and not s.is_empty for s in shapes), layer
        assert all(area.contains(s) for s in shapes), layer
    # Helsinki's centre is mostly streets and buildings; both cover well over a tenth of the square km.
    assert basemap.area_of("building") > 100_000 and basemap.area_of("road") > 100_000
    assert basemap.area_m == tuple(area_m)


def test_triangles_cover_the_shapes_and_stay_inside(basemap, area_m) -> None:
    min_x, min_y, max_x, max_y = area_m
    for layer in LAYERS:
        triangles = basemap.triangles(layer)
        assert triangles.dtype == np.float32 and triangles.ndim == 3 and triangles.shape[1:] == (3, 2), layer
        assert len(triangles) > 0, layer
        assert _triangle_areas(triangles).sum() == pytest.approx(basemap.area_of(layer), rel=0.01), layer
        tol = 1e-3  # float32 rounding of local metres
        assert triangles[..., 0].min() >= min_x - tol and triangles[..., 0].max() <= max_x + tol, layer
        assert triangles[..., 1].min() >= min_y - tol and triangles[..., 1].max() <= max_y + tol, layer
        assert basemap.triangles(layer) is triangles  # cached


def test_triangles_lie_inside_their_shapes(basemap) -> None:
    # The centroid of every triangle lies in the layer (holes such as courtyards stay open).
    for layer in ("green", "building"):
        union = shapely.union_all(basemap.shapes[layer]).buffer(0.05)
        centroids = basemap.triangles(layer).astype(np.float64).mean(axis=1)
        assert shapely.contains_xy(union, centroids[:, 0], centroids[:, 1]).all(), layer


def test_triangulate_keeps_holes() -> None:
    ring = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6))
    triangles = triangulate([ring])
    assert _triangle_areas(triangles).sum() == pytest.approx(96.0)
    centroids = triangles.mean(axis=1)
    assert not shapely.contains_xy(shapely.box(4, 4, 6, 6), centroids[:, 0], centroids[:, 1]).any()
    assert triangulate([]).shape == (0, 3, 2)


def test_attribution_names_openstreetmap(basemap) -> None:
    assert any("OpenStreetMap" in line for line in basemap.attribution)


def test_no_city_gives_an_empty_map() -> None:
    empty = load_basemap(None, [-500, -500, 500, 500])
    assert empty.area_m == (-500.0, -500.0, 500.0, 500.0) and empty.attribution == ()
    assert all(empty.shapes[layer] == [] and empty.triangles(layer).shape == (0, 3, 2) for layer in LAYERS)


def test_bad_folders_and_areas_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(MultiplayerError, match="not a city package"):
        load_basemap(tmp_path, [0, 0, 1, 1])
    with pytest.raises(MultiplayerError, match="not min_x, min_y, max_x, max_y"):
        load_basemap(None, [1, 1, 0, 0])


def test_find_city(helsinki_package: Path, tmp_path: Path) -> None:
    (tmp_path / "helsinki").symlink_to(helsinki_package, target_is_directory=True)
    assert find_city("helsinki-centre", (tmp_path,)) == tmp_path / "helsinki"
    assert find_city("helsinki-centre", (tmp_path / "nothing",)) is None
    assert find_city("no-such-scenario", (tmp_path,)) is None
