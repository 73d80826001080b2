"""The review window's panels: header with the moment and question steppers, the tally of
the chosen question, the filter field, the proposal list, one proposal's detail and the
comparison of two, and the footer with the keys.

Each panel draws into a rectangle it is given and registers its clickable buttons in a
:class:`Hits` list, so the window needs no second layout to answer a click. Text goes
through :class:`Texts`, which keeps one ``arcade.Text`` per slot and touches it only
when the words, place or colour change (pyglet re-lays out text on every change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import arcade

from game.kiosk.i18n import format_eur, format_number
from game.wall.board import Board, QuestionTally, RankedProposal
from game.wall.review import Comparison, ProposalDetail, kiosk_label

__all__ = ["INK", "DIM", "PANEL", "Rect", "Hits", "Texts", "load_fonts", "draw_header", "draw_tally",
           "draw_filter", "draw_list", "draw_detail", "draw_compare", "draw_footer"]

Rect = tuple[float, float, float, float]   # left, bottom, width, height in pixels
RGB = tuple[int, int, int]

INK: RGB = (232, 234, 238)
DIM: RGB = (150, 156, 168)
PANEL: RGB = (30, 33, 40)
_ROW_ALT: RGB = (36, 40, 48)
_BUTTON: RGB = (52, 58, 70)
_ACCENT: RGB = (86, 180, 233)
_BETTER: RGB = (0, 170, 125)
_WORSE: RGB = (230, 110, 30)
_LATE: RGB = (240, 228, 66)
_FONT = "DejaVu Sans"
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_VERDICT = {"better": ("✓", _BETTER), "worse": ("✗", _WORSE), "same": ("", DIM), "unknown": ("", INK)}


def load_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with pyglet when the system has it."""
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        if (_FONT_DIR / name).is_file():
            arcade.load_font(str(_FONT_DIR / name))


@dataclass
class Hits:
    """The buttons drawn this frame: (rectangle, action) in draw order, topmost last."""

    buttons: list[tuple[Rect, str]] = field(default_factory=list)

    def add(self, rect: Rect, action: str) -> None:
        self.buttons.append((rect, action))

    def at(self, x: float, y: float) -> str | None:
        for (left, bottom, width, height), action in reversed(self.buttons):
            if left <= x <= left + width and bottom <= y <= bottom + height:
                return action
        return None


