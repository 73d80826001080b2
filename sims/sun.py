"""Where the sun is: NREL's Solar Position Algorithm (SPA).

Implements the algorithm of Reda, I. and Andreas, A. (2004, revised 2008), *Solar
Position Algorithm for Solar Radiation Applications*, NREL/TP-560-34302, stated
uncertainty ±0.0003° for the years −2000 … 6000. The steps follow the report's
section 3: Julian day (3.1), the Earth's heliocentric longitude, latitude and radius
from the periodic terms of its Table A4.2 (3.2), geocentric position (3.3), nutation
from Table A4.3 (3.4), obliquity (3.5), aberration (3.6), apparent sun longitude (3.7),
apparent sidereal time at Greenwich (3.8), geocentric right ascension and declination
(3.9–3.10), local hour angle (3.11), topocentric parallax (3.12), topocentric elevation
with atmospheric refraction (3.14) and topocentric azimuth (3.15).

The periodic-term tables below are data typed in from the report's Tables A4.2 and
A4.3 (which take them from Meeus, *Astronomical Algorithms*, 1998, and the VSOP87
theory of Bretagnon & Francou, 1988).

Time is passed in: ``when`` is a timezone-aware :class:`datetime.datetime`. UT1 is
taken to equal UTC (ΔUT1 = 0, within 0.9 s by definition); ΔT = TT − UT1 defaults to
67 s (the report's example value; about 69 s in the 2020s, an error of 0.0001° in
longitude at most).

>>> from datetime import datetime, timedelta, timezone
>>> p = solar_position(datetime(2003, 10, 17, 12, 30, 30, tzinfo=timezone(timedelta(hours=-7))),
...                    39.742476, -105.1786, elevation_m=1830.14, pressure_hpa=820, temperature_c=11)
>>> round(p.zenith_deg, 4), round(p.azimuth_deg, 4)
(50.1116, 194.3402)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

__all__ = ["SolarPosition", "solar_position", "solar_positions"]

#: Apparent radius of the sun and the refraction at the horizon (degrees): refraction is
#: applied while the sun's centre is above −(0.26667 + 0.5667)°, as in the report's code.
_SUN_RADIUS_DEG = 0.26667
_HORIZON_REFRACTION_DEG = 0.5667

# Table A4.2: Earth periodic terms, rows "A B C" (A in 1e-8 rad or AU, B rad, C rad per
# Julian millennium); term value = A·cos(B + C·JME).
_L_TERMS = [
    """175347046 0 0; 3341656 4.6692568 6283.07585; 34894 4.6261 12566.1517; 3497 2.7441 5753.3849
    3418 2.8289 3.5231; 3136 3.6277 77713.7715; 2676 4.4181 7860.4194; 2343 6.1352 3930.2097
    1324 0.7425 11506.7698; 1273 2.0371 529.691; 1199 1.1096 1577.3435; 990 5.233 5884.927
    902 2.045 26.298; 857 3.508 398.149; 780 1.179 5223.694; 753 2.533 5507.553
    505 4.583 18849.228; 492 4.205 775.523; 357 2.92 0.067; 317 5.849 11790.629
    284 1.899 796.298; 271 0.315 10977.079; 243 0.345 5486.778; 206 4.806 2544.314
    205 1.869 5573.143; 202 2.458 6069.777; 156 0.833 213.299; 132 3.411 2942.463
    126 1.083 20.775; 115 0.645 0.98; 103 0.636 4694.003; 102 0.976 15720.839
    102 4.267 7.114; 99 6.21 2146.17; 98 0.68 155.42; 86 5.98 161000.69
    85 1.3 6275.96; 85 3.67 71430.7; 80 1.81 17260.15; 79 3.04 12036.46
    75 1.76 5088.63; 74 3.5 3154.69; 74 4.68 801.82; 70 0.83 9437.76
    62 3.98 8827.39; 61 1.82 7084.9; 57 2.78 6286.6; 56 4.39 14143.5
    56 3.47 6279.55; 52 0.19 12139.55; 52 1.33 1748.02; 51 0.28 5856.48
    49 0.49 1194.45; 41 5.37 8429.24; 41 2.4 19651.05; 39 6.17 10447.39
    37 6.04 10213.29; 37 2.57 1059.38; 36 1.71 2352.87; 36 1.78 6812.77
    33 0.59 17789.85; 30 0.44 83996.85; 30 2.74 1349.87; 25 3.16 4690.48""",
    """628331966747 0 0; 206059 2.678235 6283.07585; 4303 2.6351 12566.1517; 425 1.59 3.523
    119 5.796 26.298; 109 2.966 1577.344; 93 2.59 18849.23; 72 1.14 529.69
    68 1.87 398.15; 67 4.41 5507.55; 59 2.89 5223.69; 56 2.17 155.42
    45 0.4 796.3; 36 0.47 775.52; 29 2.65 7.11; 21 5.34 0.98
    19 1.85 5486.78; 19 4.97 213.3; 17 2.99 6275.96; 16 0.03 2544.31
    16 1.43 2146.17; 15 1.21 10977.08; 12 2.83 1748.02; 12 3.26 5088.63
    12 5.27 1194.45; 12 2.08 4694; 11 0.77 553.57; 10 1.3 6286.6
    10 4.24 1349.87; 9 2.7 242.73; 9 5.64 951.72; 8 5.3 2352.87
    6 2.65 9437.76; 6 4.67 4690.48""",
    """52919 0 0; 8720 1.0721 6283.0758; 309 0.867 12566.152; 27 0.05 3.52
    16 5.19 26.3; 16 3.68 155.42; 10 0.76 18849.23; 9 2.06 77713.77
    7 0.83 775.52; 5 4.66 1577.34; 4 1.03 7.11; 4 3.44 5573.14
    3 5.14 796.3; 3 6.05 5507.55; 3 1.19 242.73; 3 6.12 529.69
    3 0.31 398.15; 3 2.28 553.57; 2 4.38 5223.69; 2 3.75 0.98""",
    """289 5.844 6283.076; 35 0 0; 17 5.49 12566.15; 3 5.2 155.42
    1 4.72 3.52; 1 5.3 18849.23; 1 5.97 242.73""",
    "114 3.142 0; 8 4.13 6283.08; 1 3.84 12566.15",
    "1 3.14 0",
]
_B_TERMS = [
    "280 3.199 84334.662; 102 5.422 5507.553; 80 3.88 5223.69; 44 3.7 2352.87; 32 4 1577.34",
    "9 3.9 5507.55; 6 1.73 5223.69",
]
_R_TERMS = [
    """100013989 0 0; 1670700 3.0984635 6283.07585; 13956 3.05525 12566.1517; 3084 5.1985 77713.7715
    1628 1.1739 5753.3849; 1576 2.8469 7860.4194; 925 5.453 11506.77; 542 4.564 3930.21
    472 3.661 5884.927; 346 0.964 5507.553; 329 5.9 5223.694; 307 0.299 5573.143
    243 4.273 11790.629; 212 5.847 1577.344; 186 5.022 10977.079; 175 3.012 18849.228
    110 5.055 5486.778; 98 0.89 6069.78; 86 5.69 15720.84; 86 1.27 161000.69
    65 0.27 17260.15; 63 0.92 529.69; 57 2.01 83996.85; 56 5.24 71430.7
    49 3.25 2544.31; 47 2.58 775.52; 45 5.54 9437.76; 43 6.01 6275.96
    39 5.36 4694; 38 2.39 8827.39; 37 0.83 19651.05; 37 4.9 12139.55
    36 1.67 12036.46; 35 1.84 2942.46; 33 0.24 7084.9; 32 0.18 5088.63
    32 1.78 398.15; 28 1.21 6286.6; 28 1.9 6279.55; 26 4.59 10447.39""",
    """103019 1.10749 6283.07585; 1721 1.0644 12566.1517; 702 3.142 0; 32 1.02 18849.23
    31 2.84 5507.55; 25 1.32 5223.69; 18 1.42 1577.34; 10 5.91 10977.08
    9 1.42 6275.96; 9 0.27 5486.78""",
    "4359 5.7846 6283.0758; 124 5.579 12566.152; 12 3.14 0; 9 3.63 77713.77; 6 1.87 5573.14; 3 5.47 18849.23",
    "145 4.273 6283.076; 7 3.92 12566.15",
    "4 2.56 6283.08",
]

# Table A4.3: nutation terms, rows "Y0 Y1 Y2 Y3 Y4 a b c d"; the argument is Σ Xj·Yj
# (degrees), Δψ term = (a + b·JCE)·sin(arg), Δε term = (c + d·JCE)·cos(arg), in 0.0001″.
_NUTATION_TERMS = """
0 0 0 0 1 -171996 -174.2 92025 8.9; -2 0 0 2 2 -13187 -1.6 5736 -3.1; 0 0 0 2 2 -2274 -0.2 977 -0.5
0 0 0 0 2 2062 0.2 -895 0.5; 0 1 0 0 0 1426 -3.4 54 -0.1; 0 0 1 0 0 712 0.1 -7 0
-2 1 0 2 2 -517 1.2 224 -0.6; 0 0 0 2 1 -386 -0.4 200 0; 0 0 1 2 2 -301 0 129 -0.1
-2 -1 0 2 2 217 -0.5 -95 0.3; -2 0 1 0 0 -158 0 0 0; -2 0 0 2 1 129 0.1 -70 0
0 0 -1 2 2 123 0 -53 0; 2 0 0 0 0 63 0 0 0; 0 0 1 0 1 63 0.1 -33 0
2 0 -1 2 2 -59 0 26 0; 0 0 -1 0 1 -58 -0.1 32 0; 0 0 1 2 1 -51 0 27 0
-2 0 2 0 0 48 0 0 0; 0 0 -2 2 1 46 0 -24 0; 2 0 0 2 2 -38 0 16 0
0 0 2 2 2 -31 0 13 0; 0 0 2 0 0 29 0 0 0; -2 0 1 2 2 29 0 -12 0
0 0 0 2 0 26 0 0 0; -2 0 0 2 0 -22 0 0 0; 0 0 -1 2 1 21 0 -10 0
0 2 0 0 0 17 -0.1 0 0; 2 0 -1 0 1 16 0 -8 0; -2 2 0 2 2 -16 0.1 7 0
0 1 0 0 1 -15 0 9 0; -2 0 1 0 1 -13 0 7 0; 0 -1 0 0 1 -12 0 6 0
0 0 2 -2 0 11 0 0 0; 2 0 -1 2 1 -10 0 5 0; 2 0 1 2 2 -8 0 3 0
0 1 0 2 2 7 0 -3 0; -2 1 1 0 0 -7 0 0 0; 0 -1 0 2 2 -7 0 3 0
2 0 0 2 1 -7 0 3 0; 2 0 1 0 0 6 0 0 0; -2 0 2 2 2 6 0 -3 0
-2 0 1 2 1 6 0 -3 0; 2 0 -2 0 1 -6 0 3 0; 2 0 0 0 1 -6 0 3 0
0 -1 1 0 0 5 0 0 0; -2 -1 0 2 1 -5 0 3 0; -2 0 0 0 1 -5 0 3 0
0 0 2 2 1 -5 0 3 0; -2 0 2 0 1 4 0 0 0; -2 1 0 2 1 4 0 0 0
0 0 1 -2 0 4 0 0 0; -1 0 1 0 0 -4 0 0 0; -2 1 0 0 0 -4 0 0 0
1 0 0 0 0 -4 0 0 0; 0 0 1 2 0 3 0 0 0; 0 0 -2 2 2 -3 0 0 0
-1 -1 1 0 0 -3 0 0 0; 0 1 1 0 0 -3 0 0 0; 0 -1 1 2 2 -3 0 0 0
2 -1 -1 2 2 -3 0 0 0; 0 0 3 2 2 -3 0 0 0; 2 -1 0 2 2 -3 0 0 0
"""


def _parse(table: str, width: int) -> np.ndarray:
    rows = [row.split() for line in table.strip().splitlines() for row in line.split(";")]
    out = np.array(rows, dtype=np.float64)
    assert out.shape[1] == width
    return out


_L = [_parse(t, 3) for t in _L_TERMS]
_B = [_parse(t, 3) for t in _B_TERMS]
_R = [_parse(t, 3) for t in _R_TERMS]
_NUT = _parse(_NUTATION_TERMS, 9)
assert [len(t) for t in _L] == [64, 34, 20, 7, 3, 1] and [len(t) for t in _R] == [40, 10, 6, 2, 1]
assert len(_NUT) == 63


@dataclass(frozen=True)
class SolarPosition:
    """The sun as seen by an observer: azimuth clockwise from north (0…360°),
    topocentric zenith angle corrected for refraction, and elevation = 90° − zenith."""

    azimuth_deg: float
    zenith_deg: float
    elevation_deg: float


def _series(tables: list[np.ndarray], jme: np.ndarray) -> np.ndarray:
    """Σ_i jme^i · Σ_terms A·cos(B + C·jme) / 1e8 (report eqs. 9–11)."""
    total = np.zeros_like(jme)
    for power, table in enumerate(tables):
        a, b, c = table[:, 0:1], table[:, 1:2], table[:, 2:3]
        total += np.sum(a * np.cos(b + c * jme), axis=0) * jme**power
    return total / 1e8


def _polynomial(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    return sum((c * x**i for i, c in enumerate(coefficients)), np.zeros_like(x))


def _julian_day(when: datetime) -> float:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"solar position needs a timezone-aware datetime, got the naive {when.isoformat()}")
    # POSIX seconds count UTC days of exactly 86 400 s; 2440587.5 is JD of 1970-01-01T00:00Z.
    return when.timestamp() / 86400.0 + 2440587.5


def _spa(jd: np.ndarray, lat_deg: float, lon_deg: float, elevation_m: float, pressure_hpa: float,
         temperature_c: float, delta_t_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Topocentric (azimuth, zenith) in degrees for Julian days ``jd`` (UT)."""
    jde = jd + delta_t_s / 86400.0
    jc = (jd - 2451545.0) / 36525.0
    jce = (jde - 2451545.0) / 36525.0
    jme = jce / 10.0

    # 3.2–3.3: heliocentric → geocentric (degrees; R in AU).
    helio_lon_deg = np.degrees(_series(_L, jme)) % 360.0
    helio_lat_deg = np.degrees(_series(_B, jme))
    radius_au = _series(_R, jme)
    geo_lon_deg = (helio_lon_deg + 180.0) % 360.0
    geo_lat = np.radians(-helio_lat_deg)

    # 3.4: nutation in longitude and obliquity (degrees).
    x = np.stack([
        _polynomial((297.85036, 445267.111480, -0.0019142, 1.0 / 189474.0), jce),  # moon's mean elongation
        _polynomial((357.52772, 35999.050340, -0.0001603, -1.0 / 300000.0), jce),  # sun's mean anomaly
        _polynomial((134.96298, 477198.867398, 0.0086972, 1.0 / 56250.0), jce),  # moon's mean anomaly
        _polynomial((93.27191, 483202.017538, -0.0036825, 1.0 / 327270.0), jce),  # moon's argument of latitude
        _polynomial((125.04452, -1934.136261, 0.0020708, 1.0 / 450000.0), jce),  # moon's ascending node
    ])
    arg = np.radians(_NUT[:, :5] @ x)
    delta_psi_deg = np.sum((_NUT[:, 5:6] + _NUT[:, 6:7] * jce) * np.sin(arg), axis=0) / 36e6
    delta_eps_deg = np.sum((_NUT[:, 7:8] + _NUT[:, 8:9] * jce) * np.cos(arg), axis=0) / 36e6

    # 3.5–3.7: true obliquity, aberration, apparent sun longitude.
    u = jme / 10.0
    eps0_arcsec = _polynomial((84381.448, -4680.93, -1.55, 1999.25, -51.38, -249.67, -39.05, 7.12, 27.87,
                               5.79, 2.45), u)
    eps = np.radians(eps0_arcsec / 3600.0 + delta_eps_deg)
    aberration_deg = -20.4898 / (3600.0 * radius_au)
    lam = np.radians(geo_lon_deg + delta_psi_deg + aberration_deg)

    # 3.8: apparent sidereal time at Greenwich (degrees).
    nu0_deg = (280.46061837 + 360.98564736629 * (jd - 2451545.0) + 0.000387933 * jc**2 - jc**3 / 38710000.0) % 360
    nu_deg = nu0_deg + delta_psi_deg * np.cos(eps)

    # 3.9–3.11: geocentric right ascension, declination, local hour angle.
    alpha_deg = np.degrees(np.arctan2(np.sin(lam) * np.cos(eps) - np.tan(geo_lat) * np.sin(eps), np.cos(lam))) % 360
    delta = np.arcsin(np.sin(geo_lat) * np.cos(eps) + np.cos(geo_lat) * np.sin(eps) * np.sin(lam))
    hour = np.radians((nu_deg + lon_deg - alpha_deg) % 360.0)

    # 3.12: topocentric parallax.
    phi = np.radians(lat_deg)
    xi = np.radians(8.794 / (3600.0 * radius_au))
    u_lat = np.arctan(0.99664719 * np.tan(phi))
    x_par = np.cos(u_lat) + elevation_m / 6378140.0 * np.cos(phi)
    y_par = 0.99664719 * np.sin(u_lat) + elevation_m / 6378140.0 * np.sin(phi)
    denominator = np.cos(delta) - x_par * np.sin(xi) * np.cos(hour)
    delta_alpha = np.arctan2(-x_par * np.sin(xi) * np.sin(hour), denominator)
    delta_topo = np.arctan2((np.sin(delta) - y_par * np.sin(xi)) * np.cos(delta_alpha), denominator)
    hour_topo = hour - delta_alpha

    # 3.14: elevation with refraction (Bennett's formula scaled by pressure and temperature).
    e0_deg = np.degrees(np.arcsin(np.sin(phi) * np.sin(delta_topo) + np.cos(phi) * np.cos(delta_topo)
                                  * np.cos(hour_topo)))
    refraction_deg = (pressure_hpa / 1010.0) * (283.0 / (273.0 + temperature_c)) * 1.02 / (
        60.0 * np.tan(np.radians(e0_deg + 10.3 / (e0_deg + 5.11))))
    visible = e0_deg >= -(_SUN_RADIUS_DEG + _HORIZON_REFRACTION_DEG)
    zenith_deg = 90.0 - (e0_deg + np.where(visible, refraction_deg, 0.0))

    # 3.15: azimuth, astronomers' (from south) → navigators' (from north).
    gamma = np.arctan2(np.sin(hour_topo), np.cos(hour_topo) * np.sin(phi) - np.tan(delta_topo) * np.cos(phi))
    azimuth_deg = (np.degrees(gamma) + 180.0) % 360.0
    return azimuth_deg, zenith_deg


