"""Building blocks of the kiosk's models, pure numpy: triangle soups with colours.

A :data:`Part` is ``(triangles, colours)``: ``(t, 3, 3)`` float64 corners in local metres
(z up) and ``(t, 4)`` float32 RGBA in 0..1. :mod:`game.kiosk.models` assembles them into
one Geom per model.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import shapely

from world.mesh import triangulate

Part = tuple[np.ndarray, np.ndarray]  # (t, 3, 3) float64 corners, (t, 4) float32 RGBA 0..1


def _rgb(r: int, g: int, b: int, a: int = 255) -> np.ndarray:
    return np.array([r, g, b, a], np.float32) / 255.0


WOOD, METAL, TRUNK = _rgb(170, 118, 74), _rgb(58, 62, 68), _rgb(104, 80, 60)
CROWN = (_rgb(56, 106, 50), _rgb(74, 128, 60), _rgb(98, 152, 72))
GRASS, SOIL, KERB = _rgb(108, 162, 76), _rgb(74, 58, 46), _rgb(168, 166, 160)
GROUND_Z_M = 0.09  # flat parts start here above the ground: over every land-cover layer
_GHOST_OK = (0.55, 1.4, 0.6, 0.55)  # colour scales: a green or red tint, half transparent
_GHOST_REFUSED = (1.9, 0.4, 0.35, 0.55)


def _part(tris: np.ndarray, rgba: np.ndarray) -> Part:
    tris = np.asarray(tris, np.float64).reshape(-1, 3, 3)
    rgba = np.asarray(rgba, np.float32)
    return tris, (np.broadcast_to(rgba, (len(tris), 4)) if rgba.ndim == 1 else rgba)


def _lathe(profile: list[tuple[float, float]], sides: int, phase_rad: float = 0.0) -> np.ndarray:
    """A faceted solid of revolution: ``profile`` is (radius, z) from bottom to top; a
    radius of 0 closes the solid on the axis."""
    prof = np.asarray(profile, np.float64)
    a = phase_rad + 2.0 * np.pi * np.arange(sides + 1) / sides
    pts = np.stack(np.broadcast_arrays(prof[:, 0, None] * np.cos(a), prof[:, 0, None] * np.sin(a),
                                       prof[:, 1, None]), axis=-1)  # (rings, sides + 1, 3)
    p0, p1, q0, q1 = pts[:-1, :-1], pts[:-1, 1:], pts[1:, :-1], pts[1:, 1:]
    return np.concatenate([np.stack([p0, p1, q1], -2), np.stack([p0, q1, q0], -2)]).reshape(-1, 3, 3)


#: A unit cube centred on the origin (a square lathe), mapped by :func:`_affine` into boxes.
_CUBE = _lathe([(0.0, -0.5), (math.sqrt(0.5), -0.5), (math.sqrt(0.5), 0.5), (0.0, 0.5)], 4, math.pi / 4)


def _affine(tris: np.ndarray, matrix: Any, offset: Any) -> np.ndarray:
    """``tris`` under ``k`` affine maps ``p -> M p + offset``: (k, 3, 3) and (k, 3) -> (k * t, 3, 3).
    Every M must have a positive determinant, or the winding (and the normal) flips."""
    matrix, offset = np.asarray(matrix, np.float64).reshape(-1, 3, 3), np.asarray(offset, np.float64).reshape(-1, 3)
    return (np.einsum("kij,tcj->ktci", matrix, tris) + offset[:, None, None, :]).reshape(-1, 3, 3)


def _turn(angle_rad: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(k, 3, 3) matrices: scale along x, y, z, then turn about z."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    rot = np.zeros((len(c), 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    return rot * np.asarray(scale, np.float64).reshape(-1, 1, 3)


def _box(lo: tuple[float, float, float], hi: tuple[float, float, float], rgba: np.ndarray) -> Part:
    lo_a, hi_a = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    return _part(_affine(_CUBE, np.diag(hi_a - lo_a), (lo_a + hi_a) / 2.0), rgba)


def _beams(a: np.ndarray, b: np.ndarray, width_m: float, depth_m: float, rgba: np.ndarray) -> Part:
    """Boxes of cross-section width × depth from points ``a`` to ``b`` (k, 3), in one colour
    or one per box; the width lies horizontal (along x for vertical beams)."""
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    u = b - a
    side = np.cross([0.0, 0.0, 1.0], u)
    flat = np.linalg.norm(side, axis=1) < 1e-9
    side[flat] = [1.0, 0.0, 0.0]
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    up = np.cross(u / np.linalg.norm(u, axis=1, keepdims=True), side)
    matrix = np.stack([u, side * width_m, up * depth_m], axis=-1)
    rgba = np.asarray(rgba, np.float32)
    return _part(_affine(_CUBE, matrix, (a + b) / 2.0), np.repeat(rgba, len(_CUBE), axis=0) if rgba.ndim == 2 else rgba)


def _flat(polygons: Any, z_m: float, rgba: np.ndarray) -> Part:
    """Polygons (one, or an array with (k, 4) colours) as up-facing triangles at ``z_m``."""
    polys = np.atleast_1d(np.asarray(polygons, dtype=object))
    xy, owner = triangulate(polys)
    tris = np.concatenate([xy, np.full((len(xy), 3, 1), z_m)], axis=2)
    rgba = np.asarray(rgba, np.float32)
    return _part(tris, rgba[owner] if rgba.ndim == 2 else rgba)


def _walls(polygons: Any, z0_m: float, z1_m: float, rgba: np.ndarray) -> Part:
    """Vertical outward-facing quads on every ring edge of the polygons, from z0 to z1."""
    p0, p1 = _ring_edges(polygons)
    lo, hi = np.full((len(p0), 1), z0_m), np.full((len(p0), 1), z1_m)
    a, b, c, d = np.hstack([p0, lo]), np.hstack([p1, lo]), np.hstack([p1, hi]), np.hstack([p0, hi])
    return _part(np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)]), rgba)


def _ring_edges(polygons: Any) -> tuple[np.ndarray, np.ndarray]:
    """Edges (start, end) of every ring, exteriors counter-clockwise, holes clockwise: the
    inside is on the left."""
    polys = shapely.get_parts(shapely.orient_polygons(np.atleast_1d(np.asarray(polygons, dtype=object))))
    coords, ring = shapely.get_coordinates(shapely.get_rings(polys), return_index=True)
    same = ring[:-1] == ring[1:]
    p0, p1 = coords[:-1][same], coords[1:][same]
    keep = np.hypot(*(p1 - p0).T) > 1e-9
    return p0[keep], p1[keep]


def _stripes(p0: np.ndarray, p1: np.ndarray, z_m: float, width_m: float, rgba: np.ndarray,
             offset_m: float = 0.0, dash_m: float | None = None, gap_m: float = 0.0) -> Part:
    """A painted band along the chain of segments ``p0 -> p1`` (n, 2), centred ``offset_m``
    to the left of it; dashed when ``dash_m`` is given (dashes run on across corners)."""
    d = p1 - p0
    length = np.hypot(d[:, 0], d[:, 1])
    start = np.cumsum(length) - length
    total = float(length.sum())
    if dash_m is None:
        a, b = np.array([0.0]), np.array([total])
    else:
        a = np.arange(math.ceil(total / (dash_m + gap_m))) * (dash_m + gap_m)
        b = np.minimum(a + dash_m, total)
    lo = np.maximum(a[None, :], start[:, None])
    hi = np.minimum(b[None, :], (start + length)[:, None])
    edge, dash = np.nonzero(hi > lo + 1e-6)
    t0 = (lo[edge, dash] - start[edge]) / length[edge]
    t1 = (hi[edge, dash] - start[edge]) / length[edge]
    p, q = p0[edge] + d[edge] * t0[:, None], p0[edge] + d[edge] * t1[:, None]
    left = np.column_stack([-d[edge, 1], d[edge, 0]]) / length[edge, None]
    near, far = left * (offset_m - width_m / 2.0), left * (offset_m + width_m / 2.0)
    corners = [np.hstack([c, np.full((len(c), 1), z_m)]) for c in (p + near, q + near, q + far, p + far)]
    return _part(np.concatenate([np.stack(corners[:3], 1), np.stack([corners[0], corners[2], corners[3]], 1)]), rgba)


def _tiles(polygon: shapely.Geometry, cell_m: float, gap_m: float, z_m: float, palette: np.ndarray,
           stagger: bool = False) -> Part:
    """Square tiles of side ``cell_m - gap_m`` on a grid over ``polygon`` (rows shifted by half
    a tile when ``stagger``), each in a colour of ``palette`` picked by a hash of its cell.
    Tiles wholly inside are two triangles each; only those on the edge are clipped by GEOS."""
    min_x, min_y, max_x, max_y = polygon.bounds
    iy, ix = np.mgrid[0:math.ceil((max_y - min_y) / cell_m) + 1, 0:math.ceil((max_x - min_x) / cell_m) + 1]
    x0 = (min_x + cell_m * (ix - (0.5 * (iy % 2) if stagger else 0.0)) + gap_m / 2.0).ravel()
    y0 = (min_y + cell_m * iy + gap_m / 2.0).ravel()
    x1, y1 = x0 + cell_m - gap_m, y0 + cell_m - gap_m
    colour = palette[(((ix.ravel() * 73856093) ^ (iy.ravel() * 19349663)) >> 3) % len(palette)]
    boxes = shapely.box(x0, y0, x1, y1)
    shapely.prepare(polygon)
    whole = shapely.contains(polygon, boxes)
    edge = ~whole & shapely.intersects(polygon, boxes)
    corners = [np.column_stack([x, y, np.full(len(x), z_m)]) for x, y in
               ((x0[whole], y0[whole]), (x1[whole], y0[whole]), (x1[whole], y1[whole]), (x0[whole], y1[whole]))]
    quads = np.concatenate([np.stack(corners[:3], 1), np.stack([corners[0], corners[2], corners[3]], 1)])
    parts = [_part(quads, np.tile(colour[whole], (2, 1)))]
    if edge.any():
        parts.append(_flat(shapely.intersection(boxes[edge], polygon), z_m, colour[edge]))
    return _concat(parts)


def _points_inside(polygon: shapely.Geometry, spacing_m: float, seed: int) -> np.ndarray:
    """About one point per ``spacing_m`` square inside ``polygon``, jittered reproducibly."""
    min_x, min_y, max_x, max_y = polygon.bounds
    gx, gy = np.meshgrid(np.arange(min_x + spacing_m / 2, max_x, spacing_m),
                         np.arange(min_y + spacing_m / 2, max_y, spacing_m))
    jitter = np.random.default_rng(seed).uniform(-0.3, 0.3, (2, *gx.shape)) * spacing_m
    x, y = (gx + jitter[0]).ravel(), (gy + jitter[1]).ravel()
    inside = shapely.contains_xy(polygon, x, y)
    return np.column_stack([x[inside], y[inside]])


# ---- trees -------------------------------------------------------------------------------


#: Crown blobs of the unit tree: centre (x, y, z), horizontal and vertical radius, colour
#: index, facets. The lowest sits on the trunk, the top one reaches height 1, and the
#: rightmost reaches x = 1.
_CROWN_BLOBS = [
    ((0.0, 0.0, 0.56), 0.86, 0.3, 0, 8), ((0.4, 0.1, 0.5), 0.6, 0.22, 1, 7), ((-0.32, 0.3, 0.53), 0.6, 0.23, 1, 7),
    ((-0.12, -0.42, 0.6), 0.52, 0.22, 1, 6), ((0.04, -0.04, 0.8), 0.56, 0.2, 2, 7),
]
#: A faceted sphere of radius 1: rings at these polar angles.
_BLOB = [(math.sin(math.radians(a)), -math.cos(math.radians(a))) for a in (0, 55, 90, 128, 180)]


@cache
def _unit_tree() -> Part:
    """A tree of crown radius 1 and height 1 at the origin: a tapering trunk and a crown of
    five faceted blobs in three greens, the lightest on top."""
    parts = [_part(_lathe([(0.0, 0.0), (0.075, 0.0), (0.05, 0.6), (0.0, 0.6)], 6), TRUNK)]
    for k, (centre, r_xy, r_z, colour, sides) in enumerate(_CROWN_BLOBS):
        blob = _lathe(_BLOB, sides, k * 0.7)
        parts.append(_part(_affine(blob, np.diag([r_xy, r_xy, r_z]), centre), CROWN[colour]))
    return _concat(parts)


def _trees(xy: np.ndarray, radius_m: float, height_m: float, first_turn: int = 0) -> Part:
    """Trees at ``xy`` (k, 2), each turned by the golden angle from the last."""
    tris, rgba = _unit_tree()
    k = len(xy)
    turn = (np.arange(k) + first_turn) * 2.399963
    offset = np.column_stack([xy, np.zeros(k)])
    return _part(_affine(tris, _turn(turn, np.tile([radius_m, radius_m, height_m], (k, 1))), offset),
                 np.tile(rgba, (k, 1)))


def _concat(parts: list[Part]) -> Part:
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return np.zeros((0, 3, 3)), np.zeros((0, 4), np.float32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
