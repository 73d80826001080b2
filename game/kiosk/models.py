"""The catalog's 3D models, built in code: one Geom of flat-shaded, vertex-coloured triangles each.

A model is a triangle soup assembled in numpy, ``(t, 3, 3)`` corners in metres with one RGBA
colour per triangle, from a few parametric parts: solids of revolution (tree crowns, trunks,
stones), boxes under an affine map (bench slats, posts, panels), flat polygons triangulated by
GEOS (:func:`world.mesh.triangulate`), and painted stripes along lines. Instances of a part
(the trees of a park, the bicycles on a lane) are one broadcast, never a Python loop over
vertices. Face normals come from the winding (counter-clockwise seen from outside), and the
whole soup becomes one Geom through :func:`game.kiosk.geometry.primitive_to_geom`.

Placement: :func:`build_model` returns a new NodePath standing at the model's anchor (the
point of a point model, the centre of the geometry's bounds otherwise) at ``ground_z_m``; the
vertices are relative to it, x east, y north, z up, so Panda3D world coordinates stay the
city's local metres and a preview can be moved with ``set_pos``. Surfaces and paint lie 9 to
12 cm above the ground, over the tiles' land-cover layers (at most 8 cm,
:data:`world.mesh.GROUND_LAYER_Z_M`); speed tables rise from the carriageway's 6 cm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import shapely
from panda3d.core import GeomNode, NodePath, TransparencyAttrib

from game.kiosk._model_parts import (
    _BLOB,
    _GHOST_OK,
    _GHOST_REFUSED,
    GRASS,
    GROUND_Z_M,
    KERB,
    METAL,
    SOIL,
    WOOD,
    Part,
    _affine,
    _beams,
    _box,
    _concat,
    _flat,
    _lathe,
    _part,
    _points_inside,
    _rgb,
    _ring_edges,
    _stripes,
    _tiles,
    _trees,
    _turn,
    _walls,
)
from game.kiosk.geometry import primitive_to_geom
from world.catalog import Intervention
from world.errors import CatalogError
from world.gltf_read import Primitive
from world.interventions import park_tree_points
from world.mesh import triangulate

__all__ = ["MODELS", "ModelError", "build_model", "ghost", "selection_ring"]

Effect = Callable[..., Any]  # eff(key, default=None): the placement's parameter, else the catalog effect's


class ModelError(ValueError):
    """A model cannot be built: an unknown model name, or geometry or heights that do not suit it."""


def _tree(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    radius_m, height_m = float(eff("canopy_radius_m")), float(eff("height_m"))
    grate = _flat(shapely.Point(0.0, 0.0).buffer(min(0.75, 0.3 * radius_m), quad_segs=2), GROUND_Z_M, _rgb(70, 66, 60))
    return [_trees(np.zeros((1, 2)), radius_m, height_m), grate]


# ---- furniture ---------------------------------------------------------------------------


def _bench(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """A 1.8 m park bench along x, seat 45 cm high, back towards +y (the sitter faces -y)."""
    parts = [_box((-0.9, y - 0.06, 0.41), (0.9, y + 0.06, 0.45), WOOD) for y in (-0.15, 0.0, 0.15)]
    parts += [_box((-0.9, 0.225, z), (0.9, 0.255, z + 0.11), WOOD) for z in (0.56, 0.71)]
    for x in (-0.72, 0.72):
        parts += [_box((x - 0.03, -0.2, 0.0), (x + 0.03, -0.14, 0.41), METAL),
                  _box((x - 0.03, 0.255, 0.0), (x + 0.03, 0.305, 0.84), METAL),
                  _box((x - 0.03, -0.2, 0.36), (x + 0.03, 0.255, 0.41), METAL)]
    return parts


# ---- ground --------------------------------------------------------------------------------


def _park(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """Grass, a kerb line just inside the edge, and the very trees the simulations plant."""
    parts = [_flat(geom, GROUND_Z_M, GRASS), _stripes(*_ring_edges(geom), GROUND_Z_M + 0.01, 0.3, KERB, 0.2)]
    for k, poly in enumerate(shapely.get_parts(geom)):
        xy = park_tree_points(poly, float(eff("trees_per_ha", 0.0)))
        if len(xy):
            parts.append(_trees(xy, float(eff("tree_canopy_radius_m", 4.0)), float(eff("tree_height_m", 10.0)), k))
    return parts


def _play_area(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """Red safety rubber with a light edge, and a play tower with a slide and a ladder,
    shrunk to fit in the widest circle of the area."""
    parts = [_flat(geom, GROUND_Z_M, _rgb(186, 96, 74)),
             _stripes(*_ring_edges(geom), GROUND_Z_M + 0.01, 0.25, _rgb(232, 168, 96), 0.15)]
    largest = max(shapely.get_parts(geom), key=lambda p: p.area)
    centre, radius_m = _widest_circle(largest)
    s = min(1.0, radius_m / 3.2)
    posts = np.array([[x, y] for x in (-0.7, 0.7) for y in (-0.7, 0.7)])
    tower = [_beams(np.column_stack([posts, np.zeros(4)]), np.column_stack([posts, np.full(4, 2.3)]), 0.1, 0.1,
                    _rgb(238, 190, 48)),
             _box((-0.78, -0.78, 1.0), (0.78, 0.78, 1.08), _rgb(60, 120, 190)),
             _part(_lathe([(0.0, 2.2), (1.15, 2.2), (0.0, 2.85)], 4, math.pi / 4), _rgb(214, 64, 52)),
             _beams(np.array([[0.78, 0.0, 1.04]]), np.array([[2.9, 0.0, 0.14]]), 0.55, 0.05, _rgb(62, 168, 92))]
    for y in (-0.3, 0.3):
        tower.append(_beams(np.array([[0.78, y, 1.3]]), np.array([[2.9, y, 0.35]]), 0.05, 0.05, _rgb(62, 168, 92)))
        tower.append(_beams(np.array([[-1.6, y, 0.0]]), np.array([[-0.78, y, 1.08]]), 0.06, 0.06, _rgb(238, 190, 48)))
    rungs = np.linspace(0.2, 0.85, 4)[:, None]
    a, b = np.array([-1.6, -0.3, 0.0]), np.array([-0.78, -0.3, 1.08])
    tower.append(_beams(a + rungs * (b - a), a + rungs * (b - a) + [0.0, 0.6, 0.0], 0.04, 0.04, METAL))
    tris, rgba = _concat(tower)
    return [*parts, _part(tris * s + [centre[0], centre[1], GROUND_Z_M], rgba)]


def _widest_circle(polygon: shapely.Geometry) -> tuple[np.ndarray, float]:
    line = shapely.maximum_inscribed_circle(polygon, 0.05)
    xy = shapely.get_coordinates(line)
    return xy[0], float(shapely.length(line))


def _paving(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """Grey concrete pavers in a running bond with green joints, in three shades."""
    parts = [_flat(geom, GROUND_Z_M, _rgb(104, 148, 84))]
    cell_m = max(0.7, math.sqrt(geom.area / 12_000.0))
    shades = np.array([_rgb(150, 152, 148), _rgb(166, 168, 162), _rgb(136, 140, 138)])
    return parts + [_tiles(poly, cell_m, 0.1 * cell_m, GROUND_Z_M + 0.015, shades, stagger=True)
                    for poly in shapely.get_parts(geom)]


def _rain_garden(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """Dark soil 16 cm below a stone kerb, low shrubs and grasses in four greens (one in
    flower), and a few pale stones."""
    inner = geom.buffer(-0.3, join_style="mitre")
    kerb_top = 0.25
    parts = [_flat(geom.difference(inner), kerb_top, KERB), _walls(geom, 0.0, kerb_top, KERB)]
    if inner.is_empty:
        return parts
    parts += [_flat(inner, GROUND_Z_M, SOIL), _part(_walls(inner, GROUND_Z_M, kerb_top, KERB)[0][:, ::-1], KERB)]
    spacing_m = max(1.3, math.sqrt(inner.area / 300.0))
    plants = _points_inside(inner.buffer(-0.35), spacing_m, 5)
    k = len(plants)
    if k:
        shrub = _lathe(_BLOB[1:], 6)  # a dome: the faceted sphere without its lower cap
        kind = np.array([0, 1, 2, 0, 1, 3])[(np.arange(k) * 7) % 6]
        size = np.array([0.42, 0.3, 0.36, 0.26])[kind] * spacing_m / 1.3
        height = np.array([0.55, 0.7, 0.45, 0.5])[kind] * spacing_m / 1.3
        colours = np.array([_rgb(76, 134, 62), _rgb(118, 164, 72), _rgb(64, 112, 70), _rgb(160, 112, 168)])
        parts.append(_part(_affine(shrub, _turn(np.arange(k) * 1.3, np.column_stack([size, size, height])),
                                   np.column_stack([plants, np.full(k, GROUND_Z_M)])),
                           np.repeat(colours[kind], len(shrub), axis=0)))
    stones = _points_inside(inner.buffer(-0.4), spacing_m * 2.3, 11)[:16]
    if len(stones):
        stone = _lathe([(0.0, -0.02), (0.34, 0.04), (0.24, 0.16), (0.0, 0.2)], 5)
        n = len(stones)
        parts.append(_part(_affine(stone, _turn(np.arange(n) * 2.1, np.tile([1.0, 0.75, 1.0], (n, 1))),
                                   np.column_stack([stones, np.full(n, GROUND_Z_M)])), _rgb(196, 192, 182)))
    return parts


def _green_roof(entry: Intervention, geom: shapely.Geometry, eff: Effect, *,
                roof_dz_m: float | None, **_: Any) -> list[Part]:
    """A sedum bed on the roof: a gravel edge, and 1 m patches in greens and autumn reds.
    Without a roof height (a preview over no building) the bed lies on the ground."""
    roof_dz_m = roof_dz_m or 0.0
    inner = geom.buffer(-0.4, join_style="mitre")
    z = roof_dz_m + 0.06
    parts = [_flat(geom.difference(inner), roof_dz_m + 0.03, _rgb(176, 172, 162))]
    sedum = np.array([_rgb(112, 150, 70), _rgb(132, 164, 78), _rgb(94, 132, 64), _rgb(150, 110, 70),
                      _rgb(120, 156, 86)])
    for poly in shapely.get_parts(inner):
        parts += [_tiles(poly, max(1.0, math.sqrt(poly.area / 10_000.0)), 0.0, z, sedum),
                  _walls(poly, roof_dz_m, z, _rgb(92, 120, 60))]
    return parts


def _remove_building(entry: Intervention, geom: shapely.Geometry, eff: Effect,
                     **_: Any) -> list[Part]:
    """The footprint as plaza paving, ringed by a red dashed line."""
    return [_flat(geom, GROUND_Z_M, _rgb(200, 190, 170)),
            _stripes(*_ring_edges(geom), GROUND_Z_M + 0.01, 0.3, _rgb(214, 64, 48), 0.25, dash_m=1.2, gap_m=0.8)]


# ---- buildings ----------------------------------------------------------------------------


STOREY_M = 3.0


def _building(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """The footprint extruded to ``height_m``: a dark plinth, light walls, a window per 3 m bay
    and storey (shop windows on the ground floor), a grey flat roof."""
    height_m = float(eff("height_m"))
    parts = [_walls(geom, 0.0, 0.5, _rgb(120, 116, 110)), _walls(geom, 0.5, height_m, _rgb(232, 224, 208)),
             _flat(geom, height_m, _rgb(118, 118, 124))]
    p0, p1 = _ring_edges(geom)
    d = p1 - p0
    length = np.hypot(d[:, 0], d[:, 1])
    bays = np.maximum(1, np.round(length / STOREY_M)).astype(np.int64)
    bays[length < 1.5] = 0
    edge = np.repeat(np.arange(len(p0)), bays)
    bay = np.arange(len(edge)) - np.repeat(np.cumsum(bays) - bays, bays)
    t0, t1 = (bay + 0.2) / bays[edge], (bay + 0.8) / bays[edge]
    out = np.column_stack([d[edge, 1], -d[edge, 0]]) / length[edge, None] * 0.04
    a, b = p0[edge] + d[edge] * t0[:, None] + out, p0[edge] + d[edge] * t1[:, None] + out
    storeys = max(1, int(height_m // STOREY_M))
    floor = np.arange(storeys) * (height_m / storeys)
    sill = np.where(np.arange(storeys) == 0, 0.7, 0.9)
    top = np.where(np.arange(storeys) == 0, 2.6, 2.3)
    z0, z1 = (floor + sill)[:, None], np.minimum(floor + top, height_m - 0.3)[:, None]
    if z1[0, 0] < z0[0, 0] + 0.3:  # too low for windows
        return parts
    n, m = len(a), storeys
    lo = [np.hstack([np.tile(p, (m, 1)), np.repeat(z, n, 0)]) for p, z in ((a, z0), (b, z0))]
    hi = [np.hstack([np.tile(p, (m, 1)), np.repeat(z, n, 0)]) for p, z in ((b, z1), (a, z1))]
    quads = np.concatenate([np.stack([lo[0], lo[1], hi[0]], 1), np.stack([lo[0], hi[0], hi[1]], 1)])
    parts.append(_part(quads, _rgb(78, 104, 130)))
    return parts


# ---- lines ---------------------------------------------------------------------------------


@cache
def _bike_mark() -> np.ndarray:
    """A painted bicycle and two chevrons, 3 m long: triangles in the lane's frame
    (x along the lane, y to its left), read upright by a cyclist riding towards +x."""
    def seg(*points: tuple[float, float]) -> shapely.Geometry:
        return shapely.LineString(points).buffer(0.05, cap_style="round", quad_segs=3)

    hubs = [shapely.Point(x, 0.0) for x in (-0.45, 0.45)]
    wheels = [hub.buffer(0.33, quad_segs=6).difference(hub.buffer(0.25, quad_segs=6)) for hub in hubs]
    rear, bracket, saddle, head, front = (-0.45, 0.0), (0.0, 0.0), (-0.12, 0.5), (0.33, 0.52), (0.45, 0.0)
    frame = [seg(rear, bracket, saddle, rear), seg(saddle, head, bracket), seg(head, front),
             seg((-0.24, 0.56), (0.0, 0.56)), seg((0.26, 0.64), (0.33, 0.52))]
    chevrons = [shapely.Polygon([(-0.45, y), (0.0, y + 0.35), (0.45, y), (0.45, y + 0.14), (0.0, y + 0.49),
                                 (-0.45, y + 0.14)]) for y in (1.0, 1.45)]
    shape = shapely.union_all([*wheels, *frame, *chevrons])
    xy, _ = triangulate(np.array([shape]))
    # Pictogram (right, up) -> lane (along = up, stretched 1.3x for the low view; left = -right).
    return np.stack([xy[..., 1] * 1.3 - 0.6, -xy[..., 0], np.zeros(xy.shape[:2])], axis=-1)


def _along(line: shapely.Geometry, distance_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (k, 2) at distances along ``line`` and the line's heading there (radians)."""
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, distance_m))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, np.minimum(distance_m + 0.5, line.length)))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(distance_m - 0.5, 0.0)))
    d = ahead - behind
    return pts, np.arctan2(d[:, 1], d[:, 0])


