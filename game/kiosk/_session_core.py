"""The state of a kiosk session and what every part of it shares (see :mod:`game.kiosk.session`)."""

from __future__ import annotations

import logging
import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry

from game.kiosk._session_callout import PlacementNote
from game.kiosk._session_sink import Sink
from game.kiosk._session_text import t
from game.kiosk._session_workshop import proposal_centre
from game.kiosk.view import Toast
from multiplayer.errors import MultiplayerError
from sims.engine import Engine
from world.catalog import Catalog, Intervention
from world.scenario import Scenario

__all__ = ["Outcome", "Preview", "SessionState", "TOAST_S"]

log = logging.getLogger("game.kiosk.session")

#: How long a toast stays, s.
TOAST_S = 4.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether the session did what was asked; if not, why, as the visitor reads it."""

    accepted: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    """What a placement would be (the ghost): allowed or why not, its cost, and its
    geometry after snapping (a line onto the street, a tap onto the roof's footprint)."""

    ok: bool
    reason: str | None
    cost_eur: float
    geometry: BaseGeometry


class SessionState:
    """The kiosk's and the visitor's state, and the helpers every part of the session uses."""

    scenario: Scenario
    catalog: Catalog
    sink: Sink
    kiosk_mode: bool
    languages: tuple[str, ...]
    engine: Engine | None
    kiosk_proposals: list[dict[str, Any]]
    allowed_entries: list[Intervention]
    _rng: random.Random
    _utc_now: datetime | None

    # -- the visitor's state -------------------------------------------------------------------

    def _wipe(self, now: float) -> None:
        """Everything of one visitor, fresh."""
        self.screen = "attract" if self.kiosk_mode else "explore"
        self.lang = self.languages[0]
        self.session_id = f"s{self._rng.getrandbits(48):012x}"
        self.large_text = False
        self.high_contrast = False
        self.selected: str | None = None
        self.rotation_deg = 0.0
        self.overlay: str | None = None
        self.mode = "walk"
        self.title_input = ""
        self.focus: tuple[float, float] | None = None
        self.note: PlacementNote | None = None
        self.toast: tuple[Toast, float] | None = None
        self.started_at: float | None = None
        self.last_activity = now
        self.thanks_until: float | None = None
        self.counts = {"placements": 0, "proposals": 0, "votes": 0}
        self.votes: dict[str, tuple[Any, str]] = {}  # question -> (choice, message id)
        self.my_proposals: list[str] = []  # message ids
        self._next_placed = 1
        self._undo_depth = 0
        self._redo_depth = 0

    def attach_engine(self, engine: Engine) -> None:
        """The simulations are ready (the app builds the engine on a thread)."""
        self.engine = engine

    def touch(self, now: float | None) -> None:
        """The visitor did something: the idle timer starts again (``now`` None: no time given)."""
        if now is not None:
            self.last_activity = now

    def set_title_input(self, text: str) -> None:
        """The proposal title being typed."""
        self.title_input = text

    def t(self, key: str, **fmt: Any) -> str:
        return t(self.lang, key, **fmt)

    def _say(self, text: str, kind: str, now: float | None) -> None:
        self.toast = (Toast(text, kind), (self.last_activity if now is None else now) + TOAST_S)  # type: ignore[arg-type]

    def _refuse(self, reason: str, now: float | None) -> Outcome:
        self._say(reason, "error", now)
        return Outcome(False, reason)

    def _send(self, type: str, **body: Any) -> str | None:
        """Send through the sink; a sink that fails is logged, never allowed to stop the kiosk."""
        try:
            return self.sink.send(type, **body)
        except (MultiplayerError, OSError, ValueError, sqlite3.Error) as exc:
            log.error("the kiosk could not save a %s message: %s", type, exc)
            return None

    def _event(self, name: str, **data: Any) -> None:
        self._send("event", name=name, data=data, session=self.session_id)

    def _begin(self, now: float | None) -> None:
        if self.started_at is None:
            self.started_at = self.last_activity if now is None else now
            self._event("session_start", language=self.lang)

    # -- helpers for the app and the script runner ---------------------------------------------

    def kpi_values(self) -> dict[str, float]:
        """Every KPI's current value (empty before the simulations are ready)."""
        return {} if self.engine is None else {n: k.value for n, k in self.engine.kpis().items()}

    def placed_ids(self) -> list[str]:
        return [] if self.engine is None else [p.id for p in self.engine.placed]

    def spent_eur(self) -> float:
        if self.engine is None:
            return 0.0
        return sum(self.catalog[p.catalog].cost_eur(p.geometry) for p in self.engine.placed)

    def workshop(self) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
        """(questions, proposals): the workshop's, or the scenario's and this kiosk's."""
        state = self.sink.state
        if state is not None:
            return list(state.get("questions") or []), list(state.get("proposals") or [])
        return list(self.scenario.extra.get("questions") or []), list(self.kiosk_proposals)

    def mine(self) -> set[str]:
        """Ids of the proposals this visitor made (the server's ids once it has acked them)."""
        found = {p["id"] for p in self.kiosk_proposals if p.get("msg") in self.my_proposals}
        for msg_id in self.my_proposals:
            reply = self.sink.reply(msg_id)
            if reply is not None and isinstance(reply.get("proposal"), str):
                found.add(reply["proposal"])
        return found

    def proposal_centre(self, proposal_id: str | None) -> tuple[float, float] | None:
        """Where a proposal's interventions lie (their mean position), for ``fly_to``."""
        for proposal in self.workshop()[1]:
            if proposal.get("id") == proposal_id:
                return proposal_centre(proposal)
        return None
