"""Incremental updates of the noise state (:mod:`sims._noise_model`) after a change.

* :func:`update_traffic`: flows, heavy shares or speeds changed. Only the changed roads'
  emission is recomputed; their pieces and the clusters above them get new powers, and
  the energies change by ``M[:, cols] @ ΔX[cols]``, one sparse product over those nodes'
  columns.
* :func:`update_geometry`: buildings, barriers, surface heights or land cover changed
  inside a bounding box. The paths whose straight line passes within one pyramid cell of
  the box (:func:`crossing`, vectorised) are screened again; receivers that vanished (a
  grid cell now inside a building, a façade of a removed building) lose their paths, new
  ones get theirs; the energies change by one product of the changed entries (new − old).

Both give the state a full run of the new scene would give, up to float32 rounding of the
energy sums (the entries themselves are recomputed the same way, so they are equal).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from sims._noise_model import NoiseState, attenuate, matrix, piece_power, rhs, traffic_of
from sims._noise_receivers import grid_cells, match_rows, receiver_table
from sims._noise_screening import LEVELS, Obstacles, obstacles, path_level
from sims._noise_sources import SourceTree, pairs
from sims.scene import Scene

__all__ = ["update_traffic", "update_geometry", "crossing"]

Ints = NDArray[np.int64]
I32 = NDArray[np.integer[Any]]
F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
Floats = NDArray[np.floating[Any]]


def update_traffic(state: NoiseState, scene: Scene) -> NoiseState:
    """The state after a change of flows, heavy shares or speeds (same roads)."""
    traffic = traffic_of(scene)
    roads = np.flatnonzero((traffic != state.traffic).any(axis=1))
    if not len(roads):
        return state
    tree = state.tree
    nodes = tree.nodes_of_roads(roads)
    powers = piece_power(scene, tree, state.params, roads, state.piece_power)
    x = rhs(tree, powers, state.params)
    cols = (np.arange(16)[:, None] * len(tree) + nodes[None, :]).ravel()
    delta = x[cols].astype(np.float64) - state.x[cols].astype(np.float64)
    energy = state.energy + state.matrix[:, cols] @ delta
    return replace(state, traffic=traffic, piece_power=powers, x=x, energy=energy)


def crossing(start: F64, end: F64, bbox: tuple[float, float, float, float], margin: F64) -> NDArray[np.bool_]:
    """Whether each segment start→end passes within ``margin`` (per segment) of ``bbox``
    (the slab test of Liang and Barsky, 1984, on the box grown by the margin).

    >>> s = np.array([[0.0, 0.0], [0.0, 0.0]]); e = np.array([[10.0, 0.0], [0.0, 10.0]])
    >>> crossing(s, e, (4.0, -1.0, 6.0, 1.0), np.zeros(2)).tolist()
    [True, False]
    """
    lo = np.array(bbox[:2])[None, :] - margin[:, None]
    hi = np.array(bbox[2:])[None, :] + margin[:, None]
    d = end - start
    # Tiny or zero components give ±inf (or NaN, handled as parallel below): both are fine.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t_a, t_b = (lo - start) / d, (hi - start) / d
    parallel = d == 0.0
    inside = (start >= lo) & (start <= hi)
    t_in = np.where(parallel, np.where(inside, -np.inf, np.inf), np.minimum(t_a, t_b))
    t_out = np.where(parallel, np.where(inside, np.inf, -np.inf), np.maximum(t_a, t_b))
    enter, leave = t_in.max(axis=1), t_out.min(axis=1)
    return (enter <= leave) & (leave >= 0.0) & (enter <= 1.0)


def _reach_m(dp: F64, cell_m: float) -> F64:
    """How near a change must pass to touch a path: the diagonal of the pyramid cell the
    path samples (:func:`sims._noise_screening.path_level`), plus one fine cell."""
    return cell_m * (2.0 ** path_level(dp, cell_m) * np.sqrt(2.0) + 1.0)


def _touched(tree: SourceTree, xyz: F64, rec: I32, node: I32, bbox: tuple[float, float, float, float],
             cell_m: float) -> Ints:
    """The paths that pass near ``bbox``: a bounding-box filter, then :func:`crossing`."""
    reach = cell_m * (2.0 ** (LEVELS - 1) * np.sqrt(2.0) + 1.0)  # the largest _reach_m
    near = np.arange(len(rec))
    for axis in (0, 1):
        a, b = tree.xy_m[:, axis][node[near]], xyz[:, axis][rec[near]]
        near = near[(np.maximum(a, b) >= bbox[axis] - reach) & (np.minimum(a, b) <= bbox[axis + 2] + reach)]
    start, end = tree.xy_m[node[near]], xyz[rec[near], :2]
    return near[crossing(start, end, bbox, _reach_m(np.hypot(*(end - start).T), cell_m))]


def _same_obstacles(old: Obstacles, new: Obstacles, bbox: tuple[float, float, float, float]) -> bool:
    """Whether buildings, ground factor and barriers are unchanged inside ``bbox`` (a tree
    or a treatment changes the grids but nothing the noise model reads)."""
    if not (np.array_equal(old.barrier_start, new.barrier_start) and np.array_equal(old.barrier_end, new.barrier_end)
            and np.array_equal(old.barrier_height, new.barrier_height)):
        return False
    rows, cols = old.shape(0)
    west, north = old.origin
    c0 = int(np.clip(np.floor((bbox[0] - west) / old.cell_m), 0, cols - 2)) + 1
    c1 = int(np.clip(np.ceil((bbox[2] - west) / old.cell_m), 0, cols - 2)) + 1
    r0 = int(np.clip(np.floor((north - bbox[3]) / old.cell_m), 0, rows - 2)) + 1
    r1 = int(np.clip(np.ceil((north - bbox[1]) / old.cell_m), 0, rows - 2)) + 1
    return all(np.array_equal(a.reshape(rows, cols)[r0:r1, c0:c1], b.reshape(rows, cols)[r0:r1, c0:c1])
               for a, b in ((old.heights[0], new.heights[0]), (old.ground[0], new.ground[0])))


def update_geometry(state: NoiseState, scene: Scene, bbox: tuple[float, float, float, float]) -> NoiseState:
    """The state after buildings, barriers, surface heights or land cover changed inside
    ``bbox``: re-screen the paths that pass near it, drop the receivers that vanished and
    add those that appeared. Nothing is redone when the change left buildings, ground
    factor and barriers as they were (a tree, say)."""
    params, tree = state.params, state.tree
    obs = obstacles(scene.grids, scene.city.barriers)
    if _same_obstacles(state.obstacles, obs, bbox):
        return replace(state, obstacles=obs)
    cells = grid_cells(scene.grids, params.grid_m)
    receivers = receiver_table(cells, scene.receivers, params.receiver_height_m)
    old_row = match_rows(state.receivers, receivers)
    n_old = len(state.rec)
    old_t = state.matrix.data.reshape(16, n_old)
    if len(old_row) == len(state.receivers) and bool(np.all(old_row == np.arange(len(old_row)))):
        kept: Ints | None = None
        rec, node = state.rec, state.node
    else:
        new_of_old = np.full(len(state.receivers), -1, np.int64)
        new_of_old[old_row[old_row >= 0]] = np.flatnonzero(old_row >= 0)
        kept = np.flatnonzero(new_of_old[state.rec] >= 0)
        rec, node = new_of_old[state.rec[kept]].astype(np.int32), state.node[kept]
    xyz = receivers.xyz_m
    touched = _touched(tree, xyz, rec, node, bbox, scene.grids.cell_m)
    new_t = attenuate(obs, tree, xyz, rec[touched], node[touched], params, state.alpha_db_per_km)
    fresh = np.flatnonzero(old_row < 0)
    add_rec, add_node = pairs(tree, xyz[fresh], params.max_distance_m, params.source_ratio)
    add_rec, add_node = fresh[add_rec].astype(np.int32), add_node.astype(np.int32)
    add_t = attenuate(obs, tree, xyz, add_rec, add_node, params, state.alpha_db_per_km)
    # One product of the changes: new − old on touched paths, new on added ones.
    old_touched = old_t[:, touched if kept is None else kept[touched]]
    changes = new_t.astype(np.float64) - old_touched.astype(np.float64)
    delta = matrix(*_merged(rec[touched], node[touched], changes, None, np.zeros(0, np.int64), None,
                            add_rec, add_node, add_t.astype(np.float64)), len(receivers), len(tree))
    energy = np.zeros((len(receivers), 3))
    energy[old_row >= 0] = state.energy[old_row[old_row >= 0]]
    energy += delta @ state.x.astype(np.float64)
    if kept is None and not len(add_rec):
        data = old_t.copy()
        data[:, touched] = new_t
        old = state.matrix
        csc = sp.csc_matrix((data.ravel(), old.indices, old.indptr), shape=old.shape, copy=False)
        return replace(state, receivers=receivers, cells=cells, obstacles=obs,
                       matrix=csc, energy=energy)
    rec_all, node_all, data = _merged(rec, node, old_t, kept, touched, new_t, add_rec, add_node, add_t)
    return replace(state, receivers=receivers, cells=cells, obstacles=obs,
                   rec=rec_all, node=node_all, matrix=matrix(rec_all, node_all, data, len(receivers), len(tree)),
                   energy=energy)


def _merged(rec: I32, node: I32, old_t: Floats, kept: Ints | None, touched: Ints, new_t: F32 | None, add_rec: I32,
            add_node: I32, add_t: Floats) -> tuple[I32, I32, Floats]:
    """Paths sorted by node: the kept ones (``old_t[:, kept]``, with columns ``touched``
    replaced by ``new_t``) and the added ones inserted after the kept paths of their node."""
    order = np.argsort(add_node, kind="stable")
    add_rec, add_node, add_t = add_rec[order], add_node[order], add_t[:, order]
    n_kept, n_add = len(rec), len(add_rec)
    at = np.searchsorted(node, add_node, side="right")
    pos_add = at + np.arange(n_add)
    pos_kept = np.arange(n_kept) + np.cumsum(np.bincount(at, minlength=n_kept + 1))[:n_kept]
    data = np.empty((16, n_kept + n_add), old_t.dtype)
    _copy_runs(old_t, np.arange(n_kept) if kept is None else kept, pos_kept, data)
    if new_t is not None:
        data[:, pos_kept[touched]] = new_t
    data[:, pos_add] = add_t
    rec_all = np.empty(n_kept + n_add, np.int32)
    node_all = np.empty(n_kept + n_add, np.int32)
    rec_all[pos_kept], rec_all[pos_add] = rec, add_rec
    node_all[pos_kept], node_all[pos_add] = node, add_node
    return rec_all, node_all, data


def _copy_runs(source: Floats, src: Ints, dst: Ints, out: Floats, max_runs: int = 20000) -> None:
    """``out[:, dst] = source[:, src]`` for increasing ``src`` and ``dst``, as slice copies
    of the runs where both step by one (few when few paths come or go), else one gather."""
    if not len(src):
        return
    breaks = np.flatnonzero((np.diff(src) != 1) | (np.diff(dst) != 1)) + 1
    if len(breaks) > max_runs:
        out[:, dst] = source[:, src]
        return
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(src)]])
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        out[:, dst[a]:dst[a] + b - a] = source[:, src[a]:src[a] + b - a]
