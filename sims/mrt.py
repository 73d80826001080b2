"""Mean radiant temperature of a standing person: a simplified SOLWEIG radiation budget.

SOLWEIG (Lindberg, F., Holmer, B. and Thorsson, S. 2008, *SOLWEIG 1.0 — Modelling
spatial variations of 3D radiant fluxes and mean radiant temperature in complex urban
settings*, Int. J. Biometeorol. 52:697–713) sums the short-wave (K) and long-wave (L)
flux densities from six directions, weighted by the angle factors of a standing
person, F = 0.06 up and down and 0.22 for each of the four sides (Fanger 1972, as
used by Thorsson, S., Lindberg, F., Eliasson, I. and Holmer, B. 2007, Int. J.
Climatol. 27:1983–1993, and by SOLWEIG)::

    S_str = ζ_k Σ Kᵢ Fᵢ + ζ_k f_p I β + ε_p Σ Lᵢ Fᵢ,     Tmrt = (S_str / (ε_p σ))^¼ − 273.15

with ζ_k = 0.70 and ε_p = 0.97 the body's short-wave absorptivity and emissivity
(Höppe 1992). The direct beam I (normal irradiance) on the sunlit fraction β of a
cell enters through the projected-area factor of a standing person, f_p = 0.308·cos(γ
(0.998 − γ²/50000)) for a sun γ degrees high (Jendritzky et al. 1990, the form of VDI
3787 Part 2 (2008) and RayMan, Matzarakis et al. 2007), so the Kᵢ hold only diffuse
and reflected light. The fluxes of a cell with sky view factor ψ (crowns counted
through their transmissivity, :func:`sims.svf.vegetation_svf`) and building-only SVF
ψ_b, i.e. sky ψ, crowns ψ_b − ψ and walls 1 − ψ_b of the upper hemisphere:

* L↓ = ψ L_sky + (ψ_b − ψ) L_a + (1 − ψ_b)(s L_w + (1 − s) L_a), with L_sky = ε_sky σ Ta⁴
  (:func:`sims.radiation.sky_emissivity`), shaded walls and crowns L_a = ε_w σ Ta⁴ +
  (1 − ε_w) L_sky and sunlit walls L_w = ε_w σ (Ta + ΔT_w)⁴ + (1 − ε_w) L_sky — the
  partition SOLWEIG takes from Jonsson, P. et al. (2006, Theor. Appl. Climatol.
  85:185–201), crowns at air temperature;
* L↑ = ε_g σ T_g⁴ + (1 − ε_g) L↓ with the ground at T_g = Ta + β ΔT_g;
* K↓ = D ψ + (1 − ψ_b) α_w (s G + (1 − s) D) and K↑ = α_g (β I sin γ + K↓), walls
  reflecting global light where sunlit and diffuse light where not, as SOLWEIG does;
* each side: K = (K↓ + K↑)/2, L = (L↓ + L↑)/2 — the sides see the upper and lower
  hemispheres half each, with the same mix as a horizontal surface. SOLWEIG resolves
  the four sides with directional SVFs and wall aspects; this isotropic shortcut is
  the main simplification here: the sides see a little too much sky deep in canyons,
  which we estimate puts Tmrt there 1–3 K low by day.

s is the share of the walls in view that are sunlit: half of them face the sun, and
of those the part above the opposite buildings' shadow is sunlit, min(1, tan γ / r)
for a canyon of height-to-width ratio r with the same SVF (ψ_b = cos atan 2r, Oke
1987) — a stand-in for SOLWEIG's cylindric-wedge wall shading.

Surface temperatures follow SOLWEIG's sinusoidal wave (Lindberg et al. 2008, from
Bogren et al. 2000; parameters of Lindberg, F., Onomura, S. and Grimmond, C.S.B.
2016, *Influence of ground surface characteristics on the mean radiant temperature in
urban areas*, Int. J. Biometeorol. 60:1439–1452, and SOLWEIG's land-cover table):
a sunlit surface is ΔT = (T_gK·γ_max + T_start)·sin(π/2 · t/t_max) warmer than the
air, t hours after sunrise, t_max hours from sunrise to the hour of maximum
(T_maxLST, here in solar time), γ_max the noon elevation; never below 0, and 0 in
shade and at night. The clear-sky correction of that wave is 1, as the radiation
here is clear-sky (:mod:`sims.radiation`). Every per-cell step uses only +, −, ×, ÷
and √, so a window of the grid gives the same bits as the whole grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims.radiation import SunDay

__all__ = [
    "STEFAN_BOLTZMANN",
    "SURFACES",
    "RadiantParams",
    "Sky",
    "Surface",
    "mean_radiant_temperature_c",
    "projected_area_factor",
    "surface_heating_k",
    "tmrt_from_absorbed_c",
]

STEFAN_BOLTZMANN = 5.670374419e-8
"""σ, W m⁻² K⁻⁴ (CODATA 2018)."""

_ANGLE_UP_DOWN = 0.06
_ANGLE_SIDE = 0.22
_KELVIN = 273.15


class Surface(NamedTuple):
    """Radiative and thermal properties of a surface type (SOLWEIG land-cover table):
    albedo, emissivity, and the ground-temperature wave: amplitude ``tg_k`` K per
    degree of noon elevation plus ``tg_start_k`` K, peaking at ``tmax_lst_h`` o'clock."""

    albedo: float
    emissivity: float
    tg_k: float
    tg_start_k: float
    tmax_lst_h: float


