"""The workshop state machine: a message in, a reply and the rows to store out.

Pure and synchronous, like :mod:`multiplayer.protocol`: it reads no clock (every call
takes ``now``, a timezone-aware time) and does no I/O (tokens are made and hashed by the
callables the server passes in). The server stores :attr:`Outcome.records` in one
transaction, then sends :attr:`Outcome.reply`, then pushes :meth:`Workshop.state_for`
to the workshop's connections when :attr:`Outcome.changed`.

Every accepted state-changing message becomes one event of the append-only log (plus
rows of the query tables); :meth:`Workshop.restore` replays the log and gets the same
workshop back, duplicates' answers included. Timer expiry is an event too: :meth:`tick`
(and every hello or message, before anything else) locks a round whose timer ran out.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from multiplayer._workshop_events import Event, projection, to_ms
from multiplayer._workshop_rules import ALLOWED, decide
from multiplayer._workshop_spec import Option, Question, WorkshopSpec, spec_from_scenario, spec_to_json
from multiplayer._workshop_state import State
from multiplayer.protocol import CLIENT_TYPES, Message, ProtocolError, ack, error
from multiplayer.records import Record

__all__ = ["ALLOWED", "Actor", "Option", "Outcome", "Question", "Workshop", "WorkshopSpec", "spec_from_scenario"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a connection is once it said hello: ``("facilitator", "facilitator")``,
    ``("kiosk", "k1")``, ``("participant", "p3")`` or ``("wall", "wall")``."""

    role: str
    id: str


@dataclass(slots=True)
class Outcome:
    """What handling one message (or a tick) gives the server.

    ``records`` are to be stored before ``reply`` is sent; they are empty for errors and
    duplicates. An accepted message that finds a round whose timer has run out carries
    that round's lock event first. ``reply`` is empty for :meth:`Workshop.tick`.
    """

    reply: dict[str, Any]
    records: list[Record] = field(default_factory=list)
    changed: bool = False
    actor: Actor | None = None


#: Event types that change nothing anybody sees in the state (only ``rev``).
_INVISIBLE = ("comment", "event")


