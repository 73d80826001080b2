"""Many phones voting at once, each retrying with the same message id until it is acked:
the load for the crash tests."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from multiplayer.protocol import client_message
from tests.multiplayer.schema import validate

CHOICES = {"priority": ["shade", "quiet", "water", "seats"], "street-score": [1, 2, 3, 4, 5]}


@dataclass
class Voter:
    """A phone that votes ``count`` times, reconnecting (with its resume token) and resending
    the same message until the server acks it."""

    url: str
    code: str
    seed: int
    token: str | None = None
    acked: list[dict[str, Any]] = field(default_factory=list)
    close_codes: list[int] = field(default_factory=list)
    ws: ClientConnection | None = None

    async def _connect(self) -> ClientConnection:
        while True:
            try:
                ws = await connect(self.url, compression=None, open_timeout=5)
                hello = client_message("hello", role="participant", workshop=self.code,
                                       **({"resume": self.token} if self.token else {}))
                validate(hello)
                await ws.send(json.dumps(hello))
                ack = await self._reply(ws, hello["id"])
                if ack["type"] == "ack":
                    self.token = ack["participant"]
                    return ws
                await ws.close()
            except (OSError, WebSocketException, TimeoutError):
                pass  # the server is down or restarting: try again
            await asyncio.sleep(0.05)

    @staticmethod
    async def _reply(ws: ClientConnection, msg_id: str) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            validate(frame)
            if frame.get("re") == msg_id:
                return frame

    async def vote(self, question: str, choice: Any) -> dict[str, Any]:
        frame = client_message("vote", question=question, choice=choice)
        validate(frame)
        while True:
            if self.ws is None:
                self.ws = await self._connect()
            try:
                await self.ws.send(json.dumps(frame))
                reply = await self._reply(self.ws, frame["id"])
            except (ConnectionClosed, TimeoutError, OSError) as exc:
                rcvd = getattr(exc, "rcvd", None)
                if rcvd is not None:
                    self.close_codes.append(rcvd.code)
                self.ws = None
                continue
            if reply["type"] == "ack":
                self.acked.append({"id": frame["id"], "question": question, "choice": choice})
                return reply
            if reply["code"] in ("busy", "rate_limited"):
                await asyncio.sleep(0.05)
                continue
            raise AssertionError(f"vote refused: {reply}")

    async def run(self, count: int) -> None:
        rng = random.Random(self.seed)
        for _ in range(count):
            question = rng.choice(sorted(CHOICES))
            await self.vote(question, rng.choice(CHOICES[question]))
        if self.ws is not None:
            await self.ws.close()


def check_database(db_path: Any, voters: list[Voter]) -> int:
    """Every acked vote is in the log exactly once, and each voter's stored vote is its last
    acked one. Returns the number of acked votes."""
    import sqlite3

    with sqlite3.connect(db_path) as db:
        events = {msg_id: (actor, n) for msg_id, actor, n in db.execute(
            "SELECT msg_id, actor, COUNT(*) FROM events WHERE type = 'vote' GROUP BY msg_id")}
        stored = {(participant, question): choice for participant, question, choice in db.execute(
            "SELECT participant, question, choice FROM votes")}
    total = 0
    for voter in voters:
        last: dict[tuple[str, str], Any] = {}
        for vote in voter.acked:
            assert vote["id"] in events, f"acked vote {vote['id']} is not in the database"
            actor, copies = events[vote["id"]]
            assert copies == 1, f"vote {vote['id']} stored {copies} times"
            last[(actor, vote["question"])] = vote["choice"]
            total += 1
        for key, choice in last.items():
            assert stored[key] == str(choice), (key, stored.get(key), choice)
    return total
