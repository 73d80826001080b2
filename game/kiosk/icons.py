"""Palette pictograms for the catalog, drawn in pure numpy (no Panda3D, no fonts, no files).

Each pictogram is a handful of flat shapes (circles, rounded rectangles, polygons, thick
lines, arcs) painted over a transparent square at four times the asked size and averaged
down 4 × 4, which antialiases every edge. Shapes are laid out in a unit square with y up;
bold forms and a margin keep them readable at 64 px. The output is straight (not
premultiplied) RGBA8, row 0 at the top, ready for a Panda3D texture or a PNG.

>>> from world.catalog import load_catalog
>>> icon = icon_rgba(load_catalog()["bench"], 32)
>>> icon.shape, icon.dtype.name, int(icon[0, 0, 3])
((32, 32, 4), 'uint8', 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import pairwise

import numpy as np

from world.catalog import Catalog, Intervention

__all__ = ["PICTOGRAMS", "icon_rgba", "icon_sheet"]

_SUPERSAMPLE = 4
Rgb = tuple[int, int, int]
Mask = np.ndarray

DARK, GROUND, TRUNK = (52, 58, 66), (150, 150, 146), (122, 86, 58)
METAL = (98, 104, 114)  # mid grey: reads on light and dark backgrounds alike
LEAF_DARK, LEAF, LEAF_LIGHT = (58, 128, 66), (86, 160, 78), (138, 194, 100)
WOOD, BLUE, RED, WHITE = (184, 124, 74), (86, 150, 214), (214, 56, 48), (255, 255, 255)


class _Canvas:
    """A supersampled premultiplied RGBA canvas over the unit square, y up."""

    def __init__(self, size_px: int) -> None:
        n = size_px * _SUPERSAMPLE
        centres = (np.arange(n) + 0.5) / n
        self.size_px = size_px
        self.x, self.y = centres[None, :], 1.0 - centres[:, None]
        self.premul = np.zeros((n, n, 4), np.float32)

    def paint(self, mask: Mask, rgb: Rgb, alpha: float = 1.0) -> None:
        a = (np.broadcast_to(mask, self.premul.shape[:2]) * np.float32(alpha))[..., None]
        self.premul = self.premul * (1.0 - a) + np.array([*rgb, 255], np.float32) / 255.0 * a

    def rgba(self) -> np.ndarray:
        s, k = self.size_px, _SUPERSAMPLE
        premul = self.premul.reshape(s, k, s, k, 4).mean(axis=(1, 3))
        alpha = premul[..., 3:]
        rgb = np.divide(premul[..., :3], alpha, out=np.zeros_like(premul[..., :3]), where=alpha > 1e-6)
        return np.round(np.concatenate([rgb, alpha], axis=-1) * 255.0).clip(0, 255).astype(np.uint8)

    # -- shapes: boolean masks over the canvas --

    def circle(self, cx: float, cy: float, r: float) -> Mask:
        return (self.x - cx) ** 2 + (self.y - cy) ** 2 <= r * r

    def ellipse(self, cx: float, cy: float, rx: float, ry: float) -> Mask:
        return ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0

    def rect(self, x0: float, y0: float, x1: float, y1: float, r: float = 0.0) -> Mask:
        dx = np.maximum(np.maximum(x0 + r - self.x, self.x - (x1 - r)), 0.0)
        dy = np.maximum(np.maximum(y0 + r - self.y, self.y - (y1 - r)), 0.0)
        inside = (self.x >= x0) & (self.x <= x1) & (self.y >= y0) & (self.y <= y1)
        return inside & (dx * dx + dy * dy <= r * r + 1e-12)

    def polygon(self, points: Iterable[tuple[float, float]]) -> Mask:
        """Even-odd fill: one vectorised crossing test per edge."""
        pts = np.asarray(list(points), np.float64)
        inside = np.zeros(np.broadcast(self.x, self.y).shape, bool)
        for (x0, y0), (x1, y1) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
            if y0 == y1:
                continue
            crosses = (self.y >= min(y0, y1)) & (self.y < max(y0, y1))
            x_at = x0 + (self.y - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (self.x < x_at)
        return inside

    def line(self, points: Iterable[tuple[float, float]], width: float) -> Mask:
        """A polyline with round caps and joins."""
        pts = np.asarray(list(points), np.float64)
        mask = np.zeros(np.broadcast(self.x, self.y).shape, bool)
        for (ax, ay), (bx, by) in pairwise(pts):
            dx, dy = bx - ax, by - ay
            t = np.clip(((self.x - ax) * dx + (self.y - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
            mask |= (self.x - ax - t * dx) ** 2 + (self.y - ay - t * dy) ** 2 <= (width / 2.0) ** 2
        return mask

    def ring(self, cx: float, cy: float, r: float, width: float) -> Mask:
        return np.abs(np.hypot(self.x - cx, self.y - cy) - r) <= width / 2.0

    def arc(self, cx: float, cy: float, r: float, width: float, half_angle_deg: float) -> Mask:
        """A ring segment opening towards +x, ``half_angle_deg`` either side."""
        angle = np.degrees(np.arctan2(self.y - cy, self.x - cx))
        return self.ring(cx, cy, r, width) & (np.abs(angle) <= half_angle_deg)

    def drop(self, cx: float, cy: float, r: float) -> Mask:
        """A rain drop: a circle with a point on top."""
        s, c = 0.866 * r, 0.5 * r
        return self.circle(cx, cy, r) | self.polygon([(cx - s, cy + c), (cx + s, cy + c), (cx, cy + 2.1 * r)])


# ---- shared motifs ---------------------------------------------------------------------


def _ground_line(c: _Canvas) -> None:
    c.paint(c.rect(0.08, 0.05, 0.92, 0.11, 0.03), GROUND)


def _tree_at(c: _Canvas, cx: float, base: float, height: float, crown_r: float) -> None:
    """A trunk and a crown of three overlapping discs with a highlight."""
    cy = base + height - crown_r
    trunk_w = max(0.05, 0.18 * crown_r)
    c.paint(c.rect(cx - trunk_w / 2, base, cx + trunk_w / 2, cy, trunk_w / 4), TRUNK)
    side_r, side_dy = 0.72 * crown_r, 0.42 * crown_r
    c.paint(c.circle(cx - 0.5 * crown_r, cy - side_dy, side_r) | c.circle(cx + 0.5 * crown_r, cy - side_dy, side_r),
            LEAF_DARK)
    c.paint(c.circle(cx, cy, crown_r), LEAF)
    c.paint(c.circle(cx - 0.35 * crown_r, cy + 0.3 * crown_r, 0.34 * crown_r), LEAF_LIGHT)


def _house(c: _Canvas, wall: Rgb, roof: Rgb, window: Rgb) -> None:
    c.paint(c.rect(0.2, 0.08, 0.78, 0.54), wall)
    c.paint(c.polygon([(0.1, 0.52), (0.88, 0.52), (0.49, 0.88)]), roof)
    c.paint(c.rect(0.27, 0.3, 0.39, 0.42, 0.015) | c.rect(0.59, 0.3, 0.71, 0.42, 0.015), window)
    c.paint(c.rect(0.43, 0.08, 0.55, 0.32, 0.015), DARK)


# ---- pictograms ------------------------------------------------------------------------


def _tree(c: _Canvas, entry: Intervention) -> None:
    """Heights and crowns scale with the entry's: a 15 m tree fills the square."""
    height_m = float(entry.effect.get("height_m", 10.0))
    radius_m = float(entry.effect.get("canopy_radius_m", 4.0))
    height = float(np.clip(0.84 * (0.25 + 0.75 * height_m / 15.0), 0.3, 0.84))
    _ground_line(c)
    _tree_at(c, 0.5, 0.11, height, height * float(np.clip(0.25 + 0.02 * radius_m, 0.25, 0.4)))


