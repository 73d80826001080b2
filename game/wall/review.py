"""The planner's review of a finished workshop: what the review window shows, as plain data.

:class:`ReviewModel` walks a :class:`~game.wall.replay.Replay` of the workshop's event log:
it steps through the moments (the end of each phase), through the questions, filters the
proposals by text, opens one (:class:`ProposalDetail`: its interventions by catalog entry
with counts and costs, its KPI deltas with unit and better direction, its votes per
proposal question) and compares two side by side (:class:`Comparison`). It also writes
the workshop's exports. Nothing here draws: the window (:mod:`game.wall.review_window`)
turns this into pixels, and the tests read it directly.

The KPI units and better directions come from :data:`sims.kpis.KPIS`: the review must not
run a simulation to label a number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shapely.geometry import shape

from game.kiosk._session_text import format_delta, kpi_label, localized
from game.kiosk.i18n import format_eur, format_number
from game.wall.board import Board, RankedProposal
from game.wall.replay import Moment, Replay
from multiplayer.errors import MultiplayerError
from sims.kpis import KPIS
from world.catalog import Catalog, load_catalog

__all__ = ["KPI_INFO", "KpiDelta", "InterventionCount", "ProposalDetail", "CompareRow", "Comparison",
           "ReviewModel", "kiosk_label"]

#: Every KPI the simulations report: (simulation, unit, which direction is better), in the
#: kiosk's card order (the table is ``sims.kpis``; this view keeps the review's tuples).
KPI_INFO: dict[str, tuple[str, str, Literal["higher", "lower"]]] = {
    name: (info.simulation, info.unit, info.better) for name, info in KPIS.items()}
_PHONES = "phones"


@dataclass(frozen=True)
class KpiDelta:
    """One KPI change a proposal carries: ``delta`` against the scenario baseline, in ``unit``;
    ``verdict`` says whether that is an improvement (``better`` is None for an unknown KPI)."""

    name: str
    label: str
    unit: str
    better: Literal["higher", "lower"] | None
    delta: float
    text: str
    verdict: Literal["better", "worse", "same", "unknown"]


@dataclass(frozen=True)
class InterventionCount:
    """How many of one catalog entry a proposal places, and what they cost together."""

    catalog: str
    name: str
    count: int
    cost_eur: float | None


@dataclass(frozen=True)
class ProposalDetail:
    """One proposal opened at a moment of the workshop."""

    id: str
    title: str
    description: str
    kiosk: str | None
    kiosk_name: str
    colour: tuple[int, int, int]
    rank: int
    interventions: list[InterventionCount]
    kpis: list[KpiDelta]
    votes: dict[str, int]
    total_votes: int
    share: float
    late: bool
    cost_eur: float | None

    @property
    def intervention_count(self) -> int:
        return sum(item.count for item in self.interventions)


@dataclass(frozen=True)
class CompareRow:
    """One line of a side-by-side comparison; ``ahead`` names the side that does better
    (``"left"``/``"right"``), or None for a tie or where better has no meaning."""

    key: str
    label: str
    left: str
    right: str
    ahead: Literal["left", "right"] | None


@dataclass(frozen=True)
class Comparison:
    left: ProposalDetail
    right: ProposalDetail
    rows: list[CompareRow]


def kiosk_label(kiosk: str | None, kiosks: Sequence[Mapping[str, Any]]) -> str:
    """A proposal's source as a planner reads it: the kiosk's name, or "phones"."""
    if kiosk is None:
        return _PHONES
    return next((str(k.get("name") or kiosk) for k in kiosks if k.get("id") == kiosk), kiosk)


def _kpi_delta(name: str, delta: float, lang: str) -> KpiDelta:
    _, unit, better = KPI_INFO.get(name, ("", _unit_from_name(name), None))
    text = format_delta(delta, unit, lang)
    if text is None:
        verdict: Literal["better", "worse", "same", "unknown"] = "same"
    elif better is None:
        verdict = "unknown"
    else:
        verdict = "better" if (delta > 0) == (better == "higher") else "worse"
    return KpiDelta(name, kpi_label(name, name, lang), unit, better, delta,
                    text if text is not None else "±0", verdict)


def _unit_from_name(name: str) -> str:
    """A unit for a KPI :data:`KPI_INFO` does not know, from its name's suffix."""
    for suffix, unit in (("_pct", "%"), ("_m2", "m²"), ("_m3", "m³"), ("_db", "dB(A)"), ("_c", "°C"),
                         ("_m", "m"), ("_mm", "mm")):
        if name.endswith(suffix):
            return unit
    return ""


