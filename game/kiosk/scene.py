"""The kiosk's 3D world: city tiles loaded progressively, a sky, the sun where the
simulations put it, and soft light.

Tiles come from the city package through :mod:`world.gltf_read` and
:func:`game.kiosk.geometry.scene_to_node` (vertex arrays copied once, no per-vertex
Python). :class:`CityScene` loads them nearest-first within a time slice per frame, so
the first frame shows the street around the camera at once and the rest of the
district streams in over the next frames. Each tile keeps one GeomNode per material:
``flatten_strong`` after loading merges nothing across tiles, so draw calls stay at
one per tile per material.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from panda3d.core import (
    AmbientLight,
    AntialiasAttrib,
    ColorBlendAttrib,
    DirectionalLight,
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexData,
    GeomVertexFormat,
    GeomVertexWriter,
    LPoint3,
    NodePath,
    TransparencyAttrib,
)

from game.kiosk.geometry import scene_to_node
from game.kiosk.picking import Tile
from world.errors import PackageError
from world.gltf_features import feature_table
from world.gltf_read import read_gltf

__all__ = ["TileInfo", "CityScene", "sun_direction", "make_sky"]

#: Sky colours, zenith to horizon (linear RGB close enough to what Mesa writes).
_ZENITH = (0.36, 0.58, 0.86)
_HORIZON = (0.80, 0.88, 0.96)
_GROUND_HAZE = (0.72, 0.76, 0.78)


@dataclass(frozen=True, slots=True)
class TileInfo:
    name: str
    path: Path
    centre: tuple[float, float]


def sun_direction(azimuth_deg: float, elevation_deg: float) -> tuple[float, float, float]:
    """Unit vector towards the sun in local metres (x east, y north, z up); azimuth
    clockwise from north, as :mod:`sims.sun` gives it."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return (math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el))


def make_sky(radius_m: float = 4000.0, segments: int = 32, rings: int = 12) -> NodePath:
    """A dome coloured from the horizon's haze to the zenith's blue, drawn first and
    behind everything; the app keeps it centred on the camera."""
    fmt = GeomVertexFormat.get_v3c4()
    vdata = GeomVertexData("sky", fmt, Geom.UH_static)
    vertex = GeomVertexWriter(vdata, "vertex")
    colour = GeomVertexWriter(vdata, "color")
    # Rings from 10° below the horizon to the zenith; a few hundred vertices, built once.
    elevations = np.radians(np.concatenate([[-10.0], np.linspace(0.0, 90.0, rings)]))
    for el in elevations:
        t = max(0.0, math.sin(el)) ** 0.6
        base = _GROUND_HAZE if el < 0 else tuple(h + (z - h) * t for h, z in zip(_HORIZON, _ZENITH, strict=True))
        for k in range(segments + 1):
            az = 2.0 * math.pi * k / segments
            vertex.add_data3(radius_m * math.cos(el) * math.sin(az), radius_m * math.cos(el) * math.cos(az),
                             radius_m * math.sin(el))
            colour.add_data4(*base, 1.0)
    tris = GeomTriangles(Geom.UH_static)
    width = segments + 1
    for r in range(len(elevations) - 1):
        for k in range(segments):
            a, b = r * width + k, r * width + k + 1
            c, d = a + width, b + width
            tris.add_vertices(a, c, b)
            tris.add_vertices(b, c, d)
    geom = Geom(vdata)
    geom.add_primitive(tris)
    node = GeomNode("sky")
    node.add_geom(geom)
    sky = NodePath(node)
    sky.set_two_sided(True)
    sky.set_light_off(1)
    sky.set_depth_write(False)
    sky.set_depth_test(False)
    sky.set_bin("background", 0)
    sky.set_fog_off(1)
    sky.set_shader_off(1)
    return sky


def _sun_disc(direction: tuple[float, float, float], distance_m: float = 3500.0) -> NodePath:
    """A soft bright disc where the sun is, part of the sky."""
    from panda3d.core import CardMaker

    card = CardMaker("sun-disc")
    size = distance_m * 0.03
    card.set_frame(-size, size, -size, size)
    card.set_color(1.0, 0.97, 0.85, 1.0)
    disc = NodePath(card.generate())
    disc.set_pos(*(c * distance_m for c in direction))
    disc.look_at(0, 0, 0)
    disc.set_light_off(1)
    disc.set_depth_write(False)
    disc.set_depth_test(False)
    disc.set_bin("background", 1)
    disc.set_transparency(TransparencyAttrib.M_alpha)
    disc.set_attrib(ColorBlendAttrib.make(ColorBlendAttrib.M_add))
    return disc


