"""The board: what the wall shows, computed from one workshop state.

:func:`board_from_state` turns the state the server pushes (the wall's view, see
``docs/protocol.md``) into plain, ready-to-draw data: the round and its timer, each
question's tally with its labels, the proposals ranked by votes with their kiosk's
colour, the counters and the consensus grid. The wall, the planner's review and the
report all draw from a :class:`Board`; nothing here reads a clock (``now`` is passed in)
or imports a graphics library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from game.wall.colours import colour_for
from game.wall.consensus import Consensus, consensus

__all__ = ["ROUND_PHASES", "Board", "QuestionTally", "RankedProposal", "TallyRow", "board_from_state",
           "board_summary", "text_in"]

#: The timed rounds, in order; the board numbers them 1..3.
ROUND_PHASES = ("explore", "propose", "vote")
_SCORES = ("1", "2", "3", "4", "5")
_COUNTS = ("participants", "kiosks", "proposals", "votes")

Box = tuple[float, float, float, float]
RGB = tuple[int, int, int]


def text_in(mapping: Mapping[str, str] | None, lang: str) -> str:
    """``mapping``'s text in ``lang``, else English, else its first language, else "".

    >>> text_in({"fi": "Varjo", "en": "Shade"}, "sv"), text_in({"fi": "Varjo"}, "en"), text_in({}, "en")
    ('Shade', 'Varjo', '')
    """
    if not mapping:
        return ""
    for key in (lang, "en"):
        if mapping.get(key):
            return str(mapping[key])
    return str(next(iter(mapping.values()), ""))


@dataclass(frozen=True)
class RankedProposal:
    """A proposal with its votes; ``share`` is its part of all votes on proposal questions (0..1)."""

    id: str
    title: str
    votes: int
    share: float
    kpis: dict[str, float]
    kiosk: str | None
    colour: RGB
    interventions: list[dict]
    late: bool


@dataclass(frozen=True)
class TallyRow:
    """One answer of a question: its key (option id, "1".."5" or proposal id), label and count."""

    key: str
    label: dict[str, str]
    count: int


@dataclass(frozen=True)
class QuestionTally:
    """A question with every answer's count, in the question's own order."""

    id: str
    kind: str
    text: dict[str, str]
    rows: list[TallyRow]
    total: int


@dataclass(frozen=True)
class Board:
    """Everything the wall draws for one state (see the module docstring)."""

    code: str
    title: dict[str, str]
    languages: list[str]
    phase: str
    locked: bool
    round_index: int
    round_count: int
    timer_left_s: float | None
    current_question: str | None
    questions: list[QuestionTally]
    ranking: list[RankedProposal]
    counts: dict[str, int]
    kiosks: list[dict]
    consensus: Consensus
    area_m: Box
    rev: int

    def text(self, mapping: Mapping[str, str] | None, lang: str) -> str:
        """``mapping``'s text in ``lang``, else English, else the first there is."""
        return text_in(mapping, lang)

    def question(self, question_id: str) -> QuestionTally | None:
        """The tally of question ``question_id``, or None."""
        return next((q for q in self.questions if q.id == question_id), None)

    def proposal(self, proposal_id: str) -> RankedProposal | None:
        """Ranked proposal ``proposal_id``, or None."""
        return next((p for p in self.ranking if p.id == proposal_id), None)


def _natural(text: str) -> tuple[str, int, str]:
    """Sort P2 before P10."""
    match = re.match(r"^(\D*)(\d+)(.*)$", text)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else (text, 0, "")


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _timer_left_s(ends_at: Any, now: datetime) -> float | None:
    ends = _parse_time(ends_at)
    if ends is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (ends - now).total_seconds())


def _int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return max(0, number)


def _question_tally(question: Mapping[str, Any], tally: Mapping[str, Any], proposals: list[Mapping[str, Any]]
                    ) -> QuestionTally:
    kind = str(question.get("kind", ""))
    if kind == "choice":
        keys = [(str(o.get("id")), dict(o.get("label") or {})) for o in question.get("options") or ()]
    elif kind == "score":
        keys = [(score, {"en": score}) for score in _SCORES]
    elif kind == "proposal":
        keys = [(str(p.get("id")), {"en": str(p.get("title", ""))}) for p in proposals]
    else:
        keys = [(str(k), {"en": str(k)}) for k in tally]
    rows = [TallyRow(key, label, _int(tally.get(key))) for key, label in keys]
    return QuestionTally(str(question.get("id")), kind, dict(question.get("text") or {}), rows,
                         sum(row.count for row in rows))


