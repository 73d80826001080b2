"""The phone page in a real headless Chromium against a real server process.

A person joins from the QR link, picks a language, taps a vote and sees it received; the
vote is then in the server's database with the id the page chose. The page stays usable at
360 px, talks only to its own origin, follows phase changes live, and after the server
restarts it reconnects by itself and delivers a vote cast meanwhile exactly once.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from websockets.sync.client import ClientConnection, connect

from multiplayer.protocol import client_message
from tests.conftest import ROOT
from tests.multiplayer.browser import (
    ORDER_LOG_JS,
    PageWatch,
    chromium,
    contrast_failures,
    small_targets,
    unlabelled_controls,
)
from tests.multiplayer.conftest import ServerProcess
from tests.multiplayer.schema import validate

TIMEOUT_MS = 15_000
DOCS_SHOT = ROOT / "docs" / "phone.png"


class Peer:
    """A blocking websocket client for the test's side of the workshop (facilitator, another phone)."""

    def __init__(self, ws: ClientConnection, code: str, role: str, token: str | None = None) -> None:
        self.ws = ws
        body: dict[str, Any] = {"role": role, "workshop": code}
        if token:
            body["token"] = token
        ack = self.request("hello", **body)
        assert ack["type"] == "ack", ack
        self.state: dict[str, Any] = ack["state"]

    def request(self, type: str, **body: Any) -> dict[str, Any]:
        frame = client_message(type, **body)
        validate(frame)
        self.ws.send(json.dumps(frame))
        while True:
            reply = json.loads(self.ws.recv(timeout=30))
            validate(reply)
            if reply["type"] == "state":
                self.state = reply["state"]
            elif reply.get("re") == frame["id"]:
                return reply

    def ok(self, type: str, **body: Any) -> dict[str, Any]:
        reply = self.request(type, **body)
        assert reply["type"] == "ack", reply
        return reply


@contextmanager
def peer(server: ServerProcess, role: str, token: str | None = None) -> Iterator[Peer]:
    with connect(server.url, open_timeout=30) as ws:
        yield Peer(ws, server.code, role, token)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def facilitator(server: ServerProcess) -> Iterator[Peer]:
    with peer(server, "facilitator", server.facilitator_token) as joined:
        yield joined


def _votes(db: Path, code: str) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        return con.execute("SELECT * FROM votes WHERE workshop = ? ORDER BY question", (code,)).fetchall()


