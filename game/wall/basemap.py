"""The wall's map underlay: water, green, roads and buildings of the workshop's area.

Read straight from the city package's feature store (``features.sqlite``) through its
R*-tree, so only the features of the workshop's area (1 km² of a 1.7 km² package for
Helsinki) are decoded. Each layer is a list of polygons in local metres, clipped to the
area and simplified by :data:`SIMPLIFY_M` so the wall stays fast; :meth:`Basemap.triangles`
turns a layer into triangles (constrained Delaunay, holes kept) for one GPU draw call.
No arcade here: the report builder draws the same shapes into SVG.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from multiplayer.errors import MultiplayerError
from world.errors import WorldError
from world.package import read_metadata
from world.scenario import load_scenario

__all__ = ["GREEN_CLASSES", "LAYERS", "SIMPLIFY_M", "WATER_CLASSES", "Basemap", "find_city", "load_basemap",
           "triangulate"]

#: Draw order, bottom first.
LAYERS = ("water", "green", "road", "building")
#: Land-cover classes (``world.osm_tags.AREA_RULES``) drawn as water and as green.
WATER_CLASSES = frozenset({"water"})
GREEN_CLASSES = frozenset({"park", "grass", "forest", "garden", "meadow", "scrub", "cemetery"})
#: Paved open space drawn with the roads: squares and pedestrian areas.
_PAVED_CLASSES = frozenset({"plaza"})
#: Douglas–Peucker tolerance: far below a pixel of a 1 km map on a 1080p wall (~1 m).
SIMPLIFY_M = 0.5
#: Width of a road with none stored (a footway).
_DEFAULT_ROAD_WIDTH_M = 2.0

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Basemap:
    """The map of one area: polygons per layer and the data's attribution."""

    area_m: Box
    shapes: dict[str, list[shapely.Geometry]]
    attribution: tuple[str, ...] = ()
    _triangles: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def triangles(self, layer: str) -> np.ndarray:
        """Layer ``layer`` as float32 triangles ``(N, 3, 2)`` in local metres (computed once)."""
        if layer not in self.shapes:
            raise KeyError(f"the basemap has no layer {layer!r}; its layers are {', '.join(self.shapes)}.")
        cached = self._triangles.get(layer)
        if cached is None:
            cached = self._triangles[layer] = triangulate(self.shapes[layer])
        return cached

    def area_of(self, layer: str) -> float:
        """Total area of a layer's shapes in m²."""
        return float(sum(shape.area for shape in self.shapes.get(layer, [])))


def triangulate(shapes: Iterable[shapely.Geometry]) -> np.ndarray:
    """Triangles ``(N, 3, 2)`` float32 covering ``shapes`` (polygons, holes respected)."""
    parts: list[np.ndarray] = []
    for shape in shapes:
        for polygon in _polygons(shape):
            triangles = shapely.get_parts(shapely.constrained_delaunay_triangles(polygon))
            if len(triangles) == 0:
                continue
            # Each triangle is a closed ring of four points: keep the first three.
            coords = shapely.get_coordinates(shapely.get_exterior_ring(triangles))
            parts.append(coords.reshape(len(triangles), 4, 2)[:, :3, :])
    if not parts:
        return np.zeros((0, 3, 2), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32)


def _polygons(shape: shapely.Geometry) -> list[shapely.Polygon]:
    """The non-empty polygons in ``shape`` (collections flattened, lines and points dropped)."""
    if isinstance(shape, shapely.Polygon):
        return [shape] if not shape.is_empty and shape.area > 0.0 else []
    if isinstance(shape, shapely.MultiPolygon | shapely.GeometryCollection):
        return [polygon for part in shapely.get_parts(shape) for polygon in _polygons(part)]
    return []


def _layer_of(kind: str, cls: str) -> str | None:
    if kind == "building":
        return "building"
    if kind == "road":
        return "road"
    if kind == "area":
        if cls in WATER_CLASSES:
            return "water"
        if cls in GREEN_CLASSES:
            return "green"
        if cls in _PAVED_CLASSES:
            return "road"
    return None


