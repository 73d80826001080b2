"""The HUD's full screens besides explore: attract, consent, language, propose,
proposals, vote and thanks. Each is a centred card (or, for attract, a dim layer over
the touring 3D scene) drawn from the view's heading, body, buttons and lists."""

from __future__ import annotations

import math
from collections.abc import Callable

from panda3d.core import NodePath

from game.kiosk._hud_canvas import Align, ButtonKind, Canvas
from game.kiosk._hud_explore import topbar_height
from game.kiosk._hud_shapes import fill_rect, gradient_rect, ring_rect
from game.kiosk.view import Button, HudView, ProposalCard, QuestionView

__all__ = ["draw_screen"]

#: Actions whose button is the screen's main one (filled with the accent colour).
_PRIMARY = frozenset({"start", "consent", "propose", "still_here", "finish", "fly_to"})


def draw_screen(canvas: Canvas, view: HudView) -> None:
    """Draw ``view.screen`` (explore has no full screen: nothing to do)."""
    if view.screen == "attract":
        _attract(canvas, view)
    elif view.screen in _PANELS:
        body, width = _PANELS[view.screen]
        _panel(canvas, view, min(canvas.theme.px(width), canvas.theme.width_px - 2 * canvas.theme.margin), body)


def _kinds(buttons: tuple[Button, ...]) -> list[ButtonKind]:
    primary = [b.action.name in _PRIMARY for b in buttons]
    if buttons and not any(primary):
        primary[0] = True
    return ["selected" if b.selected else "primary" if p else "secondary" for b, p in zip(buttons, primary,
                                                                                          strict=True)]


_Body = Callable[[Canvas, HudView, NodePath, float], float]


def _panel(canvas: Canvas, view: HudView, width: float, body: _Body) -> None:
    """A centred card ``width`` wide around what ``body(canvas, view, node, inner_width)``
    draws from (0, 0) down (it returns the height used), over a light scrim. Content
    taller than the screen is laid out wider and scaled down to fit, buttons included."""
    theme = canvas.theme
    screen_w, screen_h = float(theme.width_px), float(theme.height_px)
    dim = theme.scrim if theme.high_contrast else (*theme.scrim[:3], theme.scrim[3] * 0.6)
    canvas.rect(0.0, 0.0, screen_w, screen_h, dim)
    pad = theme.px(32.0)
    area_top = topbar_height(theme)
    room = screen_h - area_top - 2 * theme.margin - 2 * pad
    scratch = Canvas(NodePath("measure"), theme, canvas.fonts, canvas.on_action, canvas.icon)
    needed = body(scratch, view, scratch.node, width - 2 * pad)
    scratch.clear()
    scale = 1.0 if needed <= room else max(0.6, room / needed)
    back = canvas.node.attach_new_node("panel-back")
    content = canvas.node.attach_new_node("panel-body")
    used = body(canvas, view, content, (width - 2 * pad) / scale) * scale
    height = used + 2 * pad
    y = area_top + max(theme.margin, (screen_h - area_top - height) / 2)
    x = (screen_w - width) / 2
    canvas.card(x, y, width, height, radius=theme.px(22.0), parent=back)
    content.set_pos(x + pad, 0.0, -(y + pad))
    content.set_scale(scale)


def _heading_and_body(canvas: Canvas, node: NodePath, view: HudView, width: float, *, size: float = 30.0,
                      align: Align = "left") -> float:
    theme = canvas.theme
    x = width / 2 if align == "center" else 0.0
    y = canvas.text(view.heading, x, 0.0, theme.pt(size), theme.ink, bold=True, width=width, align=align,
                    parent=node)
    for paragraph in view.body:
        y += theme.px(12.0)
        y += canvas.text(paragraph, x, y, theme.pt(17.0), theme.muted if not theme.high_contrast else theme.ink,
                         width=width, align=align, parent=node)
    return y


def _button_row(canvas: Canvas, node: NodePath, buttons: tuple[Button, ...], y: float, width: float,
                *, center: bool = False) -> float:
    """The view's main buttons in a row (stacked when they do not fit); returns the height."""
    if not buttons:
        return 0.0
    theme = canvas.theme
    size = theme.pt(17.0)
    h = theme.touch * 1.1
    gap = theme.px(12.0)
    widths = [max(canvas.button_width(b.label, size, pad=28.0), theme.px(150.0)) for b in buttons]
    kinds = _kinds(buttons)
    if sum(widths) + gap * (len(widths) - 1) > width:  # stacked, full width
        for i, (button, kind) in enumerate(zip(buttons, kinds, strict=True)):
            canvas.button(button.label, button.action, 0.0, y + i * (h + gap), width, h, kind=kind,
                          enabled=button.enabled, size=size, parent=node)
        return len(buttons) * (h + gap) - gap
    total = sum(widths) + gap * (len(widths) - 1)
    x = (width - total) / 2 if center else width - total
    for button, kind, w in zip(buttons, kinds, widths, strict=True):
        canvas.button(button.label, button.action, x, y, w, h, kind=kind, enabled=button.enabled, size=size,
                      parent=node)
        x += w + gap
    return h


