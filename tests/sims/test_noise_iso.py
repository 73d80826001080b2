"""CNOSSOS-EU propagation against ISO/TR 17534-4:2020 and emission against Table F-1.

The expected values are those of ISO/TR 17534-4:2020 (software for calculating
sound outdoors — CNOSSOS-EU), tables of test cases TC01–TC10, as reproduced by the
NoiseModelling test suite (Université Gustave Eiffel, ``AttenuationCnossosTest``), whose
conformity report allows ±0.1 dB; the terms it checks to ±0.02 dB are checked so here.
Every case: octave-band sound power 93 dB, 10 °C, 70 % relative humidity, the
source at (10, 10, 1) and the receiver at (200, 50, 4) unless noted, so dp = 194.16 m.

Not reproduced (see :mod:`sims.noise`): TC05, TC06, TC09 and TC11–TC28 need terrain
(mean ground planes that are not z = 0), lateral paths round vertical edges or
reflections; of TC08 and TC10 only the vertical plane (diffraction over the top) is
compared, as the lateral paths are not modelled.
"""

from __future__ import annotations

import numpy as np
import pytest

from sims._cnossos_diffraction import diffraction_terms
from sims._cnossos_emission import COEFFICIENTS, road_emission_db, vehicle_sound_power_db
from sims._cnossos_propagation import air_absorption_db_per_km, g_path_prime, ground_attenuation_db
from sims.noise import A_WEIGHTING_DB, path_attenuation_db

#: The tolerance of ISO/TR 17534-4 conformity, dB.
ISO_TOL_DB = 0.1
#: The tolerance the reference implementation holds the individual terms to, dB.
TERM_TOL_DB = 0.02
LW_DB = 93.0
TEMPERATURE_C, HUMIDITY_PCT = 10.0, 70.0
SOURCE = np.array([10.0, 10.0, 1.0])
RECEIVER = np.array([200.0, 50.0, 4.0])
DP_M = float(np.hypot(*(RECEIVER[:2] - SOURCE[:2])))
P_FAVOURABLE = 0.5  # the ISO tables combine L_H and L_F with p = 0.5


def _along(x: float) -> float:
    """Distance from the source, along the S–R line, of the point with abscissa ``x``."""
    return DP_M * (x - SOURCE[0]) / (RECEIVER[0] - SOURCE[0])


#: TC07, TC08: G = 0.9 from the source to x = 50, 0.5 to x = 150, 0.2 beyond.
G_SEGMENTS = ((_along(50.0), 0.9), (_along(150.0), 0.5), (DP_M, 0.2))
#: TC04: the same areas the other way round, 0.2 by the source and 0.9 by the receiver.
G_SEGMENTS_TC04 = ((_along(50.0), 0.2), (_along(150.0), 0.5), (DP_M, 0.9))


def _mean_g(start: float, end: float, segments: tuple[tuple[float, float], ...] = G_SEGMENTS) -> float:
    """Length-weighted G of the stretch [start, end] of the S–R line."""
    total, lo = 0.0, 0.0
    for hi, g in segments:
        total += g * max(0.0, min(hi, end) - max(lo, start))
        lo = hi
    return total / (end - start)


def _la_db(levels: np.ndarray) -> float:
    return float(10.0 * np.log10(np.sum(10.0 ** ((levels + A_WEIGHTING_DB) / 10.0))))


def test_air_absorption_10c_70pct() -> None:
    expected = [0.12, 0.41, 1.04, 1.93, 3.66, 9.66, 32.77, 116.88]
    np.testing.assert_allclose(air_absorption_db_per_km(TEMPERATURE_C, HUMIDITY_PCT), expected, atol=TERM_TOL_DB)


def test_tc01_divergence_and_total() -> None:
    """TC01, reflecting ground G = 0: A_div 56.76 dB, total 44.12 dB(A)."""
    a = path_attenuation_db(DP_M, 1.0, 4.0, 0.0, temperature_c=TEMPERATURE_C, humidity_pct=HUMIDITY_PCT)
    assert float(a.a_div[0]) == pytest.approx(56.76, abs=TERM_TOL_DB)
    np.testing.assert_allclose(a.a_atm[0], [0.02, 0.08, 0.20, 0.37, 0.71, 1.88, 6.36, 22.70], atol=TERM_TOL_DB)
    level = a.level_db(LW_DB, P_FAVOURABLE)[0]
    np.testing.assert_allclose(level, [39.95, 39.89, 39.77, 39.60, 39.26, 38.09, 33.61, 17.27], atol=ISO_TOL_DB)
    assert _la_db(level) == pytest.approx(44.12, abs=ISO_TOL_DB)


