"""The wall's panels: header, timer, join QR code, counters, tallies and ranking.

Each section is a :class:`Part`: its text is a set of cached :class:`arcade.Text` objects in
one pyglet batch (:class:`TextSlots`), a slot created once and changed only when its
words, place or colour change, so a frame that shows the same board re-lays out no text
at all; its boxes, bars and swatches are rectangles collected per frame and uploaded to
one :class:`Mesh` only when they differ. What a part put in a frame is its signature: the
wall keeps each part's picture and draws the part again only when that changes.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from game.wall._render_map import Mesh, quads

__all__ = ["FONT", "Part", "Rects", "TextSlots", "Theme", "draw_tallies", "fit", "format_timer", "kpi_chips",
           "qr_rects", "text_width_px"]

FONT = "DejaVu Sans"
_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
_FONT_FILES = (f"{_FONT_DIR}/DejaVuSans.ttf", f"{_FONT_DIR}/DejaVuSans-Bold.ttf")

RGBA = tuple[int, int, int, int]


class Theme:
    """The dark projector theme: a near-black background, light ink, one accent per meaning."""

    background = (18, 20, 24, 255)
    card = (30, 33, 40, 255)
    card_raised = (44, 48, 58, 255)
    ink = (242, 242, 236, 255)
    muted = (150, 156, 168, 255)
    faint = (96, 102, 114, 255)
    good = (92, 204, 140, 255)
    bad = (240, 112, 96, 255)
    warn = (246, 196, 72, 255)
    bar = (120, 170, 230, 255)
    bar_track = (46, 50, 60, 255)
    phase: ClassVar[dict[str, RGBA]] = {
        "lobby": (120, 126, 140, 255), "explore": (86, 180, 233, 255), "propose": (246, 196, 72, 255),
        "vote": (92, 204, 140, 255), "reveal": (232, 140, 220, 255), "closed": (120, 126, 140, 255)}


def load_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with pyglet, once."""
    import arcade

    for path in _FONT_FILES:
        with contextlib.suppress(FileNotFoundError, OSError):  # pyglet falls back to a system font
            arcade.load_font(path)


@functools.lru_cache(maxsize=32)
def _advances(size_pt: float, bold: bool) -> tuple[Any, dict[str, float]]:
    """The pyglet font at ``size_pt`` and a cache of its characters' advances in pixels."""
    import pyglet

    return pyglet.font.load(FONT, size_pt, weight="bold" if bold else "normal"), {}


def text_width_px(text: str, size_pt: float, *, bold: bool = False) -> float:
    """About how wide ``text`` is drawn at ``size_pt`` (the sum of its characters' advances;
    needs a GL context, as the glyphs are rendered to be measured)."""
    font, known = _advances(round(size_pt, 1), bold)
    width = 0.0
    for char in text:
        advance = known.get(char)
        if advance is None:
            glyphs, _ = font.get_glyphs(char)
            advance = known[char] = float(sum(g.advance for g in glyphs))
        width += advance
    return width


@functools.lru_cache(maxsize=4096)
def fit(text: str, size_pt: float, width_px: float, *, bold: bool = False, lines: int = 1) -> str:
    """``text``, cut with an ellipsis where it would pass ``width_px`` at ``size_pt``
    (about ``lines`` wrapped lines of it: wrapping loses some width at word ends)."""
    limit = width_px * lines * (0.9 if lines > 1 else 1.0)
    if text_width_px(text, size_pt, bold=bold) <= limit:
        return text
    room = limit - text_width_px("…", size_pt, bold=bold)
    used, cut = 0.0, 0
    for index, char in enumerate(text):
        used += text_width_px(char, size_pt, bold=bold)
        if used > room:
            break
        cut = index + 1
    return text[:cut].rstrip() + "…"


def format_timer(left_s: float | None) -> str:
    """``mm:ss`` (``h:mm:ss`` from an hour), ``--:--`` with no timer; counts whole seconds up
    (a round with 0.4 s left still shows 00:01).

    >>> format_timer(299.2), format_timer(3725), format_timer(None)
    ('05:00', '1:02:05', '--:--')
    """
    if left_s is None:
        return "--:--"
    whole = max(0, math.ceil(left_s - 1e-6))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


