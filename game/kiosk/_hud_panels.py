"""The HUD's panels shared by screens: top bar, budget, KPI cards, busy spinner,
callout, toast and the idle countdown."""

from __future__ import annotations

from game.kiosk._hud_canvas import Canvas
from game.kiosk._hud_explore import ExploreLayout, topbar_height
from game.kiosk._hud_shapes import arc, fill_rect, ring_rect, triangle
from game.kiosk._hud_theme import Colour
from game.kiosk.view import Action, Button, Callout, HudView, KpiCard

__all__ = ["budget_height", "draw_budget", "draw_busy", "draw_callout", "draw_countdown", "draw_kpis",
           "draw_toast", "draw_topbar", "place_callout"]

_ARROWS = {"+": "▲", "-": "▼", "−": "▼"}


def draw_topbar(canvas: Canvas, view: HudView, languages: tuple[Button, ...]) -> None:
    """Title and phase on the left; connection status and ``languages`` on the right."""
    theme = canvas.theme
    width, height = float(theme.width_px), topbar_height(theme)
    canvas.card(0.0, 0.0, width, height, radius=0.0)
    x_right = width - theme.margin
    pill_h = theme.px(42.0 if theme.large_text else 34.0)
    size = theme.pt(13.0)
    for button in reversed(languages):
        w = max(canvas.measure(button.label, size, bold=True) + theme.px(22.0), pill_h * 1.2)
        x = x_right - w
        look = canvas.hit(x, 0.0, w, height, button.label, button.action, enabled=button.enabled)
        y = (height - pill_h) / 2
        if button.selected:
            canvas.rect(x, y, w, pill_h, theme.accent, pill_h / 2, parent=look)
        else:
            canvas.card(x, y, w, pill_h, fill=theme.card, radius=pill_h / 2, shadow=False, outline=theme.line,
                        parent=look)
        canvas.text(button.label, x + w / 2, height / 2, size, theme.on_accent if button.selected else theme.ink,
                    bold=True, align="center", middle=True, parent=look)
        x_right = x - theme.px(6.0)
    if view.status:
        x_right -= theme.px(10.0)
        text_w = canvas.measure(view.status, size)
        canvas.text(view.status, x_right, height / 2, size, theme.muted, align="right", middle=True)
        dot = theme.px(8.0)
        x_right -= text_w + theme.px(8.0) + dot
        canvas.rect(x_right, height / 2 - dot / 2, dot, dot, theme.muted, dot / 2)
    title_w = x_right - theme.margin - theme.px(24.0)
    title_size, phase_size = theme.pt(18.0), theme.pt(13.0)
    if view.phase:
        block = canvas.line_height(title_size) + canvas.line_height(phase_size)
        y = (height - block) / 2
        canvas.text(view.title, theme.margin, y, title_size, theme.ink, bold=True, width=title_w, max_lines=1)
        canvas.text(view.phase, theme.margin, y + canvas.line_height(title_size), phase_size,
                    theme.ink if theme.high_contrast else theme.accent, bold=True, width=title_w, max_lines=1)
    else:
        canvas.text(view.title, theme.margin, height / 2, title_size, theme.ink, bold=True, middle=True,
                    width=title_w, max_lines=1)


def budget_height(canvas: Canvas) -> float:
    theme = canvas.theme
    return 2 * theme.px(12.0) + canvas.line_height(theme.pt(14.0)) + theme.px(8.0) + theme.px(8.0)


def draw_budget(canvas: Canvas, view: HudView, layout: ExploreLayout) -> None:
    """The money spent: text and a bar filled to the fraction (red when over)."""
    if view.budget is None:
        return
    theme = canvas.theme
    x, y, w, _ = layout.right
    pad = theme.px(12.0)
    canvas.card(x, y, w, budget_height(canvas))
    canvas.text(view.budget.text, x + pad, y + pad, theme.pt(14.0), theme.ink, bold=True, width=w - 2 * pad,
                max_lines=1)
    bar_y = y + pad + canvas.line_height(theme.pt(14.0)) + theme.px(8.0)
    bar_h = theme.px(8.0)
    canvas.rect(x + pad, bar_y, w - 2 * pad, bar_h, theme.card_alt if not theme.high_contrast else theme.ink,
                bar_h / 2)
    fraction = view.budget.fraction
    over = view.budget.spent_eur > view.budget.total_eur > 0
    if fraction > 0:
        fill_w = max(bar_h, (w - 2 * pad) * fraction)
        colour = theme.worse if over else theme.accent
        if theme.high_contrast and not over:
            colour = theme.accent
            canvas.rect(x + pad, bar_y, w - 2 * pad, bar_h, theme.card, bar_h / 2)
            ring_rect(canvas.node, x + pad, bar_y, w - 2 * pad, bar_h, bar_h / 2, -theme.px(1.5), 0.0, theme.ink,
                      theme.ink)
        canvas.rect(x + pad, bar_y, fill_w, bar_h, colour, bar_h / 2)


