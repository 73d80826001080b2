"""The noise simulation on 1 km² of central Helsinki: a plausible map and KPIs, and
incremental updates (traffic, a demolished building) equal to full runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely

from sims.noise import NoiseSimulation
from sims.scene import Change, Conditions, Scene, make_scene
from world.city import Area
from world.raster import TrafficOverride, rasterize_window, receivers, road_segments

#: An update recomputes the matrix entries a full run computes, the same way; only the
#: float64 sums of energies go in another order (about 1e-14 dB). The bound leaves room
#: for one float32 ulp in an entry (1e-7 relative, 4e-7 dB).
UPDATE_TOL_DB = 1e-5
SIM = NoiseSimulation()


@pytest.fixture(scope="module")
def helsinki(helsinki_city):
    conditions = Conditions(datetime(2026, 6, 21, 15, tzinfo=ZoneInfo("Europe/Helsinki")), 60.1716, 24.9443)
    scene = make_scene(helsinki_city, conditions, (-500.0, -500.0, 500.0, 500.0))
    return scene, SIM.run(scene)


def _same(a, b) -> None:
    va, vb = a.result.field.values, b.result.field.values
    np.testing.assert_array_equal(np.isnan(va), np.isnan(vb))
    np.testing.assert_allclose(va[~np.isnan(va)], vb[~np.isnan(vb)], atol=UPDATE_TOL_DB)
    for name, kpi in b.result.kpis.items():
        assert a.result.kpis[name].value == pytest.approx(kpi.value, abs=UPDATE_TOL_DB)


def test_map_and_kpis_are_plausible(helsinki) -> None:
    """A city centre: streets at 65–80 dB L_den, quiet courtyards, most homes above 55 dB
    (Helsinki's own noise survey puts most of the centre's residents there)."""
    scene, run = helsinki
    field = run.result.field
    assert field.values.shape == (100, 100)
    centres_in_buildings = (scene.grids.building_id[2::5, 2::5] >= 0)
    np.testing.assert_array_equal(np.isnan(field.values), centres_in_buildings)
    values = field.values[np.isfinite(field.values)]
    assert 65.0 < np.percentile(values, 95) < 82.0
    assert np.percentile(values, 5) < 50.0
    kpis = run.result.kpis
    assert 50.0 < kpis["homes_above_55db_pct"].value <= 100.0
    assert 45.0 < kpis["facade_lden_mean_db"].value < 65.0


def test_traffic_update(helsinki) -> None:
    scene, run = helsinki
    segments = scene.segments
    busiest = segments.ids[int(np.argmax(segments.flow_vph[:, 0]))]
    after = replace(scene, segments=road_segments(scene.city, {busiest: TrafficOverride(day_vph=100.0,
                                                                                        heavy_share=0.0)}))
    updated = SIM.update(run, after, Change(bbox=None, kinds=frozenset({"traffic"}), roads=frozenset({busiest})))
    _same(updated, SIM.run(after))


def test_demolition_update(helsinki) -> None:
    scene, run = helsinki
    city = scene.city
    by_id = {b.id: b for b in city.buildings}
    target = min(scene.grids.building_ids, key=lambda i: by_id[i].footprint.centroid.distance(shapely.Point(0, 0)))
    footprint = by_id[target].footprint
    after_city = replace(city, buildings=[b for b in city.buildings if b.id != target],
                         areas=[*city.areas, Area("square", footprint, "plaza")])
    minx, miny, maxx, maxy = footprint.bounds
    bbox = (minx - 2.0, miny - 2.0, maxx + 2.0, maxy + 2.0)
    grids = rasterize_window(after_city, scene.grids, bbox)
    after = Scene(city=after_city, grids=grids, conditions=scene.conditions, segments=scene.segments,
                  receivers=receivers(after_city, grids))
    change = Change(bbox=bbox, kinds=frozenset({"buildings", "surface", "landcover"}), buildings=frozenset({target}))
    _same(SIM.update(run, after, change), SIM.run(after))
