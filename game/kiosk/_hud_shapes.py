"""Flat 2D geometry for the HUD, in window pixels with y pointing down.

Rounded rectangles, soft shadows (a ring fading to transparent), outlines, arcs and
triangles are built as vertex-coloured triangles: no textures, sharp at any size. A
point (x, y) on screen becomes (x, 0, -y) in the HUD root, whose transform maps
window pixels onto the screen (see :mod:`game.kiosk.hud`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from panda3d.core import (
    CardMaker,
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexData,
    GeomVertexFormat,
    GeomVertexWriter,
    NodePath,
    PNMImage,
    SamplerState,
    Texture,
)

from game.kiosk._hud_theme import Colour

__all__ = ["arc", "fill_rect", "gradient_rect", "image", "ramp_texture", "ring_rect", "triangle"]

_Point = tuple[float, float]


def _corner_segments(radius: float) -> int:
    return max(1, min(12, int(radius / 2.5) + 2))


def _outline(x: float, y: float, w: float, h: float, r: float, offset: float, n: int | None = None
             ) -> list[_Point]:
    """Points around a rounded rectangle grown by ``offset``, clockwise on screen;
    ``n`` segments per corner (the same on both edges of a ring)."""
    r = max(0.0, min(r, w / 2.0, h / 2.0))
    n = n or _corner_segments(r + max(0.0, offset))
    corners = ((x + r, y + r, 180.0), (x + w - r, y + r, 270.0), (x + w - r, y + h - r, 0.0),
               (x + r, y + h - r, 90.0))
    points: list[_Point] = []
    for cx, cy, start in corners:
        for i in range(n + 1):
            a = math.radians(start + 90.0 * i / n)
            points.append((cx + max(0.0, r + offset) * math.cos(a), cy + max(0.0, r + offset) * math.sin(a)))
    return points


def _node(name: str, vertices: Sequence[tuple[float, float, Colour]], triangles: Sequence[tuple[int, int, int]]
          ) -> NodePath:
    data = GeomVertexData(name, GeomVertexFormat.get_v3c4(), Geom.UH_static)
    data.unclean_set_num_rows(len(vertices))
    position = GeomVertexWriter(data, "vertex")
    colour = GeomVertexWriter(data, "color")
    for vx, vy, c in vertices:
        position.set_data3(vx, 0.0, -vy)
        colour.set_data4(*c)
    prim = GeomTriangles(Geom.UH_static)
    for first, second, third in triangles:
        prim.add_vertices(first, second, third)
    geom = Geom(data)
    geom.add_primitive(prim)
    node = GeomNode(name)
    node.add_geom(geom)
    return NodePath(node)


def fill_rect(parent: NodePath, x: float, y: float, w: float, h: float, colour: Colour, radius: float = 0.0,
              offset: float = 0.0) -> NodePath:
    """A filled (rounded) rectangle, grown by ``offset`` (shrunk when negative)."""
    points = _outline(x, y, w, h, radius, offset)
    vertices = [(x + w / 2.0, y + h / 2.0, colour)] + [(px, py, colour) for px, py in points]
    count = len(points)
    triangles = [(0, 1 + i, 1 + (i + 1) % count) for i in range(count)]
    node = _node("rect", vertices, triangles)
    node.reparent_to(parent)
    return node


def gradient_rect(parent: NodePath, x: float, y: float, w: float, h: float, top: Colour, bottom: Colour
                  ) -> NodePath:
    """A rectangle shading from ``top`` to ``bottom``."""
    vertices = [(x, y, top), (x + w, y, top), (x + w, y + h, bottom), (x, y + h, bottom)]
    node = _node("gradient", vertices, [(0, 1, 2), (0, 2, 3)])
    node.reparent_to(parent)
    return node


def ring_rect(parent: NodePath, x: float, y: float, w: float, h: float, radius: float, inner: float, outer: float,
              inner_colour: Colour, outer_colour: Colour) -> NodePath:
    """The band between the rectangle's outline grown by ``inner`` and by ``outer``:
    an outline (same colours) or a soft shadow (``outer_colour`` transparent)."""
    n = _corner_segments(max(0.0, radius) + max(0.0, outer))
    a = _outline(x, y, w, h, radius, inner, n)
    b = _outline(x, y, w, h, radius, outer, n)
    count = len(a)
    vertices = [(px, py, inner_colour) for px, py in a] + [(px, py, outer_colour) for px, py in b]
    triangles: list[tuple[int, int, int]] = []
    for i in range(count):
        j = (i + 1) % count
        triangles += [(i, count + i, count + j), (i, count + j, j)]
    node = _node("ring", vertices, triangles)
    node.reparent_to(parent)
    return node


def arc(parent: NodePath, radius: float, width: float, start_deg: float, sweep_deg: float, colour: Colour
        ) -> NodePath:
    """A ring segment centred on the node's origin (rotate the node to spin it)."""
    steps = max(4, int(abs(sweep_deg) / 10.0))
    vertices: list[tuple[float, float, Colour]] = []
    for i in range(steps + 1):
        a = math.radians(start_deg + sweep_deg * i / steps)
        fade = (0.25 + 0.75 * i / steps) * colour[3]
        tint = (colour[0], colour[1], colour[2], fade)
        vertices.append(((radius - width / 2.0) * math.cos(a), (radius - width / 2.0) * math.sin(a), tint))
        vertices.append(((radius + width / 2.0) * math.cos(a), (radius + width / 2.0) * math.sin(a), tint))
    triangles = [t for i in range(steps) for t in ((2 * i, 2 * i + 1, 2 * i + 3), (2 * i, 2 * i + 3, 2 * i + 2))]
    node = _node("arc", vertices, triangles)
    node.reparent_to(parent)
    return node


