"""How the workshop client paces itself: reconnection backoff and the flow of one connection.

Pure helpers of :mod:`multiplayer.client` (no I/O, no clock: times are passed in), kept
apart so that they can be tested on their own.
"""

from __future__ import annotations

import random

__all__ = ["MAX_IN_FLIGHT", "Flow", "backoff_delay"]

#: At most this many messages sent and not yet answered on a connection.
MAX_IN_FLIGHT = 32


def backoff_delay(attempt: int, rng: random.Random, low_s: float = 0.5, high_s: float = 10.0) -> float:
    """Seconds to wait before reconnection ``attempt`` (0 for the first after a drop).

    Exponential backoff with full jitter: uniform between ``low_s`` and a ceiling that
    doubles with each attempt, ``min(high_s, low_s * 2 ** (attempt + 1))``, so that kiosks
    and walls dropped together by a restart do not all knock at the same instant.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be 0 or more, not {attempt}")
    if not 0 < low_s <= high_s:
        raise ValueError(f"backoff needs 0 < low_s <= high_s, not {low_s} and {high_s}")
    ceiling_s = min(high_s, low_s * 2.0 ** min(attempt + 1, 64))
    return rng.uniform(low_s, ceiling_s)


class Flow:
    """What one connection has sent and how much may be unanswered at once: all of
    :data:`MAX_IN_FLIGHT` normally, one after the server said "not now" (busy, rate
    limited), doubling with each ack from there."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.in_flight: set[str] = set()
        self.window = MAX_IN_FLIGHT
        self.paused_until = 0.0
        self.retries = 0

    def acked(self) -> None:
        """An ack: the server keeps up again."""
        self.retries = 0
        self.window = min(MAX_IN_FLIGHT, self.window * 2)

    def pause(self, until: float) -> None:
        """The server said "not now": send nothing before ``until`` (event-loop seconds),
        then everything pending again from the oldest, one at a time at first."""
        self.retries += 1
        self.sent, self.in_flight = set(), set()
        self.window = 1
        self.paused_until = until
