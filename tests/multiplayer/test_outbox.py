"""The kiosk's outbox: durable across reopening, ordered, and moved on only by final replies;
and how the client paces itself (reconnection backoff, the flow after "retry later")."""

from __future__ import annotations

import itertools
import random
import sqlite3
import statistics
from pathlib import Path

import pytest

from multiplayer._client_flow import MAX_IN_FLIGHT, Flow
from multiplayer.client import backoff_delay
from multiplayer.outbox import MemoryOutbox, Outbox, OutboxError
from multiplayer.protocol import MAX_FRAME_BYTES, ack, client_message, error


def _vote(choice: str, session: str = "s1") -> dict:
    return client_message("vote", question="priority", choice=choice, session=session,
                          cast_at="2026-11-21T10:00:00.000Z")


def test_added_messages_survive_reopening_in_order(tmp_path: Path) -> None:
    path = tmp_path / "kiosk" / "outbox.db"
    frames = [_vote(choice) for choice in ("shade", "benches", "trees")]
    with Outbox(path) as outbox:
        entries = [outbox.add(frame, workshop="hels01") for frame in frames]
    assert [e.workshop for e in entries] == ["HELS01"] * 3
    assert [e.seq for e in entries] == sorted(e.seq for e in entries) and len({e.seq for e in entries}) == 3

    with Outbox(path) as reopened:
        pending = reopened.pending("HELS01")
        assert [e.id for e in pending] == [f["id"] for f in frames]
        assert [e.message for e in pending] == frames  # the frame text, id and cast_at included, unchanged
        assert [e.frame for e in pending] == [e.frame for e in entries]
        assert all(e.state == "saved" and e.reply is None and e.acked_at is None for e in pending)
        assert reopened.counts() == {"saved": 3, "received": 0, "refused": 0}


def test_add_is_committed_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    outbox = Outbox(path)
    frame = _vote("shade")
    outbox.add(frame, workshop="HELS01")
    # Another connection (another process, as after a crash) sees it at once, the writer still open.
    other = sqlite3.connect(path)
    try:
        rows = other.execute("SELECT id, workshop, state FROM messages").fetchall()
        modes = other.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        other.close()
    outbox.close()
    assert rows == [(frame["id"], "HELS01", "saved")]
    assert modes == "wal"


