"""The explore screen's layout and its left and bottom parts: overlays with the legend,
the palette tray, the tools row and the hint line.

:func:`explore_layout` places every region from the theme and the view's counts, so
each part can be redrawn alone and still line up with the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from game.kiosk._hud_canvas import Canvas
from game.kiosk._hud_shapes import ramp_texture, ring_rect
from game.kiosk._hud_theme import Theme
from game.kiosk.view import Button, HudView, Legend, PaletteItem

__all__ = ["ExploreLayout", "draw_hint", "draw_overlays", "draw_palette", "draw_tools", "explore_layout",
           "topbar_height"]


def topbar_height(theme: Theme) -> float:
    return theme.px(72.0 if theme.large_text else 60.0)


@dataclass(frozen=True, slots=True)
class ExploreLayout:
    """Regions in window pixels: (x, y, w, h) or edges."""

    top: float  # below the top bar
    hint_y: float  # top of the hint band
    tray: tuple[float, float, float, float] | None  # the palette
    tools_y: float  # top of the first tools row
    tool_rows: tuple[tuple[int, ...], ...]  # indices of view.tools per row
    tool_size: float  # type size of the tools
    tool_pad: float  # their padding left and right, design px
    left: tuple[float, float, float, float]  # overlays + legend column
    right: tuple[float, float, float, float]  # budget + KPI column


def explore_layout(canvas: Canvas, view: HudView) -> ExploreLayout:
    theme = canvas.theme
    width, height = float(theme.width_px), float(theme.height_px)
    margin, gap = theme.margin, theme.px(12.0)
    top = topbar_height(theme) + gap
    hint_h = theme.px(32.0 if theme.large_text else 28.0) if view.hint else theme.px(8.0)
    hint_y = height - hint_h
    tray = None
    bottom = hint_y
    if view.palette:
        tray_h = theme.px(160.0 if theme.large_text else 128.0)
        tray = (margin, hint_y - tray_h, width - 2.0 * margin, tray_h)
        bottom = tray[1]
    right_w = theme.px(370.0 if theme.large_text else 330.0)
    right = (width - margin - right_w, top, right_w, bottom - gap - top)
    # Tools flow left to right under the left column, wrapping upwards when too wide.
    tools_w = right[0] - gap - margin
    size = theme.pt(15.0)
    widths = [canvas.button_width(b.label, size, pad=16.0) for b in view.tools]
    total = sum(widths) + theme.gap * max(0, len(widths) - 1)
    if total > tools_w:  # tighter padding, then smaller type (to 0.75x), then a second row
        pad = 10.0
        natural = sum(canvas.button_width(b.label, size, pad=pad) for b in view.tools)
        natural += theme.gap * (len(widths) - 1)
        if natural > tools_w:
            size = max(size * 0.75, size * tools_w / natural * 0.98)
        widths = [canvas.button_width(b.label, size, pad=pad) for b in view.tools]
    rows: list[list[int]] = [[]]
    used = 0.0
    for index, w in enumerate(widths):
        if rows[-1] and used + theme.gap + w > tools_w:
            rows.append([])
            used = 0.0
        used += (theme.gap if rows[-1] else 0.0) + w
        rows[-1].append(index)
    n_rows = len(rows) if view.tools else 0
    tool_pad = 16.0 if total <= tools_w else 10.0
    tools_y = bottom - gap - n_rows * theme.touch - max(0, n_rows - 1) * theme.gap
    left_w = theme.px(270.0 if theme.large_text else 228.0)
    left = (margin, top, left_w, (tools_y if n_rows else bottom) - gap - top)
    return ExploreLayout(top, hint_y, tray, tools_y, tuple(tuple(r) for r in rows if r), size, tool_pad, left,
                         right)


def draw_overlays(canvas: Canvas, view: HudView, layout: ExploreLayout) -> None:
    """The overlay picker as a segmented control, the legend card under it."""
    theme = canvas.theme
    x, y, w, h = layout.left
    legend_h = _legend_height(canvas, view.legend, w) if view.legend else 0.0
    y_end = y
    if view.overlays:
        pad = theme.px(6.0)
        row_h = theme.touch
        room = h - (legend_h + theme.px(10.0) if legend_h else 0.0) - 2.0 * pad
        columns = 1 if len(view.overlays) * row_h <= room else 2
        rows = math.ceil(len(view.overlays) / columns)
        card_h = rows * row_h + 2.0 * pad
        canvas.card(x, y, w, card_h)
        cell_w = (w - 2.0 * pad) / columns
        for index, button in enumerate(view.overlays):
            bx = x + pad + (index % columns) * cell_w
            by = y + pad + (index // columns) * row_h
            look = canvas.hit(bx, by, cell_w, row_h, button.label, button.action, enabled=button.enabled)
            _segment(canvas, look, button, bx, by, cell_w, row_h, columns)
        y_end = y + card_h + theme.px(10.0)
    if view.legend:
        _legend(canvas, view.legend, x, y_end, w, legend_h)


def _segment(canvas: Canvas, look, button: Button, x: float, y: float, w: float, h: float, columns: int) -> None:
    theme = canvas.theme
    inset = theme.px(2.0)
    ink = theme.ink if button.enabled else theme.disabled_ink
    if button.selected:
        canvas.rect(x + inset, y + inset, w - 2 * inset, h - 2 * inset, theme.accent, theme.px(10.0), parent=look)
        ink = theme.on_accent
    size = canvas.fit_size(button.label, theme.pt(15.0), w - theme.px(28.0), bold=button.selected)
    text_w = w - theme.px(28.0 if columns == 1 else 16.0)
    rows = canvas.lines(button.label, size, text_w, bold=button.selected)
    dot = theme.px(8.0)
    tx = x + theme.px(14.0)
    if columns == 1:
        colour = theme.on_accent if button.selected else theme.line
        canvas.rect(tx, y + h / 2 - dot / 2, dot, dot, colour, dot / 2, parent=look)
        tx += dot + theme.px(10.0)
        text_w -= dot + theme.px(10.0)
    else:
        tx = x + theme.px(8.0)
    if len(rows) == 1:
        canvas.text(button.label, tx, y + h / 2, size, ink, bold=button.selected, middle=True, parent=look)
    else:
        block = 2 * canvas.line_height(size)
        canvas.text(button.label, tx, y + (h - block) / 2, size, ink, bold=button.selected, width=text_w,
                    max_lines=2, parent=look)


def _legend_title(canvas: Canvas, legend: Legend, w: float) -> tuple[list[str], bool]:
    """The title's lines and whether the unit fits after the last one."""
    theme = canvas.theme
    size = theme.pt(14.0)
    rows = canvas.lines(legend.title, size, w, bold=True)
    room = w - canvas.measure(rows[-1], size, bold=True) - theme.px(8.0)
    return rows, not legend.unit or canvas.measure(legend.unit, theme.pt(13.0)) <= room


