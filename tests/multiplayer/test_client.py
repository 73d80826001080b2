"""The kiosk/wall client against a real server process: nothing cast on a kiosk is lost or
stored twice, whether the server dies, the kiosk's network is down for a whole round, or the
kiosk itself restarts."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from multiplayer.client import Client
from multiplayer.protocol import MAX_FRAME_BYTES, dump
from tests.multiplayer.conftest import ServerProcess, make_server

WAIT_S = 30.0  # generous: a wait for something to happen, never a measure of speed
FAST = (0.05, 0.5)  # reconnection backoff for tests (seconds)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _frames_follow_the_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every frame the client sends (hello and what its outbox holds) and every frame it
    receives validates against docs/protocol.schema.json. The client runs in its own thread,
    so failures are collected and reported when the test ends."""
    from multiplayer import client as client_module
    from multiplayer import outbox as outbox_module
    from tests.multiplayer.schema import validate

    failures: list[str] = []

    def check(frame: Any) -> None:
        try:
            validate(frame)
        except AssertionError as exc:
            failures.append(str(exc))

    def checking(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, frame: Any, *args: Any, **kwargs: Any) -> Any:
            check(frame)
            return method(self, frame, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(client_module.Client, "_receive", checking(client_module.Client._receive))
    monkeypatch.setattr(outbox_module.Outbox, "add", checking(outbox_module.Outbox.add))
    monkeypatch.setattr(outbox_module.MemoryOutbox, "add", checking(outbox_module.MemoryOutbox.add))
    hello = client_module.Client._hello

    def checked_hello(self: Any) -> Any:
        frame = hello(self)
        check(frame)
        return frame
    monkeypatch.setattr(client_module.Client, "_hello", checked_hello)
    yield
    assert failures == []


def _until(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _rows(server: ServerProcess, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the server's database once the server is gone: killed with SIGKILL, so what it
    acknowledged must be on disk; and no outside reader ever touches the live database."""
    if server.process is not None:
        server.kill()
    con = sqlite3.connect(server.db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _stored(server: ServerProcess, ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Per message id: how many log events and how many vote rows the server stored."""
    marks = ",".join("?" * len(ids))
    counts = [dict.fromkeys(ids, 0) | dict(_rows(server, f"SELECT msg_id, count(*) FROM {table} "
                                                         f"WHERE msg_id IN ({marks}) GROUP BY msg_id", tuple(ids)))
              for table in ("events", "votes")]
    return counts[0], counts[1]


class Relay:
    """A TCP relay standing for the kiosk's network: while offline it drops every connection."""

    def __init__(self, target_port: Callable[[], int]) -> None:
        self._target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.online = False
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self._listener.accept()
            except OSError:
                return
            if not self.online:
                near.close()
                continue
            try:
                far = socket.create_connection(("127.0.0.1", self._target_port()))
            except OSError:
                near.close()
                continue
            with self._lock:
                self._open += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.online = False
        self._listener.close()
        with self._lock:
            for s in self._open:
                s.close()


@pytest.fixture
def relay(server: ServerProcess) -> Iterator[Relay]:
    relay = Relay(lambda: server.port)
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture
def facilitator(server: ServerProcess) -> Iterator[Client]:
    with Client(server.url, server.code, "facilitator", token=server.facilitator_token, backoff=FAST).start() as c:
        assert c.wait_idle(WAIT_S), c.fatal
        yield c


def _command(client: Client, type: str, **body: Any) -> dict[str, Any]:
    """A facilitator command through the client's own path; its reply once the server answered."""
    msg_id = client.send(type, **body)
    assert _until(lambda: client.status(msg_id) != "saved"), f"no reply to {type}"
    reply = client.reply(msg_id)
    assert reply is not None and reply["type"] == "ack", reply
    return reply


def _kiosk_token(facilitator: Client, name: str = "library") -> str:
    return _command(facilitator, "add_kiosk", name=name)["token"]


def _vote(kiosk: Client, session: str, choice: str = "shade") -> str:
    return kiosk.send("vote", question="priority", choice=choice, session=session)


def test_kiosk_joins_sees_state_and_its_proposal_and_vote_are_received(server: ServerProcess, facilitator: Client,
                                                                        tmp_path: Path) -> None:
    token = _kiosk_token(facilitator)
    _command(facilitator, "phase", to="propose")
    states: list[dict[str, Any]] = []
    replies: list[tuple[str, dict[str, Any]]] = []
    with Client(server.url, server.code.lower(), "kiosk", token=token, outbox=tmp_path / "outbox.db",
                on_state=states.append, on_reply=lambda i, r: replies.append((i, r)), backoff=FAST).start() as kiosk:
        state = kiosk.wait_state(lambda s: s["phase"] == "propose", WAIT_S)
        assert state is not None and state["workshop"] == server.code and kiosk.connected
        proposal = kiosk.send("propose", title="Trees on Aleksanterinkatu", session="s1", interventions=[
            {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [10.0, 20.0]}, "params": {}}])
        assert kiosk.status(proposal) in ("saved", "received")
        assert kiosk.wait_idle(WAIT_S)
        assert kiosk.status(proposal) == "received"
        assert kiosk.wait_state(lambda s: [p["id"] for p in s["proposals"]] == ["P1"], WAIT_S) is not None

        _command(facilitator, "phase", to="vote")
        assert kiosk.wait_state(lambda s: s["phase"] == "vote", WAIT_S) is not None
        vote = _vote(kiosk, "s1")
        assert kiosk.wait_idle(WAIT_S)
        assert kiosk.status(vote) == "received" and not kiosk.reply(vote).get("late")
        assert kiosk.counts() == {"saved": 0, "received": 2, "refused": 0}
    assert [i for i, _ in replies] == [proposal, vote] and all(r["type"] == "ack" for _, r in replies)
    assert any(s["phase"] == "vote" for s in states)
    stored = _rows(server, "SELECT voter, choice, late FROM votes WHERE msg_id = ?", (vote,))
    assert len(stored) == 1 and stored[0][0].endswith("/s1") and stored[0][2] == 0
    cast_at = _rows(server, "SELECT cast_at FROM events WHERE msg_id = ?", (vote,))
    assert cast_at and cast_at[0][0].startswith(time.strftime("%Y-", time.gmtime()))


def test_a_workshop_state_larger_than_a_client_frame_keeps_the_kiosk_working(server: ServerProcess,
                                                                              facilitator: Client) -> None:
    token = _kiosk_token(facilitator)
    _command(facilitator, "phase", to="propose")
    trees = [{"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [10.0 + i, 20.0]}, "params": {}}
             for i in range(30)]
    with Client(server.url, server.code, "kiosk", token=token, backoff=FAST).start() as kiosk:
        assert kiosk.wait_idle(WAIT_S)
        ids = [kiosk.send("propose", title=f"Trees, plan {n}", description="Shade for the tram stops. " * 60,
                          interventions=trees, session=f"s{n}") for n in range(4)]
        state = kiosk.wait_state(lambda s: len(s["proposals"]) == 4, WAIT_S)
        assert state is not None and len(dump(state).encode()) > MAX_FRAME_BYTES
        _command(facilitator, "phase", to="vote")
        assert kiosk.wait_state(lambda s: s["phase"] == "vote", WAIT_S) is not None
        vote = kiosk.send("vote", question="best-proposal", choice="P2", session="s9")
        assert kiosk.wait_idle(WAIT_S)
        assert [kiosk.status(i) for i in [*ids, vote]] == ["received"] * 5 and kiosk.stats["connections"] == 1


def test_a_message_the_server_refuses_is_final_and_the_wall_only_reads(server: ServerProcess,
                                                                       facilitator: Client) -> None:
    with Client(server.url, server.code, "wall", token=server.view_token).start() as wall:
        assert wall.wait_state(lambda s: s["phase"] == "lobby" and "tallies" in s, WAIT_S) is not None
        sent = wall.send("comment", target="priority", text="A wall has no hands.")
        assert wall.wait_idle(WAIT_S)
        assert wall.status(sent) == "refused" and wall.reply(sent)["code"] == "forbidden"
        # Facilitator commands take the same path; one refused by the rules is final too.
        vote_in_lobby = facilitator.send("vote", question="priority", choice="shade")
        assert facilitator.wait_idle(WAIT_S) and facilitator.status(vote_in_lobby) == "refused"
        _command(facilitator, "phase", to="explore")
        assert wall.wait_state(lambda s: s["phase"] == "explore", WAIT_S) is not None


def test_messages_queued_while_the_server_is_dead_arrive_exactly_once(server: ServerProcess, facilitator: Client,
                                                                       tmp_path: Path) -> None:
    token = _kiosk_token(facilitator)
    _command(facilitator, "phase", to="vote")
    with Client(server.url, server.code, "kiosk", token=token, outbox=tmp_path / "outbox.db",
                backoff=FAST).start() as kiosk:
        assert kiosk.wait_idle(WAIT_S)
        ids = [_vote(kiosk, f"s{i}") for i in range(5)]  # some may be in flight when the server dies
        server.kill()
        assert _until(lambda: not kiosk.connected)
        ids += [_vote(kiosk, f"t{i}") for i in range(5)]
        assert [kiosk.status(i) for i in ids[5:]] == ["saved"] * 5
        server.start()
        assert kiosk.wait_idle(WAIT_S)
        assert [kiosk.status(i) for i in ids] == ["received"] * 10
    events, votes = _stored(server, ids)
    assert events == dict.fromkeys(ids, 1) and votes == dict.fromkeys(ids, 1)


def test_a_graceful_restart_going_away_brings_the_kiosk_back(server: ServerProcess, facilitator: Client) -> None:
    token = _kiosk_token(facilitator)
    _command(facilitator, "phase", to="vote")
    with Client(server.url, server.code, "kiosk", token=token, backoff=(0.05, 30.0)).start() as kiosk:
        assert kiosk.wait_idle(WAIT_S)
        assert server.terminate() == 0  # every connection closed with 1001 "going away"
        assert _until(lambda: not kiosk.connected)
        queued = _vote(kiosk, "s1")
        server.start()
        assert kiosk.wait_idle(WAIT_S) and kiosk.status(queued) == "received"
    assert _stored(server, [queued]) == ({queued: 1}, {queued: 1})


def test_a_kiosk_offline_for_a_whole_round_delivers_its_votes_late(server: ServerProcess, facilitator: Client,
                                                                    relay: Relay, tmp_path: Path) -> None:
    token = _kiosk_token(facilitator)
    with Client(relay.url, server.code, "kiosk", token=token, outbox=tmp_path / "outbox.db",
                backoff=FAST).start() as kiosk:
        assert not kiosk.wait_idle(0.5) and not kiosk.connected  # the kiosk's network is down
        _command(facilitator, "phase", to="propose")
        proposal = kiosk.send("propose", title="Trees by the tram stop", session="s1", interventions=[
            {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [12.0, -40.0]}}])
        _command(facilitator, "phase", to="vote")
        in_round = [_vote(kiosk, "s1", "shade"), _vote(kiosk, "s2", "quiet"), _vote(kiosk, "s1", "water")]
        _command(facilitator, "lock")
        after_round = _vote(kiosk, "s3")
        assert kiosk.counts() == {"saved": 5, "received": 0, "refused": 0}
        relay.online = True
        assert kiosk.wait_idle(WAIT_S)
        assert kiosk.status(proposal) == "received" and kiosk.reply(proposal)["late"] is True
        assert [kiosk.status(i) for i in in_round] == ["received"] * 3
        assert all(kiosk.reply(i).get("late") is True for i in in_round)
        assert kiosk.status(after_round) == "refused" and kiosk.reply(after_round)["code"] == "locked"
    events, _ = _stored(server, [proposal, *in_round, after_round])
    assert events == {proposal: 1, **dict.fromkeys(in_round, 1), after_round: 0}
    assert _rows(server, "SELECT msg_id, late FROM proposals") == [(proposal, 1)]
    # Session s1 voted twice: its later vote replaced the first one.
    rows = _rows(server, "SELECT voter, msg_id, late FROM votes ORDER BY voter")
    assert [(voter.split("/")[1], msg_id, late) for voter, msg_id, late in rows] == \
        [("s1", in_round[2], 1), ("s2", in_round[1], 1)]


def test_a_rate_limited_kiosk_pauses_and_resends_until_everything_is_received(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.rate = 20.0  # messages a second per connection, bursts of 60: a kiosk back with 100 votes hits it
    server.start()
    try:
        with Client(server.url, server.code, "facilitator", token=server.facilitator_token, backoff=FAST).start() as f:
            token = _kiosk_token(f)
            _command(f, "phase", to="vote")
        with Client(server.url, server.code, "kiosk", token=token, outbox=tmp_path / "outbox.db",
                    backoff=FAST).start() as kiosk:
            assert kiosk.wait_idle(WAIT_S)
            ids = [_vote(kiosk, f"s{i}", ("shade", "quiet", "water", "seats")[i % 4]) for i in range(100)]
            assert kiosk.wait_idle(WAIT_S)
            assert [kiosk.status(i) for i in ids] == ["received"] * 100
            assert kiosk.stats["retry_later"] >= 1 and kiosk.stats["connections"] == 1
        assert _stored(server, ids) == (dict.fromkeys(ids, 1), dict.fromkeys(ids, 1))
    finally:
        server.stop()


_CRASHING_KIOSK = """
import os, sys
from multiplayer.client import Client
from multiplayer.protocol import MAX_FRAME_BYTES, dump
kiosk = Client(sys.argv[1], sys.argv[2], "kiosk", token=sys.argv[3], outbox=sys.argv[4])
for session in ("s2", "s3"):
    print(kiosk.send("vote", question="priority", choice="quiet", session=session), flush=True)
os._exit(0)  # the kiosk crashes: no close, the messages were never sent
"""


def test_a_new_client_on_the_same_outbox_resends_what_was_pending(server: ServerProcess, facilitator: Client,
                                                                   tmp_path: Path) -> None:
    token = _kiosk_token(facilitator)
    _command(facilitator, "phase", to="vote")
    outbox = tmp_path / "kiosk" / "outbox.db"
    with Client(server.url, server.code, "kiosk", token=token, outbox=outbox, backoff=FAST).start() as first:
        delivered = _vote(first, "s1")
        assert first.wait_idle(WAIT_S) and first.status(delivered) == "received"
    crashed = subprocess.run([sys.executable, "-c", _CRASHING_KIOSK, server.url, server.code, token, str(outbox)],
                             capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    pending = crashed.stdout.split()
    assert len(pending) == 2
    with Client(server.url, server.code, "kiosk", token=token, outbox=outbox, backoff=FAST) as again:
        assert [again.status(i) for i in pending] == ["saved"] * 2
        again.start()
        assert again.wait_idle(WAIT_S)
        assert [again.status(i) for i in [delivered, *pending]] == ["received"] * 3
    ids = [delivered, *pending]
    assert _stored(server, ids) == (dict.fromkeys(ids, 1), dict.fromkeys(ids, 1))


def test_a_refused_hello_stops_the_client_and_keeps_its_messages(server: ServerProcess, tmp_path: Path) -> None:
    with Client(server.url, server.code, "kiosk", token="not-the-kiosk-token-at-all", outbox=tmp_path / "o.db",
                backoff=FAST) as kiosk:
        kept = _vote(kiosk, "s1")
        kiosk.start()
        assert _until(lambda: kiosk.fatal is not None)
        assert "token" in kiosk.fatal and "not-the-kiosk-token-at-all" not in kiosk.fatal
        assert not kiosk.wait_idle(0.1) and kiosk.status(kept) == "saved"
    with Client(server.url, "NOSUCH1", "wall", token=server.view_token, backoff=FAST).start() as lost:
        assert _until(lambda: lost.fatal is not None) and "NOSUCH1" in lost.fatal
