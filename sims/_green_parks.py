"""Parks for the "300" of the 3-30-300 rule: which green areas count and where people enter them.

A *park* is a City area of a park class (``park`` or ``forest``; a placed park
intervention arrives as an area of class ``park``). Park polygons that touch or overlap
(share at least one point) form one green space, counted by the area of their union,
so a park mapped as several adjoining pieces qualifies by its total size
(:func:`qualifying`).

The walking network enters a park where an edge touches or crosses its polygon, at the
first point of the edge inside it. People also step into a park from any point of the
network within a tolerance of it (the ``gap_m`` of :func:`entries`, 10 m by default: a
street's half width and its sidewalk, since OSM often draws a park's edge at the kerb
and the street's centreline a few metres away), walking the gap straight: so a park
that no mapped path enters is still reached from the streets around it. This holds for
every park, not only for those no path enters: a street running along an open park is
a way into it all along, and where a path also enters, the shorter walk wins.

From a point x of an edge, the walk into the park is the smallest, over the points y
of the edge within the tolerance, of |x − y| + d(y, park). As the distance to a
polygon changes by at most the distance moved (it is 1-Lipschitz), that smallest value
lies at the y nearest to x on either side, so each edge keeps only the stretches of it
within the tolerance (``start_m``…``end_m`` along it) and the gap at both ends of
each. The tolerance zone is the polygon buffered by ``gap_m`` (8 segments a quarter
circle, so stretches may end up to ``gap_m``·(1 − cos 5.6°) ≈ 0.5 % short of it).

Entrances are computed per polygon, not per merged green space: entering any piece
enters the green space, so the two give the same distances, and a park added next to
an existing one leaves the existing entrances untouched (the incremental update relies
on this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from sims._walk_network import WalkNetwork
from sims._walk_route import Snap
from world.city import Area

__all__ = ["Park", "Entries", "park_members", "qualifying", "entries", "direct_m", "inside_parks"]


@dataclass(frozen=True, slots=True, eq=False)
class Park:
    """One park polygon: its area ``id``, the ``source`` geometry as the City holds it
    (to tell later whether it changed) and a valid ``polygon`` of it."""

    id: str
    source: shapely.Geometry
    polygon: shapely.Geometry


@dataclass(frozen=True, slots=True, eq=False)
class Entries:
    """How the network enters one park ``polygon``: the stretches of edges within the
    tolerance of it, one per row: ``edge``, from ``start_m`` to ``end_m`` along it
    (from its ``edge_u`` node), with ``start_gap_m``/``end_gap_m`` the straight walk
    into the park from those ends (0 inside it); and per node, ``node_m`` metres to
    walk from ``node`` into the park along one of its edges."""

    polygon: shapely.Geometry
    edge: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray
    start_gap_m: np.ndarray
    end_gap_m: np.ndarray
    node: np.ndarray
    node_m: np.ndarray


def park_members(areas: Sequence[Area], classes: Sequence[str]) -> tuple[Park, ...]:
    """The areas of the park ``classes``, in city order, with valid polygons."""
    parks = [a for a in areas if a.area_class in classes]
    if not parks:
        return ()
    source = np.array([a.geometry for a in parks], dtype=object)
    valid = shapely.is_valid(source)
    return tuple(Park(a.id, g, g if ok else _polygonal(shapely.make_valid(g)))
                 for a, g, ok in zip(parks, source, valid, strict=True))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a repaired geometry (``make_valid`` may add stray lines)."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(np.array(parts, dtype=object)) if parts else shapely.Polygon()


def qualifying(parks: Sequence[Park], min_area_m2: float) -> np.ndarray:
    """Which parks belong to a green space (parks that touch, transitively) whose
    united area is at least ``min_area_m2``.

    >>> a = Park("a", None, shapely.box(0, 0, 50, 50))        # 2500 m²
    >>> b = Park("b", None, shapely.box(50, 0, 100, 50))      # touches a
    >>> c = Park("c", None, shapely.box(200, 0, 250, 50))
    >>> qualifying([a, b, c], 5000.0).tolist()
    [True, True, False]
    """
    n = len(parks)
    if n == 0:
        return np.zeros(0, dtype=bool)
    polygons = np.array([p.polygon for p in parks], dtype=object)
    left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    links = coo_array((np.ones(len(left)), (left, right)), shape=(n, n))
    count, label = connected_components(links, directed=False)
    area_m2 = np.zeros(count)
    for group in range(count):
        members = polygons[label == group]
        area_m2[group] = shapely.area(members[0] if len(members) == 1 else shapely.union_all(members))
    return np.asarray(area_m2[label] >= min_area_m2)


def entries(network: WalkNetwork, polygon: shapely.Geometry, gap_m: float) -> Entries:
    """Where ``network`` enters ``polygon`` (see the module docstring).

    >>> from sims._walk_network import build_walk_network
    >>> from world.city import Road
    >>> net = build_walk_network([Road("r", shapely.LineString([(0, 0), (100, 0)]), "footway", "footway", 2.0)])
    >>> e = entries(net, shapely.box(60, -10, 80, 10), gap_m=5.0)
    >>> sorted(zip(net.xy[e.node, 0].tolist(), e.node_m.round(6).tolist()))   # 55 m, then 5 m across
    [(0.0, 60.0), (100.0, 20.0)]
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(network.segments) == 0 or shapely.is_empty(polygon):
        return Entries(polygon, empty, *(np.zeros(0),) * 4, empty, np.zeros(0))
    shapely.prepare(polygon)
    zone = shapely.buffer(polygon, gap_m, quad_segs=8) if gap_m > 0.0 else polygon
    shapely.prepare(zone)
    edge = np.sort(network.tree.query(zone, predicate="intersects"))
    segments = network.segments[edge]
    u = network.edge_u[edge]
    # Stretches: a whole edge inside the zone, else its intersection's pieces.
    whole = shapely.contains_properly(zone, segments)
    row = [np.flatnonzero(whole)]
    start = [np.zeros(int(whole.sum()))]
    end = [network.edge_m[edge[whole]]]
    cut = np.flatnonzero(~whole)
    if len(cut):
        pieces, which = shapely.get_parts(shapely.intersection(segments[cut], zone), return_index=True)
        coords, part = shapely.get_coordinates(pieces, return_index=True)
        along = np.hypot(*(coords - network.xy[u[cut[which[part]]]]).T)
        lo, hi = np.full(len(pieces), np.inf), np.full(len(pieces), -np.inf)
        np.minimum.at(lo, part, along)
        np.maximum.at(hi, part, along)
        ok = np.isfinite(lo)
        row.append(cut[which[ok]])
        start.append(lo[ok])
        end.append(hi[ok])
    rows = np.concatenate(row)
    start_m, end_m = np.concatenate(start), np.concatenate(end)
    edge_of = edge[rows]
    start_gap_m = _gap_m(polygon, _along_xy(network, edge_of, start_m))
    end_gap_m = _gap_m(polygon, _along_xy(network, edge_of, end_m))
    node = np.concatenate([network.edge_u[edge_of], network.edge_v[edge_of]])
    node_m = np.concatenate([start_m + start_gap_m, network.edge_m[edge_of] - end_m + end_gap_m])
    return Entries(polygon, edge_of, start_m, end_m, start_gap_m, end_gap_m, node, node_m)


