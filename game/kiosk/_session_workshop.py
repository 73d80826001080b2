"""The workshop as the kiosk shows it: phase and time left, questions to vote on,
proposals to browse, and whether proposing and voting are open.

With a workshop (a ``state`` from the server, see ``docs/protocol.md``) everything comes
from that state; a stand-alone kiosk takes its questions from the scenario and offers its
own proposals as the options of a proposal question.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from game.kiosk._session_text import format_delta, kpi_label, localized, proposal_delta, t
from game.kiosk.i18n import format_number
from game.kiosk.view import Action, Button, ProposalCard, QuestionView

__all__ = ["OPEN_TO_PROPOSE", "proposing_open", "voting_open", "phase_key", "phase_text", "question_views",
           "proposal_cards", "proposal_centre", "valid_choice", "rounded_kpis", "CARD_KPIS"]

#: Phases in which proposals are taken (docs/protocol.md, "What is open when").
OPEN_TO_PROPOSE = ("explore", "propose")
#: The KPIs a proposal card names when they changed, most telling first, with their units.
CARD_KPIS = (("shade_public_m2", "m²"), ("utci_mean_c", "°C"), ("runoff_m3", "m³"), ("facade_lden_mean_db", "dB(A)"),
             ("seats_in_shade", "seats"), ("homes_300_park_pct", "%"))
_CARD_LINES = 2


def proposing_open(state: Mapping[str, Any] | None) -> bool:
    """Stand-alone: always; in a workshop: explore or propose, unlocked."""
    return state is None or (state.get("phase") in OPEN_TO_PROPOSE and not state.get("locked"))


def voting_open(state: Mapping[str, Any] | None) -> bool:
    """Stand-alone: always; in a workshop: the vote phase, unlocked."""
    return state is None or (state.get("phase") == "vote" and not state.get("locked"))


def phase_key(state: Mapping[str, Any] | None) -> tuple[str, bool] | None:
    return None if state is None else (str(state.get("phase", "")), bool(state.get("locked")))


def phase_text(state: Mapping[str, Any] | None, lang: str, utc_now: datetime | None) -> str:
    """"Vote · 4:12 left", or "" for a stand-alone kiosk."""
    if state is None or not state.get("phase"):
        return ""
    try:
        text = t(lang, f"phase.{state['phase']}")
    except KeyError:
        text = str(state["phase"])
    ends = state.get("timer_ends_at")
    if isinstance(ends, str) and utc_now is not None:
        try:
            left_s = (datetime.fromisoformat(ends.replace("Z", "+00:00")) - utc_now).total_seconds()
        except (TypeError, ValueError):
            return text
        left = max(0, math.ceil(left_s))
        text += " · " + t(lang, "phase.left", minutes=str(left // 60), seconds=f"{left % 60:02d}")
    return text


def valid_choice(question: Mapping[str, Any], choice: Any, proposals: Sequence[Mapping[str, Any]]) -> bool:
    """Whether ``choice`` answers ``question``: one of its options, a score 1..5, a proposal id."""
    kind = question.get("kind")
    if kind == "score":
        return isinstance(choice, int) and not isinstance(choice, bool) and 1 <= choice <= 5
    if kind == "proposal":
        return any(p.get("id") == choice for p in proposals)
    return any(o.get("id") == choice for o in question.get("options", ()))


def question_views(questions: Sequence[Mapping[str, Any]], proposals: Sequence[Mapping[str, Any]],
                   votes: Mapping[str, tuple[Any, str]], statuses: Mapping[str, str], lang: str,
                   open_: bool) -> tuple[QuestionView, ...]:
    """Each question with its options as vote buttons (this visitor's vote marked) and the
    status of that vote: received, saved on the kiosk, or voting closed."""
    out = []
    for question in questions:
        qid = str(question.get("id"))
        kind = question.get("kind", "choice")
        mine = votes.get(qid, (None, ""))[0]
        if kind == "score":
            options: list[tuple[Any, str]] = [(n, str(n)) for n in range(1, 6)]
        elif kind == "proposal":
            options = [(p.get("id"), str(p.get("title", p.get("id")))) for p in proposals]
        else:
            options = [(o.get("id"), localized(o.get("label", o.get("id")), lang)) for o in question.get("options", ())]
        buttons = tuple(Button(label, Action.of("vote", question=qid, choice=choice), enabled=open_,
                               selected=mine is not None and choice == mine) for choice, label in options)
        status = statuses.get(qid, "")
        text = {"received": t(lang, "vote.received"), "saved": t(lang, "vote.saved"),
                "refused": t(lang, "vote.closed")}.get(status, "")
        if not text and not open_:
            text = t(lang, "vote.closed")
        out.append(QuestionView(id=qid, kind=kind if kind in ("choice", "score", "proposal") else "choice",
                                text=localized(question.get("text", qid), lang), options=buttons, status=text))
    return tuple(out)


def proposal_cards(proposals: Sequence[Mapping[str, Any]], mine: set[str], lang: str) -> tuple[ProposalCard, ...]:
    """A card per proposal: its title, how many interventions, and up to two KPI changes."""
    cards = []
    for proposal in proposals:
        pid = str(proposal.get("id"))
        interventions = proposal.get("interventions") or []
        lines = [t(lang, "proposals.count", count=format_number(len(interventions), lang))]
        kpis = proposal.get("kpis") or {}
        for name, unit in CARD_KPIS:
            value = kpis.get(name)
            if len(lines) > _CARD_LINES or not isinstance(value, int | float):
                continue
            delta = format_delta(float(value), unit, lang)
            if delta is not None:
                lines.append(f"{kpi_label(name, name, lang)} {delta}")
        cards.append(ProposalCard(id=pid, title=str(proposal.get("title", pid)), lines=tuple(lines),
                                  action=Action.of("fly_to", proposal=pid), mine=pid in mine))
    return tuple(cards)


def proposal_centre(proposal: Mapping[str, Any]) -> tuple[float, float] | None:
    """The mean of every position of a proposal's interventions, local metres."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if isinstance(coords, list | tuple) and len(coords) >= 2 and all(isinstance(v, int | float) for v in coords):
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        elif isinstance(coords, list | tuple):
            for item in coords:
                walk(item)

    for item in proposal.get("interventions") or []:
        if isinstance(item, Mapping) and isinstance(item.get("geometry"), Mapping):
            walk(item["geometry"].get("coordinates"))
    return (sum(xs) / len(xs), sum(ys) / len(ys)) if xs else None


def rounded_kpis(kpis: Mapping[str, Any]) -> dict[str, float]:
    """The KPI deltas a proposal carries (name -> delta rounded to its unit)."""
    return {name: proposal_delta(k.delta, k.unit) for name, k in kpis.items() if math.isfinite(k.delta)}
