"""The wall's facilitator controls against a real server process and a real client: each
press sends the right message, shows "sending…" until the server's ack, "done ✓" after it,
and the server's own sentence when it refuses."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from game.wall.board import board_from_state
from game.wall.controls import BUTTONS, PHASE_ORDER, SHOWN_FOR_S, Controls, next_phase
from multiplayer.client import Client
from tests.multiplayer.conftest import ServerProcess, make_server

_WAIT_S = 30.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerProcess, Client, Controls]]:
    server = make_server(tmp_path).start()
    client = Client(server.url, server.code, "facilitator", token=server.facilitator_token,
                    backoff=(0.05, 0.3)).start()
    try:
        assert client.wait_state(lambda s: True, _WAIT_S) is not None
        yield server, client, Controls(client.send, client.status, client.reply)
    finally:
        client.close()
        server.stop()


def _board(client: Client) -> Any:
    assert client.state is not None
    return board_from_state(client.state, datetime.now(UTC))


def _settle(controls: Controls, name: str, *, clock: Callable[[], float] = time.monotonic) -> str:
    """Update the controls until button ``name`` is no longer sending; its state."""
    deadline = time.monotonic() + _WAIT_S
    while time.monotonic() < deadline:
        controls.update(clock())
        if controls.state_of(name) != "sending":
            return controls.state_of(name)
        time.sleep(0.01)
    return controls.state_of(name)


def _press(client: Client, controls: Controls, key: str) -> dict[str, Any]:
    """Press ``key`` on the current board, wait for the ack, and return the state after it."""
    before = client.state
    assert controls.press(key, _board(client)) is not None
    name = Controls.button_for(key).name  # type: ignore[union-attr]
    assert _settle(controls, name) == "done", controls.shown(_board(client))
    state = client.wait_state(lambda s: s is not before, _WAIT_S)
    assert state is not None
    return state


def test_sending_until_the_ack_then_done(served: tuple[ServerProcess, Client, Controls]) -> None:
    server, client, controls = served
    board = _board(client)
    assert board.phase == "lobby"
    server.kill()  # nothing can be acknowledged now
    assert client.wait_state(lambda s: not client.connected, _WAIT_S) is not None
    msg_id = controls.press("N", board)
    assert msg_id is not None
    for _ in range(20):
        controls.update(time.monotonic())
        time.sleep(0.01)
    (shown,) = [b for b in controls.shown(board) if b.name == "next"]
    assert (shown.state, shown.text, client.status(msg_id)) == ("sending", "sending…", "saved")
    assert shown.label == "▶ Explore"

    server.start()  # the client reconnects and sends the message again, with its id
    assert _settle(controls, "next") == "done"
    (shown,) = [b for b in controls.shown(board) if b.name == "next"]
    assert shown.text == "done ✓"
    assert client.status(msg_id) == "received"
    state = client.wait_state(lambda s: s["phase"] == "explore", _WAIT_S)
    assert state is not None and state["timer_ends_at"] is not None  # the explore round's timer started


def test_refusals_show_the_servers_sentence(served: tuple[ServerProcess, Client, Controls]) -> None:
    _, client, controls = served
    assert controls.press("-", _board(client)) is not None  # no timer runs in the lobby
    assert _settle(controls, "minus") == "refused"
    (shown,) = [b for b in controls.shown(_board(client)) if b.name == "minus"]
    assert shown.text == "refused: No timer is running; start one with 'seconds' before adding time."
    # A refusal stays on the button for a while, then it goes back to idle.
    now_s = time.monotonic()
    controls.update(now_s + SHOWN_FOR_S / 2)
    assert controls.state_of("minus") == "refused"
    controls.update(now_s + SHOWN_FOR_S + 1.0)
    assert controls.state_of("minus") == "idle"


def test_every_button_does_what_it_says(served: tuple[ServerProcess, Client, Controls]) -> None:
    _, client, controls = served
    state = _press(client, controls, "+")  # no timer yet: "+" starts a one-minute one
    first_end = datetime.fromisoformat(state["timer_ends_at"].replace("Z", "+00:00"))
    state = _press(client, controls, "=")  # "=" is "+" without shift
    later = datetime.fromisoformat(state["timer_ends_at"].replace("Z", "+00:00"))
    assert (later - first_end).total_seconds() == 60
    state = _press(client, controls, "minus")
    assert datetime.fromisoformat(state["timer_ends_at"].replace("Z", "+00:00")) == first_end

    state = _press(client, controls, "L")
    assert state["locked"] is True
    assert [b.label for b in controls.shown(_board(client)) if b.name == "lock"] == ["Unlock"]
    state = _press(client, controls, "l")
    assert state["locked"] is False

    questions = [q["id"] for q in state["questions"]]
    seen = []
    for _ in range(len(questions) + 1):
        seen.append(_press(client, controls, "Q")["current_question"])
    assert seen == [*questions, None]  # through every question, then back to none

    phases = []
    while (to := next_phase(_board(client).phase)) is not None:
        phases.append(_press(client, controls, "N")["phase"])
        assert phases[-1] == to
    assert phases == list(PHASE_ORDER[1:])
    board = _board(client)
    assert controls.press("N", board) is None  # nothing comes after closed
    assert [b.enabled for b in controls.shown(board)] == [b.name == "question" for b in BUTTONS]


def test_reveal_button_reveals(served: tuple[ServerProcess, Client, Controls]) -> None:
    _, client, controls = served
    state = _press(client, controls, "R")
    assert state["phase"] == "reveal"
    assert Controls.button_for("x") is None and controls.press("x", _board(client)) is None
