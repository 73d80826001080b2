"""The workshop server: websockets on one event loop, SQLite behind a group committer.

This is the only async module. Each connection runs one loop: read a frame, parse it
(:mod:`multiplayer.protocol`), hand it to its workshop's state machine
(:mod:`multiplayer.workshop`), submit the records to the group committer
(:mod:`multiplayer.store`) and send the reply only once they are on disk. State changes
are pushed to every connection of the workshop, coalesced to a few per second and
filtered by role. The clock is read here and nowhere below.

Reliability: an ack means committed (``synchronous=FULL``); a repeated message id gets
the stored answer; SIGTERM/SIGINT close every connection with 1001 (clients reconnect),
commit what is queued and exit; a SIGKILL loses nothing that was acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from multiplayer import _http
from multiplayer.protocol import (
    MAX_FRAME_BYTES,
    Message,
    ProtocolError,
    dump,
    error,
    new_token,
    parse,
    state_push,
)
from multiplayer.records import Record
from multiplayer.store import GroupCommitter, Store
from multiplayer.workshop import Actor, Outcome, Workshop

__all__ = ["ServerOptions", "WorkshopServer", "run"]

log = logging.getLogger("civictwin.server")


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Limits and timings. Phones (participants) get ``rate_per_s`` messages a second with
    bursts of ``burst``; kiosks, facilitators and walls twenty times that (a kiosk back from
    a day offline sends its whole outbox at once)."""

    rate_per_s: float = 10.0
    burst: int = 30
    push_interval_s: float = 0.1
    counts_push_interval_s: float = 2.0
    tick_interval_s: float = 0.25
    hello_timeout_s: float = 15.0
    max_bad_frames: int = 20
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    extra_origins: tuple[str, ...] = ()
    backups: bool = True


class _Bucket:
    """A token bucket; time comes from the caller."""

    def __init__(self, rate_per_s: float, burst: float, now_s: float) -> None:
        self.rate_per_s, self.burst = rate_per_s, burst
        self.tokens, self.at_s = burst, now_s

    def take(self, now_s: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now_s - self.at_s) * self.rate_per_s)
        self.at_s = now_s
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass(eq=False)
class _Connection:
    ws: ServerConnection
    bucket: _Bucket
    actor: Actor | None = None
    workshop: Workshop | None = None
    bad_frames: int = 0
    pushed_key: str = ""
    pushed_counts: str = ""
    pushed_at_s: float = 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _new_token() -> str:
    return new_token()


