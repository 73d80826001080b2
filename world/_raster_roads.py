"""Carriageways as noise sources: centrelines with lanes, speed and traffic flows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely

from world._raster_grid import RasterError
from world.city import City

__all__ = ["PERIODS", "DEFAULT_TRAFFIC", "FLOW_FACTOR", "HEAVY_SHARE_FACTOR", "TrafficOverride", "Segments",
           "road_segments"]

#: The periods of the flows: day 07–19, evening 19–23, night 23–07 (END 2002/49/EC).
PERIODS = ("day", "evening", "night")

#: Default traffic per OSM ``highway`` class: (day, evening, night vehicles/hour, heavy
#: share, speed km/h when the road has no ``maxspeed``, lanes when it has no ``lanes``).
#: These are assumptions for a city centre, not counts: evening about half and night
#: about an eighth of the day flow; speeds follow the Finnish urban default of 50 km/h
#: and 30 km/h on residential streets; ``living_street`` is 20 km/h (pihakatu).
#: Classes not listed use ``residential``.
DEFAULT_TRAFFIC: dict[str, tuple[float, float, float, float, float, int]] = {
    "motorway": (3000.0, 1500.0, 400.0, 0.15, 100.0, 4),
    "trunk": (2000.0, 1000.0, 250.0, 0.12, 80.0, 4),
    "primary": (1200.0, 600.0, 150.0, 0.10, 50.0, 2),
    "secondary": (800.0, 400.0, 100.0, 0.08, 50.0, 2),
    "tertiary": (400.0, 200.0, 50.0, 0.05, 40.0, 2),
    "unclassified": (150.0, 75.0, 20.0, 0.05, 40.0, 2),
    "residential": (100.0, 50.0, 12.0, 0.02, 30.0, 2),
    "living_street": (20.0, 10.0, 2.0, 0.0, 20.0, 1),
    "service": (20.0, 10.0, 2.0, 0.02, 20.0, 1),
    "motorway_link": (800.0, 400.0, 100.0, 0.15, 60.0, 1),
    "trunk_link": (600.0, 300.0, 75.0, 0.12, 50.0, 1),
    "primary_link": (400.0, 200.0, 50.0, 0.10, 40.0, 1),
    "secondary_link": (300.0, 150.0, 40.0, 0.08, 40.0, 1),
    "tertiary_link": (150.0, 75.0, 20.0, 0.05, 30.0, 1),
}

#: Road attributes that placed interventions (:mod:`world.interventions`: bike lanes,
#: traffic calming) leave on a carriageway: its flows in every period and its heavy
#: share are multiplied by them (1.0 when absent).
FLOW_FACTOR = "traffic_flow_factor"
HEAVY_SHARE_FACTOR = "heavy_share_factor"


@dataclass(frozen=True, slots=True)
class TrafficOverride:
    """New traffic for one road (an intervention, a count); ``None`` keeps the default."""

    day_vph: float | None = None
    evening_vph: float | None = None
    night_vph: float | None = None
    heavy_share: float | None = None
    speed_kmh: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Segments:
    """Carriageways, one entry per road feature: ``ids``, ``lines`` (each an (n, 2)
    polyline, local metres), ``road_class``, ``lanes`` (int32), ``width_m``,
    ``speed_kmh``, ``flow_vph`` ((m, 3) vehicles/hour for :data:`PERIODS`) and
    ``heavy_share`` (0..1, the same for every period)."""

    ids: tuple[str, ...]
    lines: tuple[np.ndarray, ...]
    road_class: tuple[str, ...]
    lanes: np.ndarray
    width_m: np.ndarray
    speed_kmh: np.ndarray
    flow_vph: np.ndarray
    heavy_share: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def heavy_vph(self) -> np.ndarray:
        """(m, 3) heavy vehicles/hour."""
        return self.flow_vph * self.heavy_share[:, None]

    @property
    def light_vph(self) -> np.ndarray:
        """(m, 3) light vehicles/hour."""
        return self.flow_vph * (1.0 - self.heavy_share[:, None])

    def pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every straight piece of every polyline: start (k, 2), end (k, 2), and the
        index of its road."""
        if not self.lines:
            return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, np.int64)
        start = np.concatenate([line[:-1] for line in self.lines])
        end = np.concatenate([line[1:] for line in self.lines])
        road = np.repeat(np.arange(len(self.lines)), [len(line) - 1 for line in self.lines])
        return start, end, road


