"""The workshop database schema and its migrations, one ordered step per version.

``PRAGMA user_version`` holds how many steps a database has had; opening it runs the
steps it lacks, each batch in one transaction. A step, once released, never changes:
a later schema is a new step appended to :data:`MIGRATIONS`. The tables follow
:data:`multiplayer.records.TABLES` column for column (a test holds them together);
the ``meta`` table says whose file this is, so a stranger's SQLite file is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

__all__ = ["GENERATOR_PREFIX", "LATEST_VERSION", "MIGRATIONS", "Migration", "generator", "migrate"]

#: Every database this code writes has ``meta.generator`` starting with this.
GENERATOR_PREFIX = "civictwin"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: what it does (for people) and its SQL statements, run in order."""

    summary: str
    statements: tuple[str, ...]


def _append_only(table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, '{table} is append-only: its rows cannot be {done}.'); END"
        for verb, done in (("UPDATE", "changed"), ("DELETE", "deleted")))


# Types: seq and late are integers; JSON columns (title, data, ack, interventions, kpis)
# are TEXT; ``choice`` has no declared type so an option id stays text and a score an
# integer. Only key columns are NOT NULL: what else a row holds is the workshop's call.
_VERSION_1 = Migration("the workshop tables, the append-only event log and the meta table", (
    "CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE workshops (
        code TEXT NOT NULL PRIMARY KEY, scenario TEXT, title TEXT, created_at TEXT,
        facilitator_hash TEXT, view_hash TEXT)""",
    """CREATE TABLE events (
        workshop TEXT NOT NULL REFERENCES workshops (code), seq INTEGER NOT NULL, msg_id TEXT,
        type TEXT NOT NULL, role TEXT, actor TEXT, at TEXT, cast_at TEXT, data TEXT, ack TEXT,
        PRIMARY KEY (workshop, seq)) WITHOUT ROWID""",
    # Idempotency: one accepted message id per workshop (joined and timer events carry none).
    "CREATE UNIQUE INDEX events_msg_id ON events (workshop, msg_id) WHERE msg_id IS NOT NULL",
    "CREATE INDEX events_type ON events (workshop, type)",
    *_append_only("events"),
    """CREATE TABLE kiosks (
        workshop TEXT NOT NULL REFERENCES workshops (code), id TEXT NOT NULL, name TEXT, token_hash TEXT,
        added_at TEXT, revoked_at TEXT, PRIMARY KEY (workshop, id))""",
    """CREATE TABLE participants (
        workshop TEXT NOT NULL REFERENCES workshops (code), id TEXT NOT NULL, token_hash TEXT,
        joined_at TEXT, lang TEXT, PRIMARY KEY (workshop, id))""",
    "CREATE INDEX participants_token ON participants (workshop, token_hash)",
    """CREATE TABLE proposals (
        workshop TEXT NOT NULL REFERENCES workshops (code), id TEXT NOT NULL, title TEXT, description TEXT,
        interventions TEXT, kpis TEXT, scene_hash TEXT, author_role TEXT, author TEXT, session TEXT,
        cast_at TEXT, received_at TEXT, late INTEGER, msg_id TEXT, PRIMARY KEY (workshop, id))""",
    # The key (workshop, question, voter) is also the index for "votes of a question".
    """CREATE TABLE votes (
        workshop TEXT NOT NULL REFERENCES workshops (code), question TEXT NOT NULL, voter TEXT NOT NULL,
        choice, participant TEXT, kiosk TEXT, session TEXT, cast_at TEXT, received_at TEXT, late INTEGER,
        msg_id TEXT, PRIMARY KEY (workshop, question, voter)) WITHOUT ROWID""",
    """CREATE TABLE comments (
        workshop TEXT NOT NULL REFERENCES workshops (code), id TEXT NOT NULL, target TEXT, text TEXT,
        author_role TEXT, author TEXT, session TEXT, cast_at TEXT, received_at TEXT, msg_id TEXT,
        PRIMARY KEY (workshop, id))""",
    "CREATE INDEX comments_target ON comments (workshop, target)",
))

#: Every schema step in order; a database at version n has had the first n.
MIGRATIONS: tuple[Migration, ...] = (_VERSION_1,)
LATEST_VERSION = len(MIGRATIONS)


def generator() -> str:
    """``"civictwin <version>"``: the program that wrote a database (kept in ``meta``)."""
    try:
        return f"{GENERATOR_PREFIX} {metadata.version('civictwin')}"
    except metadata.PackageNotFoundError:
        return GENERATOR_PREFIX


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def migrate(conn: sqlite3.Connection, *, steps: Sequence[Migration] = MIGRATIONS,
            clock: Callable[[], str] = _now_iso) -> int:
    """Run the ``steps`` (all of :data:`MIGRATIONS` by default) that ``conn``'s database
    (an autocommit connection, already checked to be ours or empty) has not had, in one
    write transaction; return the version it had. A failing step leaves it untouched.

    The version is read again inside the transaction, so two processes opening a new
    file at once run each step exactly once.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        for version, step in enumerate(steps[found:], start=found + 1):
            for statement in step.statements:
                conn.execute(statement)
            if version == 1:
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                 [("created_at", clock()), ("generator", generator())])
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(version),))
            conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