class CityScene:
    """The city package on screen: tiles, sky, sun and light, under ``root``."""

    def __init__(self, package: Path, root: NodePath) -> None:
        meta_path = package / "city.json"
        if not meta_path.is_file():
            raise PackageError(f"{package}: not a city package (no city.json).")
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
            self.tiles = [TileInfo(t["name"], package / t["uri"],
                                   ((t["min_m"][0] + t["max_m"][0]) / 2.0, (t["min_m"][1] + t["max_m"][1]) / 2.0))
                          for t in self.meta["tiles"]]
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise PackageError(f"{meta_path}: not a city package description ({exc}).") from None
        self.package = package
        self.root = root
        self.city_np = root.attach_new_node("city")
        self.city_np.set_antialias(AntialiasAttrib.M_multisample)
        self.loaded: list[Tile] = []
        self._queue: list[TileInfo] = []
        self.sky: NodePath | None = None
        self.sun_np: NodePath | None = None

    @property
    def bbox_m(self) -> tuple[float, float, float, float]:
        min_x, min_y, max_x, max_y = (float(v) for v in self.meta["bbox_m"])
        return min_x, min_y, max_x, max_y

    # -- tiles ---------------------------------------------------------------------------------

    def queue_tiles(self, near: tuple[float, float]) -> None:
        """Queue every tile not yet loaded, nearest to ``near`` first."""
        done = {entry[0] for entry in self.loaded}
        pending = [t for t in self.tiles if t.name not in done]
        pending.sort(key=lambda t: math.hypot(t.centre[0] - near[0], t.centre[1] - near[1]))
        self._queue = pending

    @property
    def loading(self) -> bool:
        return bool(self._queue)

    def load_some(self, budget_s: float = 0.008) -> int:
        """Load queued tiles until ``budget_s`` has passed (at least one); returns how
        many were loaded this call."""
        started = time.perf_counter()
        count = 0
        while self._queue and (count == 0 or time.perf_counter() - started < budget_s):
            tile = self._queue.pop(0)
            scene = read_gltf(tile.path)
            node = self.city_np.attach_new_node(scene_to_node(scene, tile.name, feature_ids=False))
            # Merge the tile's per-primitive transforms into its vertices: one GeomNode per
            # material stays, and culling works per tile.
            node.flatten_strong()
            self.loaded.append((tile.name, scene, feature_table(scene, tile.path)))
            count += 1
        return count

    def load_all(self) -> None:
        while self._queue:
            self.load_some(1.0)

    # -- sky, sun and light ---------------------------------------------------------------------

    def light(self, azimuth_deg: float, elevation_deg: float) -> None:
        """The sky dome (:meth:`follow` keeps it on the camera), the sun from where it stands, and a cool
        fill light from the sky; a low sun gets warmer and dimmer."""
        sky = make_sky()
        sky.reparent_to(self.root)
        self.sky = sky
        direction = sun_direction(azimuth_deg, max(elevation_deg, 2.0))
        if elevation_deg > 0:
            _sun_disc(direction).reparent_to(sky)
        warmth = min(1.0, max(0.0, elevation_deg / 40.0))
        sun = DirectionalLight("sun")
        sun.set_color((0.75 + 0.2 * warmth, 0.70 + 0.22 * warmth, 0.60 + 0.25 * warmth, 1.0))
        sun_np = self.root.attach_new_node(sun)
        sun_np.set_pos(0, 0, 0)
        sun_np.look_at(LPoint3(-direction[0], -direction[1], -direction[2]))
        self.sun_np = sun_np
        fill = AmbientLight("sky-light")
        fill.set_color((0.40, 0.43, 0.50, 1.0))
        # A second, weak light from the opposite side keeps shaded façades from going flat.
        bounce = DirectionalLight("bounce")
        bounce.set_color((0.16, 0.16, 0.18, 1.0))
        bounce_np = self.root.attach_new_node(bounce)
        bounce_np.look_at(LPoint3(direction[0], direction[1], -0.3))
        # Lights on the root: placed models and ghosts are lit like the city; the sky, the
        # overlay and the HUD switch lighting off for themselves.
        for light_np in (sun_np, self.root.attach_new_node(fill), bounce_np):
            self.root.set_light(light_np)

    def follow(self, camera_pos: tuple[float, float, float]) -> None:
        """Keep the sky centred on the camera."""
        if self.sky is not None:
            self.sky.set_pos(*camera_pos)