def _verdict_colour(canvas: Canvas, card: KpiCard) -> Colour:
    theme = canvas.theme
    return {"better": theme.better, "worse": theme.worse}.get(card.verdict, theme.same)


def _delta(canvas: Canvas, card: KpiCard, x_right: float, y: float, size: float, *, middle: bool = False) -> None:
    """``▲ +38 m²`` right-aligned at ``x_right``, coloured by the verdict."""
    colour = _verdict_colour(canvas, card)
    canvas.text(card.delta, x_right, y, size, colour, bold=True, align="right", middle=middle)
    arrow = _ARROWS.get(card.delta[:1]) if card.verdict != "same" else None
    if arrow:
        width = canvas.measure(card.delta, size, bold=True)
        canvas.text(arrow, x_right - width - canvas.theme.px(4.0), y + (size * 0.12 if not middle else 0.0),
                    size * 0.8, colour, align="right", middle=middle, register=False)


def draw_kpis(canvas: Canvas, view: HudView, layout: ExploreLayout) -> None:
    """KPI cards down the right column: one card each when they fit, else one table
    card whose rows shrink (to 0.7x) to fit; rows that still do not fit are left out."""
    if not view.kpis:
        return
    theme = canvas.theme
    x, y, w, h = layout.right
    if view.budget is not None:
        y += budget_height(canvas) + theme.px(10.0)
        h -= budget_height(canvas) + theme.px(10.0)
    pad = theme.px(12.0)
    gap = theme.px(8.0)
    label_size, value_size = theme.pt(13.0), theme.pt(20.0)
    heights = [pad * 2 + len(canvas.lines(k.label, label_size, w - 2 * pad)[:2]) * canvas.line_height(label_size)
               + theme.px(2.0) + canvas.line_height(value_size) for k in view.kpis]
    if sum(heights) + gap * (len(heights) - 1) <= h:
        for card, card_h in zip(view.kpis, heights, strict=True):
            canvas.card(x, y, w, card_h)
            label_h = canvas.text(card.label, x + pad, y + pad, label_size, theme.muted, width=w - 2 * pad,
                                  max_lines=2)
            vy = y + pad + label_h + theme.px(2.0)
            canvas.text(card.value, x + pad, vy, value_size, theme.ink, bold=True)
            _delta(canvas, card, x + w - pad, vy + canvas.line_height(value_size) / 2, theme.pt(14.0), middle=True)
            y += card_h + gap
        return
    _kpi_table(canvas, view.kpis, x, y, w, h)


def _kpi_table(canvas: Canvas, kpis: tuple[KpiCard, ...], x: float, y: float, w: float, h: float) -> None:
    theme = canvas.theme
    pad = theme.px(12.0)
    inner = w - 2 * pad

    def measure(scale: float) -> tuple[float, list[float]]:
        """The label column's width and each row's height at ``scale``."""
        label, value, delta = theme.pt(12.5) * scale, theme.pt(14.0) * scale, theme.pt(11.5) * scale
        value_w = min(inner * 0.42, max(max(canvas.measure(k.value, value, bold=True),
                                            canvas.measure(k.delta, delta, bold=True) + delta) for k in kpis))
        label_w = inner - value_w - theme.px(10.0)
        rows = [max(len(canvas.lines(k.label, label, label_w)[:2]) * canvas.line_height(label),
                    canvas.line_height(value) + canvas.line_height(delta)) + theme.px(7.0) * scale for k in kpis]
        return label_w, rows

    scale = 1.0
    label_w, rows = measure(scale)
    while sum(rows) + 2 * pad > h and scale > 0.7:
        scale = max(0.7, scale * 0.95)
        label_w, rows = measure(scale)
    shown = len(kpis)
    while shown > 1 and sum(rows[:shown]) + 2 * pad > h:
        shown -= 1
    canvas.card(x, y, w, sum(rows[:shown]) + 2 * pad - theme.px(7.0) * scale)
    cy = y + pad
    label_size, value_size, delta_size = theme.pt(12.5) * scale, theme.pt(14.0) * scale, theme.pt(11.5) * scale
    for index, (card, row_h) in enumerate(zip(kpis[:shown], rows[:shown], strict=True)):
        if index:
            canvas.rect(x + pad, cy - theme.px(3.5) * scale, inner, max(1.0, theme.px(1.0)), theme.line)
        body = row_h - theme.px(7.0) * scale
        label_h = min(2, len(canvas.lines(card.label, label_size, label_w))) * canvas.line_height(label_size)
        canvas.text(card.label, x + pad, cy + (body - label_h) / 2, label_size, theme.ink, width=label_w,
                    max_lines=2)
        value_h = canvas.line_height(value_size) + canvas.line_height(delta_size)
        vy = cy + (body - value_h) / 2
        canvas.text(card.value, x + w - pad, vy, value_size, theme.ink, bold=True, align="right")
        _delta(canvas, card, x + w - pad, vy + canvas.line_height(value_size), delta_size)
        cy += row_h


