"""Fields colour themselves; KPIs know which way is better."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sims.field import ColourRamp, Field, Kpi

RAMP = ColourRamp(((0.0, (0, 0, 0, 255)), (1.0, (100, 200, 50, 255)), (3.0, (255, 255, 255, 128))))


def test_ramp_interpolates_clamps_and_hides_nan() -> None:
    image = RAMP.colorize(np.array([[-5.0, 0.5, 2.0, 9.0, np.nan]]))
    assert image.shape == (1, 5, 4) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [0, 0, 0, 255]
    assert image[0, 1].tolist() == [50, 100, 25, 255]
    assert image[0, 2].tolist() == [178, 228, 152, 192]
    assert image[0, 3].tolist() == [255, 255, 255, 128]
    assert image[0, 4].tolist() == [0, 0, 0, 0]


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=50))
def test_ramp_is_monotone_in_each_rising_channel(values: list[float]) -> None:
    ramp = ColourRamp(((0.0, (0, 0, 0, 255)), (5.0, (255, 255, 255, 255))))
    ordered = np.sort(np.array(values))
    image = ramp.colorize(ordered)
    assert (np.diff(image[:, 0].astype(int)) >= 0).all()


def test_bad_ramps_and_kpi_direction() -> None:
    with pytest.raises(ValueError, match="increasing"):
        ColourRamp(((1.0, (0, 0, 0, 255)), (1.0, (1, 1, 1, 255))))
    assert Kpi("shade_pct", 40.0, "%", better="higher").improves_on(30.0)
    assert not Kpi("utci_mean_c", 31.0, "°C", better="lower").improves_on(30.0)
    field = Field("shade", np.zeros((2, 3)), "fraction", RAMP)
    assert field.image().shape == (2, 3, 4)