class Texts:
    """One cached ``arcade.Text`` per slot name; :meth:`draw` updates only what changed."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._texts: dict[str, arcade.Text] = {}
        self._fits: dict[tuple[str, float, float, bool], str] = {}

    def draw(self, slot: str, text: str, x: float, y: float, *, size: float = 13.0, colour: RGB = INK,
             bold: bool = False, anchor_x: str = "left", width_px: float | None = None) -> float:
        """Draw ``text`` vertically centred on ``y`` (anchored ``anchor_x`` at ``x``),
        shortened with "…" to ``width_px``; returns the drawn width in pixels."""
        size_pt = size * self.scale
        x, y = round(x), round(y)  # whole pixels: glyphs stay sharp and whole
        label = self._texts.get(slot)
        if label is None:
            label = self._texts[slot] = arcade.Text(text, x, y, colour, size_pt, font_name=_FONT, bold=bold,
                                                    anchor_x=anchor_x, anchor_y="center")
        if label.font_size != size_pt:
            label.font_size = size_pt
        if label.bold != bold:
            label.bold = bold
        if width_px is not None:
            text = self._fit(label, text, width_px)
        if label.text != text:
            label.text = text
        if (label.x, label.y) != (x, y):
            label.position = (x, y)
        if tuple(label.color[:3]) != colour:
            label.color = colour
        if label.anchor_x != anchor_x:
            label.anchor_x = anchor_x
        label.draw()
        return float(label.content_width)

    def draw_lines(self, slot: str, text: str, x: float, y: float, *, width_px: float, most: int,
                   size: float = 13.0, colour: RGB = INK, bold: bool = False, line_px: float = 20.0) -> float:
        """Draw ``text`` word-wrapped to ``width_px`` in at most ``most`` lines (the last
        one shortened with "…"), the first centred on ``y``; returns the ``y`` of the last."""
        words, lines = text.split(), []
        probe = self._probe(size, bold)
        while words and len(lines) < most - 1:
            count = 1
            while count < len(words):
                probe.text = " ".join(words[:count + 1])
                if probe.content_width > width_px:
                    break
                count += 1
            lines.append(" ".join(words[:count]))
            words = words[count:]
        if words:
            lines.append(" ".join(words))
        for index, line in enumerate(lines or [""]):
            self.draw(f"{slot}.{index}", line, x, y - index * line_px * self.scale, size=size, colour=colour,
                      bold=bold, width_px=width_px)
        return y - (max(1, len(lines)) - 1) * line_px * self.scale

    def _probe(self, size: float, bold: bool) -> arcade.Text:
        """A label that is never drawn, for measuring words at ``size`` points."""
        key = f"_probe.{size}.{bold}"
        probe = self._texts.get(key)
        if probe is None:
            probe = self._texts[key] = arcade.Text("", 0, 0, INK, size * self.scale, font_name=_FONT, bold=bold)
        return probe

    def _fit(self, label: arcade.Text, text: str, width_px: float) -> str:
        """The longest head of ``text`` (with "…") that ``label``'s font sets within
        ``width_px``, measured once per text, width and font."""
        key = (text, round(width_px), label.font_size, bool(label.bold))
        fitted = self._fits.get(key)
        if fitted is not None:
            return fitted
        if len(self._fits) > 4000:
            self._fits.clear()
        label.text = text
        if label.content_width <= width_px:
            fitted = text
        else:
            low, high = 0, len(text) - 1   # heads of ``low`` letters fit; of ``high + 1`` do not
            while low < high:
                middle = (low + high + 1) // 2
                label.text = text[:middle].rstrip() + "…"
                low, high = (middle, high) if label.content_width <= width_px else (low, middle - 1)
            fitted = text[:low].rstrip() + "…"
        self._fits[key] = fitted
        return fitted


def _box(rect: Rect, colour: RGB) -> None:
    left, bottom, width, height = rect
    arcade.draw_lrbt_rectangle_filled(left, left + width, bottom, bottom + height, colour)


def _button(texts: Texts, hits: Hits, slot: str, rect: Rect, label: str, action: str, *,
            active: bool = True, on: bool = False) -> None:
    left, bottom, width, height = rect
    _box(rect, _ACCENT if on else _BUTTON)
    texts.draw(slot, label, left + width / 2, bottom + height / 2, size=12, anchor_x="center",
               colour=(15, 18, 24) if on else (INK if active else DIM), width_px=width - 8)
    if active:
        hits.add(rect, action)


def _count(n: int, noun: str) -> str:
    """A number with its English noun: "1 vote", "2 votes"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _percent(share: float, lang: str) -> str:
    return format_number(100.0 * share, lang, decimals=0) + ("%" if lang == "en" else "\u00a0%")


def draw_header(texts: Texts, hits: Hits, rect: Rect, board: Board, *, lang: str, moment_label: str,
                moment_index: int, moment_count: int, question: QuestionTally | None, question_index: int) -> None:
    """Title, code, the moment stepper (◀ ▶), the question stepper (▲ ▼) and Export."""
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, PANEL)
    top_y, low_y = bottom + height * 0.70, bottom + height * 0.28
    texts.draw("head.title", board.text(board.title, lang), left + 16 * s, top_y, size=17, bold=True,
               width_px=width * 0.40)
    texts.draw("head.code", f"Workshop {board.code} · review", left + 16 * s, low_y, size=12, colour=DIM)
    button_w, button_h = 34 * s, height * 0.40
    x = left + width * 0.43
    _button(texts, hits, "head.prev", (x, low_y - button_h / 2, button_w, button_h), "◀", "moment-",
            active=moment_index > 0)
    _button(texts, hits, "head.next", (x + button_w + 6 * s, low_y - button_h / 2, button_w, button_h), "▶",
            "moment+", active=moment_index < moment_count - 1)
    texts.draw("head.moment.n", f"Moment {moment_index + 1} of {moment_count}  (← →)", x, top_y, size=11,
               colour=DIM)
    texts.draw("head.moment", moment_label, x + 2 * button_w + 16 * s, low_y, size=13, bold=True,
               width_px=width * 0.25)
    qx = left + width * 0.74
    count = len(board.questions)
    _button(texts, hits, "head.qprev", (qx, low_y - button_h / 2, button_w, button_h), "▲", "question-",
            active=count > 1)
    _button(texts, hits, "head.qnext", (qx + button_w + 6 * s, low_y - button_h / 2, button_w, button_h), "▼",
            "question+", active=count > 1)
    texts.draw("head.question.n", f"Question {question_index + 1} of {count}  (Q ↑ ↓)" if question else "No questions",
               qx, top_y, size=11, colour=DIM)
    texts.draw("head.question", question.id if question else "", qx + 2 * button_w + 16 * s, low_y, size=13,
               bold=True, width_px=width * 0.10)
    export_w = 96 * s
    _button(texts, hits, "head.export", (left + width - export_w - 14 * s, bottom + (height - button_h) / 2,
                                         export_w, button_h), "Export (E)", "export")


