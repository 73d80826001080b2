"""The kiosk end to end: ``civictwin play`` offscreen (Mesa EGL, no display, no GPU) driven by
scripts, checked through its report, its outbox and golden screenshots.

Each run is a real process (Panda3D allows one window per process); the runs are shared
per module so the suite renders each script once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import shapely

from multiplayer.outbox import Outbox
from tests.game.golden import compare

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "kiosk_script.json"
GOLDENS = ("overview", "street", "trees-shade", "finnish", "vote")


def play(*args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "game.cli", "play", *args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=ROOT)


def steps_of(report: dict[str, Any], do: str) -> list[dict[str, Any]]:
    return [s for s in report["steps"] if s["do"] == do]


@pytest.fixture(scope="module")
def visit(helsinki_package: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The test script played once: its report, screenshots and outbox."""
    out = tmp_path_factory.mktemp("kiosk")
    done = play(str(helsinki_package), "--offscreen", "--script", str(SCRIPT), "--screenshots", str(out / "shots"),
                "--outbox", str(out / "outbox.sqlite"))
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "shots" / "report.json").read_text(encoding="utf-8"))
    return {"report": report, "shots": out / "shots", "outbox": out / "outbox.sqlite", "stdout": done.stdout}


def test_every_step_is_reported_with_kpis_and_the_renderer_is_named(visit: dict[str, Any]) -> None:
    report = visit["report"]
    script = json.loads(SCRIPT.read_text(encoding="utf-8"))
    assert [s["do"] for s in report["steps"]] == [s["do"] for s in script]
    assert all(set(s) >= {"do", "accepted", "reason", "kpis"} for s in report["steps"])
    assert all("shade_public_m2" in s["kpis"] and "runoff_m3" in s["kpis"] for s in report["steps"])
    frames = report["frames"]
    assert frames["renderer"] and frames["first_frame_s"] > 0 and frames["interactive_s"] >= frames["first_frame_s"]
    assert frames["script_frames"] > 200 and frames["frame_ms_mean"] > 0
    assert "Ran 23 steps (1 refused)" in visit["stdout"]


def test_trees_add_shade_and_a_tree_on_the_carriageway_is_refused_with_its_reason(visit: dict[str, Any]) -> None:
    places = steps_of(visit["report"], "place")
    assert [p["accepted"] for p in places] == [True, True, True, False]
    assert places[-1]["reason"] == "It can't stand on the carriageway."
    before = visit["report"]["steps"][0]["kpis"]
    assert places[0]["kpis"]["shade_public_m2"] > before["shade_public_m2"]
    assert places[1]["kpis"]["shade_public_m2"] > places[0]["kpis"]["shade_public_m2"]
    assert places[2]["kpis"]["seats_in_shade"] == before["seats_in_shade"] + 3  # the bench, under the trees
    assert places[3]["kpis"] == places[2]["kpis"]  # refused: nothing changed


def test_undo_and_redo_take_the_bench_away_and_back(visit: dict[str, Any]) -> None:
    (undo,), (redo,) = steps_of(visit["report"], "undo"), steps_of(visit["report"], "redo")
    placed = steps_of(visit["report"], "place")[2]["kpis"]
    assert undo["accepted"] and undo["kpis"]["seats_in_shade"] == placed["seats_in_shade"] - 3
    assert redo["accepted"] and redo["kpis"] == placed


def test_walking_into_the_national_theatre_is_stopped_at_its_wall(visit: dict[str, Any], helsinki_city: Any) -> None:
    (goto,) = [s for s in steps_of(visit["report"], "goto") if s["camera"]["y"] == 37.0]
    (walk,) = steps_of(visit["report"], "key")
    theatre = next(b for b in helsinki_city.buildings if b.name == "Suomen Kansallisteatteri")
    start = shapely.Point(goto["camera"]["x"], goto["camera"]["y"])
    end = shapely.Point(walk["camera"]["x"], walk["camera"]["y"])
    # Eight seconds at 1.4 m/s would be 11.2 m; the wall is 7.9 m ahead.
    assert 7.0 < start.distance(end) < 8.0
    assert 0.2 < theatre.footprint.distance(end) < 0.5
    assert not any(b.footprint.contains(end) for b in helsinki_city.buildings)
    assert walk["camera"]["z"] == pytest.approx(1.7)


