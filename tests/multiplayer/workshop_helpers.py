"""A workshop driven in tests: a fixed clock, counted tokens, keyed hashes, every record kept.

:class:`Room` wraps :class:`multiplayer.workshop.Workshop` the way the server does
(hello, handle, tick with an explicit ``now``) and checks on every outcome what must
always hold: records fit their tables, the log's seq grows by one, the state's rev is
the last seq, and no issued token ever reaches a record.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from multiplayer.protocol import Message
from multiplayer.records import TABLES, Record
from multiplayer.workshop import Actor, Outcome, Workshop, WorkshopSpec, spec_from_scenario
from tests.multiplayer.schema import validate
from world.scenario import load_scenario

__all__ = ["FACILITATOR", "T0", "TEST_KEY", "TREE", "WALL", "Room", "Tokens", "check_reply", "check_views",
           "hash_token", "helsinki_spec", "tables"]

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
TEST_KEY = b"civictwin-workshop-tests"
FACILITATOR = Actor("facilitator", "facilitator")
WALL = Actor("wall", "wall")
TREE = {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [12.5, -40.0]}, "params": {}}


def check_reply(type: str, reply: dict[str, Any]) -> None:
    """The reply to a ``type`` message matches the protocol's JSON Schema."""
    if reply["type"] == "ack":
        validate(reply, {"reveal": "ack_phase", "close": "ack_phase"}.get(type, f"ack_{type}"))
    else:
        validate(reply, "error")


def check_views(workshop: Workshop) -> None:
    """Every role's state, pushed, matches the protocol's JSON Schema."""
    for role in ("facilitator", "kiosk"):  # wall and participant share these views
        validate({"v": 1, "type": "state", "state": workshop.state_for(role)}, "state")


def hash_token(token: str) -> str:
    """The keyed hash the store would compute, with a fixed test key."""
    return hmac.new(TEST_KEY, token.encode(), hashlib.sha256).hexdigest()


class Tokens:
    """Deterministic tokens: ``tok-<prefix>-000001``, … (each ≥ 16 characters)."""

    def __init__(self, prefix: str = "t") -> None:
        self.prefix = prefix
        self.issued: list[str] = []

    def __call__(self) -> str:
        token = f"tok-{self.prefix}-{len(self.issued) + 1:06d}-xx"
        self.issued.append(token)
        return token


@lru_cache(maxsize=1)
def helsinki_spec() -> WorkshopSpec:
    """The spec of the shipped helsinki-centre scenario."""
    return spec_from_scenario(load_scenario("helsinki-centre"))


def tables(records: list[Record]) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """What a database holds after writing ``records`` in order: table -> key -> row."""
    out: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {name: {} for name in TABLES}
    for record in records:
        key = tuple(record.row[c] for c in TABLES[record.table][1])
        assert record.upsert or key not in out[record.table], f"{record.table} {key} inserted twice"
        out[record.table][key] = dict(record.row)
    return out


