"""Storm-water runoff by the SCS curve-number method.

Source: USDA Natural Resources Conservation Service (1986), *Urban Hydrology for
Small Watersheds*, Technical Release 55 (TR-55), 2nd ed., chapter 2:

* eq. 2-1  Q = (P − Ia)² / (P − Ia + S)   for P > Ia, else Q = 0
* eq. 2-2  Ia = 0.2 S
* eq. 2-3  Q = (P − 0.2 S)² / (P + 0.8 S)
* eq. 2-4  S = 1000 / CN − 10 (inches), i.e. S = 25400 / CN − 254 (mm)

Curve numbers per hydrologic soil group A/B/C/D are typed in from TR-55
Table 2-2a (urban areas) and, for woods, Table 2-2c (other agricultural lands),
in :data:`TR55_CN`. The raster's land-cover classes (:class:`world.raster.LandCover`)
and two intervention surfaces map onto those rows in :data:`CN_BY_CLASS`, keyed by
class name. Assumptions beyond TR-55, each stated where it is used:

* **water**: not in Table 2-2a; CN = 100, i.e. rain on open water counts fully as
  runoff (it joins the drainage system or the water body directly). To leave
  water out of the balance, mask those cells before calling :func:`runoff`.
* **green roof**: CN = 86 for every soil group (the substrate, not the ground,
  governs), from the extensive green roof monitored by Carter T.L., Rasmussen
  T.C. (2006), Hydrologic behavior of vegetated roofs, JAWRA 42(5):1261–1274.
  Fassman-Beck et al. (2016), J. Hydrol. Eng. 21(3), suggest CN 84 for large
  events; 86 is the more conservative choice.
* **permeable paving**: CN = 70 for every soil group. This is a project
  assumption for permeable pavers over an open-graded storage bed (between
  TR-55's gravel road and open space in fair condition), not a published value.
* **rain garden**: modelled as storage, not as a curve number: a depth in mm per
  cell (the ``storage_mm`` argument of :func:`runoff`) is taken off the rain
  before the curve-number method is applied, as an extra initial abstraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims.field import ColourRamp, Field, Kpi, Result
from sims.scene import Change, Run, Scene, Simulation
from world.raster import LandCover, SurfaceTreatment

__all__ = [
    "CN_BY_CLASS",
    "CLASS_TO_TR55",
    "SOIL_GROUPS",
    "TR55_CN",
    "RunoffParams",
    "RunoffResult",
    "RunoffSimulation",
    "curve_numbers",
    "runoff",
    "scs_runoff_mm",
]

SOIL_GROUPS = ("A", "B", "C", "D")
"""NRCS hydrologic soil groups, from high (A) to very low (D) infiltration."""

TR55_CN: dict[str, tuple[int, int, int, int]] = {
    # TR-55 Table 2-2a, urban areas (soil groups A, B, C, D).
    "open_space_poor": (68, 79, 86, 89),  # lawns, parks: grass cover < 50 %
    "open_space_fair": (49, 69, 79, 84),  # grass cover 50-75 %
    "open_space_good": (39, 61, 74, 80),  # grass cover > 75 %
    "impervious": (98, 98, 98, 98),  # paved parking lots, roofs, driveways
    "street_paved_curbs": (98, 98, 98, 98),  # paved, curbs and storm sewers
    "street_paved_ditches": (83, 89, 92, 93),  # paved, open ditches
    "street_gravel": (76, 85, 89, 91),
    "street_dirt": (72, 82, 87, 89),
    "commercial": (89, 92, 94, 95),  # urban district, 85 % impervious
    "industrial": (81, 88, 91, 93),  # urban district, 72 % impervious
    # TR-55 Table 2-2c, woods.
    "woods_poor": (45, 66, 77, 83),
    "woods_fair": (36, 60, 73, 79),
    "woods_good": (30, 55, 70, 77),
    # Assumptions documented in the module docstring.
    "water": (100, 100, 100, 100),
    "green_roof": (86, 86, 86, 86),
    "permeable_paving": (70, 70, 70, 70),
}
"""Curve numbers (A, B, C, D) by TR-55 cover type; see the module docstring."""


CLASS_TO_TR55: dict[str, str] = {
    "building": "impervious",
    "carriageway": "street_paved_curbs",
    "sidewalk": "impervious",
    "cycleway": "impervious",
    "plaza": "impervious",
    "parking": "impervious",
    "grass": "open_space_good",
    "park": "open_space_good",
    "forest": "woods_good",
    "water": "water",
    # Unknown ground: treated as open space in fair condition (some bare or
    # compacted ground), between lawn and pavement.
    "other": "open_space_fair",
    # Not raster classes: interventions put these curve numbers on the cells they cover.
    "green_roof": "green_roof",
    "permeable_paving": "permeable_paving",
}
"""Land-cover class name (:class:`world.raster.LandCover`, lower case, plus the two
intervention surfaces) → TR-55 cover type in :data:`TR55_CN`."""

CN_BY_CLASS: dict[str, dict[str, int]] = {
    name: dict(zip(SOIL_GROUPS, TR55_CN[cover], strict=True)) for name, cover in CLASS_TO_TR55.items()
}
"""Curve number by land-cover class name and soil group, e.g. ``CN_BY_CLASS["park"]["B"] == 61``."""

_MM_PER_M = 1000.0


def scs_runoff_mm(p_mm: ArrayLike, cn: ArrayLike) -> NDArray[np.float64]:
    """Runoff depth Q (mm) for rain depth P (mm) and curve number CN (TR-55 eq. 2-1…2-4).

    Broadcasts ``p_mm`` against ``cn``. CN must lie in (0, 100] and P be ≥ 0;
    CN = 100 gives Q = P.

    >>> float(scs_runoff_mm(50.0, 100))
    50.0
    >>> round(float(scs_runoff_mm(2 * 25.4, 80)) / 25.4, 2)
    0.56
    """
    p, c = np.broadcast_arrays(np.asarray(p_mm, dtype=np.float64), np.asarray(cn, dtype=np.float64))
    if not np.all(np.isfinite(p)) or np.any(p < 0.0):
        raise ValueError("Rain depth must be a finite number of millimetres, zero or more.")
    if not np.all(np.isfinite(c)) or np.any((c <= 0.0) | (c > 100.0)):
        raise ValueError("Curve numbers must be greater than 0 and at most 100.")
    s_mm = 25400.0 / c - 254.0
    ia_mm = 0.2 * s_mm
    excess_mm = np.maximum(p - ia_mm, 0.0)
    denom_mm = excess_mm + s_mm
    # denom is 0 only where S = 0 and P = Ia = 0, where Q = 0 as well.
    safe_mm = np.where(denom_mm > 0.0, denom_mm, 1.0)
    q_mm = np.where(denom_mm > 0.0, excess_mm * excess_mm / safe_mm, 0.0)
    return np.asarray(np.minimum(q_mm, p))


def curve_numbers(landcover: ArrayLike, soil_group: str) -> NDArray[np.float64]:
    """Curve-number grid for a grid of :class:`world.raster.LandCover` codes or class names.

    >>> curve_numbers([LandCover.BUILDING, LandCover.PARK], "B").tolist()
    [98.0, 61.0]
    >>> curve_numbers(["forest", "water", "green_roof"], "D").tolist()
    [77.0, 100.0, 86.0]
    """
    if soil_group not in SOIL_GROUPS:
        raise ValueError(f"Soil group {soil_group!r} is not one of A, B, C or D.")
    codes = np.asarray(landcover)
    out = np.empty(codes.shape, dtype=np.float64)
    if codes.dtype.kind in "US":
        for name in np.unique(codes):
            key = str(name)
            if key not in CN_BY_CLASS:
                raise ValueError(f"Land-cover class {key!r} has no curve number.")
            out[codes == name] = CN_BY_CLASS[key][soil_group]
    elif codes.dtype.kind in "iu":
        lookup = np.full(max(LandCover) + 1, np.nan)
        for cover in LandCover:
            lookup[cover.value] = CN_BY_CLASS[cover.name.lower()][soil_group]
        bad = (codes < 0) | (codes >= lookup.size)
        if np.any(bad) or np.any(np.isnan(lookup[np.where(bad, 0, codes)])):
            raise ValueError(f"Land-cover codes must be LandCover values (0 to {max(LandCover)}).")
        out[...] = lookup[codes]
    else:
        raise ValueError("Land cover must be given as integer LandCover codes or class names.")
    return out


@dataclass(frozen=True)
class RunoffResult:
    """Per-cell runoff and the water balance of one storm over a grid."""

    runoff_mm: NDArray[np.float64]
    """Runoff depth per cell, mm."""
    runoff_volume_m3: float
    """Total runoff volume, m³ (KPI, lower is better)."""
    rain_volume_m3: float
    """Total rain volume on the grid, m³."""
    retained_pct: float
    """Share of the rain that does not run off, % (KPI, higher is better)."""


def runoff(
    cn_grid: ArrayLike,
    cell_m: float,
    rain_mm: ArrayLike,
    storage_mm: ArrayLike | None = None,
) -> RunoffResult:
    """Runoff of a design storm over a curve-number grid of square cells ``cell_m`` wide.

    ``rain_mm`` is a depth broadcast over the grid; ``storage_mm`` (e.g. rain
    gardens) is subtracted from the rain of each cell before the curve-number
    method. A grid with no rain retains 100 %.

    >>> result = runoff([[98.0, 61.0]], cell_m=10.0, rain_mm=30.0)
    >>> round(result.rain_volume_m3, 1), round(result.retained_pct, 1)
    (6.0, 59.1)
    """
    if not np.isfinite(cell_m) or cell_m <= 0.0:
        raise ValueError("Cell size must be a positive number of metres.")
    cn = np.asarray(cn_grid, dtype=np.float64)
    rain = np.broadcast_to(np.asarray(rain_mm, dtype=np.float64), cn.shape)
    effective_mm = rain
    if storage_mm is not None:
        storage = np.broadcast_to(np.asarray(storage_mm, dtype=np.float64), cn.shape)
        if not np.all(np.isfinite(storage)) or np.any(storage < 0.0):
            raise ValueError("Storage depths must be finite millimetres, zero or more.")
        effective_mm = np.maximum(rain - storage, 0.0)
    q_mm = scs_runoff_mm(effective_mm, cn)
    cell_area_m2 = cell_m * cell_m
    runoff_m3 = float(q_mm.sum()) * cell_area_m2 / _MM_PER_M
    rain_m3 = float(rain.sum()) * cell_area_m2 / _MM_PER_M
    retained = 100.0 if rain_m3 == 0.0 else 100.0 * (1.0 - runoff_m3 / rain_m3)
    return RunoffResult(
        runoff_mm=q_mm,
        runoff_volume_m3=runoff_m3,
        rain_volume_m3=rain_m3,
        retained_pct=retained,
    )


_RAMP = ColourRamp(((0.0, (214, 239, 255, 60)), (5.0, (150, 200, 240, 150)), (15.0, (60, 130, 210, 190)),
                    (30.0, (20, 50, 140, 220))))
#: Treatments that set their own curve number (a rain garden holds water instead: storage).
_TREATMENT_CN = {SurfaceTreatment.GREEN_ROOF: "green_roof", SurfaceTreatment.PERMEABLE_PAVING: "permeable_paving"}


@dataclass(frozen=True, slots=True)
class RunoffParams:
    """Nothing beyond the scenario's rain and soil group; kept for the common shape."""


