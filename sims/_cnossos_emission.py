"""CNOSSOS-EU road traffic emission: sound power per metre of carriageway per octave band.

Source: Commission Directive (EU) 2015/996, Annex II section 2.2 "Road traffic noise
emission", with the coefficients of its Appendix F Table F-1 as replaced by Commission
Delegated Directive (EU) 2021/1226 (OJ L 269, 28.7.2021). For vehicle category m at
speed v (km/h), octave band i:

* rolling noise  L_WR = A_R + B_R·lg(v / v_ref) + ΔL_WR
* propulsion     L_WP = A_P + B_P·(v − v_ref) / v_ref + ΔL_WP
* one vehicle    L_W = 10 lg(10^(L_WR/10) + 10^(L_WP/10))
* a line of Q vehicles/hour:  L_W' = L_W + 10 lg(Q / (1000 v))  dB re 1 pW per metre,

with v_ref = 70 km/h. The only correction kept is the air temperature on rolling noise
("effect of air temperature on rolling noise"): ΔL_WR,temp = K_m (τ_ref − τ) with
τ_ref = 20 °C and K_m = 0.08 dB/°C (category 1) or 0.04 dB/°C (categories 2, 3). The
reference road surface (average of dense asphalt concrete 0/11 and SMA 0/11) is assumed
everywhere, with no studded tyres, no gradient and no acceleration near junctions (all
their corrections are 0). The formulas hold from 20 to 130 km/h; speeds outside are
clamped to that range.

Categories: 1 light (cars, vans ≤ 3.5 t), 2 medium heavy (two-axle lorries and buses),
3 heavy (three or more axles). Road data give one heavy share; :func:`road_emission_db`
splits it with ``medium_share`` (fraction of the heavy vehicles in category 2).

At v_ref and 20 °C a car is the energetic sum of A_R and A_P (1 kHz: 100.1 ⊕ 84.7 dB);
1000 cars an hour at 70 km/h put 10 lg(1000 / 70 000) = −18.5 dB of that on each metre:

>>> vehicle_sound_power_db(1, 70.0, 20.0).round(1).tolist()
[98.0, 94.2, 92.5, 94.1, 100.2, 97.2, 88.8, 79.7]
>>> round(float(road_emission_db(1000.0, 0.0, 70.0, 20.0)[4]), 1)
81.8
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["REFERENCE_SPEED_KMH", "COEFFICIENTS", "vehicle_sound_power_db", "road_emission_db"]

#: v_ref of the rolling and propulsion formulas, km/h.
REFERENCE_SPEED_KMH = 70.0
_SPEED_RANGE_KMH = (20.0, 130.0)
_REFERENCE_TEMPERATURE_C = 20.0

#: Table F-1 (Directive 2015/996 Annex II Appendix F, as replaced by 2021/1226): per
#: category, the rows A_R, B_R, A_P, B_P over the octave bands 63 Hz … 8 kHz (dB).
COEFFICIENTS: dict[int, NDArray[np.float64]] = {
    1: np.array([
        [83.1, 89.2, 87.7, 93.1, 100.1, 96.7, 86.8, 76.2],
        [30.0, 41.5, 38.9, 25.7, 32.5, 37.2, 39.0, 40.0],
        [97.9, 92.5, 90.7, 87.2, 84.7, 88.0, 84.4, 77.1],
        [-1.3, 7.2, 7.7, 8.0, 8.0, 8.0, 8.0, 8.0]]),
    2: np.array([
        [88.7, 93.2, 95.7, 100.9, 101.7, 95.1, 87.8, 83.6],
        [30.0, 35.8, 32.6, 23.8, 30.1, 36.2, 38.3, 40.1],
        [105.5, 100.2, 100.5, 98.7, 101.0, 97.8, 91.2, 85.0],
        [-1.9, 4.7, 6.4, 6.5, 6.5, 6.5, 6.5, 6.5]]),
    3: np.array([
        [91.7, 96.2, 98.2, 104.9, 105.1, 98.5, 91.1, 85.6],
        [30.0, 33.5, 31.3, 25.4, 31.8, 37.1, 38.6, 40.6],
        [108.8, 104.2, 103.5, 102.9, 102.6, 98.5, 93.8, 87.5],
        [0.0, 3.0, 4.6, 5.0, 5.0, 5.0, 5.0, 5.0]]),
}
#: K_m of the air-temperature correction of rolling noise, dB/°C, by category.
_TEMPERATURE_K = {1: 0.08, 2: 0.04, 3: 0.04}


def vehicle_sound_power_db(category: int, speed_kmh: ArrayLike, temperature_c: float = 20.0
                           ) -> NDArray[np.float64]:
    """Sound power L_W of one vehicle of ``category`` (1, 2 or 3) per octave band, dB re
    1 pW, shape ``speed.shape + (8,)`` (rolling and propulsion noise, see the module)."""
    if category not in COEFFICIENTS:
        raise ValueError(f"vehicle category {category!r} is not one of 1, 2, 3")
    a_r, b_r, a_p, b_p = COEFFICIENTS[category]
    v = np.clip(np.asarray(speed_kmh, np.float64), *_SPEED_RANGE_KMH)[..., None]
    rolling = a_r + b_r * np.log10(v / REFERENCE_SPEED_KMH) \
        + _TEMPERATURE_K[category] * (_REFERENCE_TEMPERATURE_C - temperature_c)
    propulsion = a_p + b_p * (v - REFERENCE_SPEED_KMH) / REFERENCE_SPEED_KMH
    return 10.0 * np.log10(10.0 ** (rolling / 10.0) + 10.0 ** (propulsion / 10.0))


def road_emission_db(light_vph: ArrayLike, heavy_vph: ArrayLike, speed_kmh: ArrayLike, temperature_c: float = 20.0,
                     medium_share: float = 0.0) -> NDArray[np.float64]:
    """Sound power per metre L_W' of a traffic line, dB re 1 pW/m per octave band.

    ``light_vph`` vehicles/hour of category 1 and ``heavy_vph`` of categories 2 and 3
    (``medium_share`` of them in category 2), all at ``speed_kmh``; the categories add
    energetically. No traffic gives −inf. Shape: the broadcast inputs + ``(8,)``.
    """
    if not 0.0 <= medium_share <= 1.0:
        raise ValueError(f"the medium share {medium_share} of heavy vehicles must lie in [0, 1]")
    light, heavy, speed = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (light_vph, heavy_vph, speed_kmh)))
    if np.any(light < 0.0) or np.any(heavy < 0.0):
        raise ValueError("traffic flows must not be negative")
    v = np.clip(speed, *_SPEED_RANGE_KMH)
    power = np.zeros(light.shape + (8,))
    for category, flow in ((1, light), (2, heavy * medium_share), (3, heavy * (1.0 - medium_share))):
        per_metre = flow / (1000.0 * v)
        power += per_metre[..., None] * 10.0 ** (vehicle_sound_power_db(category, v, temperature_c) / 10.0)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power)