def _spaced(length_m: float, spacing_m: float) -> np.ndarray:
    """Distances of marks every ``spacing_m``, centred on the line (at least one)."""
    n = max(1, round(length_m / spacing_m))
    return (np.arange(n) + 0.5) * length_m / n


def _bike_lane(entry: Intervention, geom: shapely.Geometry, eff: Effect, **_: Any) -> list[Part]:
    """A red painted lane of the effect's ``width_m`` (1.8 m without one), white edge lines,
    and a bicycle with chevrons every 10 m."""
    width_m = float(eff("width_m", 1.8))
    coords = shapely.get_coordinates(geom)
    p0, p1 = coords[:-1], coords[1:]
    parts = [_flat(geom.buffer(width_m / 2.0, cap_style="flat", join_style="mitre"), GROUND_Z_M + 0.02,
                   _rgb(178, 72, 60))]
    for side in (-1.0, 1.0):
        parts.append(_stripes(p0, p1, GROUND_Z_M + 0.03, 0.1, _rgb(240, 240, 236), side * (width_m / 2.0 - 0.1)))
    if geom.length >= 3.0:
        at, heading = _along(geom, _spaced(geom.length, 10.0))
        k = len(at)
        mark = _bike_mark() * [min(1.0, width_m / 1.8), min(1.0, width_m / 1.8), 1.0]
        parts.append(_part(_affine(mark, _turn(heading, np.ones((k, 3))),
                                   np.column_stack([at, np.full(k, GROUND_Z_M + 0.03)])), _rgb(240, 240, 236)))
    return parts


