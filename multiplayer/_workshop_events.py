"""Workshop events: one entry of the append-only log, its row, and the projection rows.

An :class:`Event` is what an accepted message (or the timer, or ``workshop create``)
turns into. The state machine applies events to its state both live and when restoring
from the log, so every decision taken while handling a message (the proposal number, a
vote being late or not counted) is written into the event's ``data`` and never
recomputed. :func:`projection` derives the rows people query (votes, proposals…) from an
event; they are written with it in one transaction but are never read back here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from multiplayer.records import Record

__all__ = ["Event", "iso", "parse_time", "projection", "to_ms"]


def to_ms(moment: datetime) -> datetime:
    """``moment`` in UTC truncated to milliseconds, the precision of stored times (so a
    restored workshop compares times exactly as the live one did)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"time {moment.isoformat()} has no timezone; pass timezone-aware UTC times.")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and a ``Z``: ``2026-11-21T10:00:00.000Z``."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str | None) -> datetime | None:
    """The inverse of :func:`iso` (any ISO 8601 text with a timezone)."""
    return None if text is None else to_ms(datetime.fromisoformat(text))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class Event:
    """One log entry. ``data`` holds the normalised message body plus the decisions taken
    (never a token); ``ack`` the result sent back (never a token either)."""

    seq: int
    type: str
    role: str
    actor: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    ack: dict[str, Any] = field(default_factory=dict)
    msg_id: str | None = None
    cast_at: datetime | None = None

    @property
    def actor_key(self) -> str:
        """Who sent it, as the idempotency map keys it (``"kiosk:k1"``)."""
        return f"{self.role}:{self.actor}"

    def row(self, code: str) -> dict[str, Any]:
        """The row of the ``events`` table."""
        return {"workshop": code, "seq": self.seq, "msg_id": self.msg_id, "type": self.type, "role": self.role,
                "actor": self.actor, "at": iso(self.at), "cast_at": iso(self.cast_at), "data": _json(self.data),
                "ack": _json(self.ack)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Event:
        """An event from a row of the ``events`` table (JSON columns as text or decoded)."""
        data, ack = row.get("data"), row.get("ack")
        return cls(seq=int(row["seq"]), type=str(row["type"]), role=str(row["role"]), actor=str(row["actor"]),
                   at=parse_time(row["at"]),  # type: ignore[arg-type]
                   data=json.loads(data) if isinstance(data, str | bytes) else dict(data or {}),
                   ack=json.loads(ack) if isinstance(ack, str | bytes) else dict(ack or {}),
                   msg_id=row.get("msg_id"), cast_at=parse_time(row.get("cast_at")))


def projection(code: str, event: Event, kiosk_row: Mapping[str, Any] | None = None) -> list[Record]:
    """The rows of the query tables for ``event`` (``kiosk_row``: the kiosk's full row
    after the event, for add_kiosk and revoke_kiosk)."""
    data, at = event.data, iso(event.at)
    if event.type == "created":
        return [Record("workshops", {"code": code, "scenario": data["spec"]["scenario"],
                                     "title": _json(data["spec"]["title"]), "created_at": at,
                                     "facilitator_hash": data["facilitator_hash"], "view_hash": data["view_hash"]})]
    if event.type == "joined":
        return [Record("participants", {"workshop": code, "id": data["participant"], "token_hash": data["token_hash"],
                                        "joined_at": at, "lang": data.get("lang")})]
    if event.type in ("add_kiosk", "revoke_kiosk") and kiosk_row is not None:
        return [Record("kiosks", {"workshop": code, **kiosk_row}, upsert=True)]
    kiosk = event.actor if event.role == "kiosk" else None
    common = {"workshop": code, "session": data.get("session"), "cast_at": iso(event.cast_at or event.at),
              "received_at": at, "msg_id": event.msg_id}
    if event.type == "vote" and data["counted"]:
        return [Record("votes", {**common, "question": data["question"], "voter": data["voter"],
                                 "choice": data["choice"],
                                 "participant": event.actor if event.role == "participant" else None,
                                 "kiosk": kiosk, "late": int(data["late"])}, upsert=True)]
    if event.type == "propose":
        return [Record("proposals", {**common, "id": data["proposal"], "title": data["title"],
                                     "description": data.get("description"),
                                     "interventions": _json(data["interventions"]), "kpis": _json(data["kpis"]),
                                     "scene_hash": data.get("scene_hash"), "author_role": event.role,
                                     "author": event.actor, "late": int(data["late"])})]
    if event.type == "comment":
        return [Record("comments", {**common, "id": data["comment"], "target": data["target"], "text": data["text"],
                                    "author_role": event.role, "author": event.actor})]
    return []
