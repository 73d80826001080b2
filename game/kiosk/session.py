"""The kiosk's pure controller: one visitor's session, from the attract screen to the wipe.

The Panda3D app owns the camera, the scene and the input; it asks a :class:`KioskSession`
everything else and draws :meth:`KioskSession.view` (a :class:`~game.kiosk.view.HudView`).
Buttons and script steps come back as :class:`~game.kiosk.view.Action` through
:meth:`KioskSession.dispatch`; taps on the ground through :meth:`KioskSession.place` and
:meth:`KioskSession.preview`. Time is passed in (``now``: monotonic seconds for the idle
timer and toasts; ``utc_now``: an aware datetime for the workshop timer), so a session is
deterministic given a ``seed``: a script replays the same ids and the same texts.

What leaves the kiosk goes through a :class:`~game.kiosk._session_sink.Sink`: proposals,
votes and a few anonymous events (``session_start``, ``placed``, ``removed``, ``lang``,
``session_end``). :meth:`KioskSession.reset` wipes everything of the visitor.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import shapely

from game.kiosk import _session_view
from game.kiosk._session_callout import running
from game.kiosk._session_core import TOAST_S, Outcome, Preview
from game.kiosk._session_geometry import roof_at, snap_line
from game.kiosk._session_place import MAX_PLACED, Placing
from game.kiosk._session_sink import ClientSink, OutboxSink, Sink
from game.kiosk._session_workshop import phase_key, proposing_open, rounded_kpis, valid_choice, voting_open
from game.kiosk.i18n import UI_LANGUAGES
from game.kiosk.view import SCREENS, Action, HudView
from sims.engine import Engine
from world.catalog import Catalog
from world.interventions import Placed, placed_to_json
from world.scenario import Scenario

__all__ = ["ACTIONS", "Outcome", "Preview", "KioskSession", "Sink", "ClientSink", "OutboxSink", "snap_line", "roof_at",
           "scene_hash", "TOAST_S", "THANKS_S", "MAX_PLACED"]

#: Every action name a button (or a script's ``press`` step) may carry; see :class:`~game.kiosk.view.Action`.
ACTIONS = ("start", "consent", "decline", "lang", "large_text", "high_contrast", "select", "deselect", "rotate",
           "undo", "redo", "delete", "overlay", "mode", "screen", "propose", "vote", "fly_to", "still_here", "finish")
#: How long the thank-you screen stays before the kiosk wipes itself, s.
THANKS_S = 8.0
_OPEN_PHASES = ("explore", "propose", "vote")


def _languages(scenario: Scenario, lang: str) -> tuple[str, ...]:
    workshop = scenario.extra.get("workshop", {})
    offered = workshop.get("languages") if isinstance(workshop, Mapping) else None
    codes = [c for c in (offered or UI_LANGUAGES) if c in UI_LANGUAGES] or list(UI_LANGUAGES)
    if lang in UI_LANGUAGES:
        codes = [lang, *(c for c in codes if c != lang)]
    return tuple(codes)


class KioskSession(Placing):
    """One kiosk's state: the visitor's language, settings, placements (through the
    engine), proposals and votes, and the screen they are on."""

    def __init__(self, scenario: Scenario, catalog: Catalog, *, sink: Sink, lang: str = "en",
                 kiosk_mode: bool = False, idle_s: float = 90.0, countdown_s: float = 15.0,
                 seed: int | None = None, languages: Sequence[str] | None = None) -> None:
        self.scenario = scenario
        self.catalog = catalog
        self.sink = sink
        self.kiosk_mode = kiosk_mode
        self.idle_s = float(idle_s)
        self.countdown_s = float(countdown_s)
        self.languages = tuple(languages) if languages else _languages(scenario, lang)
        self.engine: Engine | None = None
        self.time_text = scenario.when.strftime("%H:%M")
        self._rng = random.Random(seed)
        #: This kiosk's proposals (all visitors): a stand-alone kiosk's proposal question offers them.
        self.kiosk_proposals: list[dict[str, Any]] = []
        self.allowed_entries = [e for e in catalog if e.id in set(scenario.allowed)]
        self._utc_now: datetime | None = None
        self._phase_seen: tuple[str, bool] | None = phase_key(sink.state)
        self._wipe(0.0)
        self.lang = lang

    def view(self, now: float, utc_now: datetime | None = None) -> HudView:
        """Everything the 2D interface shows now, in the visitor's language."""
        if utc_now is not None:
            self._utc_now = utc_now
        return _session_view.compose(self, now, self._utc_now)

    # -- time ------------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Once a frame: publish slow simulation updates, watch the workshop's phase, and in
        kiosk mode wipe the session after the thank-you screen or when the visitor left."""
        if self.engine is not None:
            if self.note is not None and self.note.waiting:
                self.note.settle(self.engine)
            else:
                running(self.engine)
        seen = phase_key(self.sink.state)
        before, self._phase_seen = self._phase_seen, seen
        if before is not None and seen != before and before[0] in _OPEN_PHASES and not before[1]:
            self._say(self.t("phase.round_closed"), "info", now)
        if not self.kiosk_mode or self.screen == "attract":
            return
        thanked = self.thanks_until is not None and now >= self.thanks_until
        if thanked or now - self.last_activity >= self.idle_s:
            self.reset(now)

    def idle_left_s(self, now: float) -> float | None:
        """Seconds until the idle wipe while the countdown shows, else None."""
        if not self.kiosk_mode or self.screen in ("attract", "thanks"):
            return None
        left = self.idle_s - (now - self.last_activity)
        return left if left <= self.countdown_s else None

    def reset(self, now: float) -> None:
        """The visitor is gone: report the session (anonymously), then wipe it all."""
        if self.started_at is not None:
            self._event("session_end", duration_s=round(max(0.0, now - self.started_at), 1),
                        placements=self.counts["placements"], proposals=self.counts["proposals"],
                        votes=self.counts["votes"], language=self.lang)
        if self.engine is not None:
            self.engine.reset()
        self._wipe(now)

    # -- actions ---------------------------------------------------------------------------------

    def dispatch(self, action: Action, now: float, utc_now: datetime | None = None) -> Outcome:
        """Do what a button (or a script step) asks; refusals also show as a toast."""
        self.touch(now)
        if utc_now is not None:
            self._utc_now = utc_now
        handler = getattr(self, f"_on_{action.name}", None) if action.name in ACTIONS else None
        if handler is None:
            return Outcome(False, f"the kiosk has no action {action.name!r}.")
        outcome: Outcome = handler(action, now)
        return outcome

    def _on_start(self, action: Action, now: float) -> Outcome:
        self.screen = "consent" if self.kiosk_mode else "explore"
        return Outcome(True)

    def _on_consent(self, action: Action, now: float) -> Outcome:
        self.screen = "explore"
        self._begin(now)
        return Outcome(True)

    def _on_decline(self, action: Action, now: float) -> Outcome:
        self.reset(now)
        return Outcome(True)

    def _on_lang(self, action: Action, now: float) -> Outcome:
        code = action.arg("code")
        if code not in self.languages:
            return Outcome(False, f"the kiosk does not offer the language {code!r}.")
        if code != self.lang and self.started_at is not None:
            self._event("lang", language=code)
        self.lang = code
        return Outcome(True)

    def _on_large_text(self, action: Action, now: float) -> Outcome:
        self.large_text = bool(action.arg("on", not self.large_text))
        return Outcome(True)

    def _on_high_contrast(self, action: Action, now: float) -> Outcome:
        self.high_contrast = bool(action.arg("on", not self.high_contrast))
        return Outcome(True)

    def _on_select(self, action: Action, now: float) -> Outcome:
        catalog_id = action.arg("catalog")
        if self.engine is None:
            return self._refuse(self.t("busy.preparing"), now)
        if catalog_id not in {e.id for e in self.allowed_entries}:
            reason = self.engine.check(Placed("none", str(catalog_id), shapely.Point(0.0, 0.0)), self.lang) \
                if catalog_id in self.catalog.ids() else f"the catalog has no intervention {catalog_id!r}."
            return self._refuse(reason or "", now)
        self.selected, self.rotation_deg, self.screen = catalog_id, 0.0, "explore"
        return Outcome(True)

    def _on_deselect(self, action: Action, now: float) -> Outcome:
        self.selected = None
        return Outcome(True)

    def _on_rotate(self, action: Action, now: float) -> Outcome:
        self.rotation_deg = (self.rotation_deg + float(action.arg("degrees", 15.0))) % 360.0
        return Outcome(True)

    def _on_undo(self, action: Action, now: float) -> Outcome:
        return self.undo(now)

    def _on_redo(self, action: Action, now: float) -> Outcome:
        return self.redo(now)

    def _on_delete(self, action: Action, now: float) -> Outcome:
        ids = self.placed_ids()
        target = action.arg("placed") or (ids[-1] if ids else None)
        if target is None:
            return self._refuse(self.t("session.nothing_to_remove"), now)
        return self.remove(target, now)

    def _on_overlay(self, action: Action, now: float) -> Outcome:
        sim = action.arg("sim")
        if sim is not None and (self.engine is None or sim not in self.engine.simulations):
            return Outcome(False, f"there is no simulation {sim!r}.")
        self.overlay = sim
        return Outcome(True)

    def _on_mode(self, action: Action, now: float) -> Outcome:
        to = action.arg("to", "overview")
        if to not in ("walk", "overview"):
            return Outcome(False, f"the mode {to!r} is neither walk nor overview.")
        self.mode = to
        return Outcome(True)

    def _on_screen(self, action: Action, now: float) -> Outcome:
        to = action.arg("to")
        if to not in SCREENS:
            return Outcome(False, f"there is no screen {to!r}.")
        if to == "propose" and not self.title_input:
            self.title_input = self.t("propose.default_title")
        self.screen = to
        return Outcome(True)

    def _on_propose(self, action: Action, now: float) -> Outcome:
        title = action.arg("title")
        return self.propose(self.title_input if title is None else str(title), now)

    def _on_vote(self, action: Action, now: float) -> Outcome:
        return self.vote(action.arg("question"), action.arg("choice"), now)

    def _on_fly_to(self, action: Action, now: float) -> Outcome:
        centre = self.proposal_centre(action.arg("proposal"))
        if centre is None:
            return Outcome(False, f"there is no proposal {action.arg('proposal')!r} with a place to show.")
        self.focus, self.screen = centre, "explore"
        return Outcome(True)

    def _on_still_here(self, action: Action, now: float) -> Outcome:
        return Outcome(True)

    def _on_finish(self, action: Action, now: float) -> Outcome:
        if self.screen == "thanks":  # "start again"
            self.reset(now)
            return Outcome(True)
        self.screen = "thanks"
        self.selected = None
        self.thanks_until = now + THANKS_S
        return Outcome(True)

    # -- proposing and voting ----------------------------------------------------------------------

    def propose(self, title: str, now: float | None = None) -> Outcome:
        """Send what is placed as a proposal, with its simulated KPI changes."""
        self.touch(now)
        if self.engine is None or not self.engine.placed:
            return self._refuse(self.t("propose.empty"), now)
        if not proposing_open(self.sink.state):
            return self._refuse(self.t("propose.closed"), now)
        self.engine.wait()  # the slow simulations' answer belongs in the proposal
        title = " ".join(str(title).split())[:120] or self.t("propose.default_title")
        interventions = [placed_to_json(p) for p in self.engine.placed]
        kpis = rounded_kpis(self.engine.kpis())
        self._begin(now)
        msg_id = self._send("propose", title=title, interventions=interventions, kpis=kpis,
                            scene_hash=scene_hash(interventions), session=self.session_id)
        if msg_id is None:
            return self._refuse(self.t("session.too_many"), now)
        local_id = f"{self.session_id}-p{self.counts['proposals'] + 1}"
        self.kiosk_proposals.append({"id": local_id, "msg": msg_id, "title": title, "interventions": interventions,
                                     "kpis": kpis})
        self.my_proposals.append(msg_id)
        self.counts["proposals"] += 1
        self.title_input = ""
        self.screen = "proposals"
        self._say(self.t("propose.sent" if self.sink.connected else "propose.saved"), "success", now)
        return Outcome(True)

    def vote(self, question: str, choice: Any, now: float | None = None) -> Outcome:
        """Cast (or change) this visitor's vote on a question."""
        self.touch(now)
        if not voting_open(self.sink.state):
            return self._refuse(self.t("vote.closed"), now)
        questions, proposals = self.workshop()
        found = next((q for q in questions if q.get("id") == question), None)
        if found is None:
            return Outcome(False, f"there is no question {question!r}.")
        if not valid_choice(found, choice, proposals):
            return Outcome(False, f"{choice!r} is not an answer to the question {question!r}.")
        self._begin(now)
        msg_id = self._send("vote", question=question, choice=choice, session=self.session_id)
        if msg_id is None:
            return self._refuse(self.t("vote.closed"), now)
        self.votes[question] = (choice, msg_id)
        self.counts["votes"] += 1
        self._say(self.t("vote.received" if self.sink.connected else "vote.saved"), "success", now)
        return Outcome(True)

    def inspect(self, name: str | None, height_m: float | None, x: float, y: float,
                now: float | None = None) -> str:
        """What a tap on a building (or the ground) at (x, y) shows: the building's name
        and height, and what this visitor placed within 5 m; returns the text."""
        from game.kiosk.i18n import format_number

        parts = []
        if height_m is not None:
            parts.append(self.t("pick.building", name=name or self.t("pick.unnamed"),
                                height=format_number(height_m, self.lang, decimals=1)))
        here = shapely.Point(x, y)
        engine = self.engine
        names = [self.catalog[p.catalog].name.get(self.lang, self.catalog[p.catalog].name["en"])
                 for p in (engine.placed if engine is not None else ()) if p.geometry.distance(here) <= 5.0]
        if names:
            parts.append(self.t("pick.placed", names=", ".join(names)))
        text = " · ".join(parts)
        if text:
            self._say(text, "info", now)
        return text

    def vote_status(self, question: str) -> str:
        """``received``, ``saved``, ``refused`` or "" (no vote) for this visitor's vote."""
        if question not in self.votes:
            return ""
        status = self.sink.status(self.votes[question][1])
        return {"acked": "received", "queued": "saved", "sent": "saved"}.get(status, status)


def scene_hash(interventions: list[dict[str, Any]]) -> str:
    """SHA-256 (hex) of the interventions as canonical JSON: sorted keys, no spaces, UTF-8."""
    text = json.dumps(interventions, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

