"""The kiosk's connection: a workshop client with an outbox on disk, or the outbox alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from game.kiosk._session_sink import ClientSink, OutboxSink

__all__ = ["default_outbox", "make_sink", "flush_sink"]


def default_outbox() -> Path:
    """``$XDG_STATE_HOME/civictwin/kiosk-outbox.sqlite`` (``~/.local/state`` by default):
    what the kiosk cast survives a restart of the kiosk."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "civictwin" / "kiosk-outbox.sqlite"


def make_sink(options: Any) -> ClientSink | OutboxSink:
    path = options.outbox or default_outbox()
    path.parent.mkdir(parents=True, exist_ok=True)
    if options.server is None:
        return OutboxSink(path)
    from multiplayer.client import Client

    client = Client(options.server, options.workshop, "kiosk", token=options.token, outbox=path,
                    lang=options.lang)
    return ClientSink(client.start())


def flush_sink(sink: ClientSink | OutboxSink, timeout_s: float) -> bool:
    """Give a workshop connection up to ``timeout_s`` to deliver what is queued; True when
    nothing is left (a stand-alone kiosk has delivered all it can: it is on disk)."""
    if isinstance(sink, ClientSink):
        return sink.client.wait_idle(timeout_s)
    return True
