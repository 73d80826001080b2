"""The workshop client of the kiosk and the wall: the frame loop never waits on the network.

:class:`Client` runs its own asyncio loop in a daemon thread. :meth:`Client.send` builds a
client frame, saves it in the outbox (on disk for a kiosk: see :mod:`multiplayer.outbox`)
and returns its id at once; the network thread sends it when it can. On every connection
the client says hello and sends again, in order and with their original ids, all messages
still waiting, so a kiosk that was offline for a whole round delivers its votes when it
comes back, each stored once by the server (the id is its idempotency key) and with the
``cast_at`` of the moment it was cast. Lost connections are retried with exponential
backoff and full jitter (:func:`backoff_delay`); a hello the server refuses for good
(wrong token, unknown workshop) stops the client and sets :attr:`Client.fatal`.

Callbacks (``on_state``, ``on_reply``) run on the network thread: hand what they get to
the frame loop (a queue, a flag) rather than touching the scene from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from multiplayer._client_flow import MAX_IN_FLIGHT, Flow, backoff_delay
from multiplayer.outbox import RETRYABLE, Entry, MemoryOutbox, Outbox, iso_utc
from multiplayer.protocol import client_message, dump

__all__ = ["CAST_TYPES", "MAX_IN_FLIGHT", "MAX_SERVER_FRAME_BYTES", "Client", "backoff_delay"]

#: Message types that record something a person did: they carry the moment it was done.
CAST_TYPES = frozenset({"vote", "propose", "comment", "event"})
#: Close code of a server going away (restart, shutdown): come back soon.
_GOING_AWAY = 1001
#: The largest frame taken from the server. The client's own frames keep to the protocol's
#: 16 KiB (the outbox refuses larger ones), but a workshop ``state`` grows with every
#: proposal (a few dozen interventions and a description each pass 16 KiB in two or three),
#: and a kiosk that cannot read the hello's answer could never deliver its votes.
MAX_SERVER_FRAME_BYTES = 8 * 1024 * 1024
_MESSAGE_TOO_BIG = 1009
_HELLO_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class _Refused(Exception):
    """The server refused this client's hello for good."""


