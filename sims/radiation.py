"""The sky's radiation on a clear day: beam and diffuse sunlight, sky long-wave, the day's sun.

Everything here is a scalar for one moment and place; :mod:`sims.mrt` spreads it over
the grid.

* **Clear-sky short-wave**: the ESRA model of Rigollier, C., Bauer, O. and Wald, L.
  (2000), *On the clear sky model of the ESRA — European Solar Radiation Atlas — with
  respect to the Heliosat method*, Solar Energy 68(1):33–48. Beam normal irradiance
  B = I₀ε·exp(−0.8662·T_L·m·δ_R(m)) (their eq. 3) with the Linke turbidity T_L at air
  mass 2, the relative optical air mass m of Kasten, F. and Young, A.T. (1989),
  *Revised optical air mass tables and approximation formula*, Applied Optics 28:
  4735–4738, and the Rayleigh optical thickness δ_R of Kasten (1996) as ESRA gives it
  (eqs. 5–6); diffuse horizontal D = I₀ε·T_rd(T_L)·F_d(γ, T_L) (eqs. 10–13). ESRA
  gives the beam/diffuse split itself, so no separate split model is needed.
* **Sky long-wave**: clear-sky emissivity of Prata, A.J. (1996), *A new long-wave
  formula for estimating downward clear-sky radiation at the surface*, Q. J. R.
  Meteorol. Soc. 122:1127–1151, eq. 20: ε = 1 − (1 + w)·exp(−(1.2 + 3w)^½) with the
  precipitable water w = 46.5·e/T (cm; e in hPa, T in K).
* **The day's sun** for SOLWEIG's ground-temperature wave (:mod:`sims.mrt`): the
  sun's declination and hour angle recovered from its azimuth and elevation by the
  spherical-astronomy identities (e.g. Duffie, J.A. and Beckman, W.A. 2013, *Solar
  Engineering of Thermal Processes*, 4th ed., eqs. 1.6.5–1.6.6), the sunrise hour
  angle cos ω_s = −tan φ·tan δ (eq. 1.6.10) and the noon elevation 90° − |φ − δ|.
  Times are local apparent solar time; refraction at sunrise is ignored (minutes).

>>> sky = clear_sky(50.0, 172, 3.5)
>>> round(sky.beam_normal_wm2), round(sky.diffuse_wm2), round(sky.global_wm2)
(841, 123, 767)
"""

from __future__ import annotations

import math
from typing import NamedTuple

from sims._utci import saturation_vapour_pressure_hpa

__all__ = [
    "SOLAR_CONSTANT_WM2",
    "ClearSky",
    "SunDay",
    "air_mass",
    "clear_sky",
    "sky_emissivity",
    "sun_day",
]

SOLAR_CONSTANT_WM2 = 1367.0
"""The solar constant ESRA was fitted with (Rigollier et al. 2000), W/m²."""


class ClearSky(NamedTuple):
    """Clear-sky irradiance, W/m²: beam on a plane facing the sun, diffuse and global on
    a horizontal plane (global = beam·sin(elevation) + diffuse)."""

    beam_normal_wm2: float
    diffuse_wm2: float
    global_wm2: float


class SunDay(NamedTuple):
    """The sun's day at a place: the noon elevation, how many hours ago it rose, and
    how many hours it takes from sunrise to noon (12 at polar day), solar time."""

    noon_elevation_deg: float
    hours_since_sunrise: float
    hours_sunrise_to_noon: float


def air_mass(elevation_deg: float) -> float:
    """Relative optical air mass at sea level (Kasten & Young 1989): 1 at the zenith,
    about 38 at the horizon.

    >>> round(air_mass(90.0), 4), round(air_mass(30.0), 3), round(air_mass(0.0), 1)
    (0.9997, 1.994, 37.9)
    """
    gamma = max(float(elevation_deg), 0.0)
    return 1.0 / (math.sin(math.radians(gamma)) + 0.50572 * (gamma + 6.07995) ** -1.6364)


def _rayleigh_optical_thickness(m: float) -> float:
    """δ_R(m) of Kasten (1996) as ESRA uses it (Rigollier et al. 2000, eqs. 5–6)."""
    if m <= 20.0:
        return 1.0 / (6.62960 + 1.75130 * m - 0.12020 * m**2 + 0.00650 * m**3 - 0.00013 * m**4)
    return 1.0 / (10.4 + 0.718 * m)


