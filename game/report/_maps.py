"""Maps of the report as inline SVG: the basemap, proposals in their kiosks' colours, consensus.

The workshop's local frame has x east and y north in metres; SVG has y down, so every
map flips y (:class:`MapFrame`). Basemap layers are drawn in light, printable tones (the
wall's own colours are for a dark projector screen), one path per layer; on top go the
proposals or the consensus cells, then a scale bar and a north arrow. The attribution the
data licence asks for is written under each map by the page (``figcaption``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

import numpy as np
import shapely

from game.wall.basemap import LAYERS, Basemap
from game.wall.board import Board, RankedProposal
from game.wall.colours import PHONES_COLOUR, hex_colour
from game.wall.consensus import Consensus, intervention_shape

__all__ = ["LAYER_FILLS", "MapFrame", "consensus_colour", "consensus_legend", "consensus_map", "maps_section",
           "proposals_map", "scale_length_m"]

#: Printable basemap fills per layer (land is the paper colour behind them).
LAYER_FILLS = {"water": "#a9cbe4", "green": "#cfe3c3", "road": "#ffffff", "building": "#cbc5bb"}
_LAND = "#efebe3"
_INK = "#1d2433"
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
#: Consensus ramp, low to high support: viridis stops reversed (light yellow to dark
#: purple), readable with any common colour-vision deficiency and in greyscale print.
_RAMP = ((0.0, (253, 231, 37)), (0.25, (94, 201, 98)), (0.5, (33, 145, 140)), (0.75, (59, 82, 139)),
         (1.0, (68, 1, 84)))
_SCALES_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)
#: Shapes smaller than this on the map (px) also get a round marker, so a bench shows.
_MARKER_BELOW_PX = 6.0


@dataclass(frozen=True)
class MapFrame:
    """Local metres to SVG pixels for ``area_m`` drawn ``width_px`` wide (north up)."""

    area_m: tuple[float, float, float, float]
    width_px: float

    @property
    def scale(self) -> float:
        """Pixels per metre."""
        return self.width_px / max(self.area_m[2] - self.area_m[0], 1e-9)

    @property
    def height_px(self) -> float:
        return (self.area_m[3] - self.area_m[1]) * self.scale

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        """``(N, 2)`` local metres to ``(N, 2)`` pixels, y flipped."""
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = (xy[:, 0] - self.area_m[0]) * self.scale
        out[:, 1] = (self.area_m[3] - xy[:, 1]) * self.scale
        return out


def _ring_d(frame: MapFrame, coords: np.ndarray) -> str:
    px = np.round(frame.to_px(coords[:, :2]), 1)
    points = " ".join(f"{x:g},{y:g}" for x, y in px)
    return f"M{points}Z"


def _path_d(frame: MapFrame, geometry: shapely.Geometry) -> str:
    """A (multi)polygon as SVG path data: every ring, for ``fill-rule="evenodd"``."""
    d = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, shapely.Polygon) and not part.is_empty:
            d.append(_ring_d(frame, np.asarray(part.exterior.coords)))
            d.extend(_ring_d(frame, np.asarray(ring.coords)) for ring in part.interiors)
        elif isinstance(part, shapely.GeometryCollection | shapely.MultiPolygon):
            d.append(_path_d(frame, part))
    return "".join(d)


def _svg_open(frame: MapFrame, label: str) -> str:
    w, h = frame.width_px, frame.height_px
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="map" viewBox="0 0 {w:g} {h:.1f}" '
            f'width="{w:g}" height="{h:.1f}" aria-label="{escape(label, quote=True)}" font-family="{_FONT}">'
            f'<title>{escape(label)}</title>')


def _basemap(frame: MapFrame, basemap: Basemap) -> str:
    parts = [f'<rect width="{frame.width_px:g}" height="{frame.height_px:.1f}" fill="{_LAND}"/>']
    for layer in LAYERS:
        shapes = basemap.shapes.get(layer, [])
        if not shapes:
            continue
        d = "".join(_path_d(frame, shape) for shape in shapes)
        stroke = ' stroke="#a59e93" stroke-width="0.4"' if layer == "building" else ""
        parts.append(f'<path class="layer-{layer}" d="{d}" fill="{LAYER_FILLS[layer]}" fill-rule="evenodd"{stroke}/>')
    return "".join(parts)


def scale_length_m(width_m: float) -> int:
    """The longest round length (10 m, 20 m, 25 m, 50 m…) at most a quarter of ``width_m``.

    >>> scale_length_m(1000.0), scale_length_m(180.0)
    (250, 25)
    """
    fitting = [s for s in _SCALES_M if s <= width_m / 4.0]
    return fitting[-1] if fitting else _SCALES_M[0]


def _furniture(frame: MapFrame) -> str:
    """Scale bar (bottom left) and north arrow (top right); the frame's y axis is grid north."""
    length_m = scale_length_m(frame.area_m[2] - frame.area_m[0])
    bar_px = length_m * frame.scale
    x, y = 14.0, frame.height_px - 18.0
    text = f"{length_m:,} m".replace(",", " ") if length_m < 1000 else f"{length_m / 1000:g} km"
    scale = (f'<g class="scale-bar" aria-hidden="true"><rect x="{x - 8}" y="{y - 24}" width="{bar_px + 16:.1f}" '
             f'height="36" rx="3" fill="#ffffff" fill-opacity="0.85"/>'
             f'<rect x="{x}" y="{y - 4}" width="{bar_px / 2:.1f}" height="6" fill="{_INK}"/>'
             f'<rect x="{x + bar_px / 2:.1f}" y="{y - 4}" width="{bar_px / 2:.1f}" height="6" fill="#ffffff" '
             f'stroke="{_INK}" stroke-width="1"/>'
             f'<text x="{x}" y="{y - 9}" font-size="12" fill="{_INK}">0</text>'
             f'<text x="{x + bar_px:.1f}" y="{y - 9}" font-size="12" text-anchor="end" fill="{_INK}">'
             f'{text}</text></g>')
    nx, ny = frame.width_px - 26.0, 14.0
    north = (f'<g class="north" aria-hidden="true"><circle cx="{nx}" cy="{ny + 20}" r="19" fill="#ffffff" '
             f'fill-opacity="0.85"/><path d="M{nx},{ny + 4} L{nx + 8},{ny + 30} L{nx},{ny + 24} '
             f'L{nx - 8},{ny + 30} Z" fill="{_INK}"/><text x="{nx}" y="{ny + 50}" font-size="13" '
             f'font-weight="bold" text-anchor="middle" fill="{_INK}" stroke="#ffffff" stroke-width="3" '
             f'paint-order="stroke">N</text></g>')
    outline = (f'<rect x="0.5" y="0.5" width="{frame.width_px - 1:g}" height="{frame.height_px - 1:.1f}" '
               f'fill="none" stroke="{_INK}" stroke-width="1"/>')
    return scale + north + outline