#: Short names, units and the better direction of the simulations' KPIs (sims/*.py).
_KPIS: dict[str, tuple[str, str, str, float]] = {
    # name: (label, unit of the delta, better, a typical notable change for ranking them)
    "shade_public_pct": ("shade", "pts", "higher", 1.0),
    "shade_public_m2": ("shaded area", "m²", "higher", 100.0),
    "seats_in_shade": ("seats in shade", "", "higher", 1.0),
    "utci_mean_c": ("heat stress", "°C", "lower", 0.1),
    "strong_heat_pct": ("strong heat", "pts", "lower", 1.0),
    "homes_3_trees_pct": ("homes seeing 3 trees", "pts", "higher", 1.0),
    "homes_30_canopy_pct": ("homes with 30 % canopy", "pts", "higher", 1.0),
    "homes_300_park_pct": ("homes 300 m from a park", "pts", "higher", 1.0),
    "homes_3_30_300_pct": ("3-30-300 homes", "pts", "higher", 1.0),
    "runoff_m3": ("runoff", "m³", "lower", 5.0),
    "rain_retained_pct": ("rain held", "pts", "higher", 1.0),
    "homes_above_55db_pct": ("homes over 55 dB", "pts", "lower", 1.0),
    "facade_lden_mean_db": ("facade noise", "dB", "lower", 0.5),
}


def kpi_chips(kpis: dict[str, float], most: int = 2) -> list[tuple[str, bool | None]]:
    """The ``most`` notable KPI changes of a proposal as short texts, each with whether it
    is an improvement (None when the direction is unknown); improvements first, then the
    larger changes against a typical notable change of each KPI.

    >>> kpi_chips({"utci_mean_c": -0.31, "shade_public_pct": 2.5, "runoff_m3": 0.0, "noise_db": 1.0})
    [('heat stress −0.31 °C', True), ('shade +2.5 pts', True)]
    >>> kpi_chips({"runoff_m3": 12.0, "noise_db": 1.0}, most=3)
    [('runoff +12.0 m³', False), ('noise db +1.0', None)]
    """
    chips = []
    for name, delta in kpis.items():
        if not delta or not math.isfinite(delta):
            continue
        label, unit, better, typical = _KPIS.get(name, (name.replace("_", " "), "", "", 1.0))
        digits = 2 if abs(delta) < 1 else 1 if abs(delta) < 100 else 0
        number = f"{delta:+.{digits}f}".replace("-", "−")
        good = None if not better else (delta > 0) == (better == "higher")
        chips.append((abs(delta) / typical, f"{label} {number}{' ' + unit if unit else ''}", good))
    chips.sort(key=lambda c: (c[2] is not True, -c[0]))
    return [(text, good) for _, text, good in chips[:most]]