def _legend_height(canvas: Canvas, legend: Legend | None, w: float) -> float:
    if legend is None:
        return 0.0
    theme = canvas.theme
    rows, unit_inline = _legend_title(canvas, legend, w - theme.px(24.0))
    lines = len(rows) + (0 if unit_inline else 1)
    return theme.px(12.0) + lines * canvas.line_height(theme.pt(14.0)) + theme.px(8.0) + theme.px(14.0) \
        + theme.px(6.0) + canvas.line_height(theme.pt(12.0)) + theme.px(10.0)


def _legend(canvas: Canvas, legend: Legend, x: float, y: float, w: float, h: float) -> None:
    theme = canvas.theme
    pad = theme.px(12.0)
    canvas.card(x, y, w, h)
    cy = y + pad
    title_size = theme.pt(14.0)
    rows, unit_inline = _legend_title(canvas, legend, w - 2 * pad)
    cy += canvas.text(legend.title, x + pad, cy, title_size, theme.ink, bold=True, width=w - 2 * pad)
    if legend.unit:
        line = canvas.line_height(title_size)
        ux = x + pad + canvas.measure(rows[-1], title_size, bold=True) + theme.px(8.0) if unit_inline else x + pad
        uy = cy - line if unit_inline else cy
        canvas.text(legend.unit, ux, uy + line * 0.4, theme.pt(13.0), theme.muted, middle=True)
        cy += 0.0 if unit_inline else line
    cy += theme.px(8.0)
    bar_h = theme.px(14.0)
    bar_w = w - 2 * pad
    canvas.picture(ramp_texture(legend.stops), x + pad, cy, bar_w, bar_h)
    edge = theme.line if not theme.high_contrast else theme.ink
    ring_rect(canvas.node, x + pad, cy, bar_w, bar_h, 0.0, -max(theme.outline, theme.px(1.0)), 0.0, edge, edge)
    cy += bar_h + theme.px(6.0)
    if legend.stops:
        low, high = legend.stops[0][0], legend.stops[-1][0]
        span = (high - low) or 1.0
        size = theme.pt(12.0)
        last_right = -1e9
        for value, label in legend.labels:
            t = min(1.0, max(0.0, (value - low) / span))
            cx = x + pad + t * bar_w
            half = canvas.measure(label, size) / 2
            cx = min(max(cx, x + pad + half), x + pad + bar_w - half)
            if cx - half < last_right + theme.px(4.0):
                continue  # labels never overlap; a crowded one is left out
            canvas.rect(x + pad + t * bar_w - theme.px(0.75), cy - theme.px(5.0), theme.px(1.5), theme.px(4.0),
                        theme.ink)
            canvas.text(label, cx, cy, size, theme.muted, align="center")
            last_right = cx + half