def draw_busy(canvas: Canvas, view: HudView, layout: ExploreLayout | None) -> None:
    """A pill with a spinning arc (turned by ``now`` through ``canvas.animated``)."""
    if not view.busy:
        return
    theme = canvas.theme
    size = theme.pt(13.0)
    h = theme.px(40.0 if theme.large_text else 34.0)
    radius = h * 0.26
    w = canvas.measure(view.busy, size) + h + theme.px(18.0)
    if layout is not None:  # beside the top of the KPI cards, under the toast's row
        x = layout.right[0] - theme.px(10.0) - w
        y = layout.right[1] + (budget_height(canvas) + theme.px(10.0) if view.budget is not None else 0.0)
    else:
        x, y = (theme.width_px - w) / 2, theme.height_px - theme.margin - h
    canvas.card(x, y, w, h, radius=h / 2)
    spinner = canvas.node.attach_new_node("spinner")
    spinner.set_pos(x + h / 2 + theme.px(4.0), 0.0, -(y + h / 2))
    arc(spinner, radius, theme.px(3.5), 0.0, 270.0, theme.accent if not theme.high_contrast else theme.ink)
    canvas.text(view.busy, x + h + theme.px(6.0), y + h / 2, size, theme.ink, middle=True)
    canvas.animated.append(lambda now: spinner.set_r(now * 360.0))


def draw_callout(canvas: Canvas, callout: Callout) -> None:
    """The note card; :func:`place_callout` puts it at the anchor. The part's node sits
    at the anchor, with the pointer's tip at its origin; the card (top-left at its own
    origin) is moved beside it to stay on screen."""
    theme = canvas.theme
    w = theme.px(340.0 if theme.large_text else 280.0)
    pad = theme.px(12.0)
    card = canvas.node.attach_new_node("callout-card")
    back = card.attach_new_node("back")
    y = pad
    for index, line in enumerate(callout.lines):
        size = theme.pt(15.0 if index == 0 else 14.0)
        if index:
            dot = theme.px(6.0)
            canvas.rect(pad, y + canvas.line_height(size) / 2 - dot / 2, dot, dot, theme.accent, dot / 2,
                        parent=card)
        y += canvas.text(line, pad + (theme.px(14.0) if index else 0.0), y, size, theme.ink, bold=index == 0,
                         width=w - 2 * pad - (theme.px(14.0) if index else 0.0), parent=card) + theme.px(3.0)
    h = y + pad - theme.px(3.0)
    canvas.card(0.0, 0.0, w, h, parent=back)  # drawn last, but its node comes first: under the text
    card.set_python_tag("size", (w, h))
    pointer = canvas.node.attach_new_node("callout-pointer")
    tip = theme.px(12.0)
    triangle(pointer, ((-tip, -tip), (tip, -tip), (0.0, 0.0)), theme.card if not theme.high_contrast
             else theme.line)
    fill_rect(pointer, -theme.px(4.0), -theme.px(4.0), theme.px(8.0), theme.px(8.0), theme.accent,
              theme.px(4.0))


