"""The workshop's state, changed only by applying events, and its per-role views.

:class:`State` is what both a live workshop and one restored from its log hold; since
the only way to change it is :meth:`State.apply`, replaying the log rebuilds exactly the
state the live workshop had. Everything the server needs per message is kept here,
updated incrementally: the acks by message id (for duplicates), token-hash → actor maps,
the intervals when each kind of contribution was open (for late kiosk messages) and the
tallies (a vote moves two counters, it never recounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from multiplayer._workshop_events import Event, iso, parse_time
from multiplayer._workshop_spec import SCORES, WorkshopSpec, spec_from_json

__all__ = ["OPEN_PHASES", "State", "StoredVote"]

#: The phases in which each kind of contribution is open; votes and proposals also need
#: the round unlocked.
OPEN_PHASES = {"vote": ("vote",), "propose": ("explore", "propose"),
               "comment": ("explore", "propose", "vote", "reveal")}
_NEEDS_UNLOCKED = ("vote", "propose")
_FULL_ROLES = ("facilitator", "wall")
_PUBLIC_ROLES = ("kiosk", "participant")


@dataclass(slots=True)
class StoredVote:
    """A voter's counted vote on one question: the tally key and when it was cast."""

    choice: str
    cast_at: datetime


class State:
    """A workshop's state. Build it with the ``created`` event, then :meth:`apply` the rest."""

    def __init__(self, code: str, created: Event) -> None:
        self.code = code
        self.spec: WorkshopSpec = spec_from_json(created.data["spec"])
        self.facilitator_hash: str = created.data["facilitator_hash"]
        self.view_hash: str = created.data["view_hash"]
        self.seq = created.seq
        self.last_at = created.at
        self.phase = "lobby"
        self.locked = False
        self.timer_ends_at: datetime | None = None
        self.current_question: str | None = None
        self.kiosks: dict[str, dict[str, Any]] = {}          # id -> kiosks row (without workshop)
        self.kiosk_by_hash: dict[str, str] = {}              # token hash -> id (revoked ones removed)
        self.participant_by_hash: dict[str, str] = {}        # token hash -> pseudonym
        self.proposals: list[dict[str, Any]] = []            # as shown in the state
        self.proposal_ids: set[str] = set()
        self.comments = 0
        self.votes: dict[tuple[str, str], StoredVote] = {}   # (question, voter) -> counted vote
        self.tallies: dict[str, dict[str, int]] = {}
        for question in self.spec.questions:
            keys = [o.id for o in question.options] if question.kind == "choice" else (
                list(SCORES) if question.kind == "score" else [])
            self.tallies[question.id] = dict.fromkeys(keys, 0)
        self.proposal_questions = [q.id for q in self.spec.questions if q.kind == "proposal"]
        self.acks: dict[str, tuple[str, dict[str, Any]]] = {}  # msg id -> (actor key, ack result)
        self.windows: dict[str, list[list[datetime | None]]] = {kind: [] for kind in OPEN_PHASES}
        self._views: dict[str, dict[str, Any]] = {}
        self._views_rev = -1
        self._questions_view = [{"id": q.id, "kind": q.kind, "text": dict(q.text),
                                 "options": [{"id": o.id, "label": dict(o.label)} for o in q.options]}
                                for q in self.spec.questions]

    # -- contribution windows --------------------------------------------------------------------
    def is_open(self, kind: str) -> bool:
        """Whether ``kind`` (vote, propose, comment) is open now."""
        return self.phase in OPEN_PHASES[kind] and not (kind in _NEEDS_UNLOCKED and self.locked)

    def was_open(self, kind: str, moment: datetime) -> bool:
        """Whether ``kind`` was open at ``moment`` (a kiosk's cast_at), now included."""
        return any(start <= moment and (end is None or moment <= end)  # type: ignore[operator]
                   for start, end in self.windows[kind])

    def _track_windows(self, before: dict[str, bool], at: datetime) -> None:
        for kind, was in before.items():
            now_open = self.is_open(kind)
            if now_open and not was:
                self.windows[kind].append([at, None])
            elif was and not now_open:
                self.windows[kind][-1][1] = at

    # -- applying events ----------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        """Change the state by ``event`` (the next one in the log)."""
        if event.seq != self.seq + 1:
            raise ValueError(f"workshop {self.code}: event {event.seq} does not follow event {self.seq}.")
        before = {kind: self.is_open(kind) for kind in OPEN_PHASES}
        data = event.data
        handler = getattr(self, f"_apply_{event.type}", None)
        if handler is None:
            raise ValueError(f"workshop {self.code}: event {event.seq} has unknown type {event.type!r}.")
        handler(event, data)
        self._track_windows(before, event.at)
        self.seq, self.last_at = event.seq, event.at
        if event.msg_id is not None:
            self.acks[event.msg_id] = (event.actor_key, event.ack)

    def _apply_joined(self, event: Event, data: dict[str, Any]) -> None:
        self.participant_by_hash[data["token_hash"]] = data["participant"]

    def _apply_vote(self, event: Event, data: dict[str, Any]) -> None:
        if not data["counted"]:
            return
        key = (data["question"], data["voter"])
        tally = self.tallies[data["question"]]
        old = self.votes.get(key)
        if old is not None:
            tally[old.choice] -= 1
        self.votes[key] = StoredVote(data["choice"], event.cast_at or event.at)
        tally[data["choice"]] += 1

    def _apply_propose(self, event: Event, data: dict[str, Any]) -> None:
        self.proposals.append({"id": data["proposal"], "title": data["title"],
                               "description": data.get("description"), "interventions": data["interventions"],
                               "kpis": data["kpis"], "author_role": event.role,
                               "kiosk": event.actor if event.role == "kiosk" else None, "late": data["late"]})
        self.proposal_ids.add(data["proposal"])
        for question in self.proposal_questions:
            self.tallies[question][data["proposal"]] = 0

    def _apply_comment(self, event: Event, data: dict[str, Any]) -> None:
        self.comments += 1

    def _apply_event(self, event: Event, data: dict[str, Any]) -> None:
        pass  # kiosk and phone events are kept in the log only

    def _apply_phase(self, event: Event, data: dict[str, Any]) -> None:
        self.phase = data["to"]
        self.locked = False
        self.timer_ends_at = parse_time(data.get("timer_ends_at"))

    _apply_reveal = _apply_phase
    _apply_close = _apply_phase

    def _apply_timer(self, event: Event, data: dict[str, Any]) -> None:
        self.timer_ends_at = parse_time(data.get("timer_ends_at"))

    def _apply_lock(self, event: Event, data: dict[str, Any]) -> None:
        self.locked = bool(data["locked"])
        if event.role == "system":  # the timer ran out: the round locks and the timer clears
            self.timer_ends_at = None

    def _apply_question(self, event: Event, data: dict[str, Any]) -> None:
        self.current_question = data["current"]

    def _apply_add_kiosk(self, event: Event, data: dict[str, Any]) -> None:
        self.kiosks[data["kiosk"]] = {"id": data["kiosk"], "name": data["name"], "token_hash": data["token_hash"],
                                      "added_at": iso(event.at), "revoked_at": None}
        self.kiosk_by_hash[data["token_hash"]] = data["kiosk"]

    def _apply_revoke_kiosk(self, event: Event, data: dict[str, Any]) -> None:
        kiosk = self.kiosks[data["kiosk"]]
        kiosk["revoked_at"] = iso(event.at)
        self.kiosk_by_hash.pop(kiosk["token_hash"], None)

    def checkpoint(self) -> tuple[Any, ...]:
        """What a timer's lock event changes, to take it back with :meth:`rollback`."""
        ends = {kind: (len(spans), list(spans[-1]) if spans else None) for kind, spans in self.windows.items()}
        return self.seq, self.last_at, self.locked, self.timer_ends_at, ends

    def rollback(self, checkpoint: tuple[Any, ...]) -> None:
        """Undo the events since :meth:`checkpoint` (only timer locks: they touch nothing else)."""
        self.seq, self.last_at, self.locked, self.timer_ends_at, ends = checkpoint
        for kind, (count, last) in ends.items():
            del self.windows[kind][count:]
            if last is not None:
                self.windows[kind][-1] = last
        self._views_rev = -1

    # -- views ----------------------------------------------------------------------------------------
    def view(self, role: str) -> dict[str, Any]:
        """The state as ``role`` sees it; cached per rev (do not mutate the result)."""
        if self._views_rev != self.seq:
            self._views, self._views_rev = {}, self.seq
        full = role in _FULL_ROLES
        if not full and role not in _PUBLIC_ROLES:
            raise ValueError(f"unknown role {role!r}")
        key = "full" if full else "public"
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = self._build_view(full)
        return view

    def _build_view(self, full: bool) -> dict[str, Any]:
        spec = self.spec
        show_tallies = full or self.phase in ("reveal", "closed")
        view: dict[str, Any] = {
            "rev": self.seq, "workshop": self.code, "scenario": spec.scenario, "title": dict(spec.title),
            "languages": list(spec.languages), "phase": self.phase, "locked": self.locked,
            "timer_ends_at": iso(self.timer_ends_at), "current_question": self.current_question,
            "questions": self._questions_view, "proposals": list(self.proposals),
            "tallies": {q: dict(t) for q, t in self.tallies.items()} if show_tallies else None,
            "area_m": list(spec.area_m),
            "counts": {"participants": len(self.participant_by_hash), "kiosks": len(self.kiosk_by_hash),
                       "proposals": len(self.proposals), "votes": len(self.votes)},
        }
        if full:
            view["kiosks"] = [{"id": k["id"], "name": k["name"], "revoked": k["revoked_at"] is not None}
                              for k in self.kiosks.values()]
        return view
