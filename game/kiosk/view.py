"""What the kiosk's 2D interface shows, as plain data: the session composes it, the HUD draws it.

:class:`HudView` is a frozen snapshot of everything on screen besides the 3D scene. The
pure :mod:`game.kiosk.session` builds one from its state (in the citizen's language,
numbers already formatted), and :mod:`game.kiosk.hud` draws it with Panda3D; the HUD
redraws only what differs from the view before. Every button carries an
:class:`Action`: the HUD hands it back when the button is pressed and the app routes it
to the session, exactly as a ``--script`` step would, so a test can press any button
without a pointer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "SCREENS", "Screen", "Verdict", "Action", "Button", "PaletteItem", "KpiCard", "Budget", "Callout",
    "Legend", "Toast", "QuestionView", "ProposalCard", "HudView",
]

#: The screens of a kiosk visit, in the order a citizen meets them.
SCREENS = ("attract", "consent", "language", "explore", "propose", "proposals", "vote", "thanks")
Screen = Literal["attract", "consent", "language", "explore", "propose", "proposals", "vote", "thanks"]
Verdict = Literal["better", "worse", "same"]


@dataclass(frozen=True, slots=True)
class Action:
    """What pressing a button asks for: ``name`` and its arguments (plain JSON values).

    Names: ``start``, ``consent``, ``decline``, ``lang`` (code), ``large_text``,
    ``high_contrast``, ``select`` (catalog), ``deselect``, ``rotate`` (degrees), ``undo``,
    ``redo``, ``delete`` (placed), ``overlay`` (sim or None), ``mode`` (to: walk|overview),
    ``screen`` (to: a screen name), ``propose`` (title), ``vote`` (question, choice),
    ``fly_to`` (proposal), ``still_here``, ``finish``.
    """

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, name: str, **args: Any) -> Action:
        return cls(name, tuple(sorted(args.items())))

    def arg(self, key: str, default: Any = None) -> Any:
        return dict(self.args).get(key, default)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Action
    enabled: bool = True
    selected: bool = False
    icon: str | None = None  # a catalog id (its pictogram) or None


@dataclass(frozen=True, slots=True)
class PaletteItem:
    catalog: str
    name: str  # in the current language
    cost: str  # formatted, e.g. "€1,200" or "€60 / m²"
    action: Action  # select this entry
    selected: bool = False
    enabled: bool = True  # False when the scenario or the phase does not allow it


@dataclass(frozen=True, slots=True)
class KpiCard:
    name: str  # the KPI name, e.g. "shade_public_m2"
    label: str  # in the current language
    value: str  # formatted with its unit, e.g. "33,305 m²"
    delta: str  # signed change to the baseline with its unit, e.g. "+38 m²", or the "no change" text
    verdict: Verdict  # colours the delta: better green, worse red, same grey


@dataclass(frozen=True, slots=True)
class Budget:
    spent_eur: float
    total_eur: float
    text: str  # e.g. "€12,400 of €250,000"

    @property
    def fraction(self) -> float:
        return 0.0 if self.total_eur <= 0 else min(1.0, self.spent_eur / self.total_eur)


@dataclass(frozen=True, slots=True)
class Callout:
    """A note anchored at a placed object: local metres, z up."""

    x_m: float
    y_m: float
    z_m: float
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Legend:
    title: str
    unit: str
    stops: tuple[tuple[float, tuple[int, int, int, int]], ...]  # the field's colour ramp
    labels: tuple[tuple[float, str], ...]  # a few values along the ramp with their text


@dataclass(frozen=True, slots=True)
class Toast:
    text: str
    kind: Literal["info", "success", "error"] = "info"


@dataclass(frozen=True, slots=True)
class QuestionView:
    id: str
    kind: Literal["choice", "score", "proposal"]
    text: str
    options: tuple[Button, ...]  # each a ``vote`` action; ``selected`` marks the kiosk's current vote
    status: str = ""  # e.g. "Vote received ✓", "Vote saved on this kiosk", "Voting is closed."


@dataclass(frozen=True, slots=True)
class ProposalCard:
    id: str
    title: str
    lines: tuple[str, ...]  # e.g. "3 interventions", "Shade +38 m²"
    action: Action  # fly_to
    mine: bool = False


@dataclass(frozen=True, slots=True)
class HudView:
    """Everything the 2D interface shows in one frame."""

    screen: Screen
    lang: str
    languages: tuple[Button, ...] = ()  # the language picker (every screen shows a small one)
    large_text: bool = False
    high_contrast: bool = False
    title: str = ""  # the scenario's title
    phase: str = ""  # e.g. "Voting · 4:12 left" or "" stand-alone
    status: str = ""  # connection: "Online", "Offline: saved on this kiosk", "Not connected to a workshop"
    heading: str = ""  # the big text of attract / consent / language / propose / thanks screens
    body: tuple[str, ...] = ()  # paragraphs under the heading
    buttons: tuple[Button, ...] = ()  # the screen's main buttons (start, accept, send, finish…)
    palette: tuple[PaletteItem, ...] = ()
    tools: tuple[Button, ...] = ()  # undo, redo, rotate, delete, walk/overview, propose, vote, finish
    overlays: tuple[Button, ...] = ()  # one per simulation field, plus "nothing"
    legend: Legend | None = None
    kpis: tuple[KpiCard, ...] = ()
    budget: Budget | None = None
    callout: Callout | None = None
    toast: Toast | None = None
    busy: str | None = None  # spinner text, e.g. "Updating noise…"
    countdown: str | None = None  # the idle warning, e.g. "Still there? Resetting in 9 s"
    hint: str = ""  # one line of help at the bottom
    questions: tuple[QuestionView, ...] = ()
    proposals: tuple[ProposalCard, ...] = ()
    text_input: str | None = None  # the proposal title being typed (propose screen), else None
