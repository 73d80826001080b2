"""Heat stress: UTCI over the grid from a SOLWEIG-style mean radiant temperature.

A comparison tool: what a citizen should read is the *difference* a tree or a
depaved plaza makes (the engine reports every KPI with its baseline and delta), not
the absolute numbers, which rest on a clear-sky, one-weather, simplified radiation
budget. For each cell, at the scenario's moment and weather (:class:`sims.scene.Conditions`):

1. the sun (:mod:`sims.sun`) and the clear-sky beam and diffuse light and sky
   long-wave (:mod:`sims.radiation`);
2. the shade fraction, buildings blocking fully and crowns by their transmissivity
   (:func:`sims.shade.shade_fraction`, the shade simulation's own model);
3. the sky view factor of buildings and, apart, of crowns, combined SOLWEIG's way
   (:mod:`sims.svf`) with one crown transmissivity, the grid's default (SOLWEIG too
   uses one value; a planted tree's own τ acts on its shade only);
4. the mean radiant temperature of a standing person (:mod:`sims.mrt`), with the
   ground's albedo, emissivity and sunlit warming by land cover (:data:`SURFACE_BY_CLASS`);
5. UTCI with the full polynomial of Bröde et al. (2012) (:func:`utci_c`; evaluated for
   the whole grid by :func:`utci_for_weather_c`, air temperature, humidity and wind
   being the same everywhere: the scenario's 10 m wind, with no sheltering by
   buildings or trees).

**Trees** cool here only through shade and sky view, as in SOLWEIG (Lindberg &
Grimmond 2011): their crowns cut the direct beam by 1 − τ, so the ground under them
warms only τ as much, and replace cold sky by leaves at air temperature. Green areas
are also about 1 K cooler in the air by day (the meta-analysis of Bowler, D.E. et al.
2010, Landscape Urban Plan. 97:147–155), but that needs an air-temperature model this
simulation does not have: no air cooling is added, so the benefit of a tree is, if
anything, understated.

**Public space** for the KPIs is where people walk and linger outdoors: sidewalks,
plazas, cycleways, parks, grass and forest (:data:`HEAT_PUBLIC_SPACE`). Carriageways,
parking, water, unknown ground (often private yards) and buildings are left out.
Both KPIs use the same cells: ``utci_mean_c``, their mean UTCI, and
``strong_heat_pct``, the share of them at or above 32 °C (strong heat stress or
worse, Bröde et al. 2012, Table 1); lower is better for both.

**Incremental updates** after a change with a bounding box redo the shade only where
the box's shadows reach (:func:`sims.shade.shade_fraction_window`), the building SVF
only within its search radius of the box when buildings changed, the crown SVF only
within its radius when crowns or buildings changed, and UTCI only on the rectangle
covering those; the KPIs come from per-row sums in which only the rows of that
rectangle are recomputed. Every per-cell step is elementwise (no reductions across
cells) and each row sum is taken over the same full row, so an update equals a full
run bit for bit. Changes of other kinds (traffic, treatments, barriers, seats) leave
the run as it was. The building and crown SVFs of the last full run are kept on the
instance, keyed by the surface they came from: a full run on the same geometry (a
new hour or weather) skips them.

**Cost** on the Helsinki sample (1 km² at 2 m, 500 × 500 cells; 2-core machine,
minimum of repeats, ``/tmp/heat/bench.py`` in the hand-over report): a full run ≈ 68 ms,
of which the two SVFs ≈ 36 ms and the shade fraction ≈ 18 ms; ≈ 30 ms with the SVFs
cached; an update after one tree ≈ 3 ms, after removing a building ≈ 9 ms.

The UTCI functions of the first implementation live in :mod:`sims._utci` and are
re-exported here unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sims import _utci
from sims._utci import (
    UTCI_STRESS_BANDS,
    UTCI_VALID_DTMRT_K,
    UTCI_VALID_TA_C,
    UTCI_VALID_VA_MS,
    StressBand,
    saturation_vapour_pressure_hpa,
    utci_c,
    utci_category,
    utci_for_weather_c,
)
from sims.field import ColourRamp, Field, Kpi, Result
from sims.mrt import SURFACES, RadiantParams, Sky, mean_radiant_temperature_c, surface_heating_k
from sims.radiation import clear_sky, sky_emissivity, sun_day
from sims.scene import Change, Run, Scene, Simulation
from sims.shade import shade_fraction, shade_fraction_window, shade_key
from sims.sun import solar_position
from sims.svf import sky_view_factor, sky_view_factor_window, svf_window, vegetation_svf
from world.raster import Grids, LandCover

__all__ = [
    "HEAT_PUBLIC_SPACE", "STRONG_HEAT_C", "SURFACE_BY_CLASS", "UTCI_RAMP", "HeatParams", "HeatSimulation",
    # Re-exported from sims._utci.
    "UTCI_STRESS_BANDS", "UTCI_VALID_DTMRT_K", "UTCI_VALID_TA_C", "UTCI_VALID_VA_MS", "StressBand",
    "saturation_vapour_pressure_hpa", "utci_c", "utci_category", "utci_for_weather_c",
]

_UTCI_COEFFS = _utci._UTCI_COEFFS

HEAT_PUBLIC_SPACE = (LandCover.SIDEWALK, LandCover.PLAZA, LandCover.CYCLEWAY, LandCover.PARK, LandCover.GRASS,
                     LandCover.FOREST)
"""Land cover counted as public space by the heat KPIs (module docstring)."""

STRONG_HEAT_C = next(b.lower_c for b in UTCI_STRESS_BANDS if b.name == "strong heat stress")
"""UTCI from which heat stress is strong (32 °C)."""

SURFACE_BY_CLASS: dict[LandCover, str] = {
    LandCover.OTHER: "bare_soil",  # unknown ground: between paving and grass
    LandCover.GRASS: "grass",
    LandCover.FOREST: "grass",  # the floor under the trees; the crowns are in the canopy layer
    LandCover.PARK: "grass",
    LandCover.PARKING: "asphalt",
    LandCover.PLAZA: "paving",
    LandCover.SIDEWALK: "paving",
    LandCover.CYCLEWAY: "asphalt",
    LandCover.CARRIAGEWAY: "asphalt",
    LandCover.WATER: "water",
    LandCover.BUILDING: "paving",  # roofs: never shown (NaN), kept finite
}
"""The :data:`sims.mrt.SURFACES` type of the ground of each land-cover class."""

_COLOURS = ((0, 0, 128), (0, 0, 255), (0, 102, 255), (0, 170, 255), (128, 212, 255), (46, 160, 67),
            (255, 170, 0), (255, 102, 0), (204, 0, 0), (128, 0, 0))


def _band_ramp() -> ColourRamp:
    """One flat colour per UTCI stress band, switching within 0.05 K below each bound."""
    stops: list[tuple[float, tuple[int, int, int, int]]] = []
    for band, (r, g, b) in zip(UTCI_STRESS_BANDS, _COLOURS, strict=True):
        if np.isfinite(band.lower_c):
            stops.append((band.lower_c, (r, g, b, 190)))
        if np.isfinite(band.upper_c):
            stops.append((band.upper_c - 0.05, (r, g, b, 190)))
    return ColourRamp(tuple(stops))


UTCI_RAMP = _band_ramp()
"""Colours of the heat field: one per UTCI stress band, blues (cold) to dark red."""


@dataclass(frozen=True, slots=True)
class HeatParams:
    """Parameters of the heat simulation.

    ``linke_turbidity``: haze of the clear sky (:func:`sims.radiation.clear_sky`; 3.5 is
    a moderately turbid summer city sky). ``svf_radius_m`` / ``svf_azimuths``: search
    radius and azimuths of the building SVF (:mod:`sims.svf`); ``crown_svf_radius_m``
    the radius of the crown SVF (the crowns that matter stand over or beside a cell).
    ``radiant``: body and wall properties (:mod:`sims.mrt`).

    The SVF defaults are cheaper than :mod:`sims.svf`'s (16 azimuths, 100 m) because
    UTCI barely feels the difference: on the Helsinki sample (1 km², 2 m, 30 °C
    midsummer afternoon) 12 azimuths and 60 m / 12 m give public-space UTCI within
    0.023 K (mean absolute; 0.27 K at most) of a 64-azimuth, 300 m / 60 m reference and
    the KPIs within 0.015 K and 0.015 points, at about half the cost of the SVF.
    """

    linke_turbidity: float = 3.5
    svf_radius_m: float = 60.0
    svf_azimuths: int = 12
    crown_svf_radius_m: float = 12.0
    radiant: RadiantParams = field(default_factory=RadiantParams)

    def __post_init__(self) -> None:
        if not 0.5 <= self.linke_turbidity <= 10.0:
            raise ValueError(f"a Linke turbidity of {self.linke_turbidity} is outside 0.5…10")
        if self.svf_radius_m < 0 or self.crown_svf_radius_m < 0:
            raise ValueError("SVF search radii must be zero or more metres")
        if self.svf_azimuths < 4:
            raise ValueError(f"the SVF needs at least 4 azimuths, got {self.svf_azimuths}")


@dataclass(frozen=True, slots=True, eq=False)
class _Layers:
    surface: NDArray[np.float32]  # ground + buildings: obstacles and observer heights
    crowns: NDArray[np.float32]  # crown tops on the same datum, −inf where none
    dsm: NDArray[np.float64]  # the same, as the shade model takes them
    canopy: NDArray[np.float64]
    tau: NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class _HeatState:
    key: tuple[Any, ...]
    sun: tuple[float, float]
    sky: Sky
    tables: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]  # albedo, ε, ΔT by class
    layers: _Layers
    shade: NDArray[np.float64]
    svf_buildings: NDArray[np.float32]
    svf_crowns: NDArray[np.float32]
    utci: NDArray[np.float64]
    row_sum: NDArray[np.float64]
    row_hot: NDArray[np.int64]
    row_public: NDArray[np.int64]


def _layers(grids: Grids, cells: tuple[slice, slice] = (slice(None), slice(None)),
            previous: _Layers | None = None) -> _Layers:
    """The layers of ``grids``; with ``previous``, the layers of ``previous`` with only
    ``cells`` recomputed (elementwise, so equal to recomputing everything): a layer
    whose cells did not change is shared, the others are patched copies."""
    ground32 = grids.ground_m[cells]
    ground = ground32.astype(np.float64)
    has_crown = grids.canopy_m[cells] > 0.0
    dsm = ground + grids.building_m[cells]
    canopy = np.where(has_crown, ground + grids.canopy_m[cells], 0.0)
    block = _Layers(surface=ground32 + grids.building_m[cells],
                    crowns=np.where(has_crown, ground32 + grids.canopy_m[cells], np.float32(-np.inf)),
                    dsm=dsm, canopy=canopy, tau=grids.transmissivity[cells].astype(np.float64))
    if previous is None:
        return block
    patched = {}
    for name in ("surface", "crowns", "dsm", "canopy", "tau"):
        array = getattr(previous, name)
        if not np.array_equal(array[cells], getattr(block, name)):
            array = array.copy()
            array[cells] = getattr(block, name)
        patched[name] = array
    return _Layers(**patched)


class HeatSimulation(Simulation):
    """Heat stress (UTCI) at the scenario's moment and weather; see the module docstring.

    Field ``heat``: UTCI, °C, NaN inside buildings, coloured by stress band. KPIs
    ``utci_mean_c`` and ``strong_heat_pct`` over :data:`HEAT_PUBLIC_SPACE` (NaN mean
    when the grid holds no public space).
    """

    name = "heat"
    label = "Heat stress (UTCI)"

    def __init__(self, params: HeatParams | None = None) -> None:
        self.params = params or HeatParams()
        # (cell_m, surface, crowns, svf of buildings, svf of crowns) of the last full run.
        self._svf_cache: tuple[float, NDArray[np.float32], NDArray[np.float32], NDArray[np.float32],
                               NDArray[np.float32]] | None = None

    # -- full run ---------------------------------------------------------------------

    def run(self, scene: Scene) -> Run:
        grids = scene.grids
        layers = _layers(grids)
        sun, sky, tables = self._sky(scene)
        shade = scene.memoised(shade_key(sun), lambda: shade_fraction(layers.dsm, layers.canopy, layers.tau,
                                                                       grids.cell_m, *sun))
        svf_b, svf_c = self._svfs(layers, grids.cell_m)
        n_rows, n_cols = grids.shape
        utci = np.empty(grids.shape, dtype=np.float64)
        row_sum = np.zeros(n_rows)
        row_hot = np.zeros(n_rows, dtype=np.int64)
        row_public = np.zeros(n_rows, dtype=np.int64)
        state = _HeatState(self._key(scene), sun, sky, tables, layers, shade, svf_b, svf_c, utci, row_sum, row_hot,
                           row_public)
        self._fill(state, scene, (0, n_rows, 0, n_cols))
        return self._run(scene, state)

    def _svfs(self, layers: _Layers, cell_m: float) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        cached = self._svf_cache
        if (cached is not None and cached[0] == cell_m and np.array_equal(cached[1], layers.surface)
                and np.array_equal(cached[2], layers.crowns)):
            return cached[3], cached[4]
        p = self.params
        svf_b = sky_view_factor(layers.surface, cell_m, radius_m=p.svf_radius_m, azimuths=p.svf_azimuths)
        svf_c = sky_view_factor(layers.crowns, cell_m, observer_m=layers.surface, radius_m=p.crown_svf_radius_m,
                                azimuths=p.svf_azimuths)
        self._svf_cache = (cell_m, layers.surface, layers.crowns, svf_b, svf_c)
        return svf_b, svf_c

    def _key(self, scene: Scene) -> tuple[Any, ...]:
        grids = scene.grids
        return (scene.conditions, self.params, grids.shape, grids.origin, grids.cell_m, grids.crown_transmissivity)

    def _sky(self, scene: Scene) -> tuple[tuple[float, float], Sky,
                                          tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]]:
        """The sun, the sky scalars and the per-class ground tables (albedo, emissivity,
        sunlit warming in K) of the scene's moment."""
        c = scene.conditions
        position = solar_position(c.when, c.lat_deg, c.lon_deg)
        azimuth_deg, elevation_deg = float(position.azimuth_deg), float(position.elevation_deg)
        light = clear_sky(elevation_deg, c.when.timetuple().tm_yday, self.params.linke_turbidity)
        day = sun_day(c.lat_deg, azimuth_deg, elevation_deg)
        up = elevation_deg > 0.0
        sky = Sky(elevation_deg, light.beam_normal_wm2, light.diffuse_wm2, c.air_temperature_c,
                  sky_emissivity(c.air_temperature_c, c.relative_humidity_pct),
                  surface_heating_k(SURFACES["wall"], day) if up else 0.0)
        size = max(int(v) for v in LandCover) + 1
        albedo, emissivity, heating = (np.zeros(size, np.float32), np.ones(size, np.float32),
                                       np.zeros(size, np.float32))
        for code, name in SURFACE_BY_CLASS.items():
            surface = SURFACES[name]
            albedo[code], emissivity[code] = surface.albedo, surface.emissivity
            heating[code] = surface_heating_k(surface, day) if up else 0.0
        return (azimuth_deg, elevation_deg), sky, (albedo, emissivity, heating)

    # -- per-cell work on a window --------------------------------------------------

    def _fill(self, state: _HeatState, scene: Scene, window: tuple[int, int, int, int]) -> None:
        """Compute UTCI on ``window`` (r0, r1, c0, c1) into ``state.utci`` and redo the
        row sums of its rows, in place (the arrays are the new state's own)."""
        r0, r1, c0, c1 = window
        grids = scene.grids
        c = scene.conditions
        cells = (slice(r0, r1), slice(c0, c1))
        cover = grids.landcover[cells]
        albedo, emissivity, heating = state.tables
        psi_b = state.svf_buildings[cells]
        psi = vegetation_svf(psi_b, state.svf_crowns[cells], grids.crown_transmissivity)
        sunlit = (1.0 - state.shade[cells]).astype(np.float32)
        tmrt = mean_radiant_temperature_c(state.sky, psi, psi_b, sunlit, albedo[cover], emissivity[cover],
                                          heating[cover], self.params.radiant)
        utci = utci_for_weather_c(c.air_temperature_c, tmrt, c.wind_ms, c.relative_humidity_pct)
        utci[cover == LandCover.BUILDING] = np.nan
        state.utci[cells] = utci
        rows = slice(r0, r1)
        public = np.isin(grids.landcover[rows], HEAT_PUBLIC_SPACE)
        values = state.utci[rows]
        state.row_sum[rows] = np.where(public, values, 0.0).sum(axis=1)
        state.row_hot[rows] = (public & (values >= STRONG_HEAT_C)).sum(axis=1)
        state.row_public[rows] = public.sum(axis=1)

    def _run(self, scene: Scene, state: _HeatState) -> Run:
        public = int(state.row_public.sum())
        mean_c = float(state.row_sum.sum()) / public if public else float("nan")
        hot_pct = 100.0 * int(state.row_hot.sum()) / public if public else 0.0
        c = scene.conditions
        kpis = {
            "utci_mean_c": Kpi("utci_mean_c", mean_c, "°C", "lower", "Mean heat stress (UTCI) in public space"),
            "strong_heat_pct": Kpi("strong_heat_pct", hot_pct, "%", "lower",
                                   "Public space in strong heat stress or worse (UTCI ≥ 32 °C)"),
        }
        legend = (f"UTCI, °C, {c.when:%d %b %H:%M}, air {c.air_temperature_c:g} °C, "
                  f"RH {c.relative_humidity_pct:g} %, wind {c.wind_ms:g} m/s; colours: UTCI stress bands")
        heat_field = Field("heat", state.utci, "°C", UTCI_RAMP, legend)
        return Run(Result(heat_field, kpis), state)

    # -- incremental update -----------------------------------------------------------

    def update(self, before: Run, scene: Scene, change: Change) -> Run:
        if not change.touches("surface", "buildings", "landcover"):
            return before
        state = before.state
        if change.bbox is None or not isinstance(state, _HeatState) or state.key != self._key(scene):
            return self.run(scene)
        grids = scene.grids
        rows, cols = grids.window_of(change.bbox)
        if rows.start >= rows.stop or cols.start >= cols.stop:
            return before
        box = (rows, cols)
        old = state.layers
        layers = _layers(grids, box, old)
        buildings_changed = not np.array_equal(layers.surface[box], old.surface[box])
        crowns_changed = buildings_changed or not np.array_equal(layers.crowns[box], old.crowns[box])
        tau_changed = not np.array_equal(layers.tau[box], old.tau[box])
        windows = [(rows.start, rows.stop, cols.start, cols.stop)]
        p = self.params

        shade = state.shade
        if crowns_changed or tau_changed:
            # The shade model needs the box's highest point before the change (a lowered one).
            old_top_m = float(max(old.dsm[box].max(), old.canopy[box].max()))
            shade = scene.memoised(shade_key(state.sun), lambda: shade_fraction_window(
                layers.dsm, layers.canopy, layers.tau, grids.cell_m, *state.sun, rows, cols, state.shade,
                previous_top_m=old_top_m))
            windows.append(_bounds_of(shade != state.shade))
        svf_b = state.svf_buildings
        if buildings_changed:
            svf_b = sky_view_factor_window(layers.surface, grids.cell_m, rows, cols, state.svf_buildings,
                                           radius_m=p.svf_radius_m, azimuths=p.svf_azimuths)
            windows.append(_slices(svf_window(grids.shape, grids.cell_m, rows, cols, radius_m=p.svf_radius_m,
                                              azimuths=p.svf_azimuths)))
        svf_c = state.svf_crowns
        if crowns_changed:
            svf_c = sky_view_factor_window(layers.crowns, grids.cell_m, rows, cols, state.svf_crowns,
                                           observer_m=layers.surface, radius_m=p.crown_svf_radius_m,
                                           azimuths=p.svf_azimuths)
            windows.append(_slices(svf_window(grids.shape, grids.cell_m, rows, cols,
                                              radius_m=p.crown_svf_radius_m, azimuths=p.svf_azimuths)))
        found = [w for w in windows if w[0] < w[1] and w[2] < w[3]]
        window = (min(w[0] for w in found), max(w[1] for w in found), min(w[2] for w in found),
                  max(w[3] for w in found))
        new = _HeatState(state.key, state.sun, state.sky, state.tables, layers, shade, svf_b, svf_c, state.utci.copy(),
                         state.row_sum.copy(), state.row_hot.copy(), state.row_public.copy())
        self._fill(new, scene, window)
        return self._run(scene, new)


def _slices(window: tuple[slice, slice]) -> tuple[int, int, int, int]:
    rows, cols = window
    return (rows.start, rows.stop, cols.start, cols.stop)


def _bounds_of(mask: NDArray[np.bool_]) -> tuple[int, int, int, int]:
    """(r0, r1, c0, c1) of the True cells; an empty window when there are none."""
    any_rows = np.flatnonzero(mask.any(axis=1))
    if any_rows.size == 0:
        return (0, 0, 0, 0)
    any_cols = np.flatnonzero(mask.any(axis=0))
    return (int(any_rows[0]), int(any_rows[-1]) + 1, int(any_cols[0]), int(any_cols[-1]) + 1)
