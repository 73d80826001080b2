"""NoiseSimulation end to end: a line source against the CNOSSOS-EU integral, the field and
KPIs, and incremental updates equal to full runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sims._cnossos_emission import road_emission_db
from sims._noise_sources import SOURCE_HEIGHT_M
from sims.noise import A_WEIGHTING_DB, NOISE_RAMP, NoiseParams, NoiseSimulation, lden_db, path_attenuation_db
from sims.scene import Change, Conditions, Scene, make_scene
from world.city import Area, Barrier, Building, City, Road, Tree
from world.frame import LocalFrame
from world.raster import TrafficOverride, rasterize_window, receivers, road_segments

CONDITIONS = Conditions(datetime(2026, 6, 21, 15, tzinfo=ZoneInfo("Europe/Helsinki")), 60.1716, 24.9443)
#: An update recomputes the matrix entries a full run computes, the same way; only the
#: float64 sums of energies go in another order (about 1e-14 dB). The bound leaves room
#: for one float32 ulp in an entry (1e-7 relative, 4e-7 dB).
UPDATE_TOL_DB = 1e-5
#: Point sources and clusters against the exact line integral (ratio 0.7: < 0.1 dB each).
LINE_TOL_DB = 0.15
AREA = (-150.0, -100.0, 150.0, 100.0)
SIM = NoiseSimulation()


def _town() -> City:
    """A street grid: a main road, a side street, a lane; flats, an office, a park."""
    roads = [
        Road("main", shapely.LineString([(-150, 0), (150, 0)]), "primary", "carriageway", 12.0),
        Road("side", shapely.LineString([(40, -100), (40, -6), (40, 100)]), "tertiary", "carriageway", 8.0),
        Road("lane", shapely.LineString([(-150, 60), (-20, 60)]), "residential", "carriageway", 6.0),
        Road("path", shapely.LineString([(-150, 8), (150, 8)]), "footway", "footway", 3.0),
    ]
    buildings = [
        Building("flats", shapely.box(-60, 12, -20, 40), 18.0, building_type="apartments", levels=6),
        Building("house", shapely.box(60, 20, 75, 32), 7.0, building_type="house"),
        Building("office", shapely.box(-60, -45, -10, -15), 24.0, building_type="office"),
        Building("flats2", shapely.box(55, -60, 90, -20), 15.0, building_type="apartments", levels=5),
    ]
    areas = [Area("park", shapely.box(-140, -90, -80, -20), "park")]
    trees = [Tree("t1", shapely.Point(0, -30), 10.0, 6.0)]
    return City("town", LocalFrame("EPSG:3067", 385946.0, 6672301.0), buildings, roads, areas, trees, [], [])


@pytest.fixture(scope="module")
def town() -> tuple[Scene, object]:
    scene = make_scene(_town(), CONDITIONS, AREA, 2.0)
    return scene, SIM.run(scene)


def _same(a, b, tol: float = UPDATE_TOL_DB) -> None:
    va, vb = a.result.field.values, b.result.field.values
    np.testing.assert_array_equal(np.isnan(va), np.isnan(vb))
    np.testing.assert_allclose(va[~np.isnan(va)], vb[~np.isnan(vb)], atol=tol)
    for name, kpi in b.result.kpis.items():
        assert a.result.kpis[name].value == pytest.approx(kpi.value, abs=tol)


def _with_city(scene: Scene, city: City, bbox: tuple[float, float, float, float]) -> Scene:
    grids = rasterize_window(city, scene.grids, bbox)
    return Scene(city=city, grids=grids, conditions=scene.conditions, segments=road_segments(city),
                 receivers=receivers(city, grids))


# -- a line source against the integral -------------------------------------------------


def test_straight_road_matches_the_line_integral() -> None:
    """One 300 m road over hard open ground: the map levels equal the CNOSSOS-EU integral
    of its sound power per metre over the road (A_div, A_atm, A_ground per point, each
    period with its p), to within the point-source discretisation."""
    road = Road("r", shapely.LineString([(-150, 0), (150, 0)]), "primary", "carriageway", 10.0)
    city = City("line", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [road], [], [], [], [])
    scene = make_scene(city, CONDITIONS, AREA, 2.0)
    params = NoiseParams()
    field = SIM.run(scene).result.field
    seg = scene.segments
    per_metre = 10.0 ** (road_emission_db(seg.light_vph[0], seg.heavy_vph[0], seg.speed_kmh[0], 15.0,
                                          params.medium_share) / 10.0)  # (3 periods, 8 bands)
    x = np.linspace(-150.0, 150.0, 30001)[:-1] + 0.005
    for row, y in ((9, 5.0), (7, 25.0), (1, 85.0)):
        col = 15  # the cell centre x = 5 m
        dp = np.hypot(x - 5.0, y)
        a = path_attenuation_db(dp, SOURCE_HEIGHT_M, 4.0, 0.0)
        periods = []
        for k, p in enumerate(params.favourable):
            energy = ((1.0 - p) * 10.0 ** (-a.a_h / 10.0) + p * 10.0 ** (-a.a_f / 10.0)) * per_metre[k] * 0.01
            periods.append(10.0 * np.log10(np.sum(energy * 10.0 ** (A_WEIGHTING_DB / 10.0))))
        assert field.values[row, col] == pytest.approx(lden_db(*periods), abs=LINE_TOL_DB)


def test_doubling_every_flow_adds_three_decibels(town) -> None:
    scene, run = town
    double = {rid: TrafficOverride(*(2.0 * f for f in flow)) for rid, flow in
              zip(scene.segments.ids, scene.segments.flow_vph, strict=True)}
    louder = SIM.run(replace(scene, segments=road_segments(scene.city, double))).result
    va, vb = run.result.field.values, louder.field.values
    open_cells = np.isfinite(va)
    np.testing.assert_allclose((vb - va)[open_cells], 10.0 * np.log10(2.0), atol=UPDATE_TOL_DB)
    diff = louder.kpis["facade_lden_mean_db"].value - run.result.kpis["facade_lden_mean_db"].value
    assert diff == pytest.approx(10.0 * np.log10(2.0), abs=UPDATE_TOL_DB)


# -- field and KPIs ----------------------------------------------------------------------


def test_field_grid_and_nan_in_buildings(town) -> None:
    scene, run = town
    field = run.result.field
    assert field.name == "noise" and field.unit == "dB(A)" and field.ramp is NOISE_RAMP
    assert field.values.shape == (20, 30) and field.cell_m == 10.0 and field.origin == scene.grids.origin
    # The cell centred at (-45, 25) is inside the flats; (−45, 55) is in the open.
    assert np.isnan(field.values[7, 10]) and np.isfinite(field.values[4, 10])
    assert np.isfinite(field.values).sum() > 0.8 * field.values.size
    assert 40.0 < np.nanmin(field.values) < np.nanmax(field.values) < 90.0


def test_levels_fall_with_distance_and_behind_buildings(town) -> None:
    _, run = town
    v = run.result.field.values
    assert v[9, 10] > v[5, 10]  # (−45, 5) by the main road, louder than (−45, 45) behind the flats
    assert v[9, 2] > v[0, 2]  # the main road is louder near than 90 m away


def test_kpis(town) -> None:
    scene, run = town
    kpis = run.result.kpis
    assert set(kpis) == {"homes_above_55db_pct", "facade_lden_mean_db"}
    assert kpis["homes_above_55db_pct"].better == "lower" and kpis["homes_above_55db_pct"].unit == "%"
    assert 0.0 <= kpis["homes_above_55db_pct"].value <= 100.0
    assert kpis["facade_lden_mean_db"].better == "lower"
    everyone = NoiseSimulation(NoiseParams(threshold_db=0.0)).run(scene).result.kpis["homes_above_55db_pct"]
    nobody = NoiseSimulation(NoiseParams(threshold_db=200.0)).run(scene).result.kpis["homes_above_55db_pct"]
    assert everyone.value == 100.0 and nobody.value == 0.0


def test_no_homes_reports_zero() -> None:
    city = _town()
    city.buildings = [b for b in city.buildings if b.building_type == "office"]
    kpi = SIM.run(make_scene(city, CONDITIONS, AREA, 2.0)).result.kpis["homes_above_55db_pct"]
    assert kpi.value == 0.0 and "no homes" in kpi.label


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="max_distance_m"):
        NoiseParams(max_distance_m=0.0)
    with pytest.raises(ValueError, match="favourable"):
        NoiseParams(favourable=(0.5, 1.5, 1.0))


# -- incremental updates equal full runs ---------------------------------------------------


def test_traffic_update(town) -> None:
    scene, run = town
    segments = road_segments(scene.city, {"side": TrafficOverride(day_vph=900.0, heavy_share=0.3, speed_kmh=40.0)})
    after = replace(scene, segments=segments)
    change = Change(bbox=(35.0, -100.0, 45.0, 100.0), kinds=frozenset({"traffic"}), roads=frozenset({"side"}))
    updated = SIM.update(run, after, change)
    _same(updated, SIM.run(after))
    assert updated.result.kpis["facade_lden_mean_db"].value != run.result.kpis["facade_lden_mean_db"].value


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["main", "side", "lane"]), st.floats(0.0, 3.0)), min_size=1, max_size=4))
def test_chained_traffic_updates(town, steps: list[tuple[str, float]]) -> None:
    """Any sequence of traffic changes, updated one after the other, ends where a full
    run of the last scene does."""
    scene, run = town
    overrides: dict[str, TrafficOverride] = {}
    base = dict(zip(scene.segments.ids, scene.segments.flow_vph, strict=True))
    for road, factor in steps:
        overrides[road] = TrafficOverride(*(factor * f for f in base[road]))
        scene = replace(scene, segments=road_segments(scene.city, overrides))
        run = SIM.update(run, scene, Change(bbox=None, kinds=frozenset({"traffic"}), roads=frozenset({road})))
    _same(run, SIM.run(scene))


def test_barrier_update(town) -> None:
    scene, run = town
    city = replace(scene.city, barriers=[Barrier("wall", shapely.LineString([(-70, 8), (-10, 8)]), 3.0)])
    after = replace(scene, city=city)
    updated = SIM.update(run, after, Change(bbox=(-70.0, 8.0, -10.0, 8.0), kinds=frozenset({"barriers"})))
    _same(updated, SIM.run(after))
    # The flats behind the wall get quieter.
    assert (updated.result.kpis["facade_lden_mean_db"].value < run.result.kpis["facade_lden_mean_db"].value)


def test_building_added_and_removed(town) -> None:
    scene, run = town
    city = _town()
    city.buildings = [*city.buildings, Building("new", shapely.box(-5, 15, 25, 35), 20.0, building_type="apartments",
                                                levels=6)]
    bbox = (-7.0, 13.0, 27.0, 37.0)
    added = _with_city(scene, city, bbox)
    kinds = frozenset({"buildings", "surface", "landcover"})
    updated = SIM.update(run, added, Change(bbox=bbox, kinds=kinds, buildings=frozenset({"new"})))
    _same(updated, SIM.run(added))
    # And removed again: back to the first scene.
    back = SIM.update(updated, scene, Change(bbox=bbox, kinds=kinds, buildings=frozenset({"new"})))
    _same(back, run)


def test_building_demolished(town) -> None:
    scene, run = town
    city = _town()
    city.buildings = [b for b in city.buildings if b.id != "office"]
    city.areas = [*city.areas, Area("square", shapely.box(-60, -45, -10, -15), "plaza")]
    bbox = (-62.0, -47.0, -8.0, -13.0)
    after = _with_city(scene, city, bbox)
    kinds = frozenset({"buildings", "surface", "landcover"})
    _same(SIM.update(run, after, Change(bbox=bbox, kinds=kinds, buildings=frozenset({"office"}))), SIM.run(after))


def test_tree_changes_nothing(town) -> None:
    scene, run = town
    city = _town()
    city.trees = [*city.trees, Tree("t2", shapely.Point(20, -30), 12.0, 8.0)]
    bbox = (15.0, -35.0, 25.0, -25.0)
    after = _with_city(scene, city, bbox)
    updated = SIM.update(run, after, Change(bbox=bbox, kinds=frozenset({"surface"})))
    assert updated.state.matrix is run.state.matrix
    _same(updated, run, tol=0.0)


def test_unknown_extent_or_other_weather_runs_in_full(town) -> None:
    scene, run = town
    anywhere = SIM.update(run, scene, Change(bbox=None, kinds=frozenset({"buildings"})))
    _same(anywhere, run, tol=0.0)
    warm = replace(scene, conditions=replace(CONDITIONS, noise_temperature_c=25.0))
    _same(SIM.update(run, warm, Change(bbox=None, kinds=frozenset({"traffic"}))), SIM.run(warm), tol=0.0)


@settings(max_examples=8, deadline=None)
@given(st.floats(-140.0, 110.0), st.floats(-90.0, 60.0), st.floats(6.0, 30.0), st.floats(6.0, 30.0),
       st.floats(3.0, 30.0), st.booleans())
def test_random_building_or_barrier_updates(town, x: float, y: float, w: float, h: float, height: float,
                                            wall: bool) -> None:
    """A building (a box anywhere, over roads and others too) or a barrier, added with
    its bounding box: the update equals a full run of the new scene."""
    scene, run = town
    city = _town()
    bbox = (x - 1.0, y - 1.0, x + w + 1.0, y + h + 1.0)
    if wall:
        city.barriers = [Barrier("wall", shapely.LineString([(x, y), (x + w, y + h)]), height)]
        after = replace(scene, city=city)
        kinds = frozenset({"barriers"})
    else:
        city.buildings = [*city.buildings, Building("box", shapely.box(x, y, x + w, y + h), height,
                                                    building_type="apartments")]
        after = _with_city(scene, city, bbox)
        kinds = frozenset({"buildings", "surface", "landcover"})
    _same(SIM.update(run, after, Change(bbox=bbox, kinds=kinds)), SIM.run(after))
