"""Kiosk scripts: a visit written down as steps, for demos, screenshots and benchmarks.

A script is JSON (a list of steps, or ``{"steps": [...]}``) or TOML (``[[step]]``
tables). Each step names what to ``do`` and its fields; :func:`parse_script` checks every
field and refuses a bad one in a sentence naming the step and the field ("step 3
(place): 'x' must be a number."). The steps::

    goto        x, y (local metres); heading_deg, pitch_deg, seconds (glide) optional
    overview    top (bool), x, y, heading_deg, distance_m, seconds: all optional
    place       catalog; x and y, or geometry (GeoJSON-style, local metres); params optional
    remove      id optional (default: the last placed)
    undo, redo
    overlay     sim (a simulation name, or null for none)
    lang        code
    propose     title
    vote        question, choice (an option id, a proposal id, or a score 1..5)
    press       action (any HUD action name), args (an object) optional
    key         key, seconds
    wait        frames
    screenshot  name ([A-Za-z0-9_-]+)

The app's :class:`game.kiosk.runner.ScriptRunner` plays them frame by frame; without
Panda3D, :func:`run_on_session` plays the session's part of them (camera steps pass).
:class:`Report` keeps what each step did and the frame timings.

>>> [(s.index, s.do, s.args) for s in parse_script([{"do": "lang", "code": "fi"}, {"do": "undo"}])]
[(0, 'lang', {'code': 'fi'}), (1, 'undo', {})]
>>> parse_script([{"do": "goto", "x": 1}])
Traceback (most recent call last):
...
game.kiosk.script.ScriptError: step 1 (goto): 'y' is missing.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from game.kiosk.errors import KioskError

__all__ = ["STEPS", "ScriptError", "Step", "load_script", "parse_script", "Report", "frame_stats",
           "run_on_session"]

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_GEOMETRY_TYPES = ("Point", "LineString", "Polygon", "MultiPolygon")


class ScriptError(KioskError):
    """A script that cannot be played; one sentence naming the step and the field."""


# -- field checks: each returns the value to keep, or raises ValueError with what it must be --

def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a number")
    return float(value)


def _seconds(value: Any) -> float:
    if _number(value) < 0:
        raise ValueError("must be a number of seconds, 0 or more")
    return float(value)


def _positive(value: Any) -> float:
    if _number(value) <= 0:
        raise ValueError("must be a number above 0")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty text")
    return value


def _sim(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("must be a simulation name or null")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError("must be a file name of letters, digits, '_' and '-'")
    return value


def _choice(value: Any) -> str | int:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    raise ValueError("must be an option id, a proposal id or a score from 1 to 5")


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("must be an object")
    return dict(value)


def _frames(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("must be a whole number of frames, 1 or more")
    return value


def _positions(coords: Any, depth: int) -> bool:
    if depth == 0:
        return isinstance(coords, list | tuple) and len(coords) in (2, 3) and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in coords)
    return isinstance(coords, list | tuple) and len(coords) > 0 and all(_positions(c, depth - 1) for c in coords)


def _geometry(value: Any) -> dict[str, Any]:
    must = "must be a GeoJSON-style Point, LineString, Polygon or MultiPolygon in local metres"
    if not isinstance(value, Mapping) or value.get("type") not in _GEOMETRY_TYPES:
        raise ValueError(must)
    depth = _GEOMETRY_TYPES.index(value["type"])
    if not _positions(value.get("coordinates"), depth):
        raise ValueError(must)
    return {"type": value["type"], "coordinates": value["coordinates"]}


def _action(value: Any) -> str:
    from game.kiosk.session import ACTIONS

    if value not in ACTIONS:
        raise ValueError(f"must be one of {', '.join(ACTIONS)}")
    return str(value)


_Check = Callable[[Any], Any]
#: Every step: its fields, each (check, required).
STEPS: dict[str, dict[str, tuple[_Check, bool]]] = {
    "goto": {"x": (_number, True), "y": (_number, True), "heading_deg": (_number, False),
             "pitch_deg": (_number, False), "seconds": (_seconds, False)},
    "overview": {"top": (_bool, False), "x": (_number, False), "y": (_number, False),
                 "heading_deg": (_number, False), "distance_m": (_positive, False), "seconds": (_seconds, False)},
    "place": {"catalog": (_text, True), "x": (_number, False), "y": (_number, False),
              "geometry": (_geometry, False), "params": (_object, False)},
    "remove": {"id": (_text, False)},
    "undo": {},
    "redo": {},
    "overlay": {"sim": (_sim, False)},
    "lang": {"code": (_text, True)},
    "propose": {"title": (_text, True)},
    "vote": {"question": (_text, True), "choice": (_choice, True)},
    "press": {"action": (_action, True), "args": (_object, False)},
    "key": {"key": (_text, True), "seconds": (_positive, True)},
    "wait": {"frames": (_frames, True)},
    "screenshot": {"name": (_name, True)},
}


@dataclass(frozen=True, slots=True)
class Step:
    """One checked step: what to ``do``, its ``args``, and its ``index`` (from 0) in the script."""

    do: str
    args: dict[str, Any]
    index: int


def _step(raw: Any, index: int) -> Step:
    where = f"step {index + 1}"
    if not isinstance(raw, Mapping):
        raise ScriptError(f"{where}: a step must be an object with a 'do' field, not {type(raw).__name__}.")
    do = raw.get("do")
    if do not in STEPS:
        raise ScriptError(f"{where}: 'do' must be one of {', '.join(STEPS)}, not {do!r}.")
    where = f"{where} ({do})"
    fields = STEPS[do]
    unknown = sorted(set(raw) - set(fields) - {"do"})
    if unknown:
        expected = ", ".join(fields) or "no fields"
        raise ScriptError(f"{where}: unknown field {unknown[0]!r} (it takes {expected}).")
    args: dict[str, Any] = {}
    for name, (check, required) in fields.items():
        if name not in raw:
            if required:
                raise ScriptError(f"{where}: '{name}' is missing.")
            continue
        try:
            args[name] = check(raw[name])
        except ValueError as exc:
            raise ScriptError(f"{where}: '{name}' {exc}.") from None
    if do == "place":
        point = "x" in args or "y" in args
        if point == ("geometry" in args) or (point and not ("x" in args and "y" in args)):
            raise ScriptError(f"{where}: give either 'x' and 'y' or a 'geometry'.")
    return Step(do, args, index)


def parse_script(obj: Any) -> list[Step]:
    """The steps of a script already read from JSON or TOML: a list of steps, or an object
    with a ``steps`` (or TOML ``step``) list. :class:`ScriptError` names the first problem."""
    if isinstance(obj, Mapping):
        obj = obj.get("steps", obj.get("step"))
    if not isinstance(obj, list):
        raise ScriptError("a script must be a list of steps, or an object with a 'steps' list.")
    return [_step(raw, i) for i, raw in enumerate(obj)]


def load_script(path: Path | str) -> list[Step]:
    """Read and check a script file (``.json``, or ``.toml`` with ``[[step]]`` tables)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"{path}: no such script.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: the script cannot be read ({exc}).") from None
    try:
        obj = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScriptError(f"{path.name}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'} ({exc}).") \
            from None
    try:
        return parse_script(obj)
    except ScriptError as exc:
        raise ScriptError(f"{path.name}: {exc}") from None