def _bench(c: _Canvas, entry: Intervention) -> None:
    _ground_line(c)
    c.paint(c.rect(0.17, 0.11, 0.25, 0.44) | c.rect(0.75, 0.11, 0.83, 0.44), METAL)
    c.paint(c.rect(0.18, 0.46, 0.24, 0.82) | c.rect(0.76, 0.46, 0.82, 0.82), METAL)
    for y in (0.55, 0.7):
        c.paint(c.rect(0.1, y, 0.9, y + 0.1, 0.03), WOOD)
    c.paint(c.rect(0.06, 0.38, 0.94, 0.49, 0.035), WOOD)


def _park(c: _Canvas, entry: Intervention) -> None:
    hill = c.ellipse(0.5, 0.0, 0.56, 0.36) & (c.y >= 0.06)
    c.paint(hill, LEAF)
    c.paint(hill & c.line([(0.6, 0.06), (0.52, 0.16), (0.62, 0.26), (0.54, 0.34)], 0.07), (226, 210, 170))
    _tree_at(c, 0.3, 0.2, 0.66, 0.2)
    _tree_at(c, 0.76, 0.18, 0.48, 0.15)


def _play_area(c: _Canvas, entry: Intervention) -> None:
    c.paint(c.rect(0.06, 0.05, 0.94, 0.15, 0.035), (214, 96, 64))
    c.paint(c.rect(0.12, 0.15, 0.18, 0.68) | c.rect(0.42, 0.15, 0.48, 0.68), (236, 184, 40))
    c.paint(c.polygon([(0.06, 0.66), (0.54, 0.66), (0.3, 0.9)]), (206, 62, 52))
    c.paint(c.line([(0.46, 0.44), (0.84, 0.2), (0.92, 0.2)], 0.08), (62, 168, 92))
    c.paint(c.rect(0.1, 0.4, 0.5, 0.47, 0.02), BLUE)
    for y in (0.22, 0.3):
        c.paint(c.rect(0.18, y, 0.42, y + 0.03), DARK)