SURFACES: dict[str, Surface] = {
    "paving": Surface(0.20, 0.95, 0.37, -3.41, 15.0),  # SOLWEIG "Cobble_stone_2014a"
    "asphalt": Surface(0.18, 0.95, 0.58, -9.78, 15.0),  # "Dark_asphalt"
    "grass": Surface(0.16, 0.94, 0.21, -3.38, 14.0),  # "Grass_unmanaged"
    "bare_soil": Surface(0.25, 0.94, 0.33, -3.01, 14.0),  # "Bare_soil"
    "water": Surface(0.05, 0.98, 0.00, 0.00, 12.0),  # "Water"
    "wall": Surface(0.20, 0.90, 0.37, -3.41, 15.0),  # "Walls"
}
"""Surface types by name (Lindberg et al. 2016; SOLWEIG's land-cover parameter table)."""


@dataclass(frozen=True, slots=True)
class RadiantParams:
    """The person and the walls: short-wave absorptivity ``absorption_k`` (ζ_k) and
    long-wave emissivity ``emissivity_person`` (ε_p) of the body (Höppe 1992, as in
    SOLWEIG), and the walls' albedo and emissivity (SOLWEIG defaults)."""

    absorption_k: float = 0.70
    emissivity_person: float = 0.97
    wall_albedo: float = SURFACES["wall"].albedo
    wall_emissivity: float = SURFACES["wall"].emissivity

    def __post_init__(self) -> None:
        for name in ("absorption_k", "emissivity_person", "wall_albedo", "wall_emissivity"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie between 0 and 1, got {getattr(self, name)}")


class Sky(NamedTuple):
    """The moment's scalars: sun elevation (°), beam normal and diffuse horizontal
    irradiance (W/m²), air temperature (°C), sky emissivity, and how much warmer than
    the air sunlit walls are (K)."""

    elevation_deg: float
    beam_normal_wm2: float
    diffuse_wm2: float
    air_temperature_c: float
    sky_emissivity: float
    wall_heating_k: float


def projected_area_factor(elevation_deg: float) -> float:
    """f_p of a standing person for a sun ``elevation_deg`` high (VDI 3787 Part 2 form
    of Jendritzky et al. 1990): 0.308 just above the horizon, 0.08 overhead; 0 with
    the sun down.

    >>> [round(projected_area_factor(e), 3) for e in (1.0, 50.0, 90.0, -2.0)]
    [0.308, 0.208, 0.078, 0.0]
    """
    if elevation_deg <= 0.0:
        return 0.0
    return 0.308 * math.cos(math.radians(elevation_deg * (0.998 - elevation_deg**2 / 50000.0)))


def surface_heating_k(surface: Surface, day: SunDay) -> float:
    """How much warmer than the air a sunlit surface is, K, by SOLWEIG's wave
    (module docstring); 0 before sunrise and from twice the peak time on.

    Paving at 60° N at midsummer, 3 h after solar noon (its peak):

    >>> from sims.radiation import SunDay
    >>> round(surface_heating_k(SURFACES["paving"], SunDay(53.44, 12.25, 9.25)), 1)
    16.4
    """
    amplitude_k = surface.tg_k * day.noon_elevation_deg + surface.tg_start_k
    rise_to_peak_h = (surface.tmax_lst_h - 12.0) + day.hours_sunrise_to_noon
    if amplitude_k <= 0.0 or rise_to_peak_h <= 0.0 or day.hours_since_sunrise <= 0.0:
        return 0.0
    return max(0.0, amplitude_k * math.sin(math.pi / 2.0 * day.hours_since_sunrise / rise_to_peak_h))


def tmrt_from_absorbed_c(absorbed_wm2: ArrayLike, emissivity_person: float = 0.97) -> NDArray[np.float64]:
    """Tmrt = (S_str / (ε_p σ))^¼ − 273.15, °C, from the mean absorbed flux density.

    A person inside a black enclosure at 300 K absorbs ε_p σ 300⁴:

    >>> round(float(tmrt_from_absorbed_c(0.97 * STEFAN_BOLTZMANN * 300.0**4)), 6)
    26.85
    """
    ratio = np.asarray(absorbed_wm2, dtype=np.float64) / (emissivity_person * STEFAN_BOLTZMANN)
    return np.sqrt(np.sqrt(ratio)) - _KELVIN


def _blackbody_wm2(emissivity: float, t_k: float) -> float:
    return emissivity * STEFAN_BOLTZMANN * (t_k * t_k) * (t_k * t_k)


def mean_radiant_temperature_c(sky: Sky, svf: ArrayLike, svf_buildings: ArrayLike, sunlit: ArrayLike,
                               albedo: ArrayLike, emissivity: ArrayLike, heating_k: ArrayLike,
                               params: RadiantParams = RadiantParams()) -> NDArray[np.floating]:
    """Tmrt, °C, of a person standing on each cell (module docstring for the budget).

    ``svf`` is ψ with crowns, ``svf_buildings`` ψ_b; ``sunlit`` the share of the direct
    beam reaching the cell (1 − shade fraction); ``albedo``, ``emissivity`` and
    ``heating_k`` (sunlit warming, K) describe its ground. Arrays broadcast; the result
    is float32 when every array is float32 (as the simulation passes them: Tmrt to
    ≈10⁻⁴ K, twice as fast), float64 otherwise.

    Open paving in the midsummer sun at 60° N, air at 30 °C:

    >>> sky = Sky(50.0, 841.0, 123.0, 30.0, 0.821, 16.4)
    >>> round(float(mean_radiant_temperature_c(sky, 1.0, 1.0, 1.0, 0.20, 0.95, 16.4)), 1)
    61.8
    """
    arrays = [np.asarray(a) for a in (svf, svf_buildings, sunlit, albedo, emissivity, heating_k)]
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64
    converted: list[NDArray[Any]] = [np.asarray(a, dtype=dtype) for a in arrays]
    psi, psi_b, beta, alb, eps, warm_k = converted
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    up = sky.elevation_deg > 0.0
    sin_gamma = math.sin(math.radians(sky.elevation_deg)) if up else 0.0
    beam_wm2 = sky.beam_normal_wm2 if up else 0.0
    diffuse_wm2 = sky.diffuse_wm2 if up else 0.0
    global_wm2 = beam_wm2 * sin_gamma + diffuse_wm2
    zeta, eps_p = params.absorption_k, params.emissivity_person
    ta_k = sky.air_temperature_c + _KELVIN
    sky_lw = sky.sky_emissivity * STEFAN_BOLTZMANN * (ta_k * ta_k) * (ta_k * ta_k)
    reflected_sky = (1.0 - params.wall_emissivity) * sky_lw
    shaded_lw = _blackbody_wm2(params.wall_emissivity, ta_k) + reflected_sky
    sunlit_wall_lw = _blackbody_wm2(params.wall_emissivity, ta_k + sky.wall_heating_k) + reflected_sky

    # w: sunlit walls' share of the upper hemisphere, (1 − ψ_b)·s with s = ½ min(1, 2 tan γ ψ_b / √(1 − ψ_b²)).
    walls = 1.0 - psi_b
    if up:
        depth = np.sqrt(np.maximum(1.0 - psi_b * psi_b, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            lit = np.minimum(1.0, (2.0 * math.tan(math.radians(sky.elevation_deg))) * psi_b / depth)
        lit = np.where(depth > 0.0, lit, 1.0)
        w = (0.5 * walls) * lit
    else:
        w = np.zeros(shape, dtype=dtype)
    # L↓ = L_a + ψ (L_sky − L_a) + w (L_w − L_a); K↓ = Dψ + α_w D (1 − ψ_b) + α_w (G − D) w.
    l_down = shaded_lw + (sky_lw - shaded_lw) * psi + (sunlit_wall_lw - shaded_lw) * w
    k_down = diffuse_wm2 * psi + (params.wall_albedo * diffuse_wm2) * walls \
        + (params.wall_albedo * (global_wm2 - diffuse_wm2)) * w
    # Sides take half of each hemisphere, so with F = 0.06 + 4·0.22/2 for ↓ and ↑ alike:
    # S = ζ/2 (K↓ + K↑) + ζ f_p I β + ε_p/2 (L↓ + L↑), K↑ = α_g(β I sin γ + K↓),
    # L↑ = ε_g σ T_g⁴ + (1 − ε_g) L↓.
    ground_k = ta_k + beta * warm_k
    ground_k *= ground_k
    ground_k *= ground_k
    absorbed = (0.5 * zeta) * (1.0 + alb) * k_down
    absorbed += beta * ((0.5 * zeta * beam_wm2 * sin_gamma) * alb + zeta * projected_area_factor(sky.elevation_deg)
                        * beam_wm2)
    absorbed += (0.5 * eps_p) * (2.0 - eps) * l_down
    absorbed += (0.5 * eps_p * STEFAN_BOLTZMANN) * eps * ground_k
    absorbed *= 1.0 / (eps_p * STEFAN_BOLTZMANN)
    out = np.sqrt(np.sqrt(absorbed))
    out -= _KELVIN
    return np.asarray(np.broadcast_to(out, shape), dtype=dtype)