def road_segments(city: City, overrides: Mapping[str, TrafficOverride] | None = None) -> Segments:
    """The city's carriageways with traffic: :data:`DEFAULT_TRAFFIC` by class, the
    road's own ``maxspeed`` and ``lanes`` where tagged (a one-way road without a
    lane count gets half the default, at least one), the road's intervention factors
    (flows × its :data:`FLOW_FACTOR` attribute, heavy share × its
    :data:`HEAVY_SHARE_FACTOR`, capped at 1), then ``overrides`` by road id, which
    replace values outright (a count is a count, whatever was placed).

    Roads given as surfaces (CityJSON) have no centreline and are left out. An
    override for an id that is not such a carriageway raises :class:`RasterError`.

    >>> from world.city import Road
    >>> from world.frame import LocalFrame
    >>> road = Road("r", shapely.LineString([(0, 0), (100, 0)]), "primary", "carriageway", 10.0)
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [road], [], [], [], [])
    >>> s = road_segments(city, {"r": TrafficOverride(day_vph=600.0)})
    >>> s.flow_vph.tolist(), float(s.speed_kmh[0]), float(s.heavy_vph[0, 0])
    ([[600.0, 600.0, 150.0]], 50.0, 60.0)
    >>> road.attributes.update({FLOW_FACTOR: 0.5, HEAVY_SHARE_FACTOR: 0.5})
    >>> s = road_segments(city)
    >>> s.flow_vph.tolist(), float(s.heavy_share[0])
    ([[600.0, 300.0, 75.0]], 0.05)
    """
    overrides = dict(overrides or {})
    roads = [r for r in city.roads if r.surface == "carriageway" and isinstance(r.geometry, shapely.LineString)]
    unknown = sorted(set(overrides) - {r.id for r in roads})
    if unknown:
        raise RasterError(f"traffic override for {unknown[0]!r}: no carriageway with that id.")
    lines, lanes, speed, flow, heavy = [], [], [], [], []
    for road in roads:
        day, evening, night, heavy_share, speed_kmh, default_lanes = DEFAULT_TRAFFIC.get(
            road.road_class, DEFAULT_TRAFFIC["residential"])
        if road.oneway:
            default_lanes = max(1, default_lanes // 2)
        flow_factor, heavy_factor = _factor(road.attributes, FLOW_FACTOR, road.id), \
            _factor(road.attributes, HEAVY_SHARE_FACTOR, road.id)
        day, evening, night = day * flow_factor, evening * flow_factor, night * flow_factor
        heavy_share = min(1.0, heavy_share * heavy_factor)
        change = overrides.get(road.id, TrafficOverride())
        lines.append(np.asarray(road.geometry.coords, dtype=np.float64)[:, :2])
        lanes.append(road.lanes or default_lanes)
        speed.append(_pick(change.speed_kmh, road.maxspeed_kmh, speed_kmh))
        flow.append((_pick(change.day_vph, day), _pick(change.evening_vph, evening), _pick(change.night_vph, night)))
        heavy.append(_pick(change.heavy_share, heavy_share))
    return Segments(ids=tuple(r.id for r in roads), lines=tuple(lines), road_class=tuple(r.road_class for r in roads),
                    lanes=np.array(lanes, np.int32), width_m=np.array([r.width_m for r in roads], np.float64),
                    speed_kmh=np.array(speed, np.float64), flow_vph=np.array(flow, np.float64).reshape(-1, 3),
                    heavy_share=np.array(heavy, np.float64))


def _factor(attributes: Mapping[str, object], key: str, road_id: str) -> float:
    """A road's traffic factor attribute, 1.0 when absent; finite and non-negative."""
    value = attributes.get(key, 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise RasterError(f"road {road_id!r}: {key} {value!r} must be a finite number, zero or more.")
    return float(value)


def _pick(*values: float | None) -> float:
    """The first value that is not None."""
    return float(next(v for v in values if v is not None))
