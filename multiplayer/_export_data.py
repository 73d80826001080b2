"""One workshop read back from the database for the exports, with pseudonyms applied.

Everything the exports write comes from here: the projection tables (votes, proposals,
kiosks…), the event log, and the spec in the ``created`` event (questions, local frame).
Kiosk session ids are replaced by pseudonyms ``s1``, ``s2``… numbered per kiosk in the
order the log first shows them, so a kiosk voter reads ``k1/s2`` everywhere; tokens,
token hashes and message ids never leave this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from multiplayer._store_db import StoreError
from multiplayer.store import Store

__all__ = ["SCORES", "WorkshopData", "scrub"]

SCORES = ("1", "2", "3", "4", "5")
#: Keys holding secrets or their hashes; ``scrub`` drops them wherever they nest.
_SECRET_KEY = re.compile(r"(^|_)(token|hash)(_|$)|^msg_id$")


def _json(text: Any, default: Any) -> Any:
    if text is None:
        return default
    return json.loads(text) if isinstance(text, str | bytes) else text


def scrub(value: Any) -> Any:
    """``value`` without token, hash and message-id keys at any depth."""
    if isinstance(value, Mapping):
        return {k: scrub(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


@dataclass
class WorkshopData:
    """Workshop ``code`` as the exports see it (JSON columns decoded)."""

    code: str
    workshop: dict[str, Any]
    spec: dict[str, Any]
    events: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    kiosks: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    sessions: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store, code: str) -> WorkshopData:
        workshops = store.rows("workshops", code)
        events = store.events(code)
        if not workshops or not events:
            raise StoreError(f"there is no workshop {code} in {store.path}.")
        for event in events:
            event["data"] = _json(event["data"], {})
            event["ack"] = _json(event["ack"], {})
        created = next((e for e in events if e["type"] == "created"), None)
        if created is None or "spec" not in created["data"]:
            raise StoreError(f"workshop {code} in {store.path} has no created event with its spec.")
        proposals = store.rows("proposals", code)
        for row in proposals:
            row["interventions"] = _json(row["interventions"], [])
            row["kpis"] = _json(row["kpis"], {})
        proposals.sort(key=lambda row: _natural(row["id"]))
        workshop = dict(workshops[0])
        workshop["title"] = _json(workshop["title"], {})
        data = cls(code, workshop, dict(created["data"]["spec"]), events, store.rows("votes", code), proposals,
                   store.rows("kiosks", code), store.rows("participants", code), store.rows("comments", code))
        data._number_sessions()
        return data

    # -- pseudonyms -----------------------------------------------------------------------------
    def _number_sessions(self) -> None:
        seen: list[tuple[str, str]] = []
        for event in self.events:
            session = event["data"].get("session")
            if isinstance(session, str) and event["actor"]:
                seen.append((event["actor"], session))
        for rows, actor_column in ((self.votes, "kiosk"), (self.votes, "participant"), (self.proposals, "author"),
                                   (self.comments, "author")):
            seen.extend((row[actor_column], row["session"]) for row in rows if row[actor_column] and row["session"])
        counters: dict[str, int] = {}
        for key in seen:
            if key not in self.sessions:
                counters[key[0]] = counters.get(key[0], 0) + 1
                self.sessions[key] = f"s{counters[key[0]]}"

    def session(self, actor: str | None, session: str | None) -> str:
        """The pseudonym of ``actor``'s session (empty when there is none)."""
        if not actor or not session:
            return ""
        return self.sessions.get((actor, session), "")

    def author(self, role: str | None, actor: str | None, session: str | None) -> str:
        """A person's pseudonym: ``p3`` for a phone, ``k1/s2`` for a kiosk session."""
        if role == "kiosk" and actor:
            return f"{actor}/{self.session(actor, session)}" if session else actor
        return actor or ""

    def kiosk_name(self, kiosk: str | None) -> str:
        names = {row["id"]: row["name"] for row in self.kiosks}
        return names.get(kiosk, kiosk or "") if kiosk else ""

    # -- derived tables ---------------------------------------------------------------------------
    def questions(self) -> list[dict[str, Any]]:
        return list(self.spec.get("questions", []))

    def question_kinds(self) -> dict[str, str]:
        return {q["id"]: q["kind"] for q in self.questions()}

    def vote_rows(self) -> list[dict[str, Any]]:
        """The votes table as planners read it: one dict per stored vote, pseudonymised."""
        kinds = self.question_kinds()
        order = {q["id"]: i for i, q in enumerate(self.questions())}
        rows = []
        for vote in sorted(self.votes, key=lambda v: (order.get(v["question"], len(order)), v["cast_at"] or "",
                                                       v["voter"])):
            kiosk = vote["kiosk"]
            rows.append({
                "question": vote["question"], "question_kind": kinds.get(vote["question"], ""),
                "choice": str(vote["choice"]),
                "participant": self.author("kiosk" if kiosk else "participant", kiosk or vote["participant"],
                                           vote["session"]),
                "kiosk": self.kiosk_name(kiosk), "session": self.session(kiosk or vote["participant"], vote["session"]),
                "cast_at": vote["cast_at"] or "", "received_at": vote["received_at"] or "",
                "late": bool(vote["late"])})
        return rows

    def tallies(self) -> dict[str, dict[str, int]]:
        """Counts per question and answer, every option (score 1–5, proposal) present."""
        proposal_ids = [p["id"] for p in self.proposals]
        tallies: dict[str, dict[str, int]] = {}
        for question in self.questions():
            keys = {"choice": [o["id"] for o in question.get("options", [])], "score": list(SCORES),
                    "proposal": proposal_ids}.get(question["kind"], [])
            tallies[question["id"]] = dict.fromkeys(keys, 0)
        for vote in self.votes:
            tally = tallies.get(vote["question"])
            if tally is not None:
                choice = str(vote["choice"])
                tally[choice] = tally.get(choice, 0) + 1
        return tallies

    def proposal_votes(self) -> dict[str, int]:
        """Votes choosing each proposal, over all proposal questions."""
        kinds = self.question_kinds()
        counts = {p["id"]: 0 for p in self.proposals}
        for vote in self.votes:
            if kinds.get(vote["question"]) == "proposal" and str(vote["choice"]) in counts:
                counts[str(vote["choice"])] += 1
        return counts

    def kpi_names(self) -> list[str]:
        return sorted({name for p in self.proposals for name in p["kpis"]})

    def phases(self) -> list[dict[str, Any]]:
        """The phases the workshop went through: ``{"phase", "started_at", "ended_at"}``."""
        phases = [{"phase": "lobby", "started_at": self.workshop["created_at"], "ended_at": None}]
        implied = {"reveal": "reveal", "close": "closed"}
        for event in self.events:
            if event["type"] not in ("phase", "reveal", "close"):
                continue
            to = event["data"].get("to", implied.get(event["type"]))
            if to and to != phases[-1]["phase"]:
                phases[-1]["ended_at"] = event["at"]
                phases.append({"phase": to, "started_at": event["at"], "ended_at": None})
        return phases

    def public_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """An event as exported: no hashes, tokens or message ids; sessions as pseudonyms."""
        actor, data = event["actor"], scrub(event["data"])
        session = data.get("session")
        if isinstance(session, str):
            data["session"] = self.session(actor, session)
            if event["role"] == "kiosk" and data.get("voter") == f"{actor}/{session}":
                data["voter"] = self.author("kiosk", actor, session)
        return {"seq": event["seq"], "type": event["type"], "role": event["role"], "actor": actor,
                "at": event["at"], "cast_at": event["cast_at"], "data": data, "ack": scrub(event["ack"])}


def _natural(text: str) -> tuple[str, int, str]:
    """Sort P2 before P10."""
    match = re.match(r"^(\D*)(\d+)(.*)$", text)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else (text, 0, "")
