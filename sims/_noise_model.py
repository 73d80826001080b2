"""The noise simulation's state: sources, receivers, the attenuation matrix and the
A-weighted energies, built in full or updated after a change.

The matrix ``M`` (scipy CSC) has a row per receiver and 16 columns per source node: one
per octave band in homogeneous and in favourable conditions (``k·n_nodes + node``, k-major,
so a node's columns are spread over 16 blocks); entry (r, k·n + s) is the energy factor
10^(−A/10) of the path s → r in condition and band k (:mod:`sims._noise_kernel`). The
right-hand side ``X`` has a column per period: the node's sound power in that band
(pW), A-weighted and times the period's occurrence of that condition (1 − p or p). Then
``E = M @ X`` is each receiver's A-weighted energy per period, and 10 lg E its L_day,
L_evening, L_night in dB(A) (the long-term level of CNOSSOS-EU Annex II 2.5,
L = 10 lg(p·10^(L_F/10) + (1 − p)·10^(L_H/10)), summed over bands and sources).

Updates (the "incremental" contract of :class:`sims.scene.Simulation`, in
:mod:`sims._noise_update`):

* traffic: the emission of the changed roads is recomputed, and with it the power of their
  pieces and of the clusters above them; ``E += M[:, cols] @ ΔX[cols]``, one sparse product.
* buildings, barriers, surface or land cover in a bounding box: the paths whose straight
  line passes within one pyramid cell of the box (:func:`crossing`) are screened again
  and their entries replaced; receivers that appeared (a new façade, a freed grid cell)
  get their paths, those that vanished lose theirs; ``E`` changes by one product of the
  changed entries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from sims._cnossos_emission import road_emission_db
from sims._cnossos_propagation import A_WEIGHTING_DB, air_absorption_db_per_km
from sims._noise_kernel import attenuation_factors
from sims._noise_receivers import GridCells, ReceiverTable, grid_cells, receiver_table
from sims._noise_screening import Obstacles, obstacles, screen
from sims._noise_sources import SOURCE_HEIGHT_M, SourceTree, build_sources, pairs
from sims.scene import Scene

__all__ = ["NoiseParams", "NoiseState", "scene_key", "traffic_of", "build_state", "piece_power", "rhs", "attenuate",
           "matrix", "energies"]

Ints = NDArray[np.int64]
Index = NDArray[np.integer[Any]]
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class NoiseParams:
    """Parameters of :class:`sims.noise.NoiseSimulation`.

    ``grid_m`` map receiver spacing; ``receiver_height_m`` their height (END: 4 m);
    ``source_spacing_m`` the longest fine source piece; ``source_ratio`` the largest
    cluster diameter per metre of distance (:mod:`sims._noise_sources`); ``max_distance_m``
    how far sources are heard; ``threshold_db`` the L_den of the homes KPI;
    ``favourable`` the occurrence p of downward-refracting conditions for day, evening,
    night (the defaults used in France and by NoiseModelling, 0.5/0.75/1.0, where
    Directive 2015/996 leaves p to local data); ``medium_share`` the fraction of heavy
    vehicles in CNOSSOS category 2 (an assumption: two-axle buses and lorries make about
    half of city-centre heavy traffic; the rest is category 3); ``g_source`` the ground
    factor under the sources (0: road platforms, Annex II 2.5, ground effect).
    """

    grid_m: float = 10.0
    receiver_height_m: float = 4.0
    source_spacing_m: float = 5.0
    source_ratio: float = 0.7
    max_distance_m: float = 250.0
    threshold_db: float = 55.0
    favourable: tuple[float, float, float] = (0.5, 0.75, 1.0)
    medium_share: float = 0.5
    g_source: float = 0.0

    def __post_init__(self) -> None:
        for name in ("grid_m", "receiver_height_m", "source_spacing_m", "source_ratio", "max_distance_m"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"noise parameter {name} must be positive, not {getattr(self, name)}")
        if len(self.favourable) != 3 or not all(0.0 <= p <= 1.0 for p in self.favourable):
            raise ValueError("favourable must give three occurrences between 0 and 1 (day, evening, night)")
        if not 0.0 <= self.medium_share <= 1.0 or not 0.0 <= self.g_source <= 1.0:
            raise ValueError("medium_share and g_source must lie between 0 and 1")


@dataclass(frozen=True, slots=True, eq=False)
class NoiseState:
    """Everything a later update needs; treat the arrays as read-only (updates copy)."""

    params: NoiseParams
    key: tuple[object, ...]
    alpha_db_per_km: F64
    traffic: F64
    tree: SourceTree
    cells: GridCells
    receivers: ReceiverTable
    obstacles: Obstacles
    rec: Index
    node: Index
    matrix: sp.csc_matrix
    piece_power: F64
    x: NDArray[np.float32]
    energy: F64


def scene_key(scene: Scene) -> tuple[object, ...]:
    """What must not differ between two scenes for one's state to update into the other's:
    the noise weather, the grid, and the roads' ids and centrelines (a digest)."""
    c, g, s = scene.conditions, scene.grids, scene.segments
    coords = np.concatenate([np.asarray(line, np.float64) for line in s.lines]) if len(s) else np.zeros((0, 2))
    sizes = np.array([len(line) for line in s.lines], np.int64)
    digest = hashlib.blake2b(coords.tobytes() + sizes.tobytes(), digest_size=16).hexdigest()
    return (c.noise_temperature_c, c.noise_humidity_pct, g.origin, g.shape, g.cell_m, s.ids, digest)


