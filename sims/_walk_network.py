"""The walking network: road centrelines noded into a weighted graph.

Everyone walks along every :class:`world.city.Road` centreline (footways, cycleways and
carriageways alike: a street's sidewalks run along its centreline), except motorways,
trunk roads and their links (:data:`NOT_WALKABLE`). Roads given as surfaces (CityJSON)
have no centreline and are left out.

Noding: lines meet where they share a vertex (exactly equal coordinates; OpenStreetMap
junctions and crossings are shared nodes, so no snapping tolerance is used and two
nearly touching ends stay apart). Lines *at grade* are also noded where they cross
without a shared vertex (``shapely.node``), which catches centrelines drawn as
unbroken lines, as in the tests' street grids; exact orientation tests first check
whether any such crossing exists, as OSM data rarely has one. Bridges, tunnels (except
building passages, which are at grade) and lines on a ``layer`` other than 0 join only
at shared vertices: a footbridge over a street does not connect to it.

Every straight piece between two vertices is an edge weighted by its length in metres.
Things join the network (:mod:`sims._walk_route`) only at grade (nobody steps from their
door into a tunnel) and on a main connected part of it (:data:`MAIN_SHARE`).

>>> import shapely
>>> roads = [Road("a", shapely.LineString([(0, 0), (10, 0)]), "footway", "footway", 2.0),
...          Road("b", shapely.LineString([(5, -5), (5, 5)]), "footway", "footway", 2.0)]
>>> net = build_walk_network(roads)
>>> len(net.xy), net.edge_m.tolist()
(5, [5.0, 5.0, 5.0, 5.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from world.city import Road

__all__ = ["NOT_WALKABLE", "MAIN_SHARE", "WalkNetwork", "walk_roads", "build_walk_network", "same_roads"]

#: OSM ``highway`` classes nobody walks along: motorways, trunk roads and their links.
NOT_WALKABLE = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})

#: Homes and field cells join the network only on a connected part of it that holds at
#: least this share of all edges: a footway mapped without its connection (OSM has
#: such pieces) would otherwise strand whatever lies nearest to it.
MAIN_SHARE = 0.05


@dataclass(frozen=True, slots=True, eq=False)
class WalkNetwork:
    """A noded walking network.

    ``source`` are the roads it was built from and ``roads`` the walkable ones among
    them (to tell whether a later city still has the same network), ``xy`` (n, 2) the node coordinates in local metres,
    ``edge_u``/``edge_v`` the nodes of each straight edge (``edge_u`` < ``edge_v``),
    ``edge_m`` its length and ``edge_grade`` whether it lies at grade, ``segments``
    each edge as a two-point LineString in an STRtree ``tree``,
    ``indptr``/``indices``/``data`` the directed CSR adjacency (both directions of
    every edge) of the n nodes; ``snap_edge``, the edges things join the network on
    (their segments in ``snap_tree``, for :func:`sims._walk_route.snap`), and points
    along them (``sample_edge``, ``sample_along_m``) in a k-d tree ``sample_tree`` for
    :func:`sims._walk_route.snap_points`.
    """

    source: tuple[Road, ...]
    roads: tuple[Road, ...]
    xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_m: np.ndarray
    edge_grade: np.ndarray
    segments: np.ndarray
    tree: shapely.STRtree
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    snap_edge: np.ndarray
    snap_tree: shapely.STRtree
    sample_edge: np.ndarray
    sample_along_m: np.ndarray
    sample_tree: cKDTree


def walk_roads(roads: Sequence[Road]) -> tuple[Road, ...]:
    """The roads people walk along: centrelines of any class but :data:`NOT_WALKABLE`."""
    kept = [r for r in roads if r.road_class not in NOT_WALKABLE and isinstance(r.geometry, shapely.LineString)]
    if not kept:
        return ()
    counts = shapely.get_num_coordinates(np.array([r.geometry for r in kept], dtype=object))
    return tuple(r for r, n in zip(kept, counts, strict=True) if n >= 2)


_GRADE_TAGS = frozenset({"bridge", "tunnel", "layer"})


def _at_grade(road: Road) -> bool:
    """Not on a bridge, in a tunnel (building passages are at grade) or on another layer."""
    attributes = road.attributes
    if _GRADE_TAGS.isdisjoint(attributes):
        return True
    return (attributes.get("bridge", "no") == "no"
            and attributes.get("tunnel", "no") in ("no", "building_passage")
            and str(attributes.get("layer", "0")).strip() in ("0", ""))


def same_roads(network: WalkNetwork, roads: Sequence[Road]) -> bool:
    """Whether ``roads`` (a city's roads) give the same network: the same walkable
    roads in the same order with equal ids, classes, grade tags and centrelines."""
    if len(roads) == len(network.source) and all(a is b for a, b in zip(roads, network.source, strict=True)):
        return True
    new = walk_roads(roads)
    if len(new) != len(network.roads):
        return False
    differ = [i for i, (a, b) in enumerate(zip(network.roads, new, strict=True)) if a is not b]
    if not differ:
        return True
    old_pick = [network.roads[i] for i in differ]
    new_pick = [new[i] for i in differ]
    if any(a.id != b.id or a.road_class != b.road_class or _at_grade(a) != _at_grade(b)
           for a, b in zip(old_pick, new_pick, strict=True)):
        return False
    old_lines = np.array([r.geometry for r in old_pick], dtype=object)
    new_lines = np.array([r.geometry for r in new_pick], dtype=object)
    return bool(np.all(shapely.equals_exact(old_lines, new_lines, tolerance=0.0)))


def build_walk_network(roads: Sequence[Road], sample_m: float = 5.0) -> WalkNetwork:
    """The walking network of ``roads`` (see the module docstring for what is noded).

    ``sample_m`` spaces the points along every edge that
    :func:`sims._walk_route.snap_points` snaps to.
    """
    source = tuple(roads)
    walkable = walk_roads(source)
    grade = np.array([_at_grade(r) for r in walkable], dtype=bool)
    lines = np.array([r.geometry for r in walkable], dtype=object)
    network = _graph(source, walkable, lines, grade, sample_m)
    if _crossings(network):
        # Some lines at grade cross without a shared vertex (rare in OSM): node them.
        noded = shapely.get_parts(shapely.node(shapely.multilinestrings(lines[grade])))
        pieces = np.concatenate([lines[~grade], noded])
        network = _graph(source, walkable, pieces, np.concatenate([np.zeros((~grade).sum(), bool),
                                                                   np.ones(len(noded), bool)]), sample_m)
    return network


def _graph(source: tuple[Road, ...], walkable: tuple[Road, ...], pieces: np.ndarray, grade: np.ndarray,
           sample_m: float) -> WalkNetwork:
    """The network whose edges are the straight pieces of ``pieces``, joined where
    they share a vertex; ``grade`` tells which pieces lie at grade."""
    coords, owner = shapely.get_coordinates(pieces, return_index=True)
    xy, node = _unique_points(coords)
    same_piece = owner[1:] == owner[:-1]
    u, v = node[:-1][same_piece], node[1:][same_piece]
    at_grade = grade[owner[1:][same_piece]]
    u, v = np.minimum(u, v), np.maximum(u, v)
    length_m = np.hypot(*(xy[v] - xy[u]).T) if len(u) else np.zeros(0)
    keep = u != v
    u, v, length_m, at_grade = u[keep], v[keep], length_m[keep], at_grade[keep]
    # One edge per node pair: the shortest (lines drawn on top of each other).
    order = np.lexsort((length_m, v, u))
    u, v, length_m, at_grade = u[order], v[order], length_m[order], at_grade[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    grade_of = np.logical_or.reduceat(at_grade, np.flatnonzero(first)) if len(u) else np.zeros(0, dtype=bool)
    u, v, length_m = u[first], v[first], length_m[first]
    segments = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1)) if len(u) else np.zeros(0, dtype=object)
    indptr, indices, data = _csr(len(xy), u, v, length_m)
    snap_edge = _snap_edges(len(xy), u, grade_of, indptr, indices, data)
    sample_edge, sample_along_m = _samples(snap_edge, length_m, sample_m)
    sample_xy = xy[u[sample_edge]] + (xy[v[sample_edge]] - xy[u[sample_edge]]) \
        * (sample_along_m / np.where(length_m[sample_edge] > 0, length_m[sample_edge], 1.0))[:, None]
    return WalkNetwork(source=source, roads=walkable, xy=xy, edge_u=u, edge_v=v, edge_m=length_m, edge_grade=grade_of,
                       segments=segments, tree=shapely.STRtree(segments), indptr=indptr, indices=indices, data=data,
                       snap_edge=snap_edge, snap_tree=shapely.STRtree(segments[snap_edge]),
                       sample_edge=sample_edge, sample_along_m=sample_along_m,
                       sample_tree=cKDTree(sample_xy.reshape(-1, 2), leafsize=32, balanced_tree=False,
                                           compact_nodes=False))


def _snap_edges(n: int, u: np.ndarray, grade: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
                data: np.ndarray) -> np.ndarray:
    """The edges things may join the network on: at grade, in a connected part of the
    network holding at least :data:`MAIN_SHARE` of all edges (else every edge at grade,
    else every edge)."""
    if len(u) == 0:
        return np.zeros(0, dtype=np.int64)
    _, label = connected_components(csr_array((data, indices, indptr), shape=(n, n)), directed=False)
    size = np.bincount(label[u])
    main = size[label[u]] >= MAIN_SHARE * len(u)
    for choice in (grade & main, grade):
        if choice.any():
            return np.flatnonzero(choice)
    return np.arange(len(u))


def _samples(edges: np.ndarray, length_m: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` or less along each of ``edges``, both ends included:
    their edge and distance from its first node."""
    pieces = np.maximum(1, np.ceil(length_m[edges] / spacing_m - 1e-9)).astype(np.int64)
    edge = np.repeat(edges, pieces + 1)
    k = np.arange(len(edge)) - np.repeat(np.cumsum(pieces + 1) - (pieces + 1), pieces + 1)
    return edge, np.minimum(k * (length_m[edge] / np.repeat(pieces, pieces + 1)), length_m[edge])


def _crossings(network: WalkNetwork) -> bool:
    """Whether two edges at grade meet anywhere but at a shared node (exact
    orientation tests; segments in the STRtree only pair up when their boxes meet)."""
    edges = np.flatnonzero(network.edge_grade)
    if len(edges) < 2:
        return False
    left, right = network.tree.query(network.segments[edges])
    left = edges[left]
    pair = (left < right) & network.edge_grade[right]
    i, j = left[pair], right[pair]
    xy, u, v = network.xy, network.edge_u, network.edge_v
    p1, p2, q1, q2 = xy[u[i]], xy[v[i]], xy[u[j]], xy[v[j]]
    o1, o2 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    o3, o4 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    meet = (o1 * o2 <= 0.0) & (o3 * o4 <= 0.0)
    collinear = (o1 == 0.0) & (o2 == 0.0)
    # Two segments from one shared node meet only there, unless they overlap along a line.
    shared = np.where(u[i] == u[j], u[i], np.where(u[i] == v[j], u[i], np.where(v[i] == u[j], v[i],
                                                                               np.where(v[i] == v[j], v[i], -1))))
    other_p = np.where(u[i] == shared, v[i], u[i])
    other_q = np.where(u[j] == shared, v[j], u[j])
    s = xy[np.maximum(shared, 0)]
    overlap = np.einsum("ij,ij->i", xy[other_p] - s, xy[other_q] - s) > 0.0
    return bool(np.any(meet & ((shared < 0) | (collinear & overlap))))


def _orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle abc (> 0 counter-clockwise)."""
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _unique_points(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct points (exact equality) in lexicographic order, and each input's index."""
    if len(coords) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    order = np.lexsort((coords[:, 1], coords[:, 0]))
    ranked = coords[order]
    new = np.ones(len(ranked), dtype=bool)
    new[1:] = np.any(ranked[1:] != ranked[:-1], axis=1)
    index = np.empty(len(coords), dtype=np.int64)
    index[order] = np.cumsum(new) - 1
    return ranked[new], index


def _csr(n: int, u: np.ndarray, v: np.ndarray, length_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed CSR arrays of n nodes holding both directions of every edge."""
    rows, cols, data = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([length_m, length_m])
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order].astype(np.int64), data[order]