def _paving(c: _Canvas, entry: Intervention) -> None:
    c.paint(c.rect(0.08, 0.08, 0.92, 0.92, 0.08), (98, 160, 82))
    gap, x0, x1 = 0.04, 0.12, 0.88
    row_h = (0.76 - 2 * gap) / 3
    for row in range(3):
        y = 0.12 + row * (row_h + gap)
        cuts = [x0, 0.5 - gap / 2, 0.5 + gap / 2, x1] if row != 1 else \
            [x0, 0.31 - gap / 2, 0.31 + gap / 2, 0.69 - gap / 2, 0.69 + gap / 2, x1]
        for a, b in zip(cuts[::2], cuts[1::2], strict=True):
            c.paint(c.rect(a, y, b, y + row_h, 0.025), (158, 160, 158))
    c.paint(c.drop(0.5, 0.515, 0.07), BLUE)


def _rain_garden(c: _Canvas, entry: Intervention) -> None:
    for x, y in ((0.24, 0.74), (0.5, 0.8), (0.76, 0.7)):
        c.paint(c.drop(x, y, 0.065), BLUE)
    c.paint(c.ellipse(0.5, 0.34, 0.46, 0.3) & (c.y <= 0.34), GROUND)
    c.paint(c.ellipse(0.5, 0.34, 0.38, 0.22) & (c.y <= 0.34), (92, 66, 50))
    for x in (0.26, 0.4, 0.54, 0.68):
        c.paint(c.polygon([(x - 0.05, 0.28), (x + 0.05, 0.28), (x + 0.01, 0.5)])
                | c.polygon([(x - 0.01, 0.28), (x + 0.09, 0.28), (x + 0.1, 0.44)]), LEAF)


def _green_roof(c: _Canvas, entry: Intervention) -> None:
    _house(c, (236, 222, 196), LEAF, BLUE)
    for x, y in ((0.32, 0.58), (0.49, 0.66), (0.66, 0.58), (0.42, 0.76), (0.57, 0.76)):
        c.paint(c.circle(x, y, 0.045), LEAF_LIGHT)


def _bike_lane(c: _Canvas, entry: Intervention) -> None:
    c.paint(c.rect(0.04, 0.05, 0.96, 0.17, 0.04), (196, 76, 62))
    colour, w = (46, 104, 178), 0.055
    for x in (0.25, 0.75):
        c.paint(c.ring(x, 0.38, 0.16, w), colour)
    rear, bracket, seat, head, front = (0.25, 0.38), (0.47, 0.38), (0.4, 0.62), (0.68, 0.62), (0.75, 0.38)
    c.paint(c.line([rear, bracket, seat, rear], w) | c.line([seat, head, bracket], w) | c.line([head, front], w)
            | c.line([(0.33, 0.67), (0.46, 0.67)], w) | c.line([(0.68, 0.62), (0.64, 0.73), (0.72, 0.73)], w),
            colour)


