"""The runoff simulation on a toy street: water balance, treatments, updates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely

from sims.runoff import CN_BY_CLASS, RunoffSimulation, scs_runoff_mm
from sims.scene import Change
from tests.sims.toy import toy_city, toy_scene
from world.city import Treatment
from world.raster import LandCover


def test_the_water_balance_adds_up() -> None:
    scene = toy_scene()
    run = RunoffSimulation().run(scene)
    land = scene.grids.landcover != LandCover.WATER
    runoff_mm = run.result.field.values
    assert np.isnan(runoff_mm[~land]).all() and np.isfinite(runoff_mm[land]).all()
    rain_m3 = land.sum() * 30.0 * 4.0 / 1000.0
    runoff_m3 = run.result.kpis["runoff_m3"].value
    assert runoff_m3 == pytest.approx(np.nansum(runoff_mm) * 4.0 / 1000.0)
    assert run.result.kpis["rain_retained_pct"].value == pytest.approx(100.0 * (1.0 - runoff_m3 / rain_m3))
    # A roof cell sheds what TR-55 gives for CN 98, a lawn cell what it gives for CN 61 (soil B).
    roof = scene.grids.cell_of(-20.0, 20.0)
    lawn = scene.grids.cell_of(-50.0, -50.0)
    assert runoff_mm[roof] == pytest.approx(float(scs_runoff_mm(30.0, 98.0)))
    assert runoff_mm[lawn] == pytest.approx(float(scs_runoff_mm(30.0, CN_BY_CLASS["grass"]["B"])))


def test_treatments_cut_runoff_and_update_equals_full() -> None:
    sim = RunoffSimulation()
    city = toy_city()
    before = sim.run(toy_scene(city))
    treated = dataclasses.replace(city, treatments=[
        Treatment("roof", shapely.box(-40, 10, 0, 30), "green_roof"),
        Treatment("paving", shapely.box(-15, -40, 5, -12), "permeable_paving"),
        Treatment("garden", shapely.box(60, 60, 80, 80), "rain_garden", storage_mm=150.0)])
    scene = toy_scene(treated)
    updated = sim.update(before, scene, Change((-40.0, -40.0, 80.0, 80.0), frozenset({"treatment"})))
    full = sim.run(scene)
    np.testing.assert_array_equal(updated.result.field.values, full.result.field.values)
    assert updated.result.kpis["runoff_m3"].value == full.result.kpis["runoff_m3"].value
    assert full.result.kpis["runoff_m3"].value < before.result.kpis["runoff_m3"].value
    values = full.result.field.values
    assert values[scene.grids.cell_of(-20.0, 20.0)] == pytest.approx(float(scs_runoff_mm(30.0, 86.0)))
    assert values[scene.grids.cell_of(70.0, 70.0)] == 0.0  # 150 mm of storage holds a 30 mm storm


def test_traffic_changes_leave_runoff_alone() -> None:
    sim = RunoffSimulation()
    scene = toy_scene()
    before = sim.run(scene)
    assert sim.update(before, scene, Change(None, frozenset({"traffic"}), roads=frozenset({"street"}))) \
        .result.kpis["runoff_m3"].value == before.result.kpis["runoff_m3"].value
