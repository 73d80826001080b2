"""The planner's review: the model over a real workshop database, the window offscreen,
and the ``civictwin review`` command.

One workshop is run once for the module through a real server process and real clients
(two kiosks, phones, one proposal sent late from a kiosk's outbox), so every number
below is one the server stored.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from game.cli import main
from game.wall.review import ReviewModel
from multiplayer.client import Client
from multiplayer.errors import MultiplayerError
from tests.multiplayer.conftest import make_server

os.environ.setdefault("ARCADE_HEADLESS", "1")  # before the window test first imports arcade

PHASES = ["lobby", "explore", "propose", "vote", "reveal", "closed"]
#: best-proposal votes cast by phones, plus one from the town-hall kiosk for P2.
PHONE_CHOICES = ["P1"] * 5 + ["P2"] * 3 + ["P3", "P4"]
SIZE = (1280, 720)


def _point(catalog: str, x: float, y: float) -> dict[str, Any]:
    return {"catalog": catalog, "geometry": {"type": "Point", "coordinates": [x, y]}, "params": {}}


def _box(catalog: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    return {"catalog": catalog, "geometry": {"type": "Polygon", "coordinates": [ring]}, "params": {}}


def _line(catalog: str, points: list[list[float]]) -> dict[str, Any]:
    return {"catalog": catalog, "geometry": {"type": "LineString", "coordinates": points}, "params": {}}


def _acked(client: Client, msg_id: str) -> dict[str, Any]:
    assert client.wait_idle(30), client.fatal
    reply = client.reply(msg_id)
    assert reply is not None and reply["type"] == "ack", reply
    return reply


def _run_workshop(tmp: Path) -> tuple[Path, str]:
    server = make_server(tmp).start()
    clients: list[Client] = []
    try:
        def join(role: str, **kw: Any) -> Client:
            clients.append(Client(server.url, server.code, role, **kw).start())
            return clients[-1]

        fac = join("facilitator", token=server.facilitator_token)
        library = join("kiosk", token=_acked(fac, fac.send("add_kiosk", name="Library"))["token"])
        town_hall = join("kiosk", token=_acked(fac, fac.send("add_kiosk", name="Town hall"))["token"])
        _acked(fac, fac.send("phase", to="explore"))
        _acked(fac, fac.send("phase", to="propose"))
        _acked(library, library.send(
            "propose", session="a", title="Shade and a quieter Unioninkatu", description="Trees, a bench, calm.",
            interventions=[_point("tree-large", 55, -143), _point("tree-medium", 55, -131),
                           _point("tree-large", 43, -135), _point("bench", 57, -141),
                           _line("traffic-calming", [[350.0, 100.0], [350.0, 0.0]])],
            kpis={"shade_public_m2": 182.0, "seats_in_shade": 3.0, "utci_mean_c": -0.04,
                  "facade_lden_mean_db": -0.31}))
        _acked(town_hall, town_hall.send(
            "propose", session="b", title="Rain gardens on Kaisaniemenkatu",
            interventions=[_box("rain-garden", 100, 200, 20, 5), _box("rain-garden", 130, 200, 20, 5),
                           _box("permeable-paving", 60, 180, 30, 20)],
            kpis={"runoff_m3": -12.5, "rain_retained_pct": 1.2, "utci_mean_c": -0.01}))
        phone = join("participant", lang="fi")
        while_proposing = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        _acked(phone, phone.send("propose", title="Bike lane to the station",
                                 interventions=[_line("bike-lane", [[-200, -50], [-50, -40], [80, -30]])],
                                 kpis={"facade_lden_mean_db": -0.12}))
        _acked(fac, fac.send("phase", to="vote"))
        _acked(fac, fac.send("question", current="best-proposal"))
        # Cast while the propose round was open, delivered after it: the server marks it late.
        late = library.send("propose", session="c", title="Play area by the library", cast_at=while_proposing,
                            interventions=[_box("play-area", -300, 250, 25, 20), _point("tree-small", -280, 240)],
                            kpis={"shade_public_m2": 20.0})
        assert _acked(library, late)["late"] is True
        for index, choice in enumerate(PHONE_CHOICES):
            voter = join("participant", lang=("en", "fi", "sv")[index % 3])
            voter.send("vote", question="priority", choice=("shade", "quiet", "water", "seats")[index % 4])
            voter.send("vote", question="street-score", choice=1 + index % 5)
            voter.send("vote", question="best-proposal", choice=choice)
        _acked(town_hall, town_hall.send("vote", question="best-proposal", choice="P2", session="d"))
        for client in clients:
            assert client.wait_idle(30), client.fatal
        _acked(fac, fac.send("reveal"))
        _acked(fac, fac.send("close"))
    finally:
        for client in clients:
            client.close()
        server.stop()
    return server.db, server.code


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(database, code) of the finished workshop described in the module docstring."""
    return _run_workshop(tmp_path_factory.mktemp("review"))