def draw_tally(texts: Texts, rect: Rect, board: Board, question: QuestionTally | None, *, lang: str,
               colours: dict[str, RGB]) -> None:
    """The chosen question's text and one bar per answer."""
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, PANEL)
    if question is None:
        texts.draw("tally.q", "This workshop asked no questions.", left + 12 * s, bottom + height / 2, colour=DIM)
        return
    y = texts.draw_lines("tally.q", board.text(question.text, lang), left + 12 * s, bottom + height - 18 * s,
                         width_px=width - 24 * s, most=2, size=13, bold=True)
    summary = f"{_count(question.total, 'vote')} · {question.kind} question"
    if question.kind == "score" and question.total:
        mean = sum(int(r.key) * r.count for r in question.rows if r.key.isdigit()) / question.total
        summary += f" · mean score {format_number(mean, lang, decimals=1)}"
    texts.draw("tally.total", summary, left + 12 * s, y - 20 * s, size=11, colour=DIM)
    rows = question.rows[:8]
    top = y - 32 * s
    row_h = min(22 * s, (top - bottom - 6 * s) / max(1, len(rows)))
    bar_x = left + width * 0.44
    label_w, bar_w = bar_x - left - 22 * s, left + width - 80 * s - bar_x
    most = max((r.count for r in rows), default=0) or 1
    for i, row in enumerate(rows):
        y = top - (i + 0.5) * row_h
        label = board.text(row.label, lang) or row.key
        texts.draw(f"tally.{i}.label", f"{row.key}  {label}" if question.kind == "proposal" else label,
                   left + 12 * s, y, size=11, width_px=label_w)
        colour = colours.get(row.key, _ACCENT)
        if row.count:
            arcade.draw_lrbt_rectangle_filled(bar_x, bar_x + bar_w * row.count / most, y - row_h * 0.32,
                                              y + row_h * 0.32, colour)
        share = row.count / question.total if question.total else 0.0
        texts.draw(f"tally.{i}.n", f"{row.count}  {_percent(share, lang)}", left + width - 12 * s, y, size=11,
                   anchor_x="right", colour=INK if row.count else DIM)


def draw_filter(texts: Texts, hits: Hits, rect: Rect, text: str, *, focused: bool, shown: int, total: int) -> None:
    """The filter field: click or "/" to type, Enter to keep, Esc to clear."""
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, (44, 50, 62) if focused else PANEL)
    if focused:
        arcade.draw_lrbt_rectangle_outline(left, left + width, bottom, bottom + height, _ACCENT, 2)
    hint = "type to filter by title or kiosk; Enter keeps, Esc clears" if focused else "Filter (/)…"
    shown_text = (text + "▏") if focused else text
    texts.draw("filter.text", shown_text or hint, left + 12 * s, bottom + height / 2, size=13,
               colour=INK if shown_text else DIM, width_px=width * 0.70)
    texts.draw("filter.count", f"{shown} of {total} proposals", left + width - 12 * s, bottom + height / 2, size=11,
               colour=DIM, anchor_x="right")
    hits.add(rect, "filter")