def _label(x: float, y: float, text: str, size: int = 13) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="bold" text-anchor="middle" '
            f'fill="{_INK}" stroke="#ffffff" stroke-width="3.5" stroke-linejoin="round" paint-order="stroke">'
            f'{escape(text)}</text>')


def proposals_map(basemap: Basemap, ranking: Sequence[RankedProposal], width_px: float = 856.0) -> str:
    """Every proposal's interventions in the colour of the kiosk it came from, labelled
    with the proposal's id; the most voted proposal is drawn last (on top)."""
    frame = MapFrame(basemap.area_m, width_px)
    label = (f"Map of the {len(ranking)} proposals' interventions, coloured by the kiosk they came from"
             if ranking else "Map of the workshop area; no proposal was made")
    parts = [_svg_open(frame, label), _basemap(frame, basemap)]
    labels = []
    for proposal in reversed(ranking):
        shapes = [intervention_shape(item) for item in proposal.interventions]
        shapes = [s for s in shapes if s is not None and not s.is_empty]
        if not shapes:
            continue
        fill = hex_colour(proposal.colour)
        parts.append(f'<g class="proposal" data-proposal="{escape(proposal.id, quote=True)}">'
                     f'<title>{escape(proposal.id)}: {escape(proposal.title)}</title>')
        for shape in shapes:
            parts.append(f'<path d="{_path_d(frame, shape)}" fill="{fill}" fill-opacity="0.85" fill-rule="evenodd" '
                         f'stroke="{_INK}" stroke-width="1.2"/>')
            minx, miny, maxx, maxy = shape.bounds
            if max(maxx - minx, maxy - miny) * frame.scale < _MARKER_BELOW_PX:
                cx, cy = frame.to_px(np.array([[(minx + maxx) / 2, (miny + maxy) / 2]]))[0]
                parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{fill}" stroke="{_INK}" '
                             f'stroke-width="1.2"/>')
        parts.append("</g>")
        centre = shapely.union_all(shapes).centroid
        cx, cy = frame.to_px(np.array([[centre.x, centre.y]]))[0]
        labels.append(_label(cx, cy - 8, proposal.id))
    parts.extend(labels)
    parts.append(_furniture(frame))
    parts.append("</svg>")
    return "".join(parts)


def consensus_colour(fraction: float) -> str:
    """The ramp's colour at ``fraction`` (0 = least, 1 = most support)."""
    f = min(max(fraction, 0.0), 1.0)
    for (f0, c0), (f1, c1) in pairwise(_RAMP):
        if f <= f1:
            t = 0.0 if f1 == f0 else (f - f0) / (f1 - f0)
            return hex_colour(tuple(round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True)))
    return hex_colour(_RAMP[-1][1])