@pytest.fixture
def model(workshop: tuple[Path, str]) -> ReviewModel:
    return ReviewModel.open_db(*workshop)


# -- the model ----------------------------------------------------------------------------------------


def test_moments_are_the_ends_of_the_phases_in_order(model: ReviewModel) -> None:
    assert [m.phase for m in model.moments] == PHASES
    assert [m.index for m in model.moments] == list(range(len(PHASES)))
    assert all(a.seq < b.seq for a, b in zip(model.moments, model.moments[1:], strict=False))
    assert model.moment == len(PHASES) - 1  # the end by default
    assert model.next_moment() == len(PHASES) - 1  # stays at the last
    proposals, votes = [], []
    model.moment = 0
    while True:
        board = model.board()
        assert board.phase == model.moments[model.moment].phase
        proposals.append(board.counts["proposals"])
        votes.append(sum(r.count for q in board.questions if q.kind == "proposal" for r in q.rows))
        if model.moment == len(PHASES) - 1:
            break
        model.next_moment()
    assert proposals == [0, 0, 3, 4, 4, 4]
    assert votes == [0, 0, 0, 11, 11, 11]
    assert model.previous_moment() == len(PHASES) - 2
    model.moment = 0
    assert model.previous_moment() == 0
    with pytest.raises(MultiplayerError, match="no moment 6"):
        model.moment = 6


def test_questions_step_around_from_the_current_one(model: ReviewModel) -> None:
    assert model.question == "best-proposal"  # the facilitator's current question at the end
    assert model.question_ids == ["priority", "street-score", "best-proposal"]
    assert model.next_question() == "priority"
    assert model.next_question() == "street-score"
    assert model.previous_question() == "priority"
    assert model.previous_question() == "best-proposal"
    model.question = "street-score"
    assert model.question == "street-score"
    with pytest.raises(MultiplayerError, match="no question 'colour'"):
        model.question = "colour"


def test_the_ranking_and_the_filter(model: ReviewModel) -> None:
    assert [(p.id, p.votes) for p in model.visible()] == [("P1", 5), ("P2", 4), ("P3", 1), ("P4", 1)]
    for text, expected in [("rain", ["P2"]), ("LIBRARY", ["P1", "P4"]), ("k2", ["P2"]), ("phones", ["P3"]),
                           ("p4", ["P4"]), ("  ", ["P1", "P2", "P3", "P4"]), ("tram", [])]:
        model.set_filter(text)
        assert [p.id for p in model.visible()] == expected, text
    model.set_filter("library")
    model.moment = 2  # the end of the propose round: the late proposal had not arrived
    assert [p.id for p in model.visible()] == ["P1"]


def test_open_lists_interventions_kpis_and_votes(model: ReviewModel) -> None:
    detail = model.open("P1")
    assert (detail.title, detail.kiosk, detail.kiosk_name, detail.rank, detail.late) == \
        ("Shade and a quieter Unioninkatu", "k1", "Library", 1, False)
    assert detail.description == "Trees, a bench, calm."
    assert [(i.catalog, i.count, i.cost_eur) for i in detail.interventions] == [
        ("tree-medium", 1, 1200.0), ("tree-large", 2, 5000.0), ("bench", 1, 900.0),
        ("traffic-calming", 1, pytest.approx(150.0 * 100.0))]
    assert detail.intervention_count == 5
    assert detail.cost_eur == pytest.approx(1200 + 5000 + 900 + 15000)
    assert detail.votes == {"best-proposal": 5}
    assert (detail.total_votes, detail.share) == (5, pytest.approx(5 / 11))
    kpis = {k.name: k for k in detail.kpis}
    assert [k.name for k in detail.kpis] == ["shade_public_m2", "seats_in_shade", "utci_mean_c",
                                             "facade_lden_mean_db"]  # the kiosk's card order
    assert (kpis["shade_public_m2"].unit, kpis["shade_public_m2"].better, kpis["shade_public_m2"].verdict) == \
        ("m²", "higher", "better")
    assert (kpis["utci_mean_c"].unit, kpis["utci_mean_c"].better, kpis["utci_mean_c"].verdict) == \
        ("°C", "lower", "better")
    assert kpis["utci_mean_c"].text == "−0.04\u00a0°C"
    assert kpis["shade_public_m2"].label == "Shaded sidewalk and square area"
    phones, late = model.open("P3"), model.open("P4")
    assert (phones.kiosk, phones.kiosk_name, phones.colour) == (None, "phones", (220, 220, 220))
    assert late.late and late.kiosk_name == "Library"
    with pytest.raises(MultiplayerError, match="no proposal P9 at moment 5"):
        model.open("P9")
    model.moment = 2
    with pytest.raises(MultiplayerError, match="there are P1, P2, P3"):
        model.open("P4")
    assert model.open("P1").total_votes == 0  # no votes before the vote round


