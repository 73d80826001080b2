"""Replaying a real workshop database: past states, phase moments, participation over time."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from game.wall.replay import Replay
from multiplayer._export_data import WorkshopData
from multiplayer.errors import MultiplayerError
from multiplayer.protocol import client_message, dump, parse
from multiplayer.store import Store
from multiplayer.workshop import Actor, Workshop, spec_from_scenario
from world.scenario import load_scenario

T0 = datetime(2026, 6, 21, 9, 0, tzinfo=UTC)  # 12:00 in Helsinki (EEST)
FACILITATOR = Actor("facilitator", "facilitator")
CODE = "RPL234"


def tree(x: float, y: float) -> dict[str, Any]:
    return {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [x, y]}, "params": {}}


@dataclass
class Run:
    """A workshop on a real database, driven message by message the way the server drives it."""

    store: Store
    now: datetime = T0
    workshop: Workshop | None = None
    tokens: list[str] = field(default_factory=list)

    def token(self) -> str:
        self.tokens.append(f"replay-token-{len(self.tokens):04d}-zz")
        return self.tokens[-1]

    def create(self) -> None:
        spec = spec_from_scenario(load_scenario("helsinki-centre"))
        self.workshop, records = Workshop.create(CODE, spec, self.store.hash_token(self.token()),
                                                 self.store.hash_token(self.token()), self.now)
        self.store.write(records)

    def wait(self, seconds: float) -> None:
        assert self.workshop is not None
        self.now += timedelta(seconds=seconds)
        outcome = self.workshop.tick(self.now)
        if outcome is not None:
            self.store.write(outcome.records)

    def hello(self, role: str, **body: Any) -> Actor:
        assert self.workshop is not None
        msg = parse(dump(client_message("hello", role=role, workshop=CODE, **body)))
        outcome = self.workshop.hello(msg, self.now, self.store.hash_token, self.token)
        self.store.write(outcome.records)
        assert outcome.reply["type"] == "ack" and outcome.actor is not None, outcome.reply
        return outcome.actor

    def send(self, actor: Actor, type: str, **body: Any) -> dict[str, Any]:
        assert self.workshop is not None
        outcome = self.workshop.handle(actor, parse(dump(client_message(type, **body))), self.now, self.token,
                                       self.store.hash_token)
        self.store.write(outcome.records)
        assert outcome.reply["type"] == "ack", outcome.reply
        return outcome.reply


def run_workshop(store: Store) -> Run:
    """Lobby → explore → propose → vote (timer runs out) → reveal → closed, with six phones
    (two languages), a kiosk with three visits (one in Finnish), three proposals and a
    replaced vote."""
    r = Run(store)
    r.create()
    kiosk = r.hello("kiosk", token=r.send(FACILITATOR, "add_kiosk", name="Library")["token"])
    phones = [r.hello("participant", lang="fi" if i % 3 == 0 else "en") for i in range(4)]
    r.wait(90)
    r.send(FACILITATOR, "phase", to="explore")
    phones += [r.hello("participant", lang="sv"), r.hello("participant")]
    r.send(kiosk, "event", name="session_start", session="visit-0001-aaaa", data={"language": "en"})
    r.send(phones[0], "propose", title="Shade on the square", interventions=[tree(0, 0), tree(8, 0)],
           kpis={"shade_pct": 0.4})
    r.wait(120)
    r.send(FACILITATOR, "phase", to="propose")
    r.send(kiosk, "propose", title="Benches and trees", session="visit-0001-aaaa", cast_at=r.now.isoformat(),
           interventions=[tree(100, 100), {"catalog": "bench", "geometry": {"type": "Point", "coordinates":
                                                                          [104, 100]}, "params": {}}],
           kpis={"shade_pct": 0.2, "seats_in_shade": 3})
    r.send(kiosk, "event", name="session_end", session="visit-0001-aaaa", data={"language": "en", "duration_s": 80})
    r.send(kiosk, "event", name="session_start", session="visit-0002-bbbb", data={"language": "fi"})
    r.send(kiosk, "propose", title="A green street", session="visit-0002-bbbb", cast_at=r.now.isoformat(),
           interventions=[tree(0, 4)], kpis={})
    r.send(kiosk, "event", name="session_end", session="visit-0002-bbbb", data={"language": "de"})
    r.wait(200)
    r.send(FACILITATOR, "phase", to="vote")
    for i, phone in enumerate(phones):
        r.send(phone, "vote", question="priority", choice=("shade", "quiet", "water", "seats")[i % 4])
        r.send(phone, "vote", question="best-proposal", choice="P1" if i < 3 else "P2")
        r.wait(20)
    r.send(phones[5], "vote", question="best-proposal", choice="P3")  # replaces P2
    r.send(phones[1], "vote", question="street-score", choice=4)
    r.send(kiosk, "event", name="session_start", session="visit-0003-cccc", data={"language": "en"})
    r.send(kiosk, "vote", question="best-proposal", choice="P2", session="visit-0003-cccc", cast_at=r.now.isoformat())
    r.wait(400)  # the vote round's 300 s timer runs out: the round locks
    r.send(FACILITATOR, "reveal")
    r.wait(60)
    r.send(FACILITATOR, "close")
    return r


@pytest.fixture(scope="module")
def workshop_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    db = tmp_path_factory.mktemp("replay") / "workshop.db"
    with Store(db) as store:
        run = run_workshop(store)
        assert run.workshop is not None
        live = run.workshop.state_for("wall")
    return db, live


@pytest.fixture(scope="module")
def replay(workshop_db: tuple[Path, dict[str, Any]]) -> Replay:
    return Replay.open(workshop_db[0], CODE)


def test_final_state_is_the_live_state_and_matches_the_data(replay: Replay, workshop_db) -> None:
    _, live = workshop_db
    final = replay.state_at()
    assert final == live
    data = replay.data
    assert isinstance(data, WorkshopData)
    assert final["counts"] == {"participants": len(data.participants), "kiosks": len(data.kiosks),
                               "proposals": len(data.proposals), "votes": len(data.votes)}
    assert final["counts"] == {"participants": 6, "kiosks": 1, "proposals": 3, "votes": 14}
    assert final["tallies"] == data.tallies()
    assert final["phase"] == "closed"


def test_moments_are_the_phases_ends(replay: Replay) -> None:
    phases = replay.data.phases()
    assert [m.phase for m in replay.moments] == [p["phase"] for p in phases]
    assert [m.phase for m in replay.moments] == ["lobby", "explore", "propose", "vote", "reveal", "closed"]
    assert [m.index for m in replay.moments] == list(range(6))
    assert replay.moments[-1].seq == replay.last_seq
    for moment, phase in zip(replay.moments, phases, strict=True):
        state = replay.state_at(moment.seq)
        assert state["phase"] == moment.phase and state["rev"] == moment.seq
        ended = phase["ended_at"] or replay.data.events[-1]["at"]
        assert moment.at == datetime.fromisoformat(ended)
    for before, after in pairwise(replay.moments):
        assert replay.state_at(before.seq + 1)["phase"] == after.phase  # the next event starts the next phase
        assert before.at <= after.at
    # Labels in the scenario's time zone (Helsinki, UTC+3 in June): the lobby ran 12:00-12:01:30,
    # explore 120 s, propose 200 s, vote 6 x 20 s + 400 s, reveal 60 s.
    assert [m.label for m in replay.moments] == [
        "Lobby (ended 12:01)", "Round 1 · explore (ended 12:03)", "Round 2 · propose (ended 12:06)",
        "Round 3 · vote (ended 12:15)", "Reveal (ended 12:16)", "Closed"]
    # The vote round ended locked by its timer, with every counted vote in it.
    vote = replay.state_at(replay.moments[3].seq)
    assert vote["locked"] is True and vote["counts"]["votes"] == 14


def test_boards_at_moments(replay: Replay) -> None:
    lobby = replay.board_at(replay.moments[0].seq)
    assert (lobby.phase, lobby.counts["participants"], lobby.ranking) == ("lobby", 4, [])
    propose = replay.board_at(replay.moments[2].seq)
    assert propose.round_index == 2 and [p.id for p in propose.ranking] == ["P1", "P2", "P3"]
    # The propose round's 600 s timer had 400 s left when the facilitator moved on.
    assert propose.timer_left_s == pytest.approx(400.0)
    final = replay.board_at()
    assert {p.id: p.votes for p in final.ranking} == replay.data.proposal_votes() == {"P1": 3, "P2": 3, "P3": 1}
    assert [p.id for p in final.ranking] == ["P1", "P2", "P3"]
    assert final.consensus.max_support == 4.0  # P1 (3 votes) and P3 (1) both have trees at the origin
    assert replay.state_at(10_000) == replay.state_at() and replay.state_at(0)["phase"] == "lobby"


def test_participation_totals(replay: Replay) -> None:
    points = replay.participation(60.0)
    last = points[-1]
    counts = replay.state_at()["counts"]
    assert (last.phones, last.votes, last.proposals) == (counts["participants"], counts["votes"],
                                                         counts["proposals"])
    assert (last.votes, last.proposals) == (len(replay.data.votes), len(replay.data.proposals))
    assert last.kiosk_sessions == 3
    kiosks = {k["id"] for k in replay.data.kiosks}
    assert last.kiosk_sessions == sum(1 for actor, _ in replay.data.sessions if actor in kiosks)  # as the bundle counts
    assert points[0].at == T0 and last.at == replay.time_at() == replay.moments[-1].at
    for before, after in pairwise(points):
        assert after.at > before.at
        assert all(getattr(after, name) >= getattr(before, name)
                   for name in ("phones", "kiosk_sessions", "votes", "proposals"))
    assert all((b.at - a.at) == timedelta(seconds=60) for a, b in pairwise(points[:-1]))
    # Four phones joined at the start, two more 90 s later.
    assert [p.phones for p in points[:3]] == [4, 4, 6]
    coarse = replay.participation(3600.0)
    assert len(coarse) == 2 and coarse[-1] == last
    with pytest.raises(ValueError, match="bucket_s"):
        replay.participation(0)


def test_languages_used(replay: Replay) -> None:
    assert replay.languages_used() == ["fi", "en", "sv", "de"]


def test_open_refuses_missing_files_and_codes(workshop_db, tmp_path: Path) -> None:
    db, _ = workshop_db
    with pytest.raises(MultiplayerError, match="no workshop database"):
        Replay.open(tmp_path / "none.db", CODE)
    with pytest.raises(MultiplayerError, match=r"no workshop NOPE23 in .*RPL234"):
        Replay.open(db, "NOPE23")
    assert Replay.open(db, CODE.lower()).data.code == CODE
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(MultiplayerError):
        Replay.open(junk, CODE)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(MultiplayerError):
        Replay.open(other, CODE)


def test_a_running_workshop_ends_at_its_last_event(tmp_path: Path) -> None:
    db = tmp_path / "running.db"
    with Store(db) as store:
        run = Run(store)
        run.create()
        phone = run.hello("participant", lang="nl")
        run.wait(30)
        run.send(FACILITATOR, "phase", to="explore")
        run.wait(45)
        run.send(phone, "propose", title="One tree", interventions=[tree(5, 5)], kpis={})
    replay = Replay.open(db, CODE)
    assert [m.phase for m in replay.moments] == ["lobby", "explore"]
    assert [m.label for m in replay.moments] == ["Lobby (ended 12:00)", "Round 1 · explore (last event 12:01)"]
    board = replay.board_at()
    assert (board.phase, board.round_index, [p.id for p in board.ranking]) == ("explore", 1, ["P1"])
    assert board.timer_left_s == pytest.approx(300.0 - 45.0)  # the explore round's 300 s timer
    assert replay.languages_used() == ["nl"]
    assert replay.participation(3600.0)[-1] == replay.participation(10.0)[-1]