def _attract(canvas: Canvas, view: HudView) -> None:
    """A dim layer over the touring scene, the title, tagline, a pulsing call to touch
    (the whole screen is its button) and the language buttons."""
    theme = canvas.theme
    width, height = float(theme.width_px), float(theme.height_px)
    start = view.buttons[0] if view.buttons else None
    parent = canvas.hit(0.0, 0.0, width, height, start.label, start.action) if start else canvas.node
    base = (0.0, 0.0, 0.0) if theme.high_contrast else theme.scrim[:3]
    low = 0.78 if theme.high_contrast else 0.35  # darker towards the bottom, where the text sits
    gradient_rect(parent, 0.0, 0.0, width, height * 0.5, (*base, low), (*base, low + 0.2))
    gradient_rect(parent, 0.0, height * 0.5, width, height * 0.5, (*base, low + 0.2), (*base, min(0.92, low + 0.45)))
    white = (1.0, 1.0, 1.0, 1.0)
    text_w = min(width - 2 * theme.margin, theme.px(1000.0))
    y = height * 0.30
    if view.title and view.heading and view.title != view.heading:
        y += canvas.text(view.title.upper(), width / 2, y, theme.pt(18.0), theme.accent if theme.high_contrast
                         else (0.75, 0.86, 1.0, 1.0), bold=True, align="center", width=text_w, parent=parent)
        y += theme.px(8.0)
    y += canvas.text(view.heading or view.title, width / 2, y, theme.pt(56.0), white, bold=True, align="center",
                     width=text_w, parent=parent)
    for paragraph in view.body:
        y += theme.px(14.0)
        y += canvas.text(paragraph, width / 2, y, theme.pt(24.0), (1.0, 1.0, 1.0, 0.92), align="center",
                         width=text_w, parent=parent)
    if start is not None:
        size = theme.pt(22.0)
        w = canvas.measure(start.label, size, bold=True) + theme.px(64.0)
        h = theme.touch * 1.3
        pill = parent.attach_new_node("touch")
        x, py = (width - w) / 2, max(y + theme.px(40.0), height * 0.66)
        glow = pill.attach_new_node("glow")
        ring_rect(glow, x, py, w, h, h / 2, 0.0, theme.px(14.0), (*theme.accent[:3], 0.45),
                  (*theme.accent[:3], 0.0))
        fill_rect(pill, x, py, w, h, theme.accent, h / 2)
        canvas.text(start.label, width / 2, py + h / 2, size, theme.on_accent, bold=True, align="center",
                    middle=True, parent=pill)

        def pulse(now: float) -> None:
            wave = 0.5 + 0.5 * math.sin(now * 2.0 * math.pi / 1.8)
            glow.set_alpha_scale(0.25 + 0.75 * wave)
            pill.set_color_scale(1.0, 1.0, 1.0, 0.82 + 0.18 * wave)

        canvas.animated.append(pulse)
    _language_row(canvas, view, height - theme.margin - theme.touch, center=True)
    for i, button in enumerate(view.buttons[1:]):
        w = canvas.button_width(button.label, theme.pt(16.0))
        canvas.button(button.label, button.action, width - theme.margin - w,
                      theme.margin + i * (theme.touch + theme.gap), w, theme.touch, kind="plain",
                      enabled=button.enabled)


def _language_row(canvas: Canvas, view: HudView, y: float, *, center: bool) -> None:
    theme = canvas.theme
    size = theme.pt(15.0)
    widths = [max(canvas.button_width(b.label, size, pad=18.0), theme.touch * 1.2) for b in view.languages]
    total = sum(widths) + theme.gap * max(0, len(widths) - 1)
    x = (theme.width_px - total) / 2 if center else theme.margin
    for button, w in zip(view.languages, widths, strict=True):
        canvas.button(button.label, button.action, x, y, w, theme.touch, kind="selected" if button.selected
                      else "plain", enabled=button.enabled, size=size, radius=theme.touch / 2)
        x += w + theme.gap