def test_compare_side_by_side(model: ReviewModel) -> None:
    comparison = model.compare("P1", "P2")
    rows = {r.key: r for r in comparison.rows}
    assert (comparison.left.id, comparison.right.id) == ("P1", "P2")
    assert (rows["votes:best-proposal"].left, rows["votes:best-proposal"].right,
            rows["votes:best-proposal"].ahead) == ("5", "4", "left")
    assert (rows["interventions"].left, rows["interventions"].right) == ("5", "3")
    assert rows["cost"].left == "€22,100" and rows["cost"].ahead == "left"
    assert rows["kpi:utci_mean_c"].ahead == "left"  # −0.04 °C beats −0.01 °C: lower is better
    assert (rows["kpi:runoff_m3"].left, rows["kpi:runoff_m3"].ahead) == ("–", None)
    assert [r.key for r in comparison.rows if r.key.startswith("kpi:")] == [
        "kpi:shade_public_m2", "kpi:seats_in_shade", "kpi:utci_mean_c", "kpi:runoff_m3", "kpi:rain_retained_pct",
        "kpi:facade_lden_mean_db"]
    assert "late" not in rows
    assert {r.key: r.right for r in model.compare("P1", "P4").rows}["late"] == "yes"
    with pytest.raises(MultiplayerError, match="two different proposals"):
        model.compare("P2", "P2")


def test_export_writes_the_workshop_files(model: ReviewModel, tmp_path: Path) -> None:
    files = model.export(tmp_path / "out")
    assert sorted(files) == sorted(["votes.csv", "proposals.csv", "interventions.geojson", "events.jsonl",
                                    "bundle.json"])
    with files["proposals.csv"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["votes"], r["late"]) for r in rows] == [
        ("P1", "5", "false"), ("P2", "4", "false"), ("P3", "1", "false"), ("P4", "1", "true")]
    features = json.loads(files["interventions.geojson"].read_text(encoding="utf-8"))["features"]
    assert len(features) == 5 + 3 + 1 + 2


# -- the window, offscreen ----------------------------------------------------------------------------


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.size == SIZE
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _review(workshop: tuple[Path, str], city: Path, out: Path, *flags: str) -> np.ndarray:
    db, code = workshop
    done = subprocess.run([sys.executable, "-m", "game.cli", "review", "--db", str(db), "--workshop", code,
                           "--city", str(city), "--size", f"{SIZE[0]}x{SIZE[1]}", "--offscreen",
                           "--screenshot", str(out), *flags],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "ARCADE_HEADLESS": "1"})
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}" in done.stdout
    return _pixels(out)


def test_screenshots_of_the_overview_a_proposal_and_a_comparison(workshop: tuple[Path, str],
                                                                 helsinki_package: Path, tmp_path: Path) -> None:
    overview = _review(workshop, helsinki_package, tmp_path / "overview.png")
    opened = _review(workshop, helsinki_package, tmp_path / "open.png", "--open", "p1")
    compared = _review(workshop, helsinki_package, tmp_path / "compare.png", "--compare", "P1,P2")
    early = _review(workshop, helsinki_package, tmp_path / "early.png", "--moment", "2", "--question", "priority",
                    "--filter", "rain")
    for picture in (overview, opened, compared, early):
        assert picture.std() > 20  # a map and panels, not a blank frame
        assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 200
    width = SIZE[0]
    column = (slice(None), slice(int(width * 0.62), width))  # the right column of panels
    map_area = (slice(int(SIZE[1] * 0.2), int(SIZE[1] * 0.8)), slice(0, int(width * 0.45)))

    def changed(a: np.ndarray, b: np.ndarray, where: tuple[slice, slice]) -> float:
        return float((np.abs(a[where] - b[where]).max(axis=2) > 24).mean())

    assert changed(overview, opened, column) > 0.05  # the detail panel replaced the list
    assert changed(opened, compared, column) > 0.05
    assert changed(overview, opened, map_area) > 0.0005  # the other proposals are dimmed on the map
    assert changed(overview, early, column) > 0.05