def qr_rects(text: str, rect: tuple[float, float, float, float]) -> tuple[list[tuple[float, float, float, float]],
                                                                          float]:
    """The dark modules of ``text``'s QR code (error correction M, 4-module quiet zone)
    as rectangles filling the square ``rect`` (left, bottom, side, side), one per run of
    dark modules in a row; and the module size in pixels."""
    import segno

    matrix = np.asarray([list(row) for row in segno.make(text, error="m").matrix], dtype=bool)
    n = matrix.shape[0] + 8
    left, bottom, side, _ = rect
    module = math.floor(side / n) or 1
    x0 = left + (side - module * n) / 2 + 4 * module
    top = bottom + side - (side - module * n) / 2 - 4 * module
    runs = []
    for row_index, row in enumerate(matrix):
        padded = np.concatenate([[False], row, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        y1 = top - row_index * module
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            runs.append((x0 + start * module, y1 - module, x0 + stop * module, y1))
    return runs, float(module)


class TextSlots:
    """Named, cached text objects in one batch; :meth:`put` shows a slot this frame."""

    def __init__(self) -> None:
        import pyglet

        self.batch = pyglet.graphics.Batch()
        self._slots: dict[str, Any] = {}
        self._shown: dict[str, tuple[Any, ...]] = {}  # what was put this frame, by slot
        self._visible: set[str] = set()

    def put(self, key: str, text: str, x: float, y: float, size_pt: float, colour: Sequence[int], *,
            bold: bool = False, anchor_x: str = "left", anchor_y: str = "baseline",
            width: float | None = None) -> Any:
        """Show ``text`` in slot ``key`` this frame (wrapped at ``width`` pixels when given)."""
        import arcade

        slot = self._slots.get(key)
        rgba = (int(colour[0]), int(colour[1]), int(colour[2]), int(colour[3]) if len(colour) == 4 else 255)
        size_pt = round(size_pt, 1)
        x, y = round(x), round(y)
        self._shown[key] = (text, x, y, size_pt, rgba, bold, anchor_x, anchor_y, width)
        if slot is None:
            slot = self._slots[key] = arcade.Text(
                text, x, y, rgba, size_pt, font_name=FONT, bold=bold, anchor_x=anchor_x, anchor_y=anchor_y,
                multiline=width is not None, width=int(width) if width is not None else None, batch=self.batch)
        else:
            if slot.text != text:
                slot.text = text
            if slot.font_size != size_pt:
                slot.font_size = size_pt
            if (slot.x, slot.y) != (x, y):
                slot.position = (x, y)
            if tuple(slot.color) != rgba:
                slot.color = rgba
            if width is not None and slot.width != int(width):
                slot.width = int(width)
        if key not in self._visible:
            slot.visible = True
            self._visible.add(key)
        return slot

    def hide(self, key: str) -> None:
        """Take back a :meth:`put` of this frame."""
        self._shown.pop(key, None)

    def signature(self) -> tuple[Any, ...]:
        """What was put this frame (equal signatures draw the same)."""
        return tuple(self._shown.items())

    def finish(self) -> None:
        """End the frame without drawing: hide the slots not put since the last frame."""
        for key in self._visible - self._shown.keys():
            self._slots[key].visible = False
        self._visible = set(self._shown)
        self._shown = {}

    def draw(self) -> None:
        """:meth:`finish` the frame, then draw the batch."""
        self.finish()
        self.batch.draw()


class Rects:
    """Rectangles collected for a frame, uploaded to the GPU only when they changed."""

    def __init__(self, ctx: Any) -> None:
        self._mesh = Mesh(ctx)
        self._items: list[tuple[tuple[float, float, float, float], tuple[int, ...]]] = []
        self._uploaded: list[Any] | None = None
        self._opaque = True

    def add(self, left: float, bottom: float, right: float, top: float, colour: Sequence[int]) -> None:
        if right > left and top > bottom:
            self._items.append(((left, bottom, right, top), tuple(colour)))

    def signature(self) -> tuple[Any, ...]:
        """The rectangles added this frame."""
        return tuple(self._items)

    def discard(self) -> None:
        """End the frame without drawing."""
        self._items = []

    def draw(self, window_px: tuple[int, int]) -> None:
        if self._items != self._uploaded:
            self._mesh.set(*quads([r for r, _ in self._items], [c for _, c in self._items]))
            self._uploaded = self._items
            self._opaque = all(len(c) < 4 or c[3] == 255 for _, c in self._items)
        self._items = []
        w, h = window_px
        # Blending costs a software renderer dearly over large cards: skip it when every box is opaque.
        self._mesh.draw((2.0 / w, 2.0 / h), (-1.0, -1.0), blend=not self._opaque)


class Part:
    """A region of the wall with its own boxes and texts (the header, a card, the controls).
    Each frame puts what the region shows, then draws it (:meth:`draw`) or, where a kept
    picture of the region still shows the same :meth:`signature`, drops it (:meth:`drop`)."""

    def __init__(self, ctx: Any) -> None:
        self.texts, self.rects = TextSlots(), Rects(ctx)

    def signature(self) -> tuple[Any, ...]:
        return self.rects.signature(), self.texts.signature()

    def draw(self, window_px: tuple[int, int]) -> None:
        """The boxes, then the texts over them, into the bound framebuffer."""
        self.rects.draw(window_px)
        self.texts.draw()

    def drop(self) -> None:
        self.rects.discard()
        self.texts.finish()


def draw_tallies(lay: Any, t: TextSlots, rects: Rects, board: Any, lang: str) -> None:
    """The tally card: each choice and score question (the one on the phones now first)
    with its answers' counts, as many as fit."""
    left, bottom, width, height = lay.tallies
    rects.add(left, bottom, left + width, bottom + height, Theme.card)
    pad = lay.px(20)
    y = bottom + height - lay.px(36)
    final = board.phase in ("reveal", "closed")
    t.put("tally.title", "RESULTS" if final else "LIVE TALLY", left + pad, y, lay.pt(15), Theme.muted, bold=True)
    shown = [q for q in board.questions if q.kind != "proposal"]
    shown.sort(key=lambda q: q.id != board.current_question)
    row_h, inner = lay.px(32), width - 2 * pad
    y -= lay.px(18)
    for q_index, question in enumerate(shown):
        now_on = question.id == board.current_question
        text = fit(("▶ " if now_on else "") + board.text(question.text, lang), lay.pt(15), inner,
                   bold=True, lines=2)
        slot = t.put(f"tally.{q_index}.q", text, left + pad, y, lay.pt(15), Theme.warn if now_on else Theme.ink,
                     bold=True, width=inner, anchor_y="top")
        text_h = slot.content_height
        rows_h = lay.px(96) if question.kind == "score" else row_h * len(question.rows)
        if y - text_h - lay.px(8) - rows_h < bottom:
            t.hide(f"tally.{q_index}.q")
            break
        y -= text_h + lay.px(8)
        if question.kind == "score":
            _score_columns(lay, t, rects, question, q_index, left + pad, y - rows_h, inner, rows_h)
        else:
            _choice_rows(lay, t, rects, board.text, lang, question, q_index, left + pad, y, inner, row_h)
        y -= rows_h + lay.px(22)

def _choice_rows(lay: Any, t: TextSlots, rects: Rects, text_in: Any, lang: str, question: Any, q_index: int,
                 x: float, y: float, inner: float, row_h: int) -> None:
    """One row per answer under ``y``: its label, a bar scaled to the top answer, the count."""
    top_count = max([r.count for r in question.rows] + [1])
    label_w = inner * 0.55
    bar_l, bar_r = x + label_w, x + inner - lay.px(52)
    for r_index, row in enumerate(question.rows):
        y -= row_h
        label = text_in(row.label, lang)
        t.put(f"tally.{q_index}.{r_index}", fit(label, lay.pt(14), label_w - lay.px(8)), x, y + lay.px(9),
              lay.pt(14), Theme.ink)
        rects.add(bar_l, y + lay.px(6), bar_r, y + row_h - lay.px(6), Theme.bar_track)
        rects.add(bar_l, y + lay.px(6), bar_l + (bar_r - bar_l) * row.count / top_count,
                       y + row_h - lay.px(6), Theme.bar)
        t.put(f"tally.{q_index}.{r_index}.n", str(row.count), x + inner, y + lay.px(9), lay.pt(14),
              Theme.ink, bold=True, anchor_x="right")

def _score_columns(lay: Any, t: TextSlots, rects: Rects, question: Any, q_index: int, x: float, bottom: float,
                   inner: float, height: int) -> None:
    """A score question as five columns (1..5) over ``bottom``, with the mean beside them."""
    top_count = max([r.count for r in question.rows] + [1])
    columns_w = inner * 0.62
    cell = columns_w / max(1, len(question.rows))
    bar_bottom, bar_top = bottom + lay.px(24), bottom + height - lay.px(22)
    for r_index, row in enumerate(question.rows):
        cx = x + cell * r_index
        bar_h = (bar_top - bar_bottom) * row.count / top_count
        rects.add(cx + lay.px(4), bar_bottom, cx + cell - lay.px(4), bar_top, Theme.bar_track)
        rects.add(cx + lay.px(4), bar_bottom, cx + cell - lay.px(4), bar_bottom + bar_h, Theme.bar)
        t.put(f"tally.{q_index}.{r_index}", row.key, cx + cell / 2, bottom + lay.px(4), lay.pt(13),
              Theme.muted, anchor_x="center")
        t.put(f"tally.{q_index}.{r_index}.n", str(row.count), cx + cell / 2, bar_top + lay.px(4),
              lay.pt(12), Theme.ink, bold=True, anchor_x="center")
    scores = [(float(r.key), r.count) for r in question.rows if r.key.isdigit()]
    answers = sum(n for _, n in scores)
    mean = f"{sum(v * n for v, n in scores) / answers:.1f}" if answers else "–"
    side_x = x + columns_w + lay.px(16)
    t.put(f"tally.{q_index}.mean", mean, side_x, bottom + height / 2, lay.pt(34), Theme.ink, bold=True)
    t.put(f"tally.{q_index}.mean.label", f"mean of {answers:,}", side_x, bottom + height / 2 - lay.px(26),
          lay.pt(13), Theme.muted)
