"""The workshop report: a real workshop (server, kiosk client, phones, simulated KPIs) built
into index.html, opened in a real headless Chromium; its GeoJSON checked against RFC 7946."""

from __future__ import annotations

import doctest
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pyproj import Transformer

from game.report import _charts, _maps
from game.report.build import Report, build_report
from game.wall.replay import Replay
from game.workshop_demo import run_demo
from multiplayer.export import EXPORT_FILES
from multiplayer.protocol import client_message, dump, parse
from multiplayer.store import Store
from multiplayer.workshop import Actor, Workshop, spec_from_scenario
from tests.multiplayer.browser import PageWatch, chromium
from world.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection"}


@dataclass
class Built:
    db: Path
    code: str
    city: Path
    report: Report

    def bundle(self) -> dict[str, Any]:
        return json.loads(self.report.files["bundle.json"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, helsinki_package: Path) -> Built:
    """The demo workshop (a real server thread, a kiosk client proposing with simulated KPI
    deltas, twelve phones voting) and its report."""
    folder = tmp_path_factory.mktemp("report")
    db = folder / "workshop.sqlite"
    run_demo(db, folder / "exports", city=helsinki_package, phones=12, say=lambda _: None)
    store = Store(db, create=False)
    try:
        (code,) = store.workshop_codes()
    finally:
        store.close()
    return Built(db, code, helsinki_package, build_report(db, code, folder / "report", city=helsinki_package, now=NOW))


@dataclass
class Opened:
    watch: PageWatch
    text: str
    svgs: list[dict[str, Any]]
    counts: dict[str, str]
    screenshot: Path
    pdf: bytes


@pytest.fixture(scope="module")
def opened(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Opened]:
    """The page opened in headless Chromium from file://, every request recorded."""
    shot = tmp_path_factory.mktemp("shots") / "report.png"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        watch = PageWatch(page)
        page.goto(built.report.index.resolve().as_uri(), wait_until="load")
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
        svgs = page.eval_on_selector_all("svg", """els => els.map(e => ({
            cls: e.getAttribute('class') || '', role: e.getAttribute('role'), label: e.getAttribute('aria-label'),
            title: (e.querySelector(':scope > title') || {}).textContent || '',
            width: e.getBoundingClientRect().width}))""")
        counts = page.eval_on_selector_all("[data-count]", """els => Object.fromEntries(
            els.map(e => [e.dataset.count, e.querySelector('b').textContent]))""")
        pdf = page.pdf(format="A4")
        yield Opened(watch, text, svgs, counts, shot, pdf)


# -- the files ---------------------------------------------------------------------------------------

def test_the_page_and_the_five_exports_are_written_whole(built: Built) -> None:
    files = built.report.files
    assert set(files) == {*EXPORT_FILES, "index.html"}
    assert all(path.parent == built.report.index.parent and path.stat().st_size > 0 for path in files.values())
    assert not list(built.report.index.parent.glob("*.partial"))


def test_the_counts_agree_with_the_bundle(built: Built) -> None:
    bundle = built.bundle()["counts"]
    counts = built.report.counts
    assert {k: counts[k] for k in bundle} == bundle
    assert counts["phones"] == counts["participants"] == 12
    assert counts["proposals"] == 2 and counts["votes"] == bundle["votes"] > 12


def test_the_page_asks_the_network_for_nothing(built: Built) -> None:
    html = built.report.index.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<img|<iframe|<object|<embed|@import|\bsrc=", html, re.I)
    assert set(re.findall(r"url\(([^)]*)\)", html)) <= {"#consensus-ramp"}
    links = re.findall(r'href="([^"]+)"', html)
    assert set(links) == {*EXPORT_FILES, "#method"}


def test_building_again_gives_the_same_page(built: Built, tmp_path: Path) -> None:
    again = build_report(built.db, built.code, tmp_path / "again", city=built.city, now=NOW)
    assert again.index.read_bytes() == built.report.index.read_bytes()
    assert again.counts == built.report.counts


# -- in the browser ---------------------------------------------------------------------------------------

def test_chromium_loads_only_the_file_itself_without_errors(built: Built, opened: Opened) -> None:
    assert opened.watch.requests == [built.report.index.resolve().as_uri()]
    assert opened.watch.sockets == [] and opened.watch.errors == []


def test_the_screenshot_shows_a_full_report(opened: Opened) -> None:
    image = np.asarray(Image.open(opened.screenshot).convert("RGB"))
    height, width, _ = image.shape
    assert width == 1100 and height > 4000  # a long page: summary, charts, two maps, tables
    colours = np.unique(image.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 200
    # Well over a tenth of the page is ink, bars or map, not the paper or the page background.
    paper = np.all(image >= 0xe9, axis=2)
    assert 0.1 < 1.0 - paper.mean() < 0.9


def test_the_visible_text_states_the_counts(built: Built, opened: Opened) -> None:
    counts = built.bundle()["counts"]
    assert opened.counts == {key: str(counts[key]) for key in
                             ("participants", "kiosks", "kiosk_sessions", "proposals", "votes", "comments")}
    assert f"They made {counts['proposals']} proposals and cast {counts['votes']} votes that count." in opened.text
    for heading in ("Summary", "Participation over time", "Answers per question", "Proposals, ranked by votes",
                    "Maps", "The questions in every language used", "Method", "Data and attribution", "Data files"):
        assert heading in opened.text
    assert "© OpenStreetMap contributors" in opened.text


def test_every_chart_and_map_is_an_accessible_svg(opened: Opened) -> None:
    kinds = [svg["cls"] for svg in opened.svgs]
    assert kinds.count("map") == 2 and kinds.count("chart") == 4 and kinds.count("legend-scale") == 1
    assert "delta" in kinds
    for svg in opened.svgs:
        assert svg["role"] == "img" and svg["label"] and svg["title"], svg
        assert svg["width"] <= 860
    assert any(svg["label"].startswith("Participation over time") for svg in opened.svgs)


def test_the_ranking_reads_the_simulated_effects_in_words(built: Built, opened: Opened) -> None:
    ranking = opened.text[opened.text.index("Proposals, ranked by votes"):opened.text.index("Maps\n")]
    bundle = built.bundle()
    kiosks = {k["id"]: k["name"] for k in bundle["workshop"]["kiosks"]}
    changed = 0
    for proposal in bundle["proposals"]:
        assert f"{proposal['id']} {proposal['title']}" in ranking
        assert f"made at kiosk {kiosks[proposal['author'].split('/')[0]]} ({proposal['author']})" in ranking
        for name, delta in proposal["kpis"].items():
            change = _charts.kpi_change(name, delta)
            if change.verdict != "same":
                changed += 1
                assert re.search(rf"{re.escape(change.label)}\s+{re.escape(change.text)} {change.arrow} "
                                 rf"{change.verdict}", ranking), change.words
    assert changed >= 3  # the demo simulates its proposals on the city: shade, seats, runoff…
    assert "Storm water running off" in ranking and "better" in ranking


def test_the_questions_appear_in_every_language_used(built: Built, opened: Opened) -> None:
    used = Replay.open(built.db, built.code).languages_used()
    assert used and set(used) <= {"en", "fi", "sv"}
    for question in load_scenario("helsinki-centre").extra["questions"]:
        for lang in used:
            assert question["text"][lang] in opened.text


def test_the_page_prints_on_a4(opened: Opened) -> None:
    assert opened.pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", opened.pdf)) >= 4


# -- interventions.geojson -------------------------------------------------------------------------------

def _signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in itertools.pairwise(ring)) / 2.0


def _position_problems(position: Any, where: str) -> list[str]:
    if not (isinstance(position, list) and len(position) in (2, 3)
            and all(isinstance(v, int | float) for v in position)):
        return [f"{where}: {position!r} is not a position"]
    lon, lat = position[:2]
    return [] if -180 <= lon <= 180 and -90 <= lat <= 90 else [f"{where}: {position} is not [lon, lat]"]


def _ring_problems(ring: Any, exterior: bool, where: str) -> list[str]:
    if not isinstance(ring, list) or len(ring) < 4:
        return [f"{where}: a linear ring needs four or more positions"]
    problems = [p for position in ring for p in _position_problems(position, where)]
    if ring[0] != ring[-1]:
        problems.append(f"{where}: the ring is not closed")
    if (_signed_area(ring) > 0) != exterior:
        problems.append(f"{where}: the {'exterior' if exterior else 'hole'} does not follow the right-hand rule")
    return problems


def _geometry_problems(geometry: Any, where: str) -> list[str]:
    coords: Any
    if geometry is None:
        return []
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES or "crs" in geometry:
        return [f"{where}: {geometry!r:.60} is not an RFC 7946 geometry"]
    kind, coords = geometry["type"], geometry.get("coordinates")
    if kind == "GeometryCollection":
        return [p for i, g in enumerate(geometry.get("geometries", [])) for p in _geometry_problems(g, f"{where}/{i}")]
    if not isinstance(coords, list):
        return [f"{where}: a {kind} needs coordinates"]
    if kind == "Point":
        return _position_problems(coords, where)
    if kind in ("MultiPoint", "LineString"):
        short = kind == "LineString" and len(coords) < 2
        return [f"{where}: a line needs two positions"] * short + [
            p for position in coords for p in _position_problems(position, where)]
    if kind == "MultiLineString":
        return [p for line in coords for p in _geometry_problems({"type": "LineString", "coordinates": line}, where)]
    polygons = [coords] if kind == "Polygon" else coords
    return [p for polygon in polygons for i, ring in enumerate(polygon) for p in _ring_problems(ring, i == 0, where)]


def rfc7946_problems(document: Any) -> list[str]:
    """What makes ``document`` not an RFC 7946 FeatureCollection (empty when it is one)."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return ["not a FeatureCollection"]
    problems = ["a crs member (RFC 7946 §4 removed it)"] * ("crs" in document)
    for index, feature in enumerate(document.get("features", [])):
        where = f"feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature" or "crs" in feature:
            problems.append(f"{where}: not a Feature")
            continue
        if "geometry" not in feature or not isinstance(feature.get("properties"), dict | None):
            problems.append(f"{where}: needs geometry and properties members")
        if "id" in feature and not isinstance(feature["id"], str | int | float):
            problems.append(f"{where}: the id is neither a string nor a number")
        problems += _geometry_problems(feature.get("geometry"), where)
    return problems


def _positions(coordinates: Any) -> list[list[float]]:
    """Every position in a geometry's nested coordinates."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [coordinates]
    return [p for item in coordinates for p in _positions(item)]


def test_the_checker_finds_what_rfc_7946_forbids() -> None:
    clockwise = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    assert rfc7946_problems({"type": "FeatureCollection", "crs": {}, "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [clockwise]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [60.2, 124.9]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[0, 0]]}}]}) == [
        "a crs member (RFC 7946 §4 removed it)", "feature 0: the exterior does not follow the right-hand rule",
        "feature 1: [60.2, 124.9] is not [lon, lat]", "feature 2: a line needs two positions"]


def test_interventions_geojson_is_rfc_7946_inside_the_city(built: Built) -> None:
    document = json.loads(built.report.files["interventions.geojson"].read_text(encoding="utf-8"))
    assert rfc7946_problems(document) == []
    meta = json.loads((built.city / "city.json").read_text(encoding="utf-8"))
    min_x, min_y, max_x, max_y = meta["bbox_m"]
    x0, y0 = meta["origin_m"][:2]
    lon, lat = Transformer.from_crs(meta["crs"], "EPSG:4326", always_xy=True).transform(
        [x0 + min_x, x0 + max_x, x0 + min_x, x0 + max_x], [y0 + min_y, y0 + min_y, y0 + max_y, y0 + max_y])
    positions = [p for feature in document["features"] for p in _positions(feature["geometry"]["coordinates"])]
    placed = sum(len(p["interventions"]) for p in built.bundle()["proposals"])
    assert len(document["features"]) == placed > 0 and len(positions) >= placed
    for p_lon, p_lat in positions:
        assert min(lon) <= p_lon <= max(lon) and min(lat) <= p_lat <= max(lat), (p_lon, p_lat)


# -- a workshop with everything the demo lacks: comments, phones' proposals, late and replaced votes ----------

_TOKENS = itertools.count(1)


def _token() -> str:
    return f"report-test-token-{next(_TOKENS):04d}"


def _send(room: Workshop, store: Store, actor: Actor | None, now: datetime, type: str, **body: Any) -> Actor:
    msg = parse(dump(client_message(type, **body)))
    if actor is None:
        outcome = room.hello(msg, now, store.hash_token, _token)
    else:
        outcome = room.handle(actor, msg, now, _token, store.hash_token)
    assert outcome.reply["type"] == "ack", outcome.reply
    store.write(outcome.records)
    return outcome.actor or actor  # type: ignore[return-value]


def _odd_workshop(db: Path) -> str:
    store = Store(db)
    now = datetime(2026, 6, 21, 9, 0, tzinfo=UTC)
    workshop, records = Workshop.create("ODD234", spec_from_scenario(load_scenario("helsinki-centre")),
                                        store.hash_token("f" * 24), store.hash_token("v" * 24), now)
    store.write(records)
    boss = Actor("facilitator", "facilitator")
    phone = _send(workshop, store, None, now, "hello", role="participant", workshop="ODD234", lang="de")
    _send(workshop, store, boss, now, "phase", to="propose")
    tree = {"catalog": "tree-small", "geometry": {"type": "Point", "coordinates": [10.0, 20.0]}, "params": {}}
    _send(workshop, store, phone, now + timedelta(minutes=3), "propose", title="<script>alert(1)</script> trees",
          interventions=[tree], kpis={"runoff_m3": -1.0, "made_up_index": 0.25})
    _send(workshop, store, phone, now + timedelta(minutes=4), "comment", target="P1",
          text='<img src="x" onerror="alert(2)"> & more')
    _send(workshop, store, boss, now + timedelta(minutes=10), "phase", to="vote")
    _send(workshop, store, phone, now + timedelta(minutes=11), "vote", question="priority", choice="shade")
    _send(workshop, store, phone, now + timedelta(minutes=12), "vote", question="priority", choice="water")
    _send(workshop, store, phone, now + timedelta(minutes=12), "vote", question="best-proposal", choice="P1")
    _send(workshop, store, boss, now + timedelta(minutes=15), "reveal")
    _send(workshop, store, boss, now + timedelta(minutes=16), "close")
    store.close()
    return "ODD234"


def test_text_from_the_public_is_escaped_and_odd_cases_are_explained(tmp_path: Path) -> None:
    db = tmp_path / "odd.sqlite"
    code = _odd_workshop(db)
    report = build_report(db, code, tmp_path / "out", now=NOW)
    html = report.index.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; trees" in html and "&lt;img src=&quot;x&quot;" in html
    assert report.counts == {"participants": 1, "phones": 1, "kiosks": 0, "kiosk_sessions": 0, "proposals": 1,
                             "votes": 2, "comments": 1}
    assert "3 votes were cast and 2 count: 1 replaced an earlier vote" in html
    assert "sent from a phone (p1)" in html and "made up index" in html
    assert "German" in html and "Welchen Vorschlag sollte die Stadt weiter prüfen?" in html
    assert "Round 2 · propose" in html and "10 min 00 s" in html


# -- the command ------------------------------------------------------------------------------------------

def _civictwin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "game.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)


def test_the_command_writes_the_report(built: Built, tmp_path: Path) -> None:
    done = _civictwin("report", "--db", str(built.db), "--workshop", built.code, "--out", str(tmp_path / "r"),
                      "--city", str(built.city))
    assert done.returncode == 0, done.stderr
    assert f"Report of workshop {built.code}: 12 phones" in done.stdout
    assert (tmp_path / "r" / "index.html").is_file() and (tmp_path / "r" / "bundle.json").is_file()


def test_an_unknown_workshop_is_one_sentence_and_status_1(built: Built, tmp_path: Path) -> None:
    done = _civictwin("report", "--db", str(built.db), "--workshop", "NOPE99", "--out", str(tmp_path / "r"))
    assert done.returncode == 1
    assert done.stderr.startswith("civictwin: error: there is no workshop NOPE99") and done.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_help_and_usage_errors(tmp_path: Path) -> None:
    done = _civictwin("report", "--help")
    assert done.returncode == 0 and all(flag in done.stdout for flag in ("--db", "--workshop", "--out", "--city"))
    missing = _civictwin("report", "--db", str(tmp_path / "x.sqlite"))
    assert missing.returncode == 2 and "--workshop" in missing.stderr


def test_the_report_loads_no_graphics_library() -> None:
    code = ("import sys, game.report.build; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('arcade', 'pyglet', 'panda3d', 'direct')]; assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr


# -- the pieces ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", [_charts, _maps])
def test_the_doctests_of_the_report_modules(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_kpi_changes_read_as_planners_write_them() -> None:
    assert _charts.kpi_change("runoff_m3", -143.2).words == "Storm water running off −143 m³ ↓ better"
    assert _charts.kpi_change("shade_public_pct", 3.24).words == "Shaded sidewalks and squares +3.2 pp ↑ better"
    assert _charts.kpi_change("facade_lden_mean_db", 0.5).verdict == "worse"
    assert _charts.kpi_change("seats_in_shade", 1.0).text == "+1 seat"
    assert _charts.kpi_change("utci_mean_c", -0.001).verdict == "same"
    assert set(_charts.KPI_ORDER) == set(_charts.KPI_UNITS)


def test_time_ticks_are_round_local_times() -> None:
    from zoneinfo import ZoneInfo

    start = datetime(2026, 6, 21, 6, 58, 10, tzinfo=UTC)
    ticks, fmt = _charts.time_ticks(start, start + timedelta(minutes=50), ZoneInfo("Europe/Helsinki"))
    assert fmt == "%H:%M"
    assert [t.astimezone(ZoneInfo("Europe/Helsinki")).strftime(fmt) for t in ticks] == [
        "10:00", "10:10", "10:20", "10:30", "10:40"]


def test_maps_without_a_city_still_show_the_proposals_scale_and_north() -> None:
    from game.wall.basemap import load_basemap
    from game.wall.board import board_from_state

    tree = {"catalog": "tree-large", "geometry": {"type": "Point", "coordinates": [100.0, -50.0]}, "params": {}}
    state = {"workshop": "X", "area_m": [-500, -500, 500, 500], "kiosks": [{"id": "k2", "name": "Hall"}],
             "questions": [{"id": "best", "kind": "proposal", "text": {"en": "Best?"}, "options": []}],
             "proposals": [{"id": "P1", "title": "Tree", "interventions": [tree], "kiosk": "k2", "kpis": {}}],
             "tallies": {"best": {"P1": 3}}}
    board = board_from_state(state, NOW)
    html = _maps.maps_section(load_basemap(None, board.area_m), board)
    assert html.count('class="scale-bar"') == 2 and html.count('class="north"') == 2
    assert 'data-proposal="P1"' in html and "#56b4e9" in html  # k2's sky blue, on the map and in the legend
    assert "Hall (k2)" in html and "no basemap (the city package was not found)" in html
    assert "votes behind a cell (most: 3)" in html and "layer-building" not in html