# Case: (G_path, G_source, A_ground,H, A_ground,F, L_H, L_F, L) of TC01–TC04.
GROUND_CASES = {
    "TC01": (0.0, 0.0, [-3.00] * 8, [-4.36] * 8,
             [39.21, 39.16, 39.03, 38.86, 38.53, 37.36, 32.87, 16.54],
             [40.58, 40.52, 40.40, 40.23, 39.89, 38.72, 34.24, 17.90],
             [39.95, 39.89, 39.77, 39.60, 39.26, 38.09, 33.61, 17.27]),
    "TC02": (0.5, 0.5, [-1.50, -1.50, -1.50, 0.85, 5.71, -1.50, -1.50, -1.50],
             [-2.18, -2.18, -2.18, -2.18, -0.93, -2.18, -2.18, -2.18],
             [37.71, 37.66, 37.53, 35.01, 29.82, 35.86, 31.37, 15.04],
             [38.39, 38.34, 38.22, 38.04, 36.45, 36.54, 32.05, 15.72],
             [38.07, 38.01, 37.89, 36.79, 34.29, 36.21, 31.73, 15.39]),
    "TC03": (1.0, 1.0, [0.00, 0.00, 1.59, 9.67, 5.03, 0.00, 0.00, 0.00],
             [0.00, 0.00, 0.00, 4.23, 0.00, 0.00, 0.00, 0.00],
             [36.21, 36.16, 34.45, 26.19, 30.49, 34.36, 29.87, 13.54],
             [36.21, 36.16, 36.03, 31.63, 35.53, 34.36, 29.87, 13.54],
             [36.21, 36.16, 35.31, 29.71, 33.70, 34.36, 29.87, 13.54]),
    "TC04": (_mean_g(0.0, DP_M, G_SEGMENTS_TC04), 0.2, [-1.37, -1.37, -1.37, 1.77, 6.23, -1.37, -1.37, -1.37],
             [-2.00, -2.00, -2.00, -2.00, -0.95, -2.00, -2.00, -2.00],
             [37.59, 37.53, 37.41, 34.10, 29.29, 35.73, 31.25, 14.91],
             [38.21, 38.15, 38.03, 37.86, 36.48, 36.36, 31.87, 15.54],
             [37.91, 37.85, 37.73, 36.37, 34.23, 36.06, 31.57, 15.24]),
}


@pytest.mark.parametrize("case", sorted(GROUND_CASES))
def test_ground_cases(case: str) -> None:
    """TC01–TC04: flat ground, G = 0, 0.5, 1 and G varying along the path."""
    g, g_source, ground_h, ground_f, l_h, l_f, l_total = GROUND_CASES[case]
    a = path_attenuation_db(DP_M, 1.0, 4.0, g, g_source=g_source, temperature_c=TEMPERATURE_C,
                            humidity_pct=HUMIDITY_PCT)
    np.testing.assert_allclose(a.a_ground_h[0], ground_h, atol=ISO_TOL_DB)
    np.testing.assert_allclose(a.a_ground_f[0], ground_f, atol=ISO_TOL_DB)
    np.testing.assert_allclose(LW_DB - a.a_h[0], l_h, atol=ISO_TOL_DB)
    np.testing.assert_allclose(LW_DB - a.a_f[0], l_f, atol=ISO_TOL_DB)
    np.testing.assert_allclose(a.level_db(LW_DB, P_FAVOURABLE)[0], l_total, atol=ISO_TOL_DB)


def _barrier_terms(crossing_x: float, crossing_y: float, favourable: bool):
    """TC07/TC08 vertical plane: a 6 m thin wall crossing the path at (x, y)."""
    t = float(np.hypot(crossing_x - SOURCE[0], crossing_y - SOURCE[1]))
    g_so = _mean_g(0.0, t)
    return diffraction_terms(DP_M, 1.0, 4.0, t, 6.0, t, 6.0, g_so, g_path_prime(g_so, 0.9, t, 1.0, 6.0),
                             _mean_g(t, DP_M), favourable=favourable)


