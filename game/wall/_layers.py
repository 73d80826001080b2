"""Pictures kept in textures: the wall draws what changed into a :class:`Layer` and copies
layers to the screen, so that a frame of an unchanged wall is one copy.

Where the driver has clip control (GL 4.5), a layer is stored the way window-system
framebuffers are, top row first in BGRA bytes: on Mesa's software renderer a copy between
such layers, or to the screen, is then a plain memory copy (0.25 ms for a 1080p window),
where a copy that turns rows over or swaps bytes runs a shader over every pixel (6–8 ms).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["Canvas", "Layer", "clear_colour"]

def clear_colour(colour: Sequence[int]) -> None:
    """Clear the bound framebuffer's colour only: the wall draws no depth, and clearing a
    1080p depth buffer too costs a software renderer more than drawing the whole wall."""
    import pyglet.gl as gl

    gl.glClearColor(colour[0] / 255.0, colour[1] / 255.0, colour[2] / 255.0, 1.0)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT)


class Layer:
    """A picture kept in a texture: drawn into when it changes, copied out each frame.

    Where the driver has clip control (GL 4.5), a layer is kept the way window-system
    framebuffers are, top row first in BGRA bytes, so that copying it to the screen or into
    another layer is a plain memory copy on Mesa's software renderer; a copy that must turn
    the rows over or swap bytes runs a shader over every pixel there (about 6 ms for a
    1080p window on two cores). Drawing is the same either way: :meth:`drawing` takes
    window coordinates, y up.
    """

    def __init__(self, ctx: Any, size_px: tuple[int, int]) -> None:
        import pyglet.gl as gl

        self._ctx = ctx
        self.size_px = size_px
        self.flipped = ctx.gl_version >= (4, 5)  # glClipControl
        self.texture = ctx.texture(size_px, components=4, filter=(ctx.NEAREST, ctx.NEAREST))
        # The same texture again with BGRA storage (an unsized internal format lets Mesa
        # keep the bytes in the order they are given, the window's own order).
        gl.glActiveTexture(gl.GL_TEXTURE0 + ctx.default_texture_unit)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.texture.glo)
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGBA, size_px[0], size_px[1], 0, gl.GL_BGRA,
                        gl.GL_UNSIGNED_BYTE, None)
        self.fbo = ctx.framebuffer(color_attachments=[self.texture])
        self._program = _blit_program(ctx)
        self._geometry: Any = None
        self._rect: Any = None

    def box(self, rect: Sequence[float]) -> tuple[int, int, int, int]:
        """``rect`` (left, bottom, width, height; y up) in the layer's stored rows."""
        left, bottom, width, height = (round(v) for v in rect)
        return (left, self.size_px[1] - bottom - height if self.flipped else bottom, width, height)

    @contextlib.contextmanager
    def drawing(self, region: Sequence[float] | None = None) -> Iterator[Layer]:
        """Draw into the layer (clipped to ``region``, left, bottom, width, height, when given)."""
        ctx = self._ctx
        before, upper_left = ctx.active_framebuffer, _UPPER_LEFT.get(ctx, False)
        self.fbo.use()
        _clip_origin(ctx, self.flipped)
        if region is not None:
            self.fbo.scissor = self.box(region)
        try:
            yield self
        finally:
            if region is not None:
                self.fbo.scissor = None
            _clip_origin(ctx, upper_left)
            before.use()

    def copy_into(self, target: Layer, rect: Sequence[float], source: Sequence[float] | None = None) -> None:
        """Copy the picture (its ``source`` rectangle, or all of it) over ``rect`` (left,
        bottom, width, height) of ``target``, a layer of the same context (so stored alike)."""
        sx, sy, sw, sh = self.box(source) if source is not None else (0, 0, *self.size_px)
        x, y, width, height = target.box(rect)
        _copy(self._ctx, self.fbo, (sx, sy, sx + sw, sy + sh), target.fbo, (x, y, x + width, y + height))

    def show(self) -> None:
        """Copy the whole picture over the whole window (the screen's framebuffer)."""
        w, h = self.size_px
        screen = self._ctx.screen
        _copy(self._ctx, self.fbo, (0, h, w, 0) if self.flipped else (0, 0, w, h), screen, (0, 0, *screen.size))

    def blit(self, rect: tuple[float, float, float, float], window_px: tuple[int, int]) -> None:
        """Draw the texture over ``rect`` (left, bottom, width, height in window pixels) of
        the bound framebuffer, opaque (a textured rectangle: any framebuffer, multisampled too)."""
        from arcade.gl import BufferDescription

        if rect != self._rect:
            left, bottom, width, height = rect
            x1, y1 = left + width, bottom + height
            v0, v1 = (1, 0) if self.flipped else (0, 1)
            data = np.asarray([[left, bottom, 0, v0], [x1, bottom, 1, v0], [x1, y1, 1, v1],
                               [left, bottom, 0, v0], [x1, y1, 1, v1], [left, y1, 0, v1]], dtype=np.float32)
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


