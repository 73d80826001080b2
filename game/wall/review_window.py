"""The planner's review window: the wall's map and panels over a finished workshop.

The map (left) is the wall's own map, drawn by the wall's renderer; the right column
shows either the chosen question's tally, the filter and the ranked proposals, or one
proposal opened, or two compared side by side. Everything answers the keyboard and
the mouse: ← → step through the moments (the end of each phase), Q ↑ ↓ through the
questions, "/" types a filter (Esc clears), 1–9 or a click opens a proposal, S or its
box picks it for comparing, C compares the two picked, E exports, Esc goes back.

:func:`render_screenshot` draws one frame of a view offscreen and saves it: the CLI's
``--offscreen --screenshot`` and the tests use it (``ARCADE_HEADLESS=1`` must be set
before arcade is imported).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import arcade

from game.wall._review_panels import (
    Hits,
    Rect,
    Texts,
    draw_compare,
    draw_detail,
    draw_filter,
    draw_footer,
    draw_header,
    draw_list,
    draw_tally,
    load_fonts,
)
from game.wall.basemap import Basemap
from game.wall.colours import BACKGROUND
from game.wall.render import BoardRenderer
from game.wall.review import ReviewModel
from multiplayer.errors import MultiplayerError

__all__ = ["ReviewView", "ReviewWindow", "render_screenshot", "export_folder"]

_DIGITS = {getattr(arcade.key, f"KEY_{n}"): n for n in range(1, 10)} | \
          {getattr(arcade.key, f"NUM_{n}"): n for n in range(1, 10)}
_TYPABLE = set(string.printable) - set("\t\n\r\x0b\x0c")


@dataclass
class ReviewView:
    """What the right column shows: the list, one opened proposal, or two compared."""

    mode: Literal["list", "detail", "compare"] = "list"
    opened: str | None = None
    selected: list[str] = field(default_factory=list)
    filter_focused: bool = False
    message: str = ""

    def pick(self, proposal_id: str) -> None:
        """Tick or untick ``proposal_id`` for comparing; a third tick drops the oldest."""
        if proposal_id in self.selected:
            self.selected.remove(proposal_id)
        else:
            self.selected = (self.selected + [proposal_id])[-2:]


def export_folder(code: str, export_dir: Path | None) -> Path:
    """Where E writes: ``--export DIR``, else ``./review-export-<code>``."""
    return export_dir if export_dir is not None else Path(f"review-export-{code}")


class ReviewWindow(arcade.Window):
    """One review of one workshop (see the module docstring for the keys)."""

    def __init__(self, model: ReviewModel, basemap: Basemap, size_px: tuple[int, int] = (1600, 900), *,
                 view: ReviewView | None = None, export_dir: Path | None = None, visible: bool = True,
                 fullscreen: bool = False) -> None:
        width, height = size_px
        super().__init__(width, height, f"civictwin review · {model.replay.data.code}", visible=visible,
                         fullscreen=fullscreen, resizable=False)
        load_fonts()
        self.model = model
        self.state = view or ReviewView()
        self.export_dir = export_dir
        self.hits = Hits()
        self.texts = Texts(scale=min(width / 1600, height / 900) ** 0.75)
        self.renderer = BoardRenderer(basemap, (width, height), lang=model.lang)
        self._swallow_text = ""
        self.background_color = BACKGROUND

    # -- layout -----------------------------------------------------------------------------------
    def _layout(self) -> dict[str, Rect]:
        """The review's rectangles around the wall renderer's map (its ``map_rect``, with
        its legend underneath): the header above the map, the panels right of it."""
        width, height = self.get_size()
        s = self.texts.scale
        map_left, map_bottom, map_w, map_h = self.renderer.map_rect
        gap = max(8.0, map_left)
        header_bottom = map_bottom + map_h + 0.6 * gap
        footer_h = 26 * s
        column_x = map_left + map_w + gap
        column: Rect = (column_x, footer_h + gap, width - gap - column_x, header_bottom - gap - footer_h - gap)
        rows = max((len(q.rows) for q in self.model.board().questions), default=4)
        tally_h = (78 + 22 * max(4, min(8, rows))) * s
        filter_h = 40 * s
        top = column[1] + column[3]
        list_top = top - tally_h - gap - filter_h - gap
        return {
            "header": (0, header_bottom, width, height - header_bottom),
            "footer": (0, 0, width, footer_h),
            "tally": (column_x, top - tally_h, column[2], tally_h),
            "filter": (column_x, top - tally_h - gap - filter_h, column[2], filter_h),
            "list": (column_x, column[1], column[2], list_top - column[1]),
            "column": column,
        }

    # -- drawing ----------------------------------------------------------------------------------
    def on_draw(self) -> None:
        self.renderer.clear()
        self.hits = Hits()
        model, view, lang = self.model, self.state, self.model.lang
        board = model.board()
        rects = self._layout()
        self.renderer.draw_map(board, highlight=self._highlight())
        question = board.question(model.question) if model.question else None
        draw_header(self.texts, self.hits, rects["header"], board, lang=lang,
                    moment_label=model.moments[model.moment].label, moment_index=model.moment,
                    moment_count=len(model.moments), question=question,
                    question_index=model.question_ids.index(question.id) if question else 0)
        if view.mode == "detail" and view.opened:
            detail = model.open(view.opened)
            texts = {q.id: board.text(q.text, lang) for q in board.questions}
            draw_detail(self.texts, self.hits, rects["column"], detail, lang=lang, question_texts=texts,
                        selected=detail.id in view.selected)
        elif view.mode == "compare" and len(view.selected) == 2:
            draw_compare(self.texts, self.hits, rects["column"], model.compare(*view.selected))
        else:
            colours = {p.id: p.colour for p in board.ranking}
            draw_tally(self.texts, rects["tally"], board, question, lang=lang, colours=colours)
            visible = model.visible()
            draw_filter(self.texts, self.hits, rects["filter"], model.filter, focused=view.filter_focused,
                        shown=len(visible), total=len(board.ranking))
            draw_list(self.texts, self.hits, rects["list"], board, visible, lang=lang, selected=view.selected,
                      opened=view.opened)
        draw_footer(self.texts, rects["footer"], view.message)

    def _highlight(self) -> set[str] | None:
        """Proposals drawn at full strength on the map (the others dimmed); None: all."""
        view = self.state
        if view.mode == "detail" and view.opened:
            return {view.opened}
        if view.mode == "compare" and len(view.selected) == 2:
            return set(view.selected)
        if self.model.filter.strip():
            return {p.id for p in self.model.visible()}
        return None

    # -- actions ----------------------------------------------------------------------------------
    def act(self, action: str) -> None:
        """Do one action of a button or key (see the module docstring)."""
        model, view = self.model, self.state
        view.message = ""
        if action in ("moment-", "moment+"):
            model.previous_moment() if action == "moment-" else model.next_moment()
            self._keep_view_valid()
        elif action in ("question-", "question+"):
            model.next_question(-1 if action == "question-" else 1)
        elif action == "filter":
            view.filter_focused = True
        elif action.startswith("open:"):
            self.open(action.removeprefix("open:"))
        elif action.startswith("select:"):
            view.pick(action.removeprefix("select:"))
            if view.mode == "compare" and len(view.selected) < 2:
                view.mode = "list"
        elif action == "compare":
            self.compare()
        elif action == "back":
            view.mode, view.filter_focused = "list", False
        elif action == "export":
            self.export()

    def open(self, proposal_id: str) -> None:
        try:
            self.model.open(proposal_id)
        except MultiplayerError as exc:
            self.state.message = str(exc)
            return
        self.state.mode, self.state.opened, self.state.filter_focused = "detail", proposal_id, False

    def compare(self) -> None:
        view = self.state
        picked = list(view.selected)
        if len(picked) < 2 and view.mode == "detail" and view.opened and view.opened not in picked:
            picked.append(view.opened)
        if len(picked) < 2:
            view.message = "Tick two proposals (their box, or S on an opened one) to compare them."
            return
        try:
            self.model.compare(*picked[-2:])
        except MultiplayerError as exc:
            view.message = str(exc)
            return
        view.selected, view.mode = picked[-2:], "compare"

    def export(self) -> None:
        folder = export_folder(self.model.replay.data.code, self.export_dir)
        try:
            files = self.model.export(folder)
        except MultiplayerError as exc:
            self.state.message = str(exc)
            return
        self.state.message = f"Exported {len(files)} files to {folder}."

    def _keep_view_valid(self) -> None:
        """After a moment step: back to the list when what was shown did not exist yet."""
        view, ids = self.state, {p.id for p in self.model.board().ranking}
        missing = [p for p in ([view.opened] if view.mode == "detail" else view.selected) if p and p not in ids]
        if view.mode != "list" and missing:
            view.mode = "list"
            view.message = f"{', '.join(missing)} had not been proposed yet at this moment."
        view.selected = [p for p in view.selected if p in ids]

    # -- input ------------------------------------------------------------------------------------
    def on_key_press(self, symbol: int, modifiers: int) -> None:
        view, keys = self.state, arcade.key
        if view.filter_focused:
            if symbol == keys.ESCAPE:
                self.model.set_filter("")
                view.filter_focused = False
            elif symbol in (keys.ENTER, keys.RETURN, keys.NUM_ENTER):
                view.filter_focused = False
            elif symbol == keys.BACKSPACE:
                self.model.set_filter(self.model.filter[:-1])
            return
        if symbol in _DIGITS:
            visible = self.model.visible()
            if _DIGITS[symbol] <= len(visible):
                self.open(visible[_DIGITS[symbol] - 1].id)
            return
        action = {keys.LEFT: "moment-", keys.RIGHT: "moment+", keys.UP: "question-", keys.DOWN: "question+",
                  keys.Q: "question+", keys.C: "compare", keys.E: "export"}.get(symbol)
        if action is not None:
            self.act(action)
        elif symbol in (keys.SLASH, keys.F):
            view.filter_focused = True
            self._swallow_text = "/" if symbol == keys.SLASH else "f"
        elif symbol == keys.S and view.mode == "detail" and view.opened:
            self.act(f"select:{view.opened}")
        elif symbol == keys.ESCAPE:
            if view.mode != "list":
                self.act("back")
            elif self.model.filter:
                self.model.set_filter("")

    def on_text(self, text: str) -> None:
        """Typed characters go to the filter while it has the focus."""
        if not self.state.filter_focused:
            return
        if self._swallow_text and text.lower() == self._swallow_text:
            self._swallow_text = ""  # the key that opened the field
            return
        self._swallow_text = ""
        typed = "".join(ch for ch in text if ch in _TYPABLE or ch.isalpha())
        if typed:
            self.model.set_filter(self.model.filter + typed)

    def on_mouse_press(self, x: int, y: int, button: int, modifiers: int) -> None:
        action = self.hits.at(x, y)
        if action != "filter":
            self.state.filter_focused = False
        if action is not None:
            self.act(action)


def render_screenshot(model: ReviewModel, basemap: Basemap, size_px: tuple[int, int], out: Path, *,
                      view: ReviewView | None = None) -> Path:
    """Draw one frame of ``view`` offscreen and save it as the PNG ``out``."""
    window = ReviewWindow(model, basemap, size_px, view=view, visible=False)
    try:
        window.on_draw()
        image = arcade.get_image(0, 0, *size_px)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(out)
    finally:
        window.close()
    return out


