"""Keyboard, mouse and touch for the kiosk: walking, looking, tapping, placing.

A touch screen reaches Panda3D as a mouse, so one code path serves both: a press that
moves less than a few pixels before it is released is a tap (place the selected
intervention, walk to the ground tapped, or jump there from the overview); a press that
moves is a drag (look around, or turn the overview map). An on-screen pad walks for
those without a keyboard. Script ``key`` steps hold keys through :attr:`KioskApp.held_keys`
with the same effect as a real keyboard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shapely
from panda3d.core import KeyboardButton

if TYPE_CHECKING:
    from game.kiosk.app import KioskApp

__all__ = ["PointerInput", "KEYS"]

#: Key name (as scripts give it) -> (forward, strafe, turn) it contributes.
KEYS: dict[str, tuple[float, float, float]] = {
    "w": (1, 0, 0), "arrow_up": (1, 0, 0), "s": (-1, 0, 0), "arrow_down": (-1, 0, 0),
    "a": (0, -1, 0), "d": (0, 1, 0), "q": (0, 0, 1), "e": (0, 0, -1),
    "arrow_left": (0, 0, 1), "arrow_right": (0, 0, -1),
}
_TURN_DEG_S = 70.0
_TAP_PX = 8.0
_LOOK_DEG_PER_PX = 0.25


def _button(name: str) -> Any:
    return KeyboardButton.ascii_key(name) if len(name) == 1 else getattr(KeyboardButton, name.replace("arrow_", ""))()


class PointerInput:
    """Reads input each frame and turns it into camera moves and session actions."""

    def __init__(self, app: KioskApp) -> None:
        self.app = app
        self._press: tuple[float, float] | None = None
        self._last: tuple[float, float] | None = None
        self._dragged = False
        self.pad: dict[str, float] = {}  # the on-screen pad's held directions
        self.vertices: list[tuple[float, float]] = []  # a line or area being drawn
        base = app.base
        base.accept("mouse1", self._down)
        base.accept("mouse1-up", self._up)
        base.accept("wheel_up", self._zoom, [0.85])
        base.accept("wheel_down", self._zoom, [1.0 / 0.85])
        base.accept("escape", self.cancel)
        base.accept("tab", self._toggle_mode)
        for key, name in (("z", "undo"), ("y", "redo")):
            base.accept(f"control-{key}", self.app.on_action_name, [name])
        base.accept("keystroke", self._keystroke)

    # -- per frame ------------------------------------------------------------------------------

    def _held(self, name: str) -> bool:
        if self.app.held_keys.get(name, -1.0) > self.app.now:
            return True
        watcher = self.app.base.mouseWatcherNode
        if self.app.scripted or (not watcher.has_mouse() and not self.app.base.win.is_active()):
            return False
        if self.app.session.screen == "propose":
            return False  # the keyboard is typing a title
        return bool(watcher.is_button_down(_button(name)))

    def update(self, dt: float) -> None:
        forward = strafe = turn = 0.0
        for key, (f, s, t) in KEYS.items():
            if self._held(key):
                forward, strafe, turn = forward + f, strafe + s, turn + t
        for key, amount in self.pad.items():
            f, s, t = KEYS[key]
            forward, strafe, turn = forward + f * amount, strafe + s * amount, turn + t * amount
        run = self._held("shift") if "shift" in self.app.held_keys else False
        watcher = self.app.base.mouseWatcherNode
        if not self.app.scripted and watcher.has_mouse():
            run = run or bool(watcher.is_button_down(KeyboardButton.shift()))
            self._drag(watcher.get_mouse_x(), watcher.get_mouse_y())
            self._hover(watcher.get_mouse_x(), watcher.get_mouse_y())
        moving = forward or strafe or turn
        if moving:
            self.app.session.touch(self.app.now)
        if self.app.mode == "walk":
            self.app.walker.step(dt, max(-1.0, min(1.0, forward)), max(-1.0, min(1.0, strafe)),
                                 turn * _TURN_DEG_S, run)
        elif moving:
            self.app.orbit.drag(-turn * _TURN_DEG_S * dt * 4.0, 0.0)

    def _drag(self, x: float, y: float) -> None:
        if self._press is None or self._last is None:
            return
        width, height = self.app.options.size
        dx_px, dy_px = (x - self._last[0]) * width / 2.0, (y - self._last[1]) * height / 2.0
        total = ((x - self._press[0]) * width / 2.0, (y - self._press[1]) * height / 2.0)
        if not self._dragged and (total[0] ** 2 + total[1] ** 2) ** 0.5 > _TAP_PX:
            self._dragged = True
        if self._dragged:
            if self.app.mode == "walk":
                self.app.walker.look(-dx_px * _LOOK_DEG_PER_PX, dy_px * _LOOK_DEG_PER_PX)
            else:
                self.app.orbit.drag(-dx_px * _LOOK_DEG_PER_PX, dy_px * _LOOK_DEG_PER_PX)
            self.app.session.touch(self.app.now)
        self._last = (x, y)

    def _hover(self, x: float, y: float) -> None:
        """The ghost preview under the pointer while an intervention is selected."""
        selected = self.app.session.selected
        if selected is None or self.app.engine is None:
            self.app.placed.clear_ghost()
            return
        point = self.ground_at(x, y)
        if point is None:
            self.app.placed.clear_ghost()
            return
        geometry = self.geometry_for(selected, point, closing=False)
        if geometry is None:
            self.app.placed.clear_ghost()
            return
        preview = self.app.session.preview(selected, geometry)
        self.app.placed.show_ghost(selected, preview.geometry, preview.ok, self.app.session.rotation_deg)

    # -- events ---------------------------------------------------------------------------------

    def _down(self) -> None:
        watcher = self.app.base.mouseWatcherNode
        if not watcher.has_mouse():
            return
        self._press = self._last = (watcher.get_mouse_x(), watcher.get_mouse_y())
        self._dragged = False
        self.app.session.touch(self.app.now)

    def _up(self) -> None:
        press, dragged = self._press, self._dragged
        self._press = self._last = None
        if press is not None and not dragged:
            self.tap(*press)

    def _zoom(self, factor: float) -> None:
        if self.app.mode == "overview":
            self.app.orbit.zoom(factor)
        self.app.session.touch(self.app.now)

    def _toggle_mode(self) -> None:
        self.app.on_action_name("mode", to="overview" if self.app.mode == "walk" else "walk")

    def _keystroke(self, key: str) -> None:
        """Typing a proposal's title."""
        if self.app.session.screen != "propose":
            return
        self.app.session.touch(self.app.now)
        self.app.type_text(key)

    def cancel(self) -> None:
        self.vertices.clear()
        self.app.placed.clear_ghost()
        self.app.on_action_name("deselect")

    # -- tapping ---------------------------------------------------------------------------------

    def ground_at(self, x: float, y: float) -> tuple[float, float] | None:
        """Where the pointer at film point (x, y) meets the ground (or a roof), local metres."""
        origin, direction = self.app.pointer_ray(x, y)
        if self.app.pick_index is not None:
            hit = self.app.pick_index.pick(origin, direction)
            if hit is not None:
                return (hit.point[0], hit.point[1])
        from game.kiosk.picking import ground_point

        return ground_point(origin, direction)

    def building_at(self, x: float, y: float) -> Any:
        """The building under film point (x, y), bounding boxes first, then triangles."""
        if self.app.pick_index is None:
            return None
        origin, direction = self.app.pointer_ray(x, y)
        return self.app.pick_index.pick(origin, direction)

    def _placed_near(self, point: tuple[float, float]) -> bool:
        engine = self.app.engine
        here = shapely.Point(point)
        return engine is not None and any(p.geometry.distance(here) <= 2.0 for p in engine.placed)

    def geometry_for(self, catalog_id: str, point: tuple[float, float], *, closing: bool) -> Any:
        """The geometry a tap at ``point`` gives the selected entry, with the vertices
        tapped so far; None while a line or area still needs more taps."""
        kind = self.app.catalog[catalog_id].kind
        if kind in ("point", "building-edit"):
            return shapely.Point(point)
        points = [*self.vertices, point]
        if kind == "line":
            return shapely.LineString(points) if len(points) >= 2 else shapely.Point(point)
        if len(points) >= 3:
            polygon = shapely.Polygon(points)
            return polygon if polygon.is_valid else None
        return shapely.Point(point) if not closing else None

    def tap(self, x: float, y: float) -> None:
        """A tap at film point (x, y): place, walk there, or jump there."""
        app = self.app
        point = self.ground_at(x, y)
        if point is None:
            return
        selected = app.session.selected
        if selected is not None and app.engine is not None:
            kind = app.catalog[selected].kind
            if kind == "line" and not self.vertices:
                self.vertices.append(point)
                return
            if kind == "area":
                if len(self.vertices) < 3 or shapely.Point(point).distance(shapely.Point(self.vertices[0])) > 3.0:
                    self.vertices.append(point)
                    return
                point = self.vertices[0]
            geometry = self.geometry_for(selected, point, closing=True)
            self.vertices.clear()
            if geometry is not None:
                app.session.place(selected, geometry, None, app.now)
            return
        hit = self.building_at(x, y)
        if hit is not None or self._placed_near(point):
            app.session.inspect(hit.name if hit else None, hit.height_m if hit else None, *point, app.now)
            return
        if app.mode == "walk":
            app.walker.walk_to(*point)
        else:
            start = app.current_pose()
            app.walker.place(*point)
            app.mode = "walk"
            app.glide_from(start, 1.5)
