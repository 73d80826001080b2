"""What a placement lands on: the buildings a building edit targets, the carriageways a
street intervention follows, and the grid cells a geometry covers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from world._intervention_parse import Placed
from world.city import City, Road
from world.raster import Grids

__all__ = ["SNAP_MIN_M", "SNAP_ALONG_M", "SNAP_ANGLE_DEG", "target_buildings", "snap_roads", "cells_under"]

#: Snapping tolerance: a carriageway counts as followed where its centreline lies within
#: max(half its width, this) of the drawn line, m (a finger on a kiosk is about 8 m wide
#: at street zoom; wide avenues get their own half width).
SNAP_MIN_M = 8.0
#: ... along at least min(this, half the drawn length, half the road's length), m.
SNAP_ALONG_M = 20.0
#: ... counting only the stretches within this angle of the drawn line, degrees, so
#: a cross street the line passes over is not followed.
SNAP_ANGLE_DEG = 30.0


def target_buildings(city: City, placed: Placed) -> list[int]:
    """Indices (city order) of the buildings a building edit is for: those with the id
    in ``params["building"]`` when given, else those whose footprint contains the
    representative point of any polygon of the placement.

    >>> from world.city import Building
    >>> from world.frame import LocalFrame
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0),
    ...             [Building("a", shapely.box(0, 0, 10, 10), 9.0), Building("b", shapely.box(20, 0, 30, 10), 9.0)],
    ...             [], [], [], [], [])
    >>> target_buildings(city, Placed("p", "green-roof", shapely.box(21, 1, 29, 9)))
    [1]
    """
    wanted = placed.params.get("building")
    if wanted is not None:
        return [i for i, b in enumerate(city.buildings) if b.id == wanted]
    points = [part.representative_point() for part in shapely.get_parts(placed.geometry)]
    if not city.buildings or not points:
        return []
    footprints = np.array([b.footprint for b in city.buildings], dtype=object)
    found: set[int] = set()
    for point in points:
        found.update(int(i) for i in np.nonzero(shapely.contains_xy(footprints, point.x, point.y))[0])
    return sorted(found)


def _parallel_m(inside: BaseGeometry, line: shapely.LineString) -> float:
    """Length of ``inside`` (pieces of a road centreline) running within
    :data:`SNAP_ANGLE_DEG` of the drawn ``line``'s nearest segment, m."""
    drawn = np.asarray(line.coords)[:, :2]
    a, b = drawn[:-1], drawn[1:]
    d = b - a
    dd = np.maximum((d * d).sum(axis=1), 1e-12)
    total = 0.0
    for part in shapely.get_parts(inside):
        if part.geom_type != "LineString" or part.is_empty:
            continue
        xy = np.asarray(part.coords)[:, :2]
        p0, p1 = xy[:-1], xy[1:]
        seg = p1 - p0
        length = np.hypot(seg[:, 0], seg[:, 1])
        mid = (p0 + p1) / 2.0
        # Nearest drawn segment to each piece's midpoint (point-to-segment distance).
        t = np.clip(((mid[:, None, :] - a[None]) * d[None]).sum(axis=2) / dd[None], 0.0, 1.0)
        gap = mid[:, None, :] - (a[None] + t[..., None] * d[None])
        nearest = np.argmin((gap * gap).sum(axis=2), axis=1)
        e = d[nearest]
        cos = np.abs((seg * e).sum(axis=1)) / np.maximum(length * np.hypot(e[:, 0], e[:, 1]), 1e-12)
        total += float(length[cos >= math.cos(math.radians(SNAP_ANGLE_DEG))].sum())
    return total


