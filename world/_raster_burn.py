"""Burning city features into a rectangular window of a grid, by cell-centre sampling.

A cell belongs to a feature when its centre lies strictly inside the feature
(``shapely.contains_xy`` on the prepared geometry; tree crowns as exact discs). Each
feature only tests the cells inside its bounding box. Every layer combines features
with an order-free rule (maximum, minimum, highest priority: surface treatments take
the highest :class:`SurfaceTreatment` code and the largest storage) or, for ``building_id``,
a rule that only depends on the features' relative order; so a window burnt from the
features that reach it equals the same window of a full rasterisation, bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from world._raster_grid import IMPERVIOUS, LandCover, SurfaceTreatment
from world.city import Building, City

__all__ = ["ROAD_LANDCOVER", "AREA_LANDCOVER", "crown_base_m", "grid_building_ids", "burn"]

ROAD_LANDCOVER = {"carriageway": LandCover.CARRIAGEWAY, "footway": LandCover.SIDEWALK,
                  "cycleway": LandCover.CYCLEWAY}
AREA_LANDCOVER = {"park": LandCover.PARK, "grass": LandCover.GRASS, "forest": LandCover.FOREST,
                  "water": LandCover.WATER, "plaza": LandCover.PLAZA, "parking": LandCover.PARKING,
                  "carriageway": LandCover.CARRIAGEWAY, "sidewalk": LandCover.SIDEWALK,
                  "other": LandCover.OTHER}


def crown_base_m(height_m: float, crown_diameter_m: float) -> float:
    """Height of the bottom of a crown: the top minus one crown diameter (a crown about
    as tall as it is wide), and at least 30 % of the tree height (a clear stem).
    An assumption: the City stores no crown base.

    >>> crown_base_m(10.0, 6.0), crown_base_m(5.0, 6.0)
    (4.0, 1.5)
    """
    return max(height_m - crown_diameter_m, 0.3 * height_m)


@dataclass(frozen=True, slots=True)
class _Window:
    """Global grid geometry plus the window ``[r0, r1) × [c0, c1)`` being burnt."""

    west: float
    north: float
    cell_m: float
    r0: int
    r1: int
    c0: int
    c1: int

    def centre_extent(self) -> tuple[float, float, float, float]:
        c = self.cell_m
        return (self.west + (self.c0 + 0.5) * c, self.north - (self.r1 - 0.5) * c,
                self.west + (self.c1 - 0.5) * c, self.north - (self.r0 + 0.5) * c)

    def sub(self, bounds: tuple[float, float, float, float]
            ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
        """The part of the window overlapping ``bounds``: window-relative slices and the
        centre coordinates (x as a row vector, y as a column vector)."""
        c = self.cell_m
        j0 = max(self.c0, math.floor((bounds[0] - self.west) / c))
        j1 = min(self.c1, math.ceil((bounds[2] - self.west) / c))
        i0 = max(self.r0, math.floor((self.north - bounds[3]) / c))
        i1 = min(self.r1, math.ceil((self.north - bounds[1]) / c))
        if j0 >= j1 or i0 >= i1:
            return None
        # Coordinates from global indices, so that a window sees exactly the full grid's values.
        xs = self.west + (np.arange(j0, j1) + 0.5) * c
        ys = self.north - (np.arange(i0, i1) + 0.5) * c
        rel = (slice(i0 - self.r0, i1 - self.r0), slice(j0 - self.c0, j1 - self.c0))
        return rel, xs[None, :], ys[:, None]


def _overlaps(bounds: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """Which rows of an ``(n, 4)`` bounds array overlap the extent (NaN bounds never do)."""
    return ((bounds[:, 0] <= extent[2]) & (bounds[:, 2] >= extent[0])
            & (bounds[:, 1] <= extent[3]) & (bounds[:, 3] >= extent[1]))


def _bounds(geoms: list[shapely.Geometry]) -> np.ndarray:
    if not geoms:
        return np.zeros((0, 4))
    return np.asarray(shapely.bounds(np.array(geoms, dtype=object)), dtype=np.float64).reshape(-1, 4)


def _inside(geom: shapely.Geometry, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    shapely.prepare(geom)
    return np.asarray(shapely.contains_xy(geom, xs, ys))


def _crown_boxes(city: City) -> np.ndarray:
    """``(n, 4)`` bounds of every tree's crown disc (trunk ± crown radius)."""
    if not city.trees:
        return np.zeros((0, 4))
    xy = shapely.get_coordinates(np.array([t.geometry for t in city.trees], dtype=object))
    radius = np.array([t.crown_diameter_m / 2.0 for t in city.trees])
    return np.column_stack([xy[:, 0] - radius, xy[:, 1] - radius, xy[:, 0] + radius, xy[:, 1] + radius])


