"""A finished (or running) workshop read back from its database, moment by moment.

The planner's review and the report look at a workshop after the fact: :class:`Replay`
restores the workshop from its event log up to any event (exactly as the server does
after a restart, :meth:`multiplayer.workshop.Workshop.restore`), so every past state
the wall showed can be shown again. :attr:`Replay.moments` are the ends of the phases
the workshop went through; :meth:`Replay.participation` counts phones, kiosk visits,
votes and proposals over time from the same log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from game.wall.board import ROUND_PHASES, Board, board_from_state
from multiplayer._export_data import WorkshopData
from multiplayer.errors import MultiplayerError
from multiplayer.store import Store
from multiplayer.workshop import Workshop
from world.errors import WorldError
from world.scenario import load_scenario

__all__ = ["Moment", "ParticipationPoint", "Replay"]

#: Event types that move the workshop to another phase (as ``WorkshopData.phases``).
_PHASE_EVENTS = {"phase": None, "reveal": "reveal", "close": "closed"}
_PHASE_NAMES = {"lobby": "Lobby", "reveal": "Reveal", "closed": "Closed"}


@dataclass(frozen=True)
class Moment:
    """The end of one phase: the state after event ``seq``, which held until ``at`` (UTC;
    the start of the next phase, or the last event for the last phase)."""

    index: int
    phase: str
    seq: int
    at: datetime
    label: str


@dataclass(frozen=True)
class ParticipationPoint:
    """Totals up to ``at``: phones joined, kiosk visits started, counted votes (not
    replacements) and proposals."""

    at: datetime
    phones: int
    kiosk_sessions: int
    votes: int
    proposals: int


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local_zone(scenario: str) -> tzinfo:
    """The scenario's time zone, for labels people read; UTC when it is unknown."""
    try:
        zone = load_scenario(scenario).when.tzinfo
    except (WorldError, OSError, ValueError):
        return UTC
    return zone or UTC


