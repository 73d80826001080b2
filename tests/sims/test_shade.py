"""Known answers and properties for sims.shade (Ratti & Richens shifting method)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.shade import shade_fraction, shade_fraction_window, shadow_mask, shadow_mask_window, sun_hours

#: The shifting method is accurate to ±1 cell (module docstring).
CELL_TOL = 1

BLOCK_M = 20.0


def _block_grid(size: int = 500, block: int = 20, height_m: float = BLOCK_M) -> tuple[np.ndarray, int, int]:
    """An isolated block of ``height_m`` on flat ground, 1 m cells; (dsm, first row, first col)."""
    dsm = np.zeros((size, size))
    r0 = c0 = (size - block) // 2
    dsm[r0:r0 + block, c0:c0 + block] = height_m
    return dsm, r0, c0


def _run(cells: np.ndarray) -> int:
    """Length of the leading run of True values."""
    return int(np.argmin(cells)) if not cells.all() else len(cells)


@pytest.mark.parametrize(("elevation_deg", "length_m"), [(60.0, 11.55), (45.0, 20.00), (30.0, 34.64), (15.0, 74.64)])
def test_block_shadow_length_with_sun_from_the_south(elevation_deg: float, length_m: float) -> None:
    """A 20 m block casts 20 / tan(el) metres of shadow to the north."""
    assert length_m == pytest.approx(BLOCK_M / math.tan(math.radians(elevation_deg)), abs=0.005)
    dsm, r0, c0 = _block_grid()
    mask = shadow_mask(dsm, 1.0, 180.0, elevation_deg)
    north_of_block = mask[r0 - 1::-1, c0 + 10]  # from the north edge northwards
    assert abs(_run(north_of_block) - length_m) <= CELL_TOL
    assert not mask[r0 + 20:, :].any()  # nothing south of the block
    assert not mask[:, :c0].any() and not mask[:, c0 + 20:].any()  # nor beside it


def test_sun_from_the_east_shades_the_west() -> None:
    dsm, r0, c0 = _block_grid()
    mask = shadow_mask(dsm, 1.0, 90.0, 45.0)
    west = mask[r0 + 10, c0 - 1::-1]
    assert abs(_run(west) - BLOCK_M) <= CELL_TOL
    assert not mask[:, c0 + 20:].any()
    assert not mask[:r0].any() and not mask[r0 + 20:].any()


def test_sun_from_the_south_west_shades_the_north_east() -> None:
    dsm, r0, c0 = _block_grid()
    mask = shadow_mask(dsm, 1.0, 225.0, 45.0)
    # Along the diagonal from the block's north-east corner the ray runs 20 m: 20/√2 cells.
    diagonal = np.array([mask[r0 - 1 - i, c0 + 20 + i] for i in range(40)])
    assert abs(_run(diagonal) - BLOCK_M / math.sqrt(2)) <= CELL_TOL
    assert not mask[r0 + 20:].any() and not mask[:, :c0].any()


def test_cell_size_scales_the_shadow() -> None:
    """The same block at 2 m cells: 10 cells tall, shadow 20 m = 10 cells at 45°."""
    dsm, r0, c0 = _block_grid(size=100, block=10)
    mask = shadow_mask(dsm, 2.0, 180.0, 45.0)
    assert abs(_run(mask[r0 - 1::-1, c0 + 5]) * 2.0 - BLOCK_M) <= 2.0 * CELL_TOL


def test_flat_ground_casts_nothing() -> None:
    assert not shadow_mask(np.zeros((50, 60)), 1.0, 180.0, 10.0).any()
    assert not shadow_mask(np.full((50, 60), 37.5), 2.0, 33.0, 1.0).any()


@pytest.mark.parametrize("elevation_deg", [0.0, -0.1, -30.0])
def test_sun_below_the_horizon_shades_everything(elevation_deg: float) -> None:
    dsm, _, _ = _block_grid(size=60, block=10)
    assert shadow_mask(dsm, 1.0, 180.0, elevation_deg).all()
    assert shade_fraction(dsm, dsm, 0.5, 1.0, 180.0, elevation_deg).min() == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="2D"):
        shadow_mask(np.zeros(5), 1.0, 180.0, 30.0)
    with pytest.raises(ValueError, match="NaN"):
        shadow_mask(np.array([[0.0, np.nan]]), 1.0, 180.0, 30.0)
    with pytest.raises(ValueError, match="cell size"):
        shadow_mask(np.zeros((3, 3)), 0.0, 180.0, 30.0)
    with pytest.raises(ValueError, match="transmissivity"):
        shade_fraction(np.zeros((3, 3)), np.zeros((3, 3)), 1.5, 1.0, 180.0, 30.0)


def _city(seed: int, size: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dsm = rng.uniform(0.0, 0.5, (size, size))  # gently rough ground
    for _ in range(12):
        r, c = rng.integers(0, size - 8, 2)
        h, w = rng.integers(2, 12, 2)
        dsm[r:r + h, c:c + w] = rng.uniform(3.0, 40.0)
    return dsm


suns = st.tuples(st.floats(0.0, 360.0), st.floats(2.0, 80.0))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), sun=suns, row=st.integers(0, 75), col=st.integers(0, 75),
       size=st.tuples(st.integers(1, 12), st.integers(1, 12)))
def test_incremental_equals_full_after_adding_a_block(seed: int, sun: tuple[float, float], row: int, col: int,
                                                      size: tuple[int, int]) -> None:
    azimuth_deg, elevation_deg = sun
    before = _city(seed)
    previous = shadow_mask(before, 2.0, azimuth_deg, elevation_deg)
    after = before.copy()
    rows, cols = slice(row, row + size[0]), slice(col, col + size[1])
    after[rows, cols] += 10.0
    window = shadow_mask_window(after, 2.0, azimuth_deg, elevation_deg, rows, cols, previous)
    np.testing.assert_array_equal(window, shadow_mask(after, 2.0, azimuth_deg, elevation_deg))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), sun=suns, row=st.integers(0, 75), col=st.integers(0, 75),
       size=st.tuples(st.integers(1, 12), st.integers(1, 12)))
def test_incremental_equals_full_after_removing(seed: int, sun: tuple[float, float], row: int, col: int,
                                                size: tuple[int, int]) -> None:
    azimuth_deg, elevation_deg = sun
    before = _city(seed)
    before[row:row + 6, col:col + 6] = 60.0  # the tallest thing in town, about to go
    previous = shadow_mask(before, 2.0, azimuth_deg, elevation_deg)
    rows, cols = slice(row, row + size[0]), slice(col, col + size[1])
    after = before.copy()
    after[rows, cols] = 0.0
    window = shadow_mask_window(after, 2.0, azimuth_deg, elevation_deg, rows, cols, previous,
                                previous_top_m=float(before[rows, cols].max()))
    np.testing.assert_array_equal(window, shadow_mask(after, 2.0, azimuth_deg, elevation_deg))


def test_incremental_recomputes_only_a_window() -> None:
    """A change far from everything leaves the rest of the previous mask untouched."""
    dsm = np.zeros((200, 200))
    previous = np.zeros((200, 200), dtype=bool)
    previous[0, 0] = True  # a sentinel the window must not reach
    dsm[100:104, 100:104] = 5.0
    window = shadow_mask_window(dsm, 1.0, 180.0, 45.0, slice(100, 104), slice(100, 104), previous)
    assert window[0, 0]
    assert window[96:100, 101].all() and not window[95, 101] and not window[104:, :].any()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), sun=suns, raise_m=st.floats(0.0, 30.0),
       where=st.tuples(st.integers(0, 70), st.integers(0, 70), st.integers(1, 10), st.integers(1, 10)))
def test_taller_surface_never_shades_less(seed: int, sun: tuple[float, float], raise_m: float,
                                          where: tuple[int, int, int, int]) -> None:
    """Raising part of the surface can only add shade to the cells that did not move."""
    azimuth_deg, elevation_deg = sun
    low = _city(seed)
    high = low.copy()
    r, c, h, w = where
    high[r:r + h, c:c + w] += raise_m
    unchanged = high == low
    before = shadow_mask(low, 2.0, azimuth_deg, elevation_deg)
    after = shadow_mask(high, 2.0, azimuth_deg, elevation_deg)
    assert not (before & ~after & unchanged).any()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), azimuth_deg=st.floats(0.0, 360.0), elevations=st.tuples(
    st.floats(2.0, 80.0), st.floats(2.0, 80.0)))
def test_lower_sun_never_shades_less(seed: int, azimuth_deg: float, elevations: tuple[float, float]) -> None:
    low_deg, high_deg = sorted(elevations)
    dsm = _city(seed)
    assert not (shadow_mask(dsm, 2.0, azimuth_deg, high_deg) & ~shadow_mask(dsm, 2.0, azimuth_deg, low_deg)).any()


def test_sun_hours() -> None:
    dsm, r0, c0 = _block_grid(size=100, block=10, height_m=10.0)
    positions = [(60.0, -3.0), (90.0, 20.0), (180.0, 45.0), (270.0, 20.0), (300.0, 0.0)]
    hours = sun_hours(dsm, 1.0, positions, 0.5)
    assert hours.max() == pytest.approx(1.5)  # three positions above the horizon
    assert hours[5, 5] == pytest.approx(1.5) and hours[r0 + 5, c0 + 5] == pytest.approx(1.5)  # open ground, roof
    assert hours[r0 - 2, c0 + 5] == pytest.approx(1.0)  # just north: in the noon shadow only
    expected = sum(np.where(shadow_mask(dsm, 1.0, a, e), 0.0, 0.5) for a, e in positions if e > 0)
    np.testing.assert_array_equal(hours, expected)


def test_shade_fraction_single_tree() -> None:
    """A 10 m crown on flat ground, τ = 0.3: its own cell and its shadow lose 70 %."""
    dsm = np.zeros((40, 40))
    canopy = np.zeros((40, 40))
    canopy[30, 20] = 10.0
    fraction = shade_fraction(dsm, canopy, 0.3, 1.0, 180.0, 45.0)
    assert fraction[30, 20] == pytest.approx(0.7)
    assert fraction[21:30, 20] == pytest.approx(np.full(9, 0.7))
    assert fraction[20, 20] == 0.0  # 10 cells away at 45°: the ray clears the crown top
    assert fraction.sum() == pytest.approx(0.7 * 10)


def test_shade_fraction_buildings_block_fully_and_dense_crowns_win() -> None:
    dsm = np.zeros((40, 40))
    dsm[30:32, 10:12] = 10.0  # a building
    canopy = np.zeros((40, 40))
    canopy[30, 25] = 10.0  # a sparse crown ...
    canopy[33, 25] = 12.0  # ... and a dense one behind it on the same ray
    tau = np.full((40, 40), 0.8)
    tau[33, 25] = 0.1
    fraction = shade_fraction(dsm, canopy, tau, 1.0, 180.0, 45.0)
    assert fraction[25, 10] == 1.0
    assert fraction[29, 25] == pytest.approx(0.9)  # densest crown on the ray, not 1 − 0.8·0.1
    assert fraction[30, 25] == pytest.approx(0.9)  # the sparse crown sits in the dense one's shadow
    assert fraction.min() >= 0.0 and fraction.max() <= 1.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), sun=suns)
def test_opaque_crowns_are_solid(seed: int, sun: tuple[float, float]) -> None:
    """With τ = 0, crowns shade like solid obstacles: the fraction is the mask of the
    combined surface, plus the crown cells themselves."""
    azimuth_deg, elevation_deg = sun
    rng = np.random.default_rng(seed)
    dsm = _city(seed, size=50)
    canopy = np.where(rng.random(dsm.shape) < 0.05, dsm + rng.uniform(2.0, 15.0, dsm.shape), 0.0)
    fraction = shade_fraction(dsm, canopy, 0.0, 2.0, azimuth_deg, elevation_deg)
    solid = shadow_mask(np.maximum(dsm, canopy), 2.0, azimuth_deg, elevation_deg) | (canopy > dsm)
    np.testing.assert_array_equal(fraction, solid.astype(float))


def _crowns(seed: int, dsm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tree crowns of random heights and transmissivities over a DSM."""
    rng = np.random.default_rng(seed + 1)
    canopy, tau = np.zeros_like(dsm), np.ones_like(dsm)
    for _ in range(15):
        r, c = rng.integers(0, dsm.shape[0] - 4, 2)
        canopy[r:r + 4, c:c + 4] = np.maximum(canopy[r:r + 4, c:c + 4], dsm[r:r + 4, c:c + 4] + rng.uniform(4.0, 20.0))
        tau[r:r + 4, c:c + 4] = rng.uniform(0.0, 0.5)
    return canopy, tau


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), sun=suns, row=st.integers(0, 75), col=st.integers(0, 75),
       size=st.tuples(st.integers(1, 12), st.integers(1, 12)), crown_m=st.floats(0.0, 30.0),
       tau=st.floats(0.0, 1.0), block_m=st.sampled_from([None, 0.0, 25.0]))
