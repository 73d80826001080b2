"""Workshop protocol v1, without I/O: message types, parse/dump and validation.

The contract is in ``docs/protocol.md`` with a JSON Schema in ``docs/protocol.schema.json``.
Every frame is one JSON object of at most 16 KiB with ``"v": 1`` and ``"type"``; every
client message also carries an ``"id"``, its idempotency key. :func:`parse` turns a frame
into a :class:`Message` or raises :class:`ProtocolError` (and nothing else, whatever the
input); :func:`to_frame` turns a Message back into its frame. The per-type field checks
live in :mod:`multiplayer._protocol_fields`.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from multiplayer._protocol_fields import PHASES, ROLES, VALIDATORS, FieldError, format_utc

__all__ = [
    "CLIENT_TYPES", "ERROR_CODES", "MAX_FRAME_BYTES", "PHASES", "PROTOCOL_VERSION", "ROLES",
    "Message", "ProtocolError", "ack", "client_message", "dump", "error", "new_id", "new_token", "parse", "state_push",
    "to_frame",
]

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024
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

    def __repr__(self) -> str:
        # A hello's tokens must never reach a log, and logs print reprs.
        body = {k: "***" if k in _SECRET_FIELDS else v for k, v in self.body.items()}
        return f"Message(type={self.type!r}, id={self.id!r}, body={body!r})"


_SECRET_FIELDS = frozenset({"token", "resume"})


def new_id() -> str:
    """A fresh message id: 22 URL-safe characters (128 random bits)."""
    return secrets.token_urlsafe(16)


def new_token() -> str:
    """A fresh secret token: 32 URL-safe characters (192 random bits) that never start
    with "-", so that ``--token TOKEN`` on a command line is never read as an option."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


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


def to_frame(message: Message) -> dict[str, Any]:
    """The client frame of a parsed message: ``parse(dump(to_frame(m))) == m`` (times written as UTC)."""
    body = {k: format_utc(v) if isinstance(v, datetime) else v for k, v in message.body.items()}
    return client_message(message.type, message.id, **body)


_MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ID_MUST = "8 to 64 characters of A-Z, a-z, 0-9, _ or -"
#: Frames over the limit but within this size are still read for their id, so that the refusal
#: names it (a kiosk can then drop that message from its outbox instead of resending it forever).
_READ_ID_BYTES = 64 * MAX_FRAME_BYTES


def parse(frame: str | bytes) -> Message:
    """Parse and validate one client frame; raise :class:`ProtocolError` for anything wrong.

    The body keeps the fields the message type names, normalised; unknown fields are dropped.

    >>> parse('{"v":1,"type":"hello","id":"h-0000001","role":"participant","workshop":"ab12"}')
    Message(type='hello', id='h-0000001', body={'role': 'participant', 'workshop': 'AB12'})
    >>> parse('{"v":1,"type":"vote","id":"v-0000001","question":"q1","choice":true}')
    Traceback (most recent call last):
    ...
    multiplayer.protocol.ProtocolError: vote: 'choice' must be an option id or a score from 1 to 5.
    """
    text, size = _text_of(frame)
    if size > MAX_FRAME_BYTES:
        raise ProtocolError("too_large", f"The frame is {size} bytes; a frame may be at most {MAX_FRAME_BYTES} bytes.",
                            _id_of(_loads_quietly(text)) if size <= _READ_ID_BYTES else None)
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ProtocolError("bad_message", "The frame is not usable JSON: it is nested too deeply.") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_message", f"The frame is not valid JSON ({exc.msg} at character {exc.pos}).") from None
    except ValueError:  # an integer longer than Python will read
        raise ProtocolError("bad_message", "The frame is not usable JSON: a number in it is too long.") from None
    if not isinstance(doc, dict):
        raise ProtocolError("bad_message", "A frame must be one JSON object.")
    re_ = _id_of(doc)
    version = doc.get("v")
    if isinstance(version, bool) or not isinstance(version, int | float) or version != PROTOCOL_VERSION:
        said = "has no 'v'" if version is None else f"asks for protocol version {_show(version)}"
        raise ProtocolError("bad_message", f"The frame {said}; this server speaks version {PROTOCOL_VERSION} "
                            f'(send "v": {PROTOCOL_VERSION}).', re_)
    if re_ is None:
        if doc.get("id") is None:
            raise ProtocolError("bad_message", f"The message has no 'id': send one of {_ID_MUST}.")
        raise ProtocolError("bad_message", f"The message's 'id' must be {_ID_MUST}.")
    type_ = doc.get("type")
    if not isinstance(type_, str):
        raise ProtocolError("bad_message", "The message has no 'type' (a string such as \"hello\" or \"vote\").", re_)
    validate = VALIDATORS.get(type_)
    if validate is None:
        raise ProtocolError("unknown_type", f"Unknown message type {_show(type_)}; this server knows "
                            + ", ".join(CLIENT_TYPES) + ".", re_)
    try:
        body = validate(doc)
    except FieldError as exc:
        raise ProtocolError("bad_message", str(exc), re_) from None
    return Message(type_, re_, body)


def _text_of(frame: object) -> tuple[str, int]:
    """The frame as text and its size in UTF-8 bytes; refuses bytes that are not UTF-8 and text
    with lone surrogates (which no UTF-8 frame can carry)."""
    if isinstance(frame, bytes | bytearray | memoryview):
        data = bytes(frame)
        if len(data) > MAX_FRAME_BYTES:
            return data.decode("utf-8", "replace"), len(data)
        try:
            return data.decode("utf-8"), len(data)
        except UnicodeDecodeError:
            raise ProtocolError("bad_message", "The frame is not UTF-8 text.") from None
    if not isinstance(frame, str):
        raise ProtocolError("bad_message", "A frame must be text.")
    size = len(frame.encode("utf-8", "surrogatepass"))
    if size <= MAX_FRAME_BYTES and _SURROGATE.search(frame):
        raise ProtocolError("bad_message", "The frame is not valid Unicode text: it holds a lone surrogate.")
    return frame, size


def _loads_quietly(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _id_of(doc: Any) -> str | None:
    """The message id of a decoded frame when it has a valid one."""
    if isinstance(doc, dict):
        id_ = doc.get("id")
        if isinstance(id_, str) and _MESSAGE_ID_RE.fullmatch(id_):
            return id_
    return None


def _show(value: Any) -> str:
    """A client's value quoted for an error sentence: short, and always sendable."""
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    shown = repr(value) if isinstance(value, str | int | float) else json.dumps(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