def _consent_body(canvas: Canvas, view: HudView, node: NodePath, width: float) -> float:
    """The heading, what the kiosk keeps, accept and decline."""
    y = _heading_and_body(canvas, node, view, width)
    y += canvas.theme.px(28.0)
    return y + _button_row(canvas, node, view.buttons, y, width)


def _language_body(canvas: Canvas, view: HudView, node: NodePath, width: float) -> float:
    """Big language buttons in a grid under the heading."""
    theme = canvas.theme
    y = _heading_and_body(canvas, node, view, width, align="center") + theme.px(24.0)
    columns = 3 if len(view.languages) > 4 else 2
    gap = theme.px(12.0)
    w = (width - gap * (columns - 1)) / columns
    h = theme.touch * 1.3
    for i, button in enumerate(view.languages):
        bx, by = (i % columns) * (w + gap), y + (i // columns) * (h + gap)
        canvas.button(button.label, button.action, bx, by, w, h, kind="selected" if button.selected
                      else "secondary", enabled=button.enabled, size=theme.pt(20.0), parent=node)
    rows = math.ceil(len(view.languages) / columns)
    y += rows * (h + gap) - (gap if rows else 0.0)
    if view.buttons:
        y += theme.px(20.0)
        y += _button_row(canvas, node, view.buttons, y, width, center=True)
    return y


def _propose_body(canvas: Canvas, view: HudView, node: NodePath, width: float) -> float:
    """The heading, the typed title in a field-like box with a caret, the buttons."""
    theme = canvas.theme
    y = _heading_and_body(canvas, node, view, width) + theme.px(20.0)
    if view.text_input is not None:
        size = theme.pt(24.0)
        h = canvas.line_height(size) + theme.px(28.0)
        canvas.rect(0.0, y, width, h, theme.card_alt, theme.px(10.0), parent=node)
        edge = theme.ink if theme.high_contrast else theme.accent
        ring_rect(node, 0.0, y, width, h, theme.px(10.0), -max(theme.outline, theme.px(2.0)), 0.0, edge, edge)
        shown = view.text_input
        typed_w = canvas.measure(shown, size)
        canvas.text(shown, theme.px(16.0), y + h / 2, size, theme.ink, middle=True, width=width - theme.px(40.0),
                    max_lines=1, parent=node)
        caret_x = theme.px(16.0) + min(typed_w, width - theme.px(40.0)) + theme.px(3.0)
        canvas.rect(caret_x, y + theme.px(12.0), theme.px(2.5), h - theme.px(24.0), theme.accent, parent=node)
        y += h + theme.px(24.0)
    return y + _button_row(canvas, node, view.buttons, y, width)


def _proposals_body(canvas: Canvas, view: HudView, node: NodePath, width: float) -> float:
    """The proposals as tappable cards (tap flies there), two columns."""
    theme = canvas.theme
    y = _heading_and_body(canvas, node, view, width) + theme.px(20.0)
    columns = 2 if len(view.proposals) > 1 else 1
    gap = theme.px(14.0)
    w = (width - gap * (columns - 1)) / columns
    heights = [_proposal_height(canvas, p, w) for p in view.proposals]
    for row in range(math.ceil(len(view.proposals) / columns)):
        row_h = max(heights[row * columns:(row + 1) * columns])
        for col in range(columns):
            index = row * columns + col
            if index < len(view.proposals):
                _proposal(canvas, node, view.proposals[index], col * (w + gap), y, w, row_h)
        y += row_h + gap
    if view.buttons:
        y += theme.px(8.0)
        y += _button_row(canvas, node, view.buttons, y, width)
    return y


def _proposal_height(canvas: Canvas, card: ProposalCard, w: float) -> float:
    theme = canvas.theme
    inner = w - theme.px(56.0)
    h = len(canvas.lines(card.title, theme.pt(18.0), inner, bold=True)[:2]) * canvas.line_height(theme.pt(18.0))
    h += sum(len(canvas.lines(line, theme.pt(14.0), inner)) for line in card.lines) * canvas.line_height(
        theme.pt(14.0))
    return max(theme.touch * 1.4, h + theme.px(32.0))


def _proposal(canvas: Canvas, node: NodePath, card: ProposalCard, x: float, y: float, w: float, h: float) -> None:
    theme = canvas.theme
    look = canvas.hit(x, y, w, h, card.title, card.action, parent=node)
    canvas.card(x, y, w, h, fill=theme.card_alt if not card.mine else theme.accent_soft, radius=theme.px(14.0),
                shadow=False, outline=theme.line, parent=look)
    if card.mine:
        canvas.rect(x + theme.px(6.0), y + theme.px(12.0), theme.px(5.0), h - theme.px(24.0), theme.accent,
                    theme.px(2.5), parent=look)
    ink = theme.on_accent if card.mine and theme.high_contrast else theme.ink
    inner = w - theme.px(56.0)
    ty = y + theme.px(16.0)
    ty += canvas.text(card.title, x + theme.px(20.0), ty, theme.pt(18.0), ink, bold=True, width=inner, max_lines=2,
                      parent=look)
    for line in card.lines:
        ty += canvas.text(line, x + theme.px(20.0), ty, theme.pt(14.0), ink if theme.high_contrast else theme.muted,
                          width=inner, parent=look)
    canvas.text("›", x + w - theme.px(20.0), y + h / 2, theme.pt(30.0), theme.accent if not card.mine or not
                theme.high_contrast else ink, bold=True, align="right", middle=True, parent=look)


def _vote_body(canvas: Canvas, view: HudView, node: NodePath, width: float) -> float:
    """Each question: its text, big option buttons (the chosen one marked ✓), status."""
    theme = canvas.theme
    y = _heading_and_body(canvas, node, view, width, size=28.0)
    for question in view.questions:
        y += theme.px(22.0)
        y += _question(canvas, node, question, y, width)
    if view.buttons:
        y += theme.px(24.0)
        y += _button_row(canvas, node, view.buttons, y, width)
    return y


def _question(canvas: Canvas, node: NodePath, question: QuestionView, y: float, width: float) -> float:
    theme = canvas.theme
    top = y
    y += canvas.text(question.text, 0.0, y, theme.pt(19.0), theme.ink, bold=True, width=width, parent=node)
    y += theme.px(10.0)
    size = theme.pt(16.0)
    h = theme.touch * 1.15
    gap = theme.px(10.0)
    labels = [("✓ " + b.label) if b.selected else b.label for b in question.options]
    widths = [min(width, max(canvas.button_width(label, size, pad=22.0), h * 1.3)) for label in labels]
    if question.kind == "score" and widths:  # a scale: equal buttons
        widths = [max(widths)] * len(widths)
    x = 0.0
    for button, label, w in zip(question.options, labels, widths, strict=True):
        if x > 0.0 and x + w > width:
            x, y = 0.0, y + h + gap
        canvas.button(label, button.action, x, y, w, h, kind="selected" if button.selected else "secondary",
                      enabled=button.enabled, size=size, parent=node)
        canvas.buttons[-1].label = button.label  # pressed by its own label, without the check mark
        x += w + gap
    y += h
    if question.status:
        y += theme.px(8.0)
        done = "✓" in question.status  # received: green; saved or closed: grey
        colour = (theme.accent if theme.high_contrast else theme.better) if done else theme.muted
        y += canvas.text(question.status, 0.0, y, theme.pt(14.0), colour, bold=True, width=width, parent=node)
    return y - top


def _thanks_body(canvas: Canvas, view: HudView, node: NodePath, width: float) -> float:
    """A big centred card: a check mark, the heading, the body, the buttons."""
    theme = canvas.theme
    mark = theme.px(72.0)
    fill_rect(node, (width - mark) / 2, 0.0, mark, mark, theme.better if not theme.high_contrast
              else theme.accent, mark / 2)
    canvas.text("✓", width / 2, mark / 2, mark * 0.55, theme.on_accent, bold=True, align="center", middle=True,
                register=False, parent=node)
    y = mark + theme.px(20.0)
    heading = canvas.text(view.heading, width / 2, y, theme.pt(40.0), theme.ink, bold=True, align="center",
                          width=width, parent=node)
    y += heading
    for paragraph in view.body:
        y += theme.px(14.0)
        y += canvas.text(paragraph, width / 2, y, theme.pt(20.0), theme.muted if not theme.high_contrast
                         else theme.ink, align="center", width=width, parent=node)
    if view.buttons:
        y += theme.px(28.0)
        y += _button_row(canvas, node, view.buttons, y, width, center=True)
    return y


_PANELS: dict[str, tuple[_Body, float]] = {
    "consent": (_consent_body, 720.0), "language": (_language_body, 760.0), "propose": (_propose_body, 680.0),
    "proposals": (_proposals_body, 900.0), "vote": (_vote_body, 1000.0), "thanks": (_thanks_body, 760.0),
}