def grid_building_ids(city: City, extent: tuple[float, float, float, float]) -> list[Building]:
    """The buildings that a grid covering ``extent`` (cell-centre extent) may hold, in
    city order: the list that ``building_id`` indexes."""
    boxes = _bounds([b.footprint for b in city.buildings])
    keep = _overlaps(boxes, extent)
    return [b for b, k in zip(city.buildings, keep, strict=True) if k]


def _burn_buildings(buildings: list[Building], index: dict[str, int], win: _Window,
                    out: dict[str, np.ndarray]) -> None:
    top = np.zeros_like(out["building_m"])  # footprint top of the building holding each cell's id
    for building in buildings:
        found = win.sub(shapely.bounds(building.footprint))
        if found is None:
            continue
        rel, xs, ys = found
        footprint = _inside(building.footprint, xs, ys)
        if not footprint.any():
            continue
        # Building parts give the surface model its detail; footprint cells that no
        # part covers take the building's own top.
        local = np.zeros(footprint.shape, np.float32)
        covered = np.zeros(footprint.shape, bool)
        for volume in building.volumes:
            part = _inside(volume.footprint, xs, ys)
            local[part] = np.maximum(local[part], np.float32(volume.height_m))
            covered |= part
        local[footprint & ~covered] = np.float32(building.height_m)
        height = out["building_m"][rel]
        np.maximum(height, local, out=height)
        out["landcover"][rel][footprint] = LandCover.BUILDING
        # Overlapping footprints: the tallest building owns the cell, the earlier one on ties.
        own = footprint & (np.float32(building.height_m) > top[rel])
        top[rel][own] = np.float32(building.height_m)
        out["building_id"][rel][own] = index[building.id]


def _burn_cover(geom: shapely.Geometry, code: LandCover, win: _Window, out: dict[str, np.ndarray]) -> None:
    found = win.sub(shapely.bounds(geom))
    if found is None:
        return
    rel, xs, ys = found
    cover = out["landcover"][rel]
    np.maximum(cover, np.where(_inside(geom, xs, ys), np.uint8(code), np.uint8(0)), out=cover)


def _burn_treatments(city: City, extent: tuple[float, float, float, float], win: _Window,
                     out: dict[str, np.ndarray]) -> None:
    """Treatment code and storage of every treatment reaching the window, each the
    maximum over the treatments covering a cell (so the order of the list is moot)."""
    # Every name is checked, not only those in the window: a window fails where a full run would.
    codes = [SurfaceTreatment.from_name(t.treatment) for t in city.treatments]
    keep = _overlaps(_bounds([t.geometry for t in city.treatments]), extent)
    for treatment, code, k in zip(city.treatments, codes, keep, strict=True):
        if not k:
            continue
        found = win.sub(shapely.bounds(treatment.geometry))
        if found is None:
            continue
        rel, xs, ys = found
        cover = _inside(treatment.geometry, xs, ys)
        layer, storage = out["treatment"][rel], out["storage_mm"][rel]
        np.maximum(layer, np.where(cover, np.uint8(code), np.uint8(0)), out=layer)
        np.maximum(storage, np.where(cover, np.float32(treatment.storage_mm), np.float32(0.0)), out=storage)


