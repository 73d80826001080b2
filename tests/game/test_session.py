"""The kiosk session on the built Helsinki package: placing (refusals in the visitor's
language, budget, undo/redo, snapping, callouts), KPI cards, the idle wipe, proposals and
votes into the outbox or a workshop, and every HUD action. No Panda3D."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from game.kiosk.i18n import format_eur, format_number, texts
from game.kiosk.session import ACTIONS, KioskSession, OutboxSink, roof_at, snap_line
from game.kiosk.view import Action, HudView
from game.simulate import build_engine
from multiplayer.outbox import Outbox
from multiplayer.protocol import parse
from sims.engine import Engine, conditions_for
from sims.heat import HEAT_PUBLIC_SPACE
from sims.registry import create
from world.catalog import load_catalog
from world.package import load_city
from world.raster import LandCover
from world.scenario import Scenario, load_scenario

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario("helsinki-centre")


@pytest.fixture(scope="module")
def engine(helsinki_package: Path, scenario: Scenario) -> Engine:
    return build_engine(helsinki_package, scenario, only=("shade", "heat", "runoff"))


@pytest.fixture(scope="module")
def spots(engine: Engine) -> dict[str, Any]:
    """Places on the baseline: two sunny sidewalk spots 120+ m apart, a carriageway spot,
    a stretch of carriageway and a building."""
    grids = engine.baseline_scene.grids
    land = grids.landcover
    sidewalk = (land == LandCover.SIDEWALK) & (engine.baseline["shade"].result.field.values < 0.05)
    inner = sidewalk[1:-1, 1:-1] & sidewalk[:-2, 1:-1] & sidewalk[2:, 1:-1] & sidewalk[1:-1, :-2] & sidewalk[1:-1, 2:]
    rows, cols = np.nonzero(inner)
    xs, ys = grids.xs[cols + 1], grids.ys[rows + 1]
    min_x, min_y, max_x, max_y = grids.bounds
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2
    first = int(np.argmin(np.hypot(xs - cx, ys - cy)))
    far = np.hypot(xs - xs[first], ys - ys[first]) > 120.0
    second = int(np.argmin(np.where(far, np.hypot(xs - cx, ys - cy), np.inf)))
    rows, cols = np.nonzero(land == LandCover.CARRIAGEWAY)
    street = int(np.argmin(np.hypot(grids.xs[cols] - cx, grids.ys[rows] - cy)))
    city = engine.baseline_scene.city
    inside = shapely.box(min_x + 100, min_y + 100, max_x - 100, max_y - 100)
    roads = sorted((r for r in city.roads if r.surface == "carriageway" and isinstance(r.geometry, shapely.LineString)
                    and r.geometry.length > 80 and inside.contains(r.geometry)), key=lambda r: r.id)
    buildings = sorted((b for b in city.buildings if inside.contains(b.footprint) and 300 < b.footprint.area < 1200),
                       key=lambda b: b.id)
    return {"tree": shapely.Point(xs[first], ys[first]), "tree2": shapely.Point(xs[second], ys[second]),
            "street": shapely.Point(grids.xs[cols[street]], grids.ys[rows[street]]), "road": roads[0],
            "building": buildings[0]}


class FakeSink:
    """A workshop connection whose state the test sets."""

    def __init__(self, state: dict[str, Any] | None, connected: bool | None = True) -> None:
        self.state = state
        self.connected = connected
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, type: str, **body: Any) -> str:
        self.sent.append((type, body))
        return f"msg-{len(self.sent):06d}"

    def status(self, msg_id: str) -> str:
        return "received"

    def reply(self, msg_id: str) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        pass


@pytest.fixture
def make(engine: Engine, scenario: Scenario, tmp_path: Path):
    sinks: list[Any] = []

    def make(**kwargs: Any) -> KioskSession:
        engine.reset()
        sink = kwargs.pop("sink", None) or OutboxSink(tmp_path / "outbox.sqlite")
        sinks.append(sink)
        session = KioskSession(kwargs.pop("scenario", scenario), load_catalog(), sink=sink, seed=7, **kwargs)
        session.attach_engine(engine)
        return session

    yield make
    for sink in sinks:
        sink.close()
    engine.reset()


def _frames(path: Path) -> list[dict[str, Any]]:
    with Outbox(path) as outbox:
        return [entry.message for entry in outbox.pending("LOCAL")]


def test_refused_on_the_carriageway_with_the_finnish_reason(make, spots) -> None:
    session = make(lang="fi")
    preview = session.preview("tree-medium", spots["street"])
    assert not preview.ok and preview.reason == "Sitä ei voi sijoittaa ajoradalle."
    outcome = session.place("tree-medium", spots["street"], None, 1.0)
    assert not outcome.accepted and outcome.reason == "Sitä ei voi sijoittaa ajoradalle."
    view = session.view(1.5)
    assert view.toast is not None and view.toast.kind == "error" and view.toast.text == outcome.reason
    assert session.placed_ids() == [] and view.callout is None
    assert session.place("tree-medium", spots["tree"], None, 2.0).accepted


def test_budget_is_never_passed(make, scenario, spots) -> None:
    session = make(scenario=dataclasses.replace(scenario, budget_eur=1000.0))
    refused = session.place("tree-medium", spots["tree"], None, 1.0)
    assert not refused.accepted and refused.reason == texts().t("en", "budget.over", total="€1,000")
    assert session.place("tree-small", spots["tree"], None, 2.0).accepted
    assert not session.preview("tree-small", spots["tree2"]).ok
    budget = session.view(3.0).budget
    assert budget is not None and budget.spent_eur == 600.0 and budget.text == "€600 of €1,000"
    assert budget.fraction == pytest.approx(0.6)


def test_undo_and_redo(make, engine, spots) -> None:
    session = make()
    baseline = session.kpi_values()
    assert not session.undo(0.5).accepted
    assert session.place("tree-large", spots["tree"], None, 1.0).accepted
    one = session.kpi_values()
    assert session.place("tree-large", spots["tree2"], None, 2.0).accepted
    two = session.kpi_values()
    assert session.dispatch(Action.of("undo"), 3.0).accepted
    assert len(session.placed_ids()) == 1 and session.kpi_values() == pytest.approx(one)
    assert session.view(3.0).toast.text == "Undone."
    assert session.dispatch(Action.of("redo"), 4.0).accepted
    assert session.kpi_values() == pytest.approx(two)
    assert not session.dispatch(Action.of("redo"), 5.0).accepted  # nothing left to redo
    assert session.undo(6.0).accepted and session.undo(7.0).accepted
    assert session.kpi_values() == pytest.approx(baseline) and engine.placed == ()
    assert not session.undo(8.0).accepted
    tools = {b.label: b for b in session.view(8.0).tools}
    assert not tools["Undo"].enabled and tools["Redo"].enabled
    assert session.place("tree-small", spots["tree"], None, 9.0).accepted  # a new change drops the redo list
    assert not session.redo(10.0).accepted


def _heat_near(engine: Engine, before: np.ndarray, point: shapely.Point) -> float:
    grids = engine.scene.grids
    after = engine.runs["heat"].result.field.values
    gx, gy = np.meshgrid(grids.xs, grids.ys)
    near = np.hypot(gx - point.x, gy - point.y) <= 15.0
    finite = np.isfinite(after) & np.isfinite(before)
    cells = near & finite & ((np.abs(after - before) > 1e-9) | np.isin(grids.landcover, HEAT_PUBLIC_SPACE))
    return float(np.mean(after[cells] - before[cells]))


def test_the_callout_says_what_this_placement_did(make, engine, spots) -> None:
    session = make()
    heat_before = engine.runs["heat"].result.field.values.copy()
    assert session.place("tree-large", spots["tree"], None, 1.0).accepted
    kpis = engine.kpis()
    shade = kpis["shade_public_m2"].delta
    callout = session.view(1.0).callout
    assert callout is not None and (callout.x_m, callout.y_m, callout.z_m) == (spots["tree"].x, spots["tree"].y, 3.0)
    assert callout.lines[0] == "This large tree:"
    assert callout.lines[1] == f"{format_number(shade, 'en')} m² more shade on sidewalks and squares at 15:00"
    heat = _heat_near(engine, heat_before, spots["tree"])
    assert heat < 0.0
    assert callout.lines[2] == f"{format_number(heat, 'en', decimals=1, sign=True)} °C felt temperature nearby"
    # A second tree's callout counts that tree alone, not the first one too.
    after_first = {n: k.value for n, k in engine.kpis().items()}
    assert session.place("tree-large", spots["tree2"], None, 2.0).accepted
    second = engine.kpis()["shade_public_m2"].value - after_first["shade_public_m2"]
    assert session.view(2.0).callout.lines[1].startswith(f"{format_number(second, 'en')} m² ")
    # Permeable paving: runoff, in m³ less.
    before = engine.kpis()["runoff_m3"].value
    assert session.place("permeable-paving", spots["tree"].buffer(10.0, quad_segs=2), None, 3.0).accepted
    less = before - engine.kpis()["runoff_m3"].value
    assert round(less) > 0
    assert f"{format_number(less, 'en')} m³ less storm water running off" in session.view(3.0).callout.lines
    # A bench: seats in the shade, under the trees.
    assert session.place("bench", spots["tree"], None, 4.0).accepted
    lines = session.view(4.0).callout.lines
    assert lines[0] == "This bench:" and lines[1:] in (("3 seats in the shade",), ("No measurable change at 15:00",))


def test_kpi_cards_in_finnish_and_german(make, engine, spots) -> None:
    session = make(lang="fi")
    assert session.place("tree-large", spots["tree"], None, 1.0).accepted
    kpis = engine.kpis()
    cards = session.view(1.0).kpis
    assert [c.name for c in cards][:3] == ["shade_public_pct", "shade_public_m2", "seats_in_shade"]
    assert [c.name for c in cards][3:] == ["utci_mean_c", "strong_heat_pct", "runoff_m3", "rain_retained_pct"]
    by_name = {c.name: c for c in cards}
    m2 = by_name["shade_public_m2"]
    assert m2.label == texts().t("fi", "kpi.shade_public_m2")
    assert m2.value == format_number(kpis["shade_public_m2"].value, "fi") + NBSP + "m²"
    assert NBSP in m2.value and "," not in m2.value  # "33 332 m²": a no-break space between thousands
    assert m2.delta == "+" + format_number(kpis["shade_public_m2"].delta, "fi") + NBSP + "m²"
    assert m2.verdict == "better"
    pct = by_name["shade_public_pct"]
    assert pct.value == format_number(kpis["shade_public_pct"].value, "fi", decimals=1) + NBSP + "%"
    assert by_name["utci_mean_c"].value == format_number(kpis["utci_mean_c"].value, "fi", decimals=2) + NBSP + "°C"
    assert by_name["runoff_m3"].delta == texts().t("fi", "kpi.no_change") and by_name["runoff_m3"].verdict == "same"
    assert session.dispatch(Action.of("lang", code="de"), 2.0).accepted
    german = {c.name: c for c in session.view(2.0).kpis}
    value = kpis["shade_public_m2"].value
    assert german["shade_public_m2"].value == f"{value:,.0f}".replace(",", ".") + NBSP + "m²"
    assert german["utci_mean_c"].value == f"{kpis['utci_mean_c'].value:.2f}".replace(".", ",") + NBSP + "°C"
    assert german["runoff_m3"].delta == texts().t("de", "kpi.no_change")
    assert german["shade_public_m2"].label == texts().t("de", "kpi.shade_public_m2")


def test_idle_countdown_then_reset_wipes_the_visitor(make, engine, spots, tmp_path) -> None:
    session = make(kiosk_mode=True, idle_s=90.0, countdown_s=15.0)
    first_id = session.session_id
    assert session.view(0.0).screen == "attract"
    session.tick(500.0)  # nobody there: the attract screen waits
    assert session.screen == "attract"
    assert session.dispatch(Action.of("start"), 500.0).accepted and session.screen == "consent"
    assert session.dispatch(Action.of("consent"), 501.0).accepted and session.screen == "explore"
    for name in ("large_text", "high_contrast"):
        session.dispatch(Action.of(name), 502.0)
    session.dispatch(Action.of("lang", code="de"), 503.0)
    session.dispatch(Action.of("overlay", sim="heat"), 504.0)
    assert session.place("tree-large", spots["tree"], None, 510.0).accepted
    view = session.view(510.0)
    assert view.large_text and view.high_contrast and view.lang == "de" and view.legend is not None
    assert session.view(584.0).countdown is None
    counting = session.view(590.0)
    assert counting.countdown == texts().t("de", "idle.countdown", seconds="10")
    assert [b.action.name for b in counting.buttons] == ["still_here"]
    session.dispatch(Action.of("still_here"), 590.0)
    assert session.view(591.0).countdown is None
    session.tick(679.9)
    assert session.screen == "explore"
    session.tick(680.0)
    view = session.view(680.0)
    assert view.screen == "attract" and view.lang == "en" and not view.large_text and not view.high_contrast
    assert session.placed_ids() == [] and engine.placed == () and session.overlay is None
    assert view.callout is None and view.toast is None and session.title_input == ""
    assert session.session_id != first_id
    frames = _frames(tmp_path / "outbox.sqlite")
    events = [(f["name"], f["data"]) for f in frames if f["type"] == "event"]
    assert events[0] == ("session_start", {"language": "en"})
    assert ("placed", {"catalog": "tree-large", "cost_eur": 2500.0,
                       "at_m": [round(spots["tree"].x), round(spots["tree"].y)]}) in events
    assert events[-1] == ("session_end", {"duration_s": 179.0, "placements": 1, "proposals": 0, "votes": 0,
                                          "language": "de"})
    assert {f["session"] for f in frames} == {first_id}


def test_thanks_then_the_kiosk_wipes_itself(make, spots) -> None:
    session = make(kiosk_mode=True)
    session.dispatch(Action.of("start"), 0.0)
    session.dispatch(Action.of("consent"), 1.0)
    assert session.place("bench", spots["tree"], None, 2.0).accepted
    assert session.dispatch(Action.of("finish"), 3.0).accepted
    view = session.view(3.0)
    assert view.screen == "thanks" and view.heading == "Thank you!" and view.countdown is None
    session.tick(10.0)
    assert session.screen == "thanks"
    session.tick(11.0)
    assert session.screen == "attract" and session.placed_ids() == []
    assert session.dispatch(Action.of("start"), 12.0).accepted
    assert session.dispatch(Action.of("decline"), 13.0).accepted and session.screen == "attract"


def test_standalone_proposals_and_votes_land_in_the_outbox(make, engine, spots, tmp_path) -> None:
    session = make()
    assert session.propose("Nothing yet", 0.5).reason == "Place something first, then propose it."
    assert session.place("tree-large", spots["tree"], None, 1.0).accepted
    assert session.place("bench", spots["tree2"], None, 2.0).accepted
    assert session.dispatch(Action.of("screen", to="propose"), 3.0).accepted
    assert session.view(3.0).text_input == "My street"
    session.set_title_input("Shade   by the\nstation")
    assert session.dispatch(Action.of("propose"), 4.0).accepted
    assert session.screen == "proposals"
    cards = session.view(4.0).proposals
    assert len(cards) == 1 and cards[0].title == "Shade by the station" and cards[0].mine
    assert cards[0].lines[0] == "2 interventions"
    assert session.vote("priority", "shade", 5.0).accepted
    assert session.vote("street-score", 4, 6.0).accepted
    assert session.vote("best-proposal", cards[0].id, 7.0).accepted
    assert not session.vote("street-score", 9, 8.0).accepted
    assert not session.vote("nope", "x", 8.0).accepted
    session.dispatch(Action.of("screen", to="vote"), 9.0)
    questions = {q.id: q for q in session.view(9.0).questions}
    assert questions["priority"].status == "Vote saved on this kiosk"
    assert [b.selected for b in questions["street-score"].options] == [False, False, False, True, False]
    assert [b.label for b in questions["best-proposal"].options] == ["Shade by the station"]

    frames = _frames(tmp_path / "outbox.sqlite")
    for frame in frames:
        parse(json.dumps(frame))  # every message is valid protocol
    proposal = next(f for f in frames if f["type"] == "propose")
    assert proposal["title"] == "Shade by the station" and proposal["session"] == session.session_id
    assert [i["catalog"] for i in proposal["interventions"]] == ["tree-large", "bench"]
    canonical = json.dumps(proposal["interventions"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert proposal["scene_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    kpis = engine.kpis()
    assert proposal["kpis"]["shade_public_m2"] == pytest.approx(kpis["shade_public_m2"].delta, abs=0.05)
    assert proposal["kpis"]["utci_mean_c"] == pytest.approx(kpis["utci_mean_c"].delta, abs=5e-4)
    votes = [(f["question"], f["choice"]) for f in frames if f["type"] == "vote"]
    assert votes == [("priority", "shade"), ("street-score", 4), ("best-proposal", cards[0].id)]
    assert all(f["session"] == session.session_id and f["cast_at"] for f in frames)


WORKSHOP = {
    "rev": 3, "workshop": "AB12", "phase": "propose", "locked": False, "timer_ends_at": "2026-06-21T12:05:00.000Z",
    "questions": [{"id": "priority", "kind": "choice", "text": {"en": "First?", "fi": "Ensin?"},
                   "options": [{"id": "shade", "label": {"en": "Shade", "fi": "Varjo"}}]},
                  {"id": "best", "kind": "proposal", "text": {"en": "Best?"}, "options": []}],
    "proposals": [{"id": "P1", "title": "Trees", "kpis": {"shade_public_m2": 38.2, "utci_mean_c": -0.004},
                   "interventions": [{"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [10, 20]}},
                                     {"catalog": "bench", "geometry": {"type": "Point", "coordinates": [30, 40]}}]}],
}


def test_votes_follow_the_workshop_phase(make, spots) -> None:
    sink = FakeSink(dict(WORKSHOP))
    session = make(sink=sink, lang="fi")
    utc = datetime(2026, 6, 21, 12, 0, 30, tzinfo=UTC)
    view = session.view(0.0, utc)
    assert view.phase == texts().t("fi", "phase.propose") + " · " + texts().t("fi", "phase.left", minutes="4",
                                                                                seconds="30")
    assert view.status == texts().t("fi", "status.online")
    refused = session.vote("priority", "shade", 1.0)
    assert not refused.accepted and refused.reason == texts().t("fi", "vote.closed")
    assert session.place("tree-small", spots["tree"], None, 2.0).accepted
    assert session.propose("Puu", 3.0).accepted
    assert [t for t, _ in sink.sent] == ["event", "event", "propose"]
    sink.state = {**WORKSHOP, "phase": "vote", "locked": True}
    session.tick(4.0)
    assert session.view(4.0).toast.text == texts().t("fi", "phase.round_closed")
    assert not session.vote("priority", "shade", 5.0).accepted
    assert session.propose("Toinen", 5.5).reason == texts().t("fi", "propose.closed")
    sink.state = {**WORKSHOP, "phase": "vote", "locked": False}
    assert session.vote("best", "P1", 6.0).accepted and session.vote("priority", "shade", 6.5).accepted
    session.dispatch(Action.of("screen", to="vote"), 7.0)
    questions = session.view(7.0).questions
    assert [q.text for q in questions] == ["Ensin?", "Best?"]
    assert questions[0].options[0].label == "Varjo" and questions[0].options[0].selected
    assert questions[0].status == texts().t("fi", "vote.received")
    assert [b.label for b in questions[1].options] == ["Trees"]
    session.dispatch(Action.of("screen", to="proposals"), 8.0)
    card = session.view(8.0).proposals[0]
    assert card.lines[0] == texts().t("fi", "proposals.count", count="2") and len(card.lines) == 2
    assert card.lines[1].endswith("+38" + NBSP + "m²")
    assert session.proposal_centre("P1") == (20.0, 30.0)
    assert session.dispatch(Action.of("fly_to", proposal="P1"), 9.0).accepted and session.screen == "explore"
    sink.connected = False
    assert session.view(9.0).status == texts().t("fi", "status.offline")


def test_lines_snap_onto_the_street(make, spots) -> None:
    session = make()
    road = spots["road"].geometry
    length = road.length

    def off(at: float, by: float) -> tuple[float, float]:
        p, q = road.interpolate(at * length), road.interpolate(at * length + 0.5)
        dx, dy = q.x - p.x, q.y - p.y
        norm = math.hypot(dx, dy)
        return (p.x - dy / norm * by, p.y + dx / norm * by)

    drawn = shapely.LineString([off(0.2, 6.0), off(0.8, -5.0)])
    snapped = snap_line(session.engine.scene.city, drawn)
    assert max(road.distance(shapely.Point(c)) for c in snapped.coords) < 1e-6
    assert snapped.length == pytest.approx(0.6 * length, rel=0.02)
    preview = session.preview("bike-lane", drawn)
    assert preview.ok and preview.geometry.equals(snapped)
    assert preview.cost_eur == pytest.approx(300.0 * snapped.length)
    assert session.place("bike-lane", drawn, None, 1.0).accepted
    assert session.engine.placed[-1].geometry.equals(snapped)
    # A green roof: a tap on a roof takes the building's footprint.
    building = spots["building"]
    tap = building.footprint.representative_point()
    roof = roof_at(session.engine.scene.city, tap.x, tap.y)
    assert roof is not None and roof.equals(building.footprint)
    assert session.place("green-roof", tap, None, 2.0).accepted
    placed = session.engine.placed[-1]
    assert placed.geometry.equals(building.footprint) and placed.params["building"] == building.id
    assert session.view(2.0).callout.z_m >= building.height_m


def _press_all(session: KioskSession, view: HudView) -> None:
    for button in (*view.buttons, *view.tools, *view.overlays, *view.languages):
        assert isinstance(session.dispatch(button.action, 1.0).accepted, bool)


def test_every_action_dispatches(make, spots) -> None:
    session = make(kiosk_mode=True)
    proposal_question = {"question": "priority", "choice": "shade"}
    args: dict[str, dict[str, Any]] = {
        "lang": {"code": "nl"}, "select": {"catalog": "bench"}, "rotate": {"degrees": 30.0},
        "overlay": {"sim": "shade"}, "mode": {"to": "overview"}, "screen": {"to": "explore"},
        "propose": {"title": "A bench"}, "vote": proposal_question,
    }
    order = ["start", "consent", "lang", "large_text", "high_contrast", "select", "rotate", "deselect", "overlay",
             "mode", "screen", "undo", "redo", "propose", "delete", "vote", "fly_to", "still_here", "finish", "decline"]
    assert sorted(order) == sorted(ACTIONS)
    for name in order:
        if name == "undo":
            assert session.place("bench", spots["tree"], None, 1.0).accepted
        if name == "fly_to":
            args[name] = {"proposal": session.kiosk_proposals[-1]["id"]}
        outcome = session.dispatch(Action.of(name, **args.get(name, {})), 1.0)
        assert outcome.accepted, (name, outcome)
    assert not session.dispatch(Action.of("teleport"), 1.0).accepted
    # Every button on every screen carries an action the session takes.
    session = make(kiosk_mode=True)
    for screen in ("attract", "consent", "language", "explore", "propose", "proposals", "vote", "thanks"):
        session.screen = screen
        _press_all(session, session.view(1.0))


def test_before_the_engine_is_ready(scenario, tmp_path) -> None:
    session = KioskSession(scenario, load_catalog(), sink=OutboxSink(tmp_path / "o.sqlite"), lang="nl")
    view = session.view(0.0)
    assert view.busy == texts().t("nl", "busy.preparing") and view.screen == "explore"
    assert all(not item.enabled for item in view.palette) and len(view.palette) == len(scenario.allowed)
    assert view.status == texts().t("nl", "status.standalone")
    assert {b.label for b in view.languages} >= {"Nederlands", "Suomi", "Deutsch"}
    assert view.languages[0].selected and view.languages[0].label == "Nederlands"
    assert not session.place("bench", shapely.Point(0, 0), None, 1.0).accepted
    costs = {item.catalog: item.cost for item in view.palette}
    assert costs["park"] == format_eur(60, "nl") + " / m²" and costs["bench"] == format_eur(900, "nl")
    session.sink.close()


def test_noise_answers_in_the_background(helsinki_package, scenario, spots, tmp_path) -> None:
    city = load_city(helsinki_package)
    engine = Engine(city, conditions_for(scenario), create(["runoff", "noise"]), area=scenario.area_m(city.frame),
                    cell_m=scenario.cell_m, catalog=load_catalog(), allowed=scenario.allowed, background=True)
    sink = OutboxSink(tmp_path / "o.sqlite")
    try:
        session = KioskSession(scenario, load_catalog(), sink=sink, seed=1)
        session.attach_engine(engine)
        # Calming Unioninkatu's secondary stretch moves the district's façade mean by about 0.1 dB.
        road = next((r for r in city.roads if r.id == "osm:w27193116"), spots["road"]).geometry
        line = shapely.LineString([road.interpolate(0.1, normalized=True), road.interpolate(0.9, normalized=True)])
        before = engine.kpis()["facade_lden_mean_db"].value
        assert session.place("traffic-calming", line, None, 1.0).accepted
        if engine.pending():
            assert session.view(1.0).busy == texts().t("en", "busy.updating", sim=texts().t("en", "sim.noise"))
        deadline = time.monotonic() + 60.0
        while session.note.waiting and time.monotonic() < deadline:
            session.tick(1.0)
            time.sleep(0.01)
        assert not session.note.waiting and session.view(2.0).busy is None
        delta = engine.kpis()["facade_lden_mean_db"].value - before
        assert delta < 0.0 and session.note.noise_db == pytest.approx(delta)
        line_text = f"{format_number(delta, 'en', decimals=1, sign=True)} dB road noise at façades"
        assert (line_text in session.view(2.0).callout.lines) == (round(delta, 1) != 0)
        session.reset(3.0)
        assert engine.placed == () and engine.kpis()["facade_lden_mean_db"].delta == 0.0
    finally:
        sink.close()
        engine.close()


def test_a_tap_on_a_building_names_it_and_what_was_placed_nearby(make, spots) -> None:
    session = make(lang="fi")
    assert session.place("tree-medium", spots["tree"], None, 1.0).accepted
    point = spots["tree"]
    text = session.inspect("Ateneum", 10.5, point.x + 1.0, point.y, 2.0)
    assert text == "Ateneum: 10,5 m korkea · Tähän sijoitettu: Keskikokoinen puu"
    assert session.view(2.5).toast is not None and session.view(2.5).toast.text == text
    assert session.inspect(None, None, point.x + 50.0, point.y + 50.0, 3.0) == ""
