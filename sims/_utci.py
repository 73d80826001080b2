"""Outdoor thermal comfort: the Universal Thermal Climate Index (UTCI).

:func:`utci_c` evaluates the operational approximation of UTCI: the full
6th-order polynomial in air temperature, wind speed, the mean radiant minus air
temperature difference and water vapour pressure (210 terms) of

    Bröde P., Fiala D., Błażejczyk K., Holmér I., Jendritzky G., Kampmann B.,
    Tinz B., Havenith G. (2012). Deriving the operational procedure for the
    Universal Thermal Climate Index (UTCI). Int J Biometeorol 56:481–494.

The coefficients are typed in from the published reference implementation
``UTCI_approx`` (version a 0.002, October 2009, P. Bröde, distributed at
www.utci.org with the paper). Vapour pressure comes from relative humidity and
the saturation vapour pressure over water of

    Hardy B. (1998). ITS-90 formulations for vapor pressure, frostpoint
    temperature, dewpoint temperature, and enhancement factors in the range
    –100 to +100 °C. Proc. 3rd Int. Symp. on Humidity & Moisture, NPL London,
    pp. 214–221.

exactly as the reference implementation does (polynomial input in kPa).

Validity (Bröde et al. 2012, section "Operational procedure"): air temperature
−50…+50 °C, Tmrt − Ta −30…+70 K, wind speed at 10 m 0.5…17 m/s, vapour pressure
up to 5 kPa. Wind speed is clipped into 0.5…17 m/s, as the reference procedure
recommends; the other inputs are not clipped, so values outside their range are
polynomial extrapolations and should not be trusted. Even inside the ranges the
polynomial is not strictly increasing in Tmrt near the humid edge (vapour
pressure above about 4.7 kPa with Tmrt − Ta near −30 K); below 4 kPa it is.

:data:`UTCI_STRESS_BANDS` is the 10-category UTCI assessment scale (Bröde et al.
2012, Table 1; Błażejczyk et al. 2013, Geographia Polonica 86:5–10).

:func:`utci_for_weather_c` evaluates the same polynomial for a whole grid of Tmrt
under one weather (air temperature, wind and humidity the same everywhere): the
210 terms collapse to a polynomial of degree 6 in Tmrt − Ta whose 7 coefficients are
summed once, so a grid costs 12 array operations instead of about a thousand.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "UTCI_STRESS_BANDS",
    "UTCI_VALID_DTMRT_K",
    "UTCI_VALID_TA_C",
    "UTCI_VALID_VA_MS",
    "StressBand",
    "saturation_vapour_pressure_hpa",
    "utci_c",
    "utci_category",
    "utci_for_weather_c",
]

UTCI_VALID_TA_C = (-50.0, 50.0)
"""Air temperature range of the polynomial, °C."""
UTCI_VALID_DTMRT_K = (-30.0, 70.0)
"""Range of Tmrt − Ta of the polynomial, K."""
UTCI_VALID_VA_MS = (0.5, 17.0)
"""Wind speed range (10 m above ground) of the polynomial, m/s; inputs are clipped to it."""

# Hardy (1998), ITS-90 saturation vapour pressure over water, Pa:
# ln(es) = sum_{i=0..6} g_i * T^(i-2) + g_7 * ln(T), T in K.
_HARDY_G = (
    -2.8365744e3,
    -6.028076559e3,
    1.954263612e1,
    -2.737830188e-2,
    1.6261698e-5,
    7.0229056e-10,
    -1.8680009e-13,
)
_HARDY_G7 = 2.7150305

# UTCI_approx coefficients (Bröde et al. 2012; UTCI_approx a 0.002).
# Key (p, d, v): exponents of pa (kPa), dTmrt = Tmrt - Ta (K) and va (m/s).
# Value: coefficients of Ta^0, Ta^1, ... (Ta in °C), 7 - p - d - v of them,
# so that the total degree is at most 6. UTCI = Ta + sum of all terms.
_UTCI_COEFFS: dict[tuple[int, int, int], tuple[float, ...]] = {
    # pa^0, dTmrt^0
    (0, 0, 0): (6.07562052e-01, -2.27712343e-02, 8.06470249e-04, -1.54271372e-04,
                -3.24651735e-06, 7.32602852e-08, 1.35959073e-09),
    (0, 0, 1): (-2.25836520e00, 8.80326035e-02, 2.16844454e-03, -1.53347087e-05,
                -5.72983704e-07, -2.55090145e-09),
    (0, 0, 2): (-7.51269505e-01, -4.08350271e-03, -5.21670675e-05, 1.94544667e-06, 1.14099531e-08),
    (0, 0, 3): (1.58137256e-01, -6.57263143e-05, 2.22697524e-07, -4.16117031e-08),
    (0, 0, 4): (-1.27762753e-02, 9.66891875e-06, 2.52785852e-09),
    (0, 0, 5): (4.56306672e-04, -1.74202546e-07),
    (0, 0, 6): (-5.91491269e-06,),
    # pa^0, dTmrt^1
    (0, 1, 0): (3.98374029e-01, 1.83945314e-04, -1.73754510e-04, -7.60781159e-07,
                3.77830287e-08, 5.43079673e-10),
    (0, 1, 1): (-2.00518269e-02, 8.92859837e-04, 3.45433048e-06, -3.77925774e-07, -1.69699377e-09),
    (0, 1, 2): (1.69992415e-04, -4.99204314e-05, 2.47417178e-07, 1.07596466e-08),
    (0, 1, 3): (8.49242932e-05, 1.35191328e-06, -6.21531254e-09),
    (0, 1, 4): (-4.99410301e-06, -1.89489258e-08),
    (0, 1, 5): (8.15300114e-08,),
    # pa^0, dTmrt^2
    (0, 2, 0): (7.55043090e-04, -5.65095215e-05, -4.52166564e-07, 2.46688878e-08, 2.42674348e-10),
    (0, 2, 1): (1.54547250e-04, 5.24110970e-06, -8.75874982e-08, -1.50743064e-09),
    (0, 2, 2): (-1.56236307e-05, -1.33895614e-07, 2.49709824e-09),
    (0, 2, 3): (6.51711721e-07, 1.94960053e-09),
    (0, 2, 4): (-1.00361113e-08,),
    # pa^0, dTmrt^3
    (0, 3, 0): (-1.21206673e-05, -2.18203660e-07, 7.51269482e-09, 9.79063848e-11),
    (0, 3, 1): (1.25006734e-06, -1.81584736e-09, -3.52197671e-10),
    (0, 3, 2): (-3.36514630e-08, 1.35908359e-10),
    (0, 3, 3): (4.17032620e-10,),
    # pa^0, dTmrt^4..6
    (0, 4, 0): (-1.30369025e-09, 4.13908461e-10, 9.22652254e-12),
    (0, 4, 1): (-5.08220384e-09, -2.24730961e-11),
    (0, 4, 2): (1.17139133e-10,),
    (0, 5, 0): (6.62154879e-10, 4.03863260e-13),
    (0, 5, 1): (1.95087203e-12,),
    (0, 6, 0): (-4.73602469e-12,),
    # pa^1, dTmrt^0
    (1, 0, 0): (5.12733497e00, -3.12788561e-01, -1.96701861e-02, 9.99690870e-04,
                9.51738512e-06, -4.66426341e-07),
    (1, 0, 1): (5.48050612e-01, -3.30552823e-03, -1.64119440e-03, -5.16670694e-06, 9.52692432e-07),
    (1, 0, 2): (-4.29223622e-02, 5.00845667e-03, 1.00601257e-06, -1.81748644e-06),
    (1, 0, 3): (-1.25813502e-03, -1.79330391e-04, 2.34994441e-06),
    (1, 0, 4): (1.29735808e-04, 1.29064870e-06),
    (1, 0, 5): (-2.28558686e-06,),
    # pa^1, dTmrt^1
    (1, 1, 0): (-3.69476348e-02, 1.62325322e-03, -3.14279680e-05, 2.59835559e-06, -4.77136523e-08),
    (1, 1, 1): (8.64203390e-03, -6.87405181e-04, -9.13863872e-06, 5.15916806e-07),
    (1, 1, 2): (-3.59217476e-05, 3.28696511e-05, -7.10542454e-07),
    (1, 1, 3): (-1.24382300e-05, -7.38584400e-09),
    (1, 1, 4): (2.20609296e-07,),
    # pa^1, dTmrt^2..5
    (1, 2, 0): (-7.32469180e-04, -1.87381964e-05, 4.80925239e-06, -8.75492040e-08),
    (1, 2, 1): (2.77862930e-05, -5.06004592e-06, 1.14325367e-07),
    (1, 2, 2): (2.53016723e-06, -1.72857035e-08),
    (1, 2, 3): (-3.95079398e-08,),
    (1, 3, 0): (-3.59413173e-07, 7.04388046e-07, -1.89309167e-08),
    (1, 3, 1): (-4.79768731e-07, 7.96079978e-09),
    (1, 3, 2): (1.62897058e-09,),
    (1, 4, 0): (3.94367674e-08, -1.18566247e-09),
    (1, 4, 1): (3.34678041e-10,),
    (1, 5, 0): (-1.15606447e-10,),
    # pa^2
    (2, 0, 0): (-2.80626406e00, 5.48712484e-01, -3.99428410e-03, -9.54009191e-04, 1.93090978e-05),
    (2, 0, 1): (-3.08806365e-01, 1.16952364e-02, 4.95271903e-04, -1.90710882e-05),
    (2, 0, 2): (2.10787756e-03, -6.98445738e-04, 2.30109073e-05),
    (2, 0, 3): (4.17856590e-04, -1.27043871e-05),
    (2, 0, 4): (-3.04620472e-06,),
    (2, 1, 0): (5.14507424e-02, -4.32510997e-03, 8.99281156e-05, -7.14663943e-07),
    (2, 1, 1): (-2.66016305e-04, 2.63789586e-04, -7.01199003e-06),
    (2, 1, 2): (-1.06823306e-04, 3.61341136e-06),
    (2, 1, 3): (2.29748967e-07,),
    (2, 2, 0): (3.04788893e-04, -6.42070836e-05, 1.16257971e-06),
    (2, 2, 1): (7.68023384e-06, -5.47446896e-07),
    (2, 2, 2): (-3.59937910e-08,),
    (2, 3, 0): (-4.36497725e-06, 1.68737969e-07),
    (2, 3, 1): (2.67489271e-08,),
    (2, 4, 0): (3.23926897e-09,),
    # pa^3
    (3, 0, 0): (-3.53874123e-02, -2.21201190e-01, 1.55126038e-02, -2.63917279e-04),
    (3, 0, 1): (4.53433455e-02, -4.32943862e-03, 1.45389826e-04),
    (3, 0, 2): (2.17508610e-04, -6.66724702e-05),
    (3, 0, 3): (3.33217140e-05,),
    (3, 1, 0): (-2.26921615e-03, 3.80261982e-04, -5.45314314e-09),
    (3, 1, 1): (-7.96355448e-04, 2.53458034e-05),
    (3, 1, 2): (-6.31223658e-06,),
    (3, 2, 0): (3.02122035e-04, -4.77403547e-06),
    (3, 2, 1): (1.73825715e-06,),
    (3, 3, 0): (-4.09087898e-07,),
    # pa^4..6
    (4, 0, 0): (6.14155345e-01, -6.16755931e-02, 1.33374846e-03),
    (4, 0, 1): (3.55375387e-03, -5.13027851e-04),
    (4, 0, 2): (1.02449757e-04,),
    (4, 1, 0): (-1.48526421e-03, -4.11469183e-05),
    (4, 1, 1): (-6.80434415e-06,),
    (4, 2, 0): (-9.77675906e-06,),
    (5, 0, 0): (8.82773108e-02, -3.01859306e-03),
    (5, 0, 1): (1.04452989e-03,),
    (5, 1, 0): (2.47090539e-04,),
    (6, 0, 0): (1.48348065e-03,),
}


class StressBand(NamedTuple):
    """One category of the UTCI assessment scale: ``lower_c <= UTCI < upper_c``."""

    name: str
    lower_c: float
    upper_c: float


UTCI_STRESS_BANDS: tuple[StressBand, ...] = (
    StressBand("extreme cold stress", -np.inf, -40.0),
    StressBand("very strong cold stress", -40.0, -27.0),
    StressBand("strong cold stress", -27.0, -13.0),
    StressBand("moderate cold stress", -13.0, 0.0),
    StressBand("slight cold stress", 0.0, 9.0),
    StressBand("no thermal stress", 9.0, 26.0),
    StressBand("moderate heat stress", 26.0, 32.0),
    StressBand("strong heat stress", 32.0, 38.0),
    StressBand("very strong heat stress", 38.0, 46.0),
    StressBand("extreme heat stress", 46.0, np.inf),
)
"""The 10 UTCI stress categories, coldest first (Bröde et al. 2012, Table 1).