def burn(city: City, buildings: list[Building], origin: tuple[float, float], cell_m: float,
         window: tuple[int, int, int, int], crown_transmissivity: float) -> dict[str, np.ndarray]:
    """Every layer of the window ``(r0, r1, c0, c1)`` of the grid whose north-west corner
    is ``origin``, from the features of ``city`` that reach it; ``buildings`` is the list
    that ``building_id`` indexes."""
    r0, r1, c0, c1 = window
    win = _Window(origin[0], origin[1], float(cell_m), r0, r1, c0, c1)
    shape = (r1 - r0, c1 - c0)
    out: dict[str, np.ndarray] = {"ground_m": np.zeros(shape, np.float32), "building_m": np.zeros(shape, np.float32),
           "canopy_m": np.zeros(shape, np.float32), "canopy_base_m": np.full(shape, np.inf, np.float32),
           "transmissivity": np.ones(shape, np.float32),
           "landcover": np.full(shape, LandCover.OTHER, np.uint8), "building_id": np.full(shape, -1, np.int32),
           "treatment": np.full(shape, SurfaceTreatment.NONE, np.uint8), "storage_mm": np.zeros(shape, np.float32)}
    if shape[0] == 0 or shape[1] == 0:
        out["canopy_base_m"][:] = 0.0
        out["impervious"] = IMPERVIOUS[out["landcover"]]
        return out
    extent = win.centre_extent()

    areas = [a for a, k in zip(city.areas, _overlaps(_bounds([a.geometry for a in city.areas]), extent),
                               strict=True) if k]
    for area in areas:
        _burn_cover(area.geometry, AREA_LANDCOVER.get(area.area_class, LandCover.OTHER), win, out)

    # A centreline's bounds grown by half the width hold its outline: buffer only those roads.
    road_boxes = _bounds([r.geometry for r in city.roads])
    half_m = np.array([r.width_m / 2.0 if isinstance(r.geometry, shapely.LineString) else 0.0
                       for r in city.roads])
    if len(road_boxes):
        road_boxes = road_boxes + np.column_stack([-half_m, -half_m, half_m, half_m])
    for road, keep in zip(city.roads, _overlaps(road_boxes, extent), strict=True):
        if keep:
            _burn_cover(road.outline(), ROAD_LANDCOVER.get(road.surface, LandCover.OTHER), win, out)

    index = {b.id: i for i, b in enumerate(buildings)}
    box_keep = _overlaps(_bounds([b.footprint for b in buildings]), extent)
    _burn_buildings([b for b, k in zip(buildings, box_keep, strict=True) if k], index, win, out)

    # Only crowns whose box reaches a cell centre of the window can cover one of its cells.
    crowns = _crown_boxes(city)
    for tree, keep in zip(city.trees, _overlaps(crowns, extent), strict=True):
        if not keep:
            continue
        radius = tree.crown_diameter_m / 2.0
        x, y = tree.geometry.x, tree.geometry.y
        found = win.sub((x - radius, y - radius, x + radius, y + radius))
        if found is None or radius <= 0.0:
            continue
        rel, xs, ys = found
        crown = (xs - x) ** 2 + (ys - y) ** 2 < radius * radius
        top, base = np.float32(tree.height_m), np.float32(crown_base_m(tree.height_m, tree.crown_diameter_m))
        # A planted tree carries its catalog transmissivity; mapped trees the default.
        transmissivity = np.float32(tree.attributes.get("transmissivity", crown_transmissivity))
        canopy = out["canopy_m"][rel]
        canopy[crown] = np.maximum(canopy[crown], top)
        for layer, value in ((out["canopy_base_m"][rel], base), (out["transmissivity"][rel], transmissivity)):
            layer[crown] = np.minimum(layer[crown], value)

    _burn_treatments(city, extent, win, out)

    out["canopy_base_m"][np.isinf(out["canopy_base_m"])] = 0.0
    out["impervious"] = IMPERVIOUS[out["landcover"]]
    return out
