"""One part of the HUD being drawn: cards, text and buttons, in window pixels (y down).

A :class:`Canvas` owns a node, remembers every text it drew (for ``Hud.texts``) and
every button (for ``Hud.press``), and tears all of it down in :meth:`Canvas.clear`.
Buttons are DirectButtons with no frame of their own: the canvas draws their look
once and instances it into the button's four states, with a darker veil when pressed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from direct.gui import DirectGuiGlobals as DGG
from direct.gui.DirectButton import DirectButton
from panda3d.core import NodePath, TextFont, TextNode, Texture

from game.kiosk._hud_shapes import fill_rect, image, ring_rect
from game.kiosk._hud_theme import Colour, Theme
from game.kiosk.view import Action

__all__ = ["Align", "ButtonKind", "Canvas", "Fonts", "Pressable"]

ButtonKind = Literal["primary", "secondary", "selected", "ghost", "plain"]
Align = Literal["left", "center", "right"]

# DejaVu Sans metrics, in ems (TextNode.get_top / get_line_height of the TTF).
_ASCENT = 0.93
_LINE = 1.1625
_CAP_MIDDLE = 0.365  # half the cap height: centres a line on a box's middle
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Fonts:
    regular: TextFont | None
    bold: TextFont | None


@dataclass(slots=True)
class Pressable:
    label: str
    action: Action
    enabled: bool
    widget: DirectButton


@dataclass(slots=True)
class Canvas:
    node: NodePath
    theme: Theme
    fonts: Fonts
    on_action: Callable[[Action], None]
    icon: Callable[[str], Texture | None] | None = None
    texts: list[str] = field(default_factory=list)
    buttons: list[Pressable] = field(default_factory=list)
    animated: list[Callable[[float], None]] = field(default_factory=list)

    def clear(self) -> None:
        for pressable in self.buttons:
            pressable.widget.destroy()
        self.buttons.clear()
        self.texts.clear()
        self.animated.clear()
        self.node.node().remove_all_children()

    # ----- text ---------------------------------------------------------------------------------

    def _text_node(self, text: str, bold: bool) -> TextNode:
        node = TextNode("text")
        font = self.fonts.bold if bold and self.fonts.bold is not None else self.fonts.regular
        if font is not None:
            node.set_font(font)
        node.set_text(text)
        return node

    def measure(self, text: str, size: float, bold: bool = False) -> float:
        """Width of one line of ``text`` in window pixels."""
        return self._text_node("", bold).calc_width(text) * size

    def lines(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        """``text`` word-wrapped to ``width`` pixels."""
        node = self._text_node(text, bold)
        node.set_wordwrap(max(width / size, 0.5))
        return node.get_wordwrapped_text().split("\n")

    def fit_size(self, text: str, size: float, width: float, bold: bool = False, floor: float = 0.72) -> float:
        """``size``, shrunk (to ``floor`` times at most) until the longest word fits ``width``."""
        node = self._text_node("", bold)
        widest = max((node.calc_width(word) for word in text.split()), default=0.0)
        if widest * size <= width:
            return size
        return max(size * floor, width / widest)

    def text(self, text: str, x: float, y: float, size: float, colour: Colour, *, bold: bool = False,
             align: Align = "left", width: float | None = None, max_lines: int | None = None,
             middle: bool = False, register: bool = True, parent: NodePath | None = None) -> float:
        """Draw ``text`` with its top at ``y`` (or, with ``middle``, one line centred on
        ``y``); ``x`` is the left edge, centre or right edge per ``align``. Wraps at
        ``width`` and cuts to ``max_lines`` with an ellipsis. Returns the height drawn.
        ``Hud.texts`` lists ``text`` whole (uncut) unless ``register`` is False."""
        if not text:
            return 0.0
        if register:
            self.texts.append(text)
        shown = text
        if width is not None:
            rows = self.lines(text, size, width, bold)
            if max_lines is not None and len(rows) > max_lines:
                rows = rows[:max_lines]
                rows[-1] = self._cut(rows[-1], size, width, bold)
            shown = "\n".join(rows)
        node = self._text_node(shown, bold)
        node.set_align({"left": TextNode.A_left, "center": TextNode.A_center, "right": TextNode.A_right}[align])
        node.set_text_color(*colour)
        rows_count = node.get_num_rows()
        path = (parent or self.node).attach_new_node(node.generate())
        baseline = y + _CAP_MIDDLE * size if middle else y + _ASCENT * size
        path.set_pos(x, 0.0, -baseline)
        path.set_scale(size)
        return rows_count * _LINE * size

    def _cut(self, line: str, size: float, width: float, bold: bool) -> str:
        while line and self.measure(line + _ELLIPSIS, size, bold) > width:
            line = line[:-1]
        return line.rstrip() + _ELLIPSIS

    @staticmethod
    def line_height(size: float) -> float:
        return _LINE * size

    # ----- shapes ---------------------------------------------------------------------------------

    def card(self, x: float, y: float, w: float, h: float, *, fill: Colour | None = None,
             radius: float | None = None, shadow: bool = True, outline: Colour | None = None,
             parent: NodePath | None = None) -> NodePath:
        """A card: soft shadow (normal theme), fill, outline (high contrast or asked)."""
        theme = self.theme
        target = parent or self.node
        r = theme.radius if radius is None else radius
        holder = target.attach_new_node("card")
        if shadow and theme.shadow[3] > 0.0:
            blur = theme.px(10.0)
            drop = theme.px(3.0)
            ring_rect(holder, x, y + drop, w, h, r, -blur * 0.3, blur, theme.shadow,
                      (*theme.shadow[:3], 0.0))
            fill_rect(holder, x, y + drop, w, h, theme.shadow, r, -blur * 0.3)
        fill_rect(holder, x, y, w, h, theme.card if fill is None else fill, r)
        edge = outline if outline is not None else (theme.line if theme.outline > 0 else None)
        if edge is not None:
            width = max(theme.outline, theme.px(1.0))
            ring_rect(holder, x, y, w, h, r, -width, 0.0, edge, edge)
        return holder

    def rect(self, x: float, y: float, w: float, h: float, colour: Colour, radius: float = 0.0,
             parent: NodePath | None = None) -> NodePath:
        return fill_rect(parent or self.node, x, y, w, h, colour, radius)

    def picture(self, texture: Texture, x: float, y: float, w: float, h: float,
                parent: NodePath | None = None) -> NodePath:
        return image(parent or self.node, texture, x, y, w, h)

    # ----- buttons --------------------------------------------------------------------------------

    def hit(self, x: float, y: float, w: float, h: float, label: str, action: Action, *, enabled: bool = True,
            parent: NodePath | None = None) -> NodePath:
        """A pressable region; returns the node to draw its look into (in the same
        coordinates as the canvas); pressing veils it."""
        widget = DirectButton(parent=parent or self.node, relief=None, frameSize=(x, x + w, -(y + h), -y),
                              pressEffect=0, clickSound=None, rolloverSound=None,
                              command=self.on_action, extraArgs=[action],
                              state=DGG.NORMAL if enabled else DGG.DISABLED)
        look = NodePath("look")
        for state in range(4):
            look.instance_to(widget.stateNodePath[state])
        veil = (1.0, 1.0, 1.0, 0.25) if self.theme.high_contrast else (0.0, 0.0, 0.0, 0.14)
        fill_rect(widget.stateNodePath[1], x, y, w, h, veil, min(self.theme.radius, h / 2.0))
        self.buttons.append(Pressable(label, action, enabled, widget))
        return look

    def button(self, label: str, action: Action, x: float, y: float, w: float, h: float, *,
               kind: ButtonKind = "secondary", enabled: bool = True, size: float | None = None,
               radius: float | None = None, shadow: bool = False, parent: NodePath | None = None) -> NodePath:
        """A labelled button; ``kind`` picks the fill: primary/selected (accent), secondary
        (card with an outline), plain (card, no outline), ghost (nothing)."""
        theme = self.theme
        r = min(theme.px(12.0), h / 2.0) if radius is None else radius
        look = self.hit(x, y, w, h, label, action, enabled=enabled, parent=parent)
        ink = theme.ink
        if not enabled:
            self.card(x, y, w, h, fill=theme.card_alt, radius=r, shadow=False,
                      outline=theme.disabled_ink if theme.high_contrast else None, parent=look)
            ink = theme.disabled_ink
        elif kind in ("primary", "selected"):
            self.card(x, y, w, h, fill=theme.accent, radius=r, shadow=shadow,
                      outline=theme.accent if theme.high_contrast else None, parent=look)
            ink = theme.on_accent
        elif kind == "secondary":
            self.card(x, y, w, h, fill=theme.card, radius=r, shadow=shadow, outline=theme.line, parent=look)
        elif kind == "plain":
            self.card(x, y, w, h, fill=theme.card, radius=r, shadow=shadow, parent=look)
        text_size = self.fit_size(label, size or theme.pt(16.0), w - theme.px(16.0), bold=True)
        rows = self.lines(label, text_size, w - theme.px(16.0), bold=True)
        if len(rows) <= 1:
            self.text(label, x + w / 2.0, y + h / 2.0, text_size, ink, bold=True, align="center", middle=True,
                      parent=look)
        else:
            block = min(len(rows), 2) * self.line_height(text_size)
            self.text(label, x + w / 2.0, y + (h - block) / 2.0, text_size, ink, bold=True, align="center",
                      width=w - theme.px(16.0), max_lines=2, parent=look)
        return look

    def button_width(self, label: str, size: float | None = None, pad: float = 20.0) -> float:
        """The width a one-line button needs for ``label``."""
        return self.measure(label, size or self.theme.pt(16.0), bold=True) + 2.0 * self.theme.px(pad)

    def buttons_row(self, buttons: list[tuple[str, Action, ButtonKind, bool]], x_right: float, y: float,
                    h: float, *, size: float | None = None, shadow: bool = False, align_left: bool = False,
                    x_left: float = 0.0) -> float:
        """Buttons side by side, right-aligned at ``x_right`` (or left-aligned at
        ``x_left``); returns the row's width."""
        gap = self.theme.gap
        widths = [max(self.button_width(label, size), h * 1.4) for label, _, _, _ in buttons]
        total = sum(widths) + gap * max(0, len(widths) - 1)
        x = x_left if align_left else x_right - total
        for (label, action, kind, enabled), w in zip(buttons, widths, strict=True):
            self.button(label, action, x, y, w, h, kind=kind, enabled=enabled, size=size, shadow=shadow)
            x += w + gap
        return total
