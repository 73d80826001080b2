"""The facilitator's wall: an arcade window (or an offscreen one) on a live workshop.

Each frame the window asks its :class:`game.wall.live.LiveFeed` what is new, counts the
timer down from the state's end time, and draws the board with a
:class:`game.wall.render.BoardRenderer`, the facilitator's controls when it joined as the
facilitator, and a banner while the server is away. The board and the controls are
painted into the renderer's canvas only when they change (a new board, the timer's next
second, a button's state); every frame copies the canvas to the screen, then lays the
banner over it. Offscreen (tests, ``make run`` on a machine with no display) the same
frame is drawn in a plain loop, only when something on it changed, and written to PNG
files once per phase.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arcade

from game.wall._render_panels import Part, Theme, fit, format_timer, load_fonts
from game.wall.board import board_summary
from game.wall.controls import Controls
from game.wall.live import LiveFeed
from game.wall.render import BoardRenderer

__all__ = ["WallOptions", "WallWindow"]

_AWAY = "Server away — reconnecting…"
_CONNECTING = "Connecting to the workshop server…"
_OFFSCREEN_FRAME_S = 1 / 30


@dataclass(frozen=True)
class WallOptions:
    """What ``civictwin wall`` was asked for."""

    size: tuple[int, int]
    fullscreen: bool = False
    offscreen: bool = False
    lang: str = "en"
    join_url: str | None = None
    screenshots: Path | None = None
    state_out: Path | None = None
    until: str | None = None
    seconds: float | None = None


def _ends_at(state: dict[str, Any] | None) -> datetime | None:
    text = (state or {}).get("timer_ends_at")
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class WallWindow(arcade.Window):
    """The wall. ``basemap_for`` gives the map of a workshop state's area (called once,
    with the first state: the area is the workshop's)."""

    def __init__(self, options: WallOptions, feed: LiveFeed, basemap_for: Callable[[dict[str, Any]], Any]) -> None:
        width, height = options.size
        # No multisampling: the wall is drawn into a canvas and copied to the screen (a copy into
        # a multisampled framebuffer is not allowed), and nothing on it has slanted edges.
        super().__init__(width, height, "civictwin wall", fullscreen=options.fullscreen,
                         visible=not options.offscreen, resizable=not options.offscreen, update_rate=1 / 60,
                         draw_rate=1 / 60, vsync=not options.offscreen, antialiasing=False)
        load_fonts()
        self.options = options
        self.feed = feed
        self._basemap_for = basemap_for
        self.background_color = Theme.background
        self.controls = Controls(self._send, self._status, self._reply)
        self.renderer: BoardRenderer | None = None
        self.board: Any = None
        self.state: dict[str, Any] | None = None
        self._shown_board: Any = None
        self._timer_text = ""
        self._ever_connected = False
        self._phases_shot: set[str] = set()
        self._away_shot = False
        self._stop = False
        self.exit_reason: str | None = None
        self._started_s = time.monotonic()
        self._overlay, self._controls_part = Part(self.ctx), Part(self.ctx)
        self._button_rects: list[tuple[str, tuple[float, float, float, float]]] = []
        self._frame_key: Any = None
        self._painted: tuple[BoardRenderer, Any, Any] | None = None  # what the canvas shows

    # The controls follow whichever client the feed holds now (it may have fallen back).
    def _send(self, msg_type: str, **body: Any) -> str:
        return self.feed.client.send(msg_type, **body)

    def _status(self, msg_id: str) -> str:
        return self.feed.client.status(msg_id)

    def _reply(self, msg_id: str) -> dict[str, Any] | None:
        return self.feed.client.reply(msg_id)

    @property
    def facilitator(self) -> bool:
        return self.feed.role == "facilitator"

    def stop(self, *_: Any) -> None:
        """Leave after this frame (SIGTERM, or a test)."""
        self._stop = True

    # -- one frame ---------------------------------------------------------------------------------
    def update_state(self, now: datetime, now_s: float) -> bool:
        """Take what the feed has; True when the frame would look different from the last."""
        change = self.feed.poll()
        if change.board is not None:
            self.state, self.board = change.state, change.board
            if self.renderer is None:
                self._make_renderer()
            self.write_state()
        if change.connected_changed:
            self._ever_connected = self._ever_connected or self.feed.connected
            self.write_state()
        self.controls.update(now_s)
        if self.board is not None:
            ends = _ends_at(self.state)
            left_s = None if ends is None else max(0.0, (ends - now).total_seconds())
            text = format_timer(left_s)
            if change.board is not None or text != self._timer_text:
                self._timer_text = text
                self._shown_board = dataclasses.replace(self.board, timer_left_s=left_s)
        key = (id(self._shown_board), self.feed.connected, tuple(self.controls.summary().items()),
               self.renderer is not None and self.renderer.size_px)
        changed = key != self._frame_key
        self._frame_key = key
        return changed

    def _make_renderer(self) -> None:
        assert self.state is not None
        size = self.get_size()
        self.renderer = BoardRenderer(self._basemap_for(self.state), size, lang=self.options.lang,
                                      join_url=self.options.join_url, controls=self.facilitator)

    def draw_frame(self, now: datetime) -> None:
        renderer = self.renderer
        if renderer is not None and self._shown_board is not None:
            # The canvas is painted again only when the board shown (a new one, or the timer's
            # next second) or a button's state changed; each of its parts only if it differs.
            board, buttons = self._shown_board, (self.facilitator, tuple(self.controls.summary().items()))
            painted = self._painted
            if painted is None or painted[0] is not renderer or painted[1] is not board or painted[2] != buttons:
                extra = []
                if self.facilitator and renderer.layout.controls is not None:
                    extra.append(("controls", renderer.layout.controls, self._fill_controls()))
                renderer.paint(board, now, extra)
                self._painted = (renderer, board, buttons)
            renderer.show()
        else:
            self.clear()
        if not self.feed.connected:
            self._draw_banner(_AWAY if self._ever_connected or self.board is not None else _CONNECTING)

    def _fill_controls(self) -> Part:
        """The facilitator's buttons, as they should be drawn now (and where they are, for clicks)."""
        assert self.renderer is not None and self.renderer.layout.controls is not None
        lay, rects, texts = self.renderer.layout, self._controls_part.rects, self._controls_part.texts
        left, bottom, width, height = self.renderer.layout.controls
        shown = self.controls.shown(self._shown_board)
        gap = lay.px(10)
        button_w = (width - gap * (len(shown) - 1)) / len(shown)
        button_h = height - lay.px(30)
        self._button_rects = []
        refusal = ""
        for index, button in enumerate(shown):
            x0, y0 = left + index * (button_w + gap), bottom + lay.px(30)
            colour = {"sending": (92, 74, 22, 255), "done": (26, 86, 56, 255),
                      "refused": (104, 38, 32, 255)}.get(button.state, Theme.card_raised if button.enabled
                                                         else Theme.card)
            rects.add(x0, y0, x0 + button_w, y0 + button_h, colour)
            self._button_rects.append((button.name, (x0, y0, x0 + button_w, y0 + button_h)))
            ink = Theme.ink if button.enabled else Theme.faint
            texts.put(f"button.{button.name}", fit(button.label, lay.pt(16), button_w - lay.px(12), bold=True),
                      x0 + button_w / 2, y0 + button_h - lay.px(30), lay.pt(16), ink, bold=True, anchor_x="center")
            below = {"sending": "sending…", "done": "done ✓", "refused": "refused"}.get(button.state,
                                                                                      f"key {button.keys}")
            tone = {"sending": Theme.warn, "done": Theme.good, "refused": Theme.bad}.get(button.state, Theme.muted)
            texts.put(f"button.{button.name}.state", below, x0 + button_w / 2, y0 + lay.px(12), lay.pt(13), tone,
                      anchor_x="center", bold=button.state != "idle")
            if button.state == "refused":
                refusal = f"{button.label}: {button.text}"
        if refusal:
            texts.put("controls.refusal", fit(refusal, lay.pt(13), width), left, bottom + lay.px(6), lay.pt(13),
                      Theme.bad)
        return self._controls_part

    def _draw_banner(self, words: str) -> None:
        width, height = self.get_size()
        s = min(width / 1920, height / 1080)
        band = max(40, round(64 * s))
        self._overlay.rects.add(0, 0, width, height, (8, 9, 12, 170))
        self._overlay.rects.add(0, height / 2 - band, width, height / 2 + band, (150, 36, 36, 255))
        self._overlay.texts.put("banner", words, width / 2, height / 2, max(14.0, 34 * s), (255, 255, 255, 255),
                                bold=True, anchor_x="center", anchor_y="center")
        self._overlay.draw((width, height))

    # -- files --------------------------------------------------------------------------------------
    def write_state(self) -> None:
        """``--state-out``: the board's summary, whether the server is there, and the controls."""
        path = self.options.state_out
        if path is None:
            return
        summary = board_summary(self.board) if self.board is not None else {}
        summary.update(connected=self.feed.connected, role=self.feed.role, controls=dict(self.controls.summary()))
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".tmp")
        scratch.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(scratch, path)  # a reader never sees half a file

    def _screenshot(self, name: str) -> None:
        folder = self.options.screenshots
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        width, height = self.get_framebuffer_size()
        arcade.get_image(0, 0, width, height).convert("RGB").save(folder / f"wall-{name}.png")

    def after_draw(self) -> None:
        """Screenshots: each phase's first drawn frame, and the first frame of each absence."""
        if self.board is not None and self.board.phase not in self._phases_shot:
            self._phases_shot.add(self.board.phase)
            self._screenshot(self.board.phase)
        away = not self.feed.connected and self._ever_connected
        if away and not self._away_shot:
            self._screenshot("away")
        self._away_shot = away

    def finished(self) -> str | None:
        """Why the wall should stop now, or None."""
        if self.feed.fatal is not None:
            return "fatal"
        if self._stop:
            return "stopped"
        if self.options.until and self.board is not None and self.board.phase == self.options.until:
            return "until"
        if self.options.seconds is not None and time.monotonic() - self._started_s >= self.options.seconds:
            return "seconds"
        return None

    def finish(self) -> None:
        """Write the last screenshot and state (on every way out)."""
        if self.renderer is not None or self.options.screenshots is not None:
            self.draw_frame(datetime.now(UTC))
            self._screenshot("final")
        self.write_state()

    # -- the two loops -----------------------------------------------------------------------------
    def run_offscreen(self) -> str:
        """Draw frames until :meth:`finished`; returns why it stopped."""
        signal.signal(signal.SIGTERM, self.stop)
        while True:
            now = datetime.now(UTC)
            if self.update_state(now, time.monotonic()):
                self.draw_frame(now)
                self.after_draw()
            reason = self.finished()
            if reason is not None:
                self.exit_reason = reason
                self.finish()
                return reason
            time.sleep(_OFFSCREEN_FRAME_S)

    def run_window(self) -> str:
        """The interactive loop (arcade's); returns why it stopped."""
        signal.signal(signal.SIGTERM, self.stop)
        arcade.run()
        return self.exit_reason or "closed"

    def on_update(self, delta_time: float) -> None:
        reason = self.finished()
        if reason is not None and self.exit_reason is None:
            self.exit_reason = reason
            self.finish()
            self.close()

    def on_draw(self) -> None:
        now = datetime.now(UTC)
        self.update_state(now, time.monotonic())
        self.draw_frame(now)
        self.after_draw()

    def on_resize(self, width: int, height: int) -> None:
        super().on_resize(width, height)
        if self.renderer is not None and (width, height) != self.renderer.size_px and width > 0 and height > 0:
            self._make_renderer()

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        if symbol == arcade.key.F11 or (symbol == arcade.key.ESCAPE and self.fullscreen):
            self.set_fullscreen(not self.fullscreen)
            return
        key = _KEYS.get(symbol)
        if key is not None and self.facilitator and self.board is not None:
            self.controls.press(key, self.board)

    def on_mouse_press(self, x: int, y: int, button: int, modifiers: int) -> None:
        if not self.facilitator or self.board is None:
            return
        for name, (x0, y0, x1, y1) in self._button_rects:
            if x0 <= x <= x1 and y0 <= y <= y1:
                self.controls.press(name, self.board)


_KEYS = {arcade.key.N: "N", arcade.key.PLUS: "+", arcade.key.EQUAL: "=", arcade.key.NUM_ADD: "+",
         arcade.key.MINUS: "-", arcade.key.NUM_SUBTRACT: "-", arcade.key.L: "L", arcade.key.R: "R",
         arcade.key.Q: "Q"}
