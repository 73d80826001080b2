"""Draw a :class:`game.wall.board.Board`: the map on the left, the panels on the right.

:class:`BoardRenderer` knows nothing of the network: the live wall and the planner's
review window both hand it a board. The layout follows the window size (``scale`` is 1 at
1920x1080) with type large enough for the back of a room: the timer's digits are over
96 px tall at 1080p. The map keeps the area's proportions; everything else is cached (see
:mod:`game.wall._render_map` and :mod:`game.wall._render_panels`).

The live wall keeps its whole picture in a :class:`game.wall._render_map.Canvas`
(:meth:`BoardRenderer.paint`): the map and each card are parts of it, drawn again only
when what they show changes (a new board, the timer's next second), and a frame is one
copy of the canvas to the screen (:meth:`BoardRenderer.show`). A software renderer
(Mesa llvmpipe, a projector laptop with no GPU driver) then draws a 1080p wall in a
fraction of a frame. The review window draws straight to its screen (:meth:`draw_map`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from game.wall._layers import Canvas, clear_colour
from game.wall._render_map import MapPainter, support_colours
from game.wall._render_panels import (
    FONT,
    Part,
    Theme,
    draw_tallies,
    fit,
    format_timer,
    kpi_chips,
    load_fonts,
    qr_rects,
    text_width_px,
)
from game.wall.basemap import Basemap
from game.wall.colours import PHONES_COLOUR

__all__ = ["BoardRenderer", "Layout", "layout"]

Rect = tuple[int, int, int, int]  # left, bottom, width, height
_PHASE_WORDS = {"lobby": "Waiting to start", "explore": "Explore", "propose": "Propose", "vote": "Vote",
                "reveal": "Results", "closed": "Closed"}
#: How many of the leading proposals get a tag on the map.
_LABELLED = 5
_IDLE_WORDS = {"lobby": "Starting soon", "explore": "Explore freely", "propose": "Propose freely",
               "vote": "Voting is open", "reveal": "The results", "closed": "Thank you!"}
#: The panels' parts, each named as its rectangle in :class:`Layout`.
_SECTIONS = ("header", "timer", "join", "counts", "tallies", "ranking")


@dataclass(frozen=True)
class Layout:
    """Where each part goes in a window of ``size_px`` (rectangles: left, bottom, width, height)."""

    size_px: tuple[int, int]
    scale: float
    header: Rect
    map: Rect
    legend: Rect
    timer: Rect
    join: Rect | None
    counts: Rect
    tallies: Rect
    ranking: Rect
    controls: Rect | None

    def pt(self, size: float) -> float:
        """A font size in points, scaled to the window (never below 9 pt)."""
        return max(9.0, size * self.scale)

    def px(self, size: float) -> int:
        return max(1, round(size * self.scale))


def layout(size_px: tuple[int, int], area_m: tuple[float, float, float, float], *, join: bool,
           controls: bool) -> Layout:
    """The layout of a wall of ``size_px`` showing ``area_m``, with or without the join
    card and the facilitator's controls."""
    w, h = size_px
    s = min(w / 1920.0, h / 1080.0)
    m, gap = max(8, round(24 * s)), max(6, round(16 * s))
    header_h, legend_h = round(100 * s), round(40 * s)
    controls_h = round(104 * s) if controls else 0
    side = min(h - header_h - 2 * m - legend_h, int(w * 0.5))
    width_m, height_m = area_m[2] - area_m[0], area_m[3] - area_m[1]
    map_w, map_h = (side, round(side * height_m / width_m)) if width_m >= height_m else \
        (round(side * width_m / height_m), side)
    map_rect = (m, h - header_h - map_h, map_w, map_h)
    legend = (m, map_rect[1] - legend_h, map_w, legend_h)
    x0 = m + side + m
    pw = w - m - x0
    top = h - header_h
    block_h = round(250 * s)
    join_w = round(min(pw * 0.42, 400 * s)) if join else 0
    timer = (x0, top - block_h, pw - (join_w + gap if join else 0), block_h)
    join_rect = (x0 + pw - join_w, top - block_h, join_w, block_h) if join else None
    counts_h = round(88 * s)
    counts = (x0, timer[1] - gap - counts_h, pw, counts_h)
    bottom = m + (controls_h + gap if controls else 0)
    rest_h = counts[1] - gap - bottom
    tally_w = round(pw * 0.42)
    tallies = (x0, bottom, tally_w, rest_h)
    ranking = (x0 + tally_w + gap, bottom, pw - tally_w - gap, rest_h)
    return Layout(size_px, s, (m, top, w - 2 * m, header_h), map_rect, legend, timer, join_rect, counts, tallies,
                  ranking, (x0, m, pw, controls_h) if controls else None)