def draw_list(texts: Texts, hits: Hits, rect: Rect, board: Board, visible: Sequence[RankedProposal], *,
              lang: str, selected: Sequence[str], opened: str | None) -> None:
    """The ranked proposals passing the filter: click a row to open it, its box to pick it for comparing."""
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, PANEL)
    row_h = 44 * s
    texts.draw("list.head", "Proposals, most votes first: click (or 1–9) to open, tick two and press C to compare",
               left + 12 * s, bottom + height - 14 * s, size=10, colour=DIM, width_px=width - 24 * s)
    if not visible:
        texts.draw("list.empty", "No proposal matches the filter." if board.ranking else "No proposals yet.",
                   left + 12 * s, bottom + height - 48 * s, colour=DIM)
        return
    most_rows = int((height - 28 * s) // row_h)
    for i, proposal in enumerate(visible[:most_rows]):
        top = bottom + height - 28 * s - i * row_h
        row: Rect = (left, top - row_h, width, row_h)
        if proposal.id == opened:
            _box(row, (48, 60, 78))
        elif i % 2:
            _box(row, _ROW_ALT)
        arcade.draw_lrbt_rectangle_filled(left + 8 * s, left + 14 * s, top - row_h + 6 * s, top - 6 * s,
                                          proposal.colour)
        mid = top - row_h / 2
        hits.add(row, f"open:{proposal.id}")
        tick: Rect = (left + 22 * s, mid - 9 * s, 18 * s, 18 * s)
        ticked = proposal.id in selected
        _box(tick, _ACCENT if ticked else _BUTTON)
        texts.draw(f"list.{i}.tick", "✓" if ticked else "", tick[0] + 9 * s, mid, size=11, anchor_x="center",
                   colour=(15, 18, 24))
        hits.add(tick, f"select:{proposal.id}")
        x = left + 50 * s
        flags = " · sent late" if proposal.late else ""
        texts.draw(f"list.{i}.title", f"{i + 1}. {proposal.id}  {proposal.title or '(untitled)'}", x,
                   mid + 8 * s, size=13, bold=True, width_px=width - 180 * s)
        texts.draw(f"list.{i}.from", f"{kiosk_label(proposal.kiosk, board.kiosks)} · "
                   f"{_count(len(proposal.interventions), 'intervention')}{flags}", x, mid - 10 * s, size=10,
                   colour=_LATE if proposal.late else DIM, width_px=width - 180 * s)
        bar_left, bar_w = left + width - 120 * s, 70 * s
        arcade.draw_lrbt_rectangle_filled(bar_left, bar_left + bar_w, mid - 4 * s, mid + 4 * s, _BUTTON)
        if proposal.share > 0:
            arcade.draw_lrbt_rectangle_filled(bar_left, bar_left + bar_w * proposal.share, mid - 4 * s,
                                              mid + 4 * s, proposal.colour)
        texts.draw(f"list.{i}.votes", f"{proposal.votes}", left + width - 12 * s, mid + 8 * s, size=13,
                   bold=True, anchor_x="right")
        texts.draw(f"list.{i}.share", _percent(proposal.share, lang), left + width - 12 * s, mid - 10 * s,
                   size=10, colour=DIM, anchor_x="right")
    if len(visible) > most_rows:
        texts.draw("list.more", f"… and {len(visible) - most_rows} more: narrow the filter", left + 12 * s,
                   bottom + 10 * s, size=10, colour=DIM)


def _section(texts: Texts, slot: str, title: str, x: float, y: float, width: float) -> float:
    texts.draw(slot, title.upper(), x, y, size=10, bold=True, colour=DIM)
    arcade.draw_line(x, y - 10 * texts.scale, x + width, y - 10 * texts.scale, _BUTTON, 1)
    return y - 26 * texts.scale


def draw_detail(texts: Texts, hits: Hits, rect: Rect, detail: ProposalDetail, *, lang: str,
                question_texts: dict[str, str], selected: bool) -> None:
    """One proposal: who made it, its votes, interventions with counts and costs, KPI changes."""
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, PANEL)
    arcade.draw_lrbt_rectangle_filled(left, left + 8 * s, bottom, bottom + height, detail.colour)
    x, inner_w = left + 22 * s, width - 36 * s
    y = bottom + height - 22 * s
    _button(texts, hits, "detail.back", (left + width - 108 * s, y - 13 * s, 96 * s, 28 * s), "Back (Esc)", "back")
    _button(texts, hits, "detail.pick", (left + width - 240 * s, y - 13 * s, 124 * s, 28 * s),
            "Compare ✓" if selected else "Compare (S)", f"select:{detail.id}", on=selected)
    texts.draw("detail.id", f"{detail.id} · #{detail.rank}", x, y, size=12, colour=DIM)
    y -= 28 * s
    y = texts.draw_lines("detail.title", detail.title or "(untitled)", x, y, width_px=inner_w, most=2, size=18,
                         bold=True, line_px=26) - 24 * s
    late = " · sent late, while its kiosk was offline" if detail.late else ""
    texts.draw("detail.from", f"From {detail.kiosk_name}{late}", x, y, size=12,
               colour=_LATE if detail.late else DIM, width_px=inner_w)
    if detail.description:
        y = texts.draw_lines("detail.desc", detail.description, x, y - 22 * s, width_px=inner_w, most=3, size=12)
    y -= 34 * s
    y = _section(texts, "detail.s.votes", "Votes", x, y, inner_w)
    votes = _count(detail.total_votes, "vote")
    texts.draw("detail.votes", f"{votes}, {_percent(detail.share, lang)} of the votes on proposals", x, y,
               size=13, bold=True, width_px=inner_w)
    for i, (question, count) in enumerate(detail.votes.items()):
        y -= 20 * s
        texts.draw(f"detail.q.{i}", question_texts.get(question, question), x + 12 * s, y, size=11, colour=DIM,
                   width_px=inner_w - 70 * s)
        texts.draw(f"detail.q.{i}.n", str(count), x + inner_w, y, size=11, anchor_x="right")
    y -= 34 * s
    y = _section(texts, "detail.s.items", f"Interventions ({detail.intervention_count})", x, y, inner_w)
    for i, item in enumerate(detail.interventions):
        texts.draw(f"detail.i.{i}", f"{item.count} × {item.name}", x, y, size=12, width_px=inner_w - 110 * s)
        texts.draw(f"detail.i.{i}.eur", "cost unknown" if item.cost_eur is None else format_eur(item.cost_eur, lang),
                   x + inner_w, y, size=12, anchor_x="right", colour=DIM)
        y -= 20 * s
    texts.draw("detail.cost", "Total: " + ("unknown" if detail.cost_eur is None else format_eur(detail.cost_eur, lang)),
               x + inner_w, y, size=12, bold=True, anchor_x="right")
    y -= 34 * s
    y = _section(texts, "detail.s.kpis", "Simulated change against today", x, y, inner_w)
    if not detail.kpis:
        texts.draw("detail.k.none", "No KPIs: the proposal was sent without simulated results.", x, y, size=12,
                   colour=DIM)
    for i, kpi in enumerate(detail.kpis):
        if y < bottom + 14 * s:
            break
        glyph, colour = _VERDICT[kpi.verdict]
        texts.draw(f"detail.k.{i}", kpi.label, x, y, size=12, width_px=inner_w - 130 * s)
        texts.draw(f"detail.k.{i}.v", f"{kpi.text} {glyph}".strip(), x + inner_w, y, size=12, bold=True,
                   colour=colour, anchor_x="right")
        y -= 20 * s