def triangle(parent: NodePath, points: Sequence[_Point], colour: Colour) -> NodePath:
    node = _node("triangle", [(px, py, colour) for px, py in points], [(0, 1, 2)])
    node.reparent_to(parent)
    return node


def image(parent: NodePath, texture: Texture, x: float, y: float, w: float, h: float) -> NodePath:
    """A textured rectangle, the texture stretched over it."""
    maker = CardMaker("image")
    maker.set_frame(x, x + w, -(y + h), -y)
    node = parent.attach_new_node(maker.generate())
    node.set_texture(texture)
    return node


def ramp_texture(stops: Sequence[tuple[float, tuple[int, int, int, int]]], width_px: int = 256) -> Texture:
    """A ``width_px`` x 1 texture of the colour ramp, stops spread by value (opaque).

    Between stops the colour is interpolated linearly, as the overlay does; a ramp of
    flat bands (two stops per band) stays flat.
    """
    image_ = PNMImage(width_px, 1, 4)
    if not stops:
        image_.fill(0.5, 0.5, 0.5)
        image_.alpha_fill(1.0)
    else:
        low, high = stops[0][0], stops[-1][0]
        span = (high - low) or 1.0
        for column in range(width_px):
            value = low + span * (column + 0.5) / width_px
            r, g, b = _ramp_at(stops, value)
            image_.set_xel_a(column, 0, r / 255.0, g / 255.0, b / 255.0, 1.0)
    texture = Texture("legend-ramp")
    texture.load(image_)
    texture.set_wrap_u(SamplerState.WM_clamp)
    texture.set_wrap_v(SamplerState.WM_clamp)
    texture.set_minfilter(SamplerState.FT_linear)
    texture.set_magfilter(SamplerState.FT_linear)
    return texture


def _ramp_at(stops: Sequence[tuple[float, tuple[int, int, int, int]]], value: float) -> tuple[float, float, float]:
    if value <= stops[0][0]:
        return stops[0][1][:3]
    for (v0, c0), (v1, c1) in itertools.pairwise(stops):
        if value <= v1:
            t = 0.0 if v1 == v0 else (value - v0) / (v1 - v0)
            return (c0[0] + (c1[0] - c0[0]) * t, c0[1] + (c1[1] - c0[1]) * t, c0[2] + (c1[2] - c0[2]) * t)
    return stops[-1][1][:3]
