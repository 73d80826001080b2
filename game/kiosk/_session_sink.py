"""Where a kiosk session sends what a visitor casts: a workshop server, or a file on the kiosk.

A :class:`Sink` takes protocol messages (``vote``, ``propose``, ``event``; see
``docs/protocol.md``) and answers at once with the message id; it never waits on the
network. :class:`ClientSink` wraps a :class:`multiplayer.client.Client` (the workshop's
state, online/offline, acks); :class:`OutboxSink` saves every message in a SQLite
:class:`multiplayer.outbox.Outbox` for a kiosk that stands alone, to be collected later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from multiplayer.client import CAST_TYPES, Client
from multiplayer.outbox import Outbox, iso_utc
from multiplayer.protocol import client_message

__all__ = ["Sink", "ClientSink", "OutboxSink", "STANDALONE_WORKSHOP"]

#: The workshop code stand-alone kiosks file their messages under.
STANDALONE_WORKSHOP = "LOCAL"


class Sink(Protocol):
    """What :class:`game.kiosk.session.KioskSession` needs from its connection.

    ``status`` is ``saved`` (kept, not yet stored by a server), ``received`` (acked) or
    ``refused``; ``state`` the latest workshop state (None without a workshop);
    ``connected`` True/False for a workshop connection, None for a stand-alone kiosk;
    ``reply`` the server's answer to a message once it has one.
    """

    def send(self, type: str, **body: Any) -> str: ...

    def status(self, msg_id: str) -> str: ...

    def reply(self, msg_id: str) -> dict[str, Any] | None: ...

    @property
    def state(self) -> dict[str, Any] | None: ...

    @property
    def connected(self) -> bool | None: ...

    def close(self) -> None: ...


class ClientSink:
    """A :class:`Sink` over a started workshop :class:`~multiplayer.client.Client` (role kiosk)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def send(self, type: str, **body: Any) -> str:
        return self.client.send(type, **body)

    def status(self, msg_id: str) -> str:
        try:
            return self.client.status(msg_id)
        except KeyError:
            return "unknown"

    def reply(self, msg_id: str) -> dict[str, Any] | None:
        try:
            return self.client.reply(msg_id)
        except KeyError:
            return None

    @property
    def state(self) -> dict[str, Any] | None:
        return self.client.state

    @property
    def connected(self) -> bool | None:
        return self.client.connected

    def close(self) -> None:
        self.client.close()


class OutboxSink:
    """A :class:`Sink` for a kiosk without a workshop: every message is committed to the
    SQLite outbox at ``path`` under ``workshop`` (``LOCAL``), where it stays ``saved``
    until someone collects the file. Messages that record something a person did get
    ``cast_at`` from ``clock`` (UTC now), as the workshop client gives them."""

    def __init__(self, path: Path | str, workshop: str = STANDALONE_WORKSHOP, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.outbox = Outbox(path)
        self.workshop = workshop.upper()
        self._clock = clock

    def send(self, type: str, **body: Any) -> str:
        frame = client_message(type, **body)
        if type in CAST_TYPES and "cast_at" not in body:
            frame["cast_at"] = iso_utc(self._clock())
        return self.outbox.add(frame, workshop=self.workshop).id

    def status(self, msg_id: str) -> str:
        entry = self.outbox.get(msg_id)
        return "unknown" if entry is None else entry.state

    def reply(self, msg_id: str) -> dict[str, Any] | None:
        entry = self.outbox.get(msg_id)
        return None if entry is None else entry.reply

    @property
    def state(self) -> dict[str, Any] | None:
        return None

    @property
    def connected(self) -> bool | None:
        return None

    def close(self) -> None:
        self.outbox.close()