@dataclass
class WorkshopServer:
    """Every workshop of one database file, served on one event loop."""

    db: Path
    options: ServerOptions = field(default_factory=ServerOptions)

    def __post_init__(self) -> None:
        self.store = Store(self.db, create=False)
        self.committer = GroupCommitter(self.db)
        self.workshops: dict[str, Workshop] = {}
        for code in self.store.workshop_codes():
            self.workshops[code] = Workshop.restore(self.store.events(code))
        self.connections: dict[str, set[_Connection]] = {}
        self._dirty: set[str] = set()
        self._recheck: set[str] = set()
        self._turn: tuple[asyncio.Future[None], list[Record]] | None = None
        self._wake_pusher = asyncio.Event()
        self.votes_acked = 0

    # -- workshops -------------------------------------------------------------------------------
    def workshop(self, code: str) -> Workshop | None:
        """The workshop with join code ``code``, reading the database for one created while
        the server runs."""
        found = self.workshops.get(code)
        if found is None and self.store.rows("workshops", code):
            found = self.workshops[code] = Workshop.restore(self.store.events(code))
        return found

    def health(self) -> dict[str, Any]:
        return {"ok": True, "workshops": len(self.workshops),
                "connections": sum(len(c) for c in self.connections.values()),
                "commits": self.committer.stats.get("commits", 0)}

    # -- the connection loop ---------------------------------------------------------------------
    async def handle_connection(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        conn = _Connection(ws, _Bucket(self.options.rate_per_s, self.options.burst, loop.time()))
        try:
            async with asyncio.timeout(self.options.hello_timeout_s) as hello_deadline:
                while conn.actor is None:
                    await self._receive(conn, await ws.recv())
                hello_deadline.reschedule(None)
            async for frame in ws:
                await self._receive(conn, frame)
        except TimeoutError:
            await ws.close(1008, "say hello first")
        except ConnectionClosed:
            pass
        except Exception:  # a bug, not a client's fault: one log line with the trace, then 1011
            log.exception("connection handler failed")
            await ws.close(1011, "internal error")
        finally:
            if conn.workshop is not None:
                self.connections.get(conn.workshop.code, set()).discard(conn)
                self._mark_dirty(conn.workshop.code)

    async def _receive(self, conn: _Connection, frame: str | bytes) -> None:
        try:
            msg = parse(frame)
        except ProtocolError as exc:
            conn.bad_frames += 1
            await conn.ws.send(dump(exc.reply()))
            if conn.bad_frames >= self.options.max_bad_frames:
                await conn.ws.close(1008, "too many malformed messages")
            return
        if not conn.bucket.take(asyncio.get_running_loop().time()):
            await conn.ws.send(dump(error(msg.id, "rate_limited", "Too many messages; wait a moment and resend.")))
            return
        outcome = self._dispatch(conn, msg)
        await self._answer(conn, outcome)

    def _dispatch(self, conn: _Connection, msg: Message) -> Outcome:
        """Run ``msg`` through the state machine (synchronously: the commit is submitted
        before any other message can be handled, which keeps the log in order)."""
        now = _now()
        if conn.actor is None:
            if msg.type != "hello":
                return Outcome(error(msg.id, "not_joined", "Say hello first: send a hello message with your role "
                                                           "and the workshop code."), [], False)
            code = str(msg.body.get("workshop", ""))
            workshop = self.workshop(code)
            if workshop is None:
                return Outcome(error(msg.id, "bad_workshop", f"There is no workshop {code} on this server; "
                                                             "check the code."), [], False)
            outcome = workshop.hello(msg, now, self.store.hash_token, _new_token)
            if outcome.actor is not None:
                conn.workshop = workshop
            return outcome
        if msg.type == "hello":
            return Outcome(error(msg.id, "already_joined", "This connection has already joined a workshop."),
                           [], False)
        assert conn.workshop is not None
        return conn.workshop.handle(conn.actor, msg, now, _new_token, self.store.hash_token)

    async def _answer(self, conn: _Connection, outcome: Outcome) -> None:
        reply = outcome.reply
        if reply.get("type") == "ack":
            # Also for a duplicate or a no-op: the barrier waits for the original's commit.
            try:
                await self._commit(outcome.records)
            except Exception as exc:  # the disk refused: nothing is acked, the client resends
                log.error("commit failed: %s", exc)
                await self._reload(conn.workshop)
                await conn.ws.send(dump(error(reply.get("re"), "busy", "The server could not save that; "
                                                                        "resend it in a moment.")))
                return
        joined = outcome.actor is not None and conn.actor is None
        if joined:
            assert conn.workshop is not None and outcome.actor is not None
            conn.actor = outcome.actor
            self.connections.setdefault(conn.workshop.code, set()).add(conn)
            conn.pushed_key, conn.pushed_counts, _ = self._view_key(conn.workshop, outcome.actor.role)
            conn.pushed_at_s = asyncio.get_running_loop().time()
        await conn.ws.send(dump(reply))
        if conn.actor is not None and reply.get("code") == "bad_token":  # a kiosk revoked mid-session
            await conn.ws.close(1008, "token revoked")
            return
        if conn.workshop is not None and (outcome.changed or joined):
            self._mark_dirty(conn.workshop.code)
            self._after_commit(conn.workshop, outcome.records)

    async def _commit(self, records: list[Record]) -> None:
        """Wait until ``records`` (and everything submitted before them) are committed.

        Everything handled in one turn of the event loop goes to the committer as one
        submission with one shared future: one thread hand-off per turn, not per message.
        """
        loop = asyncio.get_running_loop()
        if self._turn is None:
            self._turn = (loop.create_future(), [])
            loop.call_soon(self._submit_turn)
        future, batch = self._turn
        batch.extend(records)
        await asyncio.shield(future)

    def _submit_turn(self) -> None:
        assert self._turn is not None
        future, batch = self._turn
        self._turn = None
        loop = asyncio.get_running_loop()
        done = self.committer.submit(batch) if batch else self.committer.barrier()
        done.add_done_callback(lambda f: loop.call_soon_threadsafe(_settle, future, f))

    async def _reload(self, workshop: Workshop | None) -> None:
        if workshop is None:
            return
        await asyncio.wrap_future(self.committer.barrier())
        fresh = Workshop.restore(self.store.events(workshop.code))
        self.workshops[workshop.code] = fresh
        for conn in self.connections.get(workshop.code, set()):
            conn.workshop = fresh

    def _after_commit(self, workshop: Workshop, records: list[Record]) -> None:
        """A backup after every phase change (the SQLite online backup API, off the loop)."""
        if not self.options.backups:
            return
        for record in records:
            if record.table == "events" and record.row.get("type") in ("phase", "reveal", "close"):
                label = f"{workshop.code}-{workshop.state_for('facilitator')['phase']}"
                self.committer.backup(label).add_done_callback(_log_backup)

    # -- state pushes ----------------------------------------------------------------------------
    def _mark_dirty(self, code: str) -> None:
        self._dirty.add(code)
        self._wake_pusher.set()

    @staticmethod
    def _view_key(workshop: Workshop, role: str) -> tuple[str, str, dict[str, Any]]:
        """The state ``role`` sees, with two keys: one for what matters now (phase, questions,
        proposals, tallies…) and one for the running counts."""
        view = workshop.state_for(role)
        key = json.dumps({k: v for k, v in view.items() if k not in ("rev", "counts")}, sort_keys=True)
        counts = dict(view.get("counts") or {})
        if role in ("participant", "kiosk"):
            counts.pop("votes", None)  # one more vote is news for the wall, not for every phone
        return key, json.dumps(counts, sort_keys=True), view

    async def _push_loop(self) -> None:
        while True:
            await self._wake_pusher.wait()
            self._wake_pusher.clear()
            dirty, self._dirty = self._dirty, set()
            for code in dirty:
                workshop = self.workshops.get(code)
                if workshop is not None:
                    self._push(workshop)
            await asyncio.sleep(self.options.push_interval_s)

    def _push(self, workshop: Workshop) -> None:
        """Send each connection its role's state when it changed. Phones and kiosks get a
        change of counts alone (one more vote) at most every ``counts_push_interval_s``: with
        a thousand phones, pushing every vote to every phone would be a million frames."""
        now_s = asyncio.get_running_loop().time()
        views: dict[str, tuple[str, str, str]] = {}
        held_back = False
        for conn in list(self.connections.get(workshop.code, ())):
            assert conn.actor is not None
            role = conn.actor.role
            if role not in views:
                key, counts, view = self._view_key(workshop, role)
                views[role] = (key, counts, dump(state_push(view)))
            key, counts, frame = views[role]
            if conn.pushed_key == key and conn.pushed_counts == counts:
                continue
            if (conn.pushed_key == key and role in ("participant", "kiosk")
                    and now_s - conn.pushed_at_s < self.options.counts_push_interval_s):
                held_back = True
                continue
            conn.pushed_key, conn.pushed_counts, conn.pushed_at_s = key, counts, now_s
            _send_soon(conn.ws, frame)
        if held_back and workshop.code not in self._recheck:
            self._recheck.add(workshop.code)
            asyncio.get_running_loop().call_later(self.options.counts_push_interval_s, self._recheck_counts,
                                                  workshop.code)

    def _recheck_counts(self, code: str) -> None:
        self._recheck.discard(code)
        self._mark_dirty(code)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.tick_interval_s)
            now = _now()
            for workshop in list(self.workshops.values()):
                outcome = workshop.tick(now)
                if outcome is not None:
                    try:
                        await self._commit(outcome.records)
                    except Exception as exc:
                        log.error("commit failed: %s", exc)
                        await self._reload(workshop)
                        continue
                    self._mark_dirty(workshop.code)

    # -- HTTP --------------------------------------------------------------------------------------
    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        return _http.respond(request, health=self.health, base_url=_base_url,
                             known_workshop=lambda code: self.workshop(code) is not None,
                             extra_origins=self.options.extra_origins)

    # -- running -----------------------------------------------------------------------------------
    async def serve(self, host: str, port: int, *, ready: Callable[[Server], None] | None = None,
                    stop: asyncio.Event | None = None) -> None:
        """Serve until ``stop`` is set (or SIGTERM/SIGINT arrive), then close every connection
        with 1001, commit what is queued and return."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                loop.add_signal_handler(sig, stop.set)
        logging.getLogger("websockets").setLevel(logging.WARNING)
        opts = self.options
        tasks = [asyncio.create_task(self._push_loop()), asyncio.create_task(self._tick_loop())]
        try:
            async with serve(self.handle_connection, host, port, process_request=self.process_request,
                             max_size=MAX_FRAME_BYTES, compression=None, ping_interval=opts.ping_interval_s,
                             ping_timeout=opts.ping_timeout_s, close_timeout=2, max_queue=64) as server:
                if ready is not None:
                    ready(server)
                await stop.wait()
                server.close(close_connections=True)  # 1001 going away to every client
                await server.wait_closed()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.close()

    def close(self) -> None:
        self.committer.close()
        self.store.close()


def _settle(future: asyncio.Future[None], done: Any) -> None:
    """Pass a committer future's outcome to the event loop's future."""
    if future.done():
        return
    exc = done.exception()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)


def _send_soon(ws: ServerConnection, frame: str) -> None:
    """Queue a push without waiting for a slow reader (a phone on bad wifi must not
    hold up the others); a closed connection is simply skipped."""
    task = asyncio.get_running_loop().create_task(_send_quietly(ws, frame))
    _PENDING_SENDS.add(task)
    task.add_done_callback(_PENDING_SENDS.discard)


async def _send_quietly(ws: ServerConnection, frame: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await ws.send(frame)


_PENDING_SENDS: set[asyncio.Task[None]] = set()


def _base_url(request: Request) -> str:
    host = request.headers.get("Host", "127.0.0.1")
    return f"http://{host}"


def _log_backup(future: Any) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("backup failed: %s", exc)
    else:
        log.info("backup written: %s", future.result())


def run(db: Path, host: str, port: int, *, options: ServerOptions | None = None,
        on_ready: Callable[[str, int], None] | None = None) -> None:
    """Serve ``db`` on ``host:port`` until SIGTERM/SIGINT; ``on_ready(host, port)`` is called
    once listening (``port`` 0 picks a free one)."""
    async def main() -> None:
        server = WorkshopServer(db, options or ServerOptions())
        # The restored workshops are long-lived: move them out of the collector's sight, and
        # collect young objects less often, so that a full collection over every remembered
        # ack does not stall the loop for tens of milliseconds under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)

        def ready(ws_server: Server) -> None:
            sockname = next(iter(ws_server.sockets)).getsockname()
            if on_ready is not None:
                on_ready(sockname[0], sockname[1])
        await server.serve(host, port, ready=ready)
    asyncio.run(main())
