"""Mean radiant temperature (sims.mrt) and the clear sky (sims.radiation): known answers,
physical limits and the effect of shade."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sims.mrt import (
    STEFAN_BOLTZMANN,
    SURFACES,
    RadiantParams,
    Sky,
    mean_radiant_temperature_c,
    projected_area_factor,
    surface_heating_k,
    tmrt_from_absorbed_c,
)
from sims.radiation import SunDay, air_mass, clear_sky, sky_emissivity, sun_day

#: Where a figure is a range read from the literature rather than a computed value.
RANGE_NOTE = "ranges, not point values"

# A clear midsummer afternoon at 60° N (Helsinki, 21 June, ~15:00 local): the sun at
# 50° after noon, air at 30 °C and 40 % humidity.
ELEVATION_DEG = 50.0
TA_C = 30.0
DAY = sun_day(60.0, 215.0, ELEVATION_DEG)


def _sky(elevation_deg: float = ELEVATION_DEG, linke: float = 3.5) -> Sky:
    light = clear_sky(elevation_deg, 172, linke)
    return Sky(elevation_deg, light.beam_normal_wm2, light.diffuse_wm2, TA_C, sky_emissivity(TA_C, 40.0),
               surface_heating_k(SURFACES["wall"], DAY))


def _tmrt(svf: float, svf_buildings: float, sunlit: float, surface: str = "paving", sky: Sky | None = None,
          heating: bool = True, params: RadiantParams | None = None) -> float:
    ground = SURFACES[surface]
    warm_k = surface_heating_k(ground, DAY) if heating else 0.0
    return float(mean_radiant_temperature_c(sky or _sky(), svf, svf_buildings, sunlit, ground.albedo,
                                            ground.emissivity, warm_k, params or RadiantParams()))


def _absorbed(tmrt_c: float) -> float:
    return RadiantParams().emissivity_person * STEFAN_BOLTZMANN * (tmrt_c + 273.15) ** 4


def test_tmrt_of_a_black_enclosure_is_its_temperature() -> None:
    """Tmrt = (S/(ε_p σ))^¼: a person absorbing ε_p σ T⁴ from every side has Tmrt = T."""
    for t_k in (250.0, 300.0, 330.0):
        absorbed = 0.97 * STEFAN_BOLTZMANN * t_k**4
        assert float(tmrt_from_absorbed_c(absorbed)) == pytest.approx(t_k - 273.15, abs=1e-9)


def test_a_closed_shaft_at_night_is_at_air_temperature() -> None:
    """Physical limit: no sky (SVF 0), no sun, walls and ground black at Ta → Tmrt = Ta;
    with grey walls (ε 0.9) reflecting a little cold sky, at most 2 K below it."""
    night = Sky(-10.0, 0.0, 0.0, TA_C, sky_emissivity(TA_C, 40.0), 0.0)
    black = RadiantParams(wall_emissivity=1.0)
    tmrt = float(mean_radiant_temperature_c(night, 0.0, 0.0, 0.0, 0.2, 1.0, 0.0, black))
    assert tmrt == pytest.approx(TA_C, abs=1e-9)
    grey = _tmrt(0.0, 0.0, 0.0, sky=night, heating=False)
    assert TA_C - 2.0 < grey < TA_C


def test_sunlit_open_paving_is_far_above_air_temperature() -> None:
    """Clear sky, sun at 50°, Ta 30 °C: 55–65 °C, the range the issue sets for sunlit open
    ground (SOLWEIG gives such values in sunlit open squares on clear summer days,
    Lindberg et al. 2008, 2014); ranges, not point values."""
    tmrt = _tmrt(1.0, 1.0, 1.0)
    assert 55.0 <= tmrt <= 65.0, RANGE_NOTE


def test_shade_of_a_building_is_20_to_30_k_cooler() -> None:
    """A street between buildings (SVF 0.5–0.8), in their shade, against open sunlit
    ground: 20–30 K lower, as in the issue (Lindberg et al. 2014 report such sun–shade
    contrasts on clear summer days); ranges, not point values."""
    open_sun = _tmrt(1.0, 1.0, 1.0)
    for psi in (0.5, 0.65, 0.8):
        drop = open_sun - _tmrt(psi, psi, 0.0)
        assert 20.0 <= drop <= 30.0, f"SVF {psi}: {drop:.1f} K"


def test_a_crown_cuts_the_beam_by_one_minus_its_transmissivity() -> None:
    """With the ground's warming held fixed, everything the beam adds (on the body and
    reflected by the ground) scales with the sunlit share β; under a crown β = τ, so
    the beam's part of the absorbed flux falls by exactly 1 − τ."""
    full = _absorbed(_tmrt(1.0, 1.0, 1.0, heating=False))
    none = _absorbed(_tmrt(1.0, 1.0, 0.0, heating=False))
    for tau in (0.05, 0.2, 0.5):
        under = _absorbed(_tmrt(1.0, 1.0, tau, heating=False))
        assert (full - under) == pytest.approx((1.0 - tau) * (full - none), rel=1e-9)


def test_sunlit_paving_is_hotter_than_grass_and_water() -> None:
    paving, asphalt = _tmrt(1.0, 1.0, 1.0, "paving"), _tmrt(1.0, 1.0, 1.0, "asphalt")
    grass, water = _tmrt(1.0, 1.0, 1.0, "grass"), _tmrt(1.0, 1.0, 1.0, "water")
    assert asphalt > paving > grass > water


