"""The attenuation of many paths at once, as linear energy factors 10^(−A/10).

This is the hot loop of :class:`sims.noise.NoiseSimulation`: the same CNOSSOS-EU terms as
:mod:`sims._cnossos_propagation` and :mod:`sims._cnossos_diffraction` (which give them in
dB, and which the ISO/TR 17534-4 tests check), rewritten without logarithms so that a
million paths take a fraction of a second. With a = max(3 + 40/λ·C''·δ, 1), so that
Δ_dif = 10 lg a (a = 1 where diffraction does not apply), and q = 10^(−A_ground/20) of
each side of the edges:

* 10^(−A_ground/10) = min(4k²/dp²·(z_s² − √(2C_f/k) z_s + C_f/k)(z_r² − …), 10^(−A_min/10))
  (the max of the Annex's formula and its lower bound; k the wavenumber), and simply
  10^(−A_min/10) on hard ground (G = 0, most urban paths);
* 10^(−A_dif/10) = (1 + (q_SO − 1)·√(a/a_S'))² · (1 + (q_OR − 1)·√(a/a_R'))² / min(a, 10^2.5),
  since 10^(−(Δ_dif(S',R) − Δ_dif(S,R))/20) = √(a/a_S');
* 10^(−(A_div + A_atm)/10) = 10^(−1.1)/d² · 10^(−α·d/10⁴).

Path differences are computed in float64, the per-band work in float32 (relative error
about 1e-6, far below 0.01 dB); chunks of paths run on two threads
(:func:`sims._noise_screening.parallel`). The result has 16 rows (homogeneous bands
63 Hz–8 kHz, then favourable) and a column per path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sims._cnossos_diffraction import MAX_DIFFRACTION_DB
from sims._cnossos_propagation import BANDS_HZ, SOUND_SPEED_MS
from sims._noise_screening import Screen, parallel

__all__ = ["attenuation_factors"]

_K = (2.0 * np.pi * BANDS_HZ / SOUND_SPEED_MS).astype(np.float32)
_INV_LAMBDA_40 = (40.0 * BANDS_HZ / SOUND_SPEED_MS).astype(np.float32)
_LAMBDA5 = (5.0 * SOUND_SPEED_MS / BANDS_HZ).astype(np.float32)
_F = BANDS_HZ.astype(np.float32)
_CAP = np.float32(10.0 ** (MAX_DIFFRACTION_DB / 10.0))
_CHUNK = 8192

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


def _a_min(dp: F64, zs: F64, zr: F64, g_prime: F64, favourable: bool) -> F64:
    """The lower bound A_min of A_ground, dB, per path (Annex II 2.5, ground effect)."""
    a_min = -3.0 * (1.0 - g_prime)
    if favourable:
        zsum = zs + zr
        far = dp > 30.0 * zsum
        a_min = np.where(far, a_min * (1.0 + 2.0 * (1.0 - 30.0 * zsum / np.maximum(dp, 1e-9))), a_min)
    return a_min


def _ground_lin(dp: F64, zs: F64, zr: F64, g: F64, g_prime: F64, favourable: bool) -> F32:
    """10^(−A_ground/10) per path and band, shape (n, 8) float32; (n, 1) when every path
    is on hard ground (the same value in every band)."""
    bound = (10.0 ** (-_a_min(dp, zs, zr, g_prime, favourable) / 10.0)).astype(np.float32)[:, None]
    soft = np.flatnonzero(g > 0.0)
    if not len(soft):
        return bound
    out = np.repeat(bound, 8, axis=1)
    dp_s, zs_s, zr_s = dp[soft], zs[soft], zr[soft]
    g_w = g[soft] if favourable else g_prime[soft]
    if favourable:
        zsum = zs_s + zr_s
        half = 1e-4 * dp_s * dp_s
        turbulence = 6e-3 * dp_s / zsum
        zs_s, zr_s = zs_s + half * (zs_s / zsum) ** 2 + turbulence, zr_s + half * (zr_s / zsum) ** 2 + turbulence
    g26 = (g_w ** 2.6).astype(np.float32)[:, None]
    g13 = (g_w ** 1.3).astype(np.float32)[:, None]
    w = 0.0185 * _F ** 2.5 * g26 / (_F ** 1.5 * g26 + 1.3e3 * _F ** 0.75 * g13 + 1.16e6)
    d32 = dp_s.astype(np.float32)[:, None]
    wdp = w * d32
    cf_k = d32 * (1.0 + 3.0 * wdp * np.exp(-np.sqrt(wdp))) / (1.0 + wdp) / _K
    root = np.sqrt(2.0 * cf_k)
    a, b = zs_s.astype(np.float32)[:, None], zr_s.astype(np.float32)[:, None]
    energy = 4.0 * _K * _K / (d32 * d32) * (a * a - root * a + cf_k) * (b * b - root * b + cf_k)
    out[soft] = np.minimum(energy, out[soft])
    return out


def _arc(chord: F64, radius: F64 | None) -> F64:
    """Straight or curved (arc of ``radius``) length over a chord."""
    return chord if radius is None else 2.0 * radius * np.arcsin(np.minimum(chord / (2.0 * radius), 1.0))


def _above(ax: F64, az: F64, bx: F64, bz: F64, ox: F64, oz: F64, radius: F64 | None) -> NDArray[np.bool_]:
    """Whether O lies above the straight or curved ray from A to B (Annex II 2.5, diffraction)."""
    dx, dz = bx - ax, bz - az
    cross = dx * (oz - az) - dz * (ox - ax)
    if radius is None:
        return cross > 0.0
    chord = np.hypot(dx, dz)
    offset = cross / chord
    half = chord / 2.0
    along = (dx * (ox - ax) + dz * (oz - az)) / chord
    return offset > np.sqrt(np.maximum(radius ** 2 - (along - half) ** 2, 0.0)) - np.sqrt(radius ** 2 - half ** 2)


def _deltas(dp: F64, zs: F64, zr: F64, t1: F64, h1: F64, t2: F64, h2: F64, radius: F64 | None) -> list[F64]:
    """δ of S–R, S'–R and S–R' (S', R' the ground images), as
    :func:`sims._cnossos_diffraction.path_difference_m` gives them one by one; the
    lengths the three share are computed once, the under-the-ray case only where needed."""
    e = _arc(np.hypot(t2 - t1, h2 - h1), radius)
    s_o, s_o_image = _arc(np.hypot(t1, h1 - zs), radius), _arc(np.hypot(t1, h1 + zs), radius)
    o_r, o_r_image = _arc(np.hypot(dp - t2, zr - h2), radius), _arc(np.hypot(dp - t2, zr + h2), radius)
    direct, direct_image = _arc(np.hypot(dp, zr - zs), radius), _arc(np.hypot(dp, zr + zs), radius)
    zero = np.zeros_like(dp)
    out = []
    for za, zb, over, d in ((zs, zr, s_o + e + o_r, direct), (-zs, zr, s_o_image + e + o_r, direct_image),
                            (zs, -zr, s_o + e + o_r_image, direct_image)):
        delta = over - d
        under = np.flatnonzero(~_above(zero, za, dp, zb, t1, h1, radius))
        if len(under):
            u = (dp[under], za[under], zb[under], t1[under], h1[under])
            delta[under] = _under(*u, d[under], None if radius is None else radius[under])
        out.append(delta)
    return out


def _under(dp: F64, za: F64, zb: F64, t1: F64, h1: F64, direct: F64, radius: F64 | None) -> F64:
    """δ of an edge O under the ray A–B: −(AO + OB − AB), or with curved rays
    2ÂP + 2P̂B − ÂO − ÔB − ÂB, P the point of the straight line AB at O (Annex II 2.5, diffraction)."""
    a_o, o_b = _arc(np.hypot(t1, h1 - za), radius), _arc(np.hypot(dp - t1, zb - h1), radius)
    if radius is None:
        return direct - a_o - o_b
    z_line = za + (zb - za) * t1 / dp
    return 2.0 * (_arc(np.hypot(t1, z_line - za), radius) + _arc(np.hypot(dp - t1, zb - z_line), radius)) \
        - a_o - o_b - direct


def _diffraction_lin(dp: F64, zs: F64, zr: F64, t1: F64, h1: F64, t2: F64, h2: F64, g_so: F64, g_so_prime: F64,
                     g_or: F64, favourable: bool) -> tuple[F32, NDArray[np.bool_]]:
    """10^(−A_dif/10) per path and band, and where diffraction applies."""
    radius = np.maximum(1000.0, 8.0 * np.hypot(dp, zr - zs)) if favourable else None
    e = np.hypot(t2 - t1, h2 - h1)
    ratio = (_LAMBDA5[None, :] / np.maximum(e, 1e-6).astype(np.float32)[:, None]) ** 2
    c2 = np.where((e > 1e-6)[:, None], (1.0 + ratio) / (np.float32(1.0 / 3.0) + ratio), np.float32(1.0))
    scale = _INV_LAMBDA_40 * c2
    x = [scale * delta.astype(np.float32)[:, None] for delta in _deltas(dp, zs, zr, t1, h1, t2, h2, radius)]
    a_sr, a_s, a_r = (np.maximum(3.0 + xi, np.float32(1.0)) for xi in x)
    so = np.sqrt(_ground_lin(np.maximum(t1, 1e-3), zs, np.maximum(h1, 0.0), g_so, g_so_prime, favourable))
    orr = np.sqrt(_ground_lin(np.maximum(dp - t2, 1e-3), np.maximum(h2, 0.0), zr, g_or, g_or, favourable))
    side_s = 1.0 + (so - 1.0) * np.sqrt(a_sr / a_s)
    side_r = 1.0 + (orr - 1.0) * np.sqrt(a_sr / a_r)
    return side_s * side_s * side_r * side_r / np.minimum(a_sr, _CAP), x[0] >= -2.0


def _chunk(screen: Screen, part: slice, zs: F64, zr: F64, g_source: float, alpha_db_per_km: F64, out: F32) -> None:
    """Fill the columns ``part`` (a run of paths) of ``out``."""
    dp, z_s, z_r = screen.dp_m[part], zs[part], zr[part]
    n = len(dp)
    d = np.hypot(dp, z_r - z_s)
    base = (10.0 ** -1.1 / (d * d)).astype(np.float32)[:, None] \
        * np.exp(np.float32(-np.log(10.0) / 1e4) * alpha_db_per_km.astype(np.float32)[None, :]
                 * d.astype(np.float32)[:, None])
    g = screen.g_path[part]
    near = np.minimum(dp / (30.0 * (z_s + z_r)), 1.0)
    g_prime = g * near + g_source * (1.0 - near)
    edge = np.flatnonzero(screen.edge[part])
    t1, h1, t2, h2, g_so, g_or = (a[part][edge] for a in (screen.t1_m, screen.h1_m, screen.t2_m, screen.h2_m,
                                                         screen.g_so, screen.g_or))
    z_se, z_re, dp_e = z_s[edge], z_r[edge], dp[edge]
    near_so = np.minimum(t1 / (30.0 * (z_se + np.maximum(h1, 0.0))), 1.0)
    g_so_prime = g_so * near_so + g_source * (1.0 - near_so)
    for column, favourable in ((0, False), (8, True)):
        use_dif = np.zeros((n, 8), bool)
        factor = np.empty((n, 8), np.float32)
        if len(edge):
            factor[edge], use_dif[edge] = _diffraction_lin(dp_e, z_se, z_re, t1, h1, t2, h2, g_so, g_so_prime, g_or,
                                                           favourable)
        rows = np.flatnonzero(~use_dif.all(axis=1))
        if len(rows):
            ground = _ground_lin(dp[rows], z_s[rows], z_r[rows], g[rows], g_prime[rows], favourable)
            factor[rows] = np.where(use_dif[rows], factor[rows], ground) if len(edge) else ground
        out[column:column + 8, part] = (base * factor).T


def attenuation_factors(screen: Screen, zs: F64, zr: F64, g_source: float, alpha_db_per_km: F64) -> F32:
    """10^(−A/10) of every screened path, shape (16, n): A = A_div + A_atm + A_boundary in
    homogeneous (rows 0–7) and favourable (8–15) conditions, per octave band."""
    n = len(screen.dp_m)
    out = np.empty((16, n), np.float32)
    jobs = [slice(start, min(start + _CHUNK, n)) for start in range(0, n, _CHUNK)]
    alpha = np.asarray(alpha_db_per_km, np.float64)
    parallel(lambda part: _chunk(screen, part, zs, zr, g_source, alpha, out), jobs)
    return out
