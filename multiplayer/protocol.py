"""Workshop protocol v1, without I/O: message types, parse/dump and validation.

The contract is in ``docs/protocol.md`` with a JSON Schema in ``docs/protocol.schema.json``.
Every frame is one JSON object of at most 16 KiB with ``"v": 1`` and ``"type"``; every
client message also carries an ``"id"``, its idempotency key. :func:`parse` turns a frame
into a :class:`Message` or raises :class:`ProtocolError` (and nothing else).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLIENT_TYPES", "ERROR_CODES", "MAX_FRAME_BYTES", "PHASES", "PROTOCOL_VERSION", "ROLES",
    "Message", "ProtocolError", "ack", "client_message", "dump", "error", "new_id", "parse", "state_push",
]

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024
ROLES = ("facilitator", "kiosk", "participant", "wall")
PHASES = ("lobby", "explore", "propose", "vote", "reveal", "closed")
CLIENT_TYPES = ("hello", "vote", "propose", "comment", "event", "phase", "timer", "lock", "reveal", "close",
                "question", "add_kiosk", "revoke_kiosk")
ERROR_CODES = ("bad_message", "unknown_type", "not_joined", "already_joined", "bad_workshop", "bad_token",
               "forbidden", "wrong_phase", "locked", "unknown_question", "bad_choice", "unknown_target",
               "too_large", "rate_limited", "busy")


class ProtocolError(Exception):
    """A message the protocol refuses: a machine ``code`` (one of :data:`ERROR_CODES`),
    one sentence for a person, and the id of the message at fault when it had one."""

    def __init__(self, code: str, message: str, re: str | None = None) -> None:
        super().__init__(message)
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.message = message
        self.re = re

    def reply(self) -> dict[str, Any]:
        """The error frame for this refusal."""
        return error(self.re, self.code, self.message)


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed, validated client message: its ``type``, its ``id`` and its ``body``
    (every other field, normalised, with unknown fields dropped)."""

    type: str
    id: str
    body: Mapping[str, Any] = field(default_factory=dict)


def new_id() -> str:
    """A fresh message id: 22 URL-safe characters (128 random bits)."""
    return secrets.token_urlsafe(16)


def dump(obj: Mapping[str, Any]) -> str:
    """One compact JSON text frame."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def ack(re: str, **result: Any) -> dict[str, Any]:
    """The reply to an accepted message ``re``."""
    return {"v": PROTOCOL_VERSION, "type": "ack", "re": re, **result}


def error(re: str | None, code: str, message: str) -> dict[str, Any]:
    """The reply to a refused message (``re`` is None when its id could not be read)."""
    return {"v": PROTOCOL_VERSION, "type": "error", "re": re, "code": code, "message": message}


def state_push(state: Mapping[str, Any]) -> dict[str, Any]:
    """The frame that pushes a (role-filtered) workshop state."""
    return {"v": PROTOCOL_VERSION, "type": "state", "state": dict(state)}


def client_message(type: str, id: str | None = None, **body: Any) -> dict[str, Any]:
    """A client frame as a dict (for clients and tests): ``{"v":1,"type":…,"id":…,**body}``."""
    return {"v": PROTOCOL_VERSION, "type": type, "id": id or new_id(), **body}


def parse(frame: str | bytes) -> Message:
    """Parse and validate one client frame; raise :class:`ProtocolError` for anything wrong."""
    raise NotImplementedError  # the protocol helper writes this