def traffic_of(scene: Scene) -> F64:
    """Per road: flows (3 periods), heavy share, speed: what the emission depends on."""
    s = scene.segments
    return np.column_stack([s.flow_vph.reshape(-1, 3), s.heavy_share, s.speed_kmh]) if len(s) else np.zeros((0, 5))


def piece_power(scene: Scene, tree: SourceTree, params: NoiseParams, roads: Ints | None = None,
                 base: F64 | None = None) -> F64:
    """Sound power of each piece (n_fine, 8 bands, 3 periods), pW: CNOSSOS-EU L_W' of its
    road times its length. With ``roads``, only their pieces are recomputed in ``base``."""
    s = scene.segments
    out = np.zeros((tree.n_fine, 8, 3)) if base is None else base.copy()
    pick = np.arange(len(s)) if roads is None else roads
    if not len(pick):
        return out
    heavy = s.heavy_vph.reshape(-1, 3)[pick]
    light = s.light_vph.reshape(-1, 3)[pick]
    lw = road_emission_db(light, heavy, s.speed_kmh[pick, None], scene.conditions.noise_temperature_c,
                          params.medium_share)
    per_metre = np.zeros((len(s), 8, 3))
    per_metre[pick] = np.moveaxis(10.0 ** (lw / 10.0), 1, 2)
    pieces = np.flatnonzero(np.isin(tree.road, pick))
    out[pieces] = per_metre[tree.road[pieces]] * tree.length_m[pieces, None, None]
    return out


def rhs(tree: SourceTree, powers: F64, params: NoiseParams) -> NDArray[np.float32]:
    """The right-hand side X (16·n_nodes, 3) from the pieces' powers (see the module)."""
    power = tree.node_power(powers.reshape(tree.n_fine, 24)).reshape(len(tree), 8, 3)
    weight = 10.0 ** (A_WEIGHTING_DB / 10.0)
    p = np.array(params.favourable)
    blocks = [power * weight[None, :, None] * (1.0 - p)[None, None, :], power * weight[None, :, None] * p]
    # Row k·n + node for k = condition·8 + band.
    return np.concatenate([np.moveaxis(b, 1, 0).reshape(-1, 3) for b in blocks]).astype(np.float32)


def attenuate(obs: Obstacles, tree: SourceTree, xyz: F64, rec: Index, node: Index, params: NoiseParams,
               alpha: F64) -> NDArray[np.float32]:
    sc = screen(obs, tree.xy_m[node], np.full(len(node), SOURCE_HEIGHT_M), xyz[rec, :2], xyz[rec, 2])
    return attenuation_factors(sc, np.full(len(node), SOURCE_HEIGHT_M), xyz[rec, 2], params.g_source, alpha)


def matrix(rec: Index, node: Index, att_t: NDArray[np.floating[Any]], n_rows: int,
            n_nodes: int) -> sp.csc_matrix:
    """CSC matrix from paths sorted by node and their factors ``att_t`` (16, n_paths)."""
    n = len(rec)
    ptr = np.searchsorted(node, np.arange(n_nodes + 1)).astype(np.int64)
    indptr = np.concatenate([k * n + ptr[:-1] for k in range(16)] + [np.array([16 * n])])
    indices = np.empty((16, n), np.int32)
    indices[:] = rec
    return sp.csc_matrix((np.ascontiguousarray(att_t).ravel(), indices.ravel(), indptr),
                         shape=(n_rows, 16 * n_nodes), copy=False)


def energies(csc: sp.csc_matrix, x: NDArray[np.float32]) -> F64:
    """E = M @ X in float64, one block of 16 at a time (float32 products are exact in
    float64, so later updates by differences stay exact to 1e-16 of the sum)."""
    n_cols = csc.shape[1] // 16
    n = len(csc.data) // 16
    x64 = x.astype(np.float64)
    out = np.zeros((csc.shape[0], x.shape[1]))
    for k in range(16):
        block = sp.csc_matrix((csc.data[k * n:(k + 1) * n], csc.indices[k * n:(k + 1) * n],
                               csc.indptr[k * n_cols:(k + 1) * n_cols + 1] - k * n), shape=(csc.shape[0], n_cols))
        out += block @ x64[k * n_cols:(k + 1) * n_cols]
    return out


def build_state(scene: Scene, params: NoiseParams) -> NoiseState:
    """The full computation for ``scene``."""
    cond = scene.conditions
    alpha = air_absorption_db_per_km(cond.noise_temperature_c, cond.noise_humidity_pct)
    tree = build_sources(scene.segments, scene.grids.bounds, params.source_spacing_m)
    cells = grid_cells(scene.grids, params.grid_m)
    receivers = receiver_table(cells, scene.receivers, params.receiver_height_m)
    rec, node = pairs(tree, receivers.xyz_m, params.max_distance_m, params.source_ratio)
    obs = obstacles(scene.grids, scene.city.barriers)
    att = attenuate(obs, tree, receivers.xyz_m, rec, node, params, alpha)
    rec32, node32 = rec.astype(np.int32), node.astype(np.int32)
    csc = matrix(rec32, node32, att, len(receivers), len(tree))
    powers = piece_power(scene, tree, params)
    x = rhs(tree, powers, params)
    energy = energies(csc, x)
    return NoiseState(params=params, key=scene_key(scene), alpha_db_per_km=alpha, traffic=traffic_of(scene), tree=tree,
                      cells=cells, receivers=receivers, obstacles=obs, rec=rec32, node=node32, matrix=csc,
                      piece_power=powers, x=x, energy=energy)
