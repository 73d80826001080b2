"""Replaying the log: Workshop.restore(every event) is the live workshop again.

A scripted workshop and a Hypothesis-driven one (random messages from random roles, a
monotone clock) are restored from their events; every role's state, every duplicate's
answer and what happens next must be the same as live.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from multiplayer.protocol import ROLES, Message
from multiplayer.workshop import Actor, Outcome, Workshop
from tests.multiplayer.workshop_helpers import FACILITATOR, T0, TREE, Room, check_views, hash_token, tables


def views(workshop: Workshop) -> dict[str, str]:
    return {role: json.dumps(workshop.state_for(role), sort_keys=True) for role in ROLES}


def visible(workshop: Workshop) -> dict[str, Any]:
    return {role: {k: v for k, v in workshop.state_for(role).items() if k != "rev"} for role in ROLES}


def assert_same(live: Room, restored: Workshop, sent: list[tuple[Actor, Message]]) -> None:
    """Same views, and the same answer to a repeat of every stored message."""
    assert views(restored) == views(live.workshop)
    stored = {e["msg_id"] for e in live.events() if e["msg_id"]}
    for actor, msg in sent:
        if msg.id in stored:
            mine = restored.handle(actor, msg, live.now, live.tokens, hash_token)
            theirs = live.resend(actor, msg)
            assert mine.reply == theirs.reply and mine.reply.get("duplicate") is True
            assert [r.row for r in mine.records] == [r.row for r in theirs.records]
    assert views(restored) == views(live.workshop)


def check_tables(room: Room) -> None:
    """The query tables agree with the state: one vote per voter and question, same tallies."""
    stored, state = tables(room.records), room.state()
    tallies: dict[str, dict[str, int]] = {q: dict.fromkeys(t, 0) for q, t in state["tallies"].items()}
    for vote in stored["votes"].values():
        tallies[vote["question"]][vote["choice"]] += 1
    assert tallies == state["tallies"]
    assert sum(sum(t.values()) for t in tallies.values()) == state["counts"]["votes"] == len(stored["votes"])
    assert [p["id"] for p in state["proposals"]] == [key[1] for key in stored["proposals"]]
    assert len(stored["participants"]) == state["counts"]["participants"]
    assert [(k["id"], k["revoked"]) for k in state["kiosks"]] == [
        (row["id"], row["revoked_at"] is not None) for row in stored["kiosks"].values()]


def test_scripted_workshop_restores_and_continues_alike() -> None:
    room = Room()
    sent: list[tuple[Actor, Message]] = []

    def send(actor: Actor, type: str, **body: Any) -> None:
        msg = room.message(type, **body)
        sent.append((actor, msg))
        assert room.resend(actor, msg).reply["type"] == "ack"

    kiosk = room.add_kiosk()
    phone, _ = room.join("participant", lang="fi")
    room.phase("explore")
    send(phone, "propose", title="Trees on the square", interventions=[TREE], kpis={"shade_m2": 120.0})
    room.advance(30)
    send(kiosk, "propose", title="Rain garden", interventions=[{**TREE, "catalog": "rain-garden"}], session="s1",
         cast_at=room.now)
    send(kiosk, "comment", target="P1", text="Good shade.", session="s2")
    room.phase("vote")
    send(phone, "vote", question="best-proposal", choice="P2")
    send(kiosk, "vote", question="street-score", choice=2, session="s3", cast_at=room.now)
    room.advance(400)
    assert room.tick() is not None
    send(kiosk, "vote", question="priority", choice="water", session="s3", cast_at=T0 + timedelta(seconds=40))
    send(FACILITATOR, "revoke_kiosk", kiosk="k1")
    room.ok(FACILITATOR, "reveal")
    check_tables(room)
    restored = room.restore()
    assert (restored.code, restored.rev, restored.spec) == (room.code, room.workshop.rev, room.workshop.spec)
    assert_same(room, restored, sent)
    # Both continue alike: the next ids follow on (k2, p2, P3), with the same records.
    for actor, type, body in ((FACILITATOR, "add_kiosk", {"name": "hall"}), (FACILITATOR, "phase", {"to": "propose"}),
                              (phone, "propose", {"title": "Benches"})):
        msg = room.message(type, **body)
        mine = restored.handle(actor, msg, room.now, room.tokens, hash_token)
        theirs = room.resend(actor, msg)
        assert mine.reply.keys() == theirs.reply.keys() and [r.table for r in mine.records] == [
            r.table for r in theirs.records]
        assert json.loads(mine.records[0].row["ack"]) == json.loads(theirs.records[0].row["ack"])
    assert restored.state_for("wall")["proposals"][-1]["id"] == "P3"
    hello = room.message("hello", role="participant", workshop=room.code)
    assert restored.hello(hello, room.now, hash_token, room.tokens).actor == Actor("participant", "p2")


@pytest.mark.parametrize("mangle", ["empty", "no_created", "gap"])
def test_restore_refuses_a_broken_log(mangle: str) -> None:
    room = Room()
    room.phase("explore")
    room.phase("vote")
    events = room.events()
    broken = {"empty": [], "no_created": events[1:], "gap": [events[0], events[2]]}[mangle]
    with pytest.raises(ValueError, match=r"event|log"):
        Workshop.restore(broken)


# -- random sessions ----------------------------------------------------------------------------------
OPS = ("vote", "join", "join", "resume", "kiosk_hello", "kiosk_hello", "vote", "vote", "vote", "vote", "vote",
       "vote", "propose", "propose", "propose", "comment", "event", "phase", "phase", "timer", "timer_add", "lock",
       "unlock", "unlock", "reveal", "close", "question", "add_kiosk", "add_kiosk", "revoke_kiosk", "tick",
       "duplicate", "duplicate")
PHASE_TO = ("vote", "explore", "propose", "vote", "lobby", "vote")
QUESTIONS = ("priority", "street-score", "best-proposal", "nope")
#: Per question, choices that are mostly right (and a few that are not).
CHOICES: dict[str, tuple[Any, ...]] = {
    "priority": ("shade", "quiet", "water", "seats", "nope"), "street-score": (1, 2, 3, 4, 5, 7, "3", True),
    "best-proposal": ("P1", "P2", "P3", "P9"), "nope": ("shade",)}
STEP = st.tuples(st.integers(0, 30_000), st.sampled_from(OPS), st.integers(0, 999), st.integers(0, 999),
                 st.integers(-400, 30))


class Session:
    """Random messages from random roles against one room, keeping what was sent."""

    def __init__(self) -> None:
        room = self.room = Room("RANDOM42", schema_views=False)
        self.actors: list[Actor] = [FACILITATOR, room.join("wall", token=room.view_token)[0], room.add_kiosk(),
                                    room.join("participant")[0], room.add_kiosk("hall")]
        self.phone_tokens: list[str] = []
        self.sent: list[tuple[Actor, Message]] = []
        room.phase("propose")  # start with a proposal and the vote open; the steps take it from there
        self.send(self.actors[3], "propose", title="Trees", interventions=[TREE])
        room.phase("vote")

    def pick(self, a: int) -> Actor:
        """Mostly a kiosk or a phone, sometimes anybody (who may be forbidden)."""
        crowd = [actor for actor in self.actors if actor.role in ("kiosk", "participant")]
        return crowd[a % len(crowd)] if crowd and a % 5 != 4 else self.actors[a % len(self.actors)]

    def send(self, actor: Actor, type: str, **body: Any) -> Outcome:
        msg = self.room.message(type, **body)
        self.sent.append((actor, msg))
        return self.room.resend(actor, msg)

    def step(self, advance_ms: int, op: str, a: int, b: int, offset_s: int) -> Outcome | None:
        room = self.room
        room.advance(advance_ms / 1000)
        # Small numbers (what Hypothesis tries first) give ordinary messages; others odd ones.
        cast = {"cast_at": room.now + timedelta(seconds=offset_s)} if b % 3 != 2 else {}
        session = {"session": f"s{b % 4}"} if b % 5 != 4 else {}
        boss = FACILITATOR if b % 4 != 3 else self.pick(a)
        if op in ("join", "resume", "kiosk_hello"):
            if op == "kiosk_hello":
                tokens = list(room.kiosk_tokens.values()) or ["unknown-kiosk-token"]
                outcome = room.hello("kiosk", token=tokens[a % len(tokens)])
            else:
                resume = {"resume": self.phone_tokens[a % len(self.phone_tokens)]} if (
                    op == "resume" and self.phone_tokens) else {}
                outcome = room.hello("participant", lang=("fi", "sv", None)[a % 3], **resume)
                if outcome.reply.get("participant") and outcome.reply["participant"] not in self.phone_tokens:
                    self.phone_tokens.append(outcome.reply["participant"])
            if outcome.actor is not None and outcome.actor not in self.actors:
                self.actors.append(outcome.actor)
            return outcome
        if op == "vote":
            question = QUESTIONS[a % 4]
            choices = CHOICES[question]
            return self.send(self.pick(a), "vote", question=question, choice=choices[b % 8 % len(choices)],
                             **session, **cast)
        if op == "propose":
            catalog = "helipad" if b % 7 == 6 else ("tree-small", "park", "bench")[b % 3]
            return self.send(self.pick(a), "propose", title=f"Idea {a}", interventions=[{**TREE, "catalog": catalog}],
                             kpis={"shade_m2": float(b)}, **session, **cast)
        if op == "comment":
            return self.send(self.pick(a), "comment", target=("priority", "P1", "P2", "nope")[b % 4], text="Hm.",
                             **session, **cast)
        if op == "event":
            return self.send(self.pick(a), "event", name="placed", data={"n": b}, **session, **cast)
        if op == "tick":
            return room.tick()
        if op == "duplicate":
            if not self.sent:
                return None
            actor, msg = self.sent[a % len(self.sent)]
            return room.resend(actor, msg)
        if op == "add_kiosk":
            outcome = self.send(boss, "add_kiosk", name=f"kiosk {a}")
            if outcome.reply.get("token"):
                room.kiosk_tokens[outcome.reply["kiosk"]] = outcome.reply["token"]
            return outcome
        body: dict[str, Any] = {
            "phase": {"to": PHASE_TO[a % 6]}, "timer": {"seconds": (0, 5, 30, 120)[a % 4]},
            "timer_add": {"add": (-60, -5, 10, 60)[a % 4]}, "lock": {"locked": True}, "unlock": {"locked": False},
            "reveal": {}, "close": {}, "question": {"current": (None, "priority", "street-score", "nope")[a % 4]},
            "revoke_kiosk": {"kiosk": f"k{a % 3 + 1}"},
        }[op]
        if op == "close" and a % 10 != 9:  # closing is final and revealing stays: keep both rare
            op = "lock"
        elif op == "reveal" and a % 3 != 2:
            op = "unlock"
        type = {"timer_add": "timer", "unlock": "lock"}.get(op, op)
        return self.send(boss, type, **body)


@settings(max_examples=150, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate, Phase.shrink])
@given(steps=st.lists(STEP, min_size=20, max_size=100))
def test_random_sessions_restore_to_the_same_workshop(steps: list[tuple[int, str, int, int, int]]) -> None:
    session = Session()
    room = session.room
    snapshots = {room.workshop.rev: views(room.workshop)}
    for step in steps:
        before_rev, before = room.workshop.rev, visible(room.workshop)
        outcome = session.step(*step)
        if outcome is not None and (outcome.reply.get("type") == "error" or outcome.reply.get("duplicate")):
            assert outcome.records == [] and not outcome.changed, step
        if outcome is not None and not outcome.changed:
            assert visible(room.workshop) == before, step
        if room.workshop.rev == before_rev:
            assert visible(room.workshop) == before, step  # refusals and no-ops change nothing
        snapshots[room.workshop.rev] = views(room.workshop)
    check_tables(room)
    check_views(room.workshop)
    events = room.events()
    revs = sorted(snapshots)
    for rev in {revs[len(revs) // 3], revs[2 * len(revs) // 3]}:
        assert views(Workshop.restore(events[:rev])) == snapshots[rev]
    assert_same(room, room.restore(), session.sent)