def _kpi_order(names: set[str] | Sequence[str]) -> list[str]:
    known = [n for n in KPI_INFO if n in names]
    return known + sorted(n for n in names if n not in KPI_INFO)


class ReviewModel:
    """The review's view of one workshop: which moment, which question, which filter.

    ``db`` is the database the replay was read from (for :meth:`export`); :meth:`open_db`
    gives both at once. ``lang`` picks the language of content texts (titles, KPI labels,
    catalog names) where the workshop has them.
    """

    def __init__(self, replay: Replay, *, db: Path | None = None, lang: str = "en",
                 catalog: Catalog | None = None) -> None:
        if not replay.moments:
            raise MultiplayerError(f"workshop {replay.data.code} has no moments to review.")
        self.replay = replay
        self.db = db
        self.lang = lang
        self.catalog = catalog if catalog is not None else load_catalog()
        self._moment = len(replay.moments) - 1
        self._boards: dict[int, Board] = {}
        self._details: dict[tuple[int, str], ProposalDetail] = {}
        self.filter = ""
        board = self.board()
        ids = [q.id for q in board.questions]
        self._question = board.current_question if board.current_question in ids else (ids[0] if ids else None)

    @classmethod
    def open_db(cls, db: Path, code: str, *, lang: str = "en") -> ReviewModel:
        """Open workshop ``code`` in ``db``; a sentence (MultiplayerError) when either is missing."""
        return cls(Replay.open(db, code), db=db, lang=lang)

    # -- moments -------------------------------------------------------------------------------
    @property
    def moments(self) -> list[Moment]:
        return self.replay.moments

    @property
    def moment(self) -> int:
        """The index into :attr:`moments` shown now (the last, the end, by default)."""
        return self._moment

    @moment.setter
    def moment(self, index: int) -> None:
        count = len(self.moments)
        if not -count <= index < count:
            raise MultiplayerError(f"there is no moment {index}: this workshop has moments 0 to {count - 1}.")
        self._moment = index % count

    def next_moment(self) -> int:
        """Step to the next moment (stays at the last); the new index."""
        self._moment = min(self._moment + 1, len(self.moments) - 1)
        return self._moment

    def previous_moment(self) -> int:
        self._moment = max(self._moment - 1, 0)
        return self._moment

    def board(self) -> Board:
        """The wall's board as it stood at the current moment (cached per moment)."""
        board = self._boards.get(self._moment)
        if board is None:
            board = self._boards[self._moment] = self.replay.board_at(self.moments[self._moment].seq)
        return board

    # -- questions -----------------------------------------------------------------------------
    @property
    def question_ids(self) -> list[str]:
        return [q.id for q in self.board().questions]

    @property
    def question(self) -> str | None:
        """The question whose tally is shown (the workshop's current question at first)."""
        return self._question

    @question.setter
    def question(self, question_id: str) -> None:
        if question_id not in self.question_ids:
            known = ", ".join(self.question_ids) or "none"
            raise MultiplayerError(f"this workshop has no question {question_id!r} (it has {known}).")
        self._question = question_id

    def next_question(self, step: int = 1) -> str | None:
        """Step to the next question (``step=-1``: the previous), wrapping around."""
        ids = self.question_ids
        if not ids:
            return None
        at = ids.index(self._question) if self._question in ids else -step
        self._question = ids[(at + step) % len(ids)]
        return self._question

    def previous_question(self) -> str | None:
        return self.next_question(-1)

    # -- proposals -----------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show only proposals whose id, title, kiosk id or kiosk name contains ``text``
        (any case); empty shows all."""
        self.filter = text

    def _matches(self, proposal: RankedProposal, kiosks: Sequence[Mapping[str, Any]]) -> bool:
        needle = self.filter.strip().casefold()
        if not needle:
            return True
        haystack = (proposal.id, proposal.title, proposal.kiosk or "", kiosk_label(proposal.kiosk, kiosks))
        return any(needle in text.casefold() for text in haystack)

    def visible(self) -> list[RankedProposal]:
        """The ranked proposals (most votes first) passing the filter, at the current moment."""
        board = self.board()
        return [p for p in board.ranking if self._matches(p, board.kiosks)]

    def open(self, proposal_id: str) -> ProposalDetail:
        """Proposal ``proposal_id`` as it stood at the current moment (kept per moment:
        the window asks for it every frame)."""
        key = (self._moment, proposal_id)
        detail = self._details.get(key)
        if detail is None:
            detail = self._details[key] = self._detail(proposal_id)
        return detail

    def _detail(self, proposal_id: str) -> ProposalDetail:
        board = self.board()
        ranking = board.ranking
        index = next((i for i, p in enumerate(ranking) if p.id == proposal_id), None)
        if index is None:
            known = ", ".join(p.id for p in ranking) or "none yet"
            raise MultiplayerError(f"there is no proposal {proposal_id} at moment {self._moment} "
                                   f"({self.moments[self._moment].label}); there are {known}.")
        proposal = ranking[index]
        votes = {q.id: next((r.count for r in q.rows if r.key == proposal.id), 0)
                 for q in board.questions if q.kind == "proposal"}
        items = self._interventions(proposal.interventions)
        costs = [item.cost_eur for item in items]
        raw = self._raw_proposal(proposal.id)
        return ProposalDetail(
            id=proposal.id, title=proposal.title, description=str(raw.get("description") or ""),
            kiosk=proposal.kiosk, kiosk_name=kiosk_label(proposal.kiosk, board.kiosks), colour=proposal.colour,
            rank=index + 1, interventions=items,
            kpis=[_kpi_delta(n, float(proposal.kpis[n]), self.lang) for n in _kpi_order(list(proposal.kpis))],
            votes=votes, total_votes=proposal.votes, share=proposal.share, late=proposal.late,
            cost_eur=_total(costs))

    def _raw_proposal(self, proposal_id: str) -> Mapping[str, Any]:
        state = self.replay.state_at(self.moments[self._moment].seq)
        return next((p for p in state.get("proposals", []) if p.get("id") == proposal_id), {})

    def _interventions(self, interventions: Sequence[Mapping[str, Any]]) -> list[InterventionCount]:
        counts: Counter[str] = Counter()
        costs: dict[str, list[float | None]] = {}
        for item in interventions:
            catalog = str(item.get("catalog", "?"))
            counts[catalog] += 1
            costs.setdefault(catalog, []).append(self._cost_eur(catalog, item.get("geometry")))
        order = {entry.id: i for i, entry in enumerate(self.catalog)}
        return [InterventionCount(c, self._catalog_name(c), counts[c], _total(costs[c]))
                for c in sorted(counts, key=lambda c: (order.get(c, len(order)), c))]

    def _catalog_name(self, catalog: str) -> str:
        try:
            return localized(dict(self.catalog[catalog].name), self.lang)
        except Exception:  # an entry the catalog no longer has: show its id
            return catalog

    def _cost_eur(self, catalog: str, geometry: Any) -> float | None:
        try:
            entry = self.catalog[catalog]
            cost = entry.cost_eur(shape(geometry))
        except Exception:  # unknown entry or unreadable geometry: the cost is unknown, not zero
            return None
        return cost if math.isfinite(cost) else None

    def compare(self, left_id: str, right_id: str) -> Comparison:
        """Two proposals side by side: votes, share, interventions, cost and every KPI."""
        if left_id == right_id:
            raise MultiplayerError(f"compare two different proposals, not {left_id} with itself.")
        left, right = self.open(left_id), self.open(right_id)
        lang = self.lang
        rows = [CompareRow("title", "Title", left.title, right.title, None),
                CompareRow("source", "From", left.kiosk_name, right.kiosk_name, None),
                CompareRow("rank", "Rank", f"#{left.rank}", f"#{right.rank}", _ahead(-left.rank, -right.rank))]
        for question in [q for q in self.question_ids if q in left.votes or q in right.votes]:
            votes = left.votes.get(question, 0), right.votes.get(question, 0)
            rows.append(CompareRow(f"votes:{question}", f"Votes: {self._question_text(question)}",
                                   format_number(votes[0], lang), format_number(votes[1], lang), _ahead(*votes)))
        rows.append(CompareRow("share", "Share of votes", _percent(left.share, lang), _percent(right.share, lang),
                               _ahead(left.share, right.share)))
        rows.append(CompareRow("interventions", "Interventions", format_number(left.intervention_count, lang),
                               format_number(right.intervention_count, lang), None))
        rows.append(CompareRow("cost", "Cost", _cost_text(left.cost_eur, lang), _cost_text(right.cost_eur, lang),
                               None if left.cost_eur is None or right.cost_eur is None
                               else _ahead(-left.cost_eur, -right.cost_eur)))
        rows.extend(_kpi_rows(left.kpis, right.kpis))
        late = CompareRow("late", "Sent late (kiosk offline)", "yes" if left.late else "no",
                          "yes" if right.late else "no", None)
        return Comparison(left, right, rows + ([late] if left.late or right.late else []))

    def _question_text(self, question_id: str) -> str:
        board = self.board()
        question = next((q for q in board.questions if q.id == question_id), None)
        return board.text(question.text, self.lang) if question is not None else question_id

    # -- export --------------------------------------------------------------------------------
    def export(self, out_dir: Path) -> dict[str, Path]:
        """Write the workshop's five export files into ``out_dir``; ``{name: path}``."""
        from multiplayer.export import export
        from multiplayer.store import Store, StoreError

        if self.db is None:
            raise MultiplayerError("this review was not opened from a database file, so it cannot export.")
        try:
            store = Store(self.db, create=False, needs_key=False)
        except StoreError as exc:
            raise MultiplayerError(str(exc)) from None
        try:
            return export(store, self.replay.data.code, Path(out_dir))
        except OSError as exc:
            raise MultiplayerError(f"could not write the export to {out_dir}: {exc.strerror or exc}.") from None
        finally:
            store.close()


