"""``civictwin wall`` as a real subprocess on a real server process, offscreen: it follows
a workshop through its phases, shows what the server counted, draws the proposals in
their kiosk's colour, says when the server is away and comes back with it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from game.wall._render_panels import Theme
from game.wall.board import board_from_state, board_summary
from game.wall.colours import colour_for
from game.wall.render import layout
from multiplayer.client import Client
from tests.multiplayer.conftest import ServerProcess, make_server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "content" / "scenarios" / "helsinki-centre.example.json"
SIZE = (1280, 720)
_WAIT_S = 60.0
_AREA = (-500.0, -500.0, 500.0, 500.0)  # helsinki-centre's area around the package origin


def _wall(server: ServerProcess, token: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "game.cli", "wall", "--server", server.url, "--workshop", server.code,
         f"--token={token}", *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _until(path: Path, predicate: Callable[[dict[str, Any]], bool], wall: subprocess.Popen[str]) -> dict[str, Any]:
    """The wall's state-out once it satisfies ``predicate``."""
    deadline = time.monotonic() + _WAIT_S
    while time.monotonic() < deadline:
        shown = _read(path)
        if shown is not None and predicate(shown):
            return shown
        assert wall.poll() is None, f"the wall stopped: {wall.communicate()[1][-2000:]}"
        time.sleep(0.05)
    raise AssertionError(f"the wall never showed that; last: {_read(path)}")


def _acked(client: Client, msg_id: str) -> dict[str, Any]:
    assert client.wait_idle(_WAIT_S), client.fatal
    reply = client.reply(msg_id)
    assert reply is not None and reply["type"] == "ack", reply
    return reply


def _pixels(path: Path, size: tuple[int, int] = SIZE) -> np.ndarray:
    image = Image.open(path)
    assert image.size == size
    return np.asarray(image.convert("RGB"))


