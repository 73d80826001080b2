"""A whole workshop end to end, every part real, then every number checked against every other.

``civictwin workshop create``, a ``civictwin serve`` process, the wall (``civictwin wall``,
offscreen), three kiosks (``civictwin play --kiosk --offscreen``) playing the table scripts
in ``content/kiosk``, twenty phones as websocket clients and one real headless Chromium on
the phone page, through lobby, explore, propose, vote, reveal and closed; then
``civictwin report``. The workshop runs once per module; each test checks one agreement
between the database, the wall's state, the exports and the report.

A table script holds two visits (each starts with the ``start`` press on the attract
screen): the first visitor proposes during the explore or propose round, the second votes
in the vote round, each played by its own kiosk process on the table's outbox. Table 3
stands behind a network cut (a TCP relay the test holds down) until the vote round: its
proposal waits in its outbox and arrives late, flagged so, with the moment it was cast.
"""

from __future__ import annotations

import asyncio
import csv
import html
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from multiplayer.admin import CreatedWorkshop
from multiplayer.client import Client
from multiplayer.outbox import Outbox
from tests.conftest import ROOT
from tests.multiplayer.browser import PageWatch, chromium
from tests.multiplayer.conftest import ServerProcess

CIVICTWIN = str(Path(sys.executable).with_name("civictwin"))
TABLES = {f"k{n}": ROOT / "content" / "kiosk" / f"table-{n}.json" for n in (1, 2, 3)}
KIOSK_NAMES = {"k1": "library", "k2": "town hall", "k3": "school"}
PHONES = 20
QUESTIONS = ("priority", "street-score", "best-proposal")
WAIT_S = 120.0
DOCS = ROOT / "docs"


# -- the parts ------------------------------------------------------------------------------------

class NetworkCut:
    """A TCP relay on a loopback port in front of the server. While cut, every connection
    is reset as soon as it opens (a kiosk whose network is down); restored, bytes pass
    both ways untouched."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.cut = True
        self.port = 0
        self.refused = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="network-cut", daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            self.refused += 1
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def start(self) -> NetworkCut:
        self._thread.start()
        assert self._ready.wait(30), "the relay did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def visits(script: Path) -> list[list[dict[str, Any]]]:
    """A table script split into its visits: each begins with the ``start`` press (the
    attract steps before the first one belong to the first visit)."""
    steps = json.loads(script.read_text(encoding="utf-8"))
    starts = [i for i, s in enumerate(steps) if s["do"] == "press" and s["action"] == "start"]
    bounds = [0, *starts[1:], len(steps)]
    return [steps[a:b] for a, b in itertools.pairwise(bounds)]


def kiosk(city: Path, url: str, code: str, token: str, steps: list[dict[str, Any]], run: Path,
          outbox: Path) -> subprocess.Popen[bytes]:
    """One kiosk process playing ``steps`` offscreen; screenshots and report.json in ``run``."""
    run.mkdir(parents=True)
    (run / "script.json").write_text(json.dumps(steps), encoding="utf-8")
    with (run / "log.txt").open("wb") as log:
        return subprocess.Popen([CIVICTWIN, "play", str(city), "--kiosk", "--offscreen", "--server", url,
                                 "--workshop", code, f"--token={token}", "--script", str(run / "script.json"),
                                 "--screenshots", str(run), "--outbox", str(outbox)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def finish(process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    code = process.wait(timeout=300)
    assert code == 0, f"{what} exited with {code}:\n{log.read_text(errors='replace')[-3000:]}"


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def ack(client: Client, msg_id: str) -> dict[str, Any]:
    """The server's ack of a message ``client`` sent (failing on an error reply)."""
    assert client.wait_idle(WAIT_S), client.fatal
    reply = client.reply(msg_id) or {}
    assert reply.get("type") == "ack", reply
    return reply


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not written yet, or being replaced


@dataclass
class Run:
    """Everything the workshop left behind, for the tests to compare."""

    tmp: Path
    code: str = ""
    kiosk_runs: dict[str, Path] = field(default_factory=dict)  # "k3-1": table 3's first visit's folder
    phases_seen: list[str] = field(default_factory=list)
    browser_votes: list[dict[str, Any]] = field(default_factory=list)  # the vote frames the page sent
    phone_langs: list[str] = field(default_factory=list)
    refused_while_cut: int = 0

    @property
    def db(self) -> Path:
        return self.tmp / "workshop.db"

    @property
    def wall_dir(self) -> Path:
        return self.tmp / "wall"

    @property
    def state_out(self) -> Path:
        return self.wall_dir / "state.json"

    @property
    def report_dir(self) -> Path:
        return self.tmp / "report"


