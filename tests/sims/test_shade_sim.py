"""The shade simulation: KPIs on a toy street, and updates equal to full runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely

from sims.scene import Change
from sims.shade import SEAT_SHADE_MIN, ShadeSimulation
from tests.sims.toy import toy_city, toy_scene
from world.city import Building, Furniture, Tree
from world.raster import LandCover


def test_buildings_shade_the_street_side_away_from_the_sun() -> None:
    scene = toy_scene()
    run = ShadeSimulation().run(scene)
    fraction = run.result.field.values
    # Sun in the south-west at 15:00: the cells just north-east of the 24 m office are shaded.
    row, col = scene.grids.cell_of(52.0, 42.0)
    assert fraction[row, col] == 1.0
    kpi = run.result.kpis["shade_public_pct"]
    public = np.isin(scene.grids.landcover, (LandCover.SIDEWALK, LandCover.PLAZA, LandCover.CYCLEWAY))
    assert kpi.value == pytest.approx(100.0 * fraction[public].mean())
    assert run.result.kpis["shade_public_m2"].value == pytest.approx(fraction[public].sum() * 4.0)


def test_a_tree_on_the_sidewalk_adds_shade_and_seats_count_in_its_shadow() -> None:
    sim = ShadeSimulation()
    city = toy_city()
    before = sim.run(toy_scene(city))
    planted = dataclasses.replace(city, trees=[*city.trees, Tree("new", shapely.Point(-30, -7), 10.0, 8.0,
                                                               attributes={"transmissivity": 0.2})],
                                  furniture=[Furniture("bench", shapely.Point(-28, -9), "bench", 3)])
    after = sim.run(toy_scene(planted))
    assert after.result.kpis["shade_public_m2"].value > before.result.kpis["shade_public_m2"].value
    scene = toy_scene(planted)
    row, col = scene.grids.cell_of(-28.0, -9.0)
    assert after.result.field.values[row, col] >= SEAT_SHADE_MIN
    assert after.result.kpis["seats_in_shade"].value == 3.0


@pytest.mark.parametrize("edit", ["tree", "building", "remove"])
def test_update_equals_a_full_run(edit: str) -> None:
    sim = ShadeSimulation()
    city = toy_city()
    before_scene = toy_scene(city)
    before = sim.run(before_scene)
    if edit == "tree":
        changed = dataclasses.replace(city, trees=[*city.trees, Tree("n", shapely.Point(0, -30), 15.0, 12.0)])
        bbox, kinds = (-6.0, -36.0, 6.0, -24.0), frozenset({"surface"})
    elif edit == "building":
        changed = dataclasses.replace(city, buildings=[*city.buildings,
                                                       Building("new", shapely.box(-60, -60, -40, -40), 30.0)])
        bbox, kinds = (-60.0, -60.0, -40.0, -40.0), frozenset({"buildings", "surface", "landcover"})
    else:
        changed = dataclasses.replace(city, buildings=city.buildings[1:])
        bbox, kinds = (-40.0, 10.0, 0.0, 30.0), frozenset({"buildings", "surface", "landcover"})
    after_scene = toy_scene(changed)
    updated = sim.update(before, after_scene, Change(bbox, kinds))
    full = sim.run(after_scene)
    np.testing.assert_array_equal(updated.result.field.values, full.result.field.values)
    assert {k: v.value for k, v in updated.result.kpis.items()} == {k: v.value for k, v in full.result.kpis.items()}
