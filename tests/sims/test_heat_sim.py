"""The heat simulation: field and KPIs on a toy street and on Helsinki, the effect of a
tree, and incremental updates equal to full runs."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sims.heat import (
    HEAT_PUBLIC_SPACE,
    STRONG_HEAT_C,
    UTCI_STRESS_BANDS,
    HeatParams,
    HeatSimulation,
    utci_c,
    utci_for_weather_c,
)
from sims.scene import Change, Conditions, Run, Scene, make_scene
from tests.sims.toy import HELSINKI_AFTERNOON, toy_city, toy_scene
from world.city import Area, Building, City, Tree
from world.raster import LandCover

#: utci_for_weather_c regroups the same polynomial; the sums differ only by rounding.
POLY_TOL_C = 1e-9

TREE_BOX = (-6.0, -36.0, 6.0, -24.0)


def _kpis(run: Run) -> dict[str, float]:
    return {name: kpi.value for name, kpi in run.result.kpis.items()}


def _assert_same(a: Run, b: Run) -> None:
    np.testing.assert_array_equal(a.result.field.values, b.result.field.values)
    assert _kpis(a) == _kpis(b)


def _with_tree(city: City, x: float, y: float, height_m: float = 15.0, crown_m: float = 12.0) -> City:
    return dataclasses.replace(city, trees=[*city.trees, Tree("new", shapely.Point(x, y), height_m, crown_m)])


def test_field_and_kpis_on_the_toy_street() -> None:
    scene = toy_scene()
    run = HeatSimulation().run(scene)
    field = run.result.field
    utci = field.values
    cover = scene.grids.landcover
    assert field.name == "heat" and field.unit == "°C" and utci.shape == scene.grids.shape
    assert np.isnan(utci[cover == LandCover.BUILDING]).all()
    assert np.isfinite(utci[cover != LandCover.BUILDING]).all()
    public = np.isin(cover, HEAT_PUBLIC_SPACE)
    kpis = run.result.kpis
    assert set(kpis) == {"utci_mean_c", "strong_heat_pct"}
    assert kpis["utci_mean_c"].value == pytest.approx(float(utci[public].mean()), abs=1e-9)
    assert kpis["strong_heat_pct"].value == pytest.approx(100.0 * float((utci[public] >= STRONG_HEAT_C).mean()))
    assert all(k.better == "lower" for k in kpis.values())
    assert (kpis["utci_mean_c"].unit, kpis["strong_heat_pct"].unit) == ("°C", "%")
    # Air 30 °C, clear sky: every public cell is in moderate to very strong heat stress.
    bands = {b.name: b for b in UTCI_STRESS_BANDS}
    assert (utci[public] >= bands["moderate heat stress"].lower_c).all()
    assert (utci[public] < bands["extreme heat stress"].lower_c).all()
    assert field.image().shape == (*utci.shape, 4)


def test_sun_and_shade_on_the_street() -> None:
    """Sun from the south-west at 15:00: the sidewalk just north-east of the 24 m office
    lies in its shadow and is cooler than the open sidewalk to the west."""
    scene = toy_scene()
    run = HeatSimulation().run(scene)
    shaded = scene.grids.cell_of(52.0, 42.0)
    open_cell = scene.grids.cell_of(-90.0, 7.0)
    assert run.state.shade[shaded] == 1.0 and run.state.shade[open_cell] == 0.0
    assert run.result.field.values[open_cell] - run.result.field.values[shaded] > 4.0


def test_a_tree_on_the_square_cools_it() -> None:
    sim = HeatSimulation()
    city = toy_city()
    before = sim.run(toy_scene(city))
    after_scene = toy_scene(_with_tree(city, 0.0, -30.0))
    after = sim.run(after_scene)
    assert _kpis(after)["utci_mean_c"] < _kpis(before)["utci_mean_c"]
    under = after_scene.grids.cell_of(0.0, -30.0)
    assert after.result.field.values[under] < before.result.field.values[under] - 3.0


def test_a_mild_night_is_free_of_heat_stress() -> None:
    """01:30, sun below the horizon, air 18 °C: the cold open sky pulls Tmrt and UTCI below
    the air temperature, into the no-thermal-stress band (9–26 °C)."""
    night = dataclasses.replace(HELSINKI_AFTERNOON, when=datetime(2026, 6, 21, 1, 30,
                                                                  tzinfo=ZoneInfo("Europe/Helsinki")),
                                air_temperature_c=18.0)
    scene = toy_scene(conditions=night)
    run = HeatSimulation().run(scene)
    assert (run.state.shade == 1.0).all()
    assert run.result.kpis["strong_heat_pct"].value == 0.0
    utci = run.result.field.values[np.isin(scene.grids.landcover, HEAT_PUBLIC_SPACE)]
    assert (utci > 9.0).all() and (utci < 18.0).all()


@settings(max_examples=30, deadline=None)
@given(st.floats(-40.0, 45.0), st.floats(-30.0, 70.0), st.floats(0.0, 20.0), st.floats(0.0, 100.0))
def test_one_weather_polynomial_equals_the_full_one(ta_c: float, d_tmrt: float, va_ms: float, rh_pct: float) -> None:
    tmrt = np.array([ta_c + d_tmrt, ta_c, ta_c - 0.5 * d_tmrt])
    fast = utci_for_weather_c(ta_c, tmrt, va_ms, rh_pct)
    np.testing.assert_allclose(fast, utci_c(ta_c, tmrt, va_ms, rh_pct), rtol=0.0, atol=POLY_TOL_C)


def _edit(kind: str, city: City) -> tuple[City, tuple[float, float, float, float], frozenset[str]]:
    if kind == "tree":
        return _with_tree(city, 0.0, -30.0), TREE_BOX, frozenset({"surface"})
    if kind == "building":
        return (dataclasses.replace(city, buildings=[*city.buildings, Building("new", shapely.box(-60, -60, -40, -40),
                                                                               30.0)]),
                (-60.0, -60.0, -40.0, -40.0), frozenset({"buildings", "surface", "landcover"}))
    if kind == "remove":
        return (dataclasses.replace(city, buildings=city.buildings[1:]), (-40.0, 10.0, 0.0, 30.0),
                frozenset({"buildings", "surface", "landcover"}))
    # A plaza depaved into a park.
    park = Area("park", shapely.box(-15, -40, 5, -12), "park")
    return (dataclasses.replace(city, areas=[a for a in city.areas if a.id != "square"] + [park]),
            (-15.0, -40.0, 5.0, -12.0), frozenset({"landcover"}))


@pytest.mark.parametrize("kind", ["tree", "building", "remove", "depave"])
def test_update_equals_a_full_run(kind: str) -> None:
    sim = HeatSimulation()
    city = toy_city()
    before = sim.run(toy_scene(city))
    changed, bbox, kinds = _edit(kind, city)
    after_scene = toy_scene(changed)
    updated = sim.update(before, after_scene, Change(bbox, kinds))
    _assert_same(updated, HeatSimulation().run(after_scene))
    assert _kpis(updated) != _kpis(before)


def test_changes_of_other_kinds_keep_the_run() -> None:
    sim = HeatSimulation()
    scene = toy_scene()
    before = sim.run(scene)
    for kinds in ({"traffic"}, {"seats"}, {"treatment"}, {"barriers"}):
        assert sim.update(before, scene, Change((-10.0, -10.0, 10.0, 10.0), frozenset(kinds))) is before


def test_an_unknown_box_or_new_weather_runs_in_full() -> None:
    sim = HeatSimulation()
    city = toy_city()
    before = sim.run(toy_scene(city))
    changed, _, kinds = _edit("tree", city)
    after_scene = toy_scene(changed)
    _assert_same(sim.update(before, after_scene, Change(None, kinds)), sim.run(after_scene))
    hotter = toy_scene(changed, dataclasses.replace(HELSINKI_AFTERNOON, air_temperature_c=33.0))
    _assert_same(sim.update(before, hotter, Change(TREE_BOX, kinds)), HeatSimulation().run(hotter))


def test_cached_sky_view_factors_follow_the_geometry() -> None:
    """The SVF kept between full runs is reused only for the same surface."""
    sim = HeatSimulation()
    city = toy_city()
    plain, planted = toy_scene(city), toy_scene(_with_tree(city, 0.0, -30.0))
    first = sim.run(plain)
    sim.run(planted)
    _assert_same(sim.run(plain), first)
    _assert_same(sim.run(planted), HeatSimulation().run(planted))


@settings(max_examples=12, deadline=None)
@given(x=st.floats(-95.0, 95.0), y=st.floats(-95.0, 95.0), height_m=st.floats(3.0, 25.0),
       crown_m=st.floats(2.0, 14.0))
def test_any_tree_updates_exactly(x: float, y: float, height_m: float, crown_m: float) -> None:
    sim = HeatSimulation(HeatParams(svf_radius_m=40.0))
    city = toy_city()
    before = sim.run(toy_scene(city))
    after_scene = toy_scene(_with_tree(city, x, y, height_m, crown_m))
    r = crown_m / 2.0
    updated = sim.update(before, after_scene, Change((x - r, y - r, x + r, y + r), frozenset({"surface"})))
    _assert_same(updated, HeatSimulation(HeatParams(svf_radius_m=40.0)).run(after_scene))


@pytest.fixture(scope="module")
def helsinki_scene(helsinki_city: City) -> Scene:
    conditions = Conditions(datetime(2026, 6, 21, 15, tzinfo=ZoneInfo("Europe/Helsinki")), 60.1716, 24.9443)
    return make_scene(helsinki_city, conditions, (-500.0, -500.0, 500.0, 500.0))


def test_helsinki_afternoon(helsinki_scene: Scene) -> None:
    """1 km² of central Helsinki on a 30 °C midsummer afternoon: most public space is in
    strong heat stress, and planting a tree on a sidewalk updates exactly."""
    sim = HeatSimulation()
    run = sim.run(helsinki_scene)
    kpis = _kpis(run)
    assert 30.0 < kpis["utci_mean_c"] < 40.0
    assert 40.0 < kpis["strong_heat_pct"] < 100.0
    grids = helsinki_scene.grids
    rows, cols = np.nonzero(grids.landcover == LandCover.SIDEWALK)
    x, y = grids.cell_centre(int(rows[len(rows) // 2]), int(cols[len(cols) // 2]))
    city = _with_tree(helsinki_scene.city, x, y, 12.0, 8.0)
    after_scene = make_scene(city, helsinki_scene.conditions, (-500.0, -500.0, 500.0, 500.0))
    updated = sim.update(run, after_scene, Change((x - 4.0, y - 4.0, x + 4.0, y + 4.0), frozenset({"surface"})))
    _assert_same(updated, HeatSimulation().run(after_scene))
    assert _kpis(updated)["utci_mean_c"] < kpis["utci_mean_c"]
