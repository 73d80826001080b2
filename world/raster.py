"""Rasterisation of the City into aligned grids for the simulations.

:func:`rasterize` samples every feature at cell centres (a cell belongs to a feature
when its centre lies inside it) into the layers of a :class:`Grids`: surface heights
(ground, buildings, tree crowns), crown transmissivity, land cover, imperviousness,
which building owns each cell, and the surface treatments (green roofs, permeable
paving, rain gardens) with the rain they store. :func:`rasterize_window` redoes only
the cells around a change, with the same result as a full rasterisation.
:func:`receivers` puts residential noise receivers on the façades, :func:`road_segments`
gives the carriageways with default traffic (scaled by the factors that placed
interventions leave on a road). Pure numpy/shapely and deterministic: same city,
same bytes.

>>> import shapely
>>> from world.city import Building, City
>>> from world.frame import LocalFrame
>>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [Building("b", shapely.box(0, 0, 10, 20), 12.0)],
...             [], [], [], [], [])
>>> grids = rasterize(city, (-5.0, -5.0, 15.0, 25.0), cell_m=1.0)
>>> grids.shape, int((grids.building_id == 0).sum()), float(grids.building_m.max())
((30, 20), 200, 12.0)
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from world._raster_burn import burn, grid_building_ids
from world._raster_grid import IMPERVIOUS, LAYERS, Grids, LandCover, RasterError, SurfaceTreatment
from world._raster_receivers import RECEIVER_HEIGHT_M, Receivers, homes_estimate, receivers
from world._raster_roads import (
    DEFAULT_TRAFFIC,
    FLOW_FACTOR,
    HEAVY_SHARE_FACTOR,
    Segments,
    TrafficOverride,
    road_segments,
)
from world.city import City

__all__ = [
    "LandCover", "IMPERVIOUS", "SurfaceTreatment", "LAYERS", "CROWN_TRANSMISSIVITY", "Grids", "RasterError",
    "rasterize", "rasterize_window",
    "Receivers", "receivers", "homes_estimate", "RECEIVER_HEIGHT_M",
    "Segments", "TrafficOverride", "road_segments", "DEFAULT_TRAFFIC", "FLOW_FACTOR", "HEAVY_SHARE_FACTOR",
]

#: Fraction of direct sunlight a tree crown in leaf lets through. Konarska et al.
#: (2014, "Transmissivity of solar radiation through crowns of single urban trees",
#: Theor. Appl. Climatol. 117:363–376) measured street trees in Gothenburg in leaf at
#: roughly a few to twenty per cent; 0.2 is the upper end, so shade is not overstated.
CROWN_TRANSMISSIVITY = 0.2


def rasterize(city: City, area: tuple[float, float, float, float] | None = None, cell_m: float = 2.0,
              *, crown_transmissivity: float = CROWN_TRANSMISSIVITY) -> Grids:
    """Rasterise ``city`` over ``area`` (``min_x, min_y, max_x, max_y``, local metres;
    default the city's bounding box) at ``cell_m`` metres a cell.

    The grid's north-west corner is ``(min_x, max_y)``; it has enough whole cells to
    cover the area, so its east and south edges may lie up to a cell beyond it.
    """
    if not cell_m > 0.0:
        raise RasterError(f"cell size {cell_m} m must be positive.")
    min_x, min_y, max_x, max_y = area if area is not None else city.bbox_m()
    # A tolerance keeps float noise in the extent from adding a whole row or column.
    cols = max(1, math.ceil((max_x - min_x) / cell_m - 1e-9))
    rows = max(1, math.ceil((max_y - min_y) / cell_m - 1e-9))
    grids = Grids.empty((min_x, max_y), cell_m, rows, cols, crown_transmissivity)
    buildings = grid_building_ids(city, _centre_extent(grids))
    layers: dict[str, Any] = burn(city, buildings, grids.origin, cell_m, (0, rows, 0, cols), crown_transmissivity)
    return replace(grids, building_ids=tuple(b.id for b in buildings), **layers)


def rasterize_window(city: City, grids: Grids, bbox: tuple[float, float, float, float]) -> Grids:
    """New grids equal to ``rasterize`` of the changed ``city`` over the same grid,
    recomputing only the cells that overlap ``bbox``.

    ``bbox`` must hold every change to the city (a new tree's crown, a building's old
    and new footprints…); everything outside it is copied from ``grids``. The
    ``building_ids`` list is rebuilt from the city and the copied ``building_id``
    cells renumbered, so a building added or removed anywhere in the list keeps every
    index exactly as a full rasterisation would give it.
    """
    buildings = grid_building_ids(city, _centre_extent(grids))
    new_ids = tuple(b.id for b in buildings)
    out = grids.copy()
    if new_ids != grids.building_ids:
        position = {bid: i for i, bid in enumerate(new_ids)}
        # Entry k + 1 is the new index of old index k; entry 0 keeps −1 as −1.
        renumber = np.array([-1] + [position.get(bid, -1) for bid in grids.building_ids], dtype=np.int32)
        out = replace(out, building_ids=new_ids, building_id=renumber[grids.building_id + 1])
    rows, cols = grids.window_of(bbox)
    if rows.start == rows.stop or cols.start == cols.stop:
        return out
    layers = burn(city, buildings, grids.origin, grids.cell_m, (rows.start, rows.stop, cols.start, cols.stop),
                  grids.crown_transmissivity)
    for name, values in layers.items():
        getattr(out, name)[rows, cols] = values
    return out


def _centre_extent(grids: Grids) -> tuple[float, float, float, float]:
    """The extent of the grid's cell centres: the features that can touch the grid reach it."""
    half = grids.cell_m / 2.0
    min_x, min_y, max_x, max_y = grids.bounds
    return (min_x + half, min_y + half, max_x - half, max_y - half)