class BoardRenderer:
    """Draws boards into the current arcade window at ``size_px``; ``join_url`` adds the
    phones' QR code, ``controls`` keeps a strip free at the bottom right for the window's
    facilitator controls (see :attr:`layout`)."""

    def __init__(self, basemap: Basemap, size_px: tuple[int, int], *, lang: str = "en",
                 join_url: str | None = None, controls: bool = False) -> None:
        import arcade

        load_fonts()
        self.ctx = arcade.get_window().ctx
        self.basemap = basemap
        self.lang = lang
        self.join_url = join_url
        self.size_px = size_px
        self.layout = layout(size_px, basemap.area_m, join=join_url is not None, controls=controls)
        self.map_rect: Rect = self.layout.map
        # Each section and the legend keep their own text batch and boxes, so that each of
        # draw_map and draw_panels is whole on return (the review window draws one without
        # the other), and so that the canvas can draw one section again alone.
        self._parts = {name: Part(self.ctx) for name in _SECTIONS}
        self._legend_part = Part(self.ctx)
        self._map = MapPainter(self.ctx, basemap)
        self._qr = qr_rects(join_url, self._qr_square()) if join_url else ([], 0.0)
        self._canvas: Canvas | None = None
        # The timer's digits laid out once now and kept: FreeType takes ~10 ms to render one
        # glyph of that size, a dropped frame at each second that shows a digit the first time.
        self._digits = arcade.Text("0123456789:", 0, 0, font_size=round(self.layout.pt(118), 1), font_name=FONT,
                                   bold=True)

    def to_px(self, x_m: float, y_m: float) -> tuple[float, float]:
        """Window pixels of a point in local metres."""
        left, bottom, width, height = self.map_rect
        min_x, min_y, max_x, max_y = self.basemap.area_m
        return (left + (x_m - min_x) * width / (max_x - min_x), bottom + (y_m - min_y) * height / (max_y - min_y))

    def clear(self) -> None:
        """Clear the window to the theme's background (colour only: cheaper than ``Window.clear``)."""
        self.ctx.screen.use()
        clear_colour(Theme.background)

    def draw(self, board: Any, now: datetime) -> None:
        """The whole wall, map and panels, straight into the bound framebuffer."""
        self.draw_map(board)
        self.draw_panels(board, now)

    def draw_map(self, board: Any, *, highlight: set[str] | None = None, show_consensus: bool = True) -> None:
        """The basemap, the consensus cells and every proposal's interventions in its colour
        (those not in ``highlight`` dimmed, when given), with the legend under the map."""
        self._map.draw(board, self.map_rect, self.size_px, highlight=highlight, show_consensus=show_consensus)
        self._legend(board, highlight, show_consensus).draw(self.size_px)

    def draw_panels(self, board: Any, now: datetime) -> None:
        """Header, timer, join code, counters, tallies and ranking. ``now`` is the moment
        drawn (the timer itself is the board's ``timer_left_s``)."""
        for _name, _rect, part in self._sections(board):
            part.draw(self.size_px)

    def paint(self, board: Any, now: datetime, extra: Iterable[tuple[str, Rect, Part]] = ()) -> None:
        """Bring the canvas up to date with the whole wall for ``board`` and the window's
        ``extra`` parts (name, rectangle, filled part: the facilitator's controls), drawing
        again only the parts whose content changed; :meth:`show` puts it on the screen."""
        if self._canvas is None or self._canvas.size_px != self.ctx.window.get_framebuffer_size():
            self._canvas = Canvas(self.ctx, self.size_px, Theme.background)
        canvas = self._canvas
        left, bottom, width, height = self.map_rect
        picture = self._map.update(board, canvas.region(self.map_rect)[2:])
        legend = self._legend(board, None, True)

        def map_part() -> None:
            picture.copy_into(canvas, canvas.region(self.map_rect))
            legend.draw(self.size_px)

        # The map with its legend below (tags and attribution lie on the map).
        legend_bottom = self.layout.legend[1]
        if not canvas.paint("map", (left, legend_bottom, width, bottom + height - legend_bottom),
                            (self._map.redraws, legend.signature()), map_part):
            legend.drop()
        for name, rect, part in (*self._sections(board), *extra):
            if not canvas.paint(name, rect, part.signature(), functools.partial(part.draw, self.size_px)):
                part.drop()

    def show(self) -> None:
        """Copy the canvas (see :meth:`paint`) over the whole window."""
        if self._canvas is not None:
            self._canvas.show()

    # -- sections --------------------------------------------------------------------------------
    def _sections(self, board: Any) -> Iterator[tuple[str, Rect, Part]]:
        """Each panel section's name, rectangle and part, filled for ``board``."""
        for name in _SECTIONS:
            rect = getattr(self.layout, name)
            if rect is None or (name == "join" and self.join_url is None):
                continue
            part = self._parts[name]
            getattr(self, f"_{name}")(board, part)
            yield name, rect, part

    def _header(self, board: Any, part: Part) -> None:
        lay, t = self.layout, part.texts
        left, bottom, width, height = lay.header
        pill = _PHASE_WORDS.get(board.phase, board.phase.capitalize())
        if board.round_index:
            pill = f"Round {board.round_index} of {board.round_count} · {pill}"
        pill_size = lay.pt(26)
        pill_w = text_width_px(pill, pill_size, bold=True) + lay.px(40)
        x1 = left + width
        colour = Theme.phase.get(board.phase, Theme.muted)
        part.rects.add(x1 - pill_w, bottom + lay.px(30), x1, bottom + height - lay.px(14), colour)
        t.put("phase", pill, x1 - pill_w / 2, bottom + lay.px(30) + (height - lay.px(44)) / 2, pill_size,
              Theme.background, bold=True, anchor_x="center", anchor_y="center")
        extra = 0.0
        if board.locked:
            lock_w = lay.px(150)
            part.rects.add(x1 - pill_w - lay.px(12) - lock_w, bottom + lay.px(30), x1 - pill_w - lay.px(12),
                           bottom + height - lay.px(14), Theme.bad)
            t.put("locked", "LOCKED", x1 - pill_w - lay.px(12) - lock_w / 2, bottom + height / 2 + lay.px(8),
                  lay.pt(22), Theme.background, bold=True, anchor_x="center", anchor_y="center")
            extra = lock_w + lay.px(12)
        title_w = width - pill_w - extra - lay.px(30)
        t.put("title", fit(board.text(board.title, self.lang), lay.pt(34), title_w, bold=True), left,
              bottom + height - lay.px(50), lay.pt(34), Theme.ink, bold=True)
        t.put("code", f"Workshop {board.code}", left, bottom + lay.px(18), lay.pt(17), Theme.muted)

    def _timer(self, board: Any, part: Part) -> None:
        lay, t = self.layout, part.texts
        left, bottom, width, height = lay.timer
        _card(part, lay.timer)
        left_s = board.timer_left_s
        if left_s is None:
            # No round running: say where the workshop is instead of showing empty digits.
            words = "Round locked" if board.locked else _IDLE_WORDS.get(board.phase, "No timer running")
            t.put("timer.caption", "LOCKED" if board.locked else "NO TIMER RUNNING", left + lay.px(28),
                  bottom + height - lay.px(44), lay.pt(17), Theme.bad if board.locked else Theme.muted, bold=True)
            t.put("timer.idle", fit(words, lay.pt(44), width - lay.px(56), bold=True), left + width / 2,
                  bottom + height / 2 - lay.px(30), lay.pt(44), Theme.ink, bold=True, anchor_x="center")
            return
        if board.locked:
            caption, colour = "ROUND LOCKED", Theme.bad
        elif left_s <= 0:
            caption, colour = "TIME IS UP", Theme.bad
        else:
            caption, colour = "TIME LEFT IN THIS ROUND", Theme.warn if left_s <= 30 else Theme.ink
        t.put("timer.caption", caption, left + lay.px(28), bottom + height - lay.px(44), lay.pt(17),
              Theme.bad if board.locked else Theme.muted, bold=True)
        t.put("timer", format_timer(left_s), left + width / 2, bottom + lay.px(26), lay.pt(118), colour, bold=True,
              anchor_x="center")

    def _qr_square(self) -> tuple[float, float, float, float]:
        left, bottom, width, height = self.layout.join or (0, 0, 0, 0)
        side = min(width - self.layout.px(24), height - self.layout.px(70))
        return (left + (width - side) / 2, bottom + height - self.layout.px(12) - side, side, side)

    def _join(self, _board: Any, part: Part) -> None:
        lay = self.layout
        if lay.join is None or self.join_url is None:
            return
        left, bottom, width, _height = lay.join
        _card(part, lay.join)
        q_left, q_bottom, side, _ = self._qr_square()
        part.rects.add(q_left, q_bottom, q_left + side, q_bottom + side, (255, 255, 255, 255))
        for run in self._qr[0]:
            part.rects.add(*run, (0, 0, 0, 255))
        url = self.join_url.split("://", 1)[-1]
        part.texts.put("join.caption", "Join on your phone", left + width / 2, bottom + lay.px(34), lay.pt(16),
                       Theme.ink, bold=True, anchor_x="center")
        part.texts.put("join.url", fit(url, lay.pt(13), width - lay.px(16)), left + width / 2, bottom + lay.px(12),
                       lay.pt(13), Theme.muted, anchor_x="center")

    def _counts(self, board: Any, part: Part) -> None:
        lay = self.layout
        left, bottom, width, _height = lay.counts
        _card(part, lay.counts)
        items = (("participants", "phone joined", "phones joined"), ("kiosks", "kiosk", "kiosks"),
                 ("proposals", "proposal", "proposals"), ("votes", "vote", "votes"))
        cell = width / len(items)
        for index, (key, one, many) in enumerate(items):
            x = left + cell * index + lay.px(26)
            count = board.counts.get(key, 0)
            part.texts.put(f"count.{key}", f"{count:,}", x, bottom + lay.px(34), lay.pt(34), Theme.ink, bold=True)
            part.texts.put(f"count.{key}.label", one if count == 1 else many, x, bottom + lay.px(12), lay.pt(14),
                           Theme.muted)

    def _tallies(self, board: Any, part: Part) -> None:
        draw_tallies(self.layout, part.texts, part.rects, board, self.lang)

    def _ranking(self, board: Any, part: Part) -> None:
        lay, t = self.layout, part.texts
        left, bottom, width, height = lay.ranking
        _card(part, lay.ranking)
        pad = lay.px(20)
        y = bottom + height - lay.px(36)
        t.put("rank.title", "PROPOSALS BY VOTES", left + pad, y, lay.pt(15), Theme.muted, bold=True)
        if not board.ranking:
            t.put("rank.empty", "No proposals yet: the tables and phones add them in the propose round.",
                  left + pad, y - lay.px(40), lay.pt(15), Theme.faint, width=width - 2 * pad)
            return
        row_h = lay.px(62)
        rows = max(0, int((y - lay.px(12) - bottom) // row_h))
        top_share = max([p.share for p in board.ranking] + [1e-9])
        inner = width - 2 * pad
        for index, proposal in enumerate(board.ranking[:rows]):
            y_top = y - lay.px(14) - index * row_h
            base = y_top - lay.px(22)
            t.put(f"rank.{index}.n", str(index + 1), left + pad, base, lay.pt(18), Theme.muted, bold=True)
            sw = left + pad + lay.px(34)
            part.rects.add(sw, base - lay.px(1), sw + lay.px(18), base + lay.px(17), (*proposal.colour, 255))
            votes = f"{proposal.votes:,}"
            t.put(f"rank.{index}.votes", votes, left + pad + inner, base, lay.pt(18), Theme.ink, bold=True,
                  anchor_x="right")
            title_x = sw + lay.px(28)
            title_w = left + pad + inner - title_x - lay.px(24) - text_width_px(votes, lay.pt(18), bold=True)
            title = f"{proposal.id} · {proposal.title}" + (" (late)" if proposal.late else "")
            t.put(f"rank.{index}.title", fit(title, lay.pt(17), title_w, bold=True), title_x, base, lay.pt(17),
                  Theme.ink, bold=True)
            line = base - lay.px(26)
            bar_w = inner * 0.22
            part.rects.add(title_x, line, title_x + bar_w, line + lay.px(12), Theme.bar_track)
            part.rects.add(title_x, line, title_x + bar_w * proposal.share / top_share, line + lay.px(12),
                           (*proposal.colour, 255))
            t.put(f"rank.{index}.share", f"{proposal.share * 100:.0f} %", title_x + bar_w + lay.px(10), line,
                  lay.pt(13), Theme.muted)
            x = title_x + bar_w + lay.px(70)
            for c_index, (chip, good) in enumerate(kpi_chips(proposal.kpis)):
                colour = Theme.muted if good is None else Theme.good if good else Theme.bad
                room = left + pad + inner - x
                if room < lay.px(60):
                    break
                slot = t.put(f"rank.{index}.kpi{c_index}", fit(chip, lay.pt(13), room), x, line, lay.pt(13), colour)
                x += slot.content_width + lay.px(18)

    def _labels(self, board: Any, highlight: set[str] | None, part: Part) -> None:
        """Tags on the map naming the leading proposals (and the highlighted ones), so the
        room can find the ranking's first lines on the map."""
        lay, t = self.layout, part.texts
        chosen = [p for p in board.ranking if highlight is not None and p.id in highlight]
        if highlight is None:
            chosen = board.ranking[:_LABELLED]
        size = lay.pt(12)
        left, bottom, width, height = self.map_rect
        for proposal in chosen[:2 * _LABELLED]:
            anchor = self._map.anchor_m(proposal)
            if anchor is None:
                continue
            x, y = self.to_px(*anchor)
            tag_w, tag_h = lay.px(14) + text_width_px(proposal.id, size, bold=True), lay.px(22)
            x = min(max(x, left + tag_w / 2), left + width - tag_w / 2)
            y = min(max(y + lay.px(14), bottom), bottom + height - tag_h)
            part.rects.add(x - tag_w / 2, y, x + tag_w / 2, y + tag_h, (12, 13, 16, 255))
            part.rects.add(x - tag_w / 2, y, x + tag_w / 2, y + lay.px(3), (*proposal.colour, 255))
            t.put(f"label.{proposal.id}", proposal.id, x, y + tag_h / 2 + lay.px(1), size, Theme.ink, bold=True,
                  anchor_x="center", anchor_y="center")

    def _legend(self, board: Any, highlight: set[str] | None, show_consensus: bool) -> Part:
        """The legend under the map and the tags on it (see :meth:`_labels`), filled."""
        part = self._legend_part
        lay, t = self.layout, part.texts
        left, bottom, width, _height = lay.legend
        y = bottom + lay.px(12)
        x = float(left)
        entries = [(k["name"] or k["id"], k["colour"]) for k in board.kiosks if not k.get("revoked")]
        if any(p.kiosk is None for p in board.ranking) or not entries:
            entries.append(("phones", PHONES_COLOUR))
        size = lay.pt(13)
        room_right = left + width - (lay.px(250) if show_consensus else 0)
        for index, (name, colour) in enumerate(entries):
            words = fit(name, size, lay.px(180))
            need = lay.px(24) + text_width_px(words, size)
            if x + need > room_right:
                break
            part.rects.add(x, y - lay.px(1), x + lay.px(14), y + lay.px(13), (*colour, 255))
            t.put(f"legend.{index}", words, x + lay.px(20), y, size, Theme.muted)
            x += need + lay.px(14)
        if show_consensus:
            ramp_l = left + width - lay.px(120)
            steps = 12
            step_w = lay.px(120) / steps
            colours = support_colours(np.linspace(0.0, 1.0, steps))
            for k in range(steps):
                part.rects.add(ramp_l + k * step_w, y - lay.px(1), ramp_l + (k + 1) * step_w, y + lay.px(13),
                               tuple(int(c) for c in colours[k][:3]) + (255,))
            t.put("legend.support", "support", ramp_l - lay.px(10), y, size, Theme.muted, anchor_x="right")
        attribution = " · ".join(self.basemap.attribution)
        if attribution:
            t.put("legend.attribution", fit(attribution, lay.pt(11), width), left + width,
                  lay.map[1] + lay.px(6), lay.pt(11), (200, 204, 212, 255), anchor_x="right")
        self._labels(board, highlight, part)
        return part


def _card(part: Part, rect: Rect, colour: tuple[int, ...] = Theme.card) -> None:
    left, bottom, width, height = rect
    part.rects.add(left, bottom, left + width, bottom + height, colour)

