"""The wall's GPU pieces: coloured triangle meshes, and the map drawn from them.

Everything on the wall that is not text is triangles with a colour per vertex, drawn by
one tiny shader that maps positions to the screen with a scale and an offset: the map in
local metres, the panels in window pixels. The basemap is uploaded once; the proposals'
shapes when the set of proposals (or the highlight) changes, each proposal triangulated
once and kept; the consensus cells when the consensus grid changes. A frame is then a
handful of draw calls whatever the number of proposals and votes.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely

from game.wall.basemap import LAYERS, Basemap, triangulate
from game.wall.colours import LAYER_COLOURS
from game.wall.consensus import Consensus, intervention_shape

__all__ = ["CONSENSUS_RAMP", "MapPainter", "Mesh", "clear_colour", "quads", "support_colours"]

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


def clear_colour(colour: Sequence[int]) -> None:
    """Clear the bound framebuffer's colour only: the wall draws no depth, and clearing a
    1080p depth buffer too costs a software renderer more than drawing the whole wall."""
    import pyglet.gl as gl

    gl.glClearColor(colour[0] / 255.0, colour[1] / 255.0, colour[2] / 255.0, 1.0)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT)


def quads(rects: Sequence[tuple[float, float, float, float]], colours: Sequence[Sequence[int]]
          ) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of axis-aligned rectangles ``(left, bottom, right, top)``, each with an
    RGBA colour: positions (6N, 2) and colours (6N, 4)."""
    if not rects:
        return np.zeros((0, 2), np.float32), np.zeros((0, 4), np.uint8)
    r = np.asarray(rects, dtype=np.float32)
    left, bottom, right, top = r[:, 0], r[:, 1], r[:, 2], r[:, 3]
    xs = np.stack([left, right, right, left, right, left], axis=1)
    ys = np.stack([bottom, bottom, top, bottom, top, top], axis=1)
    positions = np.stack([xs, ys], axis=2).reshape(-1, 2)
    rgba = np.asarray([tuple(c) + (255,) * (4 - len(c)) for c in colours], dtype=np.uint8)
    return positions, np.repeat(rgba, 6, axis=0)


def support_colours(fraction: np.ndarray) -> np.ndarray:
    """RGBA (N, 4) of the :data:`CONSENSUS_RAMP` at ``fraction`` (0..1) of the top support."""
    stops = np.asarray([s for s, _ in CONSENSUS_RAMP])
    values = np.asarray([c for _, c in CONSENSUS_RAMP], dtype=np.float64)
    f = np.clip(np.asarray(fraction, dtype=np.float64), 0.0, 1.0)
    return np.stack([np.interp(f, stops, values[:, k]) for k in range(4)], axis=1).round().astype(np.uint8)


def _triangles_of(shapes: Iterable[shapely.Geometry]) -> np.ndarray:
    return triangulate(list(shapes)).reshape(-1, 2)


class _Layer:
    """A picture of part of the screen kept in a texture: drawn into once, blitted each frame."""

    def __init__(self, ctx: Any, size_px: tuple[int, int]) -> None:
        self._ctx = ctx
        self.size_px = size_px
        self.texture = ctx.texture(size_px, components=4, filter=(ctx.NEAREST, ctx.NEAREST))
        self.fbo = ctx.framebuffer(color_attachments=[self.texture])
        self._program = _blit_program(ctx)
        self._geometry: Any = None
        self._rect: Any = None

    def blit(self, rect: tuple[float, float, float, float], window_px: tuple[int, int]) -> None:
        """Draw the texture over ``rect`` (left, bottom, width, height in window pixels), opaque."""
        from arcade.gl import BufferDescription

        if rect != self._rect:
            left, bottom, width, height = rect
            x1, y1 = left + width, bottom + height
            data = np.asarray([[left, bottom, 0, 0], [x1, bottom, 1, 0], [x1, y1, 1, 1],
                               [left, bottom, 0, 0], [x1, y1, 1, 1], [left, y1, 0, 1]], dtype=np.float32)
            buffer = self._ctx.buffer(data=data.tobytes())
            self._geometry = self._ctx.geometry([BufferDescription(buffer, "2f 2f", ["in_pos", "in_uv"])],
                                                mode=self._ctx.TRIANGLES)
            self._rect = rect
        w, h = window_px
        self._program["u_scale"] = (2.0 / w, 2.0 / h)
        self._program["u_offset"] = (-1.0, -1.0)
        self.texture.use(0)
        self._ctx.disable(self._ctx.BLEND)
        self._geometry.render(self._program)