def _kpi_rows(left: Sequence[KpiDelta], right: Sequence[KpiDelta]) -> list[CompareRow]:
    """One row per KPI either side reports ("–" where one does not); the side whose change
    is better in the KPI's own direction is ahead."""
    by_name = {k.name: k for k in left}, {k.name: k for k in right}
    rows = []
    for name in _kpi_order(set(by_name[0]) | set(by_name[1])):
        a, b = by_name[0].get(name), by_name[1].get(name)
        known = a if a is not None else b
        assert known is not None
        ahead = None
        if a is not None and b is not None and known.better is not None:
            sign = 1.0 if known.better == "higher" else -1.0
            ahead = _ahead(round(sign * a.delta, 9), round(sign * b.delta, 9))
        rows.append(CompareRow(f"kpi:{name}", known.label, a.text if a else "–", b.text if b else "–", ahead))
    return rows


def _total(costs: Sequence[float | None]) -> float | None:
    """The sum, or None (unknown) when any part is unknown."""
    return None if any(c is None for c in costs) else float(sum(c for c in costs if c is not None))


def _ahead(left: float, right: float) -> Literal["left", "right"] | None:
    if left == right:
        return None
    return "left" if left > right else "right"


def _percent(share: float, lang: str) -> str:
    return format_number(100.0 * share, lang, decimals=0) + ("%" if lang == "en" else "\u00a0%")


def _cost_text(cost_eur: float | None, lang: str) -> str:
    return "unknown" if cost_eur is None else format_eur(cost_eur, lang)

