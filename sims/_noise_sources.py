"""Road point sources for the noise simulation: fine pieces of the carriageways and a
quadtree of clusters over them, so that far roads are few sources and near ones many.

Every carriageway centreline inside the grid is cut into equal pieces at most
``spacing_m`` long; each piece is a point source at its middle, 0.05 m above the road
(CNOSSOS-EU, Directive (EU) 2015/996 Annex II 2.2, source description), with the sound power of its length
(L_W = L_W' + 10 lg l). Above them, square cells of 2·spacing, 4·spacing, … metres group
the pieces whose centres they hold: a cluster is one point source at the length-weighted
centre of its pieces, with their summed power, and a radius that holds its children's
discs (so a child always lies inside its parent). A receiver hears a cluster instead of
its pieces when the cluster subtends little: its diameter is at most ``ratio`` times the
distance to its nearest point, ``d − r ≥ 2r / ratio``. With the default ratio 0.7 a
straight piece is at most 0.52 times as long as its distance, and replacing it by its
middle point underestimates its divergence term by less than 0.1 dB (the exact line
integral is (2d/l)·atan(l/2d) times the point's 1/d²). :func:`pairs` picks, for each
receiver, the coarsest acceptable sources top-down, which is a partition of the road
network within the maximum distance.

Clusters mix roads: a change of traffic on one road changes its pieces and the clusters
above them only (:meth:`SourceTree.nodes_of_roads`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from world.raster import Segments

__all__ = ["SOURCE_HEIGHT_M", "SourceTree", "build_sources", "pairs"]

#: Height of road sources above the road surface, m (Annex II 2.2, source description).
SOURCE_HEIGHT_M = 0.05
_TOP_CELL_M = 160.0

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class SourceTree:
    """Fine pieces (nodes ``0 … n_fine−1``) and clusters (the rest, coarsest last).

    ``xy_m`` (n, 2) centres, ``radius_m`` (n,) radius of the disc holding the node,
    ``level`` (n,) 0 for pieces, ``parent`` (n,) −1 at the top, ``child_ptr``/``child``
    the children of each node (CSR), ``ancestor`` (n_fine, levels) the node holding each
    piece at each level (column 0: the piece itself), ``road`` and ``length_m`` of each
    piece."""

    xy_m: Floats
    radius_m: Floats
    level: NDArray[np.int8]
    parent: Ints
    child_ptr: Ints
    child: Ints
    ancestor: Ints
    road: Ints
    length_m: Floats

    @property
    def n_fine(self) -> int:
        return len(self.road)

    def __len__(self) -> int:
        return len(self.radius_m)

    def node_power(self, piece_power: Floats) -> Floats:
        """Power of every node from the power of each piece (rows), summed up the tree."""
        out = np.zeros((len(self),) + piece_power.shape[1:])
        for column in range(self.ancestor.shape[1]):
            np.add.at(out, self.ancestor[:, column], piece_power)
        return out

    def nodes_of_roads(self, roads: Ints) -> Ints:
        """Sorted nodes whose power depends on any of the ``roads`` (pieces and their clusters)."""
        pieces = np.flatnonzero(np.isin(self.road, roads))
        return np.unique(self.ancestor[pieces])


def _pieces(segments: Segments, spacing_m: float, bounds: tuple[float, float, float, float]
            ) -> tuple[Floats, Floats, Floats, Ints]:
    """Centres, bounding radii, lengths and roads of the fine pieces inside ``bounds``."""
    centres, radii, lengths, roads = [], [], [], []
    for index, line in enumerate(segments.lines):
        step = np.hypot(*np.diff(line, axis=0).T)
        along = np.concatenate([[0.0], np.cumsum(step)])
        total = float(along[-1])
        if total <= 1e-6:
            continue
        n = max(1, int(np.ceil(total / spacing_m - 1e-9)))
        cut = total * np.arange(n + 1) / n
        middle = (cut[:-1] + cut[1:]) / 2.0
        centre = np.column_stack([np.interp(middle, along, line[:, 0]), np.interp(middle, along, line[:, 1])])
        ends = np.column_stack([np.interp(cut, along, line[:, 0]), np.interp(cut, along, line[:, 1])])
        radius = np.maximum(np.hypot(*(ends[:-1] - centre).T), np.hypot(*(ends[1:] - centre).T))
        owner = np.clip(np.searchsorted(cut, along[1:-1], side="right") - 1, 0, n - 1)
        if len(owner):
            np.maximum.at(radius, owner, np.hypot(*(line[1:-1] - centre[owner]).T))
        centres.append(centre)
        radii.append(radius)
        lengths.append(np.full(n, total / n))
        roads.append(np.full(n, index))
    if not centres:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    xy, r, length, road = (np.concatenate(a) for a in (centres, radii, lengths, roads))
    min_x, min_y, max_x, max_y = bounds
    inside = (xy[:, 0] >= min_x) & (xy[:, 0] < max_x) & (xy[:, 1] >= min_y) & (xy[:, 1] < max_y)
    return xy[inside], r[inside], length[inside], road[inside]


def build_sources(segments: Segments, bounds: tuple[float, float, float, float], spacing_m: float) -> SourceTree:
    """The source tree of the carriageways whose pieces lie inside ``bounds``."""
    xy, radius, length, road = _pieces(segments, spacing_m, bounds)
    n_fine = len(road)
    levels = 2 + max(0, int(np.ceil(np.log2(_TOP_CELL_M / (2.0 * spacing_m)))))
    cell_1 = np.floor((xy - np.array(bounds[:2])) / (2.0 * spacing_m)).astype(np.int64)
    all_xy: list[Floats] = [xy]
    all_r: list[Floats] = [radius]
    all_w: list[Floats] = [length]
    all_level = [np.zeros(n_fine, np.int8)]
    parents = [np.full(n_fine, -1, np.int64)]
    ancestor = np.zeros((n_fine, levels), np.int64)
    ancestor[:, 0] = np.arange(n_fine)
    below, base = np.arange(n_fine), n_fine
    for level in range(1, levels if n_fine else 1):
        node_xy, node_r, node_w = (np.concatenate(a) for a in (all_xy, all_r, all_w))
        # Cells nest exactly: a cell's index is its child cell's index halved.
        cell = cell_1 >> (level - 1)
        _, cluster = np.unique(cell[:, 0] * (1 << 31) + cell[:, 1], return_inverse=True)
        n = int(cluster.max()) + 1
        child, first = np.unique(below, return_index=True)
        owner = cluster[first]
        weight: Floats = np.bincount(owner, node_w[child], n).astype(np.float64)
        centre = np.column_stack([np.bincount(owner, node_w[child] * node_xy[child, axis], n)
                                  for axis in (0, 1)]) / weight[:, None]
        r = np.zeros(n)
        np.maximum.at(r, owner, np.hypot(*(node_xy[child] - centre[owner]).T) + node_r[child])
        parent = np.concatenate(parents)
        parent[child] = base + owner
        parents = [parent, np.full(n, -1, np.int64)]
        all_xy.append(centre)
        all_r.append(r)
        all_w.append(weight)
        all_level.append(np.full(n, level, np.int8))
        ancestor[:, level] = base + cluster
        below, base = base + cluster, base + n
    parent = np.concatenate(parents)
    order = np.argsort(parent, kind="stable")
    child_sorted = order[parent[order] >= 0]
    child_ptr = np.searchsorted(parent[child_sorted], np.arange(base + 1))
    return SourceTree(xy_m=np.concatenate(all_xy), radius_m=np.concatenate(all_r),
                      level=np.concatenate(all_level), parent=parent, child_ptr=child_ptr.astype(np.int64),
                      child=child_sorted.astype(np.int64), ancestor=ancestor[:, :max(1, len(all_r))],
                      road=road, length_m=length)


def _expand(ptr: Ints, child: Ints, receiver: Ints, node: Ints) -> tuple[Ints, Ints]:
    """Every (receiver, child) pair of the given (receiver, node) pairs."""
    counts = ptr[node + 1] - ptr[node]
    total = int(counts.sum())
    starts = np.repeat(ptr[node] - (np.cumsum(counts) - counts), counts)
    return np.repeat(receiver, counts), child[starts + np.arange(total)]


def pairs(tree: SourceTree, receiver_xyz: Floats, max_distance_m: float, ratio: float) -> tuple[Ints, Ints]:
    """(receiver, node) pairs: for each receiver, the coarsest nodes that subtend at
    most ``ratio`` (see the module) and whose centre lies within ``max_distance_m``
    (3D distance from the receiver to the source point). Sorted by node, then receiver."""
    n_rec = len(receiver_xyz)
    top = np.flatnonzero(tree.parent < 0)
    receiver = np.repeat(np.arange(n_rec), len(top))
    node = np.tile(top, n_rec)
    keep_r, keep_n = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    while len(node):
        dx = receiver_xyz[receiver, 0] - tree.xy_m[node, 0]
        dy = receiver_xyz[receiver, 1] - tree.xy_m[node, 1]
        dz = receiver_xyz[receiver, 2] - SOURCE_HEIGHT_M
        d = np.sqrt(dx * dx + dy * dy + dz * dz)
        r = tree.radius_m[node]
        reach = d - r <= max_distance_m
        far = d - r >= 2.0 * r / ratio
        fine = tree.level[node] == 0
        use = (far | fine) & (d <= max_distance_m)
        keep_r.append(receiver[use])
        keep_n.append(node[use])
        grow = reach & ~far & ~fine
        receiver, node = _expand(tree.child_ptr, tree.child, receiver[grow], node[grow])
    rec, nod = np.concatenate(keep_r), np.concatenate(keep_n)
    order = np.argsort(nod * max(n_rec, 1) + rec)  # the pairs are distinct: no ties
    return rec[order], nod[order]
