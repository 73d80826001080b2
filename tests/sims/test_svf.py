"""Sky view factor (sims.svf) against closed forms, and windowed updates against full runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.svf import sky_view_factor, sky_view_factor_window, svf_window, vegetation_svf

#: Canyons and wells ~20 cells wide: azimuth quadrature (≤ 0.009 for H/W ≤ 2 at 16
#: azimuths) plus walls placed to half a cell (≤ 0.005); see the module docstring.
SVF_TOL = 0.015


def _canyon(ratio: float, width_cells: int = 21, length_cells: int = 401) -> np.ndarray:
    """A north-south street ``width_cells`` wide between two walls of height ratio × width."""
    dsm = np.zeros((length_cells, width_cells + 2), dtype=np.float32)
    dsm[:, 0] = dsm[:, -1] = ratio * width_cells
    return dsm


def test_open_ground_sees_the_whole_sky() -> None:
    flat = np.full((40, 60), 3.5, dtype=np.float32)
    for radius_m in (0.0, 10.0, 100.0):
        assert (sky_view_factor(flat, 2.0, radius_m=radius_m) == 1.0).all()


@pytest.mark.parametrize(("ratio", "azimuths"), [(0.5, 16), (1.0, 16), (2.0, 16), (3.0, 64)])
def test_street_canyon_centre_line(ratio: float, azimuths: int) -> None:
    """Oke (1987): ψ = cos(atan(2 H/W)) at the centre of an endless canyon (H/W = 1: 0.447)."""
    expected = math.cos(math.atan(2.0 * ratio))
    dsm = _canyon(ratio)
    # 200 m reach every wall a ray can meet: at 5.6° off the axis it meets one 107 m away.
    svf = sky_view_factor(dsm, 1.0, radius_m=200.0, azimuths=azimuths)
    assert svf[200, 11] == pytest.approx(expected, abs=SVF_TOL)
    # The same street running east-west gives the same answer (the rays are symmetric).
    turned = sky_view_factor(np.ascontiguousarray(dsm.T), 1.0, radius_m=200.0, azimuths=azimuths)
    assert turned[11, 200] == pytest.approx(float(svf[200, 11]), abs=1e-6)


@pytest.mark.parametrize(("radius_cells", "height_m"), [(10, 10.0), (20, 10.0), (15, 30.0)])
def test_centre_of_a_circular_well(radius_cells: int, height_m: float) -> None:
    """ψ = R²/(R² + H²): the view factor of the opening, a coaxial disc of radius R at H."""
    size = 2 * radius_cells + 41
    centre = size // 2
    yy, xx = np.mgrid[:size, :size]
    dsm = np.where((yy - centre) ** 2 + (xx - centre) ** 2 >= radius_cells**2, height_m, 0.0).astype(np.float32)
    svf = sky_view_factor(dsm, 1.0, radius_m=200.0)
    expected = radius_cells**2 / (radius_cells**2 + height_m**2)
    assert svf[centre, centre] == pytest.approx(expected, abs=SVF_TOL)


def test_cell_size_scales_with_the_geometry() -> None:
    """The same canyon at 2 m cells (heights doubled) gives the same SVF."""
    dsm = _canyon(1.0)
    at_1m = sky_view_factor(dsm, 1.0, radius_m=200.0)
    at_2m = sky_view_factor(dsm * 2.0, 2.0, radius_m=400.0)
    np.testing.assert_allclose(at_1m, at_2m, atol=1e-6)


def test_obstacles_beyond_the_radius_are_ignored() -> None:
    dsm = np.zeros((101, 101), dtype=np.float32)
    dsm[50, 80] = 40.0  # a mast 30 cells east of the centre
    assert sky_view_factor(dsm, 1.0, radius_m=29.0)[50, 50] == 1.0
    assert sky_view_factor(dsm, 1.0, radius_m=31.0)[50, 50] < 1.0


def test_observer_height_and_crown_only_layers() -> None:
    """A crown-only layer (−inf elsewhere) seen from the ground: a crown overhead hides
    most of the sky, a roof above everything around sees it all."""
    crowns = np.full((41, 41), -np.inf, dtype=np.float32)
    yy, xx = np.mgrid[:41, :41]
    crowns[(yy - 20) ** 2 + (xx - 20) ** 2 <= 25] = 10.0
    ground = np.zeros((41, 41), dtype=np.float32)
    svf = sky_view_factor(crowns, 1.0, observer_m=ground, radius_m=30.0)
    assert svf[20, 20] < 0.05
    assert svf[0, 0] > 0.9
    roof = np.full((41, 41), 12.0, dtype=np.float32)
    assert (sky_view_factor(crowns, 1.0, observer_m=roof, radius_m=30.0) == 1.0).all()


def test_vegetation_svf_combines_as_solweig() -> None:
    """ψ = ψ_b − (1 − ψ_v)(1 − τ): an opaque crown removes its sky, a clear one nothing."""
    assert float(vegetation_svf(0.8, 0.5, 0.0)) == pytest.approx(0.3)
    assert float(vegetation_svf(0.8, 0.5, 1.0)) == pytest.approx(0.8)
    assert float(vegetation_svf(0.2, 0.1, 0.0)) == 0.0  # clipped


@pytest.mark.parametrize("bad", [np.zeros(5), np.array([[np.nan]]), np.array([[np.inf]])])
def test_bad_surfaces_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        sky_view_factor(bad, 1.0)


def test_window_is_the_box_grown_by_the_radius() -> None:
    rows, cols = svf_window((200, 200), 2.0, slice(100, 110), slice(0, 5), radius_m=20.0)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (90, 120, 0, 15)


@st.composite
def _edits(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, slice, slice, float, float]:
    rows, cols = draw(st.integers(8, 40)), draw(st.integers(8, 40))
    heights = st.floats(0.0, 30.0, allow_nan=False, width=32)
    before = np.array(draw(st.lists(heights, min_size=rows * cols, max_size=rows * cols)),
                      dtype=np.float32).reshape(rows, cols)
    r0, c0 = draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))
    r1, c1 = draw(st.integers(r0 + 1, min(rows, r0 + 6))), draw(st.integers(c0 + 1, min(cols, c0 + 6)))
    after = before.copy()
    after[r0:r1, c0:c1] = draw(st.floats(0.0, 40.0, allow_nan=False, width=32))
    return before, after, slice(r0, r1), slice(c0, c1), draw(st.sampled_from([1.0, 2.0])), \
        draw(st.floats(0.0, 25.0))


@settings(max_examples=60, deadline=None)
@given(_edits(), st.sampled_from([4, 8, 16]))
def test_window_update_equals_a_full_run(edit: tuple[np.ndarray, np.ndarray, slice, slice, float, float],
                                         azimuths: int) -> None:
    """Bit for bit: every cell sees the same float32 operations in the same order."""
    before, after, rows, cols, cell_m, radius_m = edit
    previous = sky_view_factor(before, cell_m, radius_m=radius_m, azimuths=azimuths)
    updated = sky_view_factor_window(after, cell_m, rows, cols, previous, radius_m=radius_m, azimuths=azimuths)
    np.testing.assert_array_equal(updated, sky_view_factor(after, cell_m, radius_m=radius_m, azimuths=azimuths))


@settings(max_examples=40, deadline=None)
@given(_edits())
def test_raising_the_surface_never_opens_the_sky(edit: tuple[np.ndarray, np.ndarray, slice, slice, float, float]
                                                  ) -> None:
    """Seen from fixed observers, higher obstacles can only hide more sky."""
    before, after, _, _, cell_m, radius_m = edit
    higher = np.maximum(before, after)
    low = sky_view_factor(before, cell_m, observer_m=before, radius_m=radius_m)
    high = sky_view_factor(higher, cell_m, observer_m=before, radius_m=radius_m)
    assert (high <= low).all()