def _traffic_calming(c: _Canvas, entry: Intervention) -> None:
    """A striped speed hump on the road under a 30 sign."""
    c.paint(c.rect(0.47, 0.3, 0.53, 0.6), METAL)
    c.paint(c.rect(0.04, 0.06, 0.96, 0.26, 0.04), (76, 80, 88))
    for x in (0.07, 0.83):
        c.paint(c.rect(x, 0.14, x + 0.1, 0.18), WHITE)
    hump = c.ellipse(0.5, 0.26, 0.34, 0.2) & (c.y >= 0.26)
    c.paint(hump, (40, 40, 44))
    c.paint(hump & (((c.x - c.y) * 7.0) % 1.0 < 0.5), (244, 196, 48))
    c.paint(c.circle(0.5, 0.72, 0.23), RED)
    c.paint(c.circle(0.5, 0.72, 0.17), WHITE)
    digit = (30, 30, 34)
    c.paint(c.arc(0.435, 0.765, 0.042, 0.03, 110.0) | c.arc(0.435, 0.675, 0.042, 0.03, 110.0), digit)
    c.paint(np.abs(np.hypot((c.x - 0.555) / 0.042, (c.y - 0.72) / 0.088) - 1.0) <= 0.35, digit)


def _noise_barrier(c: _Canvas, entry: Intervention) -> None:
    for r in (0.11, 0.2, 0.29):
        c.paint(c.arc(0.06, 0.45, r, 0.05, 50.0), (232, 120, 48))
    c.paint(c.rect(0.42, 0.08, 0.94, 0.11), GROUND)
    c.paint(c.rect(0.44, 0.11, 0.92, 0.64), (176, 146, 104))
    for x in (0.5, 0.56, 0.62, 0.74, 0.8, 0.86):
        c.paint(c.rect(x - 0.006, 0.14, x + 0.006, 0.62), (150, 120, 84))
    c.paint(c.rect(0.44, 0.64, 0.92, 0.8), (168, 210, 230))
    c.paint(c.rect(0.42, 0.11, 0.46, 0.84) | c.rect(0.66, 0.11, 0.7, 0.84) | c.rect(0.9, 0.11, 0.94, 0.84), METAL)


def _new_building(c: _Canvas, entry: Intervention) -> None:
    _house(c, (236, 214, 184), (180, 86, 64), BLUE)
    c.paint(c.circle(0.8, 0.8, 0.17), WHITE)
    c.paint(c.circle(0.8, 0.8, 0.14), (54, 156, 74))
    c.paint(c.rect(0.72, 0.78, 0.88, 0.82, 0.01) | c.rect(0.78, 0.72, 0.82, 0.88, 0.01), WHITE)


def _remove_building(c: _Canvas, entry: Intervention) -> None:
    _house(c, (188, 186, 182), (128, 126, 126), (150, 160, 170))
    cross = [[(0.16, 0.14), (0.84, 0.84)], [(0.16, 0.84), (0.84, 0.14)]]
    c.paint(c.line(cross[0], 0.17) | c.line(cross[1], 0.17), WHITE)
    c.paint(c.line(cross[0], 0.11) | c.line(cross[1], 0.11), RED)


#: Catalog ``model`` name -> the function that paints its pictogram.
PICTOGRAMS: dict[str, Callable[[_Canvas, Intervention], None]] = {
    "tree": _tree, "bench": _bench, "park": _park, "play-area": _play_area, "permeable-paving": _paving,
    "rain-garden": _rain_garden, "green-roof": _green_roof, "bike-lane": _bike_lane,
    "traffic-calming": _traffic_calming, "noise-barrier": _noise_barrier, "building": _new_building,
    "remove-building": _remove_building,
}


def icon_rgba(entry: Intervention, size_px: int = 128) -> np.ndarray:
    """The pictogram of ``entry``: ``(size_px, size_px, 4)`` uint8 straight RGBA, row 0 at
    the top, transparent around the shapes. Raises ValueError for a model with none."""
    paint = PICTOGRAMS.get(entry.model)
    if paint is None:
        raise ValueError(f"{entry.id}: no pictogram for the model {entry.model!r} "
                         f"(known: {', '.join(sorted(PICTOGRAMS))}).")
    if size_px < 8:
        raise ValueError(f"{entry.id}: an icon of {size_px} px is too small to draw.")
    canvas = _Canvas(size_px)
    paint(canvas, entry)
    return canvas.rgba()


def icon_sheet(catalog: Catalog | Iterable[Intervention], size_px: int = 128) -> dict[str, np.ndarray]:
    """Every entry's pictogram by catalog id, in catalog order."""
    return {entry.id: icon_rgba(entry, size_px) for entry in catalog}
