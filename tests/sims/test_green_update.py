"""Incremental green access equals a full run, bit for bit.

Every rule's state is exact under updates: tree and canopy counts are integers, and the
walk to the nearest park is the minimum of Dijkstra searches, which equals one search
from all parks exactly (see ``sims._walk_route.node_distances``). So the tests compare
KPIs, fields and the kept counts and distances with ``==``, no tolerance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.green import GreenSimulation
from sims.scene import Change, Run, Scene, make_scene
from tests.sims.test_green import HELSINKI_AFTERNOON, district, flats, scene_of
from world.city import Area, Building, City, Tree
from world.raster import homes_estimate, rasterize_window, receivers

Box = tuple[float, float, float, float]


def changed(scene: Scene, city: City, bbox: Box | None, kinds: set[str]) -> tuple[Scene, Change]:
    """The next scene, as the engine derives it: only the window of the change re-rasterised."""
    grids = rasterize_window(city, scene.grids, bbox if bbox is not None else scene.grids.bounds)
    homes = receivers(city, grids) if "buildings" in kinds else scene.receivers
    return Scene(city, grids, scene.conditions, scene.segments, homes), Change(bbox, frozenset(kinds))


def union(*boxes: Box) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def crown_box(tree: Tree) -> Box:
    r = tree.crown_diameter_m / 2.0
    return (tree.geometry.x - r, tree.geometry.y - r, tree.geometry.x + r, tree.geometry.y + r)


def assert_same(update: Run, full: Run) -> None:
    assert update.result.kpis == full.result.kpis
    assert update.result.field.values.tobytes() == full.result.field.values.tobytes()
    a, b = update.state, full.state
    for name in ("tree_counts", "canopy_counts", "in_park"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.access.node_m, b.access.node_m)
    assert a.access.qualifies == b.access.qualifies


def plant(scene: Scene, x: float, y: float, radius_m: float, name: str) -> tuple[Scene, Change]:
    tree = Tree(name, shapely.Point(x, y), 10.0, 2.0 * radius_m, attributes={"placed": name})
    return changed(scene, replace(scene.city, trees=[*scene.city.trees, tree]), crown_box(tree), {"surface"})


def add_park(scene: Scene, box: Box, name: str, trees_per_side: int) -> tuple[Scene, Change]:
    """A placed park: its area and, like the catalog's park, a few trees inside it."""
    polygon = shapely.box(*box)
    xs = np.linspace(box[0], box[2], trees_per_side + 2)[1:-1]
    ys = np.linspace(box[1], box[3], trees_per_side + 2)[1:-1]
    trees = [Tree(f"{name}:{i}", shapely.Point(x, y), 10.0, 8.0) for i, (x, y) in
             enumerate((x, y) for x in xs for y in ys)]
    city = replace(scene.city, areas=[*scene.city.areas, Area(name, polygon, "park")],
                   trees=[*scene.city.trees, *trees])
    bbox = union(box, *(crown_box(t) for t in trees)) if trees else box
    return changed(scene, city, bbox, {"landcover", "surface"} if trees else {"landcover"})


def remove(scene: Scene, name: str) -> tuple[Scene, Change]:
    """Take away every tree and area a placement added (ids starting with ``name``)."""
    gone_trees = [t for t in scene.city.trees if t.id.startswith(name)]
    gone_areas = [a for a in scene.city.areas if a.id.startswith(name)]
    city = replace(scene.city, trees=[t for t in scene.city.trees if t not in gone_trees],
                   areas=[a for a in scene.city.areas if a not in gone_areas])
    boxes = [crown_box(t) for t in gone_trees] + [tuple(shapely.bounds(a.geometry)) for a in gone_areas]
    kinds = ({"surface"} if gone_trees else set()) | ({"landcover"} if gone_areas else set())
    return changed(scene, city, union(*boxes), kinds)


coordinate = st.floats(0.0, 300.0, allow_nan=False).map(lambda v: round(v, 2))
steps = st.lists(st.one_of(
    st.tuples(st.just("tree"), coordinate, coordinate, st.sampled_from([1.5, 4.0, 6.0])),
    st.tuples(st.just("park"), coordinate, coordinate, st.sampled_from([30.0, 60.0, 90.0]),
              st.integers(0, 3)),
    st.tuples(st.just("undo")),
), min_size=1, max_size=5)


