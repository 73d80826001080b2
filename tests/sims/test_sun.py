"""Known answers for sims.sun: the SPA report's reference case plus almanac sanity checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sims.sun import SolarPosition, solar_position, solar_positions

#: Reda & Andreas (2004/2008), NREL/TP-560-34302, Table A5.1, printed to 5 decimals.
SPA_REFERENCE_TOL_DEG = 1e-4
#: Almanac-level reasoning (declination and hour angle by hand) is good to about this.
ALMANAC_TOL_DEG = 0.5

DENVER_TZ = timezone(timedelta(hours=-7))
EEST = timezone(timedelta(hours=3))


def test_spa_reference_case() -> None:
    """NREL/TP-560-34302 section A5: 2003-10-17 12:30:30 at UTC−7, Golden, Colorado."""
    p = solar_position(datetime(2003, 10, 17, 12, 30, 30, tzinfo=DENVER_TZ), 39.742476, -105.1786,
                       elevation_m=1830.14, pressure_hpa=820.0, temperature_c=11.0, delta_t_s=67.0)
    assert p.zenith_deg == pytest.approx(50.11162, abs=SPA_REFERENCE_TOL_DEG)
    assert p.azimuth_deg == pytest.approx(194.34024, abs=SPA_REFERENCE_TOL_DEG)
    assert p.elevation_deg == pytest.approx(90.0 - p.zenith_deg, abs=1e-12)


def test_same_instant_in_any_timezone_gives_same_position() -> None:
    local = datetime(2003, 10, 17, 12, 30, 30, tzinfo=DENVER_TZ)
    utc = datetime(2003, 10, 17, 19, 30, 30, tzinfo=UTC)
    assert solar_position(local, 39.74, -105.18) == solar_position(utc, 39.74, -105.18)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        solar_position(datetime(2003, 10, 17, 12, 30, 30), 39.74, -105.18)


@pytest.mark.parametrize(("lat_deg", "lon_deg"), [(91.0, 0.0), (-90.5, 0.0), (0.0, 181.0)])
def test_site_off_the_globe_is_refused(lat_deg: float, lon_deg: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        solar_position(datetime(2024, 1, 1, tzinfo=UTC), lat_deg, lon_deg)


def test_equinox_noon_on_the_equator_is_overhead() -> None:
    """The March 2024 equinox fell at 03:06 UTC on the 20th; by noon the declination is
    about +0.15°. At lon 0 solar noon is 12:00 UTC minus the equation of time (−7.5 min),
    so the sun should pass within a few tenths of a degree of the zenith around 12:07."""
    start = datetime(2024, 3, 20, tzinfo=UTC)
    times = [start + timedelta(minutes=m) for m in range(24 * 60)]
    zeniths = [p.zenith_deg for p in solar_positions(times, 0.0, 0.0)]
    lowest = min(range(len(times)), key=zeniths.__getitem__)
    assert zeniths[lowest] < ALMANAC_TOL_DEG
    assert datetime(2024, 3, 20, 12, 0, tzinfo=UTC) <= times[lowest] <= datetime(2024, 3, 20, 12, 15, tzinfo=UTC)


def test_helsinki_midsummer_afternoon() -> None:
    """21 June 15:00 EEST in Helsinki (60.17 N, 24.94 E). Solar noon: the zone meridian
    is 30° E, 5.06° east of Helsinki (+20 min), the equation of time is about −2 min
    (+2 min), plus an hour of summer time: about 13:22 EEST. At 15:00 the hour angle is
    about 24.5°; with δ = 23.44° spherical trigonometry gives elevation 49.5° and
    azimuth 180° + atan2(sin H, sin φ cos H − cos φ tan δ) = 215.8°: south-south-west,
    swinging west (220° is reached about 15:15)."""
    p = solar_position(datetime(2024, 6, 21, 15, 0, tzinfo=EEST), 60.1699, 24.9384)
    assert 45.0 <= p.elevation_deg <= 50.0
    assert p.azimuth_deg == pytest.approx(215.8, abs=ALMANAC_TOL_DEG)


def test_polar_night_and_midnight_sun() -> None:
    winter = [datetime(2024, 12, 21, h, tzinfo=UTC) for h in range(24)]
    assert solar_position(datetime(2024, 12, 21, 12, tzinfo=UTC), 80.0, 0.0).elevation_deg < 0
    assert all(p.elevation_deg < 0 for p in solar_positions(winter, 80.0, 0.0))
    assert solar_position(datetime(2024, 6, 21, 0, tzinfo=UTC), 80.0, 0.0).elevation_deg > 0


def test_refraction_lifts_the_sun_near_the_horizon() -> None:
    """Sunset at lat 60: denser (higher pressure, colder) air bends the sun up more."""
    when = datetime(2024, 6, 21, 19, 40, tzinfo=UTC)
    thin = solar_position(when, 60.17, 24.94, pressure_hpa=950.0, temperature_c=25.0)
    thick = solar_position(when, 60.17, 24.94, pressure_hpa=1040.0, temperature_c=-10.0)
    assert thick.elevation_deg > thin.elevation_deg
    assert thick.azimuth_deg == pytest.approx(thin.azimuth_deg, abs=1e-9)


def test_vectorised_matches_scalar() -> None:
    times = [datetime(2024, 6, 21, tzinfo=UTC) + timedelta(minutes=37 * i) for i in range(40)]
    many = solar_positions(times, 60.17, 24.94, elevation_m=20.0)
    for when, p in zip(times, many, strict=True):
        one = solar_position(when, 60.17, 24.94, elevation_m=20.0)
        assert p.azimuth_deg == pytest.approx(one.azimuth_deg, abs=1e-9)
        assert p.zenith_deg == pytest.approx(one.zenith_deg, abs=1e-9)
        assert 0.0 <= p.azimuth_deg < 360.0
    assert solar_positions([], 60.17, 24.94) == []


def test_result_is_frozen() -> None:
    p = solar_position(datetime(2024, 6, 21, 12, tzinfo=UTC), 60.17, 24.94)
    assert isinstance(p, SolarPosition)
    with pytest.raises(AttributeError):
        p.zenith_deg = 0.0  # type: ignore[misc]
