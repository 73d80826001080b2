"""``civictwin snapshot``: render a city package offscreen to a PNG.

Panda3D with ``load-display p3headlessgl`` renders on Mesa's EGL (llvmpipe) with no
display and no GPU. Tiles come through :mod:`world.gltf_read` and
:mod:`game.kiosk.geometry`; the sun stands where a summer afternoon puts it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from world.errors import PackageError
from world.gltf_read import read_gltf

__all__ = ["render_snapshot", "VIEWS"]

#: Camera per view: (heading°, pitch°, distance as a multiple of the district's radius).
VIEWS: dict[str, tuple[float, float, float]] = {
    "oblique": (-35.0, -38.0, 1.05),
    "top": (0.0, -89.9, 1.2),
}

_SKY_RGBA = (0.62, 0.76, 0.90, 1.0)


def render_snapshot(package: Path, out: Path, size: tuple[int, int] = (1280, 720), view: str = "oblique") -> Path:
    """Render ``package`` into the PNG ``out``; returns ``out``."""
    meta_path = package / "city.json"
    if not meta_path.is_file():
        raise PackageError(f"{package}: not a city package (no city.json).")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))

    from panda3d.core import AmbientLight, AntialiasAttrib, DirectionalLight, Filename, NodePath, loadPrcFileData

    loadPrcFileData("", "load-display p3headlessgl\nwindow-type offscreen\naudio-library-name null\n"
                        f"win-size {size[0]} {size[1]}\nnotify-level error\n"
                        "notify-level-device fatal\nprint-pipe-types false\n"
                        "framebuffer-multisample 1\nmultisamples 4\n")
    from direct.showbase.ShowBase import ShowBase

    from game.kiosk.geometry import scene_to_node

    app = ShowBase()
    try:
        if app.win is None:
            raise PackageError("no offscreen OpenGL buffer could be made (is Mesa's EGL installed?).")
        app.win.set_clear_color(_SKY_RGBA)
        scene = NodePath("city")
        scene.reparent_to(app.render)
        for tile in meta["tiles"]:
            scene.attach_new_node(scene_to_node(read_gltf(package / tile["uri"]), tile["name"]))
        scene.set_antialias(AntialiasAttrib.M_multisample)

        sun = DirectionalLight("sun")
        sun.set_color((0.95, 0.92, 0.85, 1.0))
        sun_np = scene.attach_new_node(sun)
        sun_np.set_hpr(-120.0, -42.0, 0.0)  # from the south-west, mid-afternoon
        sky = AmbientLight("sky")
        sky.set_color((0.42, 0.45, 0.52, 1.0))
        scene.set_light(sun_np)
        scene.set_light(scene.attach_new_node(sky))

        min_x, min_y, max_x, max_y = meta["bbox_m"]
        centre = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0, 0.0)
        radius_m = math.hypot(max_x - min_x, max_y - min_y) / 2.0
        heading, pitch, distance = VIEWS[view]
        camera = app.camera
        lens = app.cam.node().get_lens()
        lens.set_fov(50.0)
        # A far-off near plane keeps depth precision for the centimetre ground layers.
        lens.set_near_far(radius_m * 0.25, radius_m * 6.0)
        camera.set_pos(*centre)
        camera.set_hpr(heading, pitch, 0.0)
        camera.set_pos(camera, 0.0, -radius_m * distance * 1.6, 0.0)
        camera.look_at(*centre)

        app.graphicsEngine.render_frame()
        app.graphicsEngine.render_frame()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not app.win.save_screenshot(Filename.from_os_specific(str(out))):
            raise PackageError(f"{out}: the rendered frame could not be written.")
    finally:
        app.destroy()
    return out
