"""Where the votes agree: a grid over the workshop's area counting the votes behind each cell.

Every proposal's interventions are drawn onto a grid of ``cell_m`` cells; a cell's
support is the sum of the votes of every proposal that touches it, each proposal
counted once per cell however many of its interventions lie there. A hot cell is a
place many voters want changed, whichever proposal they chose: the facilitator's
"what do we agree on" view. Points (trees, benches) and lines (bike lanes) get a
footprint of their usual size so they touch the cells they would occupy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import shape as geojson_shape

__all__ = ["POINT_RADIUS_M", "LINE_HALF_WIDTH_M", "Consensus", "consensus", "intervention_shape"]

Box = tuple[float, float, float, float]

#: Footprint radius of point interventions by catalog id (a crown, a bench); others get the default.
POINT_RADIUS_M: dict[str, float] = {"tree-small": 2.0, "tree-medium": 3.0, "tree-large": 4.5, "bench": 1.0,
                                    "play-area": 6.0, "rain-garden": 3.0}
_DEFAULT_RADIUS_M = 2.0
#: Half the width of line interventions by catalog id.
LINE_HALF_WIDTH_M: dict[str, float] = {"bike-lane": 1.0, "traffic-calming": 3.0, "noise-barrier": 0.5}
_DEFAULT_HALF_WIDTH_M = 1.5


@dataclass(frozen=True)
class Consensus:
    """Votes behind each cell of ``area_m``; ``support[row, col]`` with row 0 at min_y."""

    area_m: Box
    cell_m: float
    support: np.ndarray

    def cells(self) -> list[tuple[float, float, float, float, float]]:
        """``(x0, y0, x1, y1, support)`` of every cell with support > 0 (local metres)."""
        min_x, min_y, max_x, max_y = self.area_m
        rows, cols = np.nonzero(self.support > 0)
        return [(min_x + c * self.cell_m, min_y + r * self.cell_m, min(max_x, min_x + (c + 1) * self.cell_m),
                 min(max_y, min_y + (r + 1) * self.cell_m), float(self.support[r, c]))
                for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]

    @property
    def max_support(self) -> float:
        """The highest support of any cell (0 for an empty grid)."""
        return float(self.support.max()) if self.support.size else 0.0


def intervention_shape(intervention: Mapping) -> shapely.Geometry:
    """The footprint of ``intervention`` (protocol format: ``catalog``, GeoJSON-style
    ``geometry`` in local metres): polygons as they are, points and lines buffered to
    their usual size. Unreadable geometry gives an empty polygon.

    >>> round(intervention_shape({"catalog": "bench", "geometry": {"type": "Point", "coordinates": [0, 0]}}).area, 1)
    3.1
    """
    return _footprints([intervention])[0]


def _geometry(intervention: Mapping) -> shapely.Geometry | None:
    """The intervention's GeoJSON-style geometry as shapely, or None when unreadable."""
    try:
        geometry = geojson_shape(intervention.get("geometry"))
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, shapely.errors.GEOSException):
        return None
    return None if geometry.is_empty else geometry


def _footprints(interventions: Sequence[Mapping]) -> list[shapely.Geometry]:
    """:func:`intervention_shape` of many interventions, buffering in one vectorised call."""
    geometries = [_geometry(i) for i in interventions]
    out: list[shapely.Geometry] = [shapely.Polygon()] * len(geometries)
    to_buffer: list[int] = []
    radii: list[float] = []
    for index, (intervention, geometry) in enumerate(zip(interventions, geometries, strict=True)):
        if geometry is None:
            continue
        catalog = str(intervention.get("catalog", ""))
        dims = shapely.get_dimensions(geometry)
        if dims == 0:
            to_buffer.append(index)
            radii.append(POINT_RADIUS_M.get(catalog, _DEFAULT_RADIUS_M))
        elif dims == 1:
            to_buffer.append(index)
            radii.append(LINE_HALF_WIDTH_M.get(catalog, _DEFAULT_HALF_WIDTH_M))
        else:
            out[index] = geometry if geometry.is_valid else shapely.make_valid(geometry)
    if to_buffer:
        # Flat caps: a bike lane ends where it was drawn (points are round whatever the cap).
        buffered = shapely.buffer(np.asarray([geometries[i] for i in to_buffer], dtype=object),
                                  np.asarray(radii), quad_segs=4, cap_style="flat")
        # A point buffered with flat caps is empty: buffer points again with round caps.
        points = [k for k, i in enumerate(to_buffer) if shapely.get_dimensions(geometries[i]) == 0]
        if points:
            buffered[points] = shapely.buffer(np.asarray([geometries[to_buffer[k]] for k in points], dtype=object),
                                              np.asarray([radii[k] for k in points]), quad_segs=4)
        for k, index in enumerate(to_buffer):
            out[index] = buffered[k]
    return out


