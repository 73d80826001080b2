"""The kiosk application: Panda3D window, city scene, camera, HUD, and the frame loop.

:class:`KioskApp` is the thin shell around the pure parts: it draws what
:class:`game.kiosk.session.KioskSession` says (its :class:`~game.kiosk.view.HudView`,
placements, chosen overlay), moves the camera with :mod:`game.kiosk.movement`, and
turns pointer, keyboard and script steps into session actions. It computes nothing a
server would need.

Start-up order is chosen for a fast first frame: the window, the sky and the tiles
nearest the camera first (the rest stream in over the next frames), while the city model
and the simulation baseline are built on a worker thread; placing waits for them behind
a "Preparing the simulations…" spinner, walking does not.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from panda3d.core import Filename, LPoint3, Point2, Point3, loadPrcFileData

from game.kiosk.errors import KioskError
from game.kiosk.view import Action
from sims.engine import Engine, conditions_for
from sims.registry import create
from sims.sun import solar_position
from world.catalog import load_catalog
from world.city import City
from world.frame import LocalFrame
from world.package import load_city
from world.scenario import Scenario

__all__ = ["PlayOptions", "KioskApp", "FONT_PATHS"]

FONT_PATHS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
              Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"))
#: Simulated time per frame when a script drives the kiosk: the same script gives the
#: same walk, the same idle countdown and the same pictures on any machine.
SCRIPT_DT_S = 1.0 / 30.0
#: The camera tour of the attract loop (and of `make run`).
ATTRACT_SCRIPT = Path(__file__).resolve().parent.parent.parent / "content" / "kiosk" / "attract.json"


@dataclass(frozen=True, slots=True)
class PlayOptions:
    """What ``civictwin play`` was asked to do."""

    city: Path
    scenario: str | None = None
    server: str | None = None
    workshop: str | None = None
    token: str | None = None
    kiosk: bool = False
    lang: str = "en"
    offscreen: bool = False
    size: tuple[int, int] = (1280, 720)
    script: Path | None = None
    screenshots: Path | None = None
    idle_s: float = 90.0
    outbox: Path | None = None
    started: float = field(default_factory=time.perf_counter)


def _open_showbase(options: PlayOptions) -> Any:
    width, height = options.size
    lines = [
        "audio-library-name null", "notify-level error", "notify-level-device fatal",
        "print-pipe-types false", "framebuffer-multisample 1", "multisamples 4",
        f"win-size {width} {height}", "window-title civictwin", "sync-video false" if options.offscreen else "",
    ]
    if options.offscreen:
        lines += ["load-display p3headlessgl", "window-type offscreen"]
    elif options.kiosk:
        lines += ["fullscreen true", "cursor-hidden false"]
    loadPrcFileData("civictwin-kiosk", "\n".join(line for line in lines if line) + "\n")
    from direct.showbase.ShowBase import ShowBase

    try:
        base = ShowBase()
    except Exception as exc:  # Panda3D raises a bare Exception when no pipe opens
        where = "offscreen (is Mesa's EGL installed? `make` installs it)" if options.offscreen else \
            "on the display (no display? add --offscreen)"
        raise KioskError(f"no OpenGL window could be opened {where}: {exc}.") from None
    if base.win is None:
        raise KioskError("no OpenGL window could be opened (try --offscreen).")
    base.disable_mouse()
    return base


def renderer_name(base: Any) -> str:
    """The GL renderer and vendor strings, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) · Mesa"."""
    gsg = base.win.get_gsg()
    return f"{gsg.get_driver_renderer()} · {gsg.get_driver_vendor()} · OpenGL {gsg.get_driver_version()}"