@cache
def _speed_table() -> Part:
    """A raised table 0.1 m high across a 6 m carriageway: 3 m flat top, 1.2 m ramps
    painted in white and brick stripes, in the frame (x along the road, y across)."""
    half_top, ramp, h, half_w, n = 1.5, 1.2, 0.1, 3.0, 10
    brick, white = _rgb(170, 104, 84), _rgb(244, 242, 236)
    ys = np.linspace(-half_w, half_w, n + 1)

    def corner(x: float, y: np.ndarray, z: float) -> np.ndarray:
        return np.column_stack([np.full(n, x), y, np.full(n, z)])

    a, b = corner(half_top, ys[:-1], h), corner(half_top + ramp, ys[:-1], 0.0)
    c, d = corner(half_top + ramp, ys[1:], 0.0), corner(half_top, ys[1:], h)
    ramp_east = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    stripes = np.tile(np.where(np.arange(n)[:, None] % 2 == 0, white, brick), (2, 1))
    ramp_west = (ramp_east * [-1.0, 1.0, 1.0])[:, ::-1]  # mirrored, winding restored
    side = np.array([[(-half_top - ramp, -half_w, 0.0), (half_top + ramp, -half_w, 0.0), (half_top, -half_w, h)],
                     [(-half_top - ramp, -half_w, 0.0), (half_top, -half_w, h), (-half_top, -half_w, h)]])
    far_side = (side * [1.0, -1.0, 1.0])[:, ::-1]
    top = np.array([[(-half_top, -half_w, h), (half_top, -half_w, h), (half_top, half_w, h)],
                    [(-half_top, -half_w, h), (half_top, half_w, h), (-half_top, half_w, h)]])
    tris = np.concatenate([ramp_east, ramp_west, side, far_side, top])
    return tris, np.concatenate([stripes, stripes, np.tile(brick, (6, 1))])


