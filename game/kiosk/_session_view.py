"""Composing the :class:`~game.kiosk.view.HudView` of a kiosk session, screen by screen.

Pure: it reads the session (and its engine and sink) and formats; it changes nothing.
KPI cards and legends are cached on what they show, since the app asks every frame.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from game.kiosk._session_text import KPI_ORDER, cost_text, kpi_cards, legend_for, localized, t, t_name
from game.kiosk._session_workshop import phase_text, proposal_cards, proposing_open, question_views, voting_open
from game.kiosk.i18n import format_eur, language_name
from game.kiosk.view import Action, Budget, Button, HudView, KpiCard, Legend, PaletteItem

if TYPE_CHECKING:
    from game.kiosk.session import KioskSession

__all__ = ["compose"]

_HINTS = {"point": "place.pick_spot", "line": "place.pick_line", "area": "place.pick_area",
          "building-edit": "place.pick_roof"}
_cards: dict[tuple[Any, ...], tuple[KpiCard, ...]] = {}
_legends: dict[tuple[Any, ...], Legend] = {}


def _cached_cards(session: KioskSession) -> tuple[KpiCard, ...]:
    if session.engine is None:
        return ()
    kpis = session.engine.kpis()
    key = (session.lang, tuple((n, k.value, k.baseline) for n, k in kpis.items()))
    if key not in _cards:
        if len(_cards) > 64:
            _cards.clear()
        _cards[key] = kpi_cards(kpis, session.lang)
    return _cards[key]


def _legend(session: KioskSession) -> Legend | None:
    sim = session.overlay
    if session.engine is None or sim is None or sim not in session.engine.runs:
        return None
    field = session.engine.runs[sim].result.field
    key = (sim, session.lang, field.unit, field.ramp)
    if key not in _legends:
        if len(_legends) > 64:
            _legends.clear()
        _legends[key] = legend_for(field, sim, session.lang)
    return _legends[key]


def _sims(session: KioskSession) -> list[str]:
    if session.engine is None:
        return []
    names = list(session.engine.simulations)
    rank = {name: i for i, name in enumerate(KPI_ORDER)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))


def _status(session: KioskSession) -> str:
    connected = session.sink.connected
    key = "status.standalone" if connected is None else "status.online" if connected else "status.offline"
    return t(session.lang, key)


def _palette(session: KioskSession) -> tuple[PaletteItem, ...]:
    ready = session.engine is not None
    return tuple(PaletteItem(catalog=e.id, name=localized(e.name, session.lang), cost=cost_text(e, session.lang),
                             action=Action.of("select", catalog=e.id), selected=e.id == session.selected,
                             enabled=ready) for e in session.allowed_entries)


def _tools(session: KioskSession) -> tuple[Button, ...]:
    lang = session.lang
    ids = session.placed_ids()
    tools = [Button(t(lang, "tool.undo"), Action.of("undo"), enabled=session.can_undo),
             Button(t(lang, "tool.redo"), Action.of("redo"), enabled=session.can_redo)]
    if session.selected is not None:
        tools.append(Button(t(lang, "tool.rotate"), Action.of("rotate", degrees=15.0)))
        tools.append(Button(t(lang, "tool.cancel"), Action.of("deselect")))
    tools.append(Button(t(lang, "tool.delete"), Action.of("delete", placed=ids[-1] if ids else None),
                        enabled=bool(ids)))
    other = "overview" if session.mode == "walk" else "walk"
    tools.append(Button(t(lang, f"mode.{other}"), Action.of("mode", to=other)))
    state = session.sink.state
    tools += [Button(t(lang, "propose.button"), Action.of("screen", to="propose"),
                     enabled=bool(ids) and proposing_open(state)),
              Button(t(lang, "proposals.button"), Action.of("screen", to="proposals")),
              Button(t(lang, "vote.button"), Action.of("screen", to="vote"), enabled=voting_open(state)),
              Button(t(lang, "finish.button"), Action.of("finish"))]
    return tuple(tools)


def _busy(session: KioskSession) -> str | None:
    engine = session.engine
    if engine is None:
        return t(session.lang, "busy.preparing")
    pending = engine.pending()
    if not pending:
        return None
    return t(session.lang, "busy.updating", sim=t(session.lang, f"sim.{pending[0]}"))


def _budget(session: KioskSession) -> Budget | None:
    total = session.scenario.budget_eur
    if total is None:
        return None
    spent = session.spent_eur()
    lang = session.lang
    return Budget(spent, total, t(lang, "budget.text", spent=format_eur(spent, lang), total=format_eur(total, lang)))


def _hint(session: KioskSession) -> str:
    lang = session.lang
    if session.selected is not None:
        entry = session.catalog[session.selected]
        return t_name(lang, _HINTS[entry.kind], localized(entry.name, lang))
    return t(lang, "hint.walk" if session.mode == "walk" else "hint.overview")


def _screen_parts(session: KioskSession) -> dict[str, Any]:
    """Heading, body, buttons and the lists of the current screen."""
    lang, screen = session.lang, session.screen
    back = Button(t(lang, "session.back"), Action.of("screen", to="explore"))
    if screen == "attract":
        return {"heading": localized(session.scenario.title, lang), "body": (t(lang, "attract.tagline"),),
                "buttons": (Button(t(lang, "attract.touch"), Action.of("start")),)}
    if screen == "consent":
        return {"heading": t(lang, "consent.heading"), "body": (t(lang, "consent.body"),),
                "buttons": (Button(t(lang, "consent.accept"), Action.of("consent")),
                            Button(t(lang, "consent.decline"), Action.of("decline")))}
    if screen == "language":
        after = "consent" if session.kiosk_mode and session.started_at is None else "explore"
        return {"heading": t(lang, "language.heading"),
                "buttons": (Button(t(lang, "session.back"), Action.of("screen", to=after)),)}
    if screen == "propose":
        return {"heading": t(lang, "propose.heading"), "text_input": session.title_input,
                "buttons": (Button(t(lang, "propose.submit"), Action.of("propose", title=session.title_input),
                                   enabled=bool(session.placed_ids()) and proposing_open(session.sink.state)),
                            back)}
    if screen == "proposals":
        proposals = session.workshop()[1]
        return {"heading": t(lang, "proposals.heading"),
                "body": () if proposals else (t(lang, "proposals.none"),),
                "proposals": proposal_cards(proposals, session.mine(), lang), "buttons": (back,)}
    if screen == "vote":
        questions, proposals = session.workshop()
        statuses = {q: session.vote_status(q) for q in session.votes}
        return {"heading": t(lang, "vote.heading"), "buttons": (back,),
                "questions": question_views(questions, proposals, session.votes, statuses, lang,
                                            voting_open(session.sink.state))}
    if screen == "thanks":
        return {"heading": t(lang, "thanks.heading"), "body": (t(lang, "thanks.body"),),
                "buttons": (Button(t(lang, "session.again"), Action.of("finish")),)}
    return {}


def compose(session: KioskSession, now: float, utc_now: datetime | None) -> HudView:
    """The :class:`HudView` of ``session`` at ``now``."""
    lang = session.lang
    parts = _screen_parts(session)
    working = session.screen in ("explore", "propose", "proposals", "vote")
    explore = session.screen == "explore"
    toast = session.toast[0] if session.toast is not None and now < session.toast[1] else None
    countdown = None
    left = session.idle_left_s(now)
    if left is not None:
        countdown = t(lang, "idle.countdown", seconds=str(max(1, math.ceil(left))))
        parts["buttons"] = (Button(t(lang, "idle.still_here"), Action.of("still_here")),)
    overlays: tuple[Button, ...] = ()
    if explore and session.engine is not None:
        overlays = (*(Button(t(lang, f"sim.{name}"), Action.of("overlay", sim=name), selected=session.overlay == name)
                      for name in _sims(session)),
                    Button(t(lang, "overlay.none"), Action.of("overlay", sim=None), selected=session.overlay is None))
    note = session.note
    return HudView(
        screen=session.screen,  # type: ignore[arg-type]
        lang=lang,
        languages=tuple(Button(language_name(code), Action.of("lang", code=code), selected=code == lang)
                        for code in session.languages),
        large_text=session.large_text,
        high_contrast=session.high_contrast,
        title=localized(session.scenario.title, lang),
        phase=phase_text(session.sink.state, lang, utc_now),
        status=_status(session),
        heading=parts.get("heading", ""),
        body=parts.get("body", ()),
        buttons=parts.get("buttons", ()),
        palette=_palette(session) if explore else (),
        tools=_tools(session) if explore else (),
        overlays=overlays,
        legend=_legend(session) if explore else None,
        kpis=_cached_cards(session) if working else (),
        budget=_budget(session) if working else None,
        callout=note.callout(lang, session.time_text) if explore and note is not None else None,
        toast=toast,
        busy=_busy(session) if working else None,
        countdown=countdown,
        hint=_hint(session) if explore else "",
        questions=parts.get("questions", ()),
        proposals=parts.get("proposals", ()),
        text_input=parts.get("text_input"),
    )
