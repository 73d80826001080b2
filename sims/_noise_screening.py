"""Screening of straight source–receiver paths by buildings and barriers, and the mean
ground factor along them: what CNOSSOS-EU needs to know of a path's vertical profile.

The ground is taken as flat (the model has no terrain: ``ground_m`` is 0), so the mean
ground plane of every path is z = 0 and only obstacles above it matter:

* **Buildings** come from the grids' ``building_m`` raster. Each path is sampled at the
  centres of equal steps; long paths sample a coarser copy of the raster whose cells hold
  the highest building of the cells they cover (a max-pool pyramid, cell 2ⁿ·cell_m,
  chosen so that a path has at most :data:`MAX_SAMPLES` samples: 2 m up to 96 m long on a
  2 m grid, 4 m up to 192 m, …). Obstacles therefore widen by up to one step, a
  conservative error. Samples closer than 1.5 steps to either end are ignored, so that a
  façade receiver 0.1 m in front of its own wall, or a road along a wall, is not screened
  by that wall; an edge of the receiver's own building behind it is found 1.5 steps away.
* **Barriers** (:class:`world.city.Barrier`) are thin walls: their exact crossings with
  the path are added as candidate edges.

The top path over the obstacles (the "rubber band" of CNOSSOS-EU Annex II 2.5, diffraction) is the
upper convex hull from S to R; it is approximated by its first vertex O1 (the obstacle of
steepest elevation seen from S) and its last vertex O2 (steepest seen from R), joined by a
straight line: exact for one edge, one thin barrier or one flat roof, an underestimate of
the hull length (hence of δ) when roofs of different heights lie between O1 and O2.
A path whose hull does not rise above the line of sight keeps the obstacle closest to it
in Fresnel terms (least (gap²·dp) / (t·(dp − t))) for the partial diffraction of
the Annex. The mean G over the samples gives G_path, and over the samples before O1 and
after O2 the G of the two sides. Lateral paths round vertical edges and reflections are not
modelled (see :mod:`sims.noise`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from world.raster import Grids, LandCover

__all__ = ["MAX_SAMPLES", "SKIP_STEPS", "LEVELS", "Obstacles", "Screen", "ground_factor", "path_level", "obstacles",
           "screen", "parallel"]

#: Most samples per path; longer paths use coarser raster levels.
MAX_SAMPLES = 48
#: Samples within this many steps of the source or the receiver are ignored.
SKIP_STEPS = 1.5
#: Levels of the max-pool pyramid (cells of 1, 2, 4 and 8 grid cells).
LEVELS = 4
_CHUNK = 4096
#: Height given to samples that must not screen (the ignored ends), m.
_IGNORED = np.float32(-1e4)
#: Worker threads for the sampling (numpy releases the GIL in its loops).
_THREADS = 2

Floats = NDArray[np.float64]


def ground_factor(landcover: NDArray[np.uint8]) -> NDArray[np.float32]:
    """G per cell: 1 on grass, park and forest, 0 on everything else (paving, roads,
    roofs, water, bare ground): the two ends of the ground classes of CNOSSOS-EU Annex II
    Table 2.5.a (soft grass and forest floor G = 1; asphalt, concrete and water G = 0);
    the classes in between (compacted ground, gravel) are not told apart by the raster."""
    soft = np.isin(landcover, (LandCover.GRASS, LandCover.PARK, LandCover.FOREST))
    return soft.astype(np.float32)


@dataclass(frozen=True, slots=True, eq=False)
class Obstacles:
    """The screening data of a scene: the max-pool pyramid of building heights and the
    mean pyramid of G (each level flattened, with a one-cell border of open hard ground
    so that samples on the grid's edge stay inside), the grid's origin and cell, and the
    barriers as segments with heights."""

    heights: tuple[NDArray[np.float32], ...]
    ground: tuple[NDArray[np.float32], ...]
    shapes: tuple[tuple[int, int], ...]
    origin: tuple[float, float]
    cell_m: float
    barrier_start: Floats
    barrier_end: Floats
    barrier_height: Floats

    def shape(self, level: int) -> tuple[int, int]:
        """Rows and columns of pyramid ``level``, border included."""
        return self.shapes[level]


def path_level(dp_m: Floats, cell_m: float, levels: int = LEVELS) -> NDArray[np.int64]:
    """The pyramid level a path of horizontal length ``dp_m`` is sampled on: the finest
    with at most :data:`MAX_SAMPLES` steps (cell 2^level·cell_m)."""
    span = np.maximum(np.asarray(dp_m, np.float64) / (cell_m * MAX_SAMPLES), 1.0)
    return np.clip(np.ceil(np.log2(span)).astype(np.int64), 0, levels - 1)


def _pool(a: NDArray[np.float32], how: str) -> NDArray[np.float32]:
    """2×2 blocks of ``a`` (padded with zeros to even sizes) reduced to their max or mean."""
    rows, cols = a.shape
    padded = np.zeros((rows + rows % 2, cols + cols % 2), np.float32)
    padded[:rows, :cols] = a
    quarters = (padded[0::2, 0::2], padded[1::2, 0::2], padded[0::2, 1::2], padded[1::2, 1::2])
    if how == "max":
        return np.maximum(np.maximum(quarters[0], quarters[1]), np.maximum(quarters[2], quarters[3]))
    return (quarters[0] + quarters[1] + quarters[2] + quarters[3]) * np.float32(0.25)


def obstacles(grids: Grids, barriers: list, levels: int = LEVELS) -> Obstacles:
    """Screening data for ``grids`` (buildings, land cover) and ``barriers`` (objects with
    a LineString ``geometry`` and ``height_m``)."""
    heights = [np.ascontiguousarray(grids.building_m, np.float32)]
    ground = [ground_factor(grids.landcover)]
    for _ in range(levels - 1):
        heights.append(_pool(heights[-1], "max"))
        ground.append(_pool(ground[-1], "mean"))
    starts, ends, tops = [], [], []
    for barrier in barriers:
        xy = np.asarray(barrier.geometry.coords, np.float64)[:, :2]
        starts.append(xy[:-1])
        ends.append(xy[1:])
        tops.append(np.full(len(xy) - 1, float(barrier.height_m)))
    border = [np.pad(a, 1) for a in heights]
    return Obstacles(
        heights=tuple(a.ravel() for a in border), ground=tuple(np.pad(a, 1).ravel() for a in ground),
        shapes=tuple(a.shape for a in border), origin=grids.origin, cell_m=grids.cell_m,
        barrier_start=np.concatenate(starts) if starts else np.zeros((0, 2)),
        barrier_end=np.concatenate(ends) if ends else np.zeros((0, 2)),
        barrier_height=np.concatenate(tops) if tops else np.zeros(0))


@dataclass(frozen=True, slots=True, eq=False)
class Screen:
    """Per path: horizontal length ``dp_m``; ``edge`` whether an obstacle is kept (a
    blocking hull, or the nearest obstacle under the line of sight); its first and last
    vertices ``t1_m``, ``h1_m``, ``t2_m``, ``h2_m`` (distance from the source, height);
    ``g_path`` and the G of the source side (to O1) and receiver side (from O2)."""

    dp_m: Floats
    edge: NDArray[np.bool_]
    t1_m: Floats
    h1_m: Floats
    t2_m: Floats
    h2_m: Floats
    g_path: Floats
    g_so: Floats
    g_or: Floats


def _barrier_crossings(obs: Obstacles, sxy: Floats, rxy: Floats) -> tuple[Floats, Floats]:
    """Distance from the source (m) and barrier height (m) of every crossing of each path
    with a barrier, as ``(n, k)`` arrays padded with NaN (``k`` the most crossings)."""
    hits: list[tuple[NDArray[np.int64], Floats, Floats]] = []
    d = rxy - sxy
    lo, hi = np.minimum(sxy, rxy), np.maximum(sxy, rxy)
    for a, b, top in zip(obs.barrier_start, obs.barrier_end, obs.barrier_height, strict=True):
        near = np.flatnonzero((hi[:, 0] >= min(a[0], b[0])) & (lo[:, 0] <= max(a[0], b[0]))
                              & (hi[:, 1] >= min(a[1], b[1])) & (lo[:, 1] <= max(a[1], b[1])))
        e, dn, w = b - a, d[near], a - sxy[near]
        denom = dn[:, 0] * e[1] - dn[:, 1] * e[0]
        safe = np.where(denom == 0.0, 1.0, denom)
        t = (w[:, 0] * e[1] - w[:, 1] * e[0]) / safe
        u = (w[:, 0] * dn[:, 1] - w[:, 1] * dn[:, 0]) / safe
        hit = (denom != 0.0) & (t > 0.0) & (t < 1.0) & (u >= 0.0) & (u <= 1.0)
        hits.append((near[hit], t[hit] * np.hypot(dn[hit, 0], dn[hit, 1]), np.full(int(hit.sum()), top)))
    path = np.concatenate([h[0] for h in hits]) if hits else np.zeros(0, np.int64)
    if not len(path):
        return np.zeros((len(sxy), 0)), np.zeros((len(sxy), 0))
    dist, top = np.concatenate([h[1] for h in hits]), np.concatenate([h[2] for h in hits])
    order = np.argsort(path, kind="stable")
    path, dist, top = path[order], dist[order], top[order]
    rank = np.arange(len(path)) - np.searchsorted(path, path)
    t_out = np.full((len(sxy), int(rank.max()) + 1), np.nan)
    h_out = np.full_like(t_out, np.nan)
    t_out[path, rank], h_out[path, rank] = dist, top
    return t_out, h_out


def _chunk(obs: Obstacles, level: int, sxy: Floats, zs: Floats, rxy: Floats, zr: Floats, dp: Floats
           ) -> tuple[NDArray[np.generic], ...]:
    """(blocked, t1, h1, t2, h2, partial, G_path, G_so, G_or) of paths sampled on pyramid
    ``level``, with the barrier crossings as extra candidate edges.

    A chunk pads its paths to the longest; the padding repeats a path's last sample,
    which lies within the ignored end (its G is subtracted again). Ignored samples get a
    height of −10 km so that no slope from them can win."""
    cols = obs.shape(level)[1]
    step = obs.cell_m * 2 ** level
    count = np.maximum(np.ceil(dp / step - 0.5).astype(np.int64), 1)
    n_cols = int(count.max())
    t_row = (np.arange(n_cols, dtype=np.float32) + 0.5) * np.float32(step)
    t_last = ((count - 0.5) * step).astype(np.float32)[:, None]
    t = np.minimum(t_row, t_last)
    unit = (rxy - sxy) / dp[:, None]
    # Fractional cell coordinates of the samples in the padded raster (1-cell border).
    fx = t * (unit[:, 0] / step).astype(np.float32)[:, None]
    fx += ((sxy[:, 0] - obs.origin[0]) / step + 1.0).astype(np.float32)[:, None]
    fy = t * (-unit[:, 1] / step).astype(np.float32)[:, None]
    fy += ((obs.origin[1] - sxy[:, 1]) / step + 1.0).astype(np.float32)[:, None]
    flat = fy.astype(np.int32)
    flat *= cols
    flat += fx.astype(np.int32)
    g = np.take(obs.ground[level], flat)
    h = np.take(obs.heights[level], flat)
    row = np.arange(len(dp))
    g_sum = g.sum(axis=1, dtype=np.float64) - (n_cols - count) * g[row, count - 1]
    skip = SKIP_STEPS * step
    h[:, :int(np.ceil(skip / step - 0.5))] = _IGNORED
    np.putmask(h, t > (dp - skip).astype(np.float32)[:, None], _IGNORED)
    t_bar, h_bar = _barrier_crossings(obs, sxy, rxy)
    if t_bar.shape[1]:
        keep = (t_bar > 1e-3) & (t_bar < dp[:, None] - 1e-3)
        t = np.concatenate([t, np.where(keep, t_bar, 1.0).astype(np.float32)], axis=1)
        h = np.concatenate([h, np.where(keep, h_bar, _IGNORED).astype(np.float32)], axis=1)
    zs32, zr32 = zs.astype(np.float32)[:, None], zr.astype(np.float32)[:, None]
    i1 = ((h - zs32) / t).argmax(axis=1)
    to_r = dp.astype(np.float32)[:, None] - t
    np.maximum(to_r, np.float32(1e-3), out=to_r)
    i2 = ((h - zr32) / to_r).argmax(axis=1)
    t1, h1 = t[row, i1].astype(np.float64), h[row, i1].astype(np.float64)
    t2, h2 = t[row, i2].astype(np.float64), h[row, i2].astype(np.float64)
    blocked = (h1 > 0.0) & ((h1 - zs) / t1 > (zr - zs) / dp)
    # Under the line of sight: the better (in Fresnel terms) of the two steepest obstacles.
    f1, f2 = _fresnel(t1, h1, zs, zr, dp), _fresnel(t2, h2, zs, zr, dp)
    partial = ~blocked & (np.minimum(f1, f2) < np.inf)
    use_2 = partial & (f2 < f1)
    use_1 = partial & ~use_2
    t1, h1, t2, h2 = np.where(use_2, t2, t1), np.where(use_2, h2, h1), np.where(use_1, t1, t2), np.where(use_1, h1, h2)
    g_path = g_sum / count
    g_so, g_or = g_path.copy(), g_path.copy()
    split = np.flatnonzero(blocked & (g_sum > 0.0))
    if len(split):
        # G of the samples up to O1 and from O2 on, found by position (O may be a barrier).
        cum = np.cumsum(g[split], axis=1, dtype=np.float64)
        n_s = count[split]
        n1 = np.clip(np.floor(t1[split] / step - 0.5).astype(np.int64) + 1, 1, n_s)
        j2 = np.clip(np.ceil(t2[split] / step - 0.5).astype(np.int64), 0, n_s - 1)
        local = np.arange(len(split))
        g_so[split] = cum[local, n1 - 1] / n1
        before = np.where(j2 > 0, cum[local, np.maximum(j2 - 1, 0)], 0.0)
        g_or[split] = (cum[local, n_s - 1] - before) / np.maximum(n_s - j2, 1)
    return blocked, t1, h1, t2, h2, partial, g_path, g_so, g_or


def _fresnel(t: Floats, h: Floats, zs: Floats, zr: Floats, dp: Floats) -> Floats:
    """gap²·dp / (t (dp − t)) of an obstacle under the line of sight; ∞ if none (h ≤ 0 or above)."""
    gap = zs + (zr - zs) * t / dp - h
    ok = (h > 0.0) & (gap >= 0.0)
    return np.where(ok, gap * gap * dp / np.maximum(t * (dp - t), 1e-9), np.inf)


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def parallel(func: Callable[[Any], None], jobs: Sequence[Any]) -> None:
    """Run ``func`` on every job, on :data:`_THREADS` threads when there are several
    (numpy releases the GIL in its loops; each job writes its own rows, so the result
    does not depend on the threads)."""
    if len(jobs) <= 1:
        for job in jobs:
            func(job)
        return
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(_THREADS, thread_name_prefix="noise"))
    list(_POOL[0].map(func, jobs))


_NAMES = ("blocked", "t1", "h1", "t2", "h2", "partial", "g_path", "g_so", "g_or")


def screen(obs: Obstacles, sxy: Floats, zs: Floats, rxy: Floats, zr: Floats) -> Screen:
    """The :class:`Screen` of straight paths from sources ``sxy`` (heights ``zs`` above
    ground) to receivers ``rxy`` (``zr``); see the module for the method.

    Paths go in chunks of similar length (within an eighth of their pyramid level's
    range), in their given order otherwise, which keeps neighbouring paths together."""
    n = len(sxy)
    dp = np.maximum(np.hypot(*(rxy - sxy).T), 1e-3)
    out = {name: np.zeros(n, bool if name in ("blocked", "partial") else np.float64) for name in _NAMES}
    level = path_level(dp, obs.cell_m, len(obs.shapes))
    octave = np.clip(np.floor(8.0 * dp / (obs.cell_m * MAX_SAMPLES * 2.0 ** level)).astype(np.int64), 0, 8)
    order = np.argsort(level * 16 + octave, kind="stable")
    bounds = np.flatnonzero(np.diff(level[order])) + 1
    jobs = []
    for group in np.split(order, bounds):
        for start in range(0, len(group), _CHUNK):
            jobs.append(group[start:start + _CHUNK])

    def run(idx: NDArray[np.int64]) -> None:
        values = _chunk(obs, int(level[idx[0]]), sxy[idx], zs[idx], rxy[idx], zr[idx], dp[idx])
        for name, value in zip(_NAMES, values, strict=True):
            out[name][idx] = value

    parallel(run, jobs)
    return Screen(dp_m=dp, edge=out["blocked"] | out["partial"], t1_m=out["t1"], h1_m=out["h1"], t2_m=out["t2"],
                  h2_m=out["h2"], g_path=out["g_path"], g_so=out["g_so"], g_or=out["g_or"])