def _traffic_calming(entry: Intervention, geom: shapely.Geometry, eff: Effect,
                     **_: Any) -> list[Part]:
    """Raised tables across the road every 15 m (at least one)."""
    tris, rgba = _speed_table()
    at, heading = _along(geom, _spaced(geom.length, 15.0))
    k = len(at)
    offset = np.column_stack([at, np.full(k, GROUND_Z_M - 0.03)])
    return [_part(_affine(tris, _turn(heading, np.ones((k, 3))), offset), np.tile(rgba, (k, 1)))]


def _noise_barrier(entry: Intervention, geom: shapely.Geometry, eff: Effect,
                   **_: Any) -> list[Part]:
    """Posts at most 3 m apart (and at every bend) to ``height_m``; between them a concrete
    plinth, timber panels in two shades, a glass strip in the top fifth."""
    height_m = float(eff("height_m"))
    vertices = shapely.line_locate_point(geom, shapely.points(shapely.get_coordinates(geom)))
    regular = np.linspace(0.0, geom.length, max(1, math.ceil(geom.length / 3.0)) + 1)
    stops = np.unique(np.round(np.concatenate([vertices, regular]), 6))
    pts = shapely.get_coordinates(shapely.line_interpolate_point(geom, stops))
    a, b = np.column_stack([pts[:-1], np.zeros(len(pts) - 1)]), np.column_stack([pts[1:], np.zeros(len(pts) - 1)])
    glass_z = 0.8 * height_m
    lift = np.array([0.0, 0.0, 1.0])
    shade = np.where(np.arange(len(a))[:, None] % 2 == 0, _rgb(184, 152, 110), _rgb(170, 138, 98))
    plinth, panel, glass = (_beams(a + lift * z, b + lift * z, w, t, c) for z, w, t, c in (
        (0.25, 0.22, 0.5, _rgb(186, 182, 172)), ((0.5 + glass_z) / 2, 0.14, glass_z - 0.5, shade),
        ((glass_z + height_m - 0.08) / 2, 0.06, height_m - 0.08 - glass_z, _rgb(176, 214, 230))))
    posts = _beams(np.column_stack([pts, np.zeros(len(pts))]), np.column_stack([pts, np.full(len(pts), height_m)]),
                   0.2, 0.2, METAL)
    return [plinth, panel, glass, posts]


