"""Runs a ``--script``: each step drives the kiosk the way a citizen would, frame by frame.

Steps that take time (``key``, ``wait``, a ``goto`` with ``seconds``) run over frames of
:data:`game.kiosk.app.SCRIPT_DT_S` simulated seconds, so a script walks the same distance
and meets the same idle countdown on any machine. Every step is recorded in the report:
whether the kiosk accepted it, the reason shown to the citizen when it did not, and the
KPIs after it. The attract loop of kiosk mode runs its camera tour through this runner
too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from game.kiosk.errors import KioskError
from game.kiosk.script import frame_stats
from game.kiosk.view import Action

__all__ = ["ScriptRunner"]

#: Frames to let the scene settle before a screenshot (tiles in, ghosts out, HUD redrawn).
_SETTLE_FRAMES = 2


class ScriptRunner:
    """Plays ``steps`` on ``app``; :meth:`run` returns the report as a dict."""

    def __init__(self, app: Any, steps: list[Any], screenshots: Path | None, *, loop: bool = False) -> None:
        self.app = app
        self.steps = steps
        self.screenshots = screenshots
        self.loop = loop
        self.records: list[dict[str, Any]] = []
        self.shots: list[str] = []

    # -- running -----------------------------------------------------------------------------------

    def _frames(self, count: int) -> Iterator[None]:
        """Yield once per frame to spend; whoever drives the generator renders them."""
        for _ in range(max(0, int(count))):
            yield None

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Render until the tiles are in and the simulations are ready."""
        deadline = time.perf_counter() + timeout_s
        while not self.app.ready or self.app.pick_index is None:
            self.app.render()
            if self.app.engine is None:
                time.sleep(0.01)  # let the worker thread have the GIL
            if time.perf_counter() > deadline:
                raise KioskError(f"the city and simulations were not ready after {timeout_s:.0f} s.")
        self.app.render()

    def run(self) -> dict[str, Any]:
        self.wait_ready()
        started = len(self.app.frame_ms)
        for step in self.steps:
            for _ in self._play(step):
                self.app.render()
        walltimes = self.app.frame_ms[started:]
        return self.report(walltimes)

    def tour(self) -> Iterator[None]:
        """The attract loop: the script's steps over and over, one frame per ``next``,
        recording nothing (the app's own frame loop renders)."""
        while True:
            for step in self.steps:
                yield from self._play(step, record=False)
            yield None

    def report(self, step_frames_ms: list[float]) -> dict[str, Any]:
        app = self.app
        stats = frame_stats(step_frames_ms)
        frames = {
            "renderer": app.renderer,
            "size": list(app.options.size),
            "first_frame_s": _round(app.timings.get("first_frame_s")),
            "interactive_s": _round(app.timings.get("interactive_s")),
            "sims_ready_s": _round(app.timings.get("sims_ready_s")),
            "frames": app.frames,
            "script_frames": len(step_frames_ms),
            "frame_ms_mean": stats["mean_ms"],
            "frame_ms_p95": stats["p95_ms"],
        }
        return {"steps": self.records, "frames": frames, "screenshots": self.shots}

    # -- steps ---------------------------------------------------------------------------------------

    def _record(self, step: Any, accepted: bool, reason: str | None) -> None:
        x, y, z, heading, pitch = self.app.camera_pose()
        self.records.append({"do": step.do, "accepted": bool(accepted), "reason": reason,
                             "kpis": self.app.session.kpi_values(),
                             "camera": {"mode": self.app.mode, "x": round(x, 3), "y": round(y, 3), "z": round(z, 3),
                                        "heading_deg": round(heading, 2), "pitch_deg": round(pitch, 2)},
                             "screen": self.app.session.screen})

    def _play(self, step: Any, *, record: bool = True) -> Iterator[None]:
        handler = getattr(self, f"_do_{step.do}", None)
        if handler is None:
            raise KioskError(f"step {step.index + 1}: the runner cannot do {step.do!r}.")
        outcome = yield from handler(step.args)
        accepted, reason = outcome if outcome is not None else (True, None)
        if record:
            self._record(step, accepted, reason)

    def _action(self, name: str, **args: Any) -> tuple[bool, str | None]:
        outcome = self.app.on_action(Action.of(name, **args))
        return bool(outcome.accepted), outcome.reason

    def _do_goto(self, args: dict[str, Any]) -> Iterator[None]:
        app = self.app
        start = app.current_pose()
        walker = app.walker
        heading = args.get("heading_deg")
        walker.place(float(args["x"]), float(args["y"]), heading_deg=float(heading) if heading is not None else None)
        walker.pitch_deg = float(args.get("pitch_deg", 0.0))
        app.mode = "walk"
        seconds = float(args.get("seconds", 0.0))
        app.glide_from(start, seconds)
        yield from self._frames(math.ceil(seconds / _dt()) if seconds else 1)
        return True, None

    def _do_overview(self, args: dict[str, Any]) -> Iterator[None]:
        app = self.app
        start = app.current_pose()
        if args.get("x") is not None and args.get("y") is not None:
            app.orbit.target = (float(args["x"]), float(args["y"]))
        if args.get("heading_deg") is not None:
            app.orbit.heading_deg = float(args["heading_deg"])
        if args.get("distance_m") is not None:
            app.orbit.distance_m = float(args["distance_m"])
        if args.get("top"):
            app.orbit.top_down()
        app.mode = "overview"
        seconds = float(args.get("seconds", 0.0))
        app.glide_from(start, seconds)
        yield from self._frames(math.ceil(seconds / _dt()) if seconds else 1)
        return True, None

    def _geometry(self, args: dict[str, Any]) -> Any:
        if args.get("geometry") is not None:
            return shape(args["geometry"])
        return shapely.Point(float(args["x"]), float(args["y"]))

    def _do_place(self, args: dict[str, Any]) -> Iterator[None]:
        session = self.app.session
        outcome = session.place(args["catalog"], self._geometry(args), args.get("params"), self.app.now)
        yield from self._frames(1)
        return bool(outcome.accepted), outcome.reason

    def _do_remove(self, args: dict[str, Any]) -> Iterator[None]:
        session = self.app.session
        ids = session.placed_ids()
        target = args.get("id") or (ids[-1] if ids else None)
        if target is None:
            yield from self._frames(1)
            return False, "nothing is placed"
        result = self._action("delete", placed=target)
        yield from self._frames(1)
        return result

    def _do_undo(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action("undo")
        yield from self._frames(1)
        return result

    def _do_redo(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action("redo")
        yield from self._frames(1)
        return result

    def _do_overlay(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action("overlay", sim=args.get("sim"))
        yield from self._frames(1)
        return result

    def _do_lang(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action("lang", code=args["code"])
        yield from self._frames(1)
        return result

    def _do_propose(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action("propose", title=args["title"])
        yield from self._frames(1)
        return result

    def _do_vote(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action("vote", question=args["question"], choice=args["choice"])
        yield from self._frames(1)
        return result

    def _do_press(self, args: dict[str, Any]) -> Iterator[None]:
        result = self._action(args["action"], **dict(args.get("args") or {}))
        yield from self._frames(1)
        return result

    def _do_key(self, args: dict[str, Any]) -> Iterator[None]:
        seconds = float(args["seconds"])
        self.app.held_keys[str(args["key"])] = self.app.now + seconds
        yield from self._frames(math.ceil(seconds / _dt()))
        self.app.held_keys.pop(str(args["key"]), None)
        return True, None

    def _do_wait(self, args: dict[str, Any]) -> Iterator[None]:
        yield from self._frames(int(args.get("frames", 1)))
        return True, None

    def _do_screenshot(self, args: dict[str, Any]) -> Iterator[None]:
        app = self.app
        if app.engine is not None:
            app.engine.wait()  # slow simulations land before the picture, every time
        yield from self._frames(_SETTLE_FRAMES)
        if self.screenshots is not None:
            path = app.screenshot(self.screenshots / f"{args['name']}.png")
            self.shots.append(str(path))
        return True, None


def _dt() -> float:
    from game.kiosk.app import SCRIPT_DT_S

    return SCRIPT_DT_S


def _round(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 4)