@settings(max_examples=25, deadline=None)
@given(steps)
def test_any_sequence_of_trees_parks_and_undos_updates_like_a_full_run(plan: list[tuple]) -> None:
    sim = GreenSimulation()
    scene = scene_of(district())
    run = sim.run(scene)
    placed: list[str] = []
    for k, step in enumerate(plan):
        if step[0] == "tree":
            placed.append(f"placed:{k}")
            scene, change = plant(scene, step[1], step[2], step[3], placed[-1])
        elif step[0] == "park":
            placed.append(f"placed:{k}")
            x, y, side, per_side = step[1], step[2], step[3], step[4]
            scene, change = add_park(scene, (x, y, x + side, y + side), placed[-1], per_side)
        elif placed:
            scene, change = remove(scene, placed.pop())
        else:
            continue
        network = run.state.network
        run = sim.update(run, scene, change)
        assert_same(run, sim.run(scene))
        assert run.state.network is network   # the walking network is never rebuilt for these


def test_a_park_next_to_the_pocket_park_makes_it_count() -> None:
    """The pocket park (0.16 ha) and a new 0.36 ha park beside it qualify together: the
    update searches from both."""
    sim = GreenSimulation()
    scene = scene_of(district())
    before = sim.run(scene)
    assert "pocket" not in before.state.access.qualifies
    after_scene, change = add_park(scene, (95.0, 35.0, 155.0, 95.0), "placed:next", 0)
    after = sim.update(before, after_scene, change)
    assert after.state.access.qualifies == {"park", "pocket", "placed:next"}
    assert_same(after, sim.run(after_scene))


def test_a_tree_near_a_home_changes_only_its_counts() -> None:
    sim = GreenSimulation()
    scene = scene_of(district())
    before = sim.run(scene)
    after_scene, change = plant(scene, 187.0, 226.0, 4.0, "placed:t")   # by home "c" only
    after = sim.update(before, after_scene, change)
    delta = after.state.tree_counts - before.state.tree_counts
    assert delta.tolist() == [0, 0, 1]
    assert (after.state.canopy_counts >= before.state.canopy_counts).all()
    assert after.state.access is before.state.access
    assert_same(after, sim.run(after_scene))


def test_traffic_changes_keep_the_network_and_everything_else() -> None:
    sim = GreenSimulation()
    scene = scene_of(district())
    before = sim.run(scene)
    calmer = replace(scene.city, roads=[replace(r, maxspeed_kmh=20.0) for r in scene.city.roads])
    after_scene = Scene(calmer, scene.grids, scene.conditions, scene.segments, scene.receivers)
    change = Change(None, frozenset({"traffic"}), roads=frozenset(r.id for r in calmer.roads))
    after = sim.update(before, after_scene, change)
    assert after.state.network is before.state.network
    assert_same(after, sim.run(after_scene))


def test_buildings_added_or_removed_rerun_on_the_kept_network() -> None:
    sim = GreenSimulation()
    scene = scene_of(district())
    before = sim.run(scene)
    new = flats("new", 210.0, 110.0)
    grown, change = changed(scene, replace(scene.city, buildings=[*scene.city.buildings, new]),
                            tuple(shapely.bounds(new.footprint)), {"buildings", "surface", "landcover"})
    after = sim.update(before, grown, change)
    assert after.state.network is before.state.network
    assert after.state.place.homes.homes.sum() == before.state.place.homes.homes.sum() + homes_estimate(new)
    assert_same(after, sim.run(grown))
    back, change = changed(grown, scene.city, tuple(shapely.bounds(new.footprint)), {"buildings"})
    assert_same(sim.update(after, back, change), before)


def test_new_roads_rebuild_the_network() -> None:
    sim = GreenSimulation()
    scene = scene_of(district())
    before = sim.run(scene)
    shortcut = replace(scene.city.roads[0], id="shortcut", geometry=shapely.LineString([(0, 0), (200, 200)]),
                       road_class="footway", surface="footway")
    city = replace(scene.city, roads=[*scene.city.roads, shortcut])
    after_scene, change = changed(scene, city, (0.0, 0.0, 200.0, 200.0), {"landcover"})
    after = sim.update(before, after_scene, change)
    assert after.state.network is not before.state.network
    assert_same(after, sim.run(after_scene))
    assert after.result.kpis["homes_300_park_pct"].value >= before.result.kpis["homes_300_park_pct"].value


def test_helsinki_tree_and_park_updates_equal_full_runs(helsinki_city: City) -> None:
    sim = GreenSimulation()
    scene = make_scene(helsinki_city, HELSINKI_AFTERNOON, (-500.0, -500.0, 500.0, 500.0), 2.0)
    run = sim.run(scene)
    homes = run.state.place.homes
    x, y = homes.xy_m[0]
    for k, (dx, dy) in enumerate(((3.0, 3.0), (-20.0, 8.0), (120.0, -60.0))):
        scene, change = plant(scene, float(x + dx), float(y + dy), 4.0, f"placed:t{k}")
        run = sim.update(run, scene, change)
        assert_same(run, sim.run(scene))
    scene, change = add_park(scene, (float(x) + 40.0, float(y) - 120.0, float(x) + 120.0, float(y) - 40.0),
                             "placed:park", 3)
    run = sim.update(run, scene, change)
    assert_same(run, sim.run(scene))
    scene, change = remove(scene, "placed:park")
    run = sim.update(run, scene, change)
    assert_same(run, sim.run(scene))