# ---- assembly --------------------------------------------------------------------------------


Builder = Callable[..., list[Part]]
#: Catalog ``model`` name -> builder, with whether the node turns by ``rotation_deg``.
MODELS: dict[str, tuple[Builder, bool]] = {
    "tree": (_tree, True), "bench": (_bench, True), "park": (_park, False), "play-area": (_play_area, False),
    "permeable-paving": (_paving, False), "rain-garden": (_rain_garden, False), "green-roof": (_green_roof, False),
    "bike-lane": (_bike_lane, False), "traffic-calming": (_traffic_calming, False),
    "noise-barrier": (_noise_barrier, False), "building": (_building, False),
    "remove-building": (_remove_building, False),
}


def _node(name: str, parts: list[Part]) -> NodePath:
    """One GeomNode holding every part: flat-shaded, one vertex per triangle corner."""
    tris, rgba = _concat(parts)
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    area = np.linalg.norm(normal, axis=1)
    keep = area > 1e-10
    tris, rgba, normal = tris[keep], rgba[keep], normal[keep] / area[keep, None]
    node = GeomNode(name)
    if len(tris):
        prim = Primitive(positions=tris.reshape(-1, 3).astype(np.float32),
                         normals=np.repeat(normal, 3, axis=0).astype(np.float32),
                         colors=np.repeat(rgba, 3, axis=0), uvs=None,
                         indices=np.arange(3 * len(tris), dtype=np.uint32), feature_ids=None, material=None,
                         matrix=np.eye(4))
        node.add_geom(primitive_to_geom(prim))
    return NodePath(node)


