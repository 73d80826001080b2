"""Walking and the overview camera, as plain numbers: no Panda3D here.

Coordinates are the city's local metres, Panda3D world axes: x east, y north, z up.
Angles use Panda3D's conventions so that a :class:`Pose` goes straight to
``NodePath.set_pos_hpr``: heading 0 looks along +y (north) and grows counter-clockwise
seen from above (heading 90 looks west, along -x; 270 looks east); pitch is positive
looking up. Headings are kept in [0, 360).

- :class:`Obstacles`: building footprints and water, widened by the body's radius;
  :meth:`Obstacles.move` slides along walls and never passes through one.
- :class:`Walker`: the person at street level (eye 1.7 m above the ground, 1.4 m/s,
  three times that running), steered by pad/keys, mouse or touch drags, or a tap on
  the ground (:meth:`Walker.walk_to`).
- :class:`Orbit`: the overview camera circling a point on the ground.
- :class:`Transition`: an eased flight between two poses (walk <-> overview, fly to).
- :func:`map_to_world` / :func:`world_to_map`: the overview map image <-> local metres.

>>> w = Walker(0.0, 0.0)
>>> for _ in range(60):
...     w.step(1 / 60, forward=1.0)
>>> round(w.y, 3), w.eye()[2]
(1.4, 1.7)
>>> round(heading_to(-1.0, 0.0)), round(heading_to(1.0, 0.0))
(90, 270)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from world.city import City

__all__ = [
    "EYE_HEIGHT_M", "WALK_SPEED_MS", "RUN_FACTOR", "PITCH_LIMIT_DEG", "ARRIVE_M", "Pose", "Obstacles", "Walker",
    "Orbit", "Transition", "heading_to", "forward_vector", "map_to_world", "world_to_map",
]

EYE_HEIGHT_M = 1.7
WALK_SPEED_MS = 1.4  # a comfortable adult walking pace
RUN_FACTOR = 3.0
PITCH_LIMIT_DEG = 60.0  # walker looks at most this far up or down
ARRIVE_M = 0.3  # walk_to stops this close to its target
TURN_RATE_DPS = 240.0  # how fast walk_to turns the walker towards its target
OVERHEAD_CLEARANCE_M = 2.0  # buildings that start higher than this (passages, bridges) do not block
ORBIT_PITCH_DEG = (-89.9, -20.0)  # overview camera: top-down .. low oblique
_MAX_SUBSTEP_M = 0.25  # less than the thinnest widened obstacle (2 x body radius), so no tunnelling
_BISECTIONS = 6  # approach a wall to within 1/64 of a sub-step
_SLIDE_CLEARANCE_M = 1e-6  # sliding keeps this far off an outline it touches


def _wrap(heading_deg: float) -> float:
    return heading_deg % 360.0


def _shortest(delta_deg: float) -> float:
    """``delta_deg`` folded into [-180, 180): the shortest turn to the same heading."""
    return (delta_deg + 180.0) % 360.0 - 180.0


def _clamp(value: float, lo: float, hi: float) -> float:
    return lo if value < lo else hi if value > hi else value


def heading_to(dx: float, dy: float) -> float:
    """Panda3D heading (degrees, [0, 360)) that looks along the ground vector (dx, dy)."""
    return _wrap(math.degrees(math.atan2(-dx, dy)))


def forward_vector(heading_deg: float, pitch_deg: float = 0.0) -> tuple[float, float, float]:
    """Unit vector a camera with this heading and pitch looks along."""
    h, p = math.radians(heading_deg), math.radians(pitch_deg)
    return (-math.sin(h) * math.cos(p), math.cos(h) * math.cos(p), math.sin(p))


@dataclass(frozen=True, slots=True)
class Pose:
    """A camera: eye position (local metres, z up) and Panda3D heading/pitch (degrees)."""

    x: float
    y: float
    z: float
    heading_deg: float
    pitch_deg: float

    def forward(self) -> tuple[float, float, float]:
        """The unit vector this pose looks along."""
        return forward_vector(self.heading_deg, self.pitch_deg)


class Obstacles:
    """Where a walker cannot stand: polygons widened by ``body_radius_m``, in an STRtree.

    A walker starting inside an obstacle (spawned there) moves freely until it is out.
    """

    def __init__(self, geometries: Iterable[BaseGeometry], body_radius_m: float = 0.3) -> None:
        geoms = np.array([g for g in geometries if g is not None and not g.is_empty], dtype=object)
        self.body_radius_m = float(body_radius_m)
        widened = shapely.buffer(geoms, self.body_radius_m, quad_segs=4) if self.body_radius_m > 0 else geoms
        shapely.prepare(widened)
        self._raw = geoms  # for wall normals: the body stays a radius away from these
        self._geoms = widened
        self._tree = shapely.STRtree(widened)
        # Sub-steps shorter than the thinnest widened obstacle cannot jump over it.
        self._substep_m = min(_MAX_SUBSTEP_M, max(self.body_radius_m, 0.05))

    @classmethod
    def from_city(cls, city: City, body_radius_m: float = 0.3) -> Obstacles:
        """Building footprints (but not those starting above head height) and water areas."""
        geoms: list[BaseGeometry] = [b.footprint for b in city.buildings if b.min_height_m < OVERHEAD_CLEARANCE_M]
        geoms += [a.geometry for a in city.areas if a.area_class == "water"]
        return cls(geoms, body_radius_m)

    def __len__(self) -> int:
        return len(self._geoms)

    def blocked(self, x: float, y: float) -> bool:
        """True where a body centred at (x, y) would overlap a building or water."""
        return len(self._tree.query(shapely.Point(x, y), predicate="intersects")) > 0

    def move(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
        """Where a body walking from (x0, y0) towards (x1, y1) ends up.

        The move goes in sub-steps of at most 0.25 m, so it never crosses an obstacle,
        however long. A blocked sub-step first closes in on the wall, then slides along
        it (the part of the move parallel to the wall is kept), then tries each axis
        alone; when nothing is free the body stops there.
        """
        if self.blocked(x0, y0):
            return x1, y1
        dx, dy = x1 - x0, y1 - y0
        count = max(1, math.ceil(math.hypot(dx, dy) / self._substep_m))
        sx, sy = dx / count, dy / count
        x, y = x0, y0
        straight = True
        for i in range(count):
            nx, ny = self._substep(x, y, sx, sy)
            if nx == x and ny == y:
                break
            straight = straight and nx == x + sx and ny == y + sy
            x, y = (x1, y1) if straight and i == count - 1 else (nx, ny)
        return x, y

    def free_point(self, x: float, y: float) -> tuple[float, float]:
        """(x, y) when free, else the nearest point just outside the obstacles there (for teleports)."""
        for _ in range(8):
            hits = self._tree.query(shapely.Point(x, y), predicate="intersects")
            if len(hits) == 0:
                return x, y
            outline = shapely.union_all(self._geoms[hits]).boundary
            edge = shapely.get_point(shapely.shortest_line(outline, shapely.Point(x, y)), 0)
            ex, ey = edge.x, edge.y
            d = math.hypot(ex - x, ey - y) or 1.0
            x, y = ex + (ex - x) / d * 0.01, ey + (ey - y) / d * 0.01
        return x, y

    def _substep(self, x: float, y: float, sx: float, sy: float) -> tuple[float, float]:
        if not self.blocked(x + sx, y + sy):
            return x + sx, y + sy
        lo, hi = 0.0, 1.0
        for _ in range(_BISECTIONS):
            mid = (lo + hi) / 2.0
            if self.blocked(x + mid * sx, y + mid * sy):
                hi = mid
            else:
                lo = mid
        x, y = x + lo * sx, y + lo * sy
        rx, ry = (1.0 - lo) * sx, (1.0 - lo) * sy
        normal = self._normal(x, y)
        candidates: list[tuple[float, float]] = []
        if normal is not None:
            into = rx * normal[0] + ry * normal[1]
            if into < 0.0:  # keep the parallel part, plus a hair outwards against round-off
                out = _SLIDE_CLEARANCE_M - into
                candidates.append((rx + out * normal[0], ry + out * normal[1]))
        candidates += [(rx, 0.0), (0.0, ry)]
        for cx, cy in candidates:
            if math.hypot(cx, cy) > 1e-9 and not self.blocked(x + cx, y + cy):
                return x + cx, y + cy
        return x, y

    def _normal(self, x: float, y: float) -> tuple[float, float] | None:
        """Unit vector from the nearest obstacle towards (x, y), which lies outside it.

        Measured from the obstacle itself, not its widened outline: (x, y) sits about a
        body radius away from it, so the direction is well defined even when (x, y) is
        on the widened outline."""
        point = shapely.Point(x, y)
        nearest = self._tree.query_nearest(point)
        if len(nearest) == 0:
            return None
        edge = shapely.get_point(shapely.shortest_line(self._raw[nearest[0]], point), 0)
        nx, ny = x - edge.x, y - edge.y
        length = math.hypot(nx, ny)
        return (nx / length, ny / length) if length > 1e-12 else None


def _flat_ground(x: float, y: float) -> float:
    return 0.0


@dataclass(slots=True)
class Walker:
    """The person walking the street: position, where they look, how they move.

    ``step`` is called once a frame with the frame time and the controls; ``target``
    is the point :meth:`walk_to` heads for (None when not walking anywhere).
    """

    x: float = 0.0
    y: float = 0.0
    heading_deg: float = 0.0
    pitch_deg: float = 0.0
    obstacles: Obstacles | None = None
    ground_z: Callable[[float, float], float] = _flat_ground
    eye_height_m: float = EYE_HEIGHT_M
    walk_speed_ms: float = WALK_SPEED_MS
    run_factor: float = RUN_FACTOR
    target: tuple[float, float] | None = None
    _auto_turn: bool = field(default=True, repr=False)

    def __post_init__(self) -> None:
        self.heading_deg = _wrap(self.heading_deg)
        self.pitch_deg = _clamp(self.pitch_deg, -PITCH_LIMIT_DEG, PITCH_LIMIT_DEG)

    def step(self, dt_s: float, forward: float = 0.0, strafe: float = 0.0, turn: float = 0.0,
             run: bool = False) -> None:
        """Advance ``dt_s`` seconds. ``forward`` (+ ahead) and ``strafe`` (+ right) in
        -1..1, ``turn`` in degrees per second (+ left, counter-clockwise). Moving or
        turning by hand cancels :meth:`walk_to`."""
        forward, strafe = _clamp(forward, -1.0, 1.0), _clamp(strafe, -1.0, 1.0)
        if forward or strafe or turn:
            self.target = None
        self.heading_deg = _wrap(self.heading_deg + turn * dt_s)
        if self.target is not None:
            self._follow(dt_s)
            return
        h = math.radians(self.heading_deg)
        vx = forward * -math.sin(h) + strafe * math.cos(h)
        vy = forward * math.cos(h) + strafe * math.sin(h)
        norm = math.hypot(vx, vy)
        if norm == 0.0:
            return
        speed = self.walk_speed_ms * (self.run_factor if run else 1.0) / max(norm, 1.0)
        self._move_to(self.x + vx * speed * dt_s, self.y + vy * speed * dt_s)

    def look(self, dheading_deg: float, dpitch_deg: float) -> None:
        """Turn the view (a mouse or touch drag); pitch stays within ±60°. While
        walking to a target, the walker then keeps the view instead of facing the target."""
        self.heading_deg = _wrap(self.heading_deg + dheading_deg)
        self.pitch_deg = _clamp(self.pitch_deg + dpitch_deg, -PITCH_LIMIT_DEG, PITCH_LIMIT_DEG)
        if self.target is not None:
            self._auto_turn = False

    def walk_to(self, x: float, y: float) -> None:
        """Walk to (x, y) at walking speed, turning to face it, over the next steps."""
        self.target = (float(x), float(y))
        self._auto_turn = True

    def place(self, x: float, y: float, heading_deg: float | None = None) -> None:
        """Jump to (x, y), or the nearest free point, and stop walking anywhere."""
        if self.obstacles is not None:
            x, y = self.obstacles.free_point(x, y)
        self.x, self.y, self.target = float(x), float(y), None
        if heading_deg is not None:
            self.heading_deg = _wrap(heading_deg)

    def eye(self) -> tuple[float, float, float]:
        """Eye position: ``eye_height_m`` above the ground under the walker."""
        return (self.x, self.y, self.ground_z(self.x, self.y) + self.eye_height_m)

    def pose(self) -> Pose:
        return Pose(*self.eye(), self.heading_deg, self.pitch_deg)

    def _move_to(self, x: float, y: float) -> None:
        if self.obstacles is not None:
            x, y = self.obstacles.move(self.x, self.y, x, y)
        self.x, self.y = x, y

    def _follow(self, dt_s: float) -> None:
        """One step towards ``target``: arrive, or give up when a wall stops progress."""
        assert self.target is not None
        tx, ty = self.target
        dx, dy = tx - self.x, ty - self.y
        distance = math.hypot(dx, dy)
        if distance <= ARRIVE_M:
            self.target = None
            return
        if self._auto_turn:
            turn = _shortest(heading_to(dx, dy) - self.heading_deg)
            limit = TURN_RATE_DPS * dt_s
            self.heading_deg = _wrap(self.heading_deg + _clamp(turn, -limit, limit))
        stride = min(self.walk_speed_ms * dt_s, distance)
        self._move_to(self.x + dx / distance * stride, self.y + dy / distance * stride)
        left = math.hypot(tx - self.x, ty - self.y)
        if left <= ARRIVE_M or distance - left < 0.25 * stride:
            self.target = None


@dataclass(slots=True)
class Orbit:
    """The overview camera: it looks at ``target`` on the ground from ``distance_m``
    away, with a Panda3D heading and a pitch between -89.9° (top-down) and -20°."""

    target: tuple[float, float] = (0.0, 0.0)
    distance_m: float = 600.0
    heading_deg: float = 0.0
    pitch_deg: float = -60.0
    target_z_m: float = 0.0
    min_distance_m: float = 30.0
    max_distance_m: float = 4000.0

    def __post_init__(self) -> None:
        self.heading_deg = _wrap(self.heading_deg)
        self.pitch_deg = _clamp(self.pitch_deg, *ORBIT_PITCH_DEG)
        self.distance_m = _clamp(self.distance_m, self.min_distance_m, self.max_distance_m)

    def pose(self) -> Pose:
        fx, fy, fz = forward_vector(self.heading_deg, self.pitch_deg)
        tx, ty = self.target
        d = self.distance_m
        return Pose(tx - fx * d, ty - fy * d, self.target_z_m - fz * d, self.heading_deg, self.pitch_deg)

    def drag(self, dx_deg: float, dy_deg: float) -> None:
        """Turn around the target by ``dx_deg`` and tilt by ``dy_deg`` (+ towards the horizon)."""
        self.heading_deg = _wrap(self.heading_deg + dx_deg)
        self.pitch_deg = _clamp(self.pitch_deg + dy_deg, *ORBIT_PITCH_DEG)

    def pan(self, right_m: float, forward_m: float) -> None:
        """Slide the target over the ground, relative to the way the camera faces."""
        h = math.radians(self.heading_deg)
        tx, ty = self.target
        self.target = (tx + right_m * math.cos(h) - forward_m * math.sin(h),
                       ty + right_m * math.sin(h) + forward_m * math.cos(h))

    def zoom(self, factor: float) -> None:
        """Multiply the distance by ``factor`` (< 1 comes closer), within its limits."""
        self.distance_m = _clamp(self.distance_m * factor, self.min_distance_m, self.max_distance_m)

    def top_down(self) -> None:
        """Look straight down with north up, as on a map."""
        self.heading_deg, self.pitch_deg = 0.0, ORBIT_PITCH_DEG[0]


@dataclass(frozen=True, slots=True)
class Transition:
    """A flight from ``start`` to ``end`` in ``duration_s``, eased with smoothstep;
    the heading turns the short way round."""

    start: Pose
    end: Pose
    duration_s: float = 1.2

    def at(self, t_s: float) -> Pose:
        """The pose ``t_s`` seconds after the start (``start`` before, ``end`` after)."""
        if self.duration_s <= 0.0 or t_s >= self.duration_s:
            return self.end
        if t_s <= 0.0:
            return self.start
        u = t_s / self.duration_s
        s = u * u * (3.0 - 2.0 * u)
        a, b = self.start, self.end
        return Pose(a.x + (b.x - a.x) * s, a.y + (b.y - a.y) * s, a.z + (b.z - a.z) * s,
                    _wrap(a.heading_deg + _shortest(b.heading_deg - a.heading_deg) * s),
                    a.pitch_deg + (b.pitch_deg - a.pitch_deg) * s)

    def done(self, t_s: float) -> bool:
        return t_s >= self.duration_s


def map_to_world(u: float, v: float, bounds: Sequence[float]) -> tuple[float, float]:
    """Local metres of the point at (u, v) on a north-up map image of ``bounds``
    ``(min_x, min_y, max_x, max_y)``: u 0..1 left to right, v 0..1 top (north) to bottom.

    >>> map_to_world(0.5, 0.25, (-100.0, -200.0, 100.0, 200.0))
    (0.0, 100.0)
    """
    min_x, min_y, max_x, max_y = bounds
    return (min_x + u * (max_x - min_x), max_y - v * (max_y - min_y))


def world_to_map(x: float, y: float, bounds: Sequence[float]) -> tuple[float, float]:
    """The inverse of :func:`map_to_world`: (u, v) on the map image of a local point."""
    min_x, min_y, max_x, max_y = bounds
    return ((x - min_x) / (max_x - min_x), (max_y - y) / (max_y - min_y))
