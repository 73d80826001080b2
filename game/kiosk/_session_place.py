"""Placing, removing, undoing and redoing interventions in a kiosk session, and the ghost
preview: every placement is checked (shape, ground, budget, how many) in the visitor's
language before the engine sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shapely.geometry.base import BaseGeometry

from game.kiosk._session_callout import HeatProbe, PlacementNote, running
from game.kiosk._session_core import Outcome, Preview, SessionState
from game.kiosk._session_geometry import anchor_xy, building_at, snap_line
from game.kiosk._session_text import localized
from game.kiosk.i18n import format_eur
from world.catalog import Intervention
from world.errors import WorldError
from world.interventions import REASONS, InterventionError, Placed, make_placed

__all__ = ["MAX_PLACED", "Placing"]

#: At most this many placements: a proposal carries at most 50 (docs/protocol.md).
MAX_PLACED = 50


class Placing(SessionState):
    """The placement half of :class:`game.kiosk.session.KioskSession`."""

    # -- placing ---------------------------------------------------------------------------------

    def _entry(self, catalog_id: str) -> Intervention | None:
        return next((e for e in self.allowed_entries if e.id == catalog_id), None)

    def _prepare(self, entry: Intervention, geometry: BaseGeometry,
                 params: Mapping[str, Any] | None) -> tuple[BaseGeometry, dict[str, Any] | None, str | None]:
        """The geometry the entry is placed with (snapped, or the roof under a tap), its
        params, and why it cannot be, if it cannot."""
        assert self.engine is not None
        city = self.engine.scene.city
        if entry.kind == "line" and geometry.geom_type == "LineString" and entry.effect.get("snap_to"):
            geometry = snap_line(city, geometry, surface=str(entry.effect["snap_to"]))
        if entry.kind == "building-edit" and geometry.geom_type == "Point":
            building = building_at(city, geometry.x, geometry.y)
            if building is None:
                return geometry, None, _reason("no_building", self.lang)
            geometry = building.footprint
            params = {"building": building.id, **(params or {})}
        return geometry, (dict(params) if params else None), None

    def _check(self, catalog_id: str, geometry: BaseGeometry, params: Mapping[str, Any] | None,
               placed_id: str) -> tuple[Placed | None, BaseGeometry, float, str | None]:
        """(the placement, its geometry, its cost, why not) for place and preview alike."""
        if self.engine is None:
            return None, geometry, 0.0, self.t("busy.preparing")
        entry = self._entry(catalog_id)
        if entry is None:
            reason = self.engine.check(Placed("none", catalog_id, geometry), self.lang) \
                if catalog_id in self.catalog.ids() else f"the catalog has no intervention {catalog_id!r}."
            return None, geometry, 0.0, reason
        geometry, params, reason = self._prepare(entry, geometry, params)
        cost = entry.cost_eur(geometry)
        if reason is not None:
            return None, geometry, cost, reason
        try:
            placed = make_placed(entry.id, geometry, params, id=placed_id, catalog=self.catalog)
        except InterventionError as exc:
            wrong_shape = geometry.geom_type not in _SHAPES[entry.kind] or geometry.is_empty
            return None, geometry, cost, _reason(entry.kind, self.lang) if wrong_shape else str(exc)
        reason = self.engine.check(placed, self.lang)
        if reason is not None:
            return None, geometry, cost, reason
        budget = self.scenario.budget_eur
        if budget is not None and self.spent_eur() + cost > budget + 1e-6:
            return None, geometry, cost, self.t("budget.over", total=format_eur(budget, self.lang))
        if len(self.engine.placed) >= MAX_PLACED:
            return None, geometry, cost, self.t("session.too_many")
        return placed, geometry, cost, None

    def preview(self, catalog_id: str, geometry: BaseGeometry, params: Mapping[str, Any] | None = None,
                now: float | None = None) -> Preview:
        """The ghost: what :meth:`place` would do with this, changing nothing."""
        self.touch(now)
        placed, geometry, cost, reason = self._check(catalog_id, geometry, params, "preview")
        return Preview(placed is not None, reason, cost, geometry)

    def place(self, catalog_id: str, geometry: BaseGeometry, params: Mapping[str, Any] | None = None,
              now: float | None = None) -> Outcome:
        """Place an intervention (geometry in local metres); a callout then says what it did."""
        self.touch(now)
        placed, geometry, cost, reason = self._check(catalog_id, geometry, params,
                                                     f"{self.session_id}-{self._next_placed}")
        if placed is None or self.engine is None:
            return self._refuse(reason or "", now)
        engine = self.engine
        self._begin(now)
        settled = not running(engine)
        before = {n: k.value for n, k in engine.kpis().items()}
        probe = HeatProbe(engine, geometry)
        try:
            engine.place(placed)
        except (InterventionError, WorldError) as exc:  # the checks above should have caught it
            return self._refuse(str(exc), now)
        entry = self.catalog[catalog_id]
        self._next_placed += 1
        self._undo_depth, self._redo_depth = self._undo_depth + 1, 0
        self.counts["placements"] += 1
        self.note = PlacementNote.make(engine, placed.id, entry.name, geometry, before, probe, settled,
                                       entry.kind == "building-edit")
        self._say(self.t("place.placed", name=localized(entry.name, self.lang)), "success", now)
        x, y = anchor_xy(geometry)
        self._event("placed", catalog=entry.id, cost_eur=round(cost, 2), at_m=[round(x), round(y)])
        return Outcome(True)

    def remove(self, placed_id: str, now: float | None = None) -> Outcome:
        """Take one placed intervention away."""
        self.touch(now)
        if self.engine is None:
            return self._refuse(self.t("busy.preparing"), now)
        found = next((p for p in self.engine.placed if p.id == placed_id), None)
        if found is None:
            return self._refuse(self.t("session.nothing_to_remove"), now)
        self.engine.remove(placed_id)
        self._undo_depth, self._redo_depth = self._undo_depth + 1, 0
        if self.note is not None and self.note.placed_id == placed_id:
            self.note = None
        entry = self.catalog[found.catalog]
        self._say(self.t("place.removed", name=localized(entry.name, self.lang)), "info", now)
        x, y = anchor_xy(found.geometry)
        self._event("removed", catalog=entry.id, cost_eur=round(entry.cost_eur(found.geometry), 2),
                    at_m=[round(x), round(y)])
        return Outcome(True)

    def undo(self, now: float | None = None) -> Outcome:
        """Revert the last place or remove."""
        self.touch(now)
        if self.engine is None or self._undo_depth == 0 or not self.engine.undo():
            return self._refuse(self.t("place.nothing_to_undo"), now)
        self._undo_depth, self._redo_depth = self._undo_depth - 1, self._redo_depth + 1
        self.note = None
        self._say(self.t("place.undone"), "info", now)
        return Outcome(True)

    def redo(self, now: float | None = None) -> Outcome:
        """Repeat the last undone change."""
        self.touch(now)
        if self.engine is None or self._redo_depth == 0 or not self.engine.redo():
            return self._refuse(self.t("session.nothing_to_redo"), now)
        self._undo_depth, self._redo_depth = self._undo_depth + 1, self._redo_depth - 1
        self.note = None
        self._say(self.t("place.redone"), "info", now)
        return Outcome(True)

    @property
    def can_undo(self) -> bool:
        return self.engine is not None and self._undo_depth > 0

    @property
    def can_redo(self) -> bool:
        return self.engine is not None and self._redo_depth > 0


_SHAPES = {"point": ("Point",), "line": ("LineString",), "area": ("Polygon", "MultiPolygon"),
           "building-edit": ("Polygon", "MultiPolygon")}


def _reason(key: str, lang: str) -> str:
    texts = REASONS[key]
    return texts.get(lang, texts["en"])