class Canvas(Layer):
    """The whole window kept in a layer, in named parts (the map, each card, the controls):
    a part is drawn again only when what it shows changed, and a frame is one copy of the
    canvas to the screen (:meth:`Layer.show`). Parts are given in window pixels; the canvas
    has the framebuffer's pixels (more of them on a high-density screen)."""

    def __init__(self, ctx: Any, window_px: tuple[int, int], background: Sequence[int]) -> None:
        super().__init__(ctx, ctx.window.get_framebuffer_size())
        self.window_px = window_px
        self.background = background
        self._ratio = self.size_px[0] / window_px[0], self.size_px[1] / window_px[1]
        self._painted: dict[str, Any] = {}
        with self.drawing():
            clear_colour(background)

    def region(self, rect: Sequence[float]) -> tuple[float, float, float, float]:
        """``rect`` (left, bottom, width, height) from window pixels to the canvas's."""
        kx, ky = self._ratio
        return (rect[0] * kx, rect[1] * ky, rect[2] * kx, rect[3] * ky)

    def paint(self, name: str, rect: Sequence[float], signature: Any, draw: Callable[[], None]) -> bool:
        """Clear ``rect`` (window pixels) and draw part ``name`` there with ``draw``, unless
        the canvas shows that part's ``signature`` (what it shows) already; True when drawn."""
        if name in self._painted and self._painted[name] == signature:
            return False
        with self.drawing(self.region(rect)):
            clear_colour(self.background)
            draw()
        self._painted[name] = signature
        return True


#: Whether each context draws with its clip origin at the upper left now (see :meth:`Layer.drawing`).
_UPPER_LEFT: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _clip_origin(ctx: Any, upper_left: bool) -> None:
    """Turn what is drawn upside down in storage (or back), for layers kept top row first."""
    if _UPPER_LEFT.get(ctx, False) == upper_left:
        return
    import pyglet.gl as gl

    gl.glClipControl(gl.GL_UPPER_LEFT if upper_left else gl.GL_LOWER_LEFT, gl.GL_NEGATIVE_ONE_TO_ONE)
    _UPPER_LEFT[ctx] = upper_left


def _copy(ctx: Any, source: Any, source_box: tuple[int, int, int, int], target: Any,
          target_box: tuple[int, int, int, int]) -> None:
    """Copy pixels between framebuffers (boxes as x0, y0, x1, y1 of stored rows)."""
    import pyglet.gl as gl

    gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, source.glo)
    gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, target.glo)
    # Unscissored: Mesa takes its memory-copy path only for a blit that no scissor box clips.
    gl.glDisable(gl.GL_SCISSOR_TEST)
    gl.glBlitFramebuffer(*source_box, *target_box, gl.GL_COLOR_BUFFER_BIT, gl.GL_NEAREST)
    gl.glEnable(gl.GL_SCISSOR_TEST)
    ctx.active_framebuffer.use(force=True)


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