def _phase(facilitator: Client, run: Run, to: str) -> None:
    """Move the workshop to ``to``, once the wall has drawn the phase before. The rounds keep
    the scenario's timers (minutes): a round whose timer runs out locks, and this test never
    waits on the clock."""
    before = run.phases_seen[-1] if run.phases_seen else "lobby"
    wait_for(lambda: (run.wall_dir / f"wall-{before}.png").exists(), f"the wall's picture of {before}")
    kind = {"reveal": "reveal", "closed": "close"}.get(to, "phase")
    ack(facilitator, facilitator.send(kind, **({"to": to} if kind == "phase" else {})))
    run.phases_seen.append(to)


def _browser_votes(page: Any, proposal: str) -> None:
    """Vote the way a person does: tap an answer to each question, see it received."""
    for key in ("priority/water", "street-score/5", f"best-proposal/{proposal}"):
        button = page.locator(f'button[data-key="{key}"]')
        button.click()
        expect(button).to_have_class(re.compile(r"\breceived\b"))  # after the server's ack, never before


def run_workshop(tmp: Path, city: Path) -> Run:
    run = Run(tmp)
    created = subprocess.run([CIVICTWIN, "workshop", "create", "--db", str(run.db), "--scenario", "helsinki-centre",
                              "--city", str(city), "--json"], capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    run.code = info["workshop"]
    server = ServerProcess(run.db, CreatedWorkshop(info["workshop"], info["facilitator_token"], info["view_token"],
                                                   info["scenario"]))
    processes: list[subprocess.Popen[bytes]] = []
    clients: list[Client] = []
    cut: NetworkCut | None = None
    try:
        server.start()
        cut = NetworkCut(server.port).start()
        facilitator = Client(server.url, run.code, "facilitator", token=server.facilitator_token).start()
        clients.append(facilitator)
        tokens = {}
        for kid, name in KIOSK_NAMES.items():
            added = ack(facilitator, facilitator.send("add_kiosk", name=name))
            assert added["kiosk"] == kid
            tokens[kid] = added["token"]

        run.wall_dir.mkdir()
        wall_log = run.wall_dir / "log.txt"
        with wall_log.open("wb") as log:
            wall = subprocess.Popen([CIVICTWIN, "wall", "--server", server.url, "--workshop", run.code,
                                     f"--token={server.facilitator_token}", "--city", str(city),
                                     "--public-url", server.http, "--offscreen", "--size", "1280x720",
                                     "--screenshots", str(run.wall_dir), "--state-out", str(run.state_out),
                                     "--until", "closed"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                    env={**os.environ, "ARCADE_HEADLESS": "1"})
        processes.append(wall)
        joined = wait_for(lambda: (read_json(run.state_out) or {}).get("connected") and read_json(run.state_out),
                          "the wall to join")
        assert joined["role"] == "facilitator" and joined["phase"] == "lobby"  # the controls are on the wall

        rng = random.Random(6)
        for _ in range(PHONES):
            lang = rng.choice(["en", "fi", "sv", "de"])
            run.phone_langs.append(lang)
            clients.append(Client(server.url, run.code, "participant", lang=lang).start())
        phones = clients[-PHONES:]

        with chromium() as browser:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(30_000)
            watch = PageWatch(page)
            page.goto(f"{server.http}/?w={run.code.lower()}")  # the wall's QR link
            expect(page.locator("#phase")).to_have_text("Waiting to start")
            assert all(p.wait_idle(WAIT_S) for p in phones)  # all twenty have joined

            def play(kid: str, visit: int, url: str) -> subprocess.Popen[bytes]:
                folder = run.tmp / "kiosks" / f"{kid}-visit-{visit + 1}"
                run.kiosk_runs[f"{kid}-{visit + 1}"] = folder
                steps = visits(TABLES[kid])[visit]
                process = kiosk(city, url, run.code, tokens[kid], steps, folder,
                                run.tmp / "kiosks" / f"{kid}-outbox.sqlite")
                processes.append(process)
                return process

            def done(process: subprocess.Popen[bytes], kid: str, visit: int) -> None:
                finish(process, f"kiosk {kid} visit {visit + 1}", run.kiosk_runs[f"{kid}-{visit + 1}"] / "log.txt")

            _phase(facilitator, run, "explore")  # table 1 proposes; table 3, cut off, proposes into its outbox
            first, offline = play("k1", 0, server.url), play("k3", 0, cut.url)
            done(first, "k1", 0)
            _phase(facilitator, run, "propose")
            done(play("k2", 0, server.url), "k2", 0)
            done(offline, "k3", 0)
            run.refused_while_cut = cut.refused
            assert facilitator.wait_state(lambda s: len(s["proposals"]) == 2, WAIT_S)

            _phase(facilitator, run, "vote")
            ack(facilitator, facilitator.send("timer", add=120))  # the facilitator gives the vote a little longer
            cut.cut = False  # the network is back: table 3's outbox goes out as it reconnects
            back, second = play("k3", 1, cut.url), play("k1", 1, server.url)
            assert facilitator.wait_state(lambda s: len(s["proposals"]) == 3, WAIT_S), "table 3's late proposal"
            for phone in phones:
                phone.send("vote", question="priority", choice=rng.choice(["shade", "quiet", "water", "seats"]))
                phone.send("vote", question="street-score", choice=rng.randint(1, 5))
                phone.send("vote", question="best-proposal", choice=rng.choice(["P1", "P2", "P3"]))
            expect(page.locator('button[data-key="best-proposal/P3"]')).to_be_visible()
            _browser_votes(page, "P3")
            run.browser_votes = watch.sent_of("vote")
            assert all(p.wait_idle(WAIT_S) for p in phones)
            done(back, "k3", 1)
            done(second, "k1", 1)
            done(play("k2", 1, server.url), "k2", 1)
            expected = (PHONES + 1 + 3) * len(QUESTIONS)
            assert facilitator.wait_state(lambda s: s["counts"]["votes"] == expected, WAIT_S), facilitator.state

            _phase(facilitator, run, "reveal")
            expect(page.locator("#r-priority")).to_be_visible()
            page.screenshot(path=run.tmp / "phone-reveal.png", full_page=True)
            _phase(facilitator, run, "closed")
            finish(wall, "the wall", wall_log)

            report = subprocess.run([CIVICTWIN, "report", "--db", str(run.db), "--workshop", run.code,
                                     "--out", str(run.report_dir), "--city", str(city)],
                                    capture_output=True, text=True, timeout=300)
            assert report.returncode == 0, report.stderr
            shot = browser.new_page(viewport={"width": 1280, "height": 900})
            shot.goto((run.report_dir / "index.html").as_uri())
            shot.screenshot(path=run.tmp / "report.png", full_page=False)
    finally:
        for client in clients:
            client.close()
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(30)
        if cut is not None:
            cut.stop()
        server.stop()
    return run


@pytest.fixture(scope="module")
def workshop(helsinki_package: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    run = run_workshop(tmp_path_factory.mktemp("workshop"), helsinki_package)
    if os.environ.get("CIVICTWIN_UPDATE_DOCS") == "1":  # the README's pictures
        shutil.copy(run.kiosk_runs["k3-1"] / "table-3-saved.png", DOCS / "workshop-kiosk-offline.png")
        shutil.copy(run.wall_dir / "wall-reveal.png", DOCS / "workshop-wall.png")
        shutil.copy(run.tmp / "report.png", DOCS / "workshop-report.png")
    yield run


# -- what each part says ---------------------------------------------------------------------------

def db_rows(db: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        return con.execute(sql, args).fetchall()


def db_counts(run: Run) -> dict[str, int]:
    return {table: db_rows(run.db, f"SELECT count(*) FROM {table} WHERE workshop = ?", run.code)[0][0]
            for table in ("participants", "kiosks", "proposals", "votes")}


def db_tallies(run: Run) -> dict[str, dict[str, int]]:
    tallies: dict[str, dict[str, int]] = {q: {} for q in QUESTIONS}
    for row in db_rows(run.db, "SELECT question, CAST(choice AS TEXT) AS choice, count(*) AS n FROM votes "
                               "WHERE workshop = ? GROUP BY question, choice", run.code):
        tallies[row["question"]][row["choice"]] = row["n"]
    return tallies


def nonzero(tallies: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {q: {k: n for k, n in t.items() if n} for q, t in tallies.items()}


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def bundle(run: Run) -> dict[str, Any]:
    return json.loads((run.report_dir / "bundle.json").read_text(encoding="utf-8"))


def report_page(run: Run) -> str:
    return (run.report_dir / "index.html").read_text(encoding="utf-8")


def report_counts(run: Run) -> dict[str, int]:
    """The summary's figures: ``<div class="figure" data-count="votes"><b>72</b>…``."""
    return {key: int(n) for key, n in re.findall(r'data-count="(\w+)"><b>(\d+)</b>', report_page(run))}


def report_tallies(run: Run) -> dict[str, dict[str, int]]:
    """Each question's bars (``<figure class="question" id="q-ID">``, one ``<g><title>label: n (share)``
    per answer), keyed as the votes are: an option's English label to its id, "3 (…)" to "3", "P2 title" to "P2"."""
    labels = {q["id"]: {o["label"]["en"]: o["id"] for o in q.get("options", [])} for q in bundle(run)["questions"]}
    tallies: dict[str, dict[str, int]] = {}
    for question, body in re.findall(r'<figure class="question" id="q-([\w-]+)">(.*?)</figure>', report_page(run),
                                     re.S):
        bars = [(html.unescape(label), int(n)) for label, n in re.findall(r"<g><title>(.*?): (\d+) \(", body)]
        tallies[question] = {labels[question].get(label) or label.split(" ")[0]: n for label, n in bars}
        (total,) = re.findall(r"<figcaption>(\d+) answers", body)
        assert int(total) == sum(tallies[question].values()), question
    return tallies


def kiosk_report(run: Run, name: str) -> dict[str, Any]:
    return json.loads((run.kiosk_runs[name] / "report.json").read_text(encoding="utf-8"))


# -- the checks ----------------------------------------------------------------------------------------

def test_the_workshop_went_through_every_phase_and_the_wall_drew_each(workshop: Run) -> None:
    phases = [p["phase"] for p in bundle(workshop)["workshop"]["phases"]]
    assert phases == ["lobby", "explore", "propose", "vote", "reveal", "closed"]
    for phase in [*phases, "final"]:
        assert (workshop.wall_dir / f"wall-{phase}.png").stat().st_size > 10_000, phase
    final = read_json(workshop.state_out)
    assert final["phase"] == "closed" and final["workshop"] == workshop.code


def test_counts_agree_in_the_database_the_wall_the_exports_and_the_report(workshop: Run) -> None:
    db = db_counts(workshop)
    assert db == {"participants": PHONES + 1, "kiosks": 3, "proposals": 3, "votes": (PHONES + 4) * len(QUESTIONS)}
    wall = read_json(workshop.state_out)["counts"]
    exported = bundle(workshop)["counts"]
    assert {k: wall[k] for k in db} == db
    assert {k: exported[k] for k in db} == db
    assert len(csv_rows(workshop.report_dir / "votes.csv")) == db["votes"]
    assert len(csv_rows(workshop.report_dir / "proposals.csv")) == db["proposals"]
    assert exported["kiosk_sessions"] == 6  # two visitors at each table
    shown = report_counts(workshop)
    assert {k: shown[k] for k in db} == db and shown["kiosk_sessions"] == exported["kiosk_sessions"]


def test_tallies_agree_per_question_everywhere(workshop: Run) -> None:
    db = db_tallies(workshop)
    assert sum(sum(t.values()) for t in db.values()) == (PHONES + 4) * len(QUESTIONS)
    wall = read_json(workshop.state_out)["tallies"]
    exported = bundle(workshop)["tallies"]
    assert nonzero(wall) == db
    assert nonzero(exported) == db
    from_csv: dict[str, dict[str, int]] = {q: {} for q in QUESTIONS}
    for row in csv_rows(workshop.report_dir / "votes.csv"):
        from_csv[row["question"]][row["choice"]] = from_csv[row["question"]].get(row["choice"], 0) + 1
    assert from_csv == db
    ranking = {p["id"]: p["votes"] for p in read_json(workshop.state_out)["ranking"]}
    per_proposal = {row["id"]: int(row["votes"]) for row in csv_rows(workshop.report_dir / "proposals.csv")}
    geo = json.loads((workshop.report_dir / "interventions.geojson").read_text(encoding="utf-8"))
    assert ranking == per_proposal == {p: db["best-proposal"].get(p, 0) for p in ("P1", "P2", "P3")}
    assert {f["properties"]["proposal"]: f["properties"]["votes"] for f in geo["features"]} == per_proposal
    placed = sum(len(json.loads(r["interventions"])) for r in db_rows(
        workshop.db, "SELECT interventions FROM proposals WHERE workshop = ?", workshop.code))
    assert len(geo["features"]) == placed
    assert nonzero(report_tallies(workshop)) == db


def test_the_offline_table_delivered_its_proposal_late_with_the_moment_it_was_cast(workshop: Run) -> None:
    assert workshop.refused_while_cut >= 1  # the kiosk did try, and the network was down
    (late,) = db_rows(workshop.db, "SELECT * FROM proposals WHERE workshop = ? AND late = 1", workshop.code)
    assert (late["id"], late["author"], late["title"]) == ("P3", "k3", "Radweg und Bäume in der Vilhonkatu")
    phases = {p["phase"]: p for p in bundle(workshop)["workshop"]["phases"]}
    assert phases["explore"]["started_at"] <= late["cast_at"] < phases["vote"]["started_at"] <= late["received_at"]
    with Outbox(workshop.tmp / "kiosks" / "k3-outbox.sqlite") as outbox:
        counts = outbox.counts(workshop.code)
    assert counts["saved"] == counts["refused"] == 0 and counts["received"] >= 4  # events, proposal, votes
    saved = [s for s in kiosk_report(workshop, "k3-1")["steps"] if s["do"] == "propose"]
    assert saved[0]["accepted"] and saved[0]["screen"] == "proposals"
    proposals = {row["id"]: row for row in csv_rows(workshop.report_dir / "proposals.csv")}
    assert proposals["P3"]["late"] == "true" and proposals["P1"]["late"] == "false"
    page = report_page(workshop)
    assert page.count('<span class="badge">arrived late</span>') == 1
    assert re.search(r'<b>P3</b> [^<]* <span class="badge">arrived late</span>', page)


def test_each_table_proposed_in_its_language_and_voted(workshop: Run) -> None:
    for name in ("k1-1", "k1-2", "k2-1", "k2-2", "k3-1", "k3-2"):
        steps = kiosk_report(workshop, name)["steps"]
        assert all(s["accepted"] for s in steps), (name, [s for s in steps if not s["accepted"]])
    rows = db_rows(workshop.db, "SELECT id, author, title, kpis FROM proposals WHERE workshop = ? ORDER BY id",
                   workshop.code)
    assert [(r["id"], r["author"]) for r in rows] == [("P1", "k1"), ("P2", "k2"), ("P3", "k3")]
    assert all(json.loads(r["kpis"]) for r in rows)  # each carries the simulations' deltas
    kiosk_votes = db_rows(workshop.db, "SELECT kiosk, count(*) AS n, count(DISTINCT session) AS visitors FROM votes "
                                       "WHERE workshop = ? AND kiosk IS NOT NULL GROUP BY kiosk", workshop.code)
    assert [(r["kiosk"], r["n"], r["visitors"]) for r in kiosk_votes] == [("k1", 3, 1), ("k2", 3, 1), ("k3", 3, 1)]
    languages = [json.loads(r["data"])["data"]["language"] for r in db_rows(
        workshop.db, "SELECT data FROM events WHERE workshop = ? AND type = 'event' ORDER BY seq", workshop.code)
        if json.loads(r["data"]).get("name") == "session_end"]
    assert sorted(languages) == ["de", "de", "fi", "fi", "sv", "sv"]


def test_the_browser_voted_through_the_page_and_each_vote_is_stored_once(workshop: Run) -> None:
    assert len(workshop.browser_votes) == len({v["id"] for v in workshop.browser_votes}) == len(QUESTIONS)
    stored = db_rows(workshop.db, "SELECT question, CAST(choice AS TEXT) AS choice, msg_id FROM votes "
                                  "WHERE workshop = ? ORDER BY question", workshop.code)
    by_id = {row["msg_id"]: (row["question"], row["choice"]) for row in stored}
    assert sorted(by_id[v["id"]] for v in workshop.browser_votes) == [
        ("best-proposal", "P3"), ("priority", "water"), ("street-score", "5")]
    langs = sorted(r["lang"] for r in db_rows(workshop.db, "SELECT lang FROM participants WHERE workshop = ?",
                                              workshop.code))
    assert langs == sorted([*workshop.phone_langs, "en"])
