"""The facilitator's controls on the wall: buttons and keys that send workshop messages,
each shown as done only once the server has acknowledged it.

Pure: no arcade, no clock, no network. :class:`Controls` is given three callables of a
:class:`multiplayer.client.Client` (``send``, ``status``, ``reply``) and the current
:class:`game.wall.board.Board`; the window draws what :meth:`Controls.shown` says. A press
moves its button from idle to ``sending…``; :meth:`Controls.update` moves it to
``done ✓`` when the client reports the message ``received`` (the server's ack: the change
is on disk) or to ``refused: <the server's sentence>`` on an error reply, and back to idle
a few seconds later. Nothing is shown as done on the strength of having been sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BUTTONS", "PHASE_ORDER", "Button", "ButtonState", "Controls", "next_phase"]

#: The order a workshop goes through; the next-phase button follows it.
PHASE_ORDER = ("lobby", "explore", "propose", "vote", "reveal", "closed")
#: How long a finished press (done or refused) stays on its button, seconds.
SHOWN_FOR_S = 4.0
TIMER_STEP_S = 60


@dataclass(frozen=True)
class Button:
    """One control: its name, the keys that press it (as the window names them) and a caption."""

    name: str
    keys: tuple[str, ...]
    caption: str


#: The buttons in the order they are drawn.
BUTTONS = (
    Button("next", ("N",), "Next phase"),
    Button("plus", ("+", "="), "+1 min"),
    Button("minus", ("-",), "−1 min"),
    Button("lock", ("L",), "Lock"),
    Button("reveal", ("R",), "Reveal"),
    Button("question", ("Q",), "Next Q"),
)
_BY_KEY = {key: b for b in BUTTONS for key in b.keys}
_BY_NAME = {b.name: b for b in BUTTONS}


@dataclass(frozen=True)
class ButtonState:
    """What one button shows: ``state`` is idle, sending, done or refused; ``text`` the words."""

    name: str
    label: str
    keys: str
    state: str
    text: str
    enabled: bool


def next_phase(phase: str) -> str | None:
    """The phase after ``phase``, None after the last.

    >>> next_phase("propose"), next_phase("closed")
    ('vote', None)
    """
    index = PHASE_ORDER.index(phase) if phase in PHASE_ORDER else -1
    return PHASE_ORDER[index + 1] if index + 1 < len(PHASE_ORDER) else None


@dataclass
class _Press:
    msg_id: str
    state: str = "sending"
    text: str = "sending…"
    finished_s: float | None = None


class Controls:
    """The facilitator's six controls, bound to a workshop client's ``send``, ``status``
    and ``reply`` (see :class:`multiplayer.client.Client`)."""

    def __init__(self, send: Callable[..., str], status: Callable[[str], str],
                 reply: Callable[[str], dict[str, Any] | None]) -> None:
        self._send = send
        self._status = status
        self._reply = reply
        self._presses: dict[str, _Press] = {}

    @staticmethod
    def button_for(key_or_button: str) -> Button | None:
        """The button a key (``"N"``, ``"+"``…) or a button name (``"next"``…) stands for."""
        found = _BY_NAME.get(key_or_button)
        if found is not None:
            return found
        return _BY_KEY.get(key_or_button.upper() if len(key_or_button) == 1 else key_or_button)

    def press(self, key_or_button: str, board: Any) -> str | None:
        """Press a button (by key or name) on ``board``: send its message; the message id,
        or None when the key is no control or the button has nothing to do now."""
        button = self.button_for(key_or_button)
        if button is None:
            return None
        message = self.message(button.name, board)
        if message is None:
            return None
        msg_type, body = message
        msg_id = self._send(msg_type, **body)
        self._presses[button.name] = _Press(msg_id)
        return msg_id

    @staticmethod
    def message(name: str, board: Any) -> tuple[str, dict[str, Any]] | None:
        """The message button ``name`` sends on ``board`` (type and body), None when it has
        nothing to do (the next phase after closed)."""
        if name == "next":
            to = next_phase(board.phase)
            if to is None:
                return None
            return {"reveal": ("reveal", {}), "closed": ("close", {})}.get(to, ("phase", {"to": to}))
        if name == "plus":
            # With no timer running, "+" starts a one-minute one (the server refuses "add" then).
            if board.timer_left_s is None:
                return "timer", {"seconds": TIMER_STEP_S}
            return "timer", {"add": TIMER_STEP_S}
        if name == "minus":
            return "timer", {"add": -TIMER_STEP_S}
        if name == "lock":
            return "lock", {"locked": not board.locked}
        if name == "reveal":
            return "reveal", {}
        if name == "question":
            ids = [q.id for q in board.questions]
            if not ids:
                return None
            current = board.current_question
            # Cycle through the questions, then back to none shown (the wall shows them all).
            index = ids.index(current) + 1 if current in ids else 0
            return "question", {"current": ids[index] if index < len(ids) else None}
        raise KeyError(f"no control named {name!r}")

    def update(self, now_s: float) -> None:
        """Follow the replies: sending → done/refused; finished presses fade back to idle
        :data:`SHOWN_FOR_S` seconds (of the caller's clock, ``now_s``) later."""
        for name, press in list(self._presses.items()):
            if press.state == "sending":
                status = self._status(press.msg_id)
                if status == "received":
                    press.state, press.text, press.finished_s = "done", "done ✓", now_s
                elif status == "refused":
                    reply = self._reply(press.msg_id) or {}
                    sentence = str(reply.get("message") or reply.get("code") or "no reason given")
                    press.state, press.text, press.finished_s = "refused", f"refused: {sentence}", now_s
            elif press.finished_s is not None and now_s - press.finished_s >= SHOWN_FOR_S:
                del self._presses[name]

    def state_of(self, name: str) -> str:
        """idle, sending, done or refused."""
        press = self._presses.get(name)
        return "idle" if press is None else press.state

    def shown(self, board: Any) -> list[ButtonState]:
        """Every button as it should be drawn now."""
        return [self._shown_one(b, board) for b in BUTTONS]

    def _shown_one(self, button: Button, board: Any) -> ButtonState:
        label = button.caption
        if button.name == "next":
            to = next_phase(board.phase)
            label = f"▶ {to.capitalize()}" if to else "Closed"
        elif button.name == "lock":
            label = "Unlock" if board.locked else "Lock"
        enabled = board.phase != "closed" or button.name == "question"
        press = self._presses.get(button.name)
        state, text = ("idle", "") if press is None else (press.state, press.text)
        keys = "/".join(k for k in button.keys if k != "=")
        return ButtonState(button.name, label, keys, state, text, enabled)

    def summary(self) -> Mapping[str, str]:
        """Each button's state, for ``--state-out``."""
        return {b.name: self.state_of(b.name) for b in BUTTONS}