def _check_site(lat_deg: float, lon_deg: float) -> None:
    if not -90.0 <= lat_deg <= 90.0:
        raise ValueError(f"latitude {lat_deg}° is outside −90…90°")
    if not -180.0 <= lon_deg <= 180.0:
        raise ValueError(f"longitude {lon_deg}° is outside −180…180°")


def solar_positions(times: Sequence[datetime], lat_deg: float, lon_deg: float, *, elevation_m: float = 0.0,
                    pressure_hpa: float = 1013.25, temperature_c: float = 12.0,
                    delta_t_s: float = 67.0) -> list[SolarPosition]:
    """The sun's position at each of ``times`` (timezone-aware) for one site, computed in
    one vectorised pass; see :func:`solar_position` for the parameters.

    >>> from datetime import datetime, timezone
    >>> day = [datetime(2024, 6, 21, h, tzinfo=timezone.utc) for h in (0, 10, 20)]
    >>> [round(p.elevation_deg) for p in solar_positions(day, 60.17, 24.94)]
    [-4, 53, -2]
    """
    _check_site(lat_deg, lon_deg)
    jd = np.array([_julian_day(t) for t in times], dtype=np.float64)
    if jd.size == 0:
        return []
    azimuth_deg, zenith_deg = _spa(jd, lat_deg, lon_deg, elevation_m, pressure_hpa, temperature_c, delta_t_s)
    return [SolarPosition(azimuth_deg=float(a), zenith_deg=float(z), elevation_deg=90.0 - float(z))
            for a, z in zip(azimuth_deg, zenith_deg, strict=True)]


def solar_position(when: datetime, lat_deg: float, lon_deg: float, *, elevation_m: float = 0.0,
                   pressure_hpa: float = 1013.25, temperature_c: float = 12.0,
                   delta_t_s: float = 67.0) -> SolarPosition:
    """The sun's topocentric position at ``when`` (a timezone-aware datetime) seen from
    latitude ``lat_deg`` (north positive), longitude ``lon_deg`` (east positive) and
    ``elevation_m`` above sea level, with refraction for the given mean annual (or
    current) air pressure and temperature. ``delta_t_s`` is ΔT = TT − UT in seconds.

    Raises :class:`ValueError` for a naive datetime or a site off the globe.

    >>> from datetime import datetime, timezone
    >>> p = solar_position(datetime(2024, 12, 21, 12, tzinfo=timezone.utc), 80.0, 0.0)
    >>> p.elevation_deg < 0
    True
    """
    return solar_positions([when], lat_deg, lon_deg, elevation_m=elevation_m, pressure_hpa=pressure_hpa,
                           temperature_c=temperature_c, delta_t_s=delta_t_s)[0]
