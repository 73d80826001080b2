"""The parameters of green access and everything a run keeps for the next update.

A :class:`GreenState` holds, besides the answer, what is slow to redo: the walking
network (depends on the roads only), the homes with their snaps to the network and their
canopy discs (:class:`Place`: the grid, the buildings and the network), the field's
cells with their snaps (:class:`Cells`: the grid and the network), the tree and canopy
counts per home, and every node's walk to the nearest qualifying park.
:mod:`sims._green_update` turns one state into the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from sims._green_homes import Discs, Homes, discs, homes_in
from sims._green_parks import Entries, Park, direct_m, entries, qualifying
from sims._walk_network import WalkNetwork
from sims._walk_route import Snap, node_distances, reach_m, snap, snap_points
from sims.scene import Scene
from world.city import Building, City

__all__ = ["GreenParams", "Access", "Place", "Cells", "Rerun", "GreenState", "GridKey", "TreeSet", "grid_key",
           "make_place", "home_ids", "make_cells", "tree_set", "tree_xy", "access_for", "field_values", "walk_m"]

_M2_PER_HA = 10_000.0

#: Where a grid lies: its north-west corner, cell size and shape.
GridKey = tuple[tuple[float, float], float, tuple[int, int]]
#: Trees as (id, x, y) with their multiplicity.
TreeSet = dict[tuple[str, float, float], int]


@dataclass(frozen=True, slots=True)
class GreenParams:
    """The thresholds of the 3-30-300 rule and how the answer is drawn.

    ``tree_distance_m`` and ``min_trees``: the "3" (Nieuwenhuijsen et al. 2022's
    15 m); ``canopy_radius_m`` and ``min_canopy_pct``: the "30"; ``max_walk_m`` and
    ``min_park_ha``: the "300" (Konijnendijk 2021: 0.5–1 ha; the lower bound);
    ``park_classes``: the City area classes that count as parks; ``entry_gap_m``: how
    far from a park a path still lets people step in (:mod:`sims._green_parks`);
    ``field_cell_m``: the field's cell (rounded to whole grid cells); ``field_max_m``:
    the distance at which the field is capped (and the walks are searched no further).

    >>> GreenParams().min_park_ha
    0.5
    """

    tree_distance_m: float = 15.0
    min_trees: int = 3
    canopy_radius_m: float = 300.0
    min_canopy_pct: float = 30.0
    max_walk_m: float = 300.0
    min_park_ha: float = 0.5
    park_classes: tuple[str, ...] = ("park", "forest")
    entry_gap_m: float = 10.0
    field_cell_m: float = 10.0
    field_max_m: float = 1000.0

    def __post_init__(self) -> None:
        for name in ("tree_distance_m", "canopy_radius_m", "max_walk_m", "field_cell_m"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"The green-access parameter {name} must be a positive number.")
        if (self.min_trees < 0 or not 0.0 <= self.min_canopy_pct <= 100.0 or not self.min_park_ha >= 0.0
                or not self.entry_gap_m >= 0.0):
            raise ValueError("Green-access thresholds must not be negative, nor the canopy share above 100 %.")
        if not self.field_max_m >= self.max_walk_m:
            raise ValueError("The field's cap must be at least the walking distance of the rule.")

    @property
    def min_park_m2(self) -> float:
        return self.min_park_ha * _M2_PER_HA


@dataclass(frozen=True, slots=True, eq=False)
class Access:
    """The parks of a scene, the ids of those that qualify, the entrances of those,
    and each network node's walk to the nearest of them (``node_m``)."""

    parks: tuple[Park, ...]
    qualifies: frozenset[str]
    entries: dict[str, Entries]
    node_m: np.ndarray

    def qualifying_polygons(self) -> list[shapely.Geometry]:
        return [q.polygon for q in self.parks if q.id in self.qualifies]


@dataclass(frozen=True, slots=True, eq=False)
class Place:
    """What depends only on the grid, the buildings and the network: the homes, their
    snaps to the network and their canopy discs; ``ids`` the id of each home's building
    (the grids' ``building_ids`` shift as buildings come and go, ids do not)."""

    grid: GridKey
    buildings: tuple[Building, ...]
    homes: Homes
    home_snap: Snap
    discs: Discs
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Cells:
    """The field's cells, ``factor`` times coarser than the grid's (``shape``; centres
    ``xy``, row by row), with their snaps to the network: depend only on the grid and
    the network."""

    grid: GridKey
    factor: int
    shape: tuple[int, int]
    xy: np.ndarray
    snap: Snap


@dataclass(frozen=True, slots=True)
class Rerun:
    """Run in full, reusing what is given (``None``: build it again)."""

    network: WalkNetwork | None = None
    cells: Cells | None = None