def test_marks_persist_and_only_final_replies_move_a_message(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    frames = [_vote(choice, session=f"s{i}") for i, choice in enumerate(("shade", "benches", "trees", "water"))]
    with Outbox(path) as outbox:
        for frame in frames:
            outbox.add(frame, workshop="HELS01")
        got = outbox.mark(frames[0]["id"], ack(frames[0]["id"], replaced=False))
        assert got is not None and got.state == "received"
        outbox.mark(frames[1]["id"], error(frames[1]["id"], "locked", "Voting on this question is closed."))
        busy = outbox.mark(frames[2]["id"], error(frames[2]["id"], "busy", "The server is busy; try again."))
        limited = outbox.mark(frames[3]["id"], error(frames[3]["id"], "rate_limited", "Too many messages."))
        assert busy is not None and busy.state == "saved" and busy.reply is None
        assert limited is not None and limited.state == "saved"
        assert outbox.mark("unknown-message-id", ack("unknown-message-id")) is None

    with Outbox(path) as reopened:
        first, second = reopened.get(frames[0]["id"]), reopened.get(frames[1]["id"])
        assert first is not None and first.state == "received" and first.reply == ack(frames[0]["id"], replaced=False)
        assert first.acked_at is not None and first.acked_at.endswith("Z")
        assert second is not None and second.state == "refused" and second.reply["code"] == "locked"
        assert [e.id for e in reopened.pending("HELS01")] == [frames[2]["id"], frames[3]["id"]]
        assert reopened.counts() == {"saved": 2, "received": 1, "refused": 1}
        # A repeat of the first ack (a resend after a lost reply) keeps the first reply.
        again = reopened.mark(frames[0]["id"], ack(frames[0]["id"], duplicate=True))
        assert again is not None and again.reply == ack(frames[0]["id"], replaced=False)
        # A retried message that then succeeds is received.
        done = reopened.mark(frames[2]["id"], ack(frames[2]["id"]))
        assert done is not None and done.state == "received"
        assert reopened.get("no-such-message") is None


def test_one_outbox_holds_several_workshops(tmp_path: Path) -> None:
    with Outbox(tmp_path / "outbox.db") as outbox:
        a1, b1, a2 = _vote("shade"), _vote("trees"), _vote("benches")
        outbox.add(a1, workshop="AAAA01")
        outbox.add(b1, workshop="bbbb02")
        outbox.add(a2, workshop="aaaa01")
        assert [e.id for e in outbox.pending("AAAA01")] == [a1["id"], a2["id"]]
        assert [e.id for e in outbox.pending("BBBB02")] == [b1["id"]]
        assert outbox.counts("AAAA01")["saved"] == 2 and outbox.counts()["saved"] == 3
        outbox.mark(b1["id"], ack(b1["id"]))
        assert outbox.pending("BBBB02") == [] and [e.id for e in outbox.pending("AAAA01")] == [a1["id"], a2["id"]]


@pytest.mark.parametrize("make", [lambda p: Outbox(p / "outbox.db"), lambda p: MemoryOutbox()],
                         ids=["sqlite", "memory"])
def test_refuses_duplicates_missing_ids_and_oversized_frames(tmp_path: Path, make) -> None:
    outbox = make(tmp_path)
    frame = _vote("shade")
    outbox.add(frame, workshop="HELS01")
    with pytest.raises(OutboxError, match="already holds"):
        outbox.add(frame, workshop="HELS01")
    with pytest.raises(OutboxError, match="needs an id"):
        outbox.add({"v": 1, "type": "vote"}, workshop="HELS01")
    huge = client_message("comment", target="priority", text="x" * MAX_FRAME_BYTES)
    with pytest.raises(OutboxError, match="larger than 16 KiB"):
        outbox.add(huge, workshop="HELS01")
    assert [e.id for e in outbox.pending("HELS01")] == [frame["id"]]
    outbox.close()


def test_memory_outbox_moves_like_the_file_one() -> None:
    outbox = MemoryOutbox()
    frames = [_vote(c) for c in ("shade", "benches", "trees")]
    for frame in frames:
        outbox.add(frame, workshop="hels01")
    outbox.mark(frames[0]["id"], error(frames[0]["id"], "busy", "The server is busy; try again."))
    outbox.mark(frames[1]["id"], error(frames[1]["id"], "forbidden", "A wall may not vote."))
    outbox.mark(frames[2]["id"], ack(frames[2]["id"]))
    assert [e.id for e in outbox.pending("HELS01")] == [frames[0]["id"]]
    assert outbox.counts() == {"saved": 1, "received": 1, "refused": 1}
    refused = outbox.get(frames[1]["id"])
    assert refused is not None and refused.state == "refused" and refused.reply["code"] == "forbidden"


def test_a_file_that_is_not_an_outbox_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE votes (id TEXT)")
    db.commit()
    db.close()
    with pytest.raises(OutboxError, match="is not a civictwin outbox"):
        Outbox(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all, just some text " * 100)
    with pytest.raises(OutboxError, match="is not a civictwin outbox"):
        Outbox(junk)


def test_backoff_stays_within_bounds_and_grows() -> None:
    rng = random.Random(20261121)
    low_s, high_s = 0.5, 10.0
    samples = {attempt: [backoff_delay(attempt, rng, low_s, high_s) for _ in range(400)] for attempt in range(10)}
    for attempt, delays in samples.items():
        ceiling_s = min(high_s, low_s * 2 ** (attempt + 1))
        assert all(low_s <= d <= ceiling_s for d in delays), attempt
        # Full jitter: the draws spread over the whole range, not bunched at one end.
        assert min(delays) < low_s + 0.1 * (ceiling_s - low_s) and max(delays) > ceiling_s - 0.1 * (ceiling_s - low_s)
    means = [statistics.fmean(samples[a]) for a in range(10)]
    assert all(later > earlier for earlier, later in itertools.pairwise(means[:5]))  # grows while uncapped
    assert means[9] > 4.0 and max(samples[9]) <= high_s  # capped at high_s, far above the first attempt
    assert means[0] < 1.0


def test_backoff_is_reproducible_with_a_seed_and_refuses_nonsense() -> None:
    first = [backoff_delay(a, random.Random(7)) for a in range(6)]
    again = [backoff_delay(a, random.Random(7)) for a in range(6)]
    assert first == again
    assert backoff_delay(1000, random.Random(7)) <= 10.0  # no overflow for a kiosk offline for days
    with pytest.raises(ValueError):
        backoff_delay(-1, random.Random(7))
    with pytest.raises(ValueError):
        backoff_delay(0, random.Random(7), 2.0, 1.0)


def test_a_pause_restarts_the_flow_one_message_at_a_time() -> None:
    flow = Flow()
    assert flow.window == MAX_IN_FLIGHT
    flow.sent |= {"a", "b", "c"}
    flow.in_flight |= {"b", "c"}
    flow.pause(12.5)
    assert (flow.window, flow.sent, flow.in_flight, flow.paused_until, flow.retries) == (1, set(), set(), 12.5, 1)
    flow.pause(14.0)
    assert flow.retries == 2
    windows = []
    for _ in range(7):
        flow.acked()
        windows.append(flow.window)
    assert windows == [min(2 ** k, MAX_IN_FLIGHT) for k in range(1, 8)] and windows[-1] == MAX_IN_FLIGHT
    assert flow.retries == 0