def clear_sky(elevation_deg: float, day_of_year: int, linke_turbidity: float) -> ClearSky:
    """ESRA clear-sky beam normal, diffuse and global irradiance for a sun at
    ``elevation_deg`` (refraction-corrected, as :mod:`sims.sun` gives it) on day
    ``day_of_year`` (1…366), at sea level, for a Linke turbidity (air mass 2) of
    ``linke_turbidity`` (about 2 for a very clean sky, 3–4 for a summer city sky, 6
    and more for a hazy one). Zero with the sun at or below the horizon.

    >>> clear_sky(-1.0, 172, 3.5)
    ClearSky(beam_normal_wm2=0.0, diffuse_wm2=0.0, global_wm2=0.0)
    """
    if not 0.5 <= linke_turbidity <= 10.0:
        raise ValueError(f"a Linke turbidity of {linke_turbidity} is outside 0.5…10")
    if elevation_deg <= 0.0:
        return ClearSky(0.0, 0.0, 0.0)
    t_l = float(linke_turbidity)
    # Rigollier et al. (2000), eq. 2: the eccentricity correction of the day.
    day_angle = 2.0 * math.pi * day_of_year / 365.25
    irradiance_wm2 = SOLAR_CONSTANT_WM2 * (1.0 + 0.03344 * math.cos(day_angle - 0.048869))
    m = air_mass(elevation_deg)
    beam_normal_wm2 = irradiance_wm2 * math.exp(-0.8662 * t_l * m * _rayleigh_optical_thickness(m))
    # Eqs. 10–13: diffuse transmission at the zenith and the diffuse angular function.
    t_rd = -1.5843e-2 + 3.0543e-2 * t_l + 3.797e-4 * t_l**2
    a0 = 2.6463e-1 - 6.1581e-2 * t_l + 3.1408e-3 * t_l**2
    if a0 * t_rd < 2e-3:
        a0 = 2e-3 / t_rd
    a1 = 2.0402 + 1.8945e-2 * t_l - 1.1161e-2 * t_l**2
    a2 = -1.3025 + 3.9231e-2 * t_l + 8.5079e-3 * t_l**2
    sin_gamma = math.sin(math.radians(elevation_deg))
    diffuse_wm2 = max(0.0, irradiance_wm2 * t_rd * (a0 + a1 * sin_gamma + a2 * sin_gamma**2))
    return ClearSky(beam_normal_wm2, diffuse_wm2, beam_normal_wm2 * sin_gamma + diffuse_wm2)


def sky_emissivity(air_temperature_c: float, relative_humidity_pct: float) -> float:
    """Clear-sky emissivity (Prata 1996, eq. 20) from screen-level air temperature and
    relative humidity; the vapour pressure uses Hardy's (1998) saturation formula.

    >>> round(sky_emissivity(30.0, 40.0), 3), round(sky_emissivity(10.0, 80.0), 3)
    (0.821, 0.776)
    """
    if not 0.0 <= relative_humidity_pct <= 100.0:
        raise ValueError(f"relative humidity {relative_humidity_pct} % is outside 0…100 %")
    t_k = air_temperature_c + 273.15
    vapour_hpa = float(saturation_vapour_pressure_hpa(air_temperature_c)) * relative_humidity_pct / 100.0
    w_cm = 46.5 * vapour_hpa / t_k
    return 1.0 - (1.0 + w_cm) * math.exp(-math.sqrt(1.2 + 3.0 * w_cm))


def sun_day(lat_deg: float, azimuth_deg: float, elevation_deg: float) -> SunDay:
    """The day of a sun seen at ``azimuth_deg`` (clockwise from north) and
    ``elevation_deg`` from latitude ``lat_deg``: noon elevation, hours since sunrise
    and hours from sunrise to noon, in apparent solar time (module docstring).

    At 60° N at midsummer (declination 23.44°), three hours after noon the sun stands
    at azimuth 240.78°, elevation 41.98°:

    >>> d = sun_day(60.0, 240.78, 41.98)
    >>> round(d.noon_elevation_deg, 2), round(d.hours_since_sunrise, 2), round(d.hours_sunrise_to_noon, 2)
    (53.44, 12.25, 9.25)
    """
    phi = math.radians(max(-89.999, min(89.999, lat_deg)))
    azimuth = math.radians(azimuth_deg)
    eta = math.radians(elevation_deg)
    sin_delta = math.sin(phi) * math.sin(eta) + math.cos(phi) * math.cos(eta) * math.cos(azimuth)
    delta = math.asin(max(-1.0, min(1.0, sin_delta)))
    sin_hour = -math.sin(azimuth) * math.cos(eta) / math.cos(delta)
    cos_hour = (math.sin(eta) - math.sin(phi) * sin_delta) / (math.cos(phi) * math.cos(delta))
    hour_deg = math.degrees(math.atan2(sin_hour, cos_hour))
    cos_sunrise = max(-1.0, min(1.0, -math.tan(phi) * math.tan(delta)))
    sunrise_deg = math.degrees(math.acos(cos_sunrise))
    return SunDay(noon_elevation_deg=90.0 - abs(math.degrees(phi - delta)),
                  hours_since_sunrise=(hour_deg + sunrise_deg) / 15.0,
                  hours_sunrise_to_noon=sunrise_deg / 15.0)