class RunoffSimulation(Simulation):
    """Runoff of the scenario's design storm (``Conditions.rain_mm``) by the curve-number
    method, per cell, with green roofs and permeable paving as their own curve numbers and
    rain gardens (``Grids.storage_mm``) as storage taken off the rain first.

    Open water is left out of the balance: rain on a lake or the sea is not storm water.
    KPIs: ``runoff_m3`` (lower is better) and ``rain_retained_pct`` (higher is better);
    the change against the baseline is the engine's delta.
    """

    name = "runoff"
    label = "Stormwater runoff"

    def __init__(self, params: RunoffParams | None = None) -> None:
        self.params = params or RunoffParams()

    def run(self, scene: Scene) -> Run:
        grids = scene.grids
        rows, cols = grids.shape
        return self._result(scene, _runoff_mm(scene, slice(0, rows), slice(0, cols)))

    def update(self, before: Run, scene: Scene, change: Change) -> Run:
        if change.bbox is None or before.state.shape != scene.grids.shape:
            return self.run(scene)
        if not change.touches("landcover", "treatment", "buildings", "surface"):
            return before
        rows, cols = scene.grids.window_of(change.bbox)
        runoff_mm = before.state.copy()
        runoff_mm[rows, cols] = _runoff_mm(scene, rows, cols)
        return self._result(scene, runoff_mm)

    def _result(self, scene: Scene, runoff_mm: np.ndarray) -> Run:
        grids = scene.grids
        land = grids.landcover != LandCover.WATER
        cell_m2 = grids.cell_m * grids.cell_m
        runoff_m3 = float(np.nansum(runoff_mm)) * cell_m2 / _MM_PER_M
        rain_m3 = float(land.sum()) * scene.conditions.rain_mm * cell_m2 / _MM_PER_M
        retained = 100.0 if rain_m3 == 0.0 else 100.0 * (1.0 - runoff_m3 / rain_m3)
        kpis = {
            "runoff_m3": Kpi("runoff_m3", runoff_m3, "m³", "lower", "Storm water running off"),
            "rain_retained_pct": Kpi("rain_retained_pct", retained, "%", "higher", "Rain held where it falls"),
        }
        legend = f"Runoff of a {scene.conditions.rain_mm:g} mm storm, soil group {scene.conditions.soil_group}"
        return Run(Result(Field("runoff", runoff_mm, "mm", _RAMP, legend), kpis), runoff_mm)


def _runoff_mm(scene: Scene, rows: slice, cols: slice) -> np.ndarray:
    """Runoff depth (mm) of the cells ``[rows, cols]``; NaN on open water."""
    grids, conditions = scene.grids, scene.conditions
    cover = grids.landcover[rows, cols]
    cn = curve_numbers(cover, conditions.soil_group)
    treatment = grids.treatment[rows, cols]
    for code, name in _TREATMENT_CN.items():
        cn[treatment == code] = CN_BY_CLASS[name][conditions.soil_group]
    rain_mm = np.maximum(conditions.rain_mm - grids.storage_mm[rows, cols].astype(np.float64), 0.0)
    runoff_mm = scs_runoff_mm(rain_mm, cn)
    runoff_mm[cover == LandCover.WATER] = np.nan
    return runoff_mm
