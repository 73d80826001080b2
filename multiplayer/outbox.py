"""The kiosk's outbox: every message it casts, saved to disk before it is sent.

A kiosk may lose its network or its server for a whole round; what a citizen cast on it
must not be lost with it. :class:`Outbox` writes each client frame to SQLite (WAL,
``synchronous=FULL``) and commits before :meth:`Outbox.add` returns: from that moment the
kiosk may say "saved on this kiosk". The frame text is made once, so its ``id`` (the
server's idempotency key) and its ``cast_at`` never change however often it is resent.
A reply moves it on: an ack to ``received``, a final error to ``refused``; the server's
"retry later" errors (:data:`RETRYABLE`) leave it ``saved``.

:class:`MemoryOutbox` has the same API without a file (the wall, tests): its messages
last as long as the process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from multiplayer.errors import MultiplayerError
from multiplayer.protocol import MAX_FRAME_BYTES, dump

__all__ = ["RETRYABLE", "STATES", "Entry", "MemoryOutbox", "Outbox", "OutboxError", "iso_utc"]

#: Error codes that mean "not now": the message stays saved and is sent again.
RETRYABLE = frozenset({"busy", "rate_limited"})
STATES = ("saved", "received", "refused")

_SCHEMA_VERSION = 1
_SCHEMA = (
    """CREATE TABLE messages (
        id         TEXT PRIMARY KEY,
        seq        INTEGER NOT NULL UNIQUE,
        workshop   TEXT NOT NULL,
        frame      TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('saved', 'received', 'refused')),
        reply      TEXT,
        acked_at   TEXT
    )""",
    "CREATE INDEX messages_pending ON messages (workshop, state, seq)",
    f"PRAGMA user_version = {_SCHEMA_VERSION}",
)
_COLUMNS = "id, seq, workshop, frame, created_at, state, reply, acked_at"


class OutboxError(MultiplayerError):
    """An outbox that cannot be used or a message it cannot take (one sentence)."""


def iso_utc(now: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, the protocol's time format."""
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Entry:
    """One message in the outbox: its frame text exactly as sent, and where it stands."""

    id: str
    seq: int
    workshop: str
    frame: str
    created_at: str
    state: str
    reply: dict[str, Any] | None
    acked_at: str | None

    @property
    def message(self) -> dict[str, Any]:
        """The frame as a dict."""
        return json.loads(self.frame)


def _frame_text(frame: Mapping[str, Any]) -> tuple[str, str]:
    """The message id and the JSON text of a client frame, refusing what no server would take."""
    msg_id = frame.get("id")
    if not isinstance(msg_id, str) or not msg_id:
        raise OutboxError("A message needs an id before it can be saved in the outbox.")
    text = dump(frame)
    if len(text.encode()) > MAX_FRAME_BYTES:
        raise OutboxError(f"Message {msg_id} is larger than {MAX_FRAME_BYTES // 1024} KiB and cannot be sent.")
    return msg_id, text


def _next_state(reply: Mapping[str, Any]) -> str | None:
    """Where a reply moves a saved message: received, refused, or nowhere (retry later)."""
    if reply.get("type") == "ack":
        return "received"
    if reply.get("code") in RETRYABLE:
        return None
    return "refused"