class Workshop:
    """One workshop: its state, rebuilt from its events, and the rules that change it."""

    def __init__(self, state: State) -> None:
        self._state = state

    @property
    def code(self) -> str:
        """The join code."""
        return self._state.code

    @property
    def spec(self) -> WorkshopSpec:
        """What the workshop took from its scenario."""
        return self._state.spec

    @property
    def rev(self) -> int:
        """The seq of the last event: it increases with every change."""
        return self._state.seq

    @classmethod
    def create(cls, code: str, spec: WorkshopSpec, facilitator_hash: str, view_hash: str,
               now: datetime) -> tuple[Workshop, list[Record]]:
        """A new workshop in the lobby, and its ``workshops`` row and ``created`` event (seq 1)."""
        event = Event(1, "created", "system", "create", to_ms(now),
                      {"spec": spec_to_json(spec), "facilitator_hash": facilitator_hash, "view_hash": view_hash},
                      {"workshop": code})
        return cls(State(code, event)), [*projection(code, event), Record("events", event.row(code))]

    @classmethod
    def restore(cls, events: Iterable[Mapping[str, Any]]) -> Workshop:
        """The workshop whose log is ``events`` (rows of the events table in seq order)."""
        rows = iter(events)
        first = next(rows, None)
        if first is None:
            raise ValueError("a workshop cannot be restored from an empty event log.")
        created = Event.from_row(first)
        if created.type != "created" or created.seq != 1:
            raise ValueError(f"workshop {first.get('workshop')}: the log starts with {created.type!r}, not 'created'.")
        state = State(str(first["workshop"]), created)
        for row in rows:
            state.apply(Event.from_row(row))
        return cls(state)

    def state_for(self, role: str) -> dict[str, Any]:
        """The state as ``role`` sees it (cached per rev: treat it as read-only)."""
        return self._state.view(role)

    # -- messages ---------------------------------------------------------------------------------
    def hello(self, msg: Message, now: datetime, hash_token: Callable[[str], str],
              new_token: Callable[[], str]) -> Outcome:
        """Answer a connection's first message: who it is (checking its token), and the state."""
        now = self._clock(now)
        checkpoint = self._state.checkpoint()
        records = self._expire(now)
        try:
            if msg.type != "hello":
                raise ProtocolError("not_joined", "Say hello first: send a hello message with your role and the "
                                                  "workshop code.", msg.id)
            actor, extra, more = self._join(msg, now, hash_token, new_token)
        except ProtocolError as exc:
            return self._refuse(checkpoint, error(msg.id, exc.code, exc.message))
        records += more
        reply = ack(msg.id, actor=actor.id, **extra, state=self.state_for(actor.role))
        return Outcome(reply, records, bool(records), actor)

    def handle(self, actor: Actor, msg: Message, now: datetime, new_token: Callable[[], str],
               hash_token: Callable[[str], str]) -> Outcome:
        """Answer a message from a connection that said hello as ``actor``."""
        now = self._clock(now)
        state = self._state
        checkpoint = state.checkpoint()
        records = self._expire(now)
        try:
            if msg.type == "hello":
                raise ProtocolError("already_joined", "This connection has already joined a workshop.", msg.id)
            if msg.type not in CLIENT_TYPES:
                raise ProtocolError("unknown_type", f"There is no message type {msg.type!r}.", msg.id)
            if msg.type not in ALLOWED.get(actor.role, ()):
                raise ProtocolError("forbidden", f"A {actor.role} may not send {msg.type} messages.", msg.id)
            stored = state.acks.get(msg.id)
            if stored is not None:  # answered even for a kiosk revoked since: it was stored
                if stored[0] != f"{actor.role}:{actor.id}":
                    raise ProtocolError("bad_message", "This message id was already used by another client; send "
                                                       "the message with a new id.", msg.id)
                return self._refuse(checkpoint, ack(msg.id, **stored[1], duplicate=True))
            kiosk = state.kiosks.get(actor.id) if actor.role == "kiosk" else None
            if actor.role == "kiosk" and (kiosk is None or kiosk["revoked_at"] is not None):
                raise ProtocolError("bad_token", "This kiosk was revoked by the facilitator; ask for a new kiosk "
                                                 "token.", msg.id)
            decision = decide(state, actor.role, actor.id, msg, now, new_token, hash_token)
        except ProtocolError as exc:
            return self._refuse(checkpoint, error(msg.id, exc.code, exc.message))
        changed = bool(records)
        if decision.event is not None:
            records += self._commit(decision.event)
            changed = changed or decision.event.type not in _INVISIBLE
        return Outcome(ack(msg.id, **decision.ack, **decision.extra), records, changed)

    def tick(self, now: datetime) -> Outcome | None:
        """Lock the round when its timer has run out (``timer_ends_at`` ≤ ``now``)."""
        records = self._expire(self._clock(now))
        return Outcome({}, records, True) if records else None

    # -- internals ------------------------------------------------------------------------------------
    def _clock(self, now: datetime) -> datetime:
        # Milliseconds, as stored; never before the last event, so the log's times only grow.
        return max(to_ms(now), self._state.last_at)

    def _refuse(self, checkpoint: tuple[Any, ...], reply: dict[str, Any]) -> Outcome:
        # Errors and duplicates store nothing: a timer lock logged while handling the message
        # is taken back (it was not applied to anything else) and left to the next tick.
        if self._state.seq != checkpoint[0]:
            self._state.rollback(checkpoint)
        return Outcome(reply, [], False)

    def _commit(self, event: Event) -> list[Record]:
        state = self._state
        state.apply(event)
        kiosk = state.kiosks.get(event.data.get("kiosk", "")) if event.type in ("add_kiosk", "revoke_kiosk") else None
        return [Record("events", event.row(state.code)), *projection(state.code, event, kiosk)]

    def _expire(self, now: datetime) -> list[Record]:
        state = self._state
        ends = state.timer_ends_at
        if ends is None or ends > now:
            return []
        at = max(ends, state.last_at)  # the round locked when its timer ran out
        return self._commit(Event(state.seq + 1, "lock", "system", "timer", at, {"locked": True}, {}))

    def _join(self, msg: Message, now: datetime, hash_token: Callable[[str], str],
              new_token: Callable[[], str]) -> tuple[Actor, dict[str, Any], list[Record]]:
        body, state = msg.body, self._state
        code = str(body.get("workshop", "")).upper()
        if code != state.code:
            raise ProtocolError("bad_workshop", f"This is workshop {state.code}, not {code}; check the code.", msg.id)
        role, token = body.get("role"), body.get("token")
        token_hash = hash_token(token) if isinstance(token, str) and token else None
        if role in ("facilitator", "wall"):
            hashes = [state.facilitator_hash] if role == "facilitator" else [state.facilitator_hash, state.view_hash]
            # Compare with every hash (no early exit), in constant time.
            matches = [token_hash is not None and hmac.compare_digest(token_hash, h) for h in hashes]
            if not any(matches):
                which = "facilitator token" if role == "facilitator" else "facilitator or view token"
                raise ProtocolError("bad_token", f"That is not this workshop's {which}; use the one printed by "
                                                 "'civictwin workshop create'.", msg.id)
            return Actor(role, role), {}, []
        if role == "kiosk":
            kiosk = state.kiosk_by_hash.get(token_hash or "")
            if kiosk is None:
                raise ProtocolError("bad_token", "That kiosk token is unknown or was revoked; ask the facilitator "
                                                 "for a new one.", msg.id)
            return Actor("kiosk", kiosk), {}, []
        if role != "participant":
            raise ProtocolError("bad_message", "'role' must be facilitator, kiosk, participant or wall.", msg.id)
        resume = body.get("resume")
        if isinstance(resume, str) and resume:
            participant = state.participant_by_hash.get(hash_token(resume))
            if participant is not None:
                return Actor("participant", participant), {"participant": resume}, []
        token = new_token()
        participant = f"p{len(state.participant_by_hash) + 1}"
        event = Event(state.seq + 1, "joined", "participant", participant, now,
                      {"participant": participant, "token_hash": hash_token(token), "lang": body.get("lang")})
        return Actor("participant", participant), {"participant": token}, self._commit(event)