def test_a_stand_alone_kiosk_keeps_its_votes_and_proposal_in_the_outbox(visit: dict[str, Any]) -> None:
    with Outbox(visit["outbox"]) as outbox:
        messages = [entry.message for entry in outbox.pending("LOCAL")]
    votes = [m for m in messages if m["type"] == "vote"]
    proposals = [m for m in messages if m["type"] == "propose"]
    assert {(v["question"], v["choice"]) for v in votes} == {("priority", "shade"), ("street-score", 4)}
    assert len(proposals) == 1 and proposals[0]["title"] == "Shade for the Railway Square"
    assert [i["catalog"] for i in proposals[0]["interventions"]] == ["tree-medium", "tree-large", "bench"]
    assert proposals[0]["kpis"]["shade_public_m2"] > 0 and len(proposals[0]["scene_hash"]) == 64
    assert all(m["cast_at"] and m["session"] == votes[0]["session"] for m in votes + proposals)


@pytest.mark.parametrize("name", GOLDENS)
def test_screenshots_match_their_goldens(visit: dict[str, Any], name: str, update_goldens: bool) -> None:
    ok, message = compare(visit["shots"] / f"{name}.png", f"kiosk-{name}", update_goldens)
    assert ok, message


def test_an_idle_kiosk_counts_down_then_wipes_the_visit(helsinki_package: Path, tmp_path: Path) -> None:
    script = [
        {"do": "press", "action": "start"}, {"do": "press", "action": "consent"},
        {"do": "lang", "code": "de"}, {"do": "press", "action": "large_text"},
        {"do": "place", "catalog": "tree-medium", "x": -19, "y": 3},
        {"do": "wait", "frames": 270}, {"do": "screenshot", "name": "countdown"},
        {"do": "wait", "frames": 45}, {"do": "screenshot", "name": "reset"},
    ]
    path = tmp_path / "idle.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    done = play(str(helsinki_package), "--kiosk", "--idle", "10", "--offscreen", "--size", "640x360", "--script",
                str(path), "--screenshots", str(tmp_path / "shots"), "--outbox", str(tmp_path / "outbox.sqlite"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "shots" / "report.json").read_text(encoding="utf-8"))
    placed, countdown, reset = report["steps"][4], report["steps"][6], report["steps"][8]
    assert placed["accepted"] and placed["kpis"] != report["steps"][0]["kpis"]
    assert countdown["screen"] == "explore"
    assert reset["screen"] == "attract" and reset["kpis"] == report["steps"][0]["kpis"]
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        events = [e.message for e in outbox.pending("LOCAL") if e.message["type"] == "event"]
    names = [e["name"] for e in events]
    assert names[0] == "session_start" and "placed" in names and names[-1] == "session_end"
    end = events[-1]["data"]
    assert end["placements"] == 1 and end["language"] == "de" and end["duration_s"] >= 10


def test_the_demo_kiosk_joins_a_real_workshop_and_its_proposal_is_voted_on(
        helsinki_package: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "game.cli", "workshop", "demo", "--db", str(tmp_path / "w.db"),
                           "--out", str(tmp_path / "export"), "--city", str(helsinki_package), "--phones", "6",
                           "--kiosk-script", str(ROOT / "content" / "kiosk" / "visit.json"),
                           "--kiosk-screenshots", str(tmp_path / "kiosk")],
                          capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "kiosk" / "report.json").read_text(encoding="utf-8"))
    (propose,) = steps_of(report, "propose")
    assert propose["accepted"] and propose["screen"] == "proposals"
    proposals = (tmp_path / "export" / "proposals.csv").read_text(encoding="utf-8")
    assert "Shade for the Railway Square" in proposals
    assert len(list((tmp_path / "kiosk").glob("*.png"))) == 6


@pytest.mark.parametrize(("args", "status", "words"), [
    (["/no/such/city", "--offscreen", "--script", str(SCRIPT)], 1, "not a city package"),
    (["{city}", "--server", "ws://127.0.0.1:1/ws"], 2, "go together"),
    (["{city}", "--offscreen"], 2, "needs --script"),
    (["{city}", "--lang", "xx"], 2, "the kiosk speaks"),
    (["{city}", "--offscreen", "--script", "{bad}"], 1, "step 2"),
    (["{city}", "--offscreen", "--script", "{broken}"], 1, "JSON"),
])
def test_bad_commands_get_one_sentence_and_no_traceback(helsinki_package: Path, tmp_path: Path, args: list[str],
                                                        status: int, words: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"do": "wait", "frames": 1}, {"do": "place", "catalog": "tree-small", "x": "far"}]))
    broken = tmp_path / "broken.json"
    broken.write_text("[{\"do\": ")
    filled = [a.format(city=helsinki_package, bad=bad, broken=broken) for a in args]
    done = play(*filled, timeout=120)
    assert done.returncode == status, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3  # argparse adds its usage lines for status 2


def test_play_has_help() -> None:
    done = play("--help", timeout=60)
    assert done.returncode == 0 and "--script" in done.stdout and "--kiosk" in done.stdout
