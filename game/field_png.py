"""A simulation field as a PNG a person can read: the field over a land-cover base map,
with a title, a colour bar in the field's unit, and a scale bar.

Pure Pillow (no engine): the CLI writes these with ``civictwin sim --png DIR``, the
report embeds them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sims.field import Field
from world.raster import Grids, LandCover

__all__ = ["field_image", "write_field_png"]

#: Base-map colours by land-cover code: muted, so the field on top carries the colour.
_BASE = np.array([
    (236, 234, 228),  # other
    (214, 230, 204),  # grass
    (196, 218, 190),  # forest
    (208, 228, 198),  # park
    (226, 224, 220),  # parking
    (240, 238, 232),  # plaza
    (244, 242, 238),  # sidewalk
    (230, 226, 236),  # cycleway
    (206, 206, 206),  # carriageway
    (190, 214, 232),  # water
    (120, 120, 126),  # building
], dtype=np.float64)
_MARGIN = 16
_BAR_H = 14
_LABEL_GAP_PX = 30
_PLAIN = str.maketrans({"–": "-", "—": "-", "≥": ">=", "≤": "<=", "−": "-"})


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def field_image(field: Field, grids: Grids, max_px: int = 720) -> Image.Image:
    """The field blended over the base map, at most ``max_px`` on its longer side,
    with its title, colour bar and a scale bar."""
    base = _BASE[np.clip(grids.landcover, 0, len(_BASE) - 1)]
    overlay = _on_grid(field, grids)
    alpha = overlay[..., 3:4] / 255.0
    blended = (base * (1.0 - alpha) + overlay[..., :3] * alpha).astype(np.uint8)
    buildings = grids.landcover == LandCover.BUILDING
    blended[buildings] = (base[buildings] * 0.6 + blended[buildings] * 0.4).astype(np.uint8)
    rows, cols = grids.shape
    scale = max(1, max_px // max(rows, cols))
    picture = Image.fromarray(blended, "RGB").resize((cols * scale, rows * scale), Image.Resampling.NEAREST)

    width = picture.width + 2 * _MARGIN
    title = _wrap(_plain(field.legend or field.name), _font(15), picture.width)
    title_h = 20 * len(title)
    height = picture.height + 3 * _MARGIN + 2 * _BAR_H + 40 + title_h
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(title):
        draw.text((_MARGIN, _MARGIN // 2 + 20 * i), line, fill=(20, 20, 20), font=_font(15))
    top = _MARGIN + title_h
    canvas.paste(picture, (_MARGIN, top))
    _colour_bar(draw, field, _MARGIN, top + picture.height + _MARGIN, picture.width // 2)
    _scale_bar(draw, grids.cell_m / scale, width - _MARGIN, top + picture.height + _MARGIN)
    return canvas


def write_field_png(field: Field, grids: Grids, path: Path, max_px: int = 720) -> Path:
    """Write :func:`field_image` to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    field_image(field, grids, max_px).save(path, optimize=True)
    return path


def _on_grid(field: Field, grids: Grids) -> np.ndarray:
    """The field's RGBA resampled (nearest cell centre) onto the grids' cells."""
    colours = field.image().astype(np.float64)
    if field.cell_m is None or field.origin is None:
        return colours
    cols = np.floor((grids.xs - field.origin[0]) / field.cell_m).astype(int)
    rows = np.floor((field.origin[1] - grids.ys) / field.cell_m).astype(int)
    inside_c = (cols >= 0) & (cols < colours.shape[1])
    inside_r = (rows >= 0) & (rows < colours.shape[0])
    out = np.zeros((*grids.shape, 4))
    sub = colours[np.clip(rows, 0, colours.shape[0] - 1)][:, np.clip(cols, 0, colours.shape[1] - 1)]
    out[np.ix_(inside_r, inside_c)] = sub[np.ix_(inside_r, inside_c)]
    return out


def _colour_bar(draw: ImageDraw.ImageDraw, field: Field, left: int, top: int, width: int) -> None:
    stops = field.ramp.stops
    low, high = stops[0][0], stops[-1][0]
    values = np.linspace(low, high, width)
    colours = field.ramp.colorize(values[None, :])[0]
    for x, colour in enumerate(colours):
        draw.line([(left + x, top), (left + x, top + _BAR_H)], fill=tuple(int(c) for c in colour[:3]))
    draw.rectangle([left, top, left + width, top + _BAR_H], outline=(80, 80, 80))
    font = _font(12)
    last_x = -_LABEL_GAP_PX
    for value, _ in stops:
        x = left + round((value - low) / (high - low) * (width - 1))
        if x - last_x < _LABEL_GAP_PX:  # stepped ramps repeat a value; crowded labels are skipped
            continue
        last_x = x
        draw.line([(x, top + _BAR_H), (x, top + _BAR_H + 4)], fill=(80, 80, 80))
        draw.text((x, top + _BAR_H + 6), f"{value:g}", fill=(40, 40, 40), font=font, anchor="ma")
    draw.text((left + width + 8, top), _plain(field.unit), fill=(40, 40, 40), font=font)


def _plain(text: str) -> str:
    """Text the bundled bitmap-free default font can draw (it lacks dashes and ≥/≤)."""
    return text.translate(_PLAIN)


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width_px: int) -> list[str]:
    """``text`` broken into lines at most ``width_px`` wide."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _scale_bar(draw: ImageDraw.ImageDraw, metres_per_px: float, right: int, top: int) -> None:
    length_m = next(m for m in (500, 200, 100, 50, 20, 10, 5) if m / metres_per_px <= 200)
    length_px = round(length_m / metres_per_px)
    draw.rectangle([right - length_px, top, right, top + 6], fill=(40, 40, 40))
    draw.text((right - length_px // 2, top + 10), f"{length_m} m", fill=(40, 40, 40), font=_font(12), anchor="ma")
