"""Talking to a real server from tests: join, send, and read replies, with every frame
sent and received checked against docs/protocol.schema.json."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from multiplayer.protocol import client_message
from tests.multiplayer.schema import validate


class Peer:
    """One websocket connection with a role; keeps the latest pushed state."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.state: dict[str, Any] | None = None
        self.hello: dict[str, Any] | None = None

    async def send_frame(self, frame: dict[str, Any], *, check: bool = True) -> None:
        if check:
            validate(frame)
        await self.ws.send(json.dumps(frame))

    async def reply(self, msg_id: str | None = None, timeout_s: float = 30.0) -> dict[str, Any]:
        """The next ack/error (for ``msg_id`` when given), keeping state pushes on the side."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout_s))
            validate(frame)
            if frame["type"] == "state":
                self.state = frame["state"]
                continue
            if msg_id is None or frame.get("re") == msg_id:
                return frame

    async def request(self, type: str, msg_id: str | None = None, **body: Any) -> dict[str, Any]:
        frame = client_message(type, msg_id, **body)
        await self.send_frame(frame)
        return await self.reply(frame["id"])

    async def wait_state(self, predicate: Any, timeout_s: float = 30.0) -> dict[str, Any]:
        """Read pushes until the state satisfies ``predicate``."""
        async def loop() -> dict[str, Any]:
            while self.state is None or not predicate(self.state):
                frame = json.loads(await self.ws.recv())
                validate(frame)
                if frame["type"] == "state":
                    self.state = frame["state"]
            return self.state
        return await asyncio.wait_for(loop(), timeout_s)

    async def close(self) -> None:
        await self.ws.close()


async def join(url: str, code: str, role: str, token: str | None = None, **extra: Any) -> Peer:
    """Connect and say hello; raises AssertionError when the hello is refused."""
    peer = Peer(await connect(url, compression=None, max_size=None, open_timeout=30))
    body: dict[str, Any] = {"role": role, "workshop": code, **extra}
    if token is not None:
        body["token"] = token
    ack = await peer.request("hello", **body)
    assert ack["type"] == "ack", ack
    peer.hello = ack
    peer.state = ack["state"]
    return peer