def _region(pixels: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """A layout rectangle (left, bottom, width, height; y up) of a picture (y down)."""
    left, bottom, width, height = rect
    top = pixels.shape[0] - bottom - height
    return pixels[top:top + height, left:left + width]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = make_server(tmp_path).start()
    try:
        yield process
    finally:
        process.stop()


def test_the_wall_follows_a_workshop(server: ServerProcess, tmp_path: Path, helsinki_package: Path) -> None:
    shots, state_out = tmp_path / "shots", tmp_path / "wall.json"
    clients: list[Client] = []
    wall = _wall(server, server.facilitator_token, "--offscreen", "--size", "1280x720", "--city",
                 str(helsinki_package), "--screenshots", str(shots), "--state-out", str(state_out),
                 "--until", "closed")
    try:
        facilitator = Client(server.url, server.code, "facilitator", token=server.facilitator_token,
                             backoff=(0.05, 0.5)).start()
        clients.append(facilitator)
        token = _acked(facilitator, facilitator.send("add_kiosk", name="library"))["token"]
        kiosk = Client(server.url, server.code, "kiosk", token=token).start()
        clients.append(kiosk)
        shown = _until(state_out, lambda s: s.get("connected") and s["counts"]["kiosks"] == 1, wall)
        assert shown["role"] == "facilitator" and shown["phase"] == "lobby"

        _acked(facilitator, facilitator.send("phase", to="propose"))
        placed = json.loads(EXAMPLE.read_text(encoding="utf-8"))
        _acked(kiosk, kiosk.send("propose", session="t1", title="Shade and a quieter Unioninkatu",
                                 interventions=placed, kpis={"shade_public_pct": 2.4, "utci_mean_c": -0.3}))
        _acked(kiosk, kiosk.send("propose", session="t1", title="Trees by the station", interventions=placed[:5],
                                 kpis={"shade_public_pct": 0.8}))
        _until(state_out, lambda s: s["counts"]["proposals"] == 2, wall)

        _acked(facilitator, facilitator.send("phase", to="vote"))
        rng = random.Random(5)
        for _ in range(9):
            phone = Client(server.url, server.code, "participant").start()
            clients.append(phone)
            phone.send("vote", question="priority", choice=rng.choice(["shade", "quiet", "water", "seats"]))
            phone.send("vote", question="street-score", choice=rng.randint(1, 5))
            phone.send("vote", question="best-proposal", choice=rng.choice(["P1", "P1", "P2"]))
        for client in clients:
            assert client.wait_idle(_WAIT_S), client.fatal
        final = facilitator.wait_state(lambda s: s["counts"]["votes"] == 27, _WAIT_S)
        assert final is not None
        expected = board_summary(board_from_state(final, datetime.now(UTC)))
        shown = _until(state_out, lambda s: s["rev"] == final["rev"], wall)
        for key in ("counts", "tallies", "ranking", "phase", "consensus_max"):
            assert shown[key] == expected[key], key

        # The server goes away: the wall says so, greyed, and comes back with it.
        server.kill()
        _until(state_out, lambda s: s["connected"] is False, wall)
        server.start()
        _until(state_out, lambda s: s["connected"] is True, wall)
        away = _pixels(shots / "wall-away.png")
        banner_row = away[SIZE[1] // 2, 10:60].astype(int)
        assert np.abs(banner_row - (150, 36, 36)).max() <= 3  # the red band across the middle

        assert facilitator.wait_idle(_WAIT_S)
        _acked(facilitator, facilitator.send("reveal"))
        _until(state_out, lambda s: s["phase"] == "reveal", wall)  # each phase gets drawn, so photographed
        _acked(facilitator, facilitator.send("close"))
        out, err = wall.communicate(timeout=_WAIT_S)
        assert wall.returncode == 0, err
        assert "stopped (until)" in out
    finally:
        for client in clients:
            client.close()
        if wall.poll() is None:
            wall.kill()
            wall.wait()

    names = sorted(p.name for p in shots.glob("*.png"))
    assert names == sorted(f"wall-{n}.png" for n in ("lobby", "propose", "vote", "reveal", "closed", "final",
                                                     "away"))
    lay = layout(SIZE, _AREA, join=True, controls=True)
    vote = _pixels(shots / "wall-vote.png")
    map_px = _region(vote, lay.map).reshape(-1, 3)
    _colours, counts = np.unique(map_px, axis=0, return_counts=True)
    assert (counts > 200).sum() >= 5, "the map should show water, green, roads, buildings and ground"
    assert (np.abs(map_px.astype(int) - colour_for("k1")).max(axis=1) <= 2).sum() >= 30, "k1's proposals"
    assert np.abs(vote[SIZE[1] // 2, 10:60].astype(int) - (150, 36, 36)).max() > 40  # no banner while connected
    lobby = _pixels(shots / "wall-lobby.png")
    assert (np.abs(_region(lobby, lay.map).reshape(-1, 3).astype(int) - colour_for("k1")).max(axis=1) <= 2).sum() \
        < 30, "no proposals before the propose round"
    final_shown = _read(state_out)
    assert final_shown is not None and final_shown["phase"] == "closed" and final_shown["connected"] is True
    assert final_shown["counts"]["votes"] == 27


def test_a_view_token_only_watches(server: ServerProcess, tmp_path: Path) -> None:
    state_out = tmp_path / "wall.json"
    shots = tmp_path / "shots"
    wall = _wall(server, server.view_token, "--offscreen", "--size", "1920x1080", "--state-out", str(state_out),
                 "--screenshots", str(shots), "--seconds", "1.5")
    out, err = wall.communicate(timeout=_WAIT_S)
    assert wall.returncode == 0, err
    assert "watch-only wall" in out
    shown = _read(state_out)
    assert shown is not None and shown["role"] == "wall" and shown["connected"] is True
    assert shown["phase"] == "lobby" and shown["counts"]["proposals"] == 0
    size = (1920, 1080)
    final = _pixels(shots / "wall-final.png", size)
    # No buttons: the ranking's card reaches down to where the facilitator's controls would be.
    watching = layout(size, _AREA, join=True, controls=False).ranking
    facilitating = layout(size, _AREA, join=True, controls=True).controls
    assert facilitating is not None and watching[1] < facilitating[1] + facilitating[3]
    strip = _region(final, (watching[0] + 4, watching[1] + 4, watching[2] - 8, 30)).reshape(-1, 3)
    assert (strip == Theme.card[:3]).all()


def test_a_wrong_token_exits_with_one_sentence(server: ServerProcess) -> None:
    wall = _wall(server, "not-the-token-of-this-workshop", "--offscreen")
    _out, err = wall.communicate(timeout=_WAIT_S)
    assert wall.returncode == 1
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("civictwin: error: The server refused this wall in workshop")
    assert "facilitator or view token" in line


def test_an_unknown_workshop_exits_with_one_sentence(server: ServerProcess) -> None:
    done = subprocess.run([sys.executable, "-m", "game.cli", "wall", "--server", server.url, "--workshop", "ZZZZZZ",
                           f"--token={server.facilitator_token}", "--offscreen"], cwd=ROOT, capture_output=True,
                          text=True, timeout=_WAIT_S, check=False)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "There is no workshop ZZZZZZ on this server" in line


@pytest.mark.parametrize(("args", "words"), [
    (["--server", "ws://127.0.0.1:1/ws", "--workshop", "ABCDEF"], "--token"),
    (["--server", "http://127.0.0.1:1", "--workshop", "ABCDEF", "--token", "t"], "is not a websocket URL"),
    (["--server", "ws://127.0.0.1:1/ws", "--workshop", "ABCDEF", "--token", "t", "--size", "10x10"], "width"),
    (["--server", "ws://127.0.0.1:1/ws", "--workshop", "ABCDEF", "--token", "t", "--until", "later"], "later"),
])
def test_usage_mistakes_exit_2(args: list[str], words: str) -> None:
    done = subprocess.run([sys.executable, "-m", "game.cli", "wall", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=_WAIT_S, check=False)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr


def test_help_names_the_controls() -> None:
    done = subprocess.run([sys.executable, "-m", "game.cli", "wall", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=_WAIT_S, check=False)
    assert done.returncode == 0
    for words in ("--token", "--offscreen", "--screenshots", "--state-out", "--until", "N next phase", "L lock"):
        assert words in done.stdout
