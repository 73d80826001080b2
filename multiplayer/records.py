"""What the workshop hands to storage: rows for named tables, inserted or upserted.

The workshop state machine (:mod:`multiplayer.workshop`) turns each accepted message
into one event for the append-only log plus rows for the tables people query (votes,
proposals…). :mod:`multiplayer.store` writes them in one transaction. This module is the
contract between the two: the tables, their columns and their keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TABLES", "Record"]

#: table -> (columns in order, primary key). JSON columns hold ``json.dumps`` text;
#: times are ISO 8601 UTC with milliseconds and a ``Z``; flags are 0/1.
TABLES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # The append-only log: every accepted state-changing message, in order. ``data`` is
    # the normalised message body with secrets replaced by keyed hashes; ``ack`` the
    # result sent back (never holding a token), so a repeat gets the same answer.
    "events": (("workshop", "seq", "msg_id", "type", "role", "actor", "at", "cast_at", "data", "ack"),
               ("workshop", "seq")),
    "workshops": (("code", "scenario", "title", "created_at", "facilitator_hash", "view_hash"), ("code",)),
    "kiosks": (("workshop", "id", "name", "token_hash", "added_at", "revoked_at"), ("workshop", "id")),
    "participants": (("workshop", "id", "token_hash", "joined_at", "lang"), ("workshop", "id")),
    "proposals": (("workshop", "id", "title", "description", "interventions", "kpis", "scene_hash",
                   "author_role", "author", "session", "cast_at", "received_at", "late", "msg_id"),
                  ("workshop", "id")),
    "votes": (("workshop", "question", "voter", "choice", "participant", "kiosk", "session",
               "cast_at", "received_at", "late", "msg_id"),
              ("workshop", "question", "voter")),
    "comments": (("workshop", "id", "target", "text", "author_role", "author", "session",
                  "cast_at", "received_at", "msg_id"),
                 ("workshop", "id")),
}


@dataclass(frozen=True, slots=True)
class Record:
    """One row for ``table``: inserted when ``upsert`` is false, else inserted or
    replacing the row with the same primary key (a replaced vote, a revoked kiosk)."""

    table: str
    row: Mapping[str, Any]
    upsert: bool = False

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}")
        columns = TABLES[self.table][0]
        extra = set(self.row) - set(columns)
        if extra:
            raise ValueError(f"table {self.table!r} has no column(s) {sorted(extra)}")
