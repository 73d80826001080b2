"""The wall's live connection: a workshop client in its own thread, read by the frame loop.

The window never waits on the network and never changes its scene from another thread:
each frame it calls :meth:`LiveFeed.poll`, which hands over the newest workshop state and
its :class:`game.wall.board.Board`, built on a thread of its own (a board with fifty
proposals takes a dozen milliseconds: most of a frame). The wall first joins as the
facilitator (and shows the controls); when the server refuses that token it joins again
as a ``wall`` (watch only; the view token is good for that). A hello refused for good in
both roles leaves :attr:`LiveFeed.fatal` with the server's sentence, for the CLI to print.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from multiplayer.client import Client

__all__ = ["Change", "LiveFeed"]

_ROLES = ("facilitator", "wall")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """What :meth:`LiveFeed.poll` found since the last poll: a new state and its board (or
    None for each), and whether the connection came or went."""

    state: dict[str, Any] | None
    board: Any
    connected_changed: bool


class LiveFeed:
    """The wall's client: joins as facilitator, falls back to wall, reconnects by itself.

    ``build`` turns a state into a board (on the feed's own thread); ``backoff`` is the
    client's reconnection backoff, short so the wall is back soon after its server.
    """

    def __init__(self, url: str, workshop: str, token: str, build: Callable[[dict[str, Any]], Any], *,
                 lang: str = "en", backoff: tuple[float, float] = (0.25, 3.0)) -> None:
        self.url = url
        self.workshop = workshop.upper()
        self._token = token
        self._lang = lang
        self._backoff = backoff
        self._build = build
        self._roles = list(_ROLES)
        #: The server's sentence when it will not have this wall at all; None while all is well.
        self.fatal: str | None = None
        self._wake = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._built: tuple[dict[str, Any], Any] | None = None
        self._taken: tuple[dict[str, Any], Any] | None = None
        self._connected = False
        self.client = self._start(self._roles.pop(0))
        self._builder = threading.Thread(target=self._build_boards, name="wall-board", daemon=True)
        self._builder.start()

    def _start(self, role: str) -> Client:
        return Client(self.url, self.workshop, role, token=self._token, lang=self._lang, backoff=self._backoff,
                      on_state=lambda _state: self._wake.set()).start()

    @property
    def role(self) -> str:
        """``facilitator`` (controls allowed) or ``wall`` (watch only)."""
        return self.client.role

    @property
    def connected(self) -> bool:
        """Whether the server was there at the last :meth:`poll`."""
        return self._connected

    def poll(self) -> Change:
        """What changed since the last poll (cheap: two locks and a few attributes)."""
        if self.fatal is None and self.client.fatal is not None:
            self._fall_back()
        with self._lock:
            built = self._built
        fresh = built is not None and built is not self._taken
        if fresh:
            self._taken = built
        connected = self.client.connected
        changed = connected != self._connected
        self._connected = connected
        return Change(built[0] if fresh and built else None, built[1] if fresh and built else None, changed)

    def _fall_back(self) -> None:
        """The hello was refused for good: try the next role, or give up with its sentence."""
        sentence = self.client.fatal
        self.client.close()
        if self._roles:
            self.client = self._start(self._roles.pop(0))
        else:
            self.fatal = sentence
            self._wake.set()

    def _build_boards(self) -> None:
        """The builder thread: a board for each newest state (states that arrive while one
        is being built are skipped, never queued)."""
        done: dict[str, Any] | None = None
        while not self._closed:
            self._wake.wait(0.25)
            self._wake.clear()
            state = self.client.state
            if state is None or state is done:
                continue
            try:
                board = self._build(state)
            except Exception:  # a state this wall cannot draw must not stop it drawing the next
                log.exception("the wall could not build a board from workshop state rev %s", state.get("rev"))
                done = state
                continue
            done = state
            with self._lock:
                self._built = (state, board)

    def wait_joined(self, timeout_s: float) -> bool:
        """Wait (at start-up, before a window opens) until a role was accepted and its first
        board is built, every role was refused, or ``timeout_s`` passed (the server may be
        away: the wall then opens and says so). True when joined."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.fatal is None and self.client.fatal is not None:
                self._fall_back()
            if self.fatal is not None:
                return False
            with self._lock:
                built = self._built
            if self.client.connected and built is not None:
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.client.close()
        self._builder.join(5.0)