class Client:
    """One connection to a workshop, kept up in a thread, with an outbox of what to send.

    ``outbox`` is the path of a SQLite outbox (kiosks: what was cast survives a restart of
    the kiosk); without it pending messages are kept in memory (the wall). ``token`` is the
    kiosk, facilitator or view token; it is sent in the hello only, never logged.
    """

    def __init__(self, url: str, workshop: str, role: str, *, token: str | None = None,
                 outbox: Path | str | None = None, lang: str = "en", resume: str | None = None,
                 on_state: Callable[[dict[str, Any]], None] | None = None,
                 on_reply: Callable[[str, dict[str, Any]], None] | None = None,
                 backoff: tuple[float, float] = (0.5, 10.0)) -> None:
        backoff_delay(0, random.Random(0), *backoff)  # refuse a bad range now, not in the thread
        self.url = url
        self.workshop = workshop.upper()
        self.role = role
        self.lang = lang
        self.backoff = backoff
        self.outbox: Outbox | MemoryOutbox = Outbox(outbox) if outbox is not None else MemoryOutbox()
        #: The participant token from the server (participants only): sent as ``resume`` on reconnection.
        self.participant: str | None = resume
        #: Why the server will not have this client, as a sentence; None while all is well.
        self.fatal: str | None = None
        self._token = token
        self._on_state = on_state
        self._on_reply = on_reply
        self._cond = threading.Condition()
        self._state: dict[str, Any] | None = None
        self._connected = False
        self._rng = random.Random()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._flow = Flow()
        #: Counters for an operator's overlay: connections made, frames sent, "retry later" pauses.
        self.stats = {"connections": 0, "frames_sent": 0, "retry_later": 0}

    def __repr__(self) -> str:
        return f"Client({self.url!r}, {self.workshop!r}, {self.role!r})"  # never the token

    # -- the frame loop's side -------------------------------------------------------

    def start(self) -> Client:
        """Start the network thread (once); returns self."""
        if self._thread is not None:
            raise RuntimeError("this client was already started")
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=f"workshop-client-{self.role}",
                                        daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def close(self) -> None:
        """Stop the network thread and close the outbox; what is pending stays saved."""
        loop, task, thread = self._loop, self._task, self._thread
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended (a refused hello)
                loop.call_soon_threadsafe(task.cancel)
        if thread is threading.current_thread():
            return  # called from a callback: the thread ends once this callback returns
        if thread is not None:
            thread.join(_STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("the workshop client thread did not stop within %.0f s", _STOP_TIMEOUT_S)
                return  # leave the outbox open to the thread rather than pull it away under it
        self._set_connected(False)
        self.outbox.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, type: str, **body: Any) -> str:
        """Save a message and wake the sender; returns its id at once, never waits on the network.

        Vote, propose, comment and event messages get ``cast_at`` (now, UTC) unless given.
        Raises :class:`multiplayer.outbox.OutboxError` for a message too large to ever send.
        """
        if type == "hello":
            raise ValueError("hello is the client's own business: it says it on every connection")
        frame = client_message(type, **body)
        if type in CAST_TYPES and "cast_at" not in body:
            frame["cast_at"] = iso_utc(datetime.now(UTC))
        entry = self.outbox.add(frame, workshop=self.workshop)
        self._kick()
        return entry.id

    def status(self, msg_id: str) -> str:
        """``saved`` (waiting or in flight), ``received`` (the server stored it) or ``refused``."""
        return self._entry(msg_id).state

    def reply(self, msg_id: str) -> dict[str, Any] | None:
        """The server's ack or error for a message, None while it has not answered for good."""
        return self._entry(msg_id).reply

    def counts(self) -> dict[str, int]:
        """How many of this workshop's messages are saved, received and refused."""
        return self.outbox.counts(self.workshop)

    @property
    def state(self) -> dict[str, Any] | None:
        """The latest workshop state from the server (None before the first hello)."""
        with self._cond:
            return self._state

    @property
    def connected(self) -> bool:
        """True while the server has accepted this client's hello on a live connection."""
        with self._cond:
            return self._connected

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a live connection with nothing left to send."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self.fatal is not None or (self._connected and not self.outbox.pending(self.workshop)),
                timeout) and self.fatal is None

    def wait_state(self, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any] | None:
        """Wait up to ``timeout`` seconds for a state that satisfies ``predicate``; that state, or None."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._state is not None and predicate(self._state), timeout)
            return self._state if ok else None

    def _entry(self, msg_id: str) -> Entry:
        entry = self.outbox.get(msg_id)
        if entry is None or entry.workshop != self.workshop:
            raise KeyError(f"No message {msg_id} was sent to workshop {self.workshop} through this outbox.")
        return entry

    def _kick(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the message waits in the outbox
                loop.call_soon_threadsafe(wake.set)

    def _set_connected(self, connected: bool) -> None:
        with self._cond:
            self._connected = connected
            self._cond.notify_all()

    # -- the network thread ----------------------------------------------------------

    def _run(self, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            self._wake = asyncio.Event()
            ready.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keep_connected()

        try:
            asyncio.run(main())
        finally:
            ready.set()

    async def _keep_connected(self) -> None:
        attempt = 0
        while True:
            joined, close_code = False, None
            try:
                async with connect(self.url, compression=None, max_size=MAX_SERVER_FRAME_BYTES, open_timeout=10,
                                   close_timeout=2, ping_interval=10, ping_timeout=10) as ws:
                    joined = await self._session(ws)
                    close_code = ws.close_code
            except _Refused as exc:
                self._give_up(str(exc))
                return
            except InvalidURI as exc:
                self._give_up(f"The workshop address {self.url} is not a websocket address ({exc}).")
                return
            except ConnectionClosed as exc:
                if exc.sent is not None and exc.sent.code == _MESSAGE_TOO_BIG:
                    log.warning("workshop %s: the server sent a frame larger than %d bytes", self.workshop,
                                MAX_SERVER_FRAME_BYTES)
                log.info("workshop %s: connection to %s was lost (%s)", self.workshop, self.url, exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.info("workshop %s: connection to %s failed or was lost (%s)", self.workshop, self.url, exc)
            except Exception:  # a bug must not kill the thread that holds a kiosk's votes
                log.exception("workshop %s: unexpected error in the client", self.workshop)
            finally:
                self._set_connected(False)
            if joined or close_code == _GOING_AWAY:
                attempt = 0
            delay_s = backoff_delay(attempt, self._rng, *self.backoff)
            attempt += 1
            log.info("workshop %s: reconnecting in %.1f s", self.workshop, delay_s)
            await asyncio.sleep(delay_s)

    def _give_up(self, sentence: str) -> None:
        log.error("workshop %s: %s", self.workshop, sentence)
        with self._cond:
            self.fatal = sentence
            self._connected = False
            self._cond.notify_all()

    def _hello(self) -> dict[str, Any]:
        fields = {"role": self.role, "workshop": self.workshop, "lang": self.lang,
                  "token": self._token, "resume": self.participant}
        return client_message("hello", **{k: v for k, v in fields.items() if v is not None})

    async def _session(self, ws: ClientConnection) -> bool:
        """Say hello, then send and receive until the connection ends; False when the hello
        was turned away for now (busy), True when it was accepted."""
        hello = self._hello()
        await ws.send(dump(hello))
        async with asyncio.timeout(_HELLO_TIMEOUT_S):
            while True:
                reply = _load(await ws.recv())
                if reply is not None and reply.get("type") in ("ack", "error") and reply.get("re") == hello["id"]:
                    break
        if reply["type"] == "error":
            if reply.get("code") in RETRYABLE:
                log.info("workshop %s: the server is busy (%s)", self.workshop, reply.get("message"))
                return False
            raise _Refused(f"The server refused this {self.role} in workshop {self.workshop}: "
                           f"{reply.get('message') or reply.get('code')}")
        self.participant = reply.get("participant") or self.participant
        if isinstance(reply.get("state"), dict):
            self._set_state(reply["state"])
        self._set_connected(True)
        log.info("workshop %s: connected to %s as %s", self.workshop, self.url, self.role)
        self._flow = Flow()
        with self._cond:
            self.stats["connections"] += 1
        sender = asyncio.create_task(self._send_pending(ws))
        try:
            async for raw in ws:
                frame = _load(raw)
                if frame is not None:
                    self._receive(frame)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketException):
                await sender
        return True

    async def _send_pending(self, ws: ClientConnection) -> None:
        """Send pending messages not yet sent on this connection, oldest first, as many as
        the flow's window allows; then sleep until :meth:`send`, a reply or a retry wakes it."""
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            flow = self._flow
            if loop.time() >= flow.paused_until:
                for entry in self.outbox.pending(self.workshop):
                    if len(flow.in_flight) >= flow.window:
                        break
                    if entry.id not in flow.sent:
                        flow.sent.add(entry.id)
                        flow.in_flight.add(entry.id)
                        await ws.send(entry.frame)
                        self.stats["frames_sent"] += 1
            await self._wake.wait()

    def _receive(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "state" and isinstance(frame.get("state"), dict):
            self._set_state(frame["state"])
        elif kind in ("ack", "error"):
            msg_id = frame.get("re")
            if not isinstance(msg_id, str):
                log.warning("workshop %s: the server refused a frame: %s", self.workshop, frame.get("message"))
                return
            entry = self.outbox.mark(msg_id, frame)
            if entry is None:
                log.debug("workshop %s: a reply to unknown message %s", self.workshop, msg_id)
                return
            self._flow.in_flight.discard(msg_id)
            if kind == "error" and frame.get("code") in RETRYABLE:
                self._retry_later()
            elif kind == "ack":
                self._flow.acked()
            assert self._wake is not None
            self._wake.set()
            with self._cond:
                self._cond.notify_all()
            if self._on_reply is not None and entry.state != "saved":
                _call(self._on_reply, msg_id, frame)

    def _retry_later(self) -> None:
        """The server asked to wait: pause, then send everything pending again, in order
        (what was already stored comes back as a duplicate and changes nothing), starting
        with one message at a time."""
        assert self._loop is not None and self._wake is not None
        flow = self._flow
        now_s = self._loop.time()
        if now_s < flow.paused_until:
            return  # the rest of a batch refused together: one pause is enough
        self.stats["retry_later"] += 1
        delay_s = backoff_delay(flow.retries, self._rng, *self.backoff)
        flow.pause(now_s + delay_s)
        self._loop.call_later(delay_s, self._wake.set)

    def _set_state(self, state: dict[str, Any]) -> None:
        with self._cond:
            self._state = state
            self._cond.notify_all()
        if self._on_state is not None:
            _call(self._on_state, state)


def _load(raw: str | bytes) -> dict[str, Any] | None:
    """A server frame as a dict, None (logged) for anything else."""
    try:
        frame = json.loads(raw)
    except ValueError:
        frame = None
    if not isinstance(frame, dict):
        log.warning("the server sent a frame that is not a JSON object")
        return None
    return frame


def _call(callback: Callable[..., None], *args: Any) -> None:
    """Run a user callback; its failure is logged, never allowed to stop the network thread."""
    try:
        callback(*args)
    except Exception:
        log.exception("a workshop client callback failed")
