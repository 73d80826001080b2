"""The simulation engine: a baseline, the placed interventions, and every simulation kept
up to date change by change.

The engine holds the baseline scene and its runs, and the current list of placed
interventions. :meth:`Engine.place`, :meth:`Engine.remove`, :meth:`Engine.undo` and
:meth:`Engine.redo` change that list; each change re-rasterises only the window it
touches and hands every simulation a :class:`sims.scene.Change` so it updates only
what the change reaches. :meth:`Engine.kpis` gives each KPI with its baseline and delta;
:meth:`Engine.contribution` what a single placed intervention adds (leave-one-out: the
KPIs with everything placed minus the KPIs with everything but it).

Slow simulations (noise) can run on one worker thread (``background=True``): the fast
ones answer at once, the slow ones queue their updates in order and :meth:`Engine.poll`
publishes them when done, so nothing blocks a frame. Undo re-applies the list without
the last change: applying is a pure function of the baseline city and the list.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from sims.field import Kpi
from sims.scene import Change, Conditions, Run, Scene, Simulation, make_scene
from world.catalog import Catalog, load_catalog
from world.city import City
from world.interventions import InterventionError, Placed, apply, apply_all, check, footprint
from world.raster import rasterize_window, receivers, road_segments
from world.scenario import Scenario

__all__ = ["KpiValue", "Engine", "conditions_for"]


def conditions_for(scenario: Scenario) -> Conditions:
    """The simulation conditions of a scenario (time, place, weather, rain, soil)."""
    lon, lat = scenario.centre_lonlat()
    return Conditions(when=scenario.when, lat_deg=lat, lon_deg=lon, soil_group=scenario.soil_group,
                      **scenario.weather)


@dataclass(frozen=True, slots=True)
class KpiValue:
    """A KPI now, at the baseline, and the difference (value − baseline)."""

    simulation: str
    name: str
    label: str
    unit: str
    better: Literal["higher", "lower"]
    value: float
    baseline: float

    @property
    def delta(self) -> float:
        return self.value - self.baseline

    @property
    def verdict(self) -> Literal["better", "worse", "same"]:
        """Whether the change from the baseline is an improvement."""
        if abs(self.delta) <= 1e-9 * max(1.0, abs(self.baseline)):
            return "same"
        return "better" if (self.delta > 0) == (self.better == "higher") else "worse"

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "baseline": self.baseline, "delta": self.delta, "unit": self.unit,
                "better": self.better, "simulation": self.simulation, "label": self.label}


@dataclass(frozen=True, slots=True)
class _Action:
    """One entry of the undo history: the placement list before and after."""

    before: tuple[Placed, ...]
    after: tuple[Placed, ...]
    placed: Placed


class Engine:
    """Baseline plus placed interventions, with incremental simulation updates.

    ``timings_ms`` holds, per simulation, the time of its full baseline run
    (``"full"``) and of its latest incremental update (``"incremental"``), plus
    ``"scene"``: the time to derive the new scene (window re-rasterisation, roads,
    receivers).
    """

    def __init__(self, city: City, conditions: Conditions, simulations: Sequence[Simulation], *,
                 area: tuple[float, float, float, float] | None = None, cell_m: float = 2.0,
                 catalog: Catalog | None = None, allowed: Iterable[str] | None = None,
                 background: bool = False) -> None:
        self.catalog = catalog or load_catalog()
        self.allowed = frozenset(allowed) if allowed is not None else frozenset(self.catalog.ids())
        self.simulations = {s.name: s for s in simulations}
        self.timings_ms: dict[str, dict[str, float]] = {"scene": {}}
        started = time.perf_counter()
        self.baseline_scene = make_scene(city, conditions, area, cell_m)
        self.timings_ms["scene"]["full"] = _ms_since(started)
        self.baseline: dict[str, Run] = {}
        for name, simulation in self.simulations.items():
            started = time.perf_counter()
            self.baseline[name] = simulation.run(self.baseline_scene)
            self.timings_ms[name] = {"full": _ms_since(started)}
        self.scene = self.baseline_scene
        self.runs = dict(self.baseline)
        self._placed: tuple[Placed, ...] = ()
        self._undo: list[_Action] = []
        self._redo: list[_Action] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slow-sims") if background else None
        self._pending: list[tuple[str, Future[Run]]] = []
        self._slow_latest: dict[str, Run] = {n: r for n, r in self.baseline.items() if self.simulations[n].slow}

    # -- the placement list -------------------------------------------------------------

    @property
    def placed(self) -> tuple[Placed, ...]:
        return self._placed

    def check(self, placed: Placed, lang: str = "en") -> str | None:
        """Why ``placed`` may not go where it is, in ``lang``, or None when it may."""
        if placed.catalog not in self.allowed:
            return _NOT_ALLOWED.get(lang, _NOT_ALLOWED["en"])
        return check(self.scene.city, self.scene.grids, placed, self.catalog, lang)

    def place(self, placed: Placed) -> None:
        """Add an intervention; :class:`InterventionError` with the reason when refused."""
        if any(p.id == placed.id for p in self._placed):
            raise InterventionError(f"an intervention with id {placed.id!r} is already placed.")
        reason = self.check(placed)
        if reason is not None:
            raise InterventionError(f"{placed.catalog} at {_where(placed)}: {reason}")
        self._do(_Action(self._placed, (*self._placed, placed), placed))

    def remove(self, placed_id: str) -> None:
        """Take a placed intervention away again."""
        removed = self._find(placed_id)
        self._do(_Action(self._placed, tuple(p for p in self._placed if p is not removed), removed))

    def _find(self, placed_id: str) -> Placed:
        for placed in self._placed:
            if placed.id == placed_id:
                return placed
        raise InterventionError(f"no placed intervention has the id {placed_id!r}.")

    def undo(self) -> bool:
        """Revert the last place/remove; False when there is nothing to undo."""
        if not self._undo:
            return False
        action = self._undo.pop()
        self._switch(action.before, action.placed)
        self._redo.append(action)
        return True

    def redo(self) -> bool:
        """Repeat the last undone change; False when there is nothing to redo."""
        if not self._redo:
            return False
        action = self._redo.pop()
        self._switch(action.after, action.placed)
        self._undo.append(action)
        return True

    def _do(self, action: _Action) -> None:
        self._switch(action.after, action.placed)
        self._undo.append(action)
        self._redo.clear()

    # -- updating the scene and the simulations -----------------------------------------

    def _switch(self, placements: tuple[Placed, ...], changed: Placed) -> None:
        """Move from the current placement list to ``placements``, which differs from it by
        ``changed`` alone (added or removed)."""
        before_city = self.scene.city
        adding = len(placements) > len(self._placed)
        # Appending is one apply; anything else replays the list, so the city's feature
        # order (which building indices follow) is always that of the list.
        after_city = apply(before_city, changed, self.catalog) if adding and placements[-1] is changed else \
            apply_all(self.baseline_scene.city, placements, self.catalog)
        with_it, without_it = (after_city, before_city) if adding else (before_city, after_city)
        change = _change(footprint(without_it, with_it, changed, self.catalog))
        started = time.perf_counter()
        scene = _next_scene(self.scene, after_city, change)
        self.timings_ms["scene"]["incremental"] = _ms_since(started)
        self.runs = self._update(self.runs, scene, change)
        self.scene = scene
        self._placed = placements

    def _update(self, runs: dict[str, Run], scene: Scene, change: Change) -> dict[str, Run]:
        out = dict(runs)
        for name, simulation in self.simulations.items():
            if simulation.slow and self._worker is not None:
                self._pending.append((name, self._worker.submit(self._slow_update, name, scene, change)))
                continue
            started = time.perf_counter()
            out[name] = simulation.update(runs[name], scene, change)
            self.timings_ms[name]["incremental"] = _ms_since(started)
        return out

    def _slow_update(self, name: str, scene: Scene, change: Change) -> Run:
        """On the worker: updates queue in order, each from the one before."""
        started = time.perf_counter()
        run = self.simulations[name].update(self._slow_latest[name], scene, change)
        self._slow_latest[name] = run
        self.timings_ms[name]["incremental"] = _ms_since(started)
        return run

    def pending(self) -> list[str]:
        """Slow simulations whose latest update is still running."""
        return sorted({name for name, future in self._pending if not future.done()})

    def poll(self) -> list[str]:
        """Publish finished slow updates (in order); the names of those published."""
        published = []
        while self._pending and self._pending[0][1].done():
            name, future = self._pending.pop(0)
            self.runs[name] = future.result()
            published.append(name)
        return published

    def wait(self) -> None:
        """Block until every queued slow update is done, and publish them."""
        for _, future in self._pending:
            future.result()
        self.poll()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)

    def reset(self) -> None:
        """Back to the baseline: nothing placed, no undo or redo history, and every queued
        slow update dropped (one already running is waited for, so that it cannot write
        its result over the baseline afterwards). The baseline runs are kept, not redone."""
        for _, future in self._pending:
            future.cancel()
        for _, future in self._pending:
            if not future.cancelled():
                future.exception()  # wait; its result, or its failure, is of no use any more
        self._pending.clear()
        self._slow_latest = {n: r for n, r in self.baseline.items() if self.simulations[n].slow}
        self.scene = self.baseline_scene
        self.runs = dict(self.baseline)
        self._placed = ()
        self._undo.clear()
        self._redo.clear()

    # -- answers --------------------------------------------------------------------------

    def kpis(self) -> dict[str, KpiValue]:
        """Every KPI of every simulation, with its baseline, by KPI name."""
        return _kpi_values(self.runs, self.baseline)

    def contribution(self, placed_id: str) -> dict[str, float]:
        """What one placed intervention adds to each KPI: the KPIs with everything placed
        minus those with everything but it (leave-one-out, so overlaps with other
        interventions are not counted twice). Runs every simulation synchronously."""
        placed = self._find(placed_id)
        self.wait()
        rest = tuple(p for p in self._placed if p is not placed)
        without_city = apply_all(self.baseline_scene.city, rest, self.catalog)
        change = _change(footprint(without_city, self.scene.city, placed, self.catalog))
        scene = _next_scene(self.scene, without_city, change)
        without = {name: sim.update(self.runs[name], scene, change) for name, sim in self.simulations.items()}
        now = _kpis_of(self.runs)
        then = _kpis_of(without)
        return {name: now[name].value - then[name].value for name in now}


_NOT_ALLOWED = {
    "en": "This scenario does not offer it.",
    "fi": "Tämä skenaario ei tarjoa sitä.",
    "sv": "Det här scenariot erbjuder det inte.",
    "nl": "Dit scenario biedt dit niet aan.",
    "fr": "Ce scénario ne le propose pas.",
    "de": "Dieses Szenario bietet das nicht an.",
}


def _where(placed: Placed) -> str:
    point = placed.geometry.representative_point()
    return f"({point.x:.1f}, {point.y:.1f}) m"


def _change(found: Any) -> Change:
    return Change(bbox=found.bbox, kinds=frozenset(found.kinds), roads=frozenset(found.roads),
                  buildings=frozenset(found.buildings))


def _next_scene(scene: Scene, city: City, change: Change) -> Scene:
    """The scene of ``city``, which differs from ``scene.city`` only by ``change``."""
    grids = scene.grids
    if change.touches("surface", "landcover", "treatment", "buildings"):
        if change.bbox is None:
            grids = rasterize_window(city, grids, grids.bounds)
        else:
            grids = rasterize_window(city, grids, change.bbox)
    segments = road_segments(city) if change.touches("traffic") else scene.segments
    homes = receivers(city, grids) if change.touches("buildings") else scene.receivers
    return Scene(city=city, grids=grids, conditions=scene.conditions, segments=segments, receivers=homes)


def _kpis_of(runs: dict[str, Run]) -> dict[str, Kpi]:
    return {name: kpi for run in runs.values() for name, kpi in run.result.kpis.items()}


def _kpi_values(runs: dict[str, Run], baseline: dict[str, Run]) -> dict[str, KpiValue]:
    out = {}
    for simulation, run in runs.items():
        for name, kpi in run.result.kpis.items():
            out[name] = KpiValue(simulation, name, kpi.label or name, kpi.unit, kpi.better, kpi.value,
                                 baseline[simulation].result.kpis[name].value)
    return out


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