def test_a_different_grid_runs_in_full() -> None:
    sim = GreenSimulation()
    city = district()
    before = sim.run(scene_of(city))
    other = make_scene(city, HELSINKI_AFTERNOON, (0.0, 0.0, 200.0, 300.0), 2.0)
    after = sim.update(before, other, Change(None, frozenset({"landcover"})))
    assert after.state.network is before.state.network
    assert_same(after, sim.run(other))


def assert_same_place(update: Run, full: Run) -> None:
    """The kept and the new homes: the same buildings, snaps and discs as a full run's."""
    a, b = update.state.place, full.state.place
    assert a.ids == b.ids
    assert np.array_equal(a.homes.building, b.homes.building) and np.array_equal(a.homes.homes, b.homes.homes)
    for name in ("edge", "xy", "along_m", "gap_m"):
        assert np.array_equal(getattr(a.home_snap, name), getattr(b.home_snap, name), equal_nan=True), name
    for name in ("row", "j0", "j1", "cells"):
        assert np.array_equal(getattr(a.discs, name), getattr(b.discs, name)), name


def building_steps(scene: Scene, ids: tuple[str, ...], new: Building) -> list[tuple[Scene, Change]]:
    """Add ``new``, remove the first building of ``ids``, replace the second (same id,
    another footprint) and give the last more floors: each change as the engine derives it."""
    out = []
    city = scene.city
    by_id = {b.id: b for b in city.buildings}
    gone, moved, taller = by_id[ids[0]], by_id[ids[1]], by_id[ids[-1]]
    shifted = replace(moved, footprint=shapely.affinity.translate(shapely.affinity.scale(moved.footprint, 1.2, 0.9),
                                                                   3.0, -2.0))
    grown = replace(taller, levels=(taller.levels or 1) + 2, height_m=taller.height_m + 6.0)
    plans = [
        ([*city.buildings, new], [new]),
        ([b for b in city.buildings if b.id != gone.id] + [new], [gone]),
        ([shifted if b.id == moved.id else b for b in city.buildings if b.id != gone.id] + [new], [moved, shifted]),
        ([grown if b.id == taller.id else shifted if b.id == moved.id else b
          for b in city.buildings if b.id != gone.id] + [new], [taller]),
    ]
    for buildings, touched in plans:
        box = union(*(tuple(shapely.bounds(b.footprint)) for b in touched))
        scene, change = changed(scene, replace(scene.city, buildings=buildings), box,
                                {"buildings", "surface", "landcover"})
        out.append((scene, change))
    return out


def test_buildings_added_removed_and_replaced_update_like_a_full_run() -> None:
    sim = GreenSimulation()
    scene = scene_of(district(trees=[Tree(f"t{i}", shapely.Point(5.0 + 10.0 * i, 45.0), 10.0, 6.0)
                                     for i in range(5)] + [Tree("u", shapely.Point(225.0, 105.0), 10.0, 12.0)]))
    run = sim.run(scene)
    for after_scene, change in building_steps(scene, run.state.place.ids, flats("new", 210.0, 110.0)):
        network, access = run.state.network, run.state.access
        run = sim.update(run, after_scene, change)
        full = sim.run(after_scene)
        assert_same(run, full)
        assert_same_place(run, full)
        assert run.state.network is network and run.state.access is access   # nothing searched again


def test_helsinki_building_updates_equal_full_runs(helsinki_city: City) -> None:
    sim = GreenSimulation()
    scene = make_scene(helsinki_city, HELSINKI_AFTERNOON, (-500.0, -500.0, 500.0, 500.0), 2.0)
    run = sim.run(scene)
    x, y = run.state.place.homes.xy_m[0]
    steps = building_steps(scene, run.state.place.ids, flats("placed:new", float(x) + 30.0, float(y) + 30.0, 20.0, 6))
    for after_scene, change in steps:
        access, homes = run.state.access, run.state.place.homes
        run = sim.update(run, after_scene, change)
        full = sim.run(after_scene)
        assert_same(run, full)
        assert_same_place(run, full)
        assert run.state.access is access
        assert not run.state.place.homes.same_as(homes)   # every step changes the homes
    # Back to the start in one step: only removals and restorations.
    back, change = changed(steps[-1][0], scene.city, None, {"buildings", "surface", "landcover"})
    run = sim.update(run, back, change)
    assert_same(run, sim.run(scene))
    assert_same_place(run, sim.run(scene))
