"""The receivers of the noise simulation: a regular grid for the map and the residential
façade receivers of the scene, each with a key that survives a rebuilt scene.

Grid receivers stand at the centres of ``grid_m`` cells over the scene's grids, at
``height_m`` above the ground (4 m, the assessment height of Directive 2002/49/EC Annex I);
a centre inside a building (by the grids' ``building_id``) has no receiver and is NaN on
the map. Façade receivers are :attr:`sims.scene.Scene.receivers`. Keys: the cell index for
grid receivers; the position rounded to the millimetre for façade receivers, which the
rasteriser rebuilds bit for bit for every building that did not change.

>>> import numpy as np
>>> from world.raster import Grids
>>> g = Grids.empty((0.0, 20.0), 2.0, rows=10, cols=10)
>>> g.building_id[:5, :5] = 0
>>> cells = grid_cells(g, 10.0)
>>> cells.shape, cells.free.tolist()
((2, 2), [False, True, True, True])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from world.raster import Grids, Receivers

__all__ = ["GridCells", "ReceiverTable", "grid_cells", "receiver_table", "match_rows"]


@dataclass(frozen=True, slots=True, eq=False)
class GridCells:
    """The map grid: ``shape`` (rows, cols), ``xy_m`` (rows·cols, 2) cell centres in row
    order (row 0 north), ``free`` whether each centre lies outside buildings and inside
    the grids, ``origin`` the north-west corner, ``cell_m`` the cell size."""

    shape: tuple[int, int]
    xy_m: NDArray[np.float64]
    free: NDArray[np.bool_]
    origin: tuple[float, float]
    cell_m: float


def grid_cells(grids: Grids, grid_m: float) -> GridCells:
    """The ``grid_m`` cells over ``grids.bounds`` and which of them hold a receiver."""
    min_x, min_y, max_x, max_y = grids.bounds
    cols = max(1, math.ceil((max_x - min_x) / grid_m - 1e-9))
    rows = max(1, math.ceil((max_y - min_y) / grid_m - 1e-9))
    west, north = grids.origin
    x = west + (np.arange(cols) + 0.5) * grid_m
    y = north - (np.arange(rows) + 0.5) * grid_m
    xy = np.column_stack([np.tile(x, rows), np.repeat(y, cols)])
    g_rows, g_cols = grids.shape
    col = np.floor((xy[:, 0] - west) / grids.cell_m).astype(np.int64)
    row = np.floor((north - xy[:, 1]) / grids.cell_m).astype(np.int64)
    inside = (col >= 0) & (col < g_cols) & (row >= 0) & (row < g_rows)
    free = inside.copy()
    free[inside] = grids.building_id[row[inside], col[inside]] < 0
    return GridCells(shape=(rows, cols), xy_m=xy, free=free, origin=(west, north), cell_m=float(grid_m))


@dataclass(frozen=True, slots=True, eq=False)
class ReceiverTable:
    """All receivers, grid ones first: ``xyz_m`` (n, 3), ``grid_cell`` the cell of each
    grid receiver, ``facade_keys`` the millimetre positions (m, 3) of the façade ones."""

    xyz_m: NDArray[np.float64]
    grid_cell: NDArray[np.int64]
    facade_keys: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.xyz_m)

    @property
    def n_grid(self) -> int:
        return len(self.grid_cell)


def receiver_table(cells: GridCells, facades: Receivers, height_m: float) -> ReceiverTable:
    """Grid receivers at ``height_m`` on the free cells, then the façade receivers."""
    grid_cell = np.flatnonzero(cells.free)
    grid_xyz = np.column_stack([cells.xy_m[grid_cell], np.full(len(grid_cell), height_m)])
    facade_xyz = np.column_stack([facades.xy_m, facades.z_m]) if len(facades) else np.zeros((0, 3))
    return ReceiverTable(xyz_m=np.concatenate([grid_xyz, facade_xyz]), grid_cell=grid_cell,
                         facade_keys=np.rint(facade_xyz * 1000.0).astype(np.int64))


def match_rows(old: ReceiverTable, new: ReceiverTable) -> NDArray[np.int64]:
    """For each receiver of ``new``, its row in ``old`` (same key), or −1 if it is new.
    Each old row is matched at most once (receivers with the same key match in order).

    >>> a = ReceiverTable(np.zeros((3, 3)), np.array([0, 2, 5]), np.zeros((0, 3), np.int64))
    >>> b = ReceiverTable(np.zeros((3, 3)), np.array([2, 3, 5]), np.zeros((0, 3), np.int64))
    >>> match_rows(a, b).tolist()
    [1, -1, 2]
    """
    out = np.full(len(new), -1, np.int64)
    pos = np.searchsorted(old.grid_cell, new.grid_cell)
    found = (pos < len(old.grid_cell)) & (old.grid_cell[np.minimum(pos, len(old.grid_cell) - 1)] == new.grid_cell) \
        if len(old.grid_cell) else np.zeros(len(new.grid_cell), bool)
    out[:new.n_grid][found] = pos[found]
    index: dict[tuple[int, ...], list[int]] = {}
    for i, k in enumerate(old.facade_keys.tolist()):
        index.setdefault(tuple(k), []).append(old.n_grid + i)
    # The n-th receiver with a key takes the n-th old row with it.
    out[new.n_grid:] = [rows.pop(0) if (rows := index.get(tuple(k))) else -1 for k in new.facade_keys.tolist()]
    return out