# Case: wall crossing, then per condition (Δdif(S,R), Δground(S,O), Δground(O,R), A_dif).
BARRIER_CASES = {
    "TC07": ((176.57986111111111, 45.06944444444444), {
        False: ([6.01, 6.96, 8.41, 10.36, 12.72, 15.37, 18.19, 21.10],
                [-1.13, -1.11, -1.09, -1.08, 1.32, -1.06, -1.06, -1.06],
                [-1.22, -1.02, -0.88, -0.79, -0.74, -0.71, -0.70, -0.69],
                [3.67, 4.83, 6.44, 8.49, 13.30, 13.60, 16.43, 19.35]),
        True: ([5.67, 6.40, 7.58, 9.27, 11.43, 13.94, 16.68, 19.55],
               [-1.12, -1.11, -1.08, -1.06, -1.04, -1.03, -1.02, -1.02],
               [-1.18, -0.96, -0.81, -0.71, -0.65, -0.61, -0.60, -0.59],
               [3.36, 4.33, 5.69, 7.50, 9.74, 12.30, 15.06, 17.94])}),
    "TC08": ((176.82926829268294, 45.1219512195122), {
        False: ([6.02, 6.97, 8.42, 10.38, 12.75, 15.40, 18.21, 21.12],
                [-1.13, -1.11, -1.10, -1.08, 1.33, -1.06, -1.06, -1.06],
                [-1.21, -1.01, -0.87, -0.79, -0.74, -0.71, -0.70, -0.69],
                [3.68, 4.84, 6.45, 8.51, 13.34, 13.62, 16.46, 19.38]),
        True: ([5.68, 6.41, 7.60, 9.30, 11.47, 13.99, 16.73, 19.60],
               [-1.12, -1.11, -1.09, -1.06, -1.05, -1.03, -1.03, -1.02],
               [-1.18, -0.96, -0.81, -0.71, -0.65, -0.61, -0.60, -0.59],
               [3.37, 4.34, 5.71, 7.53, 9.78, 12.34, 15.11, 17.99])}),
}


@pytest.mark.parametrize("case", sorted(BARRIER_CASES))
@pytest.mark.parametrize("favourable", [False, True])
def test_barrier_diffraction_terms(case: str, favourable: bool) -> None:
    """TC07 (long barrier) and the vertical plane of TC08 (short barrier), G varying."""
    (x, y), expected = BARRIER_CASES[case]
    terms = _barrier_terms(x, y, favourable)
    d_sr, d_so, d_or, a_dif = expected[favourable]
    np.testing.assert_allclose(terms.delta_sr_db[0], d_sr, atol=TERM_TOL_DB)
    np.testing.assert_allclose(terms.delta_ground_so_db[0], d_so, atol=ISO_TOL_DB)
    np.testing.assert_allclose(terms.delta_ground_or_db[0], d_or, atol=TERM_TOL_DB)
    np.testing.assert_allclose(terms.a_dif_db[0], a_dif, atol=ISO_TOL_DB)


def test_tc07_levels() -> None:
    t = float(np.hypot(176.57986111111111 - SOURCE[0], 45.06944444444444 - SOURCE[1]))
    a = path_attenuation_db(DP_M, 1.0, 4.0, _mean_g(0.0, DP_M), g_source=0.9,
                            edges=(t, 6.0, t, 6.0, _mean_g(0.0, t), _mean_g(t, DP_M)),
                            temperature_c=TEMPERATURE_C, humidity_pct=HUMIDITY_PCT)
    np.testing.assert_allclose(LW_DB - a.a_h[0], [32.54, 31.32, 29.60, 27.37, 22.22, 20.76, 13.44, -5.81],
                               atol=ISO_TOL_DB)
    np.testing.assert_allclose(LW_DB - a.a_f[0], [32.85, 31.83, 30.35, 28.36, 25.78, 22.06, 14.81, -4.41],
                               atol=ISO_TOL_DB)
    np.testing.assert_allclose(a.level_db(LW_DB, P_FAVOURABLE)[0],
                               [32.70, 31.58, 29.99, 27.89, 24.36, 21.46, 14.18, -5.05], atol=ISO_TOL_DB)


def test_tc10_building_vertical_plane() -> None:
    """TC10: a 10 m cube 5–15 m from the source, G = 0.5; receiver 20 m away at 4 m.
    Two edges (C'' with e = 10 m); Δ_dif(S,R) capped at 25 dB in A_dif."""
    a = path_attenuation_db(20.0, 1.0, 4.0, 0.5, edges=(5.0, 10.0, 15.0, 10.0, 0.5, 0.5),
                            temperature_c=TEMPERATURE_C, humidity_pct=HUMIDITY_PCT)
    assert float(a.a_div[0]) == pytest.approx(37.12, abs=TERM_TOL_DB)
    expected_dif = [15.69, 19.36, 22.48, 22.48, 22.48, 22.48, 22.48, 22.48]
    np.testing.assert_allclose(a.a_dif_h[0], expected_dif, atol=ISO_TOL_DB)
    np.testing.assert_allclose(a.a_dif_f[0], expected_dif, atol=ISO_TOL_DB)
    np.testing.assert_allclose(LW_DB - a.a_h[0], [40.19, 36.52, 33.38, 33.36, 33.33, 33.21, 32.74, 31.04],
                               atol=ISO_TOL_DB)
    terms = diffraction_terms(20.0, 1.0, 4.0, 5.0, 10.0, 15.0, 10.0, 0.5, 0.5, 0.5, favourable=False)
    np.testing.assert_allclose(terms.delta_sr_db[0], [18.23, 21.88, 26.33, 30.63, 34.21, 37.39, 40.45, 43.47],
                               atol=TERM_TOL_DB)
    np.testing.assert_allclose(terms.delta_image_s_db[0], [18.91, 22.58, 27.03, 31.33, 34.92, 38.10, 41.16, 44.18],
                               atol=TERM_TOL_DB)


