"""The server over a real loopback socket: HTTP routes, joining, roles, limits, isolation."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from multiplayer.admin import create_workshop
from multiplayer.protocol import CLIENT_TYPES, client_message
from tests.multiplayer.conftest import ServerProcess
from tests.multiplayer.wire import Peer, join

#: The contract's role table: what each role may send after hello.
ALLOWED = {
    "facilitator": {"phase", "timer", "lock", "reveal", "close", "question", "add_kiosk", "revoke_kiosk", "comment"},
    "kiosk": {"vote", "propose", "comment", "event"},
    "participant": {"vote", "propose", "comment", "event"},
    "wall": set(),
}

#: One well-formed body per type (valid in shape; the phase may still refuse it).
BODIES = {
    "vote": {"question": "priority", "choice": "shade", "session": "s1"},
    "propose": {"title": "Trees on Aleksanterinkatu", "interventions": [
        {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [10.0, 20.0]}, "params": {}}],
        "kpis": {"shade_public_m2": 38.0}, "session": "s1"},
    "comment": {"target": "priority", "text": "More benches, please."},
    "event": {"name": "session_start", "data": {"lang": "fi"}, "session": "s1"},
    "phase": {"to": "explore"},
    "timer": {"seconds": 120},
    "lock": {},
    "reveal": {},
    "close": {},
    "question": {"current": "priority"},
    "add_kiosk": {"name": "library"},
    "revoke_kiosk": {"kiosk": "k99"},
}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_http_routes(server: ServerProcess) -> None:
    status, headers, body = _get(server.http + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert b"phone.js" in body
    assert _get(server.http + "/phone.js")[0] == 200
    health = json.loads(_get(server.http + "/healthz")[2])
    assert health["ok"] is True and health["workshops"] == 1
    status, headers, svg = _get(f"{server.http}/qr/{server.code}.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml" and svg.lstrip().startswith(b"<?xml")
    assert _get(server.http + "/qr/NOPE99.svg")[0] == 404
    assert _get(server.http + "/secret")[0] == 404


def test_browser_origin_must_match_host(server: ServerProcess) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.url, origin="http://evil.example", open_timeout=10)
        assert refused.value.response.status_code == 403
        same = await connect(server.url, origin=server.http, open_timeout=10)  # type: ignore[arg-type]
        await same.close()
    asyncio.run(scenario())


async def _facilitator(server: ServerProcess) -> Peer:
    return await join(server.url, server.code, "facilitator", server.facilitator_token)


async def _peer_for(server: ServerProcess, role: str, facilitator: Peer) -> Peer:
    if role == "facilitator":
        return await _facilitator(server)
    if role == "wall":
        return await join(server.url, server.code, "wall", server.view_token)
    if role == "kiosk":
        ack = await facilitator.request("add_kiosk", name="table 1")
        return await join(server.url, server.code, "kiosk", ack["token"])
    return await join(server.url, server.code, "participant", lang="fi")


def test_role_matrix_over_the_wire(server: ServerProcess) -> None:
    """Every role × message type: refused with `forbidden` exactly where the table says."""
    async def scenario() -> dict[tuple[str, str], str]:
        facilitator = await _facilitator(server)
        outcomes: dict[tuple[str, str], str] = {}
        for role in ALLOWED:
            peer = await _peer_for(server, role, facilitator)
            for kind in CLIENT_TYPES:
                if kind in ("hello", "close"):
                    continue
                reply = await peer.request(kind, **BODIES[kind])
                outcomes[(role, kind)] = reply.get("code", "ack")
            await peer.close()
        return outcomes
    outcomes = asyncio.run(scenario())
    for (role, kind), code in outcomes.items():
        assert (code == "forbidden") == (kind not in ALLOWED[role]), (role, kind, code)


def test_hello_first_wrong_code_bad_token_and_second_hello(server: ServerProcess) -> None:
    async def scenario() -> None:
        peer = Peer(await connect(server.url, open_timeout=10))
        assert (await peer.request("vote", question="priority", choice="shade"))["code"] == "not_joined"
        reply = await peer.request("hello", role="participant", workshop="ZZZZ99")
        assert reply["code"] == "bad_workshop"
        reply = await peer.request("hello", role="facilitator", workshop=server.code, token="x" * 32)
        assert reply["code"] == "bad_token"
        assert "x" * 32 not in server.output()  # tokens never reach the log
        ok = await peer.request("hello", role="participant", workshop=server.code.lower())
        assert ok["type"] == "ack" and ok["participant"]
        assert (await peer.request("hello", role="participant", workshop=server.code))["code"] == "already_joined"
    asyncio.run(scenario())


def test_oversized_frame_is_closed_with_1009_and_others_keep_going(server: ServerProcess) -> None:
    async def scenario() -> None:
        bystander = await join(server.url, server.code, "participant")
        big = await join(server.url, server.code, "participant")
        await big.ws.send(json.dumps(client_message("comment", target="priority", text="x" * 20_000)))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(big.ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert (await bystander.request("event", name="still_here"))["type"] == "ack"
    asyncio.run(scenario())


def test_double_vote_replaces_and_revoked_kiosk_is_refused(server: ServerProcess) -> None:
    async def scenario() -> None:
        facilitator = await _facilitator(server)
        added = await facilitator.request("add_kiosk", name="library")
        kiosk = await join(server.url, server.code, "kiosk", added["token"])
        phone = await join(server.url, server.code, "participant")
        assert (await facilitator.request("phase", to="vote"))["type"] == "ack"
        assert (await phone.request("vote", question="priority", choice="shade"))["type"] == "ack"
        second = await phone.request("vote", question="priority", choice="quiet")
        assert second["type"] == "ack" and second["replaced"] is True
        assert (await kiosk.request("vote", question="priority", choice="quiet", session="s1"))["type"] == "ack"
        state = await facilitator.wait_state(lambda s: s["tallies"]["priority"]["quiet"] == 2)
        assert state["tallies"]["priority"]["shade"] == 0
        assert (await facilitator.request("revoke_kiosk", kiosk=added["kiosk"]))["revoked"] is True
        again = Peer(await connect(server.url, open_timeout=10))
        refused = await again.request("hello", role="kiosk", workshop=server.code, token=added["token"])
        assert refused["code"] == "bad_token"
    asyncio.run(scenario())
    with sqlite3.connect(server.db) as db:
        rows = db.execute("SELECT choice FROM votes WHERE question = 'priority' ORDER BY voter").fetchall()
    assert sorted(choice for (choice,) in rows) == ["quiet", "quiet"]


def test_two_workshops_in_one_database_are_isolated(server: ServerProcess) -> None:
    other = create_workshop(server.db, "helsinki-centre")  # created while the server runs

    async def scenario() -> None:
        first = await _facilitator(server)
        second = await join(server.url, other.code, "facilitator", other.facilitator_token)
        wrong = Peer(await connect(server.url, open_timeout=10))
        crossed = await wrong.request("hello", role="facilitator", workshop=other.code, token=server.facilitator_token)
        assert crossed["code"] == "bad_token"
        await first.request("phase", to="vote")
        phone = await join(server.url, server.code, "participant")
        await phone.request("vote", question="priority", choice="water")
        state = await first.wait_state(lambda s: s["tallies"]["priority"]["water"] == 1)
        assert state["phase"] == "vote"
        assert second.state is not None and second.state["phase"] == "lobby"
        assert sum(second.state["tallies"]["priority"].values()) == 0
    asyncio.run(scenario())