def _anchor(geometry: shapely.Geometry) -> tuple[float, float]:
    if geometry.geom_type == "Point":
        return float(geometry.x), float(geometry.y)
    min_x, min_y, max_x, max_y = geometry.bounds
    return (min_x + max_x) / 2.0, (min_y + max_y) / 2.0


def build_model(entry: Intervention, geometry: shapely.Geometry, params: dict[str, Any] | None = None, *,
                ground_z_m: float = 0.0, roof_z_m: float | None = None, rotation_deg: float = 0.0) -> NodePath:
    """A new, unattached NodePath with ``entry``'s model placed on ``geometry`` (local metres).

    ``params`` override the catalog effect (as :func:`world.interventions.effect_value`
    does): a tree's ``height_m``, a park's ``trees_per_ha``... ``roof_z_m`` is the roof's
    absolute height, where a green roof lies (on the ground when None); ``rotation_deg`` turns point models (the bench)
    counter-clockwise seen from above; line and area models follow their geometry.
    Raises :class:`ModelError` for an unknown model or a geometry that does not suit it.
    """
    if entry.model not in MODELS:
        raise ModelError(f"{entry.id}: no 3D model is built for the model {entry.model!r} "
                         f"(known: {', '.join(sorted(MODELS))}).")
    try:
        entry.check_geometry(geometry)
    except CatalogError as exc:
        raise ModelError(str(exc)) from None
    builder, turns = MODELS[entry.model]
    given = dict(params or {})

    def eff(key: str, default: Any = None) -> Any:
        value = given.get(key, entry.effect.get(key, default))
        if key.endswith("_m") and not (isinstance(value, int | float) and value > 0):
            raise ModelError(f"{entry.id}: {key} must be a positive number of metres, not {value!r}.")
        return value

    x, y = _anchor(geometry)
    local = shapely.transform(geometry, lambda xy: xy - [x, y])
    roof_dz_m = None if roof_z_m is None else float(roof_z_m) - ground_z_m
    root = _node(f"model:{entry.id}", builder(entry, local, eff, roof_dz_m=roof_dz_m))
    root.set_pos(x, y, ground_z_m)
    if turns:
        root.set_h(rotation_deg)
    root.set_tag("catalog", entry.id)
    return root


def ghost(node: NodePath, ok: bool) -> None:
    """Make ``node`` a translucent preview, tinted green when it may go there (``ok``) or
    red when it is refused. Calling it again switches the tint."""
    node.set_transparency(TransparencyAttrib.M_alpha)
    node.set_color_scale(*(_GHOST_OK if ok else _GHOST_REFUSED))
    node.set_depth_write(False)
    node.set_bin("transparent", 10)


def selection_ring(geometry: shapely.Geometry, radius_m: float, *, ground_z_m: float = 0.0) -> NodePath:
    """A bright unlit band on the ground around ``geometry``: the outline of the geometry
    grown by ``radius_m`` (a circle around a point), about a tenth of the radius wide."""
    width_m = min(0.5, max(0.1, 0.12 * radius_m))
    x, y = _anchor(geometry)
    local = shapely.transform(geometry, lambda xy: xy - [x, y])
    band = local.buffer(radius_m, quad_segs=12).difference(local.buffer(max(radius_m - width_m, 0.0), quad_segs=12))
    root = _node("selection-ring", [_flat(shapely.get_parts(band), GROUND_Z_M + 0.05, _rgb(255, 214, 64))])
    root.set_pos(x, y, ground_z_m)
    root.set_light_off(1)
    root.set_two_sided(True)
    return root
