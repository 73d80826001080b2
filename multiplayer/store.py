"""Durable workshop storage: one SQLite file per server, written so an ack never lies.

The database runs in WAL mode with ``synchronous=FULL``, so a committed transaction
survives a power cut; :class:`GroupCommitter` keeps that affordable under load by
committing everything that queued up during the previous commit in one transaction.
The ``events`` table is an append-only log (triggers refuse UPDATE and DELETE); the
other tables are projections the workshop keeps in step with it.

Tokens are never stored: :meth:`Store.hash_token` keys an HMAC-SHA256 with 32 random
bytes kept in ``<db>.key`` (mode 0600) beside the database and never inside it, so a
leaked database or backup holds no usable key. Keep the key file with its database.

>>> import tempfile
>>> from multiplayer.records import Record
>>> with tempfile.TemporaryDirectory() as folder:
...     store = Store(Path(folder) / "w.db")
...     store.write([Record("workshops", {"code": "ABCD", "scenario": "helsinki-centre"})])
...     codes = store.workshop_codes()
...     store.close()
>>> codes
['ABCD']
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from multiplayer._store_committer import GroupCommitter
from multiplayer._store_db import (
    BUSY_TIMEOUT_MS,
    StoreError,
    backup_path,
    backup_to,
    key_path,
    open_database,
    read_key,
    write_records,
)
from multiplayer.records import TABLES, Record

__all__ = ["GroupCommitter", "Store", "StoreError"]


class Store:
    """A workshop database: reads, direct writes, token hashing and backups.

    ``create=False`` refuses a path with no database. ``needs_key=False`` opens a database
    whose secret key file was not handed over (a planner's copy for the review and the
    report): everything reads, only :meth:`hash_token` refuses. Opening runs pending migrations;
    a database from a newer civictwin, or a file that is not ours, raises
    :class:`StoreError`. One connection, shared by threads under a lock; the server
    writes through a :class:`GroupCommitter` on the same path.
    """

    def __init__(self, path: Path | str, *, create: bool = True, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                 needs_key: bool = True) -> None:
        self.path = Path(path)
        self._conn = open_database(self.path, create=create, busy_timeout_ms=busy_timeout_ms, needs_key=needs_key)
        try:
            self._key: bytes | None = read_key(self.path) if needs_key or key_path(self.path).exists() else None
        except BaseException:
            self._conn.close()
            raise
        self._db = Database(self._conn, execute_plugins=False)
        self._lock = threading.Lock()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def hash_token(self, token: str) -> str:
        """HMAC-SHA256 (hex) of ``token`` under this database's secret key."""
        if self._key is None:
            raise StoreError(f"the secret key {key_path(self.path)} of {self.path} is missing, so tokens cannot "
                             "be checked; restore the key file next to the database.")
        return hmac.new(self._key, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def write(self, records: Sequence[Record]) -> None:
        """Write ``records`` in one transaction: all of them, or none and a :class:`StoreError`."""
        if not records:
            return
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path} cannot be written now: {exc}.") from exc
            try:
                write_records(self._conn, records)
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise StoreError(f"writing {len(records)} record(s) to {self.path} failed: {exc}.") from exc
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def workshop_codes(self) -> list[str]:
        """Join codes of every workshop in the file, oldest first."""
        with self._lock:
            return [row["code"] for row in self._db["workshops"].rows_where(
                select="code", order_by="created_at, code")]

    def events(self, code: str) -> list[dict[str, Any]]:
        """The event log of workshop ``code`` in ``seq`` order (JSON columns left as text)."""
        with self._lock:
            return list(self._db["events"].rows_where("workshop = ?", [code], order_by="seq"))

    def rows(self, table: str, code: str) -> list[dict[str, Any]]:
        """The rows of projection ``table`` for workshop ``code``, in primary-key order."""
        if table not in TABLES:
            raise StoreError(f"there is no table {table!r} in a workshop database.")
        key = TABLES[table][1]
        where = "code = ?" if table == "workshops" else "workshop = ?"
        with self._lock:
            return list(self._db[table].rows_where(where, [code], order_by=", ".join(key)))

    def pragmas(self) -> dict[str, Any]:
        """The settings this connection runs with (for health checks and tests): journal
        mode, synchronous level (2 = FULL), foreign keys, busy timeout and schema version."""
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "user_version")
        with self._lock:
            return {name: self._conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}

    def backup(self, dest: Path | str | None = None, *, label: str = "manual") -> Path:
        """Copy the database with SQLite's online backup API while it stays in use; by
        default into ``<db stem>.backups/<UTC timestamp>-<label>.sqlite``. The key file
        is not copied: restore a backup next to this database's ``.key``."""
        target = Path(dest) if dest is not None else backup_path(self.path, label)
        with self._lock:
            return backup_to(self._conn, target)

    def close(self) -> None:
        """Close the connection (a no-op the second time)."""
        with self._lock:
            self._conn.close()
