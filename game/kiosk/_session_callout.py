"""The note that pops up where something was just placed: what *this* placement changed.

The effects are the KPIs right after placing minus right before (not leave-one-out: the
visitor sees what their tap did), plus the felt temperature nearby from the heat field.
Road noise answers later (it runs on a worker): its line is added when its update
arrives, and only when the value before placing was already settled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry.base import BaseGeometry

from game.kiosk._session_geometry import anchor_xy, building_at, cells_within
from game.kiosk._session_text import t, t_name
from game.kiosk.i18n import format_number
from game.kiosk.view import Callout
from sims.engine import Engine
from sims.heat import HEAT_PUBLIC_SPACE

__all__ = ["NEARBY_M", "MAX_LINES", "NOISE_KPI", "HeatProbe", "PlacementNote", "running"]

#: "Nearby" for the felt temperature: cells within this distance of the placement, m.
NEARBY_M = 15.0
#: At most this many effect lines under the heading.
MAX_LINES = 3
#: The noise KPI of the callout (it waits for the slow update).
NOISE_KPI = "facade_lden_mean_db"
#: A callout floats this high over the ground, m (over the roof for a roof).
_CALLOUT_Z_M = 3.0


class HeatProbe:
    """The heat field around a geometry before a change, to compare with after it."""

    def __init__(self, engine: Engine, geometry: BaseGeometry) -> None:
        self.geometry = geometry
        self.before: np.ndarray | None = None
        run = engine.runs.get("heat")
        if run is None:
            return
        heat = run.result.field
        grids = engine.scene.grids
        origin = heat.origin or grids.origin
        cell_m = heat.cell_m or grids.cell_m
        self.window, self.near = cells_within(origin, cell_m, heat.values.shape, geometry, NEARBY_M)
        self.before = np.array(heat.values[self.window], dtype=np.float64)
        self._same_grid = heat.origin is None and heat.cell_m is None

    def change_c(self, engine: Engine) -> float | None:
        """Mean change of felt temperature (°C) over the nearby cells that changed or are
        public ground, after the change; None when there is nothing to average."""
        if self.before is None or "heat" not in engine.runs:
            return None
        after = np.asarray(engine.runs["heat"].result.field.values[self.window], dtype=np.float64)
        if after.shape != self.before.shape:
            return None
        finite = np.isfinite(after) & np.isfinite(self.before)
        changed = finite & (np.abs(after - self.before) > 1e-9)
        cells = changed
        if self._same_grid:
            public = np.isin(engine.scene.grids.landcover[self.window], HEAT_PUBLIC_SPACE)
            cells = changed | (public & finite)
        cells = cells & self.near
        if not cells.any():
            return None
        return float(np.mean(after[cells] - self.before[cells]))


@dataclass(slots=True)
class PlacementNote:
    """What one placement changed, kept until the next one replaces it."""

    placed_id: str
    name: Mapping[str, str]  # the entry's name per language
    anchor: tuple[float, float, float]
    deltas: dict[str, float]  # KPI after - before, fast simulations at once
    heat_c: float | None
    noise_before: float | None  # None: unknown (an earlier noise update was still running)
    noise_db: float | None = None
    waiting: frozenset[str] = field(default_factory=frozenset)  # slow simulations still to answer

    @classmethod
    def make(cls, engine: Engine, placed_id: str, name: Mapping[str, str], geometry: BaseGeometry,
             before: Mapping[str, float], probe: HeatProbe, slow_settled: bool, building_edit: bool) -> PlacementNote:
        waiting = running(engine)
        after = {n: k.value for n, k in engine.kpis().items()}
        deltas = {n: after[n] - before[n] for n in after if n in before}
        noise_before = before.get(NOISE_KPI) if slow_settled else None
        note = cls(placed_id, name, _anchor(engine, geometry, building_edit), deltas, probe.change_c(engine),
                   noise_before, waiting=waiting)
        if NOISE_KPI in deltas and not waiting:
            note.noise_db = deltas[NOISE_KPI] if slow_settled else None
        return note

    def settle(self, engine: Engine) -> bool:
        """Take the slow simulations' answer once all of them are in; True when it changed the note."""
        if not self.waiting or running(engine):
            return False
        self.waiting = frozenset()
        value = engine.kpis().get(NOISE_KPI)
        if value is None or self.noise_before is None:
            return False
        self.noise_db = value.value - self.noise_before
        return True

    def lines(self, lang: str, time_text: str, lang_name: str) -> tuple[str, ...]:
        """The heading and at most :data:`MAX_LINES` effects, in ``lang``."""
        effects = []
        shade = self.deltas.get("shade_public_m2", 0.0)
        if round(shade) != 0:
            effects.append(t(lang, "callout.shade", value=format_number(shade, lang), time=time_text))
        if self.heat_c is not None and round(self.heat_c, 1) != 0:
            effects.append(t(lang, "callout.heat", value=format_number(self.heat_c, lang, decimals=1, sign=True)))
        runoff = self.deltas.get("runoff_m3", 0.0)
        if round(runoff) != 0:
            effects.append(t(lang, "callout.runoff", value=format_number(-runoff, lang)))
        if self.noise_db is not None and round(self.noise_db, 1) != 0:
            effects.append(t(lang, "callout.noise", value=format_number(self.noise_db, lang, decimals=1, sign=True)))
        seats = self.deltas.get("seats_in_shade", 0.0)
        if round(seats) != 0:
            effects.append(t(lang, "callout.seats", value=format_number(seats, lang, sign=seats < 0)))
        if not effects:
            effects.append(t(lang, "callout.none", time=time_text))
        return (t_name(lang, "callout.heading", lang_name), *effects[:MAX_LINES])

    def callout(self, lang: str, time_text: str) -> Callout:
        name = self.name.get(lang) or self.name.get("en") or ""
        return Callout(*self.anchor, lines=self.lines(lang, time_text, name))


def _anchor(engine: Engine, geometry: BaseGeometry, building_edit: bool) -> tuple[float, float, float]:
    """Where the note is pinned: the geometry's representative point, 3 m over the ground,
    or on the roof for a building edit."""
    x, y = anchor_xy(geometry)
    grids = engine.scene.grids
    ground_m = 0.0
    try:
        row, col = grids.cell_of(x, y)
        ground_m = float(grids.ground_m[row, col])
    except Exception:  # off the grid: no terrain there
        ground_m = 0.0
    height_m = _CALLOUT_Z_M
    if building_edit:
        building = building_at(engine.baseline_scene.city, x, y) or building_at(engine.scene.city, x, y)
        if building is not None:
            height_m = max(float(building.height_m), _CALLOUT_Z_M)
    z = ground_m + height_m
    return (x, y, z if math.isfinite(z) else height_m)


def running(engine: Engine) -> frozenset[str]:
    """Publish every finished slow update; the slow simulations still running. (Asked in
    this order, nothing finished is left unpublished.)"""
    still = frozenset(engine.pending())
    engine.poll()
    return still
