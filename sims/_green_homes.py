"""Homes and the first two rules of 3-30-300: trees near each home, canopy around it.

Homes are counted per building: ``world.raster.homes_estimate`` of every building in the
grids' ``building_ids`` that has any (so each home counts once, whether or not its
building kept façade receivers). A building's homes share its place: its footprint for
the trees rule; its representative point (``point_on_surface``, always inside the
footprint, like the address points of the studies Browning et al. 2024 review) for the
canopy disc and the start of the walk to a park. Starting the walk from the footprint
instead would leave the start undefined wherever a façade runs parallel to a street
(every point of it equally near) and let that arbitrary choice move the walk by up to
the façade's length.

Trees (:func:`trees_near`): a tree counts for a home when its trunk point lies within
the given distance of the building footprint polygon (0 inside it, so a tree in an
inner courtyard is measured to the courtyard wall).

Canopy (:func:`disc_counts`): the cells of the grid whose centre lies within the radius
of the home's point, split into one column span per grid row (a disc is a stack of
row spans), summed with row-wise prefix sums: a few hundred look-ups per home, exact in
integers, so that adding the counts of a changed window to the old ones equals a full
count (:func:`disc_counts_window`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from world.city import City
from world.raster import Grids, homes_estimate

__all__ = ["Homes", "Discs", "homes_in", "trees_near", "discs", "disc_counts", "disc_counts_window"]

#: Extra metres on every box that pre-selects tree–home pairs, so that only the exact
#: distance test decides (the same test in a full run and an update).
_BOX_PAD_M = 1.0


@dataclass(frozen=True, slots=True, eq=False)
class Homes:
    """The buildings with homes: ``building`` (index into the grids' ``building_ids``),
    ``homes`` per building, ``footprints`` (object array, with an STRtree ``tree``)
    and ``xy_m`` (k, 2) their representative points."""

    building: np.ndarray
    homes: np.ndarray
    footprints: np.ndarray
    xy_m: np.ndarray
    tree: shapely.STRtree

    def same_as(self, other: Homes) -> bool:
        """Whether both hold the same buildings, homes and footprints."""
        return (np.array_equal(self.building, other.building) and np.array_equal(self.homes, other.homes)
                and bool(np.all(shapely.equals_exact(self.footprints, other.footprints, tolerance=0.0))))


@dataclass(frozen=True, slots=True, eq=False)
class Discs:
    """One disc per home as row spans: cells ``[j0, j1)`` of grid row ``row`` (each
    (k, m); empty spans where the disc misses a row or the grid), and ``cells`` (k,)
    the disc's cells inside the grid."""

    row: np.ndarray
    j0: np.ndarray
    j1: np.ndarray
    cells: np.ndarray


def homes_in(city: City, grids: Grids) -> Homes:
    """The grids' buildings that hold homes (:func:`world.raster.homes_estimate` > 0)."""
    by_id = {b.id: b for b in city.buildings}
    index, homes, footprints = [], [], []
    for i, bid in enumerate(grids.building_ids):
        building = by_id[bid]
        count = homes_estimate(building)
        if count > 0:
            index.append(i)
            homes.append(count)
            footprints.append(building.footprint)
    shapes = np.array(footprints, dtype=object)
    xy = shapely.get_coordinates(shapely.point_on_surface(shapes)) if len(shapes) else np.zeros((0, 2))
    return Homes(np.array(index, dtype=np.int64), np.array(homes, dtype=np.int64), shapes, xy,
                 shapely.STRtree(shapes))


def trees_near(homes: Homes, tree_xy: np.ndarray, distance_m: float) -> np.ndarray:
    """Per home building, how many of the trees (points, (t, 2)) lie within
    ``distance_m`` of its footprint; each tree counts once per listing.

    >>> import shapely
    >>> fp = np.array([shapely.box(0, 0, 10, 10)], dtype=object)
    >>> h = Homes(np.array([0]), np.array([4]), fp, np.array([[5.0, 5.0]]), shapely.STRtree(fp))
    >>> trees_near(h, np.array([[25.0, 5.0], [25.1, 5.0], [5.0, 5.0]]), 15.0).tolist()
    [2]
    """
    k = len(homes.footprints)
    if k == 0 or len(tree_xy) == 0:
        return np.zeros(k, dtype=np.int64)
    points = shapely.points(tree_xy)
    pad = distance_m + _BOX_PAD_M
    boxes = shapely.box(tree_xy[:, 0] - pad, tree_xy[:, 1] - pad, tree_xy[:, 0] + pad, tree_xy[:, 1] + pad)
    tree_index, home = homes.tree.query(boxes)
    near = shapely.distance(homes.footprints[home], points[tree_index]) <= distance_m
    return np.bincount(home[near], minlength=k).astype(np.int64)


def discs(xy_m: np.ndarray, radius_m: float, grids: Grids) -> Discs:
    """The cells of ``grids`` whose centres lie within ``radius_m`` of each point, as
    row spans. Cells beyond the grid are not counted (near its edge a disc is cut).

    >>> from world.raster import Grids
    >>> g = Grids.empty((0.0, 10.0), 1.0, rows=10, cols=10)
    >>> discs(np.array([[4.5, 5.5], [0.5, 9.5]]), 1.0, g).cells.tolist()
    [5, 3]
    """
    cell_m = grids.cell_m
    west, north = grids.origin
    rows, cols = grids.shape
    reach = math.ceil(radius_m / cell_m) + 1
    x, y = xy_m[:, :1], xy_m[:, 1:]
    row = np.floor((north - y) / cell_m).astype(np.int64) + np.arange(-reach, reach + 1)
    dy_m = north - (row + 0.5) * cell_m - y
    half_sq = radius_m * radius_m - dy_m * dy_m
    ok = (half_sq >= 0.0) & (row >= 0) & (row < rows)
    half_m = np.sqrt(np.maximum(half_sq, 0.0))
    j0 = np.clip(np.ceil((x - half_m - west) / cell_m - 0.5), 0, cols).astype(np.int64)
    j1 = np.clip(np.floor((x + half_m - west) / cell_m - 0.5) + 1, 0, cols).astype(np.int64)
    j1 = np.where(ok, np.maximum(j1, j0), j0)
    return Discs(np.clip(row, 0, max(rows - 1, 0)), j0, j1, (j1 - j0).sum(axis=1))


def _row_prefix(mask: np.ndarray) -> np.ndarray:
    prefix = np.zeros((mask.shape[0], mask.shape[1] + 1), dtype=np.int64)
    np.cumsum(mask, axis=1, out=prefix[:, 1:])
    return prefix


def disc_counts(mask: np.ndarray, spans: Discs) -> np.ndarray:
    """Cells of ``mask`` (the whole grid) that are true inside each disc."""
    if spans.row.size == 0:
        return np.zeros(len(spans.cells), dtype=np.int64)
    prefix = _row_prefix(mask)
    return (prefix[spans.row, spans.j1] - prefix[spans.row, spans.j0]).sum(axis=1)


def disc_counts_window(diff: np.ndarray, rows: slice, cols: slice, spans: Discs) -> np.ndarray:
    """Sum of ``diff`` (the window ``rows × cols`` of a grid, integers) inside each
    disc; with ``diff`` = new mask − old mask it turns old counts into new ones."""
    out = np.zeros(len(spans.cells), dtype=np.int64)
    if diff.size == 0:
        return out
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    touched = np.any((spans.row >= r0) & (spans.row < r1) & (spans.j0 < c1) & (spans.j1 > c0)
                     & (spans.j1 > spans.j0), axis=1)
    if not touched.any():
        return out
    row, j0, j1 = spans.row[touched], spans.j0[touched], spans.j1[touched]
    inside = (row >= r0) & (row < r1)
    local = np.where(inside, row - r0, 0)
    a = np.where(inside, np.clip(j0, c0, c1) - c0, 0)
    b = np.where(inside, np.clip(j1, c0, c1) - c0, 0)
    prefix = _row_prefix(diff)
    out[touched] = (prefix[local, b] - prefix[local, a]).sum(axis=1)
    return out
