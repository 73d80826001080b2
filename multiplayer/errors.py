"""The multiplayer package's errors meant for people: each message is one sentence that
names what is wrong (a file, a workshop code), for the command line to print as is."""

from __future__ import annotations

__all__ = ["MultiplayerError"]


class MultiplayerError(Exception):
    """A workshop database, outbox or export that cannot be used as asked."""
