"""SCS curve-number runoff against TR-55 (USDA NRCS 1986) known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sims.runoff import (
    CLASS_TO_TR55,
    CN_BY_CLASS,
    SOIL_GROUPS,
    TR55_CN,
    curve_numbers,
    runoff,
    scs_runoff_mm,
)
from world.raster import LandCover

MM_PER_IN = 25.4
#: TR-55 Table 2-1 is printed to 0.01 in.
TABLE_2_1_TOL_IN = 0.01

# TR-55 Table 2-1, column CN = 80: rainfall (in) -> runoff depth (in).
TABLE_2_1_CN80 = [(1.0, 0.08), (2.0, 0.56), (3.0, 1.25), (4.0, 2.04), (5.0, 2.89), (6.0, 3.78)]

rain_mm = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)
cns = st.floats(min_value=1.0, max_value=100.0, allow_nan=False)


@pytest.mark.parametrize(("p_in", "q_in"), TABLE_2_1_CN80)
def test_tr55_table_2_1_cn80(p_in: float, q_in: float) -> None:
    q_mm = scs_runoff_mm(p_in * MM_PER_IN, 80)
    assert float(q_mm) / MM_PER_IN == pytest.approx(q_in, abs=TABLE_2_1_TOL_IN)


def test_vectorised_table_matches_scalar() -> None:
    p_mm = np.array([p for p, _ in TABLE_2_1_CN80]) * MM_PER_IN
    q_in = scs_runoff_mm(p_mm, 80) / MM_PER_IN
    np.testing.assert_allclose(q_in, [q for _, q in TABLE_2_1_CN80], atol=TABLE_2_1_TOL_IN)


def test_broadcasting_rain_against_cn_grid() -> None:
    q = scs_runoff_mm(np.array([[10.0], [50.0]]), np.array([60.0, 80.0, 98.0]))
    assert q.shape == (2, 3)
    assert q[1, 2] == pytest.approx(float(scs_runoff_mm(50.0, 98.0)))


def test_cn98_sheds_nearly_all_of_30mm() -> None:
    q_mm = float(scs_runoff_mm(30.0, 98))
    assert 0.8 * 30.0 < q_mm < 30.0


def test_cn100_runs_off_everything() -> None:
    np.testing.assert_array_equal(scs_runoff_mm([0.0, 1.0, 30.0], 100), [0.0, 1.0, 30.0])


def test_no_runoff_below_initial_abstraction() -> None:
    s_mm = 25400.0 / 61 - 254.0
    assert float(scs_runoff_mm(0.2 * s_mm - 0.01, 61)) == 0.0


@pytest.mark.parametrize(("p", "cn"), [(-1.0, 80), (np.nan, 80), (10.0, 0), (10.0, 101), (10.0, np.nan)])
def test_invalid_inputs_raise(p: float, cn: float) -> None:
    with pytest.raises(ValueError):
        scs_runoff_mm(p, cn)


@given(rain_mm, cns, cns)
def test_higher_cn_never_less_runoff(p: float, cn_a: float, cn_b: float) -> None:
    lo, hi = sorted((cn_a, cn_b))
    assert float(scs_runoff_mm(p, hi)) >= float(scs_runoff_mm(p, lo))


@given(rain_mm, rain_mm, cns)
def test_more_rain_never_less_runoff(p_a: float, p_b: float, cn: float) -> None:
    lo, hi = sorted((p_a, p_b))
    assert float(scs_runoff_mm(hi, cn)) >= float(scs_runoff_mm(lo, cn))


@given(rain_mm, cns)
def test_runoff_between_zero_and_rain(p: float, cn: float) -> None:
    q = float(scs_runoff_mm(p, cn))
    assert 0.0 <= q <= p


def test_table_2_2a_values() -> None:
    assert TR55_CN["open_space_good"] == (39, 61, 74, 80)
    assert TR55_CN["woods_good"] == (30, 55, 70, 77)
    assert TR55_CN["impervious"] == (98, 98, 98, 98)
    assert CN_BY_CLASS["park"]["C"] == 74
    assert CN_BY_CLASS["carriageway"]["A"] == 98


def test_every_landcover_has_a_class_and_cn() -> None:
    raster_classes = {c.name.lower() for c in LandCover}
    assert raster_classes | {"green_roof", "permeable_paving"} == set(CLASS_TO_TR55) == set(CN_BY_CLASS)
    for row in CN_BY_CLASS.values():
        assert set(row) == set(SOIL_GROUPS)
        assert all(0 < cn <= 100 for cn in row.values())


def test_curve_numbers_codes_and_names_agree() -> None:
    codes = np.array([[c.value for c in LandCover]] * 2)
    names = np.array([[c.name.lower() for c in LandCover]] * 2)
    for soil in SOIL_GROUPS:
        by_code = curve_numbers(codes, soil)
        np.testing.assert_array_equal(by_code, curve_numbers(names, soil))
        assert by_code.shape == codes.shape


@pytest.mark.parametrize(
    ("landcover", "soil"), [([99], "A"), ([-1], "A"), (["lava"], "A"), ([1], "E"), ([1.5], "A")]
)
def test_curve_numbers_reject_unknowns(landcover: list[object], soil: str) -> None:
    with pytest.raises(ValueError):
        curve_numbers(np.array(landcover), soil)


def test_runoff_volumes() -> None:
    cn = np.array([[98.0, 98.0], [61.0, 100.0]])
    result = runoff(cn, cell_m=2.0, rain_mm=25.0)
    q = scs_runoff_mm(25.0, cn)
    np.testing.assert_allclose(result.runoff_mm, q)
    assert result.rain_volume_m3 == pytest.approx(4 * 4.0 * 0.025)
    assert result.runoff_volume_m3 == pytest.approx(q.sum() * 4.0 / 1000.0)
    assert result.retained_pct == pytest.approx(100.0 * (1 - result.runoff_volume_m3 / result.rain_volume_m3))


def test_storage_reduces_runoff_and_full_storage_retains_all() -> None:
    cn = np.full((3, 3), 98.0)
    plain = runoff(cn, cell_m=1.0, rain_mm=30.0)
    garden = runoff(cn, cell_m=1.0, rain_mm=30.0, storage_mm=np.where(np.eye(3) > 0, 10.0, 0.0))
    assert garden.runoff_volume_m3 < plain.runoff_volume_m3
    assert garden.retained_pct > plain.retained_pct
    full = runoff(cn, cell_m=1.0, rain_mm=30.0, storage_mm=30.0)
    assert full.runoff_volume_m3 == 0.0 and full.retained_pct == 100.0


def test_green_measures_lower_runoff_than_pavement() -> None:
    for soil in SOIL_GROUPS:
        roof, green, permeable = curve_numbers(np.array(["building", "green_roof", "permeable_paving"]), soil)
        assert green < roof and permeable < roof


def test_no_rain_retains_everything() -> None:
    result = runoff(np.full((2, 2), 80.0), cell_m=1.0, rain_mm=0.0)
    assert result.runoff_volume_m3 == 0.0 and result.retained_pct == 100.0


@pytest.mark.parametrize("kwargs", [{"cell_m": 0.0}, {"cell_m": 1.0, "storage_mm": -1.0}])
def test_runoff_rejects_bad_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        runoff(np.full((2, 2), 80.0), rain_mm=10.0, **kwargs)