def test_the_window_answers_keys_and_clicks(model: ReviewModel, tmp_path: Path) -> None:
    import arcade

    from game.wall.basemap import load_basemap
    from game.wall.review_window import ReviewWindow

    keys = arcade.key
    window = ReviewWindow(model, load_basemap(None, model.board().area_m), SIZE, visible=False,
                          export_dir=tmp_path / "export")
    try:
        window.on_draw()
        window.on_key_press(keys.LEFT, 0)
        assert model.moment == 4
        window.on_key_press(keys.Q, 0)
        assert model.question == "priority"
        window.on_key_press(keys.SLASH, 0)
        for text in ("/", "R", "a", "in"):
            window.on_text(text)
        assert model.filter == "Rain"
        window.on_key_press(keys.BACKSPACE, 0)
        window.on_key_press(keys.ENTER, 0)
        window.on_text("x")  # the field has let go: keys are shortcuts again
        assert model.filter == "Rai" and [p.id for p in model.visible()] == ["P2"]
        window.on_key_press(keys.ESCAPE, 0)
        assert model.filter == ""
        window.on_draw()
        # Click the first row of the list: it opens P1; its "Compare" button picks it.
        (row,) = [r for r, action in window.hits.buttons if action == "open:P1"]
        window.on_mouse_press(int(row[0] + row[2] / 2), int(row[1] + row[3] / 2), 1, 0)
        assert (window.state.mode, window.state.opened) == ("detail", "P1")
        window.on_draw()
        (pick,) = [r for r, action in window.hits.buttons if action == "select:P1"]
        window.on_mouse_press(int(pick[0] + 4), int(pick[1] + 4), 1, 0)
        window.on_key_press(keys.C, 0)
        assert window.state.mode == "detail" and "Tick two" in window.state.message
        window.on_key_press(keys.ESCAPE, 0)
        window.on_key_press(keys.KEY_2, 0)  # the second proposal in the list
        assert window.state.opened == "P2"
        window.on_key_press(keys.C, 0)  # P1 picked + P2 open
        assert (window.state.mode, window.state.selected) == ("compare", ["P1", "P2"])
        window.on_draw()
        window.on_key_press(keys.LEFT, 0)
        window.on_key_press(keys.LEFT, 0)
        window.on_key_press(keys.LEFT, 0)  # the end of the explore round: no proposals yet
        assert window.state.mode == "list" and "had not been proposed yet" in window.state.message
        window.on_draw()
        window.on_key_press(keys.E, 0)
        assert (tmp_path / "export" / "bundle.json").is_file()
        assert window.state.message == f"Exported 5 files to {tmp_path / 'export'}."
    finally:
        window.close()


# -- the command ----------------------------------------------------------------------------------------


def test_bad_usage_gets_one_sentence(workshop: tuple[Path, str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    db, code = workshop
    shot = ["--offscreen", "--screenshot", str(tmp_path / "x.png")]
    assert main(["review", "--db", str(db), "--workshop", "NOPE23", *shot]) == 1
    err = capsys.readouterr().err
    assert err == f"civictwin: error: there is no workshop NOPE23 in {db} (it holds: {code}).\n"
    assert main(["review", "--db", str(tmp_path / "missing.db"), "--workshop", code, *shot]) == 1
    assert capsys.readouterr().err == f"civictwin: error: there is no workshop database {tmp_path / 'missing.db'}.\n"
    assert main(["review", "--db", str(db), "--workshop", code, "--open", "P7", *shot]) == 1
    assert capsys.readouterr().err.startswith("civictwin: error: there is no proposal P7")
    assert main(["review", "--db", str(db), "--workshop", code, "--offscreen"]) == 2
    assert "--offscreen needs --screenshot" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["review", "--db", str(db), "--workshop", code, "--compare", "P1", *shot])
    assert exited.value.code == 2
    assert "'P1' is not two proposal ids such as P1,P2" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_help_names_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["review", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--db", "--workshop", "--city", "--lang", "--size", "--offscreen", "--screenshot", "--moment",
                 "--question", "--filter", "--open", "--compare", "--export"):
        assert flag in out