def draw_palette(canvas: Canvas, view: HudView, layout: ExploreLayout) -> None:
    """The tray of interventions: one row of tall tiles (icon over name and cost) when
    they are wide enough, else two rows of wide tiles (icon beside name and cost), so
    that long names (Finnish, German) stay whole and readable."""
    if layout.tray is None:
        return
    theme = canvas.theme
    x, y, w, h = layout.tray
    canvas.card(x, y, w, h)
    pad = theme.px(8.0)
    gap = theme.px(6.0)
    count = len(view.palette)
    single_w = (w - 2 * pad - gap * (count - 1)) / count
    rows = 1 if single_w >= theme.px(120.0) else 2
    columns = math.ceil(count / rows)
    tile_w = min(theme.px(170.0) if rows == 1 else w, (w - 2 * pad - gap * (columns - 1)) / columns)
    tile_h = (h - 2 * pad - gap * (rows - 1)) / rows
    start = x + (w - (tile_w * columns + gap * (columns - 1))) / 2
    for index, item in enumerate(view.palette):
        tx = start + (index % columns) * (tile_w + gap)
        ty = y + pad + (index // columns) * (tile_h + gap)
        _tile(canvas, item, tx, ty, tile_w, tile_h, wide=rows > 1)


def _tile(canvas: Canvas, item: PaletteItem, x: float, y: float, w: float, h: float, *, wide: bool) -> None:
    theme = canvas.theme
    look = canvas.hit(x, y, w, h, item.name, item.action, enabled=item.enabled)
    radius = theme.px(10.0)
    if item.selected:
        canvas.card(x, y, w, h, fill=theme.accent_soft, radius=radius, shadow=False, parent=look)
        edge = theme.px(4.0 if theme.high_contrast else 2.5)
        colour = theme.ink if theme.high_contrast else theme.accent
        ring_rect(look, x, y, w, h, radius, -edge, 0.0, colour, colour)
    else:
        canvas.card(x, y, w, h, fill=theme.card_alt, radius=radius, shadow=False,
                    outline=theme.line if theme.high_contrast else None, parent=look)
    on_fill = item.selected and theme.high_contrast
    ink = theme.on_accent if on_fill else theme.ink
    muted = theme.on_accent if on_fill else theme.muted
    nominal, cost_size = theme.pt(12.0), theme.pt(11.0)
    inset = theme.px(6.0)
    if wide:
        icon = h - 2 * inset
        ix, iy = x + inset, y + inset
        text_x = ix + icon + theme.px(8.0)
        text_w = x + w - inset - text_x
        name_size = canvas.fit_size(item.name, nominal, text_w, bold=True)
        name_rows = min(2, len(canvas.lines(item.name, name_size, text_w, bold=True)))
        block = name_rows * canvas.line_height(name_size) + canvas.line_height(cost_size)
        ty = y + (h - block) / 2
        ty += canvas.text(item.name, text_x, ty, name_size, ink, bold=True, width=text_w, max_lines=2, parent=look)
        canvas.text(item.cost, text_x, ty, cost_size, muted, width=text_w, max_lines=1, parent=look)
    else:
        text_w = w - theme.px(8.0)
        name_size = canvas.fit_size(item.name, nominal, text_w, bold=True)
        # The same icon size on every tile: room for three lines of name at the nominal size.
        text_h = 3 * canvas.line_height(nominal) + canvas.line_height(cost_size) + theme.px(6.0)
        icon = max(theme.px(16.0), min(w - 2 * inset, h - text_h - theme.px(10.0)))
        ix, iy = x + (w - icon) / 2, y + inset
        canvas.text(item.name, x + w / 2, iy + icon + theme.px(4.0), name_size, ink, bold=True, align="center",
                    width=text_w, max_lines=3, parent=look)
        canvas.text(item.cost, x + w / 2, y + h - theme.px(4.0) - canvas.line_height(cost_size), cost_size, muted,
                    align="center", width=w - theme.px(6.0), max_lines=1, parent=look)
    texture = canvas.icon(item.catalog) if canvas.icon else None
    if texture is not None:
        canvas.picture(texture, ix, iy, icon, icon, parent=look)
    else:
        canvas.rect(ix, iy, icon, icon, theme.accent if not on_fill else theme.on_accent, icon / 2, parent=look)
        canvas.text(item.name[:1].upper(), ix + icon / 2, iy + icon / 2, icon * 0.5,
                    theme.on_accent if not on_fill else theme.accent, bold=True, align="center", middle=True,
                    register=False, parent=look)
    if not item.enabled:
        look.set_color_scale(0.75, 0.75, 0.75, 0.55)


def draw_tools(canvas: Canvas, view: HudView, layout: ExploreLayout) -> None:
    """The tools: floating buttons above the palette, left-aligned, selected ones filled."""
    theme = canvas.theme
    y = layout.tools_y
    for row in layout.tool_rows:
        x = theme.margin
        for index in row:
            button = view.tools[index]
            w = canvas.button_width(button.label, layout.tool_size, pad=layout.tool_pad)
            canvas.button(button.label, button.action, x, y, w, theme.touch, kind="selected" if button.selected
                          else "plain", enabled=button.enabled, size=layout.tool_size, shadow=True)
            x += w + theme.gap
        y += theme.touch + theme.gap


def draw_hint(canvas: Canvas, view: HudView, layout: ExploreLayout) -> None:
    """One line of help centred at the bottom, on a translucent band."""
    if not view.hint:
        return
    theme = canvas.theme
    size = theme.pt(13.0)
    height = float(theme.height_px) - layout.hint_y
    width = min(canvas.measure(view.hint, size) + theme.px(28.0), theme.width_px - 2 * theme.margin)
    x = (theme.width_px - width) / 2
    band = (0.0, 0.0, 0.0, 0.85) if theme.high_contrast else (1.0, 1.0, 1.0, 0.72)
    canvas.rect(x, layout.hint_y + theme.px(3.0), width, height - theme.px(6.0), band, (height - theme.px(6.0)) / 2)
    canvas.text(view.hint, theme.width_px / 2, layout.hint_y + height / 2, size, theme.ink, align="center",
                middle=True, width=width - theme.px(20.0), max_lines=1)
