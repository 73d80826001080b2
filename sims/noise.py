"""Road traffic noise: CNOSSOS-EU emission and propagation, L_den on a map and at homes.

What it computes (Commission Directive (EU) 2015/996, Annex II, as corrected by
Commission Delegated Directive (EU) 2021/1226; the propagation as verified by
ISO/TR 17534-4:2020):

* **Emission** (:func:`road_emission_db`): rolling and propulsion noise of light (1),
  medium (2) and heavy (3) vehicles per octave band 63 Hz–8 kHz from the flow, heavy share
  and speed of every carriageway (:class:`world.raster.Segments`) and each period; see
  :mod:`sims._cnossos_emission`.
* **Sources**: each centreline cut into pieces of at most 5 m (point sources 0.05 m above
  the road), grouped into clusters for far receivers (:mod:`sims._noise_sources`); sources
  are heard up to 250 m (:class:`NoiseParams`).
* **Propagation** (:func:`path_attenuation_db`): geometrical divergence, air absorption
  (ISO 9613-1 at the scene's noise temperature and humidity), ground effect (G = 1 on
  grass, park and forest, 0 elsewhere; homogeneous and favourable conditions) and
  diffraction over the top of buildings and barriers (:mod:`sims._noise_screening`),
  combined per period with the occurrence p of favourable conditions.
* **Receivers**: a 10 m grid at 4 m (NaN inside buildings) and the residential façade
  receivers of the scene. Levels are incident sound: no façade reflection is added, as
  the END assessment asks.
* **Result**: the field ``noise`` of L_den in dB(A) (:func:`lden_db`) on the 10 m grid, in
  5 dB bands coloured like END strategic noise maps; KPIs ``homes_above_55db_pct`` (share
  of homes whose building's most exposed façade receiver is above 55 dB L_den: a building's
  homes are all counted at its loudest façade, as in END reporting of the most exposed
  façade) and ``facade_lden_mean_db`` (arithmetic mean of L_den over all façade receivers).

Not modelled: lateral diffraction round vertical edges, reflections on façades and
barriers, terrain (flat ground), road surface, studded tyres, gradients and junction
corrections; sources outside the scene's grid are ignored. ISO/TR 17534-4 cases TC01–TC04
(ground), TC07 (barrier) and the vertical planes of TC08 and TC10 are reproduced; see the
tests.

>>> round(lden_db(70.0, 65.0, 55.0), 2)
68.88
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims._cnossos_diffraction import diffraction_terms
from sims._cnossos_emission import road_emission_db
from sims._cnossos_propagation import (
    A_WEIGHTING_DB,
    BANDS_HZ,
    air_absorption_db_per_km,
    divergence_db,
    g_path_prime,
    ground_attenuation_db,
)
from sims._noise_model import NoiseParams, NoiseState, build_state, scene_key
from sims._noise_update import update_geometry, update_traffic
from sims.field import ColourRamp, Field, Kpi, Result
from sims.scene import Change, Run, Scene, Simulation

__all__ = [
    "NoiseParams", "NoiseSimulation", "PathAttenuation", "BANDS_HZ", "A_WEIGHTING_DB", "LDEN_BANDS",
    "road_emission_db", "path_attenuation_db", "lden_db", "NOISE_RAMP",
]

#: Kinds of change that alter screening or ground: the paths near the change are redone.
_GEOMETRY = ("buildings", "barriers", "surface", "landcover")

#: 5 dB bands of L_den and their colours, in the manner of END strategic noise maps:
#: greens for the quiet bands, then yellow, orange and reds to purple for the loudest
#: (the RGB values are this project's choice).
LDEN_BANDS: tuple[tuple[float, tuple[int, int, int, int]], ...] = (
    (-np.inf, (34, 139, 34, 255)),     # < 45 dB: green
    (45.0, (154, 205, 50, 255)),       # 45–50: yellow-green
    (50.0, (255, 255, 0, 255)),        # 50–55: yellow
    (55.0, (255, 165, 0, 255)),        # 55–60: orange
    (60.0, (255, 69, 0, 255)),         # 60–65: red-orange
    (65.0, (220, 20, 60, 255)),        # 65–70: red
    (70.0, (199, 21, 133, 255)),       # 70–75: magenta
    (75.0, (128, 0, 128, 255)),        # ≥ 75: purple
)


def _band_ramp() -> ColourRamp:
    """Steps of constant colour: each band from its lower bound to just under the next."""
    stops: list[tuple[float, tuple[int, int, int, int]]] = []
    lows = [b for b, _ in LDEN_BANDS[1:]]
    for (low, colour), high in zip(LDEN_BANDS, [*lows, 100.0], strict=True):
        stops.append((30.0 if low == -np.inf else low, colour))
        stops.append((high - 1e-6, colour))
    return ColourRamp(tuple(stops))


#: The colour ramp of the noise field.
NOISE_RAMP = _band_ramp()
_LEGEND = ("L_den, dB(A), 10 m grid at 4 m: < 45 green, 45–50 yellow-green, 50–55 yellow, 55–60 orange, "
           "60–65 red-orange, 65–70 red, 70–75 magenta, ≥ 75 purple; blank inside buildings")


def lden_db(day_db: ArrayLike, evening_db: ArrayLike, night_db: ArrayLike) -> NDArray[np.float64] | float:
    """L_den = 10 lg[(12·10^(L_d/10) + 4·10^((L_e+5)/10) + 8·10^((L_n+10)/10)) / 24], the
    day-evening-night level of Directive 2002/49/EC Annex I (day 12 h, evening 4 h with
    +5 dB, night 8 h with +10 dB)."""
    d, e, n = (np.asarray(v, np.float64) for v in (day_db, evening_db, night_db))
    out = 10.0 * np.log10((12.0 * 10.0 ** (d / 10.0) + 4.0 * 10.0 ** ((e + 5.0) / 10.0)
                           + 8.0 * 10.0 ** ((n + 10.0) / 10.0)) / 24.0)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True, slots=True)
class PathAttenuation:
    """Attenuation terms of paths, dB: ``a_div`` (n,), the rest (n, 8) per octave band.
    ``a_dif_*`` is NaN where diffraction does not apply (no edge, or the Rayleigh
    criterion); ``a_*`` = A_div + A_atm + A_boundary, with A_boundary = A_dif where it
    applies and A_ground elsewhere."""

    a_div: NDArray[np.float64]
    a_atm: NDArray[np.float64]
    a_ground_h: NDArray[np.float64]
    a_ground_f: NDArray[np.float64]
    a_dif_h: NDArray[np.float64]
    a_dif_f: NDArray[np.float64]
    a_h: NDArray[np.float64]
    a_f: NDArray[np.float64]

    def level_db(self, lw_db: ArrayLike, p: float) -> NDArray[np.float64]:
        """Long-term level per band for sound power ``lw_db``: 10 lg(p·10^(L_F/10) +
        (1 − p)·10^(L_H/10)) with L = L_W − A (the long-term level of Annex II 2.5)."""
        lw = np.asarray(lw_db, np.float64)
        return 10.0 * np.log10(p * 10.0 ** ((lw - self.a_f) / 10.0) + (1.0 - p) * 10.0 ** ((lw - self.a_h) / 10.0))


def path_attenuation_db(dp_m: ArrayLike, zs_m: ArrayLike, zr_m: ArrayLike, g_path: ArrayLike, *,
                        g_source: ArrayLike | None = None, edges: tuple[ArrayLike, ...] | None = None,
                        temperature_c: float = 15.0, humidity_pct: float = 70.0) -> PathAttenuation:
    """CNOSSOS-EU attenuation of straight paths over flat ground, all terms in dB.

    ``dp_m`` horizontal source–receiver distance, ``zs_m``/``zr_m`` heights, ``g_path``
    mean ground factor, ``g_source`` the ground factor at the source (default: ``g_path``).
    ``edges`` = (t1, h1, t2, h2, g_so, g_or): first and last diffraction edges (distance
    from the source, height; equal for one edge) and the mean G of the source and receiver
    sides. The ISO/TR 17534-4 test cases run through this function.

    >>> a = path_attenuation_db(194.16, 1.0, 4.0, 0.0, temperature_c=10.0)
    >>> round(float(a.a_div[0]), 2), a.a_ground_h.round(2).tolist()[0][:2]
    (56.76, [-3.0, -3.0])
    """
    dp, zs, zr, g = (np.atleast_1d(np.asarray(v, np.float64)) for v in (dp_m, zs_m, zr_m, g_path))
    dp, zs, zr, g = np.broadcast_arrays(dp, zs, zr, g)
    gs = g if g_source is None else np.broadcast_to(np.asarray(g_source, np.float64), dp.shape)
    d = np.hypot(dp, zr - zs)
    a_div = divergence_db(d)
    a_atm = air_absorption_db_per_km(temperature_c, humidity_pct)[None, :] * d[:, None] / 1000.0
    gp = g_path_prime(g, gs, dp, zs, zr)
    ground = [ground_attenuation_db(dp, zs, zr, g, gp, favourable=f) for f in (False, True)]
    difs = [np.full((len(dp), 8), np.nan), np.full((len(dp), 8), np.nan)]
    if edges is not None:
        t1, h1, t2, h2, g_so, g_or = (np.broadcast_to(np.asarray(v, np.float64), dp.shape) for v in edges)
        g_so_prime = g_path_prime(g_so, gs, t1, zs, h1)
        for i, favourable in enumerate((False, True)):
            terms = diffraction_terms(dp, zs, zr, t1, h1, t2, h2, g_so, g_so_prime, g_or, favourable=favourable)
            difs[i] = np.where(terms.applies, terms.a_dif_db, np.nan)
    totals = [a_div[:, None] + a_atm + np.where(np.isnan(dif), gr, dif) for gr, dif in zip(ground, difs, strict=True)]
    return PathAttenuation(a_div, a_atm, ground[0], ground[1], difs[0], difs[1], totals[0], totals[1])


class NoiseSimulation(Simulation):
    """Road traffic noise, L_den in dB(A) (see the module).

    A full run of a square kilometre takes about a second. :meth:`update` redoes only
    what a change reaches: new traffic on some roads changes their sources' power (one
    sparse product); buildings, barriers, surface heights or land cover changed inside
    the change's bounding box re-screen the paths passing near it. Other changes (trees,
    treatments, benches) leave the noise as it was. A change without a bounding box, other
    noise weather or other roads mean a full run."""

    name = "noise"
    label = "Road traffic noise"
    slow = True

    def __init__(self, params: NoiseParams | None = None) -> None:
        self.params = params or NoiseParams()

    def run(self, scene: Scene) -> Run:
        state = build_state(scene, self.params)
        return Run(_result(state, scene, self.params), state)

    def update(self, before: Run, scene: Scene, change: Change) -> Run:
        state = before.state
        if not isinstance(state, NoiseState) or not _compatible(state, scene, self.params):
            return self.run(scene)
        if change.touches(*_GEOMETRY):
            if change.bbox is None:
                return self.run(scene)
            state = update_geometry(state, scene, change.bbox)
        state = update_traffic(state, scene)
        return Run(_result(state, scene, self.params), state)


def _compatible(state: NoiseState, scene: Scene, params: NoiseParams) -> bool:
    """Whether ``state`` can be updated to ``scene``: same parameters, noise weather, grid
    and road centrelines; otherwise a full run is needed."""
    return state.params == params and state.key == scene_key(scene)


def _levels(state: NoiseState) -> NDArray[np.float64]:
    """L_den per receiver, dB(A); 0 where no road is within reach."""
    # Float rounding of updates may leave −1e-16 of a removed road's energy: clamp at 0.
    with np.errstate(divide="ignore"):
        periods = 10.0 * np.log10(np.maximum(state.energy, 0.0))
        return np.maximum(np.asarray(lden_db(periods[:, 0], periods[:, 1], periods[:, 2])), 0.0)


def _result(state: NoiseState, scene: Scene, params: NoiseParams) -> Result:
    level = _levels(state)
    cells = state.cells
    grid = np.full(cells.shape[0] * cells.shape[1], np.nan)
    grid[state.receivers.grid_cell] = level[: state.receivers.n_grid]
    field = Field(name="noise", values=grid.reshape(cells.shape), unit="dB(A)", ramp=NOISE_RAMP, legend=_LEGEND,
                  cell_m=cells.cell_m, origin=cells.origin)
    facade = level[state.receivers.n_grid:]
    homes = scene.receivers.homes
    building = scene.receivers.building
    total_homes = float(homes.sum())
    if total_homes > 0.0:
        loudest = np.full(int(building.max()) + 1, -np.inf)
        np.maximum.at(loudest, building, facade)
        per_building = np.bincount(building, homes, len(loudest))
        exposed = float(per_building[loudest > params.threshold_db].sum())
        pct, label = 100.0 * exposed / total_homes, (f"Homes whose most exposed façade is above "
                                                     f"{params.threshold_db:g} dB L_den")
    else:
        pct, label = 0.0, "Homes above the threshold: no homes in the area"
    mean, mean_label = (float(facade.mean()), "Mean L_den over façade receivers (arithmetic mean of dB values)") \
        if len(facade) else (0.0, "Mean façade L_den: no façade receivers in the area")
    kpis = {
        "homes_above_55db_pct": Kpi("homes_above_55db_pct", pct, "%", "lower", label),
        "facade_lden_mean_db": Kpi("facade_lden_mean_db", mean, "dB(A)", "lower", mean_label),
    }
    return Result(field=field, kpis=kpis)