def _along_xy(network: WalkNetwork, edge: np.ndarray, along_m: np.ndarray) -> np.ndarray:
    """The points ``along_m`` metres from the first node of each edge."""
    a, b = network.xy[network.edge_u[edge]], network.xy[network.edge_v[edge]]
    length = np.where(network.edge_m[edge] > 0.0, network.edge_m[edge], 1.0)
    t = np.clip(along_m / length, 0.0, 1.0)[:, None]
    return np.where(t == 1.0, b, a + t * (b - a))


def _gap_m(polygon: shapely.Geometry, xy: np.ndarray) -> np.ndarray:
    """Distance (m) from points to a prepared polygon: 0 inside, else measured."""
    out = np.zeros(len(xy))
    if len(xy) == 0:
        return out
    outside = ~shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
    if outside.any():
        out[outside] = shapely.distance(shapely.points(xy[outside]), polygon)
    return out


def direct_m(network: WalkNetwork, where: Snap, found: Sequence[Entries]) -> np.ndarray:
    """For things snapped onto an edge that enters a park, the walk along that edge to
    the nearer end of a stretch (or from where they stand, inside one) and across into
    the park; ``inf`` for the others."""
    out = np.full(len(where.edge), np.inf)
    found = [e for e in found if len(e.edge)]
    if not found or len(where.edge) == 0:
        return out
    edge = np.concatenate([e.edge for e in found])
    order = np.argsort(where.edge, kind="stable")
    ranked = where.edge[order]
    lo, hi = np.searchsorted(ranked, edge, "left"), np.searchsorted(ranked, edge, "right")
    count = hi - lo
    if count.sum() == 0:
        return out
    which = np.repeat(np.arange(len(edge)), count)
    thing = order[np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(len(which))]
    start_m = np.concatenate([e.start_m for e in found])[which]
    end_m = np.concatenate([e.end_m for e in found])[which]
    s = where.along_m[thing]
    walk_m = np.where(s < start_m, start_m - s + np.concatenate([e.start_gap_m for e in found])[which],
                      s - end_m + np.concatenate([e.end_gap_m for e in found])[which])
    within = np.flatnonzero((s >= start_m) & (s <= end_m))
    if len(within):
        park = np.repeat(np.arange(len(found)), [len(e.edge) for e in found])[which[within]]
        for k in np.unique(park):
            pick = within[park == k]
            walk_m[pick] = _gap_m(found[k].polygon, where.xy[thing[pick]])
    np.minimum.at(out, thing, walk_m)
    return out


def inside_parks(xy: np.ndarray, polygons: Sequence[shapely.Geometry]) -> np.ndarray:
    """Which points (k, 2) lie inside any of the polygons."""
    out = np.zeros(len(xy), dtype=bool)
    for polygon in polygons:
        min_x, min_y, max_x, max_y = shapely.bounds(polygon)
        near = (xy[:, 0] >= min_x) & (xy[:, 0] <= max_x) & (xy[:, 1] >= min_y) & (xy[:, 1] <= max_y)
        if near.any():
            out[near] |= shapely.contains_xy(polygon, xy[near, 0], xy[near, 1])
    return out