def frame_stats(frame_ms: Sequence[float]) -> dict[str, Any]:
    """Frames, their mean, 95th percentile and worst duration, ms (None without frames)."""
    ordered = sorted(float(v) for v in frame_ms)
    if not ordered:
        return {"frames": 0, "mean_ms": None, "p95_ms": None, "max_ms": None}
    k = (len(ordered) - 1) * 0.95
    low = math.floor(k)
    high = min(low + 1, len(ordered) - 1)
    p95 = ordered[low] + (ordered[high] - ordered[low]) * (k - low)
    return {"frames": len(ordered), "mean_ms": round(sum(ordered) / len(ordered), 3), "p95_ms": round(p95, 3),
            "max_ms": round(ordered[-1], 3)}


@dataclass(slots=True)
class Report:
    """What a script run did: per step ``{"do", "accepted", "reason", "kpis"}``, the frame
    timings (``first_frame_s``, ``interactive_s``, ``frames``, ``mean_ms``, ``p95_ms``…)
    and the screenshots written."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, Any] = field(default_factory=dict)
    screenshots: list[str] = field(default_factory=list)

    def record(self, step: Step, accepted: bool, reason: str | None, kpis: Mapping[str, float]) -> None:
        self.steps.append({"do": step.do, "accepted": bool(accepted), "reason": reason,
                           "kpis": {name: round(float(v), 6) for name, v in kpis.items()}})

    def timings(self, frame_ms: Sequence[float], **extra: Any) -> None:
        """Set the frame timings from each frame's duration (ms) plus ``extra`` figures
        (``first_frame_s``, ``interactive_s``, renderer, size…)."""
        self.frames = {**extra, **frame_stats(frame_ms)}

    def to_json(self) -> dict[str, Any]:
        return {"steps": self.steps, "frames": self.frames, "screenshots": self.screenshots}

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


def run_on_session(session: Any, steps: Sequence[Step], *, now: float = 0.0, dt_s: float = 1.0 / 30.0) -> Report:
    """Play the session's part of ``steps`` on a :class:`game.kiosk.session.KioskSession`
    without an app: camera, key and screenshot steps are accepted and change nothing,
    ``wait`` and ``key`` let simulated time pass (``dt_s`` a frame)."""
    import shapely
    from shapely.geometry import shape

    from game.kiosk.view import Action

    report = Report()
    for step in steps:
        args = step.args
        outcome: Any = None
        if step.do == "place":
            geometry = shape(args["geometry"]) if "geometry" in args else shapely.Point(args["x"], args["y"])
            outcome = session.place(args["catalog"], geometry, args.get("params"), now)
        elif step.do == "remove":
            ids = session.placed_ids()
            action = Action.of("delete", placed=args.get("id") or (ids[-1] if ids else None))
            outcome = session.dispatch(action, now)
        elif step.do in ("undo", "redo"):
            outcome = session.dispatch(Action.of(step.do), now)
        elif step.do == "overlay":
            outcome = session.dispatch(Action.of("overlay", sim=args.get("sim")), now)
        elif step.do == "lang":
            outcome = session.dispatch(Action.of("lang", code=args["code"]), now)
        elif step.do == "propose":
            outcome = session.dispatch(Action.of("propose", title=args["title"]), now)
        elif step.do == "vote":
            outcome = session.dispatch(Action.of("vote", question=args["question"], choice=args["choice"]), now)
        elif step.do == "press":
            outcome = session.dispatch(Action.of(args["action"], **args.get("args", {})), now)
        elif step.do in ("wait", "key"):
            frames = args["frames"] if step.do == "wait" else math.ceil(args["seconds"] / dt_s)
            for _ in range(frames):
                now += dt_s
                session.tick(now)
        now += dt_s
        session.tick(now)
        accepted, reason = (True, None) if outcome is None else (outcome.accepted, outcome.reason)
        report.record(step, accepted, reason, session.kpi_values())
    return report