def test_ground_formula_lower_bound_for_hard_ground() -> None:
    """G_path = 0: the Annex sets A_ground to its lower bound in both conditions."""
    short = ground_attenuation_db(50.0, 1.0, 4.0, 0.0, 0.0, favourable=True)
    assert np.allclose(short, -3.0)  # dp ≤ 30(z_s + z_r)
    np.testing.assert_allclose(ground_attenuation_db(DP_M, 1.0, 4.0, 0.0, 0.0, favourable=False), -3.0)


# -- emission ------------------------------------------------------------------------


@pytest.mark.parametrize("category", [1, 2, 3])
def test_emission_at_reference_speed_is_table_f1(category: int) -> None:
    """At v = 70 km/h and 20 °C the speed and temperature terms vanish: L_W is the
    energetic sum of A_R and A_P of Table F-1 (Directive 2021/1226)."""
    a_r, _, a_p, _ = COEFFICIENTS[category]
    expected = 10.0 * np.log10(10.0 ** (a_r / 10.0) + 10.0 ** (a_p / 10.0))
    np.testing.assert_allclose(vehicle_sound_power_db(category, 70.0, 20.0), expected, atol=1e-9)


def test_emission_table_f1_light_vehicle_rows() -> None:
    """Spot values of the amended Table F-1 (category 1, 63 Hz and 1 kHz)."""
    assert COEFFICIENTS[1][0, 0] == 83.1 and COEFFICIENTS[1][2, 4] == 84.7
    assert COEFFICIENTS[3][0, 3] == 104.9 and COEFFICIENTS[2][3, 1] == 4.7


def test_emission_speed_and_temperature_terms() -> None:
    """Rolling noise grows by B_R·lg(v/70), propulsion by B_P·(v − 70)/70, and a colder
    road adds K·(20 − τ) to rolling noise (0.08 dB/°C for cars)."""
    a_r, b_r, a_p, b_p = COEFFICIENTS[1]
    v, tau = 50.0, 5.0
    rolling = a_r + b_r * np.log10(v / 70.0) + 0.08 * (20.0 - tau)
    propulsion = a_p + b_p * (v - 70.0) / 70.0
    expected = 10.0 * np.log10(10.0 ** (rolling / 10.0) + 10.0 ** (propulsion / 10.0))
    np.testing.assert_allclose(vehicle_sound_power_db(1, v, tau), expected, atol=1e-9)


def test_line_source_power_per_metre() -> None:
    """L_W' = L_W + 10 lg(Q / 1000 v): 1000 cars/h at 70 km/h is L_W − 18.45 dB."""
    lw = vehicle_sound_power_db(1, 70.0, 15.0)
    np.testing.assert_allclose(road_emission_db(1000.0, 0.0, 70.0, 15.0), lw + 10.0 * np.log10(1000.0 / 70000.0))


def test_heavy_split_between_categories_2_and_3() -> None:
    only_3 = road_emission_db(0.0, 100.0, 50.0, 15.0, medium_share=0.0)
    only_2 = road_emission_db(0.0, 100.0, 50.0, 15.0, medium_share=1.0)
    half = road_emission_db(0.0, 100.0, 50.0, 15.0, medium_share=0.5)
    np.testing.assert_allclose(10.0 ** (half / 10.0), (10.0 ** (only_2 / 10.0) + 10.0 ** (only_3 / 10.0)) / 2.0)
    assert np.all(only_3 > only_2)


def test_no_traffic_is_silent_and_bad_input_is_refused() -> None:
    assert np.all(np.isneginf(road_emission_db(0.0, 0.0, 50.0)))
    with pytest.raises(ValueError, match="negative"):
        road_emission_db(-1.0, 0.0, 50.0)
    with pytest.raises(ValueError, match="category"):
        vehicle_sound_power_db(4, 50.0)
