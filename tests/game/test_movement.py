"""Tests for game.kiosk.movement: walls stop the walker, it slides along them, water blocks,
tap-to-walk arrives or stops, speeds and angles follow the Panda3D conventions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import pairwise

import numpy as np
import pytest
import shapely
from shapely import affinity

from game.kiosk.movement import (
    ARRIVE_M,
    EYE_HEIGHT_M,
    Obstacles,
    Orbit,
    Pose,
    Transition,
    Walker,
    forward_vector,
    heading_to,
    map_to_world,
    world_to_map,
)
from world.city import Area, Building, City
from world.frame import LocalFrame

HZ = 60
DT = 1.0 / HZ


def _toy_city() -> City:
    """A 10 m square building at the origin, a pond to the east, a raised passage to the north."""
    return City("toy", LocalFrame("EPSG:3067", 0.0, 0.0), [
        Building("b:house", shapely.box(0.0, 0.0, 10.0, 10.0), 9.0),
        Building("b:bridge", shapely.box(0.0, 20.0, 10.0, 22.0), 9.0, min_height_m=5.0),
    ], [], [
        Area("a:pond", shapely.box(30.0, 0.0, 40.0, 10.0), "water"),
        Area("a:park", shapely.box(30.0, 20.0, 40.0, 30.0), "park"),
    ], [], [], [])


def _walk(walker: Walker, seconds: float, forward: float = 0.0, strafe: float = 0.0, turn: float = 0.0) -> None:
    for _ in range(round(seconds * HZ)):
        walker.step(DT, forward, strafe, turn)


# -- obstacles and sliding --------------------------------------------------------------------


def test_toy_obstacles_are_buildings_and_water_only() -> None:
    obstacles = Obstacles.from_city(_toy_city())
    assert len(obstacles) == 2
    assert obstacles.blocked(5.0, 5.0) and obstacles.blocked(-0.25, 5.0)  # within the body radius
    assert not obstacles.blocked(-0.35, 5.0)
    assert obstacles.blocked(35.0, 5.0)  # water
    assert not obstacles.blocked(35.0, 25.0)  # a park
    assert not obstacles.blocked(5.0, 21.0)  # under a passage that starts 5 m up


def test_water_blocks_the_walker() -> None:
    walker = Walker(25.0, 5.0, heading_deg=heading_to(1.0, 0.0), obstacles=Obstacles.from_city(_toy_city()))
    _walk(walker, 10.0, forward=1.0)
    assert walker.x == pytest.approx(30.0 - 0.3, abs=0.01)
    assert walker.y == pytest.approx(5.0)


def test_sliding_along_a_wall_keeps_the_parallel_component() -> None:
    obstacles = Obstacles.from_city(_toy_city())
    x, y = obstacles.move(-1.0, 2.0, 1.0, 4.0)  # into the west wall, north-east
    assert x == pytest.approx(-0.3, abs=0.01)
    assert y == pytest.approx(4.0, abs=1e-9)


@pytest.mark.parametrize("angle_deg", [0.0, 30.0, 63.0, 135.0])
def test_sliding_along_a_slanted_wall(angle_deg: float) -> None:
    """A wall at any angle: the walker ends next to it, moved by the whole parallel part."""
    wall = affinity.rotate(shapely.box(0.0, 0.0, 40.0, 10.0), angle_deg, origin=(0.0, 0.0))
    obstacles = Obstacles([wall])
    a = math.radians(angle_deg)
    tangent, normal = np.array([math.cos(a), math.sin(a)]), np.array([math.sin(a), -math.cos(a)])
    start = 10.0 * tangent + 1.0 * normal  # 1 m outside the wall's long side
    move = 3.0 * tangent - 2.0 * normal  # 3 m along, 2 m into the wall
    x, y = obstacles.move(*start, *(start + move))
    end = np.array([x, y])
    assert float((end - start) @ tangent) == pytest.approx(3.0, abs=0.01)
    assert shapely.distance(wall, shapely.Point(x, y)) == pytest.approx(0.3, abs=0.02)


def test_a_thin_wall_stops_a_long_move() -> None:
    obstacles = Obstacles([shapely.box(2.0, -5.0, 2.02, 5.0)])
    assert obstacles.move(0.0, 0.0, 5.0, 0.0)[0] == pytest.approx(2.0 - 0.3, abs=0.01)
    assert obstacles.move(0.0, 0.0, 50.0, 0.0)[0] == pytest.approx(2.0 - 0.3, abs=0.01)
    assert obstacles.move(0.0, 0.0, 1.0, 1.0) == (1.0, 1.0)  # a free move lands exactly


def test_a_walker_spawned_inside_walks_out_and_place_finds_a_free_spot() -> None:
    obstacles = Obstacles.from_city(_toy_city())
    assert obstacles.move(5.0, 1.0, 5.0, -2.0) == (5.0, -2.0)
    x, y = obstacles.free_point(5.0, 1.0)
    assert not obstacles.blocked(x, y) and y == pytest.approx(-0.31, abs=0.02)
    walker = Walker(obstacles=obstacles)
    walker.place(5.0, 1.0, heading_deg=-90.0)
    assert not obstacles.blocked(walker.x, walker.y) and walker.heading_deg == 270.0


# -- a real building and a real street (Helsinki) ---------------------------------------------


@pytest.fixture(scope="module")
def helsinki_obstacles(helsinki_city: City) -> Obstacles:
    return Obstacles.from_city(helsinki_city)


def _facades(city: City, obstacles: Obstacles) -> Iterator[tuple[Building, np.ndarray, np.ndarray]]:
    """(building, facade midpoint, outward normal) for long walls with 4 m of open street before them."""
    for building in sorted(city.buildings, key=lambda b: b.id):
        if building.part_ids or building.min_height_m > 0 or building.footprint.geom_type != "Polygon":
            continue
        ring = np.asarray(building.footprint.exterior.coords)
        for a, b in pairwise(ring):
            edge = b - a
            length = float(np.hypot(*edge))
            if length < 6.0:
                continue
            mid, normal = (a + b) / 2.0, np.array([edge[1], -edge[0]]) / length
            if building.footprint.contains(shapely.Point(mid + 0.1 * normal)):
                normal = -normal
            path = shapely.LineString([mid + 0.35 * normal, mid + 4.0 * normal])
            if not any(obstacles.blocked(*p) for p in shapely.get_coordinates(shapely.segmentize(path, 0.1))):
                yield building, mid, normal


def test_walking_into_a_real_building_is_stopped(helsinki_city: City, helsinki_obstacles: Obstacles) -> None:
    checked = 0
    for building, mid, normal in _facades(helsinki_city, helsinki_obstacles):
        start = mid + 3.0 * normal
        walker = Walker(float(start[0]), float(start[1]), heading_to(*-normal), obstacles=helsinki_obstacles)
        _walk(walker, 6.0, forward=1.0)  # would walk 8.4 m: into and through the building
        end = shapely.Point(walker.x, walker.y)
        assert not building.footprint.contains(end), building.id
        assert building.footprint.distance(end) == pytest.approx(0.3, abs=0.02), building.id
        checked += 1
        if checked == 10:
            break
    assert checked == 10


def _open_street(city: City, obstacles: Obstacles) -> tuple[np.ndarray, np.ndarray]:
    """Two points 20 m apart along a road with a clear, straight walk between them."""
    for road in sorted(city.roads, key=lambda r: r.id):
        if road.geometry.geom_type != "LineString":
            continue
        coords = np.asarray(road.geometry.coords)[:, :2]
        for a, b in pairwise(coords):
            length = float(np.hypot(*(b - a)))
            if length < 24.0:
                continue
            unit = (b - a) / length
            start, end = a + 2.0 * unit, a + 22.0 * unit
            samples = shapely.get_coordinates(shapely.segmentize(shapely.LineString([start, end]), 0.1))
            if not any(obstacles.blocked(*p) for p in samples):
                return start, end
    raise AssertionError("no open street in the sample")


def test_walk_to_arrives_on_an_open_street(helsinki_city: City, helsinki_obstacles: Obstacles) -> None:
    start, end = _open_street(helsinki_city, helsinki_obstacles)
    walker = Walker(float(start[0]), float(start[1]), obstacles=helsinki_obstacles)
    walker.walk_to(*end)
    steps = 0
    while walker.target is not None and steps < 60 * HZ:
        walker.step(DT)
        steps += 1
    assert math.hypot(walker.x - end[0], walker.y - end[1]) <= ARRIVE_M
    assert steps * DT == pytest.approx((20.0 - ARRIVE_M) / 1.4, abs=0.05)
    assert _shortest_turn(walker.heading_deg, heading_to(*(end - start))) < 1.0  # it turned to face the target


def _shortest_turn(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_walk_to_stops_at_a_building(helsinki_city: City, helsinki_obstacles: Obstacles) -> None:
    building, mid, normal = next(_facades(helsinki_city, helsinki_obstacles))
    inside = building.footprint.representative_point()
    start = mid + 3.0 * normal
    walker = Walker(float(start[0]), float(start[1]), obstacles=helsinki_obstacles)
    walker.walk_to(inside.x, inside.y)
    steps = 0
    while walker.target is not None and steps < 60 * HZ:
        walker.step(DT)
        steps += 1
    assert walker.target is None and steps < 60 * HZ  # it gave up at the wall instead of walking on
    end = shapely.Point(walker.x, walker.y)
    assert not building.footprint.contains(end)
    assert building.footprint.distance(end) == pytest.approx(0.3, abs=0.05)


# -- walker controls and conventions ----------------------------------------------------------


def test_walking_speed_is_1_4_m_per_s_and_running_three_times_that() -> None:
    walker = Walker()
    _walk(walker, 1.0, forward=1.0)
    assert (walker.x, walker.y) == pytest.approx((0.0, 1.4), abs=1e-9)
    walker = Walker()
    _walk(walker, 1.0, forward=1.0, strafe=1.0)  # diagonal: no faster
    assert math.hypot(walker.x, walker.y) == pytest.approx(1.4, abs=1e-9)
    walker = Walker()
    for _ in range(HZ):
        walker.step(DT, forward=1.0, run=True)
    assert walker.y == pytest.approx(4.2, abs=1e-9)


def test_headings_follow_panda3d() -> None:
    walker = Walker(heading_deg=90.0)  # looks west
    _walk(walker, 1.0, forward=1.0)
    assert (walker.x, walker.y) == pytest.approx((-1.4, 0.0), abs=1e-9)
    walker = Walker(heading_deg=0.0)
    _walk(walker, 1.0, strafe=1.0)  # right of north is east
    assert (walker.x, walker.y) == pytest.approx((1.4, 0.0), abs=1e-9)
    walker = Walker()
    _walk(walker, 0.5, turn=90.0)  # + turns left (counter-clockwise)
    assert walker.heading_deg == pytest.approx(45.0)
    _walk(walker, 1.0, turn=-90.0)
    assert walker.heading_deg == pytest.approx(315.0)
    assert heading_to(0.0, 1.0) == 0.0 and heading_to(-1.0, 0.0) == 90.0 and heading_to(1.0, 0.0) == 270.0
    assert forward_vector(0.0, 90.0) == pytest.approx((0.0, 0.0, 1.0))
    assert forward_vector(270.0) == pytest.approx((1.0, 0.0, 0.0))


def test_pitch_clamps_at_60_degrees() -> None:
    walker = Walker(pitch_deg=200.0)
    assert walker.pitch_deg == 60.0
    walker.look(-30.0, -500.0)
    assert walker.pitch_deg == -60.0 and walker.heading_deg == 330.0
    walker.look(0.0, 70.0)
    assert walker.pitch_deg == pytest.approx(10.0)


def test_moving_by_hand_cancels_walk_to_and_looking_keeps_the_view() -> None:
    walker = Walker()
    walker.walk_to(0.0, 10.0)
    walker.step(DT)
    assert walker.target is not None
    walker.step(DT, strafe=0.5)
    assert walker.target is None
    walker.walk_to(-10.0, 0.0)
    walker.look(-20.0, 0.0)
    _walk(walker, 3.0)
    assert walker.target is not None and walker.heading_deg == pytest.approx(340.0)
    assert walker.x < -3.0 and walker.y == pytest.approx(0.0, abs=0.05)


def test_eye_stands_on_the_ground() -> None:
    walker = Walker(3.0, 4.0, ground_z=lambda x, y: 0.1 * x)
    assert walker.eye() == pytest.approx((3.0, 4.0, 0.3 + EYE_HEIGHT_M))
    pose = walker.pose()
    assert (pose.x, pose.y, pose.z, pose.heading_deg, pose.pitch_deg) == pytest.approx((3.0, 4.0, 2.0, 0.0, 0.0))


# -- overview camera, transitions, map ------------------------------------------------------


def test_orbit_looks_at_its_target() -> None:
    orbit = Orbit((100.0, -50.0), distance_m=500.0, heading_deg=30.0, pitch_deg=-45.0)
    pose = orbit.pose()
    eye = np.array([pose.x, pose.y, pose.z])
    assert eye + 500.0 * np.array(pose.forward()) == pytest.approx([100.0, -50.0, 0.0])
    orbit.drag(10.0, -80.0)
    assert orbit.heading_deg == 40.0 and orbit.pitch_deg == -89.9
    orbit.drag(0.0, 100.0)
    assert orbit.pitch_deg == -20.0
    orbit.zoom(1e-3)
    assert orbit.distance_m == orbit.min_distance_m
    orbit.top_down()
    pose = orbit.pose()
    assert (pose.heading_deg, pose.pitch_deg) == (0.0, -89.9)
    assert (pose.x, pose.y) == pytest.approx((100.0, -50.0), abs=0.1)
    orbit.pan(10.0, 20.0)  # heading 0: right is east, forward north
    assert orbit.target == pytest.approx((110.0, -30.0))


def test_transition_endpoints_midpoint_and_ease() -> None:
    a, b = Pose(0.0, 0.0, 1.7, 0.0, 0.0), Pose(100.0, -40.0, 501.7, 90.0, -60.0)
    flight = Transition(a, b, duration_s=2.0)
    assert flight.at(-1.0) == a and flight.at(0.0) == a
    assert flight.at(2.0) == b and flight.at(5.0) == b
    mid = flight.at(1.0)
    assert (mid.x, mid.y, mid.z, mid.heading_deg, mid.pitch_deg) == pytest.approx((50.0, -20.0, 251.7, 45.0, -30.0))
    quarter = flight.at(0.5)  # smoothstep(0.25) = 0.15625
    assert quarter.x == pytest.approx(15.625)
    assert not flight.done(1.99) and flight.done(2.0)


@pytest.mark.parametrize(("start", "end", "middle"), [(350.0, 10.0, 0.0), (10.0, 350.0, 0.0), (90.0, 260.0, 175.0),
                                                      (300.0, 60.0, 0.0), (170.0, 200.0, 185.0)])
def test_transition_headings_take_the_shortest_arc(start: float, end: float, middle: float) -> None:
    flight = Transition(Pose(0, 0, 0, start, 0), Pose(0, 0, 0, end, 0))
    assert _shortest_turn(flight.at(0.6).heading_deg, middle) < 1e-9
    headings = [flight.at(t).heading_deg for t in np.linspace(0.0, 1.2, 25)]
    turned = sum(_shortest_turn(h0, h1) for h0, h1 in pairwise(headings))
    assert turned == pytest.approx(_shortest_turn(start, end))


def test_map_taps_become_local_metres() -> None:
    bounds = (-500.0, -800.0, 500.0, 800.0)
    assert map_to_world(0.0, 0.0, bounds) == (-500.0, 800.0)  # top left is north-west
    assert map_to_world(1.0, 1.0, bounds) == (500.0, -800.0)
    assert map_to_world(0.5, 0.5, bounds) == (0.0, 0.0)
    assert world_to_map(*map_to_world(0.2, 0.7, bounds), bounds) == pytest.approx((0.2, 0.7))
