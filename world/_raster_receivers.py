"""Residential noise receivers on building façades, and the homes they stand for."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from world._raster_grid import Grids
from world.city import Building, City

__all__ = ["RECEIVER_HEIGHT_M", "FLAT_AREA_M2", "Receivers", "homes_estimate", "receivers"]

#: Receiver height above ground: the assessment height of the Environmental Noise
#: Directive 2002/49/EC, Annex I (4.0 m).
RECEIVER_HEIGHT_M = 4.0

#: Gross floor area per dwelling, m², by building type (OSM ``building=*``). An
#: assumption: Helsinki's average dwelling is about 64 m² of living space (Statistics
#: Finland), about 75 m² once walls and stairwells are added.
FLAT_AREA_M2 = {"apartments": 75.0, "residential": 75.0, "dormitory": 75.0, "terrace": 100.0}
#: Building types that hold one home each.
HOUSE_TYPES = frozenset({"house", "detached", "semidetached_house", "bungalow", "farm", "cabin"})
#: Storey height, m, for buildings without a level count.
STOREY_M = 3.0


def homes_estimate(building: Building) -> int:
    """Homes in a building: the OSM ``building:flats`` count when it has one; else for
    apartment types (:data:`FLAT_AREA_M2`) floor area × levels ÷ area per dwelling,
    rounded, at least one; one for a house type; none for any other type (offices,
    shops, and ``building=yes`` whose use is unknown). Levels default to the height
    ÷ 3 m, at least one.

    >>> import shapely
    >>> homes_estimate(Building("a", shapely.box(0, 0, 20, 15), 18.0, building_type="apartments", levels=5))
    20
    >>> homes_estimate(Building("h", shapely.box(0, 0, 10, 10), 6.0, building_type="house"))
    1
    >>> homes_estimate(Building("o", shapely.box(0, 0, 10, 10), 6.0, building_type="office"))
    0
    """
    flats = building.attributes.get("building:flats")
    if flats is not None:
        try:
            return max(0, int(float(flats)))
        except ValueError:
            pass
    if building.building_type in HOUSE_TYPES:
        return 1
    flat_m2 = FLAT_AREA_M2.get(building.building_type)
    if flat_m2 is None:
        return 0
    levels = building.levels or max(1, round(building.height_m / STOREY_M))
    return max(1, round(building.footprint.area * levels / flat_m2))


@dataclass(frozen=True, slots=True, eq=False)
class Receivers:
    """Façade receivers. ``xy_m`` (n, 2) positions, ``z_m`` heights above ground,
    ``normal`` (n, 2) outward unit normals of their façades, ``building`` (int32)
    index into the grids' ``building_ids``, ``cell`` (n, 2) int32 row and column,
    ``homes`` (float64) the share of the building's homes each one stands for."""

    xy_m: np.ndarray
    z_m: np.ndarray
    normal: np.ndarray
    building: np.ndarray
    cell: np.ndarray
    homes: np.ndarray

    def __len__(self) -> int:
        return len(self.z_m)


def _ring_points(ring: np.ndarray, min_facade_m: float, spacing_m: float, offset_m: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Points at the middle of equal pieces (at most ``spacing_m`` long) of each edge
    of a ring at least ``min_facade_m`` long, moved ``offset_m`` to the right of the
    ring's direction (outward, for rings oriented with the polygon on their left)."""
    start, end = ring[:-1], ring[1:]
    delta = end - start
    length = np.hypot(delta[:, 0], delta[:, 1])
    keep = length >= min_facade_m
    start, delta, length = start[keep], delta[keep], length[keep]
    pieces = np.maximum(1, np.ceil(length / spacing_m - 1e-9)).astype(int)
    edge = np.repeat(np.arange(len(length)), pieces)
    k = np.arange(len(edge)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t = (k + 0.5) / pieces[edge]
    normal = np.column_stack([delta[:, 1], -delta[:, 0]]) / length[:, None]
    points = start[edge] + t[:, None] * delta[edge] + offset_m * normal[edge]
    return points, normal[edge]


def receivers(city: City, grids: Grids, *, min_facade_m: float = 3.0, spacing_m: float = 10.0,
              offset_m: float = 0.1) -> Receivers:
    """Receivers on the façades of the grids' buildings (those of ``building_ids``).

    Every outer and courtyard wall at least ``min_facade_m`` long gets receivers at the
    middle of equal pieces at most ``spacing_m`` long, ``offset_m`` outside the wall, at
    :data:`RECEIVER_HEIGHT_M`. Receivers that fall inside a building (party walls
    between neighbours) or outside the grid are dropped. Each building's
    :func:`homes_estimate` is spread evenly over its remaining receivers; a building
    left with none (every wall shared) adds no homes.
    """
    by_id = {b.id: b for b in city.buildings}
    points, normals, owners = [], [], []
    for index, bid in enumerate(grids.building_ids):
        footprint = shapely.orient_polygons(by_id[bid].footprint)
        for polygon in shapely.get_parts(footprint):
            for ring in (polygon.exterior, *polygon.interiors):
                xy, normal = _ring_points(np.asarray(ring.coords)[:, :2], min_facade_m, spacing_m, offset_m)
                points.append(xy)
                normals.append(normal)
                owners.append(np.full(len(xy), index, np.int32))
    xy = np.concatenate(points) if points else np.zeros((0, 2))
    normal = np.concatenate(normals) if normals else np.zeros((0, 2))
    owner = np.concatenate(owners) if owners else np.zeros(0, np.int32)

    footprints = np.array([b.footprint for b in city.buildings], dtype=object)
    inside = np.zeros(len(xy), bool)
    if len(footprints) and len(xy):
        hits = shapely.STRtree(footprints).query(shapely.points(xy), predicate="intersects")
        inside[hits[0]] = True
    min_x, min_y, max_x, max_y = grids.bounds
    in_grid = (xy[:, 0] > min_x) & (xy[:, 0] < max_x) & (xy[:, 1] > min_y) & (xy[:, 1] < max_y)
    keep = ~inside & in_grid
    xy, normal, owner = xy[keep], normal[keep], owner[keep]

    count = np.bincount(owner, minlength=len(grids.building_ids))
    estimate = np.array([homes_estimate(by_id[bid]) for bid in grids.building_ids], dtype=np.float64)
    homes = estimate[owner] / np.maximum(count[owner], 1)
    col = np.floor((xy[:, 0] - grids.origin[0]) / grids.cell_m)
    row = np.floor((grids.origin[1] - xy[:, 1]) / grids.cell_m)
    rows, cols = grids.shape
    cell = np.column_stack([np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1)]).astype(np.int32)
    return Receivers(xy_m=xy, z_m=np.full(len(xy), RECEIVER_HEIGHT_M), normal=normal, building=owner,
                     cell=cell, homes=homes)