def draw_compare(texts: Texts, hits: Hits, rect: Rect, comparison: Comparison) -> None:
    """Two proposals side by side; the better side of each comparable row is marked."""
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, PANEL)
    y = bottom + height - 22 * s
    _button(texts, hits, "cmp.back", (left + width - 108 * s, y - 13 * s, 96 * s, 28 * s), "Back (Esc)", "back")
    texts.draw("cmp.head", "Side by side (✓ marks the better of the two)", left + 14 * s, y, size=12, colour=DIM)
    label_w = width * 0.36
    col_w = (width - label_w - 28 * s) / 2
    xs = (left + 14 * s + label_w, left + 14 * s + label_w + col_w)
    y -= 36 * s
    for side, detail, x in (("l", comparison.left, xs[0]), ("r", comparison.right, xs[1])):
        arcade.draw_lrbt_rectangle_filled(x, x + col_w - 8 * s, y - 14 * s, y + 14 * s, detail.colour)
        texts.draw(f"cmp.{side}.id", f"{detail.id}", x + 8 * s, y, size=14, bold=True, colour=(15, 18, 24))
    y -= 30 * s
    row_h = min(24 * s, (y - bottom - 8 * s) / max(1, len(comparison.rows)))
    for i, row in enumerate(comparison.rows):
        if i % 2:
            _box((left, y - row_h / 2, width, row_h), _ROW_ALT)
        texts.draw(f"cmp.{i}.label", row.label, left + 14 * s, y, size=11, colour=DIM, width_px=label_w - 8 * s)
        for side, value, x in (("left", row.left, xs[0]), ("right", row.right, xs[1])):
            ahead = row.ahead == side
            texts.draw(f"cmp.{i}.{side}", f"{value} ✓" if ahead else value, x + 8 * s, y, size=12, bold=ahead,
                       colour=_BETTER if ahead else INK, width_px=col_w - 16 * s)
        y -= row_h


def draw_footer(texts: Texts, rect: Rect, message: str) -> None:
    left, bottom, width, height = rect
    s = texts.scale
    _box(rect, PANEL)
    keys = "← → moment · Q ↑ ↓ question · / filter · 1–9 open · S pick · C compare · E export · Esc back"
    texts.draw("foot.keys", keys, left + 12 * s, bottom + height / 2, size=10, colour=DIM, width_px=width * 0.58)
    texts.draw("foot.msg", message, left + width - 12 * s, bottom + height / 2, size=11, anchor_x="right",
               width_px=width * 0.40)