@dataclass(frozen=True, slots=True, eq=False)
class GreenState:
    """A run's state: see the module docstring. ``canopy_m`` is the scene's canopy
    layer (read only), for the next update to tell which cells changed."""

    params: GreenParams
    network: WalkNetwork
    place: Place
    cells: Cells
    trees: TreeSet
    tree_counts: np.ndarray
    canopy_m: np.ndarray
    canopy_counts: np.ndarray
    access: Access
    in_park: np.ndarray
    field_m: np.ndarray


def grid_key(scene: Scene) -> GridKey:
    grids = scene.grids
    return (grids.origin, grids.cell_m, grids.shape)


def make_place(scene: Scene, network: WalkNetwork, p: GreenParams) -> Place:
    """The :class:`Place` of a scene on a network."""
    homes = homes_in(scene.city, scene.grids)
    return Place(grid_key(scene), tuple(scene.city.buildings), homes, snap(network, shapely.points(homes.xy_m)),
                 discs(homes.xy_m, p.canopy_radius_m, scene.grids), home_ids(homes, scene))


def home_ids(homes: Homes, scene: Scene) -> tuple[str, ...]:
    """The id of each home's building."""
    ids = scene.grids.building_ids
    return tuple(ids[i] for i in homes.building.tolist())


def make_cells(scene: Scene, network: WalkNetwork, p: GreenParams) -> Cells:
    """The field's :class:`Cells` of a scene on a network: whole coarse cells from the
    grid's north-west corner, so the last row and column may reach past the grid's
    south and east edges."""
    grids = scene.grids
    factor = max(1, round(p.field_cell_m / grids.cell_m))
    cell_m = factor * grids.cell_m
    rows, cols = grids.shape
    shape = (math.ceil(rows / factor), math.ceil(cols / factor))
    xs = grids.origin[0] + (np.arange(shape[1]) + 0.5) * cell_m
    ys = grids.origin[1] - (np.arange(shape[0]) + 0.5) * cell_m
    xy = np.column_stack([np.tile(xs, shape[0]), np.repeat(ys, shape[1])])
    return Cells(grid_key(scene), int(factor), shape, xy, snap_points(network, xy))


def tree_set(city: City) -> TreeSet:
    """Every City tree as (id, x, y) with its multiplicity."""
    if not city.trees:
        return {}
    xy = shapely.get_coordinates(np.array([t.geometry for t in city.trees], dtype=object))
    out: TreeSet = {}
    for key in zip([t.id for t in city.trees], xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True):
        out[key] = out.get(key, 0) + 1
    return out


def tree_xy(trees: TreeSet) -> np.ndarray:
    """The (t, 2) positions of a tree set, each as often as it occurs."""
    xy = [(x, y) for (_, x, y), n in trees.items() for _ in range(n)]
    return np.array(xy, dtype=np.float64).reshape(-1, 2)


def access_for(network: WalkNetwork, parks: tuple[Park, ...], p: GreenParams, before: Access | None) -> Access:
    """Which parks qualify, their entrances and every node's walk to the nearest one.

    With ``before`` (the access of a scene with a subset of these parks), only the parks
    that newly qualify are searched from, and each node keeps the shorter of its old
    and new walks: equal, bit for bit, to searching from all of them
    (:func:`sims._walk_network.node_distances`). If a park that qualified before no
    longer does, everything is searched again.
    """
    ok = qualifying(parks, p.min_park_m2)
    ids = frozenset(q.id for q, good in zip(parks, ok, strict=True) if good)
    if before is not None and not before.qualifies <= ids:
        before = None
    found = dict(before.entries) if before is not None else {}
    new = [q for q in parks if q.id in ids and q.id not in found]
    for q in new:
        found[q.id] = entries(network, q.polygon, p.entry_gap_m)
    searched = [found[q.id] for q in new]
    node = np.concatenate([e.node for e in searched]) if searched else np.zeros(0, dtype=np.int64)
    node_m = np.concatenate([e.node_m for e in searched]) if searched else np.zeros(0)
    if before is not None and not searched:
        return Access(parks, ids, found, before.node_m)
    distance_m = node_distances(network, node, node_m, p.field_max_m)
    if before is not None:
        distance_m = np.minimum(before.node_m, distance_m)
    return Access(parks, ids, found, distance_m)


def walk_m(network: WalkNetwork, where: Snap, access: Access) -> np.ndarray:
    """Walk (m) from snapped things to the nearest qualifying park."""
    return reach_m(network, where, access.node_m, direct_m(network, where, list(access.entries.values())))


def field_values(network: WalkNetwork, cells: Cells, access: Access, in_park: np.ndarray,
                 p: GreenParams) -> np.ndarray:
    """The field (float32, the cells' shape): the walk from each cell centre to the
    nearest qualifying park, 0 inside one, capped at ``field_max_m``."""
    walk = walk_m(network, cells.snap, access)
    return np.where(in_park, 0.0, np.minimum(walk, p.field_max_m)).reshape(cells.shape).astype(np.float32)
