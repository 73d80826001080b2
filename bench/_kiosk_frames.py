"""One kiosk frame benchmark in its own process (Panda3D allows one window per process).

    python bench/_kiosk_frames.py ours PACKAGE        # our tiles: one node per tile per material
    python bench/_kiosk_frames.py anchor FILE.glb     # panda3d-gltf, one node per building

Prints one JSON object: the GL renderer, seconds from process start to the first frame
of the whole district, and per view (overview, street) the mean and 95th-percentile
frame time and the draw calls, counted as Panda3D's cull counts them: every Geom under
a GeomNode whose bounds meet the camera's view frustum.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: (name, camera x, y, z, heading, pitch): the overview of the 1 km² and a street corner
#: by the Railway Square at eye height.
VIEWS = (("overview", 420.0, -520.0, 560.0, 38.0, -42.0), ("street", -19.0, -12.0, 1.7, -10.0, 2.0))
WARM_FRAMES = 5
FRAMES = 40


def draw_calls(base: object) -> int:
    """Geoms whose node's bounds meet the view frustum (what the cull pass hands to draw)."""
    from panda3d.core import BoundingVolume

    cam = base.cam  # type: ignore[attr-defined]
    lens_bounds = cam.node().get_lens().make_bounds()
    count = 0
    for np_ in base.render.find_all_matches("**/+GeomNode"):  # type: ignore[attr-defined]
        if np_.is_hidden():
            continue
        bounds = np_.node().get_bounds().make_copy()
        bounds.xform(np_.get_mat(cam))
        if lens_bounds.contains(bounds) != BoundingVolume.IF_no_intersection:
            count += np_.node().get_num_geoms()
    return count


def main() -> int:
    mode, source = sys.argv[1], Path(sys.argv[2])
    from panda3d.core import AmbientLight, DirectionalLight, loadPrcFileData

    loadPrcFileData("", "load-display p3headlessgl\nwindow-type offscreen\naudio-library-name null\n"
                        "win-size 1280 720\nnotify-level error\nframebuffer-multisample 1\nmultisamples 4\n"
                        "sync-video false\n")
    from direct.showbase.ShowBase import ShowBase

    from game.kiosk.app import renderer_name

    base = ShowBase()
    base.disable_mouse()
    lens = base.cam.node().get_lens()
    lens.set_fov(65.0)
    lens.set_near_far(0.3, 5000.0)
    if mode == "ours":
        from game.kiosk.scene import CityScene

        scene = CityScene(source, base.render)
        scene.queue_tiles((0.0, 0.0))
        scene.load_all()
        scene.light(250.0, 45.0)
    else:
        import gltf
        from panda3d.core import NodePath

        NodePath(gltf.load_model(str(source))).reparent_to(base.render)
        sun = base.render.attach_new_node(DirectionalLight("sun"))
        sun.set_hpr(70.0, -45.0, 0.0)
        base.render.set_light(sun)
        base.render.set_light(base.render.attach_new_node(AmbientLight("sky")))
    base.camera.set_pos(*VIEWS[0][1:4])
    base.camera.set_hpr(*VIEWS[0][4:6], 0.0)
    base.graphicsEngine.render_frame()
    first_frame_s = time.perf_counter() - STARTED
    views = {}
    for name, x, y, z, heading, pitch in VIEWS:
        base.camera.set_pos(x, y, z)
        base.camera.set_hpr(heading, pitch, 0.0)
        for _ in range(WARM_FRAMES):
            base.graphicsEngine.render_frame()
        times = []
        for _ in range(FRAMES):
            started = time.perf_counter()
            base.graphicsEngine.render_frame()
            times.append((time.perf_counter() - started) * 1000.0)
        times.sort()
        views[name] = {"frame_ms_mean": statistics.fmean(times), "frame_ms_p95": times[int(0.95 * (len(times) - 1))],
                       "draw_calls": draw_calls(base)}
    print(json.dumps({"mode": mode, "renderer": renderer_name(base), "first_frame_s": first_frame_s,
                      "nodes": base.render.find_all_matches("**/+GeomNode").get_num_paths(), "views": views}))
    base.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
