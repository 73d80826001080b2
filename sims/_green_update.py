"""Incremental green access: the next :class:`GreenState` from the last one and a change.

What changed is found by comparing the new scene with the state, not taken from the
change's kinds, so any mix of changes is handled; only the change's box is trusted, as
the :class:`sims.scene.Change` contract says, to hold every grid cell that changed.

* Roads: a different walking network (other walkable roads, centrelines, classes or
  grade tags; a traffic change is none of these) runs everything in full.
* Grid: another grid runs in full on the kept network.
* Buildings: the homes are listed again (in the order of a full run) and matched to the
  old ones by building id; a building with the same homes and the very same footprint
  keeps its snap, canopy disc and tree and canopy counts (against the old trees and
  canopy, which the steps below bring up to date), and only new or changed buildings
  are snapped, given discs and counted (integers, so equal to a full count). The park
  walks and the field do not depend on buildings and are kept.
* Trees (compared as (id, x, y) multisets): the trees added and removed add to and
  subtract from the counts of the homes within reach of them; the counts are integers,
  so the result equals a full count.
* Canopy: within the change's box, the cells that gained or lost canopy change the
  disc counts of the homes whose disc reaches them (integers again).
* Parks: parks only added search the walking network once more from the parks that
  newly qualify and keep each node's minimum (equal to a full search, see
  :func:`sims._walk_network.node_distances`); parks removed or reshaped search again
  from all of them, on the kept network.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely

from sims._green_homes import Discs, Homes, disc_counts_window, discs, homes_in, trees_near
from sims._green_parks import Park, inside_parks, park_members
from sims._green_state import (
    GreenState,
    Place,
    Rerun,
    TreeSet,
    access_for,
    field_values,
    grid_key,
    home_ids,
    tree_set,
    tree_xy,
)
from sims._walk_network import same_roads
from sims._walk_route import Snap, snap
from sims.scene import Change, Scene

__all__ = ["update_state"]


def update_state(state: GreenState, scene: Scene, change: Change) -> GreenState | Rerun:
    """The state for ``scene``, or what to reuse when it must be run in full."""
    p = state.params
    network = state.network
    if not same_roads(network, scene.city.roads):
        return Rerun()
    place = state.place
    if grid_key(scene) != place.grid:
        return Rerun(network)
    buildings = scene.city.buildings
    if len(buildings) != len(place.buildings) or any(a is not b for a, b in zip(buildings, place.buildings,
                                                                                   strict=True)):
        homes = homes_in(scene.city, scene.grids)
        if homes.same_as(place.homes):
            place = replace(place, buildings=tuple(buildings), ids=home_ids(homes, scene))
        else:
            rehomed = _rehomed(state, scene, homes)
            if rehomed is None:
                return Rerun(network, state.cells)
            place, tree_counts, canopy_counts = rehomed
            state = replace(state, place=place, tree_counts=tree_counts, canopy_counts=canopy_counts)

    trees = tree_set(scene.city)
    tree_counts = state.tree_counts
    if trees != state.trees:
        added, removed = _difference(trees, state.trees), _difference(state.trees, trees)
        tree_counts = (tree_counts + trees_near(place.homes, tree_xy(added), p.tree_distance_m)
                       - trees_near(place.homes, tree_xy(removed), p.tree_distance_m))

    canopy_m = scene.grids.canopy_m
    canopy_counts = state.canopy_counts
    if canopy_m is not state.canopy_m:
        rows, cols = ((slice(0, canopy_m.shape[0]), slice(0, canopy_m.shape[1])) if change.bbox is None
                      else scene.grids.window_of(change.bbox))
        diff = (canopy_m[rows, cols] > 0.0).astype(np.int64) - (state.canopy_m[rows, cols] > 0.0)
        if diff.any():
            canopy_counts = canopy_counts + disc_counts_window(diff, rows, cols, place.discs)

    access, in_park, field_m = state.access, state.in_park, state.field_m
    if not _same_park_sources(access.parks, scene, p.park_classes):
        parks = park_members(scene.city.areas, p.park_classes)
        before = state.access if _only_added(state.access.parks, parks) else None
        access = access_for(network, parks, p, before)
        if before is not None and before.qualifies <= access.qualifies:
            fresh = [q.polygon for q in parks if q.id in access.qualifies - before.qualifies]
            in_park = in_park | inside_parks(state.cells.xy, fresh)
        else:
            in_park = inside_parks(state.cells.xy, access.qualifying_polygons())
        field_m = field_values(network, state.cells, access, in_park, p)
    return replace(state, place=place, trees=trees, tree_counts=tree_counts, canopy_m=canopy_m,
                   canopy_counts=canopy_counts, access=access, in_park=in_park, field_m=field_m)


def _rehomed(state: GreenState, scene: Scene, homes: Homes) -> tuple[Place, np.ndarray, np.ndarray] | None:
    """The place of ``homes`` (the scene's), with the tree and canopy counts of each home
    against the state's trees and canopy: kept for the buildings (by id) whose homes and
    footprint are unchanged, computed for the others. None when building ids repeat."""
    p, old = state.params, state.place
    ids = home_ids(homes, scene)
    before = {bid: k for k, bid in enumerate(old.ids)}
    if len(before) != len(old.ids) or len(set(ids)) != len(ids):
        return None
    source = np.array([before.get(bid, -1) for bid in ids], dtype=np.int64).reshape(-1)
    kept = np.flatnonzero(source >= 0)
    same = (homes.homes[kept] == old.homes.homes[source[kept]]) & shapely.equals_exact(
        homes.footprints[kept], old.homes.footprints[source[kept]], tolerance=0.0)
    source[kept[~same]] = -1
    kept, fresh = np.flatnonzero(source >= 0), np.flatnonzero(source < 0)
    taken = source[kept]

    xy = homes.xy_m[fresh]
    new_snap = snap(state.network, shapely.points(xy))
    new_discs = discs(xy, p.canopy_radius_m, scene.grids)
    shapes = homes.footprints[fresh]
    subset = Homes(homes.building[fresh], homes.homes[fresh], shapes, xy, shapely.STRtree(shapes))
    new_trees = trees_near(subset, tree_xy(state.trees), p.tree_distance_m)
    new_canopy = _canopy_counts(state.canopy_m, new_discs)

    def merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty((len(source), *b.shape[1:]), dtype=b.dtype)
        out[kept] = a[taken]
        out[fresh] = b
        return out

    home_snap = Snap(*(merge(getattr(old.home_snap, f), getattr(new_snap, f))
                       for f in ("edge", "xy", "along_m", "gap_m")))
    spans = Discs(*(merge(getattr(old.discs, f), getattr(new_discs, f)) for f in ("row", "j0", "j1", "cells")))
    place = Place(old.grid, tuple(scene.city.buildings), homes, home_snap, spans, ids)
    return place, merge(state.tree_counts, new_trees), merge(state.canopy_counts, new_canopy)


def _canopy_counts(canopy_m: np.ndarray, spans: Discs) -> np.ndarray:
    """Canopy cells inside each disc, as :func:`sims._green_homes.disc_counts` of the
    whole grid, from only the window the discs cover."""
    filled = spans.j1 > spans.j0
    if not filled.any():
        return np.zeros(len(spans.cells), dtype=np.int64)
    rows = slice(int(spans.row[filled].min()), int(spans.row[filled].max()) + 1)
    cols = slice(int(spans.j0[filled].min()), int(spans.j1[filled].max()))
    return disc_counts_window((canopy_m[rows, cols] > 0.0).astype(np.int64), rows, cols, spans)


def _difference(a: TreeSet, b: TreeSet) -> TreeSet:
    """The trees of ``a`` not in ``b`` (multiset difference).

    >>> _difference({("t", 0.0, 0.0): 2, ("u", 1.0, 1.0): 1}, {("t", 0.0, 0.0): 1, ("u", 1.0, 1.0): 1})
    {('t', 0.0, 0.0): 1}
    """
    # Only the (tree, count) pairs that differ need a look: a set difference in C.
    return {key: n - b.get(key, 0) for key, n in a.items() - b.items() if n > b.get(key, 0)}


def _same_park_sources(parks: tuple[Park, ...], scene: Scene, classes: tuple[str, ...]) -> bool:
    """Whether the scene's park areas are the very same (id, geometry) as before."""
    now = [(a.id, a.geometry) for a in scene.city.areas if a.area_class in classes]
    return len(now) == len(parks) and all(i == q.id and g is q.source for (i, g), q in zip(now, parks, strict=True))


def _only_added(old: tuple[Park, ...], new: tuple[Park, ...]) -> bool:
    """Whether ``new`` holds every park of ``old`` unchanged (ids unique), plus others."""
    new_by_id = {q.id: q for q in new}
    if len(new_by_id) != len(new) or len({q.id for q in old}) != len(old):
        return False
    for q in old:
        now = new_by_id.get(q.id)
        if now is None or not (now.source is q.source or now.source.equals_exact(q.source, 0.0)):
            return False
    return True
