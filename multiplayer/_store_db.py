"""The SQLite plumbing shared by :class:`~multiplayer.store.Store` and the group committer.

Opening a database (pragmas, "is this ours?", migrations, the secret key beside it),
writing records as prepared statements grouped per table, and online backups. Every
failure a person can act on becomes a :class:`StoreError` with one sentence.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from multiplayer._store_schema import GENERATOR_PREFIX, LATEST_VERSION, migrate
from multiplayer.errors import MultiplayerError
from multiplayer.records import TABLES, Record

__all__ = ["BUSY_TIMEOUT_MS", "KEY_BYTES", "StoreError", "backup_path", "backup_to", "connect", "key_path",
           "open_database", "read_key", "write_records"]

KEY_BYTES = 32
BUSY_TIMEOUT_MS = 5_000
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: Tables in the order a transaction writes them: workshops first, for the foreign keys.
_TABLE_ORDER = ("workshops", *(name for name in TABLES if name != "workshops"))


class StoreError(MultiplayerError):
    """The workshop database cannot be opened, written or backed up (one sentence)."""


def key_path(db: Path) -> Path:
    """The secret key's file beside the database: ``<db>.key``."""
    return db.with_name(db.name + ".key")


def read_key(db: Path) -> bytes:
    """The database's secret key, or :class:`StoreError` when its file is missing or wrong."""
    path = key_path(db)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"the secret key {path} of the workshop database {db} is missing, so its tokens "
                         "cannot be checked; restore the key file next to the database.") from None
    if len(key) != KEY_BYTES:
        raise StoreError(f"the secret key {path} should hold {KEY_BYTES} bytes but holds {len(key)}.")
    return key


def _create_key(db: Path) -> None:
    """Write 32 random bytes to ``<db>.key`` with mode 0600 (kept when one is already there:
    it may be the key of a backup about to be restored at this path)."""
    try:
        fd = os.open(key_path(db), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(secrets.token_bytes(KEY_BYTES))
        file.flush()
        os.fsync(file.fileno())


def _raw_connect(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"{path} cannot be switched to write-ahead logging (journal mode {mode}).")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) with WAL, ``synchronous=FULL``,
    foreign keys and a busy timeout. Usable from any thread; callers serialise its use."""
    conn = _raw_connect(path, busy_timeout_ms)
    try:
        _configure(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _not_ours(path: Path) -> StoreError:
    return StoreError(f"{path} is not a civictwin workshop database.")


def open_database(path: Path | str, *, create: bool, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                  needs_key: bool = True) -> sqlite3.Connection:
    """Open (or with ``create``, make) a workshop database at its latest schema version.

    A file that is not ours is refused before anything is written to it (not even the
    switch to WAL), and so is a database whose secret key file is missing (unless
    ``needs_key`` is false: a reader that checks no token).
    """
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a civictwin workshop database.")
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not create:
        raise StoreError(f"there is no workshop database at {path}.")
    # The file's header is read by SQLite, never by Python: opening and closing another
    # descriptor of a database file drops every POSIX lock this process holds on it, and
    # another process could then delete the WAL the server is still writing to.
    if not exists and not path.parent.is_dir():
        raise StoreError(f"the folder {path.parent} for the workshop database does not exist.")
    try:
        conn = _raw_connect(path, busy_timeout_ms)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened: {exc}.") from exc
    try:
        fresh = _check(conn, path, needs_key)
        if fresh:
            _create_key(path)
        _configure(conn, path)
        if conn.execute("PRAGMA user_version").fetchone()[0] < LATEST_VERSION:
            migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise (_not_ours(path) if exists and "not a database" in str(exc) else
               StoreError(f"{path} cannot be opened as a workshop database: {exc}.")) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _check(conn: sqlite3.Connection, path: Path, needs_key: bool = True) -> bool:
    """Read-only checks; True for an empty database (ours to initialise)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and not tables:
        return True
    try:
        owner = conn.execute("SELECT value FROM meta WHERE key = 'generator'").fetchone() if "meta" in tables else None
    except sqlite3.OperationalError:  # someone else's table called meta
        owner = None
    if version == 0 or owner is None or not str(owner[0]).startswith(GENERATOR_PREFIX):
        raise _not_ours(path)
    if version > LATEST_VERSION:
        raise StoreError(f"{path} was written by a newer civictwin (schema version {version}; "
                         f"this one reads up to {LATEST_VERSION}), so update civictwin to open it.")
    if needs_key:
        read_key(path)
    return False


def _encode(value: Any) -> Any:
    # The contract hands JSON columns over as text; a dict or list is encoded the same way.
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return value


@lru_cache(maxsize=256)
def _statement(table: str, columns: tuple[str, ...], upsert: bool) -> str:
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    if upsert:
        key = TABLES[table][1]
        rest = [c for c in columns if c not in key]
        action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest) if rest else "DO NOTHING"
        sql += f" ON CONFLICT ({', '.join(key)}) {action}"
    return sql


def _runs(records: Sequence[Record]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """(statement, parameter rows) per table in :data:`_TABLE_ORDER`: one run per table
    when all its records share columns and mode, else consecutive runs in record order
    (so a later upsert of the same key still wins)."""
    by_table: dict[str, list[Record]] = {}
    for record in records:
        by_table.setdefault(record.table, []).append(record)
    for table in _TABLE_ORDER:
        order = TABLES[table][0]
        run_key: tuple[tuple[str, ...], bool] | None = None
        rows: list[tuple[Any, ...]] = []
        for record in by_table.get(table, ()):
            columns = tuple(c for c in order if c in record.row)
            key = (columns, record.upsert)
            if key != run_key and rows:
                assert run_key is not None
                yield _statement(table, *run_key), rows
                rows = []
            run_key = key
            rows.append(tuple(_encode(record.row[c]) for c in columns))
        if rows:
            assert run_key is not None
            yield _statement(table, *run_key), rows


def write_records(conn: sqlite3.Connection, records: Sequence[Record]) -> None:
    """Execute the inserts/upserts for ``records`` inside the caller's transaction."""
    for sql, rows in _runs(records):
        conn.executemany(sql, rows)


def backup_path(db: Path, label: str, now: datetime | None = None) -> Path:
    """``<db stem>.backups/<UTC timestamp>-<label>.sqlite`` next to the database (not yet existing)."""
    if not _LABEL.match(label):
        raise StoreError(f"the backup label {label!r} should be 1 to 40 letters, digits, '-' or '_'.")
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    folder = db.with_name(db.stem + ".backups")
    candidate = folder / f"{stamp}-{label}.sqlite"
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = folder / f"{stamp}-{label}-{counter}.sqlite"
    return candidate


def backup_to(conn: sqlite3.Connection, dest: Path) -> Path:
    """Copy ``conn``'s database with SQLite's online backup API into ``dest``: one complete,
    self-contained file (rollback journal, no WAL beside it), renamed into place when done."""
    if dest.exists():
        raise StoreError(f"the backup {dest} already exists.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        target.close()
        partial.unlink(missing_ok=True)
        raise StoreError(f"the backup into {dest} failed: {exc}.") from exc
    target.close()
    os.replace(partial, dest)
    try:
        dir_fd = os.open(dest.parent, os.O_RDONLY)
    except OSError:
        return dest
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return dest