class KioskApp:
    """One kiosk: call :meth:`run` (a window) or :meth:`step` (a frame, for scripts)."""

    def __init__(self, options: PlayOptions, scenario: Scenario, steps: list[Any] | None = None) -> None:
        from game.kiosk._app_input import PointerInput
        from game.kiosk._app_sink import make_sink
        from game.kiosk.hud import Hud
        from game.kiosk.movement import Orbit, Walker
        from game.kiosk.overlay import GroundOverlay
        from game.kiosk.placed import PlacedModels
        from game.kiosk.scene import CityScene
        from game.kiosk.session import KioskSession

        self.options = options
        self.scenario = scenario
        self.scripted = steps is not None
        self.base = _open_showbase(options)
        self.renderer = renderer_name(self.base)
        self.fonts = self._load_fonts()
        self.now = 0.0
        self.frames = 0
        self.timings: dict[str, float] = {}
        self.frame_ms: list[float] = []

        self.scene = CityScene(options.city, self.base.render)
        meta = self.scene.meta
        self.frame = LocalFrame(str(meta["crs"]), *(float(v) for v in meta["origin_m"]))
        min_x, min_y, max_x, max_y = scenario.area_m(self.frame)
        self.area_centre = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0)
        lon, lat = scenario.centre_lonlat()
        sun = solar_position(scenario.when, lat, lon)
        self.sun = sun
        self.scene.light(sun.azimuth_deg, sun.elevation_deg)
        self.base.win.set_clear_color((0.80, 0.88, 0.96, 1.0))
        lens = self.base.cam.node().get_lens()
        lens.set_fov(65.0)
        lens.set_near_far(0.3, 5000.0)

        self.catalog = load_catalog()
        self.sink = make_sink(options)
        self.session = KioskSession(scenario, self.catalog, sink=self.sink, lang=options.lang,
                                    kiosk_mode=options.kiosk, idle_s=options.idle_s,
                                    # A script alone replays the same session ids; joined to a workshop
                                    # every process needs its own, or two visitors would be one voter.
                                    seed=0 if self.scripted and options.server is None else None)
        self._icon_textures: dict[str, Any] = {}
        self.hud = Hud(self.base.aspect2d, font=self.fonts[0], bold_font=self.fonts[1],
                       on_action=self.on_action, icon=self._icon, size_px=options.size)
        self.overlay = GroundOverlay(self.base.render)
        self.placed = PlacedModels(self.base.render, self.catalog)
        self.walker = Walker(x=self.area_centre[0], y=self.area_centre[1], heading_deg=0.0)
        radius_m = max(max_x - min_x, max_y - min_y) * 0.75
        self.orbit = Orbit(target=self.area_centre, distance_m=radius_m, heading_deg=-30.0, pitch_deg=-40.0)
        self.mode = "overview" if options.kiosk else "walk"
        from game.kiosk._app_pad import WalkPad
        self.transition: Any = None
        self.transition_t0 = 0.0
        self.held_keys: dict[str, float] = {}  # key -> until (script "key" steps)
        self.input = PointerInput(self)
        self.pad = WalkPad(self.base.a2dBottomLeft, self.fonts[1], self.input.pad,
                           touched=lambda: self.session.touch(self.now))
        self.pad.place(2.36, 0.92)  # between the tools row and the KPI cards
        self.tour: Any = None  # the attract loop's camera tour, while nobody is at the kiosk
        self.city: City | None = None
        self.engine: Engine | None = None
        self.engine_error: BaseException | None = None
        self.pick_index: Any = None

        self.scene.queue_tiles(self.camera_pose()[:2])
        self._worker = threading.Thread(target=self._build_models, name="kiosk-models", daemon=True)
        self._worker.start()
        self.base.task_mgr.add(self._frame_task, "kiosk-frame", sort=-20)

    # -- start-up ------------------------------------------------------------------------------

    def _load_fonts(self) -> tuple[Any, Any]:
        missing = [str(p) for p in FONT_PATHS if not p.is_file()]
        if missing:
            raise KioskError(f"the font {missing[0]} is missing; `make` installs it (Debian fonts-dejavu-core).")
        fonts = []
        for path in FONT_PATHS:
            font = self.base.loader.load_font(Filename.from_os_specific(str(path)).get_fullpath())
            font.set_pixels_per_unit(48)
            fonts.append(font)
        return fonts[0], fonts[1]

    def _build_models(self) -> None:
        """Worker thread: the city model, then the simulation baseline."""
        try:
            city = load_city(self.options.city)
            self.city = city
            engine = Engine(city, conditions_for(self.scenario), create(None), area=self.scenario.area_m(city.frame),
                            cell_m=self.scenario.cell_m, catalog=self.catalog, allowed=self.scenario.allowed,
                            background=True)
            self.engine = engine
        except BaseException as exc:  # reported on the frame loop, which owns the exit
            self.engine_error = exc

    def _icon(self, catalog_id: str) -> Any:
        from panda3d.core import Texture

        from game.kiosk.icons import icon_rgba

        if catalog_id not in self._icon_textures:
            try:
                rgba = icon_rgba(self.catalog[catalog_id], 128)
            except Exception:
                return None
            texture = Texture(catalog_id)
            texture.setup_2d_texture(rgba.shape[1], rgba.shape[0], Texture.T_unsigned_byte, Texture.F_rgba8)
            texture.set_ram_image(rgba[::-1, :, [2, 1, 0, 3]].copy().tobytes())
            self._icon_textures[catalog_id] = texture
        return self._icon_textures[catalog_id]

    @property
    def ready(self) -> bool:
        return self.engine is not None and not self.scene.loading

    # -- the frame -------------------------------------------------------------------------------

    def _frame_task(self, task: Any) -> int:
        if self.scripted:
            self.now += SCRIPT_DT_S
            dt = SCRIPT_DT_S
        else:
            now = time.perf_counter() - self.options.started
            dt = min(0.1, max(0.0, now - self.now))
            self.now = now
        self.update(dt)
        return task.cont

    def update(self, dt: float) -> None:
        """Advance everything but the render by ``dt`` seconds."""
        if self.engine_error is not None:
            raise KioskError(f"the simulations could not start: {self.engine_error}") from None
        if self.scene.loading:
            self.scene.load_some()
            if not self.scene.loading:
                from game.kiosk.picking import PickIndex

                self.pick_index = PickIndex.build(self.scene.loaded)
                self.timings.setdefault("interactive_s", time.perf_counter() - self.options.started)
        if self.engine is not None and getattr(self.session, "engine", None) is None:
            self._attach()
        self.session.tick(self.now)
        self._attract()
        self.pad.show(self.session.screen == "explore" and self.mode == "walk")
        self.input.update(dt)
        self._move()
        self._sync_scene()
        view = self.session.view(self.now, datetime.now(UTC))
        self.hud.update(view, callout_xy=self._project(view.callout), now=self.now)

    def _attract(self) -> None:
        """While nobody is at the kiosk, the attract loop tours the city (the attract
        script, through the same runner as ``--script``); the first touch ends it."""
        if self.scripted:
            return
        if self.session.screen != "attract":
            if self.tour is not None:
                self.tour = None
                start = self.current_pose()
                self.walker.place(*self.area_centre)
                self.mode = "walk"
                self.glide_from(start, 1.5)
            return
        if self.tour is None and self.ready:
            from game.kiosk.runner import ScriptRunner
            from game.kiosk.script import load_script

            self.tour = ScriptRunner(self, load_script(ATTRACT_SCRIPT), None).tour()
        if self.tour is not None:
            next(self.tour)

    def _attach(self) -> None:
        from game.kiosk.movement import Obstacles

        assert self.engine is not None and self.city is not None
        self.session.attach_engine(self.engine)
        self.placed.city = self.city
        self.walker.obstacles = Obstacles.from_city(self.city)
        self.timings.setdefault("sims_ready_s", time.perf_counter() - self.options.started)

    def _sync_scene(self) -> None:
        engine = self.engine
        if engine is None:
            return
        self.placed.sync(engine.placed)
        sim = self.session.overlay
        run = engine.runs.get(sim) if sim else None
        self.overlay.show(run.result.field if run is not None else None, engine.scene.grids)

    # -- the camera ------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``walk`` or ``overview``; the session keeps it, so its buttons and hints agree."""
        return str(self.session.mode)

    @mode.setter
    def mode(self, value: str) -> None:
        self.session.mode = value

    def camera_pose(self) -> tuple[float, float, float, float, float]:
        pose = self.walker.pose() if self.mode == "walk" else self.orbit.pose()
        if self.transition is not None:
            t = self.now - self.transition_t0
            if self.transition.done(t):
                self.transition = None
            else:
                pose = self.transition.at(t)
        return (pose.x, pose.y, pose.z, pose.heading_deg, pose.pitch_deg)

    def glide_from(self, start: Any, seconds: float) -> None:
        """Glide from ``start`` to wherever the current mode's camera now is."""
        from game.kiosk.movement import Transition

        end = self.walker.pose() if self.mode == "walk" else self.orbit.pose()
        self.transition = Transition(start, end, seconds) if seconds > 0 else None
        self.transition_t0 = self.now

    def current_pose(self) -> Any:
        from game.kiosk.movement import Pose

        return Pose(*self.camera_pose())

    def _move(self) -> None:
        x, y, z, heading, pitch = self.camera_pose()
        camera = self.base.camera
        camera.set_pos(x, y, z)
        camera.set_hpr(heading, pitch, 0.0)
        self.scene.follow((x, y, z))

    def _project(self, callout: Any) -> tuple[float, float] | None:
        """The callout's 3D anchor on screen in window pixels (origin top-left, y down),
        or None when it is behind the camera or off screen."""
        if callout is None:
            return None
        cam = self.base.cam
        point = cam.get_relative_point(self.base.render, LPoint3(callout.x_m, callout.y_m, callout.z_m))
        film = Point2()
        if not cam.node().get_lens().project(point, film):
            return None
        width, height = self.options.size
        return ((film.x + 1.0) / 2.0 * width, (1.0 - film.y) / 2.0 * height)

    def pointer_ray(self, x: float, y: float) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """The ray from the camera through film point (x, y) in −1..1, in local metres."""
        near, far = Point3(), Point3()
        self.base.cam.node().get_lens().extrude(Point2(x, y), near, far)
        render = self.base.render
        a = render.get_relative_point(self.base.cam, near)
        b = render.get_relative_point(self.base.cam, far)
        d = b - a
        d.normalize()
        return (a.x, a.y, a.z), (d.x, d.y, d.z)

    # -- actions ---------------------------------------------------------------------------------

    def on_action(self, action: Action) -> Any:
        """A pressed button or a script step: camera actions here, the rest to the session."""
        if action.name == "mode":
            to = action.arg("to", "overview")
            start = self.current_pose()
            self.mode = to
            self.glide_from(start, 0.0 if self.scripted else 1.2)
        elif action.name == "fly_to":
            target = self.session.proposal_centre(action.arg("proposal"))
            if target is not None:
                start = self.current_pose()
                self.orbit.target = target
                self.orbit.distance_m = 180.0
                self.mode = "overview"
                self.glide_from(start, 0.0 if self.scripted else 1.5)
        return self.session.dispatch(action, self.now, datetime.now(UTC))

    def on_action_name(self, name: str, **args: Any) -> Any:
        return self.on_action(Action.of(name, **args))

    def type_text(self, key: str) -> None:
        """A key typed on the proposal screen: edit the title, Enter sends it."""
        title = self.session.title_input
        if key in ("\r", "\n"):
            self.on_action_name("propose", title=title)
        elif key == "\b":
            self.session.set_title_input(title[:-1])
        elif key.isprintable() and len(title) < 80:
            self.session.set_title_input(title + key)

    # -- screenshots and running -----------------------------------------------------------------

    def render(self) -> float:
        """Render one frame; its duration in milliseconds."""
        started = time.perf_counter()
        self.base.task_mgr.step()
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self.frames += 1
        if self.frames == 1:
            self.timings["first_frame_s"] = time.perf_counter() - self.options.started
        self.frame_ms.append(elapsed_ms)
        return elapsed_ms

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.base.graphicsEngine.render_frame()
        if not self.base.win.save_screenshot(Filename.from_os_specific(str(path))):
            raise KioskError(f"{path}: the frame could not be written.")
        return path

    def run(self) -> None:
        """Interactive: the window's own loop until it is closed."""
        self.base.run()

    def close(self) -> None:
        try:
            if self.engine is not None:
                self.engine.close()
            self.sink.close()
        finally:
            self.base.destroy()
