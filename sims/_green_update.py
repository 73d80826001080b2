"""Incremental green access: the next :class:`GreenState` from the last one and a change.

What changed is found by comparing the new scene with the state, not taken from the
change's kinds, so any mix of changes is handled; only the change's box is trusted, as
the :class:`sims.scene.Change` contract says, to hold every grid cell that changed.

* Roads: a different walking network (other walkable roads, centrelines, classes or
  grade tags; a traffic change is none of these) runs everything in full.
* Grid or buildings: another grid, or buildings whose homes or footprints differ, run
  in full on the kept network.
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

from sims._green_homes import disc_counts_window, homes_in, trees_near
from sims._green_parks import Park, inside_parks, park_members
from sims._green_state import (
    GreenState,
    Rerun,
    TreeSet,
    access_for,
    field_values,
    grid_key,
    tree_set,
    tree_xy,
)
from sims._walk_network import same_roads
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
        if not homes_in(scene.city, scene.grids).same_as(place.homes):
            return Rerun(network, state.cells)
        place = replace(place, buildings=tuple(buildings))

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