@dataclass
class Replay:
    """Workshop ``data.code`` from its database: its data, its moments and past states."""

    data: WorkshopData
    moments: list[Moment] = field(default_factory=list)
    zone: tzinfo = UTC
    _states: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _at: dict[int, datetime] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, db: Path, code: str) -> Replay:
        """Read workshop ``code`` from ``db``; a missing file or unknown code raises
        :class:`MultiplayerError` (one sentence)."""
        db = Path(db)
        if not db.is_file():
            raise MultiplayerError(f"there is no workshop database {db}.")
        try:
            store = Store(db, create=False, needs_key=False)
        except MultiplayerError:
            raise
        except Exception as exc:  # sqlite3 errors on a file that is not a database
            raise MultiplayerError(f"{db} is not a workshop database ({exc}).") from None
        try:
            codes = store.workshop_codes()
            if code not in codes and code.upper() in codes:
                code = code.upper()
            if code not in codes:
                known = ", ".join(codes) or "none"
                raise MultiplayerError(f"there is no workshop {code} in {db} (it holds: {known}).")
            data = WorkshopData.read(store, code)
        finally:
            store.close()
        replay = cls(data, zone=_local_zone(str(data.spec.get("scenario", ""))))
        replay.moments = replay._find_moments()
        return replay

    # -- moments ----------------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        """The seq of the log's last event."""
        return int(self.data.events[-1]["seq"])

    def _phase_starts(self) -> list[tuple[str, int]]:
        """``(phase, seq of its first event)`` in order, by the rule of ``WorkshopData.phases``."""
        starts = [("lobby", int(self.data.events[0]["seq"]))]
        for event in self.data.events:
            if event["type"] not in _PHASE_EVENTS:
                continue
            to = event["data"].get("to", _PHASE_EVENTS[event["type"]])
            if to and to != starts[-1][0]:
                starts.append((to, int(event["seq"])))
        return starts

    def _find_moments(self) -> list[Moment]:
        starts = self._phase_starts()
        phases = self.data.phases()
        moments = []
        for index, (phase, _) in enumerate(starts):
            end_seq = starts[index + 1][1] - 1 if index + 1 < len(starts) else self.last_seq
            ended = phases[index]["ended_at"] if index < len(phases) else None
            moments.append(Moment(index, phase, end_seq, self.time_at(end_seq), self._label(phase, ended)))
        return moments

    def _label(self, phase: str, ended_at: str | None) -> str:
        if phase in ROUND_PHASES:
            name = f"Round {ROUND_PHASES.index(phase) + 1} · {phase}"
        else:
            name = _PHASE_NAMES.get(phase, phase.capitalize())
        if ended_at is None:  # the last phase: closed, or where a running workshop stands
            last = self.data.events[-1]["at"]
            return name if phase == "closed" else f"{name} (last event {_time(last).astimezone(self.zone):%H:%M})"
        return f"{name} (ended {_time(ended_at).astimezone(self.zone):%H:%M})"

    def moment_of(self, seq: int) -> Moment | None:
        """The moment whose phase holds event ``seq``."""
        return next((m for m in self.moments if seq <= m.seq), None)

    # -- states -----------------------------------------------------------------------------------
    def _seq(self, seq: int | None) -> int:
        last = self.last_seq
        return last if seq is None else max(1, min(int(seq), last))

    def state_at(self, seq: int | None = None) -> dict[str, Any]:
        """The wall's view of the workshop just after event ``seq`` (None: the last; clamped
        to the log). Cached per seq and shared: treat it as read-only."""
        seq = self._seq(seq)
        state = self._states.get(seq)
        if state is None:
            rows = [e for e in self.data.events if int(e["seq"]) <= seq]
            state = self._states[seq] = Workshop.restore(rows).state_for("wall")
        return state

    def time_at(self, seq: int | None = None) -> datetime:
        """Until when the state after event ``seq`` held: the time of the next event (the
        end of a phase for a moment's seq), or of event ``seq`` itself when it is the last."""
        seq = self._seq(seq)
        times = self._times()
        return times.get(seq + 1) or times[max(s for s in times if s <= seq)]

    def _times(self) -> dict[int, datetime]:
        if not self._at:
            self._at.update((int(e["seq"]), _time(e["at"])) for e in self.data.events)
        return self._at

    def board_at(self, seq: int | None = None, *, cell_m: float = 20.0) -> Board:
        """The board just after event ``seq``, its timer as it stood when the next event came
        (for a moment: when its phase ended)."""
        return board_from_state(self.state_at(seq), now=self.time_at(seq), cell_m=cell_m)

    # -- participation ---------------------------------------------------------------------------------
    def participation(self, bucket_s: float = 60.0) -> list[ParticipationPoint]:
        """Running totals at the start of the log and at the end of every ``bucket_s``
        after it; the last point holds every event (its totals are the workshop's)."""
        if not bucket_s > 0:
            raise ValueError(f"bucket_s must be positive, not {bucket_s}.")
        events = [(_time(e["at"]), e) for e in self.data.events]
        start, end = events[0][0], max(at for at, _ in events)
        buckets = max(0, math.ceil((end - start).total_seconds() / bucket_s - 1e-9))
        points: list[ParticipationPoint] = []
        totals = {"phones": 0, "kiosk_sessions": 0, "votes": 0, "proposals": 0}
        position = 0
        sessions: set[tuple[str, str]] = set()
        for k in range(buckets + 1):
            edge = start + timedelta(seconds=k * bucket_s) if k < buckets else end
            while position < len(events) and events[position][0] <= edge:
                for kind in _counted_as(events[position][1], sessions):
                    totals[kind] += 1
                position += 1
            points.append(ParticipationPoint(edge, **totals))
        return points

    def languages_used(self) -> list[str]:
        """Languages phones joined with and kiosk visitors used (at the start of a visit,
        switched to, or at its end), in order of first use."""
        seen: list[str] = []
        for event in self.data.events:
            data = event["data"]
            lang = None
            if event["type"] == "joined":
                lang = data.get("lang")
            elif event["type"] == "event" and data.get("name") in ("session_start", "lang", "session_end"):
                lang = (data.get("data") or {}).get("language")
            if isinstance(lang, str) and lang and lang not in seen:
                seen.append(lang)
        return seen


def _counted_as(event: dict[str, Any], sessions: set[tuple[str, str]]) -> list[str]:
    """Which participation totals ``event`` adds to. A kiosk visit counts at the first event
    carrying its session id (as the exports number sessions), so a visit whose
    ``session_start`` stayed offline still counts once; ``sessions`` holds those seen."""
    kind, data = event["type"], event["data"]
    kinds = []
    session = data.get("session")
    if event["role"] == "kiosk" and isinstance(session, str) and (event["actor"], session) not in sessions:
        sessions.add((event["actor"], session))
        kinds.append("kiosk_sessions")
    if kind == "joined":
        kinds.append("phones")
    elif kind == "vote" and data.get("counted") and not data.get("replaced"):
        kinds.append("votes")
    elif kind == "propose":
        kinds.append("proposals")
    return kinds
