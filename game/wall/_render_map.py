"""The wall's GPU pieces: coloured triangle meshes, pictures kept in textures, and the map.

Everything on the wall that is not text is triangles with a colour per vertex, drawn by
one tiny shader that maps positions to the screen with a scale and an offset: the map in
local metres, the panels in window pixels. The basemap is uploaded once; the proposals'
shapes when the set of proposals (or the highlight) changes, each proposal triangulated
once and kept; the consensus cells when the consensus grid changes.

The basemap and the map with its proposals are kept in :class:`~game.wall._layers.Layer`
textures; the map is drawn again only where a new board changed it.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely

from game.wall._layers import Layer, clear_colour
from game.wall.basemap import LAYERS, Basemap, triangulate
from game.wall.colours import LAYER_COLOURS
from game.wall.consensus import Consensus, intervention_shape

__all__ = ["CONSENSUS_RAMP", "MapPainter", "Mesh", "quads", "support_colours"]

_VERTEX_SHADER = """
#version 330
uniform vec2 u_scale;
uniform vec2 u_offset;
in vec2 in_pos;
in vec4 in_colour;
out vec4 v_colour;
void main() {
    gl_Position = vec4(in_pos * u_scale + u_offset, 0.0, 1.0);
    v_colour = in_colour;
}
"""
_FRAGMENT_SHADER = """
#version 330
in vec4 v_colour;
out vec4 f_colour;
void main() { f_colour = v_colour; }
"""
_VERTEX = np.dtype([("pos", "<f4", (2,)), ("colour", "u1", (4,))])

#: Support ramp of the consensus cells, from one vote to the most-supported cell: a
#: violet-to-pale-gold ramp that stays apart from the kiosks' Okabe–Ito colours on the map.
CONSENSUS_RAMP = ((0.0, (94, 60, 153, 80)), (0.5, (203, 82, 136, 150)), (1.0, (255, 214, 120, 200)))
#: The map's ground (the area with no feature) and the dark halo around proposals' shapes.
GROUND = (30, 33, 38, 255)
HALO = (10, 11, 14, 235)
_HALO_M = 1.6
_DIMMED_ALPHA = 70


_PROGRAMS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _program(ctx: Any) -> Any:
    """The wall's one shader program, compiled once per GL context."""
    program = _PROGRAMS.get(ctx)
    if program is None:
        program = _PROGRAMS[ctx] = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
    return program


class Mesh:
    """Triangles with a colour per vertex in one GPU buffer, replaced as a whole by :meth:`set`."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._program = _program(ctx)
        self._buffer: Any = None
        self._geometry: Any = None
        self._capacity = 0
        self.vertices = 0

    def set(self, positions: np.ndarray, colours: np.ndarray) -> None:
        """Upload ``positions`` (float, (N, 2) or (T, 3, 2)) and ``colours`` (uint8 RGBA,
        one per vertex (N, 4), or one for all (4,))."""
        pos = np.asarray(positions, dtype=np.float32).reshape(-1, 2)
        data = np.empty(len(pos), dtype=_VERTEX)
        data["pos"] = pos
        data["colour"] = np.asarray(colours, dtype=np.uint8)
        self.vertices = len(pos)
        if not self.vertices:
            return
        if data.nbytes > self._capacity:
            from arcade.gl import BufferDescription

            self._capacity = max(data.nbytes, 2 * self._capacity)
            self._buffer = self._ctx.buffer(reserve=self._capacity, usage="dynamic")
            self._geometry = self._ctx.geometry(
                [BufferDescription(self._buffer, "2f 4f1", ["in_pos", "in_colour"])], mode=self._ctx.TRIANGLES)
        self._buffer.write(data.tobytes())

    def draw(self, scale: tuple[float, float], offset: tuple[float, float], *, blend: bool = True) -> None:
        """Draw with ``ndc = position * scale + offset``, alpha-blended unless ``blend`` is False."""
        if not self.vertices:
            return
        self._program["u_scale"] = scale
        self._program["u_offset"] = offset
        if blend:
            self._ctx.enable(self._ctx.BLEND)
        else:
            self._ctx.disable(self._ctx.BLEND)
        self._geometry.render(self._program, vertices=self.vertices)


def quads(rects: Sequence[tuple[float, float, float, float]] | np.ndarray,
          colours: Sequence[Sequence[int]] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of axis-aligned rectangles ``(left, bottom, right, top)``, each with an
    RGBA colour: positions (6N, 2) and colours (6N, 4)."""
    if not len(rects):
        return np.zeros((0, 2), np.float32), np.zeros((0, 4), np.uint8)
    r = np.asarray(rects, dtype=np.float32)
    left, bottom, right, top = r[:, 0], r[:, 1], r[:, 2], r[:, 3]
    xs = np.stack([left, right, right, left, right, left], axis=1)
    ys = np.stack([bottom, bottom, top, bottom, top, top], axis=1)
    positions = np.stack([xs, ys], axis=2).reshape(-1, 2)
    rgba = colours if isinstance(colours, np.ndarray) else np.asarray(
        [tuple(c) + (255,) * (4 - len(c)) for c in colours], dtype=np.uint8)
    return positions, np.repeat(rgba, 6, axis=0)


