"""UTCI polynomial (Bröde et al. 2012) against known answers and properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sims.heat import (
    _UTCI_COEFFS,
    UTCI_STRESS_BANDS,
    saturation_vapour_pressure_hpa,
    utci_c,
    utci_category,
)

#: Reference values are given to 0.1 °C.
UTCI_TOL_C = 0.1

# (Ta °C, Tmrt °C, va m/s, RH %) -> UTCI °C.
KNOWN = [
    ((25.0, 27.0, 1.0, 50.0), 25.2),  # the issue
    ((19.0, 24.0, 1.0, 50.0), 20.0),  # the issue
    ((27.0, 22.0, 1.0, 50.0), 25.4),  # the issue
    # Example in the R package comf, calcUTCI (after Tartarini & Schiavon 2020,
    # pythermalcomfort, SoftwareX 12:100578): calcUTCI(25, 25, 1.0, 50) = 24.6.
    ((25.0, 25.0, 1.0, 50.0), 24.6),
]

ta_s = st.floats(min_value=-50.0, max_value=50.0)
dtmrt_s = st.floats(min_value=-30.0, max_value=70.0)
va_s = st.floats(min_value=0.5, max_value=17.0)
rh_s = st.floats(min_value=0.0, max_value=100.0)


@pytest.mark.parametrize(("args", "expected_c"), KNOWN)
def test_known_answers(args: tuple[float, float, float, float], expected_c: float) -> None:
    assert float(utci_c(*args)) == pytest.approx(expected_c, abs=UTCI_TOL_C)


def test_polynomial_has_all_210_terms() -> None:
    assert len(_UTCI_COEFFS) == 84
    assert sum(len(c) for c in _UTCI_COEFFS.values()) == 210
    for (p, d, v), coeffs in _UTCI_COEFFS.items():
        assert len(coeffs) == 7 - p - d - v


def test_hardy_saturation_vapour_pressure() -> None:
    # Hardy (1998): 611.2 Pa at 0 °C; 101418 Pa at 100 °C (ITS-90 steam point).
    assert float(saturation_vapour_pressure_hpa(0.0)) == pytest.approx(6.112, abs=1e-3)
    assert float(saturation_vapour_pressure_hpa(100.0)) == pytest.approx(1014.18, abs=0.05)


def test_wind_is_clipped_to_valid_range() -> None:
    assert float(utci_c(20.0, 30.0, 0.0, 50.0)) == float(utci_c(20.0, 30.0, 0.5, 50.0))
    assert float(utci_c(20.0, 30.0, 40.0, 50.0)) == float(utci_c(20.0, 30.0, 17.0, 50.0))


def test_broadcasting() -> None:
    ta = np.array([[10.0], [25.0]])
    out = utci_c(ta, ta + np.array([0.0, 10.0, 30.0]), 1.0, 50.0)
    assert out.shape == (2, 3)
    assert out[1, 0] == pytest.approx(float(utci_c(25.0, 25.0, 1.0, 50.0)))


@pytest.mark.parametrize("rh", [-1.0, 101.0])
def test_bad_humidity_raises(rh: float) -> None:
    with pytest.raises(ValueError):
        utci_c(20.0, 20.0, 1.0, rh)


@given(st.lists(st.tuples(ta_s, dtmrt_s, va_s, rh_s), min_size=1, max_size=8))
def test_vectorised_equals_scalar(rows: list[tuple[float, float, float, float]]) -> None:
    ta, dt, va, rh = (np.array(col) for col in zip(*rows, strict=True))
    vec = utci_c(ta, ta + dt, va, rh)
    scalar = [float(utci_c(a, a + d, v, r)) for a, d, v, r in rows]
    np.testing.assert_allclose(vec, scalar, rtol=0, atol=1e-9)


@given(ta_s, st.floats(min_value=-30.0, max_value=65.0), va_s, rh_s)
def test_utci_increases_with_tmrt(ta: float, dt: float, va: float, rh: float) -> None:
    # The polynomial is not monotonic everywhere in its nominal range: near the
    # humid edge (vapour pressure above about 4.7 kPa with Tmrt - Ta = -30 K) a
    # warmer Tmrt can lower it slightly, so the property is checked up to 4 kPa.
    assume(float(saturation_vapour_pressure_hpa(ta)) * rh / 100.0 <= 40.0)
    lo = float(utci_c(ta, ta + dt, va, rh))
    hi = float(utci_c(ta, ta + dt + 5.0, va, rh))
    assert hi > lo


def test_stress_bands_cover_the_line() -> None:
    assert len(UTCI_STRESS_BANDS) == 10
    assert UTCI_STRESS_BANDS[0].lower_c == -np.inf and UTCI_STRESS_BANDS[-1].upper_c == np.inf
    for below, above in itertools.pairwise(UTCI_STRESS_BANDS):
        assert below.upper_c == above.lower_c
    strong = next(b for b in UTCI_STRESS_BANDS if b.name == "strong heat stress")
    assert (strong.lower_c, strong.upper_c) == (32.0, 38.0)


def test_utci_category() -> None:
    values = np.array([-50.0, -40.0, -30.0, -5.0, 5.0, 20.0, 26.0, 35.0, 40.0, 50.0, np.nan])
    names = [UTCI_STRESS_BANDS[i].name if i >= 0 else None for i in utci_category(values)]
    assert names == [
        "extreme cold stress",
        "very strong cold stress",
        "very strong cold stress",
        "moderate cold stress",
        "slight cold stress",
        "no thermal stress",
        "moderate heat stress",
        "strong heat stress",
        "very strong heat stress",
        "extreme heat stress",
        None,
    ]
    assert utci_category(np.zeros((2, 3))).shape == (2, 3)