def test_less_sky_is_warmer_at_night() -> None:
    """At night walls at air temperature replace the colder sky: Tmrt rises as SVF falls
    (by day, less sky also means less diffuse light and fewer sunlit walls)."""
    night = Sky(-10.0, 0.0, 0.0, TA_C, sky_emissivity(TA_C, 40.0), 0.0)
    temps = [_tmrt(psi, psi, 0.0, sky=night, heating=False) for psi in (1.0, 0.8, 0.6, 0.4, 0.2, 0.0)]
    assert temps == sorted(temps)
    assert temps[0] < TA_C - 5.0  # the open sky is far colder than the air


def test_ground_heating_follows_solweig() -> None:
    """Lindberg et al. (2016) / SOLWEIG: ΔT = (T_gK γ_max + T_start)·sin(π/2·t/t_max);
    at its peak, paving under a 53.44° noon sun is 0.37·53.44 − 3.41 = 16.36 K warmer."""
    peak = SunDay(53.44, 9.25 + 3.0, 9.25)  # 3 h after solar noon: T_maxLST of paving
    assert surface_heating_k(SURFACES["paving"], peak) == pytest.approx(0.37 * 53.44 - 3.41, abs=1e-9)
    assert surface_heating_k(SURFACES["water"], peak) == 0.0
    assert surface_heating_k(SURFACES["paving"], SunDay(53.44, 0.0, 9.25)) == 0.0  # at sunrise
    assert surface_heating_k(SURFACES["paving"], SunDay(53.44, 2 * 12.25, 9.25)) == pytest.approx(0.0, abs=1e-9)


def test_projected_area_factor() -> None:
    """f_p = 0.308 cos(γ(0.998 − γ²/50000)): 0.308 for a low sun, smaller as it climbs."""
    values = [projected_area_factor(e) for e in (0.01, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0)]
    assert values[0] == pytest.approx(0.308, abs=1e-4)
    assert values == sorted(values, reverse=True)
    assert projected_area_factor(-1.0) == 0.0


def test_kasten_young_air_mass() -> None:
    """Kasten & Young (1989): m ≈ 1 at the zenith, 37.92 at the horizon, ≈ 1/sin γ high up."""
    assert air_mass(90.0) == pytest.approx(1.0, abs=5e-4)
    assert air_mass(0.0) == pytest.approx(37.92, abs=0.01)
    assert air_mass(30.0) == pytest.approx(1.0 / math.sin(math.radians(30.0)), rel=0.005)


def test_esra_clear_sky() -> None:
    """ESRA (Rigollier et al. 2000): global = beam·sin γ + diffuse; the clear-sky diffuse
    fraction is near Reindl et al.'s (1990) 0.147 for clearness above 0.78; more haze
    moves light from the beam to the diffuse; nothing with the sun down."""
    sky = clear_sky(ELEVATION_DEG, 172, 3.5)
    assert sky.global_wm2 == pytest.approx(sky.beam_normal_wm2 * math.sin(math.radians(ELEVATION_DEG))
                                           + sky.diffuse_wm2)
    assert sky.diffuse_wm2 / sky.global_wm2 == pytest.approx(0.147, abs=0.05)
    hazy = clear_sky(ELEVATION_DEG, 172, 6.0)
    assert hazy.beam_normal_wm2 < sky.beam_normal_wm2 and hazy.diffuse_wm2 > sky.diffuse_wm2
    assert clear_sky(0.0, 172, 3.5).global_wm2 == 0.0
    with pytest.raises(ValueError):
        clear_sky(30.0, 172, 20.0)


def test_prata_sky_emissivity() -> None:
    """Prata (1996) eq. 20 by hand for 20 °C, 50 %: e = 11.69 hPa, w = 1.854 cm, ε = 0.788;
    drier air radiates less."""
    assert sky_emissivity(20.0, 50.0) == pytest.approx(0.788, abs=0.001)
    assert sky_emissivity(20.0, 20.0) < sky_emissivity(20.0, 50.0) < sky_emissivity(20.0, 90.0)


def test_sun_day_at_midsummer_and_in_polar_day() -> None:
    """60° N, declination 23.44°: noon at 53.44°, sunrise 9.24 h before noon
    (cos ω = −tan φ tan δ); above the polar circle the sun never sets."""
    phi, delta = math.radians(60.0), math.radians(23.44)
    hour = math.radians(-30.0)  # 10:00 solar time
    elevation = math.asin(math.sin(phi) * math.sin(delta) + math.cos(phi) * math.cos(delta) * math.cos(hour))
    azimuth = math.degrees(math.atan2(-math.sin(hour) * math.cos(delta),
                                      (math.sin(delta) - math.sin(phi) * math.sin(elevation)) / math.cos(phi)))
    day = sun_day(60.0, azimuth % 360.0, math.degrees(elevation))
    sunrise_h = math.degrees(math.acos(-math.tan(phi) * math.tan(delta))) / 15.0
    assert day.noon_elevation_deg == pytest.approx(53.44, abs=1e-6)
    assert day.hours_sunrise_to_noon == pytest.approx(sunrise_h, abs=1e-6)
    assert day.hours_since_sunrise == pytest.approx(sunrise_h - 2.0, abs=1e-6)
    assert sun_day(75.0, 180.0, 38.44).hours_sunrise_to_noon == pytest.approx(12.0)


def test_radiant_params_are_checked() -> None:
    with pytest.raises(ValueError):
        RadiantParams(absorption_k=1.5)


def test_arrays_broadcast() -> None:
    sky = _sky()
    out = mean_radiant_temperature_c(sky, np.array([1.0, 0.5]), np.array([1.0, 0.5]), np.array([1.0, 0.0]), 0.2,
                                     0.95, 10.0)
    assert out.shape == (2,) and out[0] > out[1]
