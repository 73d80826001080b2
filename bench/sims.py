"""The simulation rows of `make bench`: full runs and incremental updates on 1 km² of
Helsinki at 2 m (the shipped scenario), next to DESIGN.md's budgets.

Each placement (a tree, a green roof, a traffic change, a new building) is placed and
undone ``repeat`` times through the engine; the median of each simulation's update time
is printed. ``scene`` is the time to derive the new scene (window re-rasterisation,
roads, receivers), which every update pays before the simulations run.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.ops import substring

from sims.engine import Engine, conditions_for
from sims.registry import create
from world.city import City
from world.interventions import Placed, make_placed
from world.package import load_city
from world.raster import LandCover
from world.scenario import load_scenario

Row = tuple[str, str, str, str]


def _placements(engine: Engine) -> dict[str, Placed]:
    """One placement of each kind the issue benchmarks, found in the real city."""
    grids, city = engine.scene.grids, engine.scene.city
    west, south, east, north = grids.bounds
    centre = shapely.Point((west + east) / 2.0, (south + north) / 2.0)
    found: dict[str, Placed] = {}
    sidewalk = np.argwhere(grids.landcover == LandCover.SIDEWALK)
    xy = np.column_stack([grids.xs[sidewalk[:, 1]], grids.ys[sidewalk[:, 0]]])
    nearest_first = np.argsort(np.hypot(xy[:, 0] - centre.x, xy[:, 1] - centre.y))
    for i in nearest_first:
        tree = make_placed("tree-medium", shapely.Point(*xy[i]))
        if engine.check(tree) is None:
            found["one tree"] = tree
            break
    inside = [b for b in city.buildings if shapely.contains(shapely.box(*grids.bounds), b.footprint)]
    roof = max(inside, key=lambda b: b.footprint.area)
    found["one green roof"] = make_placed("green-roof", roof.footprint.representative_point().buffer(1.0))
    street = _busiest_street(city, grids.bounds)
    found["one traffic change"] = make_placed("traffic-calming", street)
    for i in nearest_first[::7]:
        block = make_placed("new-building", shapely.box(xy[i, 0] + 6.0, xy[i, 1] + 6.0, xy[i, 0] + 26.0,
                                                        xy[i, 1] + 26.0))
        if engine.check(block) is None:
            found["one building"] = block
            break
    return found


def _busiest_street(city: City, bounds: tuple[float, float, float, float]) -> shapely.LineString:
    """A 60 m stretch of the longest primary or secondary street inside the area."""
    box = shapely.box(*bounds)
    roads = [r for r in city.roads if r.surface == "carriageway" and r.road_class in ("primary", "secondary")
             and isinstance(r.geometry, shapely.LineString) and box.contains(r.geometry)]
    road = max(roads, key=lambda r: r.geometry.length)
    middle = road.geometry.length / 2.0
    return substring(road.geometry, middle - 30.0, middle + 30.0)


def sim_rows(package: Path, repeat: int) -> list[Row]:
    scenario = load_scenario("helsinki-centre")
    city = load_city(package)
    area = scenario.area_m(city.frame)
    full: dict[str, list[float]] = {}
    engine = None
    for _ in range(repeat):
        engine = Engine(city, conditions_for(scenario), create(), area=area, cell_m=scenario.cell_m)
        for name, times in engine.timings_ms.items():
            full.setdefault(name, []).append(times["full"])
    assert engine is not None
    fast = [name for name, sim in engine.simulations.items() if not sim.slow]
    slow = [name for name, sim in engine.simulations.items() if sim.slow]
    rows: list[Row] = [("scene: rasterise 1 km² at 2 m, roads, façade receivers", f"{_median(full['scene']):.0f} ms",
                        "(once per scenario)", "-")]
    for name in fast:
        rows.append((f"{name}: full run", f"{_median(full[name]):.1f} ms", "(shares the 100 ms below)", "-"))
    fast_total = sum(_median(full[name]) for name in fast)
    rows.append((f"fast sims full run together ({', '.join(fast)})", f"{fast_total:.1f} ms", "< 100 ms",
                 _ratio(fast_total, 100.0)))
    for name in slow:
        rows.append((f"{name}: full run", f"{_median(full[name]):.0f} ms", "< 2000 ms",
                     _ratio(_median(full[name]), 2000.0)))

    for label, placed in _placements(engine).items():
        updates: dict[str, list[float]] = {}
        for _ in range(repeat):
            started = time.perf_counter()
            engine.place(placed)
            updates.setdefault("total", []).append((time.perf_counter() - started) * 1000.0)
            for name, times in engine.timings_ms.items():
                updates.setdefault(name, []).append(times["incremental"])
            engine.undo()
        fast_ms = sum(_median(updates[name]) for name in fast)
        detail = ", ".join(f"{name} {_median(updates[name]):.1f}" for name in fast)
        rows.append((f"{label} ({placed.catalog}): fast sims update ({detail})", f"{fast_ms:.1f} ms", "< 16 ms",
                     _ratio(fast_ms, 16.0)))
        for name in slow:
            rows.append((f"{label}: {name} update", f"{_median(updates[name]):.1f} ms", "< 100 ms",
                         _ratio(_median(updates[name]), 100.0)))
        rows.append((f"{label}: new scene (window re-rasterisation…)", f"{_median(updates['scene']):.1f} ms",
                     "(paid once per change)", "-"))
    return rows


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _ratio(measured: float, budget: float) -> str:
    return f"{budget / measured:.1f}× under budget" if measured <= budget else f"{measured / budget:.1f}× OVER budget"