def consensus_map(basemap: Basemap, consensus: Consensus, width_px: float = 856.0) -> str:
    """The area in cells of ``consensus.cell_m``, each shaded by the votes behind the
    proposals touching it (cells no proposal touches are left clear)."""
    frame = MapFrame(basemap.area_m, width_px)
    most = consensus.max_support
    cells = consensus.cells()
    label = (f"Consensus map: {len(cells)} cells of {consensus.cell_m:g} m touched by proposals, "
             f"the strongest backed by {most:g} votes" if cells else "Consensus map: no proposal received votes")
    parts = [_svg_open(frame, label), _basemap(frame, basemap), '<g class="consensus">']
    for x0, y0, x1, y1, support in cells:
        (px0, py1), (px1, py0) = frame.to_px(np.array([[x0, y0], [x1, y1]]))
        parts.append(f'<rect x="{px0:.1f}" y="{py0:.1f}" width="{px1 - px0:.1f}" height="{py1 - py0:.1f}" '
                     f'fill="{consensus_colour(support / most if most else 0.0)}" fill-opacity="0.78">'
                     f'<title>{support:g} votes</title></rect>')
    parts.append("</g>")
    parts.append(_furniture(frame))
    parts.append("</svg>")
    return "".join(parts)


def consensus_legend(most: float, width_px: float = 360.0) -> str:
    """The ramp as a bar from 1 vote to ``most`` votes, with round ticks."""
    height, left, right = 58, 12, 12
    bar_w = width_px - left - right
    stops = "".join(f'<stop offset="{f:g}" stop-color="{hex_colour(c)}"/>' for f, c in _RAMP)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="legend-scale" viewBox="0 0 {width_px:g} '
             f'{height}" width="{width_px:g}" height="{height}" font-family="{_FONT}" '
             f'aria-label="Colour scale: light yellow for few votes to dark purple for {most:g} votes">'
             f'<title>Colour scale of the consensus map, 0 to {most:g} votes</title>'
             f'<defs><linearGradient id="consensus-ramp">{stops}</linearGradient></defs>'
             f'<rect x="{left}" y="4" width="{bar_w:g}" height="14" fill="url(#consensus-ramp)" '
             f'stroke="{_INK}" stroke-width="0.8"/>']
    top = max(most, 1.0)
    step = max(1.0, _round_step(top))
    value = 0.0
    while value <= top + 1e-9:
        x = left + bar_w * value / top
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="18" y2="23" stroke="{_INK}"/>'
                     f'<text x="{x:.1f}" y="35" font-size="12" text-anchor="middle" fill="{_INK}">{value:g}</text>')
        value += step
    parts.append(f'<text x="{width_px - right:g}" y="{height - 1}" font-size="12" text-anchor="end" '
                 f'fill="{_INK}">votes behind a cell (most: {most:g})</text></svg>')
    return "".join(parts)


def _round_step(top: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(max(top / 5.0, 1e-9)))
    return next(f * magnitude for f in (1.0, 2.0, 5.0, 10.0) if top / (f * magnitude) <= 5)


def _legend(board: Board) -> str:
    """Swatches of the kiosks (and phones) whose proposals are on the map."""
    used = {p.kiosk for p in board.ranking}
    items = [(hex_colour(k["colour"]), f"{k['name']} ({k['id']})") for k in board.kiosks if k["id"] in used]
    if None in used:
        items.append((hex_colour(PHONES_COLOUR), "proposals from phones"))
    return '<ul class="legend">' + "".join(
        f'<li><span class="swatch" style="background:{c}"></span>{escape(t)}</li>' for c, t in items) + "</ul>"


def maps_section(basemap: Basemap, board: Board) -> str:
    """The report's map section: proposals with their legend, consensus with its scale,
    and the data attribution under each."""
    attribution = "; ".join(basemap.attribution) or "no basemap (the city package was not found)"
    credit = f'<p class="attribution">Map data: {escape(attribution)}.</p>'
    grid = board.consensus
    scale = f'<div class="scale">{consensus_legend(grid.max_support)}</div>' if grid.max_support else ""
    return ('<section id="maps"><h2>Maps</h2>'
            f'<figure class="map-figure">{proposals_map(basemap, board.ranking)}{_legend(board)}'
            "<figcaption><b>Proposals</b>: each intervention in the colour of the kiosk it was made at (a dot marks "
            f"one too small to see at this scale), labelled with its proposal.{credit}</figcaption></figure>"
            f'<figure class="map-figure">{consensus_map(basemap, grid)}{scale}'
            f"<figcaption><b>Consensus</b>: each {grid.cell_m:g} m cell is shaded by the votes of every proposal "
            "that changes something in it, so a dark cell is a place many voters want changed, whichever proposal "
            f"they chose.{credit}</figcaption></figure></section>")