def place_callout(canvas: Canvas, xy: tuple[float, float] | None) -> None:
    """Move the callout drawn by :func:`draw_callout` to the anchor ``xy`` (window
    pixels), keeping the card on screen; hidden when ``xy`` is None."""
    node = canvas.node
    if xy is None:
        node.hide()
        return
    node.show()
    theme = canvas.theme
    card, pointer = node.find("callout-card"), node.find("callout-pointer")
    if card.is_empty():
        return
    w, h = card.get_python_tag("size")
    ax, ay = xy
    node.set_pos(ax, 0.0, -ay)
    tip = theme.px(12.0)
    left = min(max(ax - w / 2, theme.margin), theme.width_px - theme.margin - w)
    below = ay - tip - h < topbar_height(theme) + theme.px(8.0)
    card_y = ay + tip if below else ay - tip - h
    card.set_pos(left - ax, 0.0, -(card_y - ay))
    pointer.set_r(180.0 if below else 0.0)


def draw_toast(canvas: Canvas, view: HudView, top: float, layout: ExploreLayout | None) -> None:
    """A short message at the top centre, coloured by its kind (between the side
    columns on the explore screen)."""
    if view.toast is None:
        return
    theme = canvas.theme
    size = theme.pt(15.0)
    max_w = min(theme.px(620.0), theme.width_px - 2 * theme.margin)
    if layout is not None:
        left_end = layout.left[0] + layout.left[2]
        right_start = layout.right[0]
        side = max(left_end, theme.width_px - right_start) + theme.px(12.0)
        max_w = min(max_w, theme.width_px - 2 * side)
    glyph = {"success": "✓", "error": "!"}.get(view.toast.kind, "")
    glyph_w = canvas.measure(glyph, size, bold=True) + theme.px(10.0) if glyph else 0.0
    rows = canvas.lines(view.toast.text, size, max_w - theme.px(36.0) - glyph_w, bold=True)
    text_w = max(canvas.measure(row, size, bold=True) for row in rows)
    w = text_w + theme.px(36.0) + glyph_w
    h = max(theme.touch, len(rows) * canvas.line_height(size) + theme.px(20.0))
    x = (theme.width_px - w) / 2
    fill = {"success": theme.toast_success, "error": theme.toast_error}.get(view.toast.kind, theme.toast_info)
    canvas.card(x, top, w, h, fill=fill, radius=min(h / 2, theme.px(24.0)),
                outline=theme.on_toast if theme.high_contrast else None)
    if glyph:
        canvas.text(glyph, x + theme.px(18.0), top + h / 2, size, theme.on_toast, bold=True, middle=True,
                    register=False)
    block = len(rows) * canvas.line_height(size)
    canvas.text(view.toast.text, x + theme.px(18.0) + glyph_w, top + (h - block) / 2, size, theme.on_toast,
                bold=True, width=max_w - theme.px(36.0) - glyph_w)


def draw_countdown(canvas: Canvas, view: HudView) -> None:
    """The idle warning: a scrim (touching it counts as still here) and a card with
    the countdown and the view's ``still_here`` buttons."""
    if not view.countdown:
        return
    theme = canvas.theme
    width, height = float(theme.width_px), float(theme.height_px)
    still = Action.of("still_here")
    scrim = canvas.hit(0.0, 0.0, width, height, "", still)
    canvas.rect(0.0, 0.0, width, height, theme.scrim, parent=scrim)
    buttons = [b for b in view.buttons if b.action.name == "still_here"]
    w = theme.px(560.0)
    pad = theme.px(28.0)
    size = theme.pt(24.0)
    text_h = len(canvas.lines(view.countdown, size, w - 2 * pad, bold=True)) * canvas.line_height(size)
    button_h = theme.touch * 1.15
    h = pad + text_h + (theme.px(20.0) + button_h if buttons else 0.0) + pad
    x, y = (width - w) / 2, (height - h) / 2
    canvas.card(x, y, w, h, radius=theme.px(20.0))
    canvas.text(view.countdown, width / 2, y + pad, size, theme.ink, bold=True, align="center", width=w - 2 * pad)
    by = y + pad + text_h + theme.px(20.0)
    for button in buttons:
        bw = max(canvas.button_width(button.label, theme.pt(18.0), pad=28.0), w * 0.5)
        canvas.button(button.label, button.action, (width - bw) / 2, by, bw, button_h, kind="primary",
                      enabled=button.enabled, size=theme.pt(18.0))