def _grid_shape(area_m: Box, cell_m: float) -> tuple[int, int]:
    min_x, min_y, max_x, max_y = area_m
    # A hair of tolerance so 1000 m / 20 m is 50 cells, not 51.
    return (max(1, math.ceil((max_y - min_y) / cell_m - 1e-9)), max(1, math.ceil((max_x - min_x) / cell_m - 1e-9)))


@lru_cache(maxsize=8)
def _cell_tree(area_m: Box, cell_m: float) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
    """An STR-tree of the grid's cells and each cell's (row, col), cached per grid."""
    min_x, min_y, _, _ = area_m
    ny, nx = _grid_shape(area_m, cell_m)
    rows, cols = (a.ravel() for a in np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij"))
    x0, y0 = min_x + cols * cell_m, min_y + rows * cell_m
    boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    return shapely.STRtree(boxes), rows, cols


def consensus(proposals: Sequence[Mapping], votes: Mapping[str, int], area_m: Sequence[float],
              cell_m: float = 20.0) -> Consensus:
    """The consensus grid of ``proposals`` (state format: ``id``, ``interventions``)
    weighted by ``votes`` (proposal id → votes) over ``area_m`` at ``cell_m``.

    >>> tree = {"catalog": "tree-small", "geometry": {"type": "Point", "coordinates": [10.0, 10.0]}}
    >>> grid = consensus([{"id": "P1", "interventions": [tree, tree]}], {"P1": 3}, (0, 0, 40, 40))
    >>> grid.cells()
    [(0.0, 0.0, 20.0, 20.0, 3.0)]
    """
    box: Box = tuple(float(v) for v in area_m)  # type: ignore[assignment]
    if cell_m <= 0:
        raise ValueError(f"cell_m must be positive, not {cell_m}.")
    support = np.zeros(_grid_shape(box, cell_m), dtype=np.float64)
    interventions: list[Mapping] = []
    owners: list[int] = []
    weights: list[float] = []
    for proposal in proposals:
        weight = votes.get(str(proposal.get("id")), 0)
        if not weight:
            continue
        weights.append(float(weight))
        for intervention in proposal.get("interventions") or ():
            if isinstance(intervention, Mapping):
                interventions.append(intervention)
                owners.append(len(weights) - 1)
    footprints = _footprints(interventions)
    if footprints:
        tree, rows, cols = _cell_tree(box, float(cell_m))
        shapes = np.asarray(footprints, dtype=object)
        pairs = tree.query(shapes, predicate="intersects")
        # A footprint that only shares a cell's edge does not touch the cell.
        inside = ~shapely.touches(shapes[pairs[0]], tree.geometries[pairs[1]])
        shape_index, cell_index = pairs[0][inside], pairs[1][inside]
        # Each proposal once per cell: unique (proposal, cell) pairs.
        owner = np.asarray(owners)[shape_index]
        pair_keys = np.unique(owner.astype(np.int64) * rows.size + cell_index)
        owner, cell_index = pair_keys // rows.size, pair_keys % rows.size
        np.add.at(support, (rows[cell_index], cols[cell_index]), np.asarray(weights)[owner])
    return Consensus(box, float(cell_m), support)