The published scale gives the bounds only ("+32 to +38", "above +46"); a value
exactly on a bound belongs to the warmer category here.
"""


def saturation_vapour_pressure_hpa(ta_c: ArrayLike) -> NDArray[np.float64]:
    """Saturation vapour pressure over water, hPa (Hardy 1998, ITS-90).

    >>> round(float(saturation_vapour_pressure_hpa(20.0)), 2)
    23.39
    """
    tk = np.asarray(ta_c, dtype=np.float64) + 273.15
    ln_es = _HARDY_G7 * np.log(tk)
    for i, g in enumerate(_HARDY_G):
        ln_es = ln_es + g * tk ** (i - 2)
    return np.asarray(np.exp(ln_es) * 0.01)


def utci_c(ta_c: ArrayLike, tmrt_c: ArrayLike, va_ms: ArrayLike, rh_pct: ArrayLike) -> NDArray[np.float64]:
    """UTCI equivalent temperature, °C, by the Bröde et al. (2012) polynomial.

    ``ta_c`` air temperature (°C), ``tmrt_c`` mean radiant temperature (°C),
    ``va_ms`` wind speed 10 m above ground (m/s, clipped to 0.5…17), ``rh_pct``
    relative humidity (0…100 %). Inputs broadcast against each other.

    >>> round(float(utci_c(25.0, 27.0, 1.0, 50.0)), 1)
    25.2
    """
    ta, tmrt, va, rh = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (ta_c, tmrt_c, va_ms, rh_pct))
    )
    if np.any((rh < 0.0) | (rh > 100.0)):
        raise ValueError("Relative humidity must be between 0 and 100 %.")
    va = np.clip(va, *UTCI_VALID_VA_MS)
    d_tmrt = tmrt - ta
    pa = saturation_vapour_pressure_hpa(ta) * rh / 100.0 / 10.0  # kPa
    powers = {
        "p": _powers(pa, 6),
        "d": _powers(d_tmrt, 6),
        "v": _powers(va, 6),
    }
    total = ta.copy()
    for (p, d, v), coeffs in _UTCI_COEFFS.items():
        # Horner in Ta for this (pa, dTmrt, va) monomial.
        poly = np.full_like(ta, coeffs[-1])
        for c in coeffs[-2::-1]:
            poly = poly * ta + c
        total += poly * powers["p"][p] * powers["d"][d] * powers["v"][v]
    return total


def _powers(x: NDArray[np.float64], n: int) -> list[NDArray[np.float64]]:
    """[x**0, x**1, ..., x**n] by repeated multiplication."""
    out = [np.ones_like(x)]
    for _ in range(n):
        out.append(out[-1] * x)
    return out


def utci_category(utci_c: ArrayLike) -> NDArray[np.int8]:
    """Index into :data:`UTCI_STRESS_BANDS` for each UTCI value; −1 for NaN.

    >>> [UTCI_STRESS_BANDS[i].name for i in utci_category([20.0, 35.0])]
    ['no thermal stress', 'strong heat stress']
    """
    values = np.asarray(utci_c, dtype=np.float64)
    inner_lower_c = np.array([band.lower_c for band in UTCI_STRESS_BANDS[1:]])
    index = np.searchsorted(inner_lower_c, values, side="right").astype(np.int8)
    return np.where(np.isnan(values), np.int8(-1), index).astype(np.int8)


def _dtmrt_coefficients(ta_c: float, va_ms: float, rh_pct: float) -> list[float]:
    """c₀…c₆ with UTCI = Ta + Σ c_d·(Tmrt − Ta)^d for this weather (same polynomial,
    regrouped by the power of Tmrt − Ta)."""
    ta = float(ta_c)
    va = min(max(float(va_ms), UTCI_VALID_VA_MS[0]), UTCI_VALID_VA_MS[1])
    pa = float(saturation_vapour_pressure_hpa(ta)) * float(rh_pct) / 100.0 / 10.0  # kPa
    out = [0.0] * 7
    for (p, d, v), coeffs in _UTCI_COEFFS.items():
        poly = 0.0
        for c in reversed(coeffs):
            poly = poly * ta + c
        out[d] += poly * pa**p * va**v
    return out


def utci_for_weather_c(ta_c: float, tmrt_c: ArrayLike, va_ms: float, rh_pct: float) -> NDArray[np.float64]:
    """UTCI, °C, for an array of mean radiant temperatures ``tmrt_c`` under one weather:
    scalar air temperature ``ta_c`` (°C), wind ``va_ms`` (10 m, clipped to 0.5…17 m/s)
    and relative humidity ``rh_pct``. Equals :func:`utci_c` to rounding (≈1e-12 °C).

    >>> [round(float(u), 1) for u in utci_for_weather_c(25.0, [27.0, 25.0], 1.0, 50.0)]
    [25.2, 24.6]
    """
    if not 0.0 <= rh_pct <= 100.0:
        raise ValueError("Relative humidity must be between 0 and 100 %.")
    c = _dtmrt_coefficients(ta_c, va_ms, rh_pct)
    d_tmrt = np.asarray(tmrt_c, dtype=np.float64) - float(ta_c)
    total = np.full_like(d_tmrt, c[6])
    for coefficient in c[5::-1]:
        total *= d_tmrt
        total += coefficient
    total += float(ta_c)
    return total