def _road_outline(geometry: shapely.Geometry, props: str | None) -> shapely.Geometry:
    """A road's paved area: its centreline buffered by half its width, flat ends (as
    ``world.city.Road.outline``); surfaces (CityJSON roads) as they are."""
    if not isinstance(geometry, shapely.LineString | shapely.MultiLineString):
        return geometry
    try:
        width_m = float(json.loads(props or "{}").get("width_m") or _DEFAULT_ROAD_WIDTH_M)
    except (ValueError, TypeError, AttributeError):
        width_m = _DEFAULT_ROAD_WIDTH_M
    return shapely.buffer(geometry, width_m / 2.0, cap_style="flat", join_style="round")


def _read_features(store: Path, area_m: Box) -> list[tuple[str, str, bytes, str | None]]:
    min_x, min_y, max_x, max_y = area_m
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            return conn.execute(
                "SELECT f.kind, f.class, f.geometry, f.props FROM features AS f "
                "JOIN features_rtree AS r ON f.rowid = r.fid "
                "WHERE r.max_x >= ? AND r.min_x <= ? AND r.max_y >= ? AND r.min_y <= ? AND f.kind != 'tree' "
                "ORDER BY f.rowid", (min_x, max_x, min_y, max_y)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise MultiplayerError(f"{store} is not a readable feature store ({exc}).") from None


def _layer_shapes(geometries: Sequence[shapely.Geometry], area: shapely.Polygon) -> list[shapely.Geometry]:
    """One layer's geometries unioned, clipped to ``area``, simplified, as polygons."""
    if not geometries:
        return []
    valid = shapely.make_valid(np.asarray(geometries, dtype=object))
    merged = shapely.intersection(shapely.union_all(valid), area)
    simplified = shapely.simplify(merged, SIMPLIFY_M, preserve_topology=True)
    return [p for p in _polygons(simplified) if p.area >= 0.01]


def load_basemap(city_dir: Path | None, area_m: Sequence[float]) -> Basemap:
    """The basemap of ``area_m`` (local metres) from the city package ``city_dir``;
    with None, an empty map of just the area. A folder that is not a city package
    raises :class:`MultiplayerError` (one sentence)."""
    box: Box = tuple(float(v) for v in area_m)  # type: ignore[assignment]
    if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]):
        raise MultiplayerError(f"the map area {list(area_m)} is not min_x, min_y, max_x, max_y in metres.")
    if city_dir is None:
        return Basemap(box, {layer: [] for layer in LAYERS}, ())
    city_dir = Path(city_dir)
    try:
        meta = read_metadata(city_dir)
    except WorldError as exc:
        raise MultiplayerError(f"{exc}".rstrip(".") + "; pass the folder 'civictwin build-city' wrote.") from None
    store = city_dir / str(meta.get("feature_store", "features.sqlite"))
    if not store.is_file():
        raise MultiplayerError(f"{store}: the city package's feature store is missing; rebuild it with "
                               "'civictwin build-city'.")
    by_layer: dict[str, list[shapely.Geometry]] = {layer: [] for layer in LAYERS}
    for kind, cls, wkb, props in _read_features(store, box):
        layer = _layer_of(kind, cls or "")
        if layer is None:
            continue
        geometry = shapely.from_wkb(wkb)
        by_layer[layer].append(_road_outline(geometry, props) if kind == "road" else geometry)
    area = shapely.box(*box)
    shapes = {layer: _layer_shapes(geometries, area) for layer, geometries in by_layer.items()}
    attribution = tuple(str(a) for a in meta.get("attribution", []) if a)
    return Basemap(box, shapes, attribution)


#: Where ``make run`` builds city packages: ``build/`` of the working folder, then of this checkout.
BUILD_FOLDERS = (Path("build"), Path(__file__).resolve().parents[2] / "build")


def find_city(scenario: str, search: Sequence[Path] = BUILD_FOLDERS) -> Path | None:
    """The built city package for ``scenario``'s city (``build/helsinki`` for
    helsinki-centre) under one of the ``search`` folders, or None."""
    names: list[str] = []
    with contextlib.suppress(WorldError, OSError, ValueError):
        names.append(load_scenario(scenario).city)
    names.append(scenario)
    for folder in search:
        for name in names:
            candidate = Path(folder) / name
            if (candidate / "city.json").is_file():
                return candidate
    return None
