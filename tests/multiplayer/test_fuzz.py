"""Fuzzing a real server: whatever a client sends, it gets an error frame or a close with
the right code, and the other clients go on being served."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from multiplayer.protocol import CLIENT_TYPES
from tests.multiplayer.conftest import ServerProcess
from tests.multiplayer.schema import validate
from tests.multiplayer.wire import Peer, join

#: Close codes a misbehaving client may get: policy violation, too big, invalid data.
FAIR_CLOSES = {1007, 1008, 1009}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=8, max_size=20)
shaped = st.builds(
    lambda kind, msg_id, fields: {"v": 1, "type": kind, "id": msg_id, **fields},
    st.sampled_from([*CLIENT_TYPES, "nonsense"]), ids,
    st.dictionaries(st.sampled_from(["role", "workshop", "token", "question", "choice", "title", "to",
                                     "seconds", "interventions", "kpis", "text", "name", "data", "extra"]),
                    json_values, max_size=5))
frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(json.dumps),
    shaped.map(json.dumps),
    st.builds(lambda n: json.dumps({"v": 1, "type": "comment", "id": "a" * 12, "text": "x" * n}),
              st.integers(1_000, 30_000)),
)


async def _probe(server: ServerProcess, frame: str | bytes, join_first: bool) -> tuple[str, Any]:
    if join_first:
        peer = await join(server.url, server.code, "participant")
    else:
        peer = Peer(await connect(server.url, compression=None, max_size=None, open_timeout=10))
    try:
        await peer.ws.send(frame)
        reply = json.loads(await asyncio.wait_for(peer.ws.recv(), 10))
        validate(reply)
        return "reply", reply
    except ConnectionClosed as exc:
        return "closed", exc.rcvd.code if exc.rcvd else None
    finally:
        await peer.ws.close()


def test_fuzzed_frames_get_an_error_or_a_fair_close(server: ServerProcess) -> None:
    loop = asyncio.new_event_loop()
    bystander = loop.run_until_complete(join(server.url, server.code, "participant"))
    seen: dict[str, int] = {}

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(frame=frames, join_first=st.booleans())
    def check(frame: str | bytes, join_first: bool) -> None:
        kind, detail = loop.run_until_complete(_probe(server, frame, join_first))
        if kind == "closed":
            assert detail in FAIR_CLOSES, detail
            seen["closed"] = seen.get("closed", 0) + 1
        else:
            assert detail["type"] in ("ack", "error"), detail
            seen[detail.get("code", "ack")] = seen.get(detail.get("code", "ack"), 0) + 1
        alive = loop.run_until_complete(bystander.request("event", name="still_here"))
        assert alive["type"] == "ack"

    try:
        check()
    finally:
        loop.run_until_complete(bystander.close())
        loop.close()
    assert seen.get("bad_message", 0) > 0 and seen.get("closed", 0) > 0, seen
    assert "Traceback" not in server.output()
