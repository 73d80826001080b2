"""CNOSSOS-EU propagation terms along one straight path: divergence, air, ground.

Source: Commission Directive (EU) 2015/996, Annex II ("Annex"), section 2.5 (noise
propagation), as corrected by Commission Delegated Directive (EU) 2021/1226; the
corrected equations are those reproduced by ISO/TR 17534-4:2020, whose test cases the
tests check. Every function works on octave bands 63 Hz–8 kHz
(:data:`BANDS_HZ`) and broadcasts over paths: inputs of shape ``(n,)`` give ``(n, 8)``.

* :func:`divergence_db`: A_div = 20 lg d + 11 (Annex, "geometrical divergence").
* :func:`air_absorption_db_per_km`: ISO 9613-1:1993 eqs. (3)–(5), Annex B (water vapour
  concentration), at the exact mid-band frequencies ``1000·10^(3k/10)`` Hz, which is what
  ISO/TR 17534-4 tabulates (10 °C, 70 %: 0.12 … 116.88 dB/km).
* :func:`ground_attenuation_db`: A_ground,H (homogeneous) and A_ground,F (favourable),
  with the ground factor G_path and the source-corrected G'_path (:func:`g_path_prime`).

>>> round(float(divergence_db(194.19)), 2)
56.76
>>> air_absorption_db_per_km(10.0, 70.0).round(2).tolist()
[0.12, 0.41, 1.04, 1.93, 3.66, 9.66, 32.77, 116.88]
>>> ground_attenuation_db(194.16, 1.0, 4.0, 0.0, 0.0, favourable=True)[0].round(2).tolist()
[-4.36, -4.36, -4.36, -4.36, -4.36, -4.36, -4.36, -4.36]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BANDS_HZ", "EXACT_BANDS_HZ", "A_WEIGHTING_DB", "SOUND_SPEED_MS",
    "divergence_db", "air_absorption_db_per_km", "g_path_prime", "ground_attenuation_db",
]

#: Nominal octave-band centre frequencies, Hz: the f_m of the ground and diffraction
#: formulas (the Annex uses nominal centres for k = 2π f_m / c and λ = c / f_m).
BANDS_HZ = np.array([63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0])
#: Exact base-10 mid-band frequencies (IEC 61260-1), Hz, used for air absorption.
EXACT_BANDS_HZ = 1000.0 * 10.0 ** (0.3 * np.arange(-4, 4))
#: A-weighting of the octave bands, dB (IEC 61672-1:2013 Table 3, rounded to 0.1 dB).
A_WEIGHTING_DB = np.array([-26.2, -16.1, -8.6, -3.2, 0.0, 1.2, 1.0, -1.1])
#: Speed of sound the Annex fixes for k and λ, m/s.
SOUND_SPEED_MS = 340.0

_WAVENUMBER = 2.0 * np.pi * BANDS_HZ / SOUND_SPEED_MS
# Annex, ground effect in favourable conditions: a0 (m⁻¹) of the height corrections δz_s, δz_r,
# and the turbulence correction δz_T = 6·10⁻³ dp / (z_s + z_r).
_A0_PER_M = 2e-4
_TURBULENCE = 6e-3


def divergence_db(d_m: ArrayLike) -> NDArray[np.float64]:
    """Geometrical divergence A_div = 20 lg(d) + 11 dB of a point source, ``d_m`` the
    direct 3D source–receiver distance (the Annex, "geometrical divergence")."""
    return 20.0 * np.log10(np.asarray(d_m, dtype=np.float64)) + 11.0


def air_absorption_db_per_km(temperature_c: float, humidity_pct: float,
                             pressure_kpa: float = 101.325) -> NDArray[np.float64]:
    """Pure-tone air absorption α per octave band, dB/km (ISO 9613-1:1993 eq. (5)).

    Relaxation frequencies of oxygen and nitrogen from eqs. (3) and (4); the molar
    concentration of water vapour h (%) from the relative humidity by Annex B (eqs. B.1,
    B.2). A_atm = α·d/1000 for a path ``d`` metres long.
    """
    if not -20.0 <= temperature_c <= 50.0 or not 0.0 < humidity_pct <= 100.0:
        raise ValueError(f"air at {temperature_c} °C and {humidity_pct} % humidity is outside ISO 9613-1's range")
    t_k = temperature_c + 273.15
    t0, t01, p_ratio = 293.15, 273.16, pressure_kpa / 101.325
    psat_ratio = 10.0 ** (-6.8346 * (t01 / t_k) ** 1.261 + 4.6151)
    h = humidity_pct * psat_ratio / p_ratio
    fr_o = p_ratio * (24.0 + 4.04e4 * h * (0.02 + h) / (0.391 + h))
    fr_n = p_ratio * (t_k / t0) ** -0.5 * (9.0 + 280.0 * h * np.exp(-4.170 * ((t_k / t0) ** (-1.0 / 3.0) - 1.0)))
    f2 = EXACT_BANDS_HZ ** 2
    alpha_db_per_m = 8.686 * f2 * (
        1.84e-11 / p_ratio * (t_k / t0) ** 0.5
        + (t_k / t0) ** -2.5 * (0.01275 * np.exp(-2239.1 / t_k) / (fr_o + f2 / fr_o)
                                + 0.1068 * np.exp(-3352.0 / t_k) / (fr_n + f2 / fr_n)))
    return 1000.0 * alpha_db_per_m


def g_path_prime(g_path: ArrayLike, g_source: ArrayLike, dp_m: ArrayLike, zs_m: ArrayLike,
                 zr_m: ArrayLike) -> NDArray[np.float64]:
    """G'_path: the path's ground factor corrected for the ground under the source
    (the Annex, "ground effect"): when dp ≤ 30(z_s + z_r), G'_path = G_path·dp/(30(z_s+z_r)) +
    G_s·(1 − dp/(30(z_s+z_r))); otherwise G_path. G_s is 0 for road platforms.

    >>> float(g_path_prime(0.548, 0.9, 170.23, 1.0, 6.0).round(2))
    0.61
    """
    g, gs, dp = np.asarray(g_path, np.float64), np.asarray(g_source, np.float64), np.asarray(dp_m, np.float64)
    near = np.minimum(dp / (30.0 * (np.asarray(zs_m, np.float64) + np.asarray(zr_m, np.float64))), 1.0)
    return g * near + gs * (1.0 - near)


def _w(g: NDArray[np.float64]) -> NDArray[np.float64]:
    """The ground parameter w (the Annex, "ground effect") per path (rows) and band (columns)."""
    f = BANDS_HZ
    g26 = g[:, None] ** 2.6
    g13 = g[:, None] ** 1.3
    return 0.0185 * f ** 2.5 * g26 / (f ** 1.5 * g26 + 1.3e3 * f ** 0.75 * g13 + 1.16e6)


def _ground_formula_db(dp: NDArray[np.float64], zs: NDArray[np.float64], zr: NDArray[np.float64],
                       g_w: NDArray[np.float64]) -> NDArray[np.float64]:
    """−10 lg[4k²/dp² (z_s² − √(2C_f/k) z_s + C_f/k)(z_r² − √(2C_f/k) z_r + C_f/k)] with
    C_f = dp (1 + 3 w dp e^(−√(w dp))) / (1 + w dp), the unbounded A_ground (the Annex, "ground effect")."""
    wdp = _w(g_w) * dp[:, None]
    cf = dp[:, None] * (1.0 + 3.0 * wdp * np.exp(-np.sqrt(wdp))) / (1.0 + wdp)
    cf_k = cf / _WAVENUMBER
    root = np.sqrt(2.0 * cf_k)
    zs_, zr_ = zs[:, None], zr[:, None]
    product = (zs_ * zs_ - root * zs_ + cf_k) * (zr_ * zr_ - root * zr_ + cf_k)
    return -10.0 * np.log10(4.0 * _WAVENUMBER ** 2 / dp[:, None] ** 2 * product)


def ground_attenuation_db(dp_m: ArrayLike, zs_m: ArrayLike, zr_m: ArrayLike, g_path: ArrayLike,
                          g_prime: ArrayLike, *, favourable: bool) -> NDArray[np.float64]:
    """A_ground per octave band for paths over a flat mean ground plane (the Annex, "ground effect").

    ``dp_m`` is the source–receiver distance projected on the mean plane, ``zs_m`` and
    ``zr_m`` the heights above it, ``g_path`` the path's mean ground factor and
    ``g_prime`` G'_path (:func:`g_path_prime`; pass ``g_path`` on a receiver-side
    segment, which has no source correction).

    Homogeneous: G_w = G'_path, lower bound A_min = −3(1 − G'_path). Favourable: the
    heights rise by δz_s = a0 (z_s/(z_s+z_r))² dp²/2, δz_r likewise, and δz_T =
    6·10⁻³ dp/(z_s+z_r); G_w = G_path; A_min = −3(1 − G'_path), times
    (1 + 2(1 − 30(z_s+z_r)/dp)) when dp > 30(z_s+z_r). Where G_path = 0 the result is
    A_min (the Annex's "A_ground = −3 dB" for hard ground). Returns shape ``(n, 8)``.

    >>> ground_attenuation_db(194.16, 1.0, 4.0, 0.5, 0.5, favourable=False)[0].round(2).tolist()
    [-1.5, -1.5, -1.5, 0.85, 5.71, -1.5, -1.5, -1.5]
    """
    dp, zs, zr, g, gp = (np.atleast_1d(np.asarray(a, np.float64)) for a in (dp_m, zs_m, zr_m, g_path, g_prime))
    dp, zs, zr, g, gp = np.broadcast_arrays(dp, zs, zr, g, gp)
    if np.any(dp <= 0.0):
        raise ValueError("a ground path needs a positive horizontal length")
    a_min = -3.0 * (1.0 - gp)
    if favourable:
        zsum = zs + zr
        far = dp > 30.0 * zsum
        a_min = np.where(far, a_min * (1.0 + 2.0 * (1.0 - 30.0 * zsum / np.where(far, dp, 1.0))), a_min)
        half_a0_dp2 = _A0_PER_M * dp * dp / 2.0
        turbulence = _TURBULENCE * dp / zsum
        zs_f = zs + half_a0_dp2 * (zs / zsum) ** 2 + turbulence
        zr_f = zr + half_a0_dp2 * (zr / zsum) ** 2 + turbulence
        formula = _ground_formula_db(dp, zs_f, zr_f, g)
    else:
        formula = _ground_formula_db(dp, zs, zr, gp)
    out = np.maximum(formula, a_min[:, None])
    return np.where((g == 0.0)[:, None], a_min[:, None], out)