def snap_roads(city: City, line: shapely.LineString) -> list[int]:
    """Indices (city order) of the carriageways a drawn street intervention follows.

    A carriageway with a centreline is followed when, inside the band of
    max(half its width, :data:`SNAP_MIN_M`) around the drawn line, its centreline runs
    roughly parallel to the line (within :data:`SNAP_ANGLE_DEG`) for at least
    min(:data:`SNAP_ALONG_M`, half the drawn length, half the road's length). The whole
    road feature (an OSM way, typically a block long) takes the effect.

    >>> from world.frame import LocalFrame
    >>> main = Road("m", shapely.LineString([(0, 0), (200, 0)]), "primary", "carriageway", 12.0)
    >>> cross = Road("c", shapely.LineString([(100, -80), (100, 80)]), "residential", "carriageway", 6.0)
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [main, cross], [], [], [], [])
    >>> snap_roads(city, shapely.LineString([(60, 3), (140, 4)]))
    [0]
    """
    candidates: list[tuple[int, Road]] = [
        (i, r) for i, r in enumerate(city.roads)
        if r.surface == "carriageway" and isinstance(r.geometry, shapely.LineString)]
    if not candidates:
        return []
    tol_m = np.array([max(r.width_m / 2.0, SNAP_MIN_M) for _, r in candidates])
    boxes = np.asarray(shapely.bounds(np.array([r.geometry for _, r in candidates], dtype=object)))
    lx0, ly0, lx1, ly1 = line.bounds
    near = ((boxes[:, 0] <= lx1 + tol_m) & (boxes[:, 2] >= lx0 - tol_m)
            & (boxes[:, 1] <= ly1 + tol_m) & (boxes[:, 3] >= ly0 - tol_m))
    found = []
    for k in np.nonzero(near)[0]:
        index, road = candidates[int(k)]
        inside = shapely.intersection(road.geometry, shapely.buffer(line, float(tol_m[k])))
        if inside.is_empty:
            continue
        need_m = min(SNAP_ALONG_M, 0.5 * line.length, 0.5 * road.geometry.length)
        if _parallel_m(inside, line) >= need_m:
            found.append(index)
    return found


def _line_cells(grids: Grids, line: shapely.LineString) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the cells whose interior the line crosses: each segment is
    cut where it crosses a grid line and every piece's midpoint names its cell."""
    west, north = grids.origin
    c = grids.cell_m
    xy = np.asarray(line.coords)[:, :2]
    mids = []
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        ts = [np.array([0.0, 1.0])]
        if x1 != x0:
            ks = np.arange(math.ceil((min(x0, x1) - west) / c), math.floor((max(x0, x1) - west) / c) + 1)
            ts.append((west + ks * c - x0) / (x1 - x0))
        if y1 != y0:
            ks = np.arange(math.ceil((north - max(y0, y1)) / c), math.floor((north - min(y0, y1)) / c) + 1)
            ts.append((north - ks * c - y0) / (y1 - y0))
        t = np.unique(np.clip(np.concatenate(ts), 0.0, 1.0))
        m = (t[:-1] + t[1:]) / 2.0
        mids.append(np.column_stack([x0 + m * (x1 - x0), y0 + m * (y1 - y0)]))
    pts = np.concatenate(mids)
    return (np.floor((north - pts[:, 1]) / c).astype(np.int64), np.floor((pts[:, 0] - west) / c).astype(np.int64))


def cells_under(grids: Grids, geometry: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the grid cells a placement covers: a point its cell, a line
    the cells it crosses, an area the cells whose centres lie inside it (or, for an
    area smaller than that, the cell of its representative point). Cells outside the
    grid are left out.

    >>> g = Grids.empty((0.0, 10.0), 2.0, rows=5, cols=5)
    >>> [tuple(a.tolist()) for a in cells_under(g, shapely.LineString([(1, 9), (5, 9)]))]
    [(0, 0, 0), (0, 1, 2)]
    >>> [tuple(a.tolist()) for a in cells_under(g, shapely.box(0, 6, 4, 10))]
    [(0, 0, 1, 1), (0, 1, 0, 1)]
    """
    rows_n, cols_n = grids.shape
    west, north = grids.origin
    if isinstance(geometry, shapely.Point):
        rows = np.array([math.floor((north - geometry.y) / grids.cell_m)])
        cols = np.array([math.floor((geometry.x - west) / grids.cell_m)])
    elif isinstance(geometry, shapely.LineString):
        rows, cols = _line_cells(grids, geometry)
    else:
        rs, cs = grids.window_of(geometry.bounds)
        ys, xs = grids.ys[rs][:, None], grids.xs[cs][None, :]
        shapely.prepare(geometry)
        inside = np.asarray(shapely.contains_xy(geometry, xs, ys))
        rows, cols = np.nonzero(inside)
        rows, cols = rows + rs.start, cols + cs.start
        if len(rows) == 0:
            return cells_under(grids, geometry.representative_point())
    keep = (rows >= 0) & (rows < rows_n) & (cols >= 0) & (cols < cols_n)
    cells = np.unique(np.column_stack([rows[keep], cols[keep]]), axis=0).reshape(-1, 2)
    return cells[:, 0], cells[:, 1]
