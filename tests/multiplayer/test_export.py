"""Exports of a real workshop: CSV columns and counts, RFC 7946 GeoJSON, an anonymised log, the bundle."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from multiplayer.export import EXPORT_FILES, PROPOSAL_COLUMNS, VOTE_COLUMNS, export
from multiplayer.protocol import client_message, dump, parse
from multiplayer.store import Store, StoreError
from multiplayer.workshop import Actor, Workshop, spec_from_scenario
from world.scenario import load_scenario

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
FACILITATOR = Actor("facilitator", "facilitator")
KIOSK_SESSIONS = ("kiosk-session-aaaa1111", "kiosk-session-bbbb2222")
SCORES = ("1", "2", "3", "4", "5")
HEX64 = re.compile(r"[0-9a-f]{64}")

# Local metres around the helsinki-centre origin. The park's exterior is given clockwise,
# the plaza's hole counter-clockwise: the export must turn both to the right-hand rule.
PARK_CW = [[100.0, 100.0], [100.0, 160.0], [180.0, 160.0], [180.0, 100.0], [100.0, 100.0]]
PLAZA = [[[-300.0, -200.0], [-200.0, -200.0], [-200.0, -120.0], [-300.0, -120.0], [-300.0, -200.0]],
         [[-260.0, -180.0], [-240.0, -180.0], [-240.0, -160.0], [-260.0, -160.0], [-260.0, -180.0]]]


@dataclass
class Session:
    """A real workshop on a real database, driven the way the server drives it."""

    store: Store
    now: datetime = T0
    issued: list[str] = field(default_factory=list)
    msg_ids: list[str] = field(default_factory=list)
    workshop: Workshop | None = None

    def token(self) -> str:
        self.issued.append(f"secret-token-{len(self.issued):04d}-zz")
        return self.issued[-1]

    def create(self, code: str) -> None:
        spec = spec_from_scenario(load_scenario("helsinki-centre"))
        self.workshop, records = Workshop.create(code, spec, self.store.hash_token(self.token()),
                                                 self.store.hash_token(self.token()), self.now)
        self.store.write(records)

    def frame(self, type: str, **body: Any) -> Any:
        msg = parse(dump(client_message(type, **body)))
        self.msg_ids.append(msg.id)
        return msg

    def hello(self, role: str, **body: Any) -> tuple[Actor, dict[str, Any]]:
        assert self.workshop is not None
        outcome = self.workshop.hello(self.frame("hello", role=role, workshop=self.workshop.code, **body), self.now,
                                      self.store.hash_token, self.token)
        self.store.write(outcome.records)
        assert outcome.reply["type"] == "ack", outcome.reply
        assert outcome.actor is not None
        return outcome.actor, outcome.reply

    def send(self, actor: Actor, type: str, **body: Any) -> dict[str, Any]:
        assert self.workshop is not None
        outcome = self.workshop.handle(actor, self.frame(type, **body), self.now, self.token, self.store.hash_token)
        self.store.write(outcome.records)
        assert outcome.reply["type"] == "ack", outcome.reply
        return outcome.reply

    def tick(self, seconds: float) -> None:
        assert self.workshop is not None
        self.now += timedelta(seconds=seconds)
        outcome = self.workshop.tick(self.now)
        if outcome is not None:
            self.store.write(outcome.records)


def run_workshop(store: Store, code: str) -> Session:
    """Two phones and a kiosk with two visitors: proposals, comments, votes (one replaced,
    one late after the timer locked the round), reveal and close."""
    s = Session(store)
    s.create(code)
    kiosk_token = s.send(FACILITATOR, "add_kiosk", name="Library")["token"]
    kiosk, _ = s.hello("kiosk", token=kiosk_token)
    p1, _ = s.hello("participant", lang="fi")
    p2, _ = s.hello("participant")
    tree = {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [0.0, 0.0]}, "params": {}}
    s.send(FACILITATOR, "phase", to="explore")
    s.tick(30)
    s.send(p1, "propose", title="Shade for the square", description="Trees and a park.",
           interventions=[tree, {"catalog": "park", "geometry": {"type": "Polygon", "coordinates": [PARK_CW]}},
                          {"catalog": "bike-lane", "geometry": {"type": "LineString",
                                                                "coordinates": [[-50.0, 0.0], [50.0, 20.0]]}}],
           kpis={"shade_m2": 38.5, "utci_c": -0.4}, scene_hash="f" * 64)
    s.send(kiosk, "event", name="session_start", session=KIOSK_SESSIONS[0], data={"lang": "en"})
    s.send(kiosk, "propose", title="A quiet plaza", session=KIOSK_SESSIONS[0], cast_at=s.now.isoformat(),
           interventions=[{"catalog": "permeable-paving", "geometry": {"type": "Polygon", "coordinates": PLAZA},
                           "params": {"material": "gravel"}}], kpis={"noise_db": -2.5})
    s.send(p2, "comment", target="P1", text="Good idea")
    s.send(FACILITATOR, "phase", to="vote")
    s.tick(10)
    s.send(p1, "vote", question="priority", choice="shade")
    s.send(p1, "vote", question="street-score", choice=4)
    s.send(p1, "vote", question="best-proposal", choice="P2")
    s.send(p1, "vote", question="best-proposal", choice="P1")  # replaces the previous vote
    s.send(p2, "vote", question="priority", choice="quiet")
    s.send(p2, "vote", question="best-proposal", choice="P1")
    s.send(kiosk, "vote", question="priority", choice="water", session=KIOSK_SESSIONS[0], cast_at=s.now.isoformat())
    late_cast_at = s.now.isoformat()
    s.tick(400)  # the vote round's timer runs out: the timer locks it
    s.send(kiosk, "vote", question="best-proposal", choice="P2", session=KIOSK_SESSIONS[1], cast_at=late_cast_at)
    s.send(FACILITATOR, "reveal")
    s.send(FACILITATOR, "close")
    return s


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Session, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("export")
    store = Store(folder / "w.db")
    session = run_workshop(store, "HEL234")
    paths = export(store, "HEL234", folder / "out")
    yield store, session, paths
    store.close()


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def bundle_of(paths: dict[str, Path]) -> dict[str, Any]:
    return json.loads(paths["bundle.json"].read_text(encoding="utf-8"))


def test_every_file_is_written(exported) -> None:
    _, _, paths = exported
    assert sorted(paths) == sorted(EXPORT_FILES)
    assert all(path.is_file() and path.name == name for name, path in paths.items())
    assert not list(paths["bundle.json"].parent.glob("*.partial"))


def test_votes_csv_has_one_row_per_stored_vote(exported) -> None:
    store, _, paths = exported
    columns, rows = read_csv(paths["votes.csv"])
    assert tuple(columns) == VOTE_COLUMNS
    assert len(rows) == len(store.rows("votes", "HEL234")) == 7  # the replaced vote is not a row
    assert Counter(row["question"] for row in rows) == {"priority": 3, "street-score": 1, "best-proposal": 3}
    kinds = {row["question"]: row["question_kind"] for row in rows}
    assert kinds == {"priority": "choice", "street-score": "score", "best-proposal": "proposal"}
    assert all(re.fullmatch(r"p\d+|k\d+/s\d+", row["participant"]) for row in rows)
    kiosk_rows = [row for row in rows if row["kiosk"]]
    assert {(r["participant"], r["kiosk"], r["session"], r["late"]) for r in kiosk_rows} == {
        ("k1/s1", "Library", "s1", "false"), ("k1/s2", "Library", "s2", "true")}
    assert {row["late"] for row in rows if not row["kiosk"]} == {"false"}
    p1_best = next(r for r in rows if r["participant"] == "p1" and r["question"] == "best-proposal")
    assert p1_best["choice"] == "P1"
    assert all(row["cast_at"].endswith("Z") and row["received_at"].endswith("Z") for row in rows)


def test_proposals_csv_counts_interventions_votes_and_kpis(exported) -> None:
    _, _, paths = exported
    columns, rows = read_csv(paths["proposals.csv"])
    assert tuple(columns) == PROPOSAL_COLUMNS + ("kpi_noise_db", "kpi_shade_m2", "kpi_utci_c")
    _, votes = read_csv(paths["votes.csv"])
    best = Counter(v["choice"] for v in votes if v["question_kind"] == "proposal")
    assert [row["id"] for row in rows] == ["P1", "P2"]
    for row in rows:
        assert int(row["votes"]) == best[row["id"]]
    p1, p2 = rows
    assert (p1["author_role"], p1["author"], p1["kiosk"], p1["interventions"]) == ("participant", "p1", "", "3")
    assert (p2["author_role"], p2["author"], p2["kiosk"], p2["session"]) == ("kiosk", "k1/s1", "Library", "s1")
    assert (float(p1["kpi_shade_m2"]), float(p1["kpi_utci_c"]), p1["kpi_noise_db"]) == (38.5, -0.4, "")
    assert float(p2["kpi_noise_db"]) == -2.5


def signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))


def positions(geometry: dict[str, Any]) -> list[list[float]]:
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return [coordinates]
    if kind == "LineString":
        return coordinates
    return [p for ring in coordinates for p in ring]


def test_interventions_geojson_follows_rfc_7946(exported) -> None:
    store, session, paths = exported
    collection = json.loads(paths["interventions.geojson"].read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    features = collection["features"]
    assert [(f["properties"]["proposal"], f["properties"]["catalog"]) for f in features] == [
        ("P1", "tree-medium"), ("P1", "park"), ("P1", "bike-lane"), ("P2", "permeable-paving")]
    for feature in features:
        assert feature["type"] == "Feature"
        for lon, lat in positions(feature["geometry"]):
            assert 24.9 < lon < 25.0 and 60.15 < lat < 60.18
            assert round(lon, 7) == lon and round(lat, 7) == lat
    for feature in features:
        if feature["geometry"]["type"] == "Polygon":
            exterior, *holes = feature["geometry"]["coordinates"]
            assert exterior[0] == exterior[-1] and signed_area(exterior) > 0  # counter-clockwise
            assert all(hole[0] == hole[-1] and signed_area(hole) < 0 for hole in holes)
    assert len(features[3]["geometry"]["coordinates"]) == 2  # the plaza keeps its hole
    # The tree stands at the local origin: pyproj on the scenario's origin gives the same place.
    spec = session.workshop.spec
    lon, lat = Transformer.from_crs(spec.crs, "EPSG:4326", always_xy=True).transform(*spec.origin_m)
    assert features[0]["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)
    first, last = features[0]["properties"], features[3]["properties"]
    assert (first["proposal_title"], first["votes"], first["kpi_shade_m2"], first["kpi_noise_db"]) == (
        "Shade for the square", 2, 38.5, None)
    assert (last["params"], last["votes"], last["kpi_noise_db"]) == ({"material": "gravel"}, 1, -2.5)
    assert len(store.rows("proposals", "HEL234")) == 2


def test_events_jsonl_is_the_log_without_secrets(exported) -> None:
    store, session, paths = exported
    text = paths["events.jsonl"].read_text(encoding="utf-8")
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["seq"] for e in events] == [e["seq"] for e in store.events("HEL234")] == list(range(1, len(events) + 1))
    assert not HEX64.search(text)
    assert "token" not in text and "msg_id" not in text and "hash" not in text
    assert not [t for t in session.issued if t in text]
    assert not [m for m in session.msg_ids if m in text]
    assert not [s for s in KIOSK_SESSIONS if s in text]
    assert {e["actor"] for e in events if e["role"] != "system"} == {"facilitator", "k1", "p1", "p2"}
    assert any(e["type"] == "lock" and e["actor"] == "timer" for e in events)
    kiosk_votes = [e["data"] for e in events if e["type"] == "vote" and e["actor"] == "k1"]
    assert [(d["voter"], d["session"], d["late"]) for d in kiosk_votes] == [("k1/s1", "s1", False),
                                                                            ("k1/s2", "s2", True)]
    assert all(e["at"].endswith("Z") for e in events)


def test_no_export_holds_a_secret_or_a_raw_session(exported) -> None:
    _, session, paths = exported
    for name in ("votes.csv", "proposals.csv", "interventions.geojson", "bundle.json"):
        text = paths[name].read_text(encoding="utf-8")
        assert not [t for t in session.issued if t in text], name
        assert not [m for m in session.msg_ids if m in text], name
        assert not [s for s in KIOSK_SESSIONS if s in text], name
        assert "facilitator_hash" not in text and "token_hash" not in text, name


def test_bundle_agrees_with_the_csv_files_and_the_workshop(exported) -> None:
    store, session, paths = exported
    bundle = bundle_of(paths)
    _, votes = read_csv(paths["votes.csv"])
    _, proposals = read_csv(paths["proposals.csv"])
    assert bundle["counts"]["votes"] == len(votes) == len(bundle["votes"])
    assert bundle["counts"]["proposals"] == len(proposals) == len(bundle["proposals"])
    assert (bundle["counts"]["participants"], bundle["counts"]["kiosks"], bundle["counts"]["comments"]) == (2, 1, 1)
    assert bundle["events_count"] == len(paths["events.jsonl"].read_text().splitlines())
    assert bundle["generator"].startswith("civictwin")
    live = session.workshop.state_for("facilitator")
    restored = Workshop.restore(store.events("HEL234")).state_for("facilitator")
    assert bundle["tallies"] == live["tallies"] == restored["tallies"]
    for question, tally in bundle["tallies"].items():
        assert sum(tally.values()) == sum(1 for v in votes if v["question"] == question)
    assert sorted(bundle["tallies"]["street-score"]) == list(SCORES)
    assert [q["id"] for q in bundle["questions"]] == [q["id"] for q in live["questions"]]
    workshop = bundle["workshop"]
    assert (workshop["code"], workshop["scenario"]) == ("HEL234", "helsinki-centre")
    assert workshop["title"]["en"] == "A greener, calmer city centre"
    assert [p["phase"] for p in workshop["phases"]] == ["lobby", "explore", "vote", "reveal", "closed"]
    assert all(a["ended_at"] == b["started_at"] for a, b in pairwise(workshop["phases"]))
    assert workshop["phases"][-1]["ended_at"] is None
    assert bundle["proposals"][0]["interventions"][1]["geometry"]["coordinates"] == [PARK_CW]
    assert bundle["comments"][0]["author"] == "p2"


def test_exporting_again_gives_the_same_files(exported, tmp_path: Path) -> None:
    store, _, paths = exported
    again = export(store, "HEL234", tmp_path / "again")
    for name in EXPORT_FILES:
        assert again[name].read_bytes() == paths[name].read_bytes(), name


def test_an_unknown_workshop_is_refused(exported, tmp_path: Path) -> None:
    store, _, _ = exported
    with pytest.raises(StoreError, match="no workshop NOSUCH"):
        export(store, "NOSUCH", tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_a_workshop_that_has_just_started_exports_empty_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "w.db") as store:
        Session(store).create("NEW234")
        paths = export(store, "NEW234", tmp_path / "out")
    columns, rows = read_csv(paths["proposals.csv"])
    assert (tuple(columns), rows) == (PROPOSAL_COLUMNS, [])
    assert read_csv(paths["votes.csv"]) == (list(VOTE_COLUMNS), [])
    assert json.loads(paths["interventions.geojson"].read_text()) == {"type": "FeatureCollection", "features": []}
    bundle = bundle_of(paths)
    assert bundle["tallies"] == {"priority": {"shade": 0, "quiet": 0, "water": 0, "seats": 0},
                                 "street-score": dict.fromkeys(SCORES, 0), "best-proposal": {}}
    assert bundle["events_count"] == 1 and bundle["workshop"]["phases"][0]["phase"] == "lobby"


def test_free_text_that_looks_like_a_formula_is_defused_in_csv_only(tmp_path: Path) -> None:
    title = "=HYPERLINK(\"http://example.com\",\"click\")"
    with Store(tmp_path / "w.db") as store:
        s = Session(store)
        s.create("CSV234")
        p1, _ = s.hello("participant")
        s.send(FACILITATOR, "phase", to="propose")
        s.send(p1, "propose", title=title, description="-3 cars", interventions=[], kpis={"noise_db": -1.5})
        paths = export(store, "CSV234", tmp_path / "out")
    _, rows = read_csv(paths["proposals.csv"])
    assert (rows[0]["title"], rows[0]["description"], rows[0]["kpi_noise_db"]) == ("'" + title, "'-3 cars", "-1.5")
    assert bundle_of(paths)["proposals"][0]["title"] == title