class Room:
    """One workshop under test, with its clock, tokens and every record it produced."""

    def __init__(self, code: str = "ROOM1234", spec: WorkshopSpec | None = None, now: datetime = T0, *,
                 schema_views: bool = True) -> None:
        self.now = now
        # Validate every state (views after a change, hello acks) against the schema: ~3 ms a state.
        self.schema_views = schema_views
        self.tokens = Tokens(code.lower())
        self.facilitator_token, self.view_token = self.tokens(), self.tokens()
        self.code = code
        self.workshop, created = Workshop.create(code, spec or helsinki_spec(), hash_token(self.facilitator_token),
                                                 hash_token(self.view_token), now)
        self.records: list[Record] = []
        self._ids = itertools.count(1)
        self.kiosk_tokens: dict[str, str] = {}
        self._check(created)

    # -- time ---------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> datetime:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)
        return self.now

    def tick(self) -> Outcome | None:
        outcome = self.workshop.tick(self.now)
        if outcome is not None:
            self._check(outcome.records)
        return outcome

    # -- messages -------------------------------------------------------------------------------------
    def message(self, type: str, id: str | None = None, **body: Any) -> Message:
        return Message(type, id or f"{self.code.lower()}-msg-{next(self._ids):06d}", body)

    def hello(self, role: str, **body: Any) -> Outcome:
        body.setdefault("workshop", self.code)
        outcome = self.workshop.hello(self.message("hello", role=role, **body), self.now, hash_token, self.tokens)
        self._check(outcome.records)
        if self.schema_views or outcome.reply["type"] == "error":
            check_reply("hello", outcome.reply)
        return outcome

    def join(self, role: str, **body: Any) -> tuple[Actor, dict[str, Any]]:
        """Hello that must succeed: the actor and the ack."""
        if role in ("facilitator", "wall"):
            body.setdefault("token", self.facilitator_token)
        outcome = self.hello(role, **body)
        assert outcome.reply["type"] == "ack", outcome.reply
        assert outcome.actor is not None and outcome.actor.role == role
        return outcome.actor, outcome.reply

    def send(self, actor: Actor, type: str, id: str | None = None, **body: Any) -> Outcome:
        return self.resend(actor, self.message(type, id, **body))

    def resend(self, actor: Actor, msg: Message) -> Outcome:
        outcome = self.workshop.handle(actor, msg, self.now, self.tokens, hash_token)
        self._check(outcome.records)
        check_reply(msg.type, outcome.reply)
        return outcome

    def ok(self, actor: Actor, type: str, **body: Any) -> dict[str, Any]:
        """Send a message that must be acked; the ack."""
        reply = self.send(actor, type, **body).reply
        assert reply["type"] == "ack", reply
        return reply

    def refused(self, actor: Actor, type: str, code: str, **body: Any) -> dict[str, Any]:
        """Send a message that must be refused with ``code``; the error."""
        outcome = self.send(actor, type, **body)
        assert outcome.reply["type"] == "error" and outcome.reply["code"] == code, outcome.reply
        assert outcome.records == [] and not outcome.changed, outcome
        return outcome.reply

    def add_kiosk(self, name: str = "library") -> Actor:
        """A new kiosk, joined: its actor (its token is kept in kiosk_tokens)."""
        reply = self.ok(FACILITATOR, "add_kiosk", name=name)
        self.kiosk_tokens[reply["kiosk"]] = reply["token"]
        actor, _ = self.join("kiosk", token=reply["token"])
        assert actor.id == reply["kiosk"]
        return actor

    def phase(self, to: str) -> dict[str, Any]:
        return self.ok(FACILITATOR, "phase", to=to)

    # -- views -----------------------------------------------------------------------------------------
    def state(self, role: str = "facilitator") -> dict[str, Any]:
        return self.workshop.state_for(role)

    def events(self) -> list[dict[str, Any]]:
        """The events table's rows, in seq order (JSON columns as text, as the store returns them)."""
        return [dict(r.row) for r in self.records if r.table == "events"]

    def restore(self) -> Workshop:
        return Workshop.restore(self.events())

    def _check(self, records: list[Record]) -> None:
        seq = max((r.row["seq"] for r in self.records if r.table == "events"), default=0)
        for record in records:
            assert set(record.row) == set(TABLES[record.table][0]), record
            assert record.row.get("workshop", record.row.get("code")) == self.code, record
            if record.table == "events":
                assert record.row["seq"] == seq + 1, (record.row["seq"], seq)
                seq = record.row["seq"]
            text = repr(record.row)
            leaked = [t for t in self.tokens.issued if t in text]
            assert not leaked, f"token in {record.table} record"
        self.records.extend(records)
        assert self.workshop.rev == seq
        assert self.state()["rev"] == seq
        if records and self.schema_views:
            check_views(self.workshop)
