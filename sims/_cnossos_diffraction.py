"""CNOSSOS-EU diffraction over the top of one or two edges, with the ground terms.

Source: Commission Directive (EU) 2015/996, Annex II ("the Annex") section 2.5
(propagation), "Diffraction", as corrected by Commission Delegated Directive (EU)
2021/1226 (the equations of ISO/TR 17534-4:2020). A path is described in its vertical plane over a flat mean ground
plane z = 0: the source S = (0, z_s), the receiver R = (dp, z_r), and the first and
last diffraction edges O1 = (t1, h1), O2 = (t2, h2) (O1 = O2 for a single edge; the
convex hull between them is taken as the straight O1O2, see :mod:`sims._noise_screening`).

* path difference δ = SO1 + O1O2 + O2R − SR, positive when the hull blocks the line of
  sight; for an edge under the line δ = −(SO + OR − SR). In favourable conditions the
  lengths are arcs of radius Γ = max(1000, 8d) (an arc of chord l has length
  2Γ·asin(l/2Γ)); an edge under the curved ray gives δ_F = 2ŜA + 2ÂR − ŜO − ÔR − ŜR with
  A the point of the straight line SR above or below O.
* Δ_dif = 10 C_h lg(3 + 40/λ · C'' · δ) where 40/λ·C''·δ ≥ −2, else 0 (no diffraction in
  that band: the caller uses A_ground instead); C_h = 1; C'' = 1 for one edge,
  (1 + (5λ/e)²)/(1/3 + (5λ/e)²) for several with e = O1O2.
* A_dif = min(Δ_dif(S,R), 25) + Δ_ground(S,O) + Δ_ground(O,R) with
  Δ_ground(S,O) = −20 lg(1 + (10^(−A_ground(S,O)/20) − 1)·10^(−(Δ_dif(S',R) − Δ_dif(S,R))/20))
  and likewise on the receiver side with R'; S' and R' are the images of S and R in the
  ground plane. The uncapped Δ_dif values enter the ground terms (as in ISO/TR 17534-4 TC10).

>>> t = diffraction_terms(194.16, 1.0, 4.0, 170.23, 6.0, 170.23, 6.0, 0.548, 0.615, 0.2, favourable=False)
>>> t.delta_sr_db.round(2).tolist()[0][:4], t.a_dif_db.round(2).tolist()[0][:4]
([6.01, 6.96, 8.41, 10.36], [3.67, 4.83, 6.44, 8.49])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims._cnossos_propagation import BANDS_HZ, SOUND_SPEED_MS, ground_attenuation_db

__all__ = ["MAX_DIFFRACTION_DB", "DiffractionTerms", "curved_length_m", "diffraction_db", "diffraction_terms",
           "path_difference_m"]

#: Upper bound of Δ_dif(S,R) in A_dif, dB (the Annex, "Diffraction").
MAX_DIFFRACTION_DB = 25.0
_WAVELENGTH_M = SOUND_SPEED_MS / BANDS_HZ

Array = NDArray[np.float64]


def curved_length_m(chord_m: ArrayLike, radius_m: ArrayLike) -> Array:
    """Length of the arc of radius Γ over a chord: 2Γ·asin(l / 2Γ) (the Annex, "Diffraction")."""
    chord, radius = np.asarray(chord_m, np.float64), np.asarray(radius_m, np.float64)
    return 2.0 * radius * np.arcsin(np.minimum(chord / (2.0 * radius), 1.0))


def _above(ax: Array, az: Array, bx: Array, bz: Array, ox: Array, oz: Array, radius: Array | None) -> NDArray[np.bool_]:
    """Whether O lies above the ray from A to B: the straight line, or (``radius``) the
    arc of that radius bulging upwards through A and B (downward-refracting air)."""
    dx, dz = bx - ax, bz - az
    chord = np.hypot(dx, dz)
    offset = (dx * (oz - az) - dz * (ox - ax)) / chord
    if radius is None:
        return offset > 0.0
    along = (dx * (ox - ax) + dz * (oz - az)) / chord
    half = chord / 2.0
    sag = np.sqrt(np.maximum(radius ** 2 - (along - half) ** 2, 0.0)) - np.sqrt(radius ** 2 - half ** 2)
    return offset > sag


def path_difference_m(ax: ArrayLike, az: ArrayLike, bx: ArrayLike, bz: ArrayLike, t1: ArrayLike, h1: ArrayLike,
                      t2: ArrayLike, h2: ArrayLike, radius_m: ArrayLike | None = None) -> Array:
    """Signed path difference δ from A to B over the edges O1, O2 (the Annex, "Diffraction").

    With ``radius_m`` (favourable conditions) every length is an arc of that radius.
    δ > 0 when O1 lies above the ray AB, then δ = AO1 + O1O2 + O2B − AB; otherwise the
    single edge O1 gives −(AO1 + O1B − AB) (homogeneous) or 2ÂP + 2P̂B − ÂO1 − Ô1B − ÂB
    with P on the straight line AB at O1 (favourable).

    >>> float(path_difference_m(0.0, 1.0, 20.0, 4.0, 5.0, 10.0, 15.0, 10.0).round(3))
    7.882
    """
    ax, az, bx, bz, t1, h1, t2, h2 = np.broadcast_arrays(*(np.asarray(v, np.float64)
                                                          for v in (ax, az, bx, bz, t1, h1, t2, h2)))
    radius = None if radius_m is None else np.broadcast_to(np.asarray(radius_m, np.float64), ax.shape)

    def length(dx: Array, dz: Array) -> Array:
        chord = np.hypot(dx, dz)
        return chord if radius is None else curved_length_m(chord, radius)

    direct = length(bx - ax, bz - az)
    over = length(t1 - ax, h1 - az) + length(t2 - t1, h2 - h1) + length(bx - t2, bz - h2)
    blocked = _above(ax, az, bx, bz, t1, h1, radius)
    if radius is None:
        under = -(length(t1 - ax, h1 - az) + length(bx - t1, bz - h1) - direct)
    else:
        z_line = az + (bz - az) * (t1 - ax) / (bx - ax)
        under = (2.0 * (length(t1 - ax, z_line - az) + length(bx - t1, bz - z_line))
                 - length(t1 - ax, h1 - az) - length(bx - t1, bz - h1) - direct)
    return np.where(blocked, over - direct, under)


def diffraction_db(delta_m: ArrayLike, e_m: ArrayLike = 0.0) -> tuple[Array, NDArray[np.bool_]]:
    """Δ_dif per band (uncapped) for path differences δ and edge spans e (0: one edge),
    and where the Annex's criterion 40/λ·C''·δ ≥ −2 lets diffraction apply.

    >>> d, applies = diffraction_db([0.1336])
    >>> d.round(2).tolist()[0][:3], bool(applies.all())
    ([6.01, 6.96, 8.41], True)
    """
    delta = np.atleast_1d(np.asarray(delta_m, np.float64))
    e = np.broadcast_to(np.asarray(e_m, np.float64), delta.shape)
    ratio = (5.0 * _WAVELENGTH_M[None, :] / np.where(e > 0.0, e, 1.0)[:, None]) ** 2
    c2 = np.where((e > 0.0)[:, None], (1.0 + ratio) / (1.0 / 3.0 + ratio), 1.0)
    x = 40.0 / _WAVELENGTH_M[None, :] * c2 * delta[:, None]
    applies = x >= -2.0
    return np.where(applies, 10.0 * np.log10(np.maximum(3.0 + x, 1.0)), 0.0), applies


@dataclass(frozen=True, slots=True)
class DiffractionTerms:
    """The terms of A_dif for ``n`` paths, each ``(n, 8)`` unless noted (dB)."""

    delta_m: Array  #: δ of S–R, shape (n,)
    delta_sr_db: Array  #: Δ_dif(S,R), uncapped
    delta_image_s_db: Array  #: Δ_dif(S',R)
    delta_image_r_db: Array  #: Δ_dif(S,R')
    a_ground_so_db: Array
    a_ground_or_db: Array
    delta_ground_so_db: Array
    delta_ground_or_db: Array
    a_dif_db: Array
    applies: NDArray[np.bool_]  #: where diffraction applies (else the caller uses A_ground)


def _ground_term(a_ground: Array, delta_image: Array, delta_sr: Array) -> Array:
    """Δ_ground of one side (the Annex, "Diffraction")."""
    return -20.0 * np.log10(1.0 + (10.0 ** (-a_ground / 20.0) - 1.0) * 10.0 ** (-(delta_image - delta_sr) / 20.0))


def diffraction_terms(dp_m: ArrayLike, zs_m: ArrayLike, zr_m: ArrayLike, t1_m: ArrayLike, h1_m: ArrayLike,
                      t2_m: ArrayLike, h2_m: ArrayLike, g_so: ArrayLike, g_so_prime: ArrayLike, g_or: ArrayLike,
                      *, favourable: bool) -> DiffractionTerms:
    """A_dif and its parts for paths over edges O1 = (t1, h1), O2 = (t2, h2).

    ``g_so`` and ``g_so_prime`` are G_path and G'_path of the source side S–O1,
    ``g_or`` G_path of the receiver side O2–R (which has no source correction).
    Favourable conditions curve every ray with Γ = max(1000, 8·SR).
    """
    dp, zs, zr, t1, h1, t2, h2, gso, gsop, gor = (np.atleast_1d(np.asarray(v, np.float64)) for v in (
        dp_m, zs_m, zr_m, t1_m, h1_m, t2_m, h2_m, g_so, g_so_prime, g_or))
    dp, zs, zr, t1, h1, t2, h2, gso, gsop, gor = np.broadcast_arrays(dp, zs, zr, t1, h1, t2, h2, gso, gsop, gor)
    zero = np.zeros_like(dp)
    radius = np.maximum(1000.0, 8.0 * np.hypot(dp, zr - zs)) if favourable else None
    e = np.hypot(t2 - t1, h2 - h1)
    delta = path_difference_m(zero, zs, dp, zr, t1, h1, t2, h2, radius)
    d_sr, applies = diffraction_db(delta, e)
    d_s, _ = diffraction_db(path_difference_m(zero, -zs, dp, zr, t1, h1, t2, h2, radius), e)
    d_r, _ = diffraction_db(path_difference_m(zero, zs, dp, -zr, t1, h1, t2, h2, radius), e)
    a_so = ground_attenuation_db(np.maximum(t1, 1e-3), zs, np.maximum(h1, 0.0), gso, gsop, favourable=favourable)
    a_or = ground_attenuation_db(np.maximum(dp - t2, 1e-3), np.maximum(h2, 0.0), zr, gor, gor, favourable=favourable)
    g_so_db = _ground_term(a_so, d_s, d_sr)
    g_or_db = _ground_term(a_or, d_r, d_sr)
    a_dif = np.minimum(d_sr, MAX_DIFFRACTION_DB) + g_so_db + g_or_db
    return DiffractionTerms(delta, d_sr, d_s, d_r, a_so, a_or, g_so_db, g_or_db, a_dif, applies)