def _participants(db: Path, code: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute("SELECT count(*) FROM participants WHERE workshop = ?", (code,)).fetchone()[0]


def _open(browser: Browser, server: ServerProcess, *, width: int = 390, height: int = 844) -> tuple[Page, PageWatch]:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script(ORDER_LOG_JS)
    watch = PageWatch(page)
    page.goto(f"{server.http}/?w={server.code.lower()}")  # the QR link; the page upper-cases the code
    return page, watch


def _text(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts["en"]


def _no_trouble(watch: PageWatch, server: ServerProcess, *, allow_refused: bool = False) -> None:
    """Only the page's own origin was asked, every frame it sent is valid protocol, no script errors."""
    assert watch.foreign(server.http) == []
    assert watch.sockets and all(url == server.url for url in watch.sockets)
    for frame in watch.sent:
        validate(frame)
    refused = re.compile(r"WebSocket connection to .* failed")
    assert [e for e in watch.errors if not (allow_refused and refused.search(e))] == []


def test_join_pick_language_vote_and_it_is_stored(browser: Browser, server: ServerProcess, facilitator: Peer,
                                                   tmp_path: Path) -> None:
    page, watch = _open(browser, server)
    expect(page.locator("#phase")).to_have_text("Waiting to start")
    page.select_option("#lang", "fi")
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    question = facilitator.state["questions"][0]
    option = question["options"][0]
    expect(page.locator("#title")).to_have_text(_text(facilitator.state["title"], "fi"))

    facilitator.ok("phase", to="vote")
    expect(page.locator(f"#q-{question['id']}")).to_have_text(_text(question["text"], "fi"))
    button = page.locator("button.choice", has_text=_text(option["label"], "fi"))
    button.click()
    expect(button).to_contain_text("vastaanotettu ✓")
    expect(button).to_have_attribute("aria-pressed", "true")

    (vote,) = watch.sent_of("vote")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", vote["id"])
    # "received" shows only after the server's ack of that very message, never before.
    order = page.evaluate("window.__order")
    badges = [i for i, entry in enumerate(order) if entry.startswith("badge:") and "✓" in entry]
    assert badges and order.index(f"ack:{vote['id']}") < badges[0]
    assert any(entry == "badge:lähetetään…" for entry in order[: badges[0]])

    (row,) = _votes(server.db, server.code)
    assert (row["question"], row["choice"], row["msg_id"]) == (question["id"], option["id"], vote["id"])
    assert row["participant"] is not None and row["kiosk"] is None
    (hello,) = watch.sent_of("hello")
    assert hello["role"] == "participant" and "resume" not in hello
    token = page.evaluate(f"localStorage.getItem('civictwin.participant.{server.code}')")
    assert token and token not in page.url
    # The language change was told to the server as an event, after the hello.
    assert [frame["data"] for frame in watch.sent_of("event")] == [{"lang": "fi"}]
    page.screenshot(path=tmp_path / "phone-vote.png", full_page=True)
    _no_trouble(watch, server)
    page.close()


def test_typed_code_wrong_then_right(browser: Browser, server: ServerProcess) -> None:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = PageWatch(page)
    page.goto(server.http + "/")
    expect(page.locator("#join")).to_be_visible()
    page.fill("#code", "abc")  # too short: refused on the phone, nothing sent
    page.click("#join-button")
    expect(page.locator("#code-error")).to_have_text("A workshop code has 4 to 16 letters or digits.")
    assert watch.sockets == []
    wrong = "ZZ" + server.code[2:] if not server.code.startswith("ZZ") else "YY" + server.code[2:]
    page.fill("#code", wrong)
    page.keyboard.press("Enter")
    expect(page.locator("#code-error")).to_be_visible()  # the server's own sentence
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    assert not page.evaluate(f"localStorage.getItem('civictwin.participant.{wrong}')")
    page.fill("#code", server.code.lower())
    page.click("#join-button")
    expect(page.locator("#phase")).to_have_text("Waiting to start")
    assert page.url.endswith(f"/?w={server.code}")  # a reload comes back to the same workshop
    assert [frame["workshop"] for frame in watch.sent_of("hello")] == [wrong, server.code]
    _no_trouble(watch, server)
    page.close()


def test_narrow_screen_proposals_no_horizontal_scroll_and_accessible(browser: Browser, server: ServerProcess,
                                                                     facilitator: Peer, tmp_path: Path) -> None:
    page, watch = _open(browser, server, width=360, height=740)
    expect(page.locator("#phase")).to_have_text("Waiting to start")
    facilitator.ok("phase", to="propose")
    minx, miny, maxx, maxy = facilitator.state["area_m"]
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    trees = [{"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [cx - 300 + 100 * i, cy + 40]}}
             for i in range(7)]
    lane = {"catalog": "bike-lane", "geometry": {"type": "LineString", "coordinates": [[minx + 50, cy - 20],
                                                                                     [maxx - 50, cy]]}}
    corners = [(100, 150), (300, 150), (300, 300), (100, 300), (100, 150)]
    park = {"catalog": "park", "geometry": {"type": "Polygon", "coordinates": [[[cx + x, cy + y] for x, y in corners]]}}
    kpis = {"shade_public_pct": 3.25, "utci_mean_c": -0.8, "homes_above_55db_pct": 0.4, "an_unknown_kpi": 7}
    with peer(server, "participant") as phone:
        proposal = phone.ok("propose", title="Trees and a quiet lane along Aleksanterinkatu, with a pocket park",
                            interventions=[*trees, lane, park], kpis=kpis)["proposal"]
    facilitator.ok("phase", to="vote")

    card = page.locator("article.proposal", has_text=proposal)
    expect(card).to_be_visible()
    expect(card.locator("svg.map circle.i-tree")).to_have_count(len(trees))
    expect(card.locator("svg.map polyline")).to_have_count(1)
    expect(card.locator("svg.map path")).to_have_count(1)
    kpi_rows = [" ".join(t.split()) for t in card.locator("li.kpi").all_inner_texts()]
    assert kpi_rows == ["Shade on public space +3.3 pp", "Felt temperature (UTCI) -0.8 °C",
                        "Homes with noise above 55 dB +0.4 pp", "an_unknown_kpi +7"]
    expect(page.locator("#timer")).to_have_text(re.compile(r"Time left \d+:\d\d"))

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert small_targets(page) == []
    assert unlabelled_controls(page) == []
    assert contrast_failures(page) == []
    # Keyboard: a vote button takes focus, shows it, and Enter votes.
    score = page.locator(".score button.choice", has_text="4")
    score.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator(".vote-note")).to_have_text("4: received ✓")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert contrast_failures(page) == []

    page.screenshot(path=tmp_path / "phone-narrow.png", full_page=True)
    if os.environ.get("CIVICTWIN_UPDATE_DOCS") == "1":  # the README's picture, without the passing toast
        expect(page.locator("#status")).to_be_empty()
        page.screenshot(path=DOCS_SHOT, full_page=True)
    _no_trouble(watch, server)
    page.close()


def test_live_phases_and_reconnect_after_restart(browser: Browser, server: ServerProcess, facilitator: Peer,
                                                 tmp_path: Path) -> None:
    page, watch = _open(browser, server)
    expect(page.locator("#phase")).to_have_text("Waiting to start")
    page.evaluate("window.__sameDocument = true")
    facilitator.ok("phase", to="explore")
    expect(page.locator("#phase")).to_have_text("Explore")
    expect(page.locator("#explain")).to_contain_text("kiosk")
    facilitator.ok("phase", to="vote")
    question = facilitator.state["questions"][0]
    expect(page.locator(f"#q-{question['id']}")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # pushed live, never reloaded

    server.terminate()  # SIGTERM: the server closes every connection with 1001 "going away"
    expect(page.locator("#status")).to_have_text("Reconnecting…")
    option = question["options"][1]
    button = page.locator("button.choice", has_text=_text(option["label"], "en"))
    button.click()
    expect(button).to_contain_text("sending…")
    server.start()
    expect(button).to_contain_text("received ✓")

    votes = watch.sent_of("vote")
    assert len({frame["id"] for frame in votes}) == 1  # resent, if at all, with the same id
    (row,) = _votes(server.db, server.code)
    assert (row["choice"], row["msg_id"]) == (option["id"], votes[0]["id"])
    hellos = watch.sent_of("hello")
    assert len(hellos) >= 2 and "resume" not in hellos[0] and all("resume" in h for h in hellos[1:])
    assert _participants(server.db, server.code) == 1  # the same person after the reconnect

    with peer(server, "facilitator", server.facilitator_token) as after:
        after.ok("lock")
        expect(page.locator(".notice")).to_be_visible()
        expect(button).to_be_disabled()
        after.ok("reveal")
    expect(page.locator(f"#r-{question['id']}")).to_be_visible()
    counts = page.locator(".bars li").evaluate_all("items => items.map((li) => li.getAttribute('aria-label'))")
    assert f"{_text(option['label'], 'en')}: 1 votes" in counts
    page.screenshot(path=tmp_path / "phone-results.png", full_page=True)
    _no_trouble(watch, server, allow_refused=True)
    page.close()


def test_a_vote_whose_ack_is_lost_is_resent_with_the_same_id(browser: Browser, server: ServerProcess,
                                                              facilitator: Peer) -> None:
    facilitator.ok("phase", to="vote")
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    from_page: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    delivered: list[dict[str, Any]] = []

    def relay(route: WebSocketRoute) -> None:
        """Pass frames both ways; on the first connection, swallow the vote's ack and drop the line."""
        first = not from_page
        upstream = route.connect_to_server()

        def up(message: str | bytes) -> None:
            from_page.append(json.loads(message))
            upstream.send(message)

        def down(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "ack" and any(f["id"] == frame["re"] and f["type"] == "vote" for f in from_page):
                if first:
                    lost.append(frame)
                    route.close(code=4000, reason="test: the line dropped")
                    upstream.close()
                    return
                delivered.append(frame)
            route.send(message)

        route.on_message(up)
        upstream.on_message(down)

    page.route_web_socket(re.compile(r"/ws$"), relay)
    page.goto(f"{server.http}/?w={server.code}")
    option = facilitator.state["questions"][0]["options"][2]
    button = page.locator("button.choice", has_text=_text(option["label"], "en"))
    button.click()
    expect(button).to_contain_text("received ✓")

    votes = [frame for frame in from_page if frame["type"] == "vote"]
    assert len(votes) == 2 and votes[0]["id"] == votes[1]["id"]
    assert lost[0]["re"] == votes[0]["id"] and delivered[0]["re"] == votes[0]["id"]
    assert delivered[0].get("duplicate") is True  # the server had stored it once already
    (row,) = _votes(server.db, server.code)
    assert (row["choice"], row["msg_id"]) == (option["id"], votes[0]["id"])
    page.close()