def _ranking(proposals: list[Mapping[str, Any]], votes: dict[str, int]) -> list[RankedProposal]:
    total = sum(votes.values())
    ranked = []
    for proposal in proposals:
        pid = str(proposal.get("id"))
        kiosk = proposal.get("kiosk") if proposal.get("author_role", "kiosk") == "kiosk" else None
        kpis = {str(k): float(v) for k, v in (proposal.get("kpis") or {}).items()
                if isinstance(v, int | float) and math.isfinite(v)}
        ranked.append(RankedProposal(
            id=pid, title=str(proposal.get("title", "")), votes=votes.get(pid, 0),
            share=votes.get(pid, 0) / total if total else 0.0, kpis=kpis, kiosk=kiosk or None,
            colour=colour_for(kiosk or None), interventions=[dict(i) for i in proposal.get("interventions") or ()
                                                           if isinstance(i, Mapping)],
            late=bool(proposal.get("late"))))
    ranked.sort(key=lambda p: (-p.votes, _natural(p.id)))
    return ranked


def board_from_state(state: Mapping[str, Any], now: datetime, *, cell_m: float = 20.0) -> Board:
    """The board of workshop ``state`` (the wall's or a public view) at ``now``.

    Tallies may be null (a public view before the reveal): every count is then 0. A
    proposal's votes are the sum of its tallies over every proposal question; its share
    is that over all votes on proposal questions (0 when there are none).
    """
    phase = str(state.get("phase", "lobby"))
    tallies: Mapping[str, Mapping[str, Any]] = state.get("tallies") or {}
    proposals = [p for p in state.get("proposals") or () if isinstance(p, Mapping)]
    questions = [q for q in state.get("questions") or () if isinstance(q, Mapping)]
    question_tallies = [_question_tally(q, tallies.get(str(q.get("id"))) or {}, proposals) for q in questions]
    votes: dict[str, int] = {str(p.get("id")): 0 for p in proposals}
    for tally in question_tallies:
        if tally.kind == "proposal":
            for row in tally.rows:
                votes[row.key] = votes.get(row.key, 0) + row.count
    area_m: Box = tuple(float(v) for v in state.get("area_m") or (0.0, 0.0, 1.0, 1.0))  # type: ignore[assignment]
    counts = {name: _int((state.get("counts") or {}).get(name)) for name in _COUNTS}
    kiosks = [{"id": str(k.get("id")), "name": str(k.get("name", "")), "colour": colour_for(str(k.get("id"))),
               "revoked": bool(k.get("revoked"))} for k in state.get("kiosks") or () if isinstance(k, Mapping)]
    return Board(
        code=str(state.get("workshop", "")), title=dict(state.get("title") or {}),
        languages=[str(lang) for lang in state.get("languages") or ()], phase=phase, locked=bool(state.get("locked")),
        round_index=ROUND_PHASES.index(phase) + 1 if phase in ROUND_PHASES else 0, round_count=len(ROUND_PHASES),
        timer_left_s=_timer_left_s(state.get("timer_ends_at"), now),
        current_question=state.get("current_question") or None, questions=question_tallies,
        ranking=_ranking(proposals, votes), counts=counts, kiosks=kiosks,
        consensus=consensus(proposals, votes, area_m, cell_m), area_m=area_m, rev=_int(state.get("rev")))


def board_summary(board: Board) -> dict[str, Any]:
    """The board as plain JSON data, for ``--state-out`` files and tests: rev, phase,
    locked, round, timer, counts, tallies ``{question: {key: count}}`` and the ranking."""
    return {
        "workshop": board.code, "rev": board.rev, "phase": board.phase, "locked": board.locked,
        "round_index": board.round_index, "round_count": board.round_count,
        "timer_left_s": None if board.timer_left_s is None else round(board.timer_left_s, 3),
        "current_question": board.current_question, "counts": dict(board.counts),
        "tallies": {q.id: {row.key: row.count for row in q.rows} for q in board.questions},
        "ranking": [{"id": p.id, "votes": p.votes} for p in board.ranking],
        "consensus_max": board.consensus.max_support,
    }