def support_colours(fraction: np.ndarray) -> np.ndarray:
    """RGBA (N, 4) of the :data:`CONSENSUS_RAMP` at ``fraction`` (0..1) of the top support."""
    stops = np.asarray([s for s, _ in CONSENSUS_RAMP])
    values = np.asarray([c for _, c in CONSENSUS_RAMP], dtype=np.float64)
    f = np.clip(np.asarray(fraction, dtype=np.float64), 0.0, 1.0)
    return np.stack([np.interp(f, stops, values[:, k]) for k in range(4)], axis=1).round().astype(np.uint8)


def _triangles_of(shapes: Iterable[shapely.Geometry]) -> np.ndarray:
    return triangulate(list(shapes)).reshape(-1, 2)


def _overlap(a: Sequence[float] | None, b: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    """Where boxes ``a`` and ``b`` (x0, y0, x1, y1) overlap; None where either is None or they do not."""
    if a is None or b is None:
        return None
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] <= box[2] and box[1] <= box[3] else None


class MapPainter:
    """Draws one basemap and the boards on it inside a rectangle of the window.

    Two pictures are kept in textures: the basemap alone (drawn once per map size) and the
    basemap with the consensus cells and the proposals (drawn again only when those
    change). A frame of an unchanged map is one textured rectangle.
    """

    def __init__(self, ctx: Any, basemap: Basemap) -> None:
        self._ctx = ctx
        self.basemap = basemap
        self._area = shapely.box(*basemap.area_m)
        self._base = Mesh(ctx)
        self._consensus = Mesh(ctx)
        self._proposals = Mesh(ctx)
        self._per_proposal: dict[str, Any] = {}
        self._proposals_key: Any = None
        self._consensus_shown: Consensus | None = None
        self._base_layer: Layer | None = None
        self._map_layer: Layer | None = None
        #: The part of the area (metres: x0, y0, x1, y1) that the map picture shows wrong now.
        self._stale_m: tuple[float, float, float, float] | None = basemap.area_m
        #: How often the map picture was drawn again (the benchmark reports it).
        self.redraws = 0
        min_x, min_y, max_x, max_y = basemap.area_m
        parts, colours = [quads([(min_x, min_y, max_x, max_y)], [GROUND])[0]], [np.asarray([GROUND] * 6, np.uint8)]
        for layer in LAYERS:
            triangles = basemap.triangles(layer).reshape(-1, 2)
            parts.append(triangles)
            colours.append(np.repeat(np.asarray([(*LAYER_COLOURS[layer], 255)], np.uint8), len(triangles), axis=0))
        self._base.set(np.concatenate(parts), np.concatenate(colours))

    def _proposal_triangles(self, proposal: Any) -> tuple[np.ndarray, np.ndarray, tuple[float, float] | None,
                                                          tuple[float, float, float, float] | None]:
        """A proposal's halo and fill triangles (metres), clipped to the area, the middle of
        its largest shape and the bounds of all of it (the halo holds the fill); kept per
        proposal and content (a proposal never changes)."""
        cached = self._per_proposal.get(proposal.id)
        if cached is None or cached[0] != proposal.interventions:
            shapes = [shapely.intersection(intervention_shape(i), self._area) for i in proposal.interventions]
            shapes = [s for s in shapes if not s.is_empty]
            halos = [shapely.buffer(s, _HALO_M, quad_segs=3) for s in shapes]
            largest = max(shapes, key=lambda s: s.area, default=None)
            point = None if largest is None else shapely.point_on_surface(largest)
            halo = _triangles_of(shapely.intersection(h, self._area) for h in halos)
            bounds = (*halo.min(axis=0).tolist(), *halo.max(axis=0).tolist()) if len(halo) else None
            cached = self._per_proposal[proposal.id] = (
                proposal.interventions, halo, _triangles_of(shapes), None if point is None else (point.x, point.y),
                bounds)
        return cached[1:]

    def anchor_m(self, proposal: Any) -> tuple[float, float] | None:
        """Where to label ``proposal`` on the map (local metres): the middle of its shapes
        inside the area, None when none of them is."""
        return self._proposal_triangles(proposal)[2]

    def _stale(self, box_m: Sequence[float] | None) -> None:
        """Mark ``box_m`` (x0, y0, x1, y1 in metres) of the map picture to be drawn again."""
        if box_m is None:
            return
        now = self._stale_m
        self._stale_m = tuple(box_m) if now is None else (  # type: ignore[assignment]
            min(now[0], box_m[0]), min(now[1], box_m[1]), max(now[2], box_m[2]), max(now[3], box_m[3]))

    def _update_proposals(self, ranking: Sequence[Any], highlight: set[str] | None) -> None:
        key = (tuple((p.id, p.colour, len(p.interventions)) for p in ranking),
               None if highlight is None else frozenset(highlight))
        if key == self._proposals_key:
            return
        shown, self._proposals_key = self._proposals_key, key
        drawn = [self._proposal_triangles(p) for p in ranking]  # halo, fill, anchor, bounds
        if shown is None or shown[1] != key[1] or sorted(shown[0]) != sorted(key[0]):
            self._stale(self.basemap.area_m)
        else:
            # Only the order changed: a pixel looks different only where two proposals whose
            # order flipped both lie (one of each such pair moved).
            before = {entry[0]: index for index, entry in enumerate(shown[0])}
            for i, proposal in enumerate(ranking):
                if shown[0][i] != key[0][i]:
                    for j, other in enumerate(ranking):
                        if j != i and (i < j) != (before[proposal.id] < before[other.id]):
                            self._stale(_overlap(drawn[i][3], drawn[j][3]))
        # Drawn lowest-ranked first, so the leaders lie on top where shapes overlap; all halos
        # under all fills, so that neighbouring proposals keep their outline.
        order = range(len(ranking) - 1, -1, -1)
        dimmed = [highlight is not None and ranking[i].id not in highlight for i in order]
        pieces = [drawn[i][0] for i in order] + [drawn[i][1] for i in order]
        rgba = ([(*HALO[:3], _DIMMED_ALPHA // 3 if d else HALO[3]) for d in dimmed]
                + [(*ranking[i].colour, _DIMMED_ALPHA if d else 255) for i, d in zip(order, dimmed, strict=True)])
        positions = np.concatenate(pieces) if ranking else np.zeros((0, 2), np.float32)
        colours = (np.repeat(np.asarray(rgba, np.uint8), [len(piece) for piece in pieces], axis=0) if ranking
                   else np.zeros((0, 4), np.uint8))
        self._proposals.set(positions, colours)

    def _update_consensus(self, consensus: Consensus | None) -> None:
        shown = self._consensus_shown
        if consensus is shown or (consensus is not None and shown is not None
                                  and consensus.cell_m == shown.cell_m
                                  and np.array_equal(consensus.support, shown.support)):
            return
        self._consensus_shown = consensus
        if (consensus is None or shown is None or consensus.cell_m != shown.cell_m or consensus.area_m != shown.area_m
                or consensus.support.shape != shown.support.shape or consensus.max_support != shown.max_support):
            self._stale(self.basemap.area_m)
        else:
            # The same scale of colours: only the cells whose support changed look different.
            rows, cols = np.nonzero(consensus.support != shown.support)
            min_x, min_y = consensus.area_m[:2]
            cell = consensus.cell_m
            self._stale((min_x + cols.min() * cell, min_y + rows.min() * cell, min_x + (cols.max() + 1) * cell,
                         min_y + (rows.max() + 1) * cell))
        top = consensus.max_support if consensus is not None else 0.0
        if consensus is None or top <= 0:
            self._consensus.set(np.zeros((0, 2), np.float32), np.zeros((0, 4), np.uint8))
            return
        # The cells of Consensus.cells(), in its order, without a Python tuple per cell.
        rows, cols = np.nonzero(consensus.support > 0)
        min_x, min_y, max_x, max_y = consensus.area_m
        cell = consensus.cell_m
        boxes = np.stack([min_x + cols * cell, min_y + rows * cell, np.minimum(max_x, min_x + (cols + 1) * cell),
                          np.minimum(max_y, min_y + (rows + 1) * cell)], axis=1)
        self._consensus.set(quads(boxes, np.zeros((len(boxes), 4), np.uint8))[0],
                            np.repeat(support_colours(consensus.support[rows, cols] / top), 6, axis=0))

    def update(self, board: Any, size_px: tuple[float, float], *, highlight: set[str] | None = None,
               show_consensus: bool = True) -> Layer:
        """The picture of ``board`` on the basemap at ``size_px`` (the area fills it), drawn
        again only when the consensus or the proposals shown changed."""
        self._update_consensus(board.consensus if show_consensus else None)
        self._update_proposals(board.ranking, highlight)
        size = (max(1, int(size_px[0])), max(1, int(size_px[1])))
        scale, offset = self.transform((0, 0, *size), size)
        if self._map_layer is None or self._base_layer is None or self._map_layer.size_px != size:
            self._base_layer, self._map_layer = Layer(self._ctx, size), Layer(self._ctx, size)
            with self._base_layer.drawing():
                clear_colour(GROUND)
                self._base.draw(scale, offset, blend=False)
            self._stale(self.basemap.area_m)
        if self._stale_m is not None:
            # Draw again only the stale part: the scissor keeps every other pixel as it is, and
            # a pixel inside comes out as a whole redraw would give it.
            region = self._pixels(self._stale_m, size)
            if region is not None:
                self._base_layer.copy_into(self._map_layer, region, region)
                with self._map_layer.drawing(region):
                    self._consensus.draw(scale, offset)
                    self._proposals.draw(scale, offset)
            self._stale_m = None
            self.redraws += 1
        return self._map_layer

    def _pixels(self, box_m: Sequence[float], size_px: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """The pixels (left, bottom, width, height) of a map picture of ``size_px`` that
        show ``box_m`` (x0, y0, x1, y1 in metres), with one more all round; None if none."""
        min_x, min_y, max_x, max_y = self.basemap.area_m
        kx, ky = size_px[0] / (max_x - min_x), size_px[1] / (max_y - min_y)
        left, bottom = max(0, math.floor((box_m[0] - min_x) * kx) - 1), max(0, math.floor((box_m[1] - min_y) * ky) - 1)
        right = min(size_px[0], math.ceil((box_m[2] - min_x) * kx) + 1)
        top = min(size_px[1], math.ceil((box_m[3] - min_y) * ky) + 1)
        return (left, bottom, right - left, top - bottom) if right > left and top > bottom else None

    def draw(self, board: Any, rect: tuple[float, float, float, float], window_px: tuple[int, int], *,
             highlight: set[str] | None = None, show_consensus: bool = True) -> None:
        """Draw ``board`` on the basemap into ``rect`` (left, bottom, width, height in
        window pixels; the area fills it) of the bound framebuffer, a window of ``window_px``."""
        self.update(board, (rect[2], rect[3]), highlight=highlight, show_consensus=show_consensus
                    ).blit(rect, window_px)

    def transform(self, rect: tuple[float, float, float, float], window_px: tuple[int, int]
                  ) -> tuple[tuple[float, float], tuple[float, float]]:
        """Scale and offset taking local metres to normalised device coordinates."""
        left, bottom, width, height = rect
        min_x, min_y, max_x, max_y = self.basemap.area_m
        kx, ky = width / (max_x - min_x), height / (max_y - min_y)
        w, h = window_px
        return ((2.0 * kx / w, 2.0 * ky / h),
                (2.0 * (left - min_x * kx) / w - 1.0, 2.0 * (bottom - min_y * ky) / h - 1.0))
