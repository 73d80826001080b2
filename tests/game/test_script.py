"""Kiosk scripts: every step parses, every bad field is refused in one sentence naming the
step and the field, the report serialises, and a script plays on a session without Panda3D."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from game.kiosk.errors import KioskError
from game.kiosk.i18n import texts
from game.kiosk.script import STEPS, Report, ScriptError, Step, frame_stats, load_script, parse_script, run_on_session
from game.kiosk.session import KioskSession, OutboxSink
from multiplayer.outbox import Outbox
from sims.engine import Engine
from sims.runoff import RunoffSimulation
from sims.shade import ShadeSimulation
from tests.sims.toy import AREA, HELSINKI_AFTERNOON, toy_city
from world.catalog import load_catalog
from world.scenario import load_scenario

EVERY_STEP: list[dict[str, Any]] = [
    {"do": "goto", "x": 10, "y": -7.5, "heading_deg": 90, "pitch_deg": -10, "seconds": 1.5},
    {"do": "overview", "top": True},
    {"do": "overview", "x": 0, "y": 0, "heading_deg": -30, "distance_m": 300, "seconds": 0},
    {"do": "place", "catalog": "tree-medium", "x": -30, "y": -7},
    {"do": "place", "catalog": "park", "geometry": {"type": "Polygon",
                                                    "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 0]]]},
     "params": {"trees_per_ha": 20}},
    {"do": "remove"},
    {"do": "remove", "id": "s1-1"},
    {"do": "undo"},
    {"do": "redo"},
    {"do": "overlay", "sim": "heat"},
    {"do": "overlay", "sim": None},
    {"do": "lang", "code": "fi"},
    {"do": "propose", "title": "Shade"},
    {"do": "vote", "question": "priority", "choice": "shade"},
    {"do": "vote", "question": "street-score", "choice": 4},
    {"do": "press", "action": "large_text"},
    {"do": "press", "action": "screen", "args": {"to": "vote"}},
    {"do": "key", "key": "arrow_up", "seconds": 2},
    {"do": "wait", "frames": 30},
    {"do": "screenshot", "name": "after-trees_1"},
]


def test_every_step_parses() -> None:
    steps = parse_script({"steps": EVERY_STEP})
    assert [s.do for s in steps] == [raw["do"] for raw in EVERY_STEP]
    assert {s.do for s in steps} == set(STEPS)
    assert [s.index for s in steps] == list(range(len(EVERY_STEP)))
    assert steps[0] == Step("goto", {"x": 10.0, "y": -7.5, "heading_deg": 90.0, "pitch_deg": -10.0, "seconds": 1.5}, 0)
    assert steps[4].args["geometry"]["type"] == "Polygon" and steps[4].args["params"] == {"trees_per_ha": 20}
    assert steps[10].args == {"sim": None} and steps[5].args == {}
    assert steps[14].args == {"question": "street-score", "choice": 4}


@pytest.mark.parametrize(("step", "message"), [
    ({"do": "place", "catalog": "bench", "x": "1", "y": 2}, "step 3 (place): 'x' must be a number."),
    ({"do": "place", "catalog": "bench", "x": 1}, "step 3 (place): give either 'x' and 'y' or a 'geometry'."),
    ({"do": "place", "catalog": "bench"}, "step 3 (place): give either 'x' and 'y' or a 'geometry'."),
    ({"do": "place", "catalog": "bench", "x": 1, "y": 2, "geometry": {"type": "Point", "coordinates": [1, 2]}},
     "step 3 (place): give either 'x' and 'y' or a 'geometry'."),
    ({"do": "place", "catalog": "bench", "geometry": {"type": "Circle", "coordinates": [1, 2]}},
     "step 3 (place): 'geometry' must be a GeoJSON-style Point, LineString, Polygon or MultiPolygon in local metres."),
    ({"do": "place", "catalog": "bench", "geometry": {"type": "LineString", "coordinates": [1, 2]}},
     "step 3 (place): 'geometry' must be a GeoJSON-style Point, LineString, Polygon or MultiPolygon in local metres."),
    ({"do": "place", "x": 1, "y": 2}, "step 3 (place): 'catalog' is missing."),
    ({"do": "goto", "x": 1, "y": True}, "step 3 (goto): 'y' must be a number."),
    ({"do": "goto", "x": 1, "y": 2, "speed": 3}, "step 3 (goto): unknown field 'speed' (it takes x, y, heading_deg, "
                                                 "pitch_deg, seconds)."),
    ({"do": "undo", "steps": 2}, "step 3 (undo): unknown field 'steps' (it takes no fields)."),
    ({"do": "fly", "x": 1}, "step 3: 'do' must be one of " + ", ".join(STEPS) + ", not 'fly'."),
    ({"x": 1}, "step 3: 'do' must be one of " + ", ".join(STEPS) + ", not None."),
    ("undo", "step 3: a step must be an object with a 'do' field, not str."),
    ({"do": "wait", "frames": 0}, "step 3 (wait): 'frames' must be a whole number of frames, 1 or more."),
    ({"do": "wait", "frames": 2.5}, "step 3 (wait): 'frames' must be a whole number of frames, 1 or more."),
    ({"do": "key", "key": "w", "seconds": -1}, "step 3 (key): 'seconds' must be a number above 0."),
    ({"do": "screenshot", "name": "../etc/passwd"},
     "step 3 (screenshot): 'name' must be a file name of letters, digits, '_' and '-'."),
    ({"do": "vote", "question": "q", "choice": 6},
     "step 3 (vote): 'choice' must be an option id, a proposal id or a score from 1 to 5."),
    ({"do": "overlay", "sim": 3}, "step 3 (overlay): 'sim' must be a simulation name or null."),
    ({"do": "overview", "top": "yes"}, "step 3 (overview): 'top' must be true or false."),
    ({"do": "lang", "code": ""}, "step 3 (lang): 'code' must be a non-empty text."),
    ({"do": "press", "action": "explode"}, "step 3 (press): 'action' must be one of start, consent, decline, lang, "
                                           "large_text, high_contrast, select, deselect, rotate, undo, redo, delete, "
                                           "overlay, mode, screen, propose, vote, fly_to, still_here, finish."),
    ({"do": "press", "action": "undo", "args": [1]}, "step 3 (press): 'args' must be an object."),
])
def test_a_bad_step_is_named_with_its_field(step: Any, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script([{"do": "undo"}, {"do": "redo"}, step])
    assert str(caught.value) == message
    assert isinstance(caught.value, KioskError)  # `civictwin play` prints it without a traceback


def test_not_a_script() -> None:
    for obj in ({"stepz": []}, 3, "undo"):
        with pytest.raises(ScriptError, match="a script must be a list of steps"):
            parse_script(obj)
    assert parse_script([]) == []


def test_load_json_and_toml(tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(EVERY_STEP), encoding="utf-8")
    assert [s.do for s in load_script(path)] == [s["do"] for s in EVERY_STEP]
    toml = tmp_path / "visit.toml"
    toml.write_text('[[step]]\ndo = "goto"\nx = 1\ny = 2\n\n[[step]]\ndo = "place"\ncatalog = "bench"\n'
                    'x = 1.5\ny = -2\n', encoding="utf-8")
    assert [(s.do, s.args) for s in load_script(toml)] == [("goto", {"x": 1.0, "y": 2.0}),
                                                           ("place", {"catalog": "bench", "x": 1.5, "y": -2.0})]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"do": "goto", "x": 1, "y": "north"}]', encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^bad.json: step 1 \(goto\): 'y' must be a number.$"):
        load_script(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^broken.json: not valid JSON"):
        load_script(broken)
    with pytest.raises(ScriptError, match="no such script"):
        load_script(tmp_path / "missing.json")


def test_frame_stats_and_the_report(tmp_path: Path) -> None:
    assert frame_stats([]) == {"frames": 0, "mean_ms": None, "p95_ms": None, "max_ms": None}
    stats = frame_stats([float(v) for v in range(1, 21)])  # 1..20 ms
    assert stats == {"frames": 20, "mean_ms": 10.5, "p95_ms": 19.05, "max_ms": 20.0}
    report = Report()
    step = Step("place", {"catalog": "bench", "x": 1.0, "y": 2.0}, 0)
    report.record(step, False, "Over budget", {"runoff_m3": 12.25})
    report.timings([16.0, 17.0, 40.0], first_frame_s=0.8, interactive_s=2.1, renderer="p3headlessgl")
    report.screenshots.append("shots/a.png")
    data = report.to_json()
    assert data["steps"] == [{"do": "place", "accepted": False, "reason": "Over budget", "kpis": {"runoff_m3": 12.25}}]
    assert data["frames"]["first_frame_s"] == 0.8 and data["frames"]["interactive_s"] == 2.1
    assert data["frames"]["frames"] == 3 and data["frames"]["mean_ms"] == 24.333 and data["frames"]["max_ms"] == 40.0
    path = report.write(tmp_path / "out" / "report.json")
    assert json.loads(path.read_text(encoding="utf-8")) == data


@pytest.fixture(scope="module")
def toy_engine() -> Engine:
    scenario = load_scenario("helsinki-centre")
    return Engine(toy_city(), HELSINKI_AFTERNOON, [ShadeSimulation(), RunoffSimulation()], area=AREA,
                  catalog=load_catalog(), allowed=scenario.allowed)


def test_a_script_plays_on_a_session(toy_engine: Engine, tmp_path: Path) -> None:
    toy_engine.reset()
    sink = OutboxSink(tmp_path / "outbox.sqlite")
    session = KioskSession(load_scenario("helsinki-centre"), load_catalog(), sink=sink, seed=3)
    session.attach_engine(toy_engine)
    steps = parse_script([
        {"do": "goto", "x": -30, "y": -7},
        {"do": "lang", "code": "fi"},
        {"do": "place", "catalog": "tree-large", "x": -30, "y": -7},
        {"do": "place", "catalog": "tree-small", "x": 0, "y": 0},  # on the street
        {"do": "place", "catalog": "bench", "geometry": {"type": "Point", "coordinates": [-28, -9]}},
        {"do": "undo"},
        {"do": "redo"},
        {"do": "remove"},
        {"do": "overlay", "sim": "shade"},
        {"do": "propose", "title": "Puu"},
        {"do": "vote", "question": "priority", "choice": "shade"},
        {"do": "press", "action": "large_text"},
        {"do": "wait", "frames": 3},
        {"do": "screenshot", "name": "end"},
    ])
    report = run_on_session(session, steps).to_json()
    accepted = [(s["do"], s["accepted"]) for s in report["steps"]]
    assert accepted == [("goto", True), ("lang", True), ("place", True), ("place", False), ("place", True),
                        ("undo", True), ("redo", True), ("remove", True), ("overlay", True), ("propose", True),
                        ("vote", True), ("press", True), ("wait", True), ("screenshot", True)]
    assert report["steps"][3]["reason"] == "Sitä ei voi sijoittaa ajoradalle."
    assert report["steps"][2]["kpis"]["shade_public_m2"] > report["steps"][1]["kpis"]["shade_public_m2"]
    assert session.large_text and session.overlay == "shade" and len(session.placed_ids()) == 1
    assert session.view(10.0).kpis[0].label == texts().t("fi", "kpi.shade_public_pct")
    sink.close()
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        types = [entry.message["type"] for entry in outbox.pending("LOCAL")]
    assert types.count("propose") == 1 and types.count("vote") == 1
