"""Walks on the walking network: joining things to it and shortest walks to destinations.

:func:`snap` joins geometries (points, building footprints) to the nearest point of the
network, exactly; :func:`snap_points` joins many points (the field's cells) to the
nearest of the network's sample points, within half their spacing. :func:`node_distances`
runs Dijkstra's algorithm (Dijkstra E.W. (1959), "A note on two problems in connexion
with graphs", Numer. Math. 1:269–271; ``scipy.sparse.csgraph.dijkstra``) from a virtual
source joined to the entrances of every destination, so one run gives each node its
distance to the nearest destination, and :func:`reach_m` adds the straight walk from a
thing to the network and along its edge.

>>> import shapely
>>> from sims._walk_network import build_walk_network
>>> from world.city import Road
>>> roads = [Road("a", shapely.LineString([(0, 0), (10, 0)]), "footway", "footway", 2.0),
...          Road("b", shapely.LineString([(5, -5), (5, 5)]), "footway", "footway", 2.0)]
>>> net = build_walk_network(roads)
>>> d = node_distances(net, np.array([0]), np.array([0.0]), limit_m=np.inf)   # from node 0, (0, 0)
>>> s = snap(net, shapely.points([[5.0, 4.0]]))
>>> float(reach_m(net, s, d, np.array([np.inf]))[0])   # 5 m east, 4 m north
9.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from sims._walk_network import WalkNetwork

__all__ = ["Snap", "snap", "snap_points", "node_distances", "reach_m"]


@dataclass(frozen=True, slots=True, eq=False)
class Snap:
    """Where things join the network: ``edge`` (−1 when there is no network),
    ``xy`` (k, 2) the nearest network point, ``along_m`` its distance from the edge's
    ``edge_u`` node and ``gap_m`` the straight walk from the thing to it."""

    edge: np.ndarray
    xy: np.ndarray
    along_m: np.ndarray
    gap_m: np.ndarray


def snap(network: WalkNetwork, geoms: np.ndarray) -> Snap:
    """Join each geometry (points, footprints) to the nearest point of the network;
    among equally near edges the first (lowest index) one."""
    k = len(geoms)
    edge = np.full(k, -1, dtype=np.int64)
    xy = np.full((k, 2), np.nan)
    along_m = np.zeros(k)
    gap_m = np.full(k, np.inf)
    if k == 0 or len(network.snap_edge) == 0:
        return Snap(edge, xy, along_m, gap_m)
    which, nearest = network.snap_tree.query_nearest(geoms, all_matches=True)
    order = np.lexsort((nearest, which))
    which, nearest = which[order], nearest[order]
    first = np.ones(len(which), dtype=bool)
    first[1:] = which[1:] != which[:-1]
    which, nearest = which[first], network.snap_edge[nearest[first]]
    line = shapely.get_coordinates(shapely.shortest_line(geoms[which], network.segments[nearest])).reshape(-1, 2, 2)
    edge[which] = nearest
    xy[which] = line[:, 1]
    gap_m[which] = np.hypot(*(line[:, 1] - line[:, 0]).T)
    along_m[which] = np.hypot(*(line[:, 1] - network.xy[network.edge_u[nearest]]).T)
    return Snap(edge, xy, along_m, gap_m)


def snap_points(network: WalkNetwork, xy: np.ndarray) -> Snap:
    """Join points (k, 2) to the nearest of the network's sample points: within half
    the sample spacing of :func:`snap`'s exact answer, and far faster for many points
    (the field's cells)."""
    k = len(xy)
    if k == 0 or len(network.sample_edge) == 0:
        return Snap(np.full(k, -1, dtype=np.int64), np.full((k, 2), np.nan), np.zeros(k), np.full(k, np.inf))
    gap_m, nearest = network.sample_tree.query(xy)
    edge = network.sample_edge[nearest]
    return Snap(edge, network.sample_tree.data[nearest], network.sample_along_m[nearest], np.asarray(gap_m))


def node_distances(network: WalkNetwork, entry_node: np.ndarray, entry_m: np.ndarray, limit_m: float) -> np.ndarray:
    """Each node's walking distance (m) to the nearest destination; ``inf`` beyond
    ``limit_m`` or out of reach.

    A destination is entered from ``entry_node[i]`` after ``entry_m[i]`` more metres;
    a virtual source joined to every entry node by an edge of that length makes one
    Dijkstra run answer for all destinations at once (Dijkstra 1959, Numer. Math.
    1:269–271). This is the multi-source search with ``min_only``, generalised to
    sources that start a few metres behind (scipy's ``indices`` start every source at
    0). Since a floating-point sum never shrinks as a walk grows and rounding is
    monotonic, the result is the smallest left-to-right sum over all walks, so the
    minimum of two runs over two sets of destinations equals one run over both, bit
    for bit.
    """
    n = len(network.xy)
    if n == 0 or len(entry_node) == 0:
        return np.full(n, np.inf)
    order = np.lexsort((entry_m, entry_node))
    node, weight = entry_node[order], entry_m[order]
    first = np.ones(len(node), dtype=bool)
    first[1:] = node[1:] != node[:-1]
    node, weight = node[first], weight[first]
    indptr = np.concatenate([network.indptr, [network.indptr[-1] + len(node)]])
    graph = csr_array((np.concatenate([network.data, weight]), np.concatenate([network.indices, node]), indptr),
                      shape=(n + 1, n + 1))
    return np.asarray(dijkstra(graph, directed=True, indices=n, limit=limit_m))[:n]


def reach_m(network: WalkNetwork, where: Snap, distance_m: np.ndarray, direct_m: np.ndarray) -> np.ndarray:
    """Walking distance (m) of snapped things to the nearest destination: the gap to
    the network plus the shorter way along their edge to one of its ends and on
    (``distance_m`` per node), or ``direct_m`` when a destination is entered from the
    edge itself without passing a node."""
    out = np.full(len(where.edge), np.inf)
    on = where.edge >= 0
    if not on.any():
        return out
    edge = where.edge[on]
    along_m = where.along_m[on]
    back_m = np.maximum(network.edge_m[edge] - along_m, 0.0)
    best = np.minimum(along_m + distance_m[network.edge_u[edge]], back_m + distance_m[network.edge_v[edge]])
    out[on] = where.gap_m[on] + np.minimum(best, direct_m[on])
    return out