_BLIT_VERTEX = """
#version 330
uniform vec2 u_scale;
uniform vec2 u_offset;
in vec2 in_pos;
in vec2 in_uv;
out vec2 v_uv;
void main() {
    gl_Position = vec4(in_pos * u_scale + u_offset, 0.0, 1.0);
    v_uv = in_uv;
}
"""
_BLIT_FRAGMENT = """
#version 330
uniform sampler2D u_texture;
in vec2 v_uv;
out vec4 f_colour;
void main() { f_colour = texture(u_texture, v_uv); }
"""
_BLIT_PROGRAMS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _blit_program(ctx: Any) -> Any:
    program = _BLIT_PROGRAMS.get(ctx)
    if program is None:
        program = _BLIT_PROGRAMS[ctx] = ctx.program(vertex_shader=_BLIT_VERTEX, fragment_shader=_BLIT_FRAGMENT)
        program["u_texture"] = 0
    return program


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
        self._per_proposal: dict[tuple[str, str], Any] = {}
        self._proposals_key: Any = None
        self._consensus_shown: Consensus | None = None
        self._base_layer: _Layer | None = None
        self._map_layer: _Layer | None = None
        self._dirty = True
        #: How often the map picture was drawn again (the benchmark reports it).
        self.redraws = 0
        min_x, min_y, max_x, max_y = basemap.area_m
        parts, colours = [quads([(min_x, min_y, max_x, max_y)], [GROUND])[0]], [np.asarray([GROUND] * 6, np.uint8)]
        for layer in LAYERS:
            triangles = basemap.triangles(layer).reshape(-1, 2)
            parts.append(triangles)
            colours.append(np.repeat(np.asarray([(*LAYER_COLOURS[layer], 255)], np.uint8), len(triangles), axis=0))
        self._base.set(np.concatenate(parts), np.concatenate(colours))

    def _proposal_triangles(self, proposal: Any) -> tuple[np.ndarray, np.ndarray, tuple[float, float] | None]:
        """A proposal's halo and fill triangles (metres), clipped to the area, and the middle
        of its largest shape; kept per proposal and content (a proposal never changes)."""
        key = (proposal.id, repr(proposal.interventions))
        cached = self._per_proposal.get(key)
        if cached is None:
            shapes = [shapely.intersection(intervention_shape(i), self._area) for i in proposal.interventions]
            shapes = [s for s in shapes if not s.is_empty]
            halos = [shapely.buffer(s, _HALO_M, quad_segs=3) for s in shapes]
            largest = max(shapes, key=lambda s: s.area, default=None)
            point = None if largest is None else shapely.point_on_surface(largest)
            cached = self._per_proposal[key] = (_triangles_of(shapely.intersection(h, self._area) for h in halos),
                                                _triangles_of(shapes), None if point is None else (point.x, point.y))
        return cached

    def anchor_m(self, proposal: Any) -> tuple[float, float] | None:
        """Where to label ``proposal`` on the map (local metres): the middle of its shapes
        inside the area, None when none of them is."""
        return self._proposal_triangles(proposal)[2]

    def _update_proposals(self, ranking: Sequence[Any], highlight: set[str] | None) -> None:
        key = (tuple((p.id, p.colour, len(p.interventions)) for p in ranking),
               None if highlight is None else frozenset(highlight))
        if key == self._proposals_key:
            return
        self._proposals_key = key
        self._dirty = True
        halos, fills, halo_colours, fill_colours = [], [], [], []
        # Drawn lowest-ranked first, so the leaders lie on top where shapes overlap.
        for proposal in reversed(ranking):
            halo, fill, _ = self._proposal_triangles(proposal)
            dimmed = highlight is not None and proposal.id not in highlight
            alpha = _DIMMED_ALPHA if dimmed else 255
            halos.append(halo)
            fills.append(fill)
            halo_colours.append(np.repeat(np.asarray([(*HALO[:3], alpha // 3 if dimmed else HALO[3])], np.uint8),
                                          len(halo), axis=0))
            fill_colours.append(np.repeat(np.asarray([(*proposal.colour, alpha)], np.uint8), len(fill), axis=0))
        # All halos under all fills: neighbouring proposals keep their outline.
        positions = np.concatenate(halos + fills) if ranking else np.zeros((0, 2), np.float32)
        colours = np.concatenate(halo_colours + fill_colours) if ranking else np.zeros((0, 4), np.uint8)
        self._proposals.set(positions, colours)

    def _update_consensus(self, consensus: Consensus | None) -> None:
        shown = self._consensus_shown
        if consensus is shown or (consensus is not None and shown is not None
                                  and consensus.cell_m == shown.cell_m
                                  and np.array_equal(consensus.support, shown.support)):
            return
        self._consensus_shown = consensus
        self._dirty = True
        cells = consensus.cells() if consensus is not None else []
        top = consensus.max_support if consensus is not None else 0.0
        if not cells or top <= 0:
            self._consensus.set(np.zeros((0, 2), np.float32), np.zeros((0, 4), np.uint8))
            return
        array = np.asarray(cells, dtype=np.float64)
        positions, _ = quads([(c[0], c[1], c[2], c[3]) for c in cells], [(0, 0, 0, 0)] * len(cells))
        self._consensus.set(positions, np.repeat(support_colours(array[:, 4] / top), 6, axis=0))

    def draw(self, board: Any, rect: tuple[float, float, float, float], window_px: tuple[int, int], *,
             highlight: set[str] | None = None, show_consensus: bool = True) -> None:
        """Draw ``board`` on the basemap into ``rect`` (left, bottom, width, height in
        window pixels; the area fills it) of a window of ``window_px``."""
        self._update_consensus(board.consensus if show_consensus else None)
        self._update_proposals(board.ranking, highlight)
        size = (max(1, int(rect[2])), max(1, int(rect[3])))
        if self._map_layer is None or self._map_layer.size_px != size:
            self._base_layer, self._map_layer = _Layer(self._ctx, size), _Layer(self._ctx, size)
            scale, offset = self.transform((0, 0, *size), size)
            with self._base_layer.fbo.activate() as fbo:
                fbo.clear(color=GROUND)
                self._base.draw(scale, offset, blend=False)
            self._dirty = True
        if self._dirty:
            scale, offset = self.transform((0, 0, *size), size)
            assert self._base_layer is not None
            with self._map_layer.fbo.activate():
                self._base_layer.blit((0, 0, *size), size)
                self._consensus.draw(scale, offset)
                self._proposals.draw(scale, offset)
            self._dirty = False
            self.redraws += 1
        self._map_layer.blit(rect, window_px)

    def transform(self, rect: tuple[float, float, float, float], window_px: tuple[int, int]
                  ) -> tuple[tuple[float, float], tuple[float, float]]:
        """Scale and offset taking local metres to normalised device coordinates."""
        left, bottom, width, height = rect
        min_x, min_y, max_x, max_y = self.basemap.area_m
        kx, ky = width / (max_x - min_x), height / (max_y - min_y)
        w, h = window_px
        return ((2.0 * kx / w, 2.0 * ky / h),
                (2.0 * (left - min_x * kx) / w - 1.0, 2.0 * (bottom - min_y * ky) / h - 1.0))
