"""Crashes under load: SIGKILL and SIGTERM of a real server while 100 phones vote."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.multiplayer.conftest import ServerProcess
from tests.multiplayer.storm import Voter, check_database
from tests.multiplayer.wire import join

VOTERS = 100


async def _open_vote(server: ServerProcess) -> None:
    facilitator = await join(server.url, server.code, "facilitator", server.facilitator_token)
    assert (await facilitator.request("phase", to="vote"))["type"] == "ack"
    await facilitator.close()


def test_sigkill_three_times_while_100_phones_vote_loses_no_acked_vote(server: ServerProcess) -> None:
    voters = [Voter(server.url, server.code, seed) for seed in range(VOTERS)]

    async def scenario() -> int:
        await _open_vote(server)
        storm = asyncio.gather(*(voter.run(15) for voter in voters))
        kills = 0
        for _ in range(3):
            await asyncio.sleep(0.4)
            if storm.done():
                break
            await asyncio.to_thread(server.restart)  # SIGKILL, then start on the same port
            kills += 1
        await storm
        return kills

    kills = asyncio.run(scenario())
    assert kills >= 1, "the storm ended before the first kill; make it longer"
    assert server.starts == kills + 1
    assert check_database(server.db, voters) == VOTERS * 15


def test_sigterm_during_a_vote_storm_closes_with_1001_and_loses_nothing(server: ServerProcess) -> None:
    voters = [Voter(server.url, server.code, 1000 + seed) for seed in range(VOTERS)]

    async def scenario() -> int:
        await _open_vote(server)
        storm = asyncio.gather(*(voter.run(10) for voter in voters))
        await asyncio.sleep(0.4)
        status = await asyncio.to_thread(server.terminate)
        await asyncio.to_thread(server.start)
        await storm
        return status

    assert asyncio.run(scenario()) == 0
    assert any(1001 in voter.close_codes for voter in voters)
    assert "Traceback" not in server.output()
    assert check_database(server.db, voters) == VOTERS * 10


def test_reading_the_database_beside_a_running_server_loses_nothing(server: ServerProcess) -> None:
    """A planner's tool opens the live database and closes it: the server's WAL must stay
    in place (a process that drops its own POSIX locks lets the reader delete it)."""
    import os
    import sqlite3

    async def vote(peer: Any, question: str, choice: Any) -> None:
        assert (await peer.request("vote", question=question, choice=choice))["type"] == "ack"

    async def scenario() -> None:
        await _open_vote(server)
        phone = await join(server.url, server.code, "participant")
        await vote(phone, "priority", "shade")
        with sqlite3.connect(server.db) as reader:
            assert reader.execute("SELECT COUNT(*) FROM votes").fetchone() == (1,)
        reader.close()
        await vote(phone, "street-score", 4)
        await phone.close()

    asyncio.run(scenario())
    assert server.process is not None
    fds = os.listdir(f"/proc/{server.process.pid}/fd")
    targets = [os.readlink(f"/proc/{server.process.pid}/fd/{fd}") for fd in fds]
    assert not [t for t in targets if t.endswith("(deleted)") and "workshop.db" in t]
    server.kill()
    with sqlite3.connect(server.db) as db:
        stored = sorted(db.execute("SELECT question, choice FROM votes"))
    assert stored == [("priority", "shade"), ("street-score", "4")]