class Outbox:
    """Messages saved on this machine, across process restarts and workshops.

    Thread-safe: the kiosk's frame loop adds while the client's network thread marks.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except (sqlite3.DatabaseError, OutboxError) as exc:
            self._db.close()
            if isinstance(exc, OutboxError):
                raise
            raise OutboxError(f"{self.path} is not a civictwin outbox ({exc}).") from exc

    def _migrate(self) -> None:
        """Create the table in a new file; refuse a file that holds something else."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                tables = self._db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
                if version != _SCHEMA_VERSION:
                    if version != 0 or tables:
                        raise OutboxError(f"{self.path} is not a civictwin outbox of version {_SCHEMA_VERSION}.")
                    for statement in _SCHEMA:
                        self._db.execute(statement)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def add(self, frame: Mapping[str, Any], *, workshop: str, now: datetime | None = None) -> Entry:
        """Save a client frame for ``workshop``; committed to disk when this returns."""
        msg_id, text = _frame_text(frame)
        created_at = iso_utc(now or datetime.now(UTC))
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                seq = self._db.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages").fetchone()[0]
                self._db.execute("INSERT INTO messages (id, seq, workshop, frame, created_at, state) "
                                 "VALUES (?, ?, ?, ?, ?, 'saved')", (msg_id, seq, workshop.upper(), text, created_at))
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                self._db.execute("ROLLBACK")
                raise OutboxError(f"The outbox already holds a message with id {msg_id}.") from exc
        return Entry(msg_id, seq, workshop.upper(), text, created_at, "saved", None, None)

    def pending(self, workshop: str) -> list[Entry]:
        """The messages still to send to ``workshop``, oldest first."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE workshop = ? AND state = 'saved' "
                                    "ORDER BY seq", (workshop.upper(),)).fetchall()
        return [_entry(row) for row in rows]

    def mark(self, msg_id: str, reply: Mapping[str, Any], *, now: datetime | None = None) -> Entry | None:
        """Record the server's reply to a saved message; None when the id is not in the outbox.

        Only a saved message moves: a repeated ack (``duplicate``) leaves the first reply in place.
        """
        state = _next_state(reply)
        with self._lock:
            if state is not None:
                self._db.execute("UPDATE messages SET state = ?, reply = ?, acked_at = ? "
                                 "WHERE id = ? AND state = 'saved'",
                                 (state, dump(reply), iso_utc(now or datetime.now(UTC)), msg_id))
            row = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (msg_id,)).fetchone()
        return None if row is None else _entry(row)

    def get(self, msg_id: str) -> Entry | None:
        """One message by id."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (msg_id,)).fetchone()
        return None if row is None else _entry(row)

    def counts(self, workshop: str | None = None) -> dict[str, int]:
        """How many messages are saved, received and refused (for one workshop, or all)."""
        sql = "SELECT state, count(*) FROM messages" + (" WHERE workshop = ?" if workshop else "") + " GROUP BY state"
        with self._lock:
            rows = self._db.execute(sql, (workshop.upper(),) if workshop else ()).fetchall()
        return {state: 0 for state in STATES} | dict(rows)

    def close(self) -> None:
        """Close the database (everything is already committed)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _entry(row: tuple[Any, ...]) -> Entry:
    msg_id, seq, workshop, frame, created_at, state, reply, acked_at = row
    return Entry(msg_id, seq, workshop, frame, created_at, state,
                 None if reply is None else json.loads(reply), acked_at)


class MemoryOutbox:
    """The :class:`Outbox` API kept in memory: for clients with nothing worth keeping (the wall)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}

    def add(self, frame: Mapping[str, Any], *, workshop: str, now: datetime | None = None) -> Entry:
        """Keep a client frame for ``workshop``."""
        msg_id, text = _frame_text(frame)
        with self._lock:
            if msg_id in self._entries:
                raise OutboxError(f"The outbox already holds a message with id {msg_id}.")
            entry = Entry(msg_id, len(self._entries) + 1, workshop.upper(), text,
                          iso_utc(now or datetime.now(UTC)), "saved", None, None)
            self._entries[msg_id] = entry
        return entry

    def pending(self, workshop: str) -> list[Entry]:
        """The messages still to send to ``workshop``, oldest first."""
        with self._lock:
            return [e for e in self._entries.values() if e.workshop == workshop.upper() and e.state == "saved"]

    def mark(self, msg_id: str, reply: Mapping[str, Any], *, now: datetime | None = None) -> Entry | None:
        """Record the server's reply to a kept message, as :meth:`Outbox.mark`."""
        state = _next_state(reply)
        with self._lock:
            entry = self._entries.get(msg_id)
            if entry is not None and entry.state == "saved" and state is not None:
                entry = Entry(entry.id, entry.seq, entry.workshop, entry.frame, entry.created_at, state,
                              dict(reply), iso_utc(now or datetime.now(UTC)))
                self._entries[msg_id] = entry
            return entry

    def get(self, msg_id: str) -> Entry | None:
        """One message by id."""
        with self._lock:
            return self._entries.get(msg_id)

    def counts(self, workshop: str | None = None) -> dict[str, int]:
        """How many messages are saved, received and refused (for one workshop, or all)."""
        counts = {state: 0 for state in STATES}
        with self._lock:
            for entry in self._entries.values():
                if workshop is None or entry.workshop == workshop.upper():
                    counts[entry.state] += 1
        return counts

    def close(self) -> None:
        """Nothing to close."""