def test_shade_fraction_window_equals_full(seed: int, sun: tuple[float, float], row: int, col: int,
                                           size: tuple[int, int], crown_m: float, tau: float,
                                           block_m: float | None) -> None:
    """Plant, fell or reshape crowns and raise or clear buildings in a box: the windowed
    update equals a full recompute bit for bit."""
    azimuth_deg, elevation_deg = sun
    dsm = _city(seed)
    canopy, transmissivity = _crowns(seed, dsm)
    previous = shade_fraction(dsm, canopy, transmissivity, 2.0, azimuth_deg, elevation_deg)
    rows, cols = slice(row, row + size[0]), slice(col, col + size[1])
    top_m = float(max(dsm[rows, cols].max(), canopy[rows, cols].max()))
    dsm, canopy, transmissivity = dsm.copy(), canopy.copy(), transmissivity.copy()
    canopy[rows, cols] = crown_m
    transmissivity[rows, cols] = tau
    if block_m is not None:
        dsm[rows, cols] = block_m
    window = shade_fraction_window(dsm, canopy, transmissivity, 2.0, azimuth_deg, elevation_deg, rows, cols,
                                   previous, previous_top_m=top_m)
    np.testing.assert_array_equal(window, shade_fraction(dsm, canopy, transmissivity, 2.0, azimuth_deg,
                                                         elevation_deg))
