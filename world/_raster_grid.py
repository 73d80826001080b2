"""The grid the simulations run on: land-cover codes, per-class imperviousness, :class:`Grids`.

Row 0 is the northern row and column 0 the western column; the centre of cell
``(i, j)`` lies at ``(west + (j + 0.5)·cell_m, north − (i + 0.5)·cell_m)`` in local
metres (x east, y north).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import IntEnum

import numpy as np

from world.errors import WorldError

__all__ = ["RasterError", "LandCover", "IMPERVIOUS", "SurfaceTreatment", "LAYERS", "Grids"]


class RasterError(WorldError):
    """A grid request is impossible (empty area, a point outside the grid, a bad override)."""


class LandCover(IntEnum):
    """Land-cover codes of ``Grids.landcover`` (uint8).

    The value order *is* the priority order: where several features cover a cell
    centre the highest code wins, so building > water > carriageway > cycleway >
    sidewalk > plaza > parking > park > forest > grass > other. ``OTHER`` is bare or
    unknown ground, the value of cells no feature covers.
    """

    OTHER = 0
    GRASS = 1
    FOREST = 2
    PARK = 3
    PARKING = 4
    PLAZA = 5
    SIDEWALK = 6
    CYCLEWAY = 7
    CARRIAGEWAY = 8
    WATER = 9
    BUILDING = 10


#: Impervious fraction (0..1) of each land-cover class, indexed by code. Assumptions,
#: in line with the "impervious" column of TR-55 (USDA 1986) Table 2-2a, where paved
#: parking lots, roofs and driveways are fully impervious: roofs, carriageways, cycleways
#: and parking 1.0; jointed paving of sidewalks 0.9 and plazas (paving with some
#: planting) 0.8; parks 0.15 (their paths); grass, forest 0; water 0 (rain falls on
#: open water; a runoff model treats it apart); unknown ground 0.5.
IMPERVIOUS = np.array([0.5, 0.0, 0.0, 0.15, 1.0, 0.8, 0.9, 1.0, 1.0, 0.0, 1.0], dtype=np.float32)

class SurfaceTreatment(IntEnum):
    """Codes of ``Grids.treatment`` (uint8): the surface treatment over a cell, for runoff.

    The names, lower-cased, are the ``treatment`` strings of :class:`world.city.Treatment`
    (``SurfaceTreatment["GREEN_ROOF"]`` for ``"green_roof"``). Where treatments overlap
    the highest code wins, so rain garden > permeable paving > green roof; ``NONE`` is
    the value of untreated cells.

    >>> SurfaceTreatment.from_name("rain_garden"), int(SurfaceTreatment.NONE)
    (<SurfaceTreatment.RAIN_GARDEN: 3>, 0)
    """

    NONE = 0
    GREEN_ROOF = 1
    PERMEABLE_PAVING = 2
    RAIN_GARDEN = 3

    @classmethod
    def from_name(cls, name: str) -> SurfaceTreatment:
        """The code of a :class:`world.city.Treatment` ``treatment`` string;
        :class:`RasterError` for a name that is none of them."""
        try:
            code = cls[name.upper()]
        except KeyError:
            code = cls.NONE
        if code is cls.NONE:
            names = ", ".join(t.name.lower() for t in cls if t is not cls.NONE)
            raise RasterError(f"surface treatment {name!r} is not one of {names}.")
        return code


#: The array layers of a :class:`Grids`, each of shape ``(rows, cols)``.
LAYERS = ("ground_m", "building_m", "canopy_m", "canopy_base_m", "transmissivity",
          "landcover", "impervious", "building_id", "treatment", "storage_mm")


@dataclass(frozen=True, slots=True, eq=False)
class Grids:
    """Aligned raster layers over a rectangle of the city.

    ``origin`` is the north-west corner ``(west_x_m, north_y_m)``. Layers (shape
    ``(rows, cols)``): ``ground_m`` (float32 terrain height, 0: the model has no
    terrain), ``building_m`` (float32 building top above ground, 0 elsewhere;
    ground + building is the surface model for shadows), ``canopy_m`` and
    ``canopy_base_m`` (float32 top and base of tree crowns, 0 where none),
    ``transmissivity`` (float32 fraction of direct sun the crowns let through, 1
    where none), ``landcover`` (uint8 :class:`LandCover`), ``impervious`` (float32
    0..1, from :data:`IMPERVIOUS`), ``building_id`` (int32 index into
    ``building_ids``, −1 where no building), ``treatment`` (uint8
    :class:`SurfaceTreatment`, 0 where none) and ``storage_mm`` (float32 depth of
    rain, mm, that a treatment holds before any runs off; 0 where none).
    ``crown_transmissivity`` is the value
    used for crowns, kept so that a window can be re-rasterised the same way.

    The dataclass is frozen, the arrays are not: treat them as read-only and derive
    new grids with :func:`world.raster.rasterize_window`.

    >>> g = Grids.empty((0.0, 10.0), 2.0, rows=5, cols=3)
    >>> g.bounds
    (0.0, 0.0, 6.0, 10.0)
    >>> g.cell_of(5.0, 9.0), g.cell_centre(0, 2)
    ((0, 2), (5.0, 9.0))
    >>> g.window_of((1.0, 1.0, 3.0, 3.0))
    (slice(3, 5, None), slice(0, 2, None))
    """

    cell_m: float
    origin: tuple[float, float]
    building_ids: tuple[str, ...]
    crown_transmissivity: float
    ground_m: np.ndarray
    building_m: np.ndarray
    canopy_m: np.ndarray
    canopy_base_m: np.ndarray
    transmissivity: np.ndarray
    landcover: np.ndarray
    impervious: np.ndarray
    building_id: np.ndarray
    treatment: np.ndarray
    storage_mm: np.ndarray

    @classmethod
    def empty(cls, origin: tuple[float, float], cell_m: float, rows: int, cols: int,
              crown_transmissivity: float = 0.2) -> Grids:
        """Grids with every layer at its no-feature value."""
        shape = (rows, cols)
        return cls(cell_m=float(cell_m), origin=(float(origin[0]), float(origin[1])), building_ids=(),
                   crown_transmissivity=float(crown_transmissivity),
                   ground_m=np.zeros(shape, np.float32), building_m=np.zeros(shape, np.float32),
                   canopy_m=np.zeros(shape, np.float32), canopy_base_m=np.zeros(shape, np.float32),
                   transmissivity=np.ones(shape, np.float32),
                   landcover=np.full(shape, LandCover.OTHER, np.uint8),
                   impervious=np.full(shape, IMPERVIOUS[LandCover.OTHER], np.float32),
                   building_id=np.full(shape, -1, np.int32),
                   treatment=np.full(shape, SurfaceTreatment.NONE, np.uint8),
                   storage_mm=np.zeros(shape, np.float32))

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.landcover.shape[0]), int(self.landcover.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_x, min_y, max_x, max_y)`` of the whole grid, local metres."""
        rows, cols = self.shape
        west, north = self.origin
        return (west, north - rows * self.cell_m, west + cols * self.cell_m, north)

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """The affine ``(a, b, c, d, e, f)`` with ``x = a·col + b·row + c`` and
        ``y = d·col + e·row + f`` for cell corners (GDAL / rasterio order)."""
        return (self.cell_m, 0.0, self.origin[0], 0.0, -self.cell_m, self.origin[1])

    @property
    def xs(self) -> np.ndarray:
        """x of the cell centres of each column, local metres (float64)."""
        return self.origin[0] + (np.arange(self.shape[1]) + 0.5) * self.cell_m

    @property
    def ys(self) -> np.ndarray:
        """y of the cell centres of each row, local metres (float64)."""
        return self.origin[1] - (np.arange(self.shape[0]) + 0.5) * self.cell_m

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        """The local-metre centre of cell ``(row, col)``."""
        return (self.origin[0] + (col + 0.5) * self.cell_m, self.origin[1] - (row + 0.5) * self.cell_m)

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """``(row, col)`` of the cell holding the point; :class:`RasterError` outside the grid."""
        col = math.floor((x - self.origin[0]) / self.cell_m)
        row = math.floor((self.origin[1] - y) / self.cell_m)
        rows, cols = self.shape
        if not (0 <= row < rows and 0 <= col < cols):
            raise RasterError(f"point ({x:.1f}, {y:.1f}) m lies outside the grid {self.bounds}.")
        return (row, col)

    def window_of(self, bbox: tuple[float, float, float, float]) -> tuple[slice, slice]:
        """``(rows, cols)`` slices of the cells that overlap ``bbox`` (min_x, min_y, max_x,
        max_y), clipped to the grid; empty slices when it misses the grid."""
        rows, cols = self.shape
        west, north = self.origin
        c0 = min(max(math.floor((bbox[0] - west) / self.cell_m), 0), cols)
        c1 = min(max(math.ceil((bbox[2] - west) / self.cell_m), c0), cols)
        r0 = min(max(math.floor((north - bbox[3]) / self.cell_m), 0), rows)
        r1 = min(max(math.ceil((north - bbox[1]) / self.cell_m), r0), rows)
        return (slice(r0, r1), slice(c0, c1))

    def copy(self) -> Grids:
        """Grids with copies of every layer."""
        return replace(self, **{name: getattr(self, name).copy() for name in LAYERS})
