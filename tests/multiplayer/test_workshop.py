"""The workshop state machine: joining, phases and timers, votes, proposals, kiosks, duplicates."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from multiplayer.workshop import Actor, Workshop, spec_from_scenario
from tests.multiplayer.workshop_helpers import FACILITATOR, T0, TREE, WALL, Room, hash_token, helsinki_spec, tables
from world.frame import LocalFrame
from world.scenario import ScenarioError, load_scenario


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def voting_room() -> tuple[Room, Actor, Actor]:
    """A room in the vote phase with a joined participant and kiosk."""
    room = Room()
    kiosk = room.add_kiosk()
    participant, _ = room.join("participant")
    room.phase("vote")
    return room, participant, kiosk


# -- the spec ----------------------------------------------------------------------------------------
def test_spec_reads_the_scenario_workshop_tables() -> None:
    scenario = load_scenario("helsinki-centre")
    spec = helsinki_spec()
    assert spec.scenario == "helsinki-centre" and spec.languages == tuple(scenario.extra["workshop"]["languages"])
    assert spec.rounds_s == {"explore": 300, "propose": 600, "vote": 300}
    assert [(q.id, q.kind) for q in spec.questions] == [(q["id"], q["kind"]) for q in scenario.extra["questions"]]
    assert [o.id for o in spec.questions[0].options] == [o["id"] for o in scenario.extra["questions"][0]["options"]]
    min_x, min_y, max_x, max_y = scenario.bounds
    assert spec.origin_m == ((min_x + max_x) / 2, (min_y + max_y) / 2) and spec.crs == scenario.crs
    assert spec.area_m == (-(max_x - min_x) / 2, -(max_y - min_y) / 2, (max_x - min_x) / 2, (max_y - min_y) / 2)
    framed = spec_from_scenario(scenario, LocalFrame(scenario.crs, min_x, min_y))
    assert framed.origin_m == (min_x, min_y) and framed.area_m == (0.0, 0.0, max_x - min_x, max_y - min_y)


@pytest.mark.parametrize("questions", [
    [{"id": "q", "kind": "poll", "text": {"en": "?"}}],
    [{"id": "q", "kind": "choice", "text": {"en": "?"}, "options": [{"id": "a", "label": {"en": "A"}}]}],
    [{"id": "q", "kind": "score", "text": {"en": "?"}, "options": [{"id": "a", "label": {"en": "A"}}]}],
    [{"id": "bad id!", "kind": "score", "text": {"en": "?"}}],
    [{"id": "q", "kind": "score"}],
    [{"id": "q", "kind": "score", "text": {"en": "?"}}, {"id": "q", "kind": "proposal", "text": {"en": "?"}}],
    "not a list",
])
def test_malformed_questions_raise_scenario_error(questions: object) -> None:
    scenario = load_scenario("helsinki-centre")
    broken = dataclasses.replace(scenario, extra={**scenario.extra, "questions": questions})
    with pytest.raises(ScenarioError, match="helsinki-centre"):
        spec_from_scenario(broken)


# -- creating and joining ---------------------------------------------------------------------------
def test_create_gives_the_workshop_row_and_the_first_event() -> None:
    room = Room("NEW12345")
    stored = tables(room.records)
    workshop = stored["workshops"][("NEW12345",)]
    assert workshop["facilitator_hash"] == hash_token(room.facilitator_token) and workshop["created_at"] == iso(0)
    (event,) = stored["events"].values()
    assert (event["seq"], event["type"], event["msg_id"]) == (1, "created", None)
    assert json.loads(event["data"])["spec"]["questions"][0]["id"] == "priority"
    state = room.state()
    assert (state["rev"], state["phase"], state["locked"], state["timer_ends_at"]) == (1, "lobby", False, None)
    assert state["area_m"] == list(helsinki_spec().area_m) and state["counts"] == dict.fromkeys(
        ("participants", "kiosks", "proposals", "votes"), 0)


def test_facilitator_and_wall_tokens() -> None:
    room = Room()
    assert room.join("facilitator")[0] == FACILITATOR
    assert room.join("wall", token=room.view_token)[0] == WALL
    assert room.join("wall", token=room.facilitator_token)[0] == WALL
    for role, token in (("facilitator", room.view_token), ("facilitator", "x" * 20), ("facilitator", None),
                        ("wall", "y" * 20), ("kiosk", room.facilitator_token)):
        outcome = room.hello(role, **({"token": token} if token else {}))
        assert outcome.reply["code"] == "bad_token" and outcome.actor is None and not outcome.records


def test_hello_checks_the_workshop_and_comes_first() -> None:
    room = Room()
    assert room.hello("participant", workshop="OTHER123").reply["code"] == "bad_workshop"
    assert room.hello("participant", workshop=room.code.lower()).reply["type"] == "ack"
    not_hello = room.workshop.hello(room.message("vote", question="priority", choice="shade"), room.now,
                                    hash_token, room.tokens)
    assert not_hello.reply["code"] == "not_joined"


def test_participant_join_resume_and_unknown_resume() -> None:
    room = Room()
    first, ack = room.join("participant", lang="fi")
    token = ack["participant"]
    assert first.id == "p1" and token in room.tokens.issued and ack["state"]["counts"]["participants"] == 1
    stored = tables(room.records)
    assert stored["participants"][(room.code, "p1")]["token_hash"] == hash_token(token)
    joined = [e for e in room.events() if e["type"] == "joined"]
    assert len(joined) == 1 and joined[0]["msg_id"] is None and joined[0]["actor"] == "p1"
    rev = room.workshop.rev
    again = room.hello("participant", resume=token)
    assert again.actor == first and again.reply["participant"] == token and not again.records
    assert room.workshop.rev == rev
    fresh = room.hello("participant", resume="never-issued-token-123")
    assert fresh.actor == Actor("participant", "p2") and fresh.reply["participant"] != token
    assert room.state()["counts"]["participants"] == 2


# -- phases, timers, locks ----------------------------------------------------------------------------
def test_phase_change_unlocks_clears_the_timer_and_starts_the_default_round() -> None:
    room = Room()
    ack = room.phase("explore")
    assert ack["timer_ends_at"] == iso(300) == room.state()["timer_ends_at"]
    room.ok(FACILITATOR, "lock")
    room.advance(10)
    room.phase("propose")
    state = room.state()
    assert (state["phase"], state["locked"], state["timer_ends_at"]) == ("propose", False, iso(610))
    room.phase("reveal")
    assert room.state()["timer_ends_at"] is None
    room.phase("lobby")
    assert room.state()["phase"] == "lobby"


def test_phase_to_the_current_phase_is_a_no_op() -> None:
    room = Room()
    room.phase("vote")
    room.advance(30)
    rev = room.workshop.rev
    outcome = room.send(FACILITATOR, "phase", to="vote")
    assert outcome.reply["type"] == "ack" and outcome.reply["timer_ends_at"] == iso(300)
    assert not outcome.records and not outcome.changed and room.workshop.rev == rev


def test_timer_set_add_clear_and_expiry_locks() -> None:
    room = Room()
    room.refused(FACILITATOR, "timer", "wrong_phase", add=30)
    room.refused(FACILITATOR, "timer", "bad_message", seconds=30, add=30)
    assert room.ok(FACILITATOR, "timer", seconds=60)["timer_ends_at"] == iso(60)
    assert room.ok(FACILITATOR, "timer", add=-20)["timer_ends_at"] == iso(40)
    assert room.ok(FACILITATOR, "timer", seconds=0)["timer_ends_at"] is None
    room.phase("vote")
    room.ok(FACILITATOR, "timer", add=60)
    room.advance(359.999)
    assert room.tick() is None and not room.state()["locked"]
    room.advance(5)
    outcome = room.tick()
    assert outcome is not None and outcome.changed and outcome.reply == {}
    (record,) = outcome.records
    assert (record.row["type"], record.row["role"], record.row["actor"], record.row["msg_id"]) == (
        "lock", "system", "timer", None)
    assert record.row["at"] == iso(360)  # when the timer ran out, not when the tick came
    state = room.state()
    assert state["locked"] and state["timer_ends_at"] is None and room.tick() is None


def test_a_message_after_the_timer_ran_out_is_refused_and_the_tick_logs_the_lock() -> None:
    room, participant, _ = voting_room()
    room.advance(301)
    rev = room.workshop.rev
    room.refused(participant, "vote", "locked", question="priority", choice="shade")  # stores nothing
    assert room.workshop.rev == rev and room.state()["timer_ends_at"] == iso(300)
    outcome = room.tick()
    assert outcome is not None and [r.row["at"] for r in outcome.records] == [iso(300)]


def test_an_accepted_message_after_the_timer_ran_out_logs_the_lock_first() -> None:
    room, _, _ = voting_room()
    room.advance(301)
    outcome = room.send(FACILITATOR, "question", current="priority")
    assert outcome.reply["type"] == "ack" and outcome.changed
    assert [(r.row["type"], r.row["at"]) for r in outcome.records if r.table == "events"] == [
        ("lock", iso(300)), ("question", iso(301))]
    assert room.state()["locked"] and room.tick() is None


def test_lock_and_unlock() -> None:
    room, participant, _ = voting_room()
    assert room.ok(FACILITATOR, "lock")["locked"] is True
    room.refused(participant, "vote", "locked", question="priority", choice="shade")
    assert not room.send(FACILITATOR, "lock", locked=True).records
    room.ok(FACILITATOR, "lock", locked=False)
    room.ok(participant, "vote", question="priority", choice="shade")


def test_reveal_close_and_closed_is_final() -> None:
    room, participant, _ = voting_room()
    room.ok(FACILITATOR, "reveal")
    assert room.state()["phase"] == "reveal"
    room.ok(FACILITATOR, "close")
    assert room.state()["phase"] == "closed"
    for type, body in (("phase", {"to": "vote"}), ("timer", {"seconds": 30}), ("lock", {}), ("reveal", {})):
        room.refused(FACILITATOR, type, "wrong_phase", **body)
    assert not room.send(FACILITATOR, "close").records and not room.send(FACILITATOR, "phase", to="closed").records
    room.refused(participant, "vote", "wrong_phase", question="priority", choice="shade")
    room.refused(participant, "comment", "wrong_phase", target="priority", text="Too late?")
    assert room.state()["phase"] == "closed"


def test_current_question() -> None:
    room = Room()
    assert room.ok(FACILITATOR, "question", current="street-score")["current_question"] == "street-score"
    assert room.state("participant")["current_question"] == "street-score"
    room.refused(FACILITATOR, "question", "unknown_question", current="nope")
    room.ok(FACILITATOR, "question", current=None)
    assert room.state()["current_question"] is None


# -- votes ---------------------------------------------------------------------------------------------
def test_votes_on_each_kind_of_question_and_bad_choices() -> None:
    room, participant, _ = voting_room()
    ack = room.ok(participant, "vote", question="priority", choice="water")
    assert (ack["late"], ack["counted"], ack["replaced"]) == (False, True, False)
    room.ok(participant, "vote", question="street-score", choice=4)
    for choice in ("4", 6, 0, True):
        room.refused(participant, "vote", "bad_choice", question="street-score", choice=choice)
    for choice in ("nope", 1):
        room.refused(participant, "vote", "bad_choice", question="priority", choice=choice)
    room.refused(participant, "vote", "bad_choice", question="best-proposal", choice="P1")
    room.refused(participant, "vote", "unknown_question", question="nope", choice="shade")
    tallies = room.state()["tallies"]
    assert tallies["priority"] == {"shade": 0, "quiet": 0, "water": 1, "seats": 0}
    assert tallies["street-score"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0} and tallies["best-proposal"] == {}
    votes = tables(room.records)["votes"]
    assert votes[(room.code, "street-score", "p1")]["choice"] == "4" and len(votes) == 2


def test_votes_only_in_the_vote_phase() -> None:
    room = Room()
    participant, _ = room.join("participant")
    for phase in ("lobby", "explore", "propose", "reveal"):
        if phase != "lobby":
            room.phase(phase)
        room.refused(participant, "vote", "wrong_phase", question="priority", choice="shade")


def test_a_second_vote_replaces_the_first() -> None:
    room, participant, _ = voting_room()
    room.ok(participant, "vote", question="priority", choice="shade")
    ack = room.ok(participant, "vote", question="priority", choice="quiet")
    assert ack["replaced"] is True
    assert room.state()["tallies"]["priority"] == {"shade": 0, "quiet": 1, "water": 0, "seats": 0}
    assert room.state()["counts"]["votes"] == 1
    (vote,) = tables(room.records)["votes"].values()
    assert vote["choice"] == "quiet" and vote["participant"] == "p1" and vote["kiosk"] is None


def test_kiosk_votes_need_a_session_and_count_per_session() -> None:
    room, _, kiosk = voting_room()
    room.refused(kiosk, "vote", "bad_message", question="priority", choice="shade")
    for session, choice in (("s1", "shade"), ("s2", "shade"), ("s1", "seats")):
        room.ok(kiosk, "vote", question="priority", choice=choice, session=session, cast_at=room.now)
    assert room.state()["tallies"]["priority"] == {"shade": 1, "quiet": 0, "water": 0, "seats": 1}
    votes = tables(room.records)["votes"]
    assert set(votes) == {(room.code, "priority", "k1/s1"), (room.code, "priority", "k1/s2")}
    assert votes[(room.code, "priority", "k1/s2")]["kiosk"] == "k1"


def test_late_kiosk_votes_inside_a_past_window_only() -> None:
    room, participant, kiosk = voting_room()  # the vote round opened at T0
    room.advance(100)
    room.ok(FACILITATOR, "lock")                     # closed at T0+100 s
    room.advance(50)
    room.ok(FACILITATOR, "lock", locked=False)       # open again from T0+150 s
    room.advance(50)
    room.phase("reveal")                             # closed at T0+200 s
    room.advance(600)
    ack = room.ok(kiosk, "vote", question="priority", choice="shade", session="s1", cast_at=T0 + timedelta(seconds=90))
    assert ack["late"] is True and ack["counted"] is True
    for seconds in (-10, 120, 300):                  # before the round, while locked, after it
        room.refused(kiosk, "vote", "wrong_phase", question="priority", choice="shade", session="s9",
                     cast_at=T0 + timedelta(seconds=seconds))
    room.refused(kiosk, "vote", "wrong_phase", question="priority", choice="shade", session="s9")
    room.refused(participant, "vote", "wrong_phase", question="priority", choice="shade",
                 cast_at=T0 + timedelta(seconds=90))  # a phone's cast_at is not trusted
    (vote,) = tables(room.records)["votes"].values()
    assert vote["late"] == 1 and vote["cast_at"] == iso(90) and vote["received_at"] == iso(800)


def test_an_older_late_vote_does_not_replace_a_newer_one() -> None:
    room, _, kiosk = voting_room()
    room.advance(60)
    room.ok(kiosk, "vote", question="priority", choice="quiet", session="s1", cast_at=room.now)
    room.advance(10)
    room.phase("reveal")
    older = room.send(kiosk, "vote", question="priority", choice="shade", session="s1",
                      cast_at=T0 + timedelta(seconds=30))
    assert older.reply["type"] == "ack" and older.reply["late"] and older.reply["replaced"] is False
    assert older.reply["counted"] is False
    assert [r.table for r in older.records] == ["events"]
    newer = room.ok(kiosk, "vote", question="priority", choice="water", session="s1",
                    cast_at=T0 + timedelta(seconds=61))
    assert newer["late"] and newer["replaced"] and newer["counted"]
    assert room.state()["tallies"]["priority"] == {"shade": 0, "quiet": 0, "water": 1, "seats": 0}


# -- proposals and comments ---------------------------------------------------------------------------
def test_proposals_are_numbered_and_become_choices() -> None:
    room = Room()
    participant, _ = room.join("participant")
    kiosk = room.add_kiosk()
    room.refused(participant, "propose", "wrong_phase", title="Too early", interventions=[TREE])
    room.phase("explore")
    first = room.ok(participant, "propose", title="  Shade  ", interventions=[TREE], kpis={"shade_m2": 38.5})
    second = room.ok(kiosk, "propose", title="Benches", interventions=[], session="s1", cast_at=room.now)
    assert (first["proposal"], second["proposal"], first["late"]) == ("P1", "P2", False)
    bad = {**TREE, "catalog": "helipad"}
    assert "helipad" in room.refused(participant, "propose", "bad_message", title="No", interventions=[TREE, bad])[
        "message"]
    state = room.state("participant")
    assert [(p["id"], p["title"], p["author_role"]) for p in state["proposals"]] == [
        ("P1", "Shade", "participant"), ("P2", "Benches", "kiosk")]
    assert state["proposals"][0]["kpis"] == {"shade_m2": 38.5} and state["counts"]["proposals"] == 2
    row = tables(room.records)["proposals"][(room.code, "P2")]
    assert (row["author"], row["session"], json.loads(row["interventions"])) == ("k1", "s1", [])
    room.phase("vote")
    room.ok(participant, "vote", question="best-proposal", choice="P2")
    assert room.state()["tallies"]["best-proposal"] == {"P1": 0, "P2": 1}


def test_late_kiosk_proposal() -> None:
    room = Room()
    kiosk = room.add_kiosk()
    room.phase("explore")
    room.advance(100)
    room.phase("propose")  # explore and propose make one open interval
    room.advance(100)
    room.phase("vote")
    ack = room.ok(kiosk, "propose", title="Offline idea", interventions=[TREE], cast_at=T0 + timedelta(seconds=150))
    assert ack["late"] is True and room.state()["proposals"][0]["late"] is True
    room.refused(kiosk, "propose", "wrong_phase", title="Way too late", cast_at=T0 + timedelta(seconds=250))


def test_comments_target_proposals_and_questions() -> None:
    room = Room()
    participant, _ = room.join("participant")
    room.refused(participant, "comment", "wrong_phase", target="priority", text="Hello")
    room.phase("explore")
    room.ok(participant, "propose", title="Trees", interventions=[TREE])
    assert room.ok(participant, "comment", target="P1", text="Yes!")["comment"] == "C1"
    outcome = room.send(FACILITATOR, "comment", target="priority", text="Think about shade.")
    assert outcome.reply["comment"] == "C2" and not outcome.changed
    room.refused(participant, "comment", "unknown_target", target="P9", text="?")
    kiosk = room.add_kiosk()
    room.advance(60)
    room.ok(FACILITATOR, "close")
    room.ok(kiosk, "comment", target="P1", text="Written offline.", session="s1", cast_at=T0 + timedelta(seconds=30))
    room.refused(kiosk, "comment", "wrong_phase", target="P1", text="Before the start.", cast_at=T0 - timedelta(1))
    comments = tables(room.records)["comments"]
    assert comments[(room.code, "C1")]["target"] == "P1" and comments[(room.code, "C2")]["author_role"] == "facilitator"
    assert comments[(room.code, "C3")]["cast_at"] == iso(30) and json.loads(room.events()[-1]["data"])["late"]


def test_events_are_logged_in_any_phase_and_change_nothing_visible() -> None:
    room = Room()
    kiosk = room.add_kiosk()
    for phase in ("lobby", "closed"):
        if phase != "lobby":
            room.ok(FACILITATOR, "close")
        outcome = room.send(kiosk, "event", name="session_start", data={"n": 1}, session="s1")
        assert outcome.reply["type"] == "ack" and not outcome.changed
        assert [r.table for r in outcome.records] == ["events"]
    assert json.loads(room.events()[-1]["data"]) == {"name": "session_start", "data": {"n": 1}, "session": "s1"}


# -- kiosks ---------------------------------------------------------------------------------------------
def test_add_and_revoke_kiosks() -> None:
    room = Room()
    first, second = room.add_kiosk("library"), room.add_kiosk("town hall")
    assert (first.id, second.id) == ("k1", "k2")
    row = tables(room.records)["kiosks"][(room.code, "k1")]
    assert row["token_hash"] == hash_token(room.kiosk_tokens["k1"]) and row["revoked_at"] is None
    assert json.loads(room.events()[-1]["ack"]) == {"kiosk": "k2"}  # the token is never stored
    before = room.message("event", name="session_start", session="s1")
    room.resend(first, before)
    room.advance(5)
    assert room.ok(FACILITATOR, "revoke_kiosk", kiosk="k1") | {"re": None} == {
        "v": 1, "type": "ack", "re": None, "kiosk": "k1", "revoked": True}
    assert tables(room.records)["kiosks"][(room.code, "k1")]["revoked_at"] == iso(5)
    assert room.hello("kiosk", token=room.kiosk_tokens["k1"]).reply["code"] == "bad_token"
    room.refused(first, "event", "bad_token", name="session_start")
    assert room.resend(first, before).reply.get("duplicate") is True  # what was stored before still answers
    assert not room.send(FACILITATOR, "revoke_kiosk", kiosk="k1").records
    room.refused(FACILITATOR, "revoke_kiosk", "unknown_target", kiosk="k9")
    assert room.state()["kiosks"] == [{"id": "k1", "name": "library", "revoked": True},
                                      {"id": "k2", "name": "town hall", "revoked": False}]
    assert room.state()["counts"]["kiosks"] == 1 and "kiosks" not in room.state("participant")


# -- duplicates ----------------------------------------------------------------------------------------
def test_duplicates_get_the_same_ack_and_store_nothing() -> None:
    room, participant, kiosk = voting_room()
    msg = room.message("vote", question="priority", choice="shade")
    first = room.resend(participant, msg).reply
    rev = room.workshop.rev
    again = room.resend(participant, msg)
    assert again.reply == {**first, "duplicate": True} and not again.records and not again.changed
    assert room.workshop.rev == rev
    added = room.message("add_kiosk", name="hall")
    token_ack = room.resend(FACILITATOR, added).reply
    assert room.resend(FACILITATOR, added).reply == {"v": 1, "type": "ack", "re": added.id, "kiosk": "k2",
                                                     "duplicate": True} and "token" in token_ack
    assert room.resend(kiosk, msg).reply["code"] == "bad_message"  # someone else's id


def test_refused_messages_are_not_remembered() -> None:
    room = Room()
    participant, _ = room.join("participant")
    msg = room.message("vote", question="priority", choice="shade")
    assert room.resend(participant, msg).reply["code"] == "wrong_phase"
    room.phase("vote")
    reply = room.resend(participant, msg).reply
    assert reply["type"] == "ack" and "duplicate" not in reply


# -- views ----------------------------------------------------------------------------------------------
def test_tallies_are_hidden_from_kiosks_and_phones_until_reveal() -> None:
    room, participant, _ = voting_room()
    room.ok(participant, "vote", question="priority", choice="seats")
    for role in ("kiosk", "participant"):
        assert room.state(role)["tallies"] is None and room.state(role)["counts"]["votes"] == 1
    for role in ("facilitator", "wall"):
        assert room.state(role)["tallies"]["priority"]["seats"] == 1
    room.ok(FACILITATOR, "reveal")
    assert room.state("participant")["tallies"] == room.state("wall")["tallies"]
    room.ok(FACILITATOR, "close")
    assert room.state("kiosk")["tallies"]["priority"]["seats"] == 1


def test_state_views_are_cached_per_rev() -> None:
    room, participant, _ = voting_room()
    assert room.state("wall") is room.state("facilitator") and room.state("kiosk") is room.state("participant")
    before = room.state("participant")
    room.ok(participant, "vote", question="priority", choice="seats")
    after = room.state("participant")
    assert after is not before and after["rev"] == before["rev"] + 1
    assert before["counts"]["votes"] == 0 and after["counts"]["votes"] == 1  # old views are not mutated


def test_two_workshops_never_see_each_others_data() -> None:
    spec = helsinki_spec()
    one, two = Room("ONE12345", spec), Room("TWO12345", spec)
    assert one.hello("facilitator", token=two.facilitator_token).reply["code"] == "bad_token"
    assert one.hello("participant", workshop="TWO12345").reply["code"] == "bad_workshop"
    kiosk = one.add_kiosk()
    assert two.hello("kiosk", token=one.kiosk_tokens["k1"]).reply["code"] == "bad_token"
    token = one.join("participant")[1]["participant"]
    assert two.hello("participant", resume=token).actor == Actor("participant", "p1")  # a fresh p1 of its own
    one.phase("vote")
    two.phase("vote")
    msg = one.message("vote", question="priority", choice="shade", session="s1")
    one.resend(kiosk, msg)
    assert "duplicate" not in two.resend(Actor("participant", "p1"), msg).reply
    assert one.state()["counts"]["participants"] == two.state()["counts"]["participants"] == 1
    assert all(r.row.get("workshop", r.row.get("code")) == "TWO12345" for r in two.records)
    assert isinstance(Workshop.restore(one.events()), Workshop) and Workshop.restore(two.events()).code == "TWO12345"
