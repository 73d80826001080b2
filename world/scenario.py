"""Scenarios: the area, moment, weather and allowed interventions a workshop works on.

A scenario is a TOML file in ``content/scenarios/`` (see ``helsinki-centre.toml``). The
simulations read its area and conditions; the kiosk its catalog subset and budget; the
workshop server (later) its questions and rounds, which this loader leaves in ``extra``.

>>> scenario = load_scenario("helsinki-centre")
>>> scenario.city, scenario.cell_m, scenario.when.isoformat()
('helsinki', 2.0, '2026-06-21T15:00:00+03:00')
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from world.errors import WorldError
from world.frame import LocalFrame, _transformer

__all__ = ["SCENARIO_DIR", "ScenarioError", "Scenario", "load_scenario", "scenario_names"]

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "content" / "scenarios"
_SOIL_GROUPS = ("A", "B", "C", "D")
#: Conditions keys with their defaults (the meaning and sources are in sims.scene.Conditions).
_CONDITIONS = {"air_temperature_c": 30.0, "relative_humidity_pct": 40.0, "wind_ms": 1.0, "rain_mm": 30.0}


class ScenarioError(WorldError):
    """A scenario file is missing, malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded scenario. ``bounds`` are in ``crs`` (projected metres); use
    :meth:`area_m` for the local frame of a city package."""

    id: str
    city: str
    title: MappingProxyType[str, str]
    crs: str
    bounds: tuple[float, float, float, float]
    cell_m: float
    when: datetime
    weather: MappingProxyType[str, float]
    soil_group: str
    allowed: tuple[str, ...]
    budget_eur: float | None
    extra: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def area_m(self, frame: LocalFrame) -> tuple[float, float, float, float]:
        """The area in ``frame``'s local metres (the bounding box of its corners when the
        scenario's CRS differs from the frame's)."""
        to_frame = _transformer(self.crs, frame.crs)
        min_x, min_y, max_x, max_y = self.bounds
        xs, ys = to_frame.transform([min_x, max_x, min_x, max_x], [min_y, min_y, max_y, max_y])
        return (min(xs) - frame.origin_x_m, min(ys) - frame.origin_y_m,
                max(xs) - frame.origin_x_m, max(ys) - frame.origin_y_m)

    def centre_lonlat(self) -> tuple[float, float]:
        """(longitude°, latitude°) of the area's centre."""
        min_x, min_y, max_x, max_y = self.bounds
        lon, lat = _transformer(self.crs, "EPSG:4326").transform((min_x + max_x) / 2.0, (min_y + max_y) / 2.0)
        return float(lon), float(lat)


def scenario_names() -> list[str]:
    """The scenarios shipped in ``content/scenarios``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario by name (``content/scenarios/<name>.toml``) or path; the first
    problem raises :class:`ScenarioError` with one sentence."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(scenario_names()) or "none"
        raise ScenarioError(f"no scenario {str(name_or_path)!r} (known: {known}).") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path.name}: not valid TOML ({exc}).") from None
    return _parse(data, path.name)


def _parse(data: dict[str, Any], source: str) -> Scenario:
    area = _table(data, "area", source)
    conditions = _table(data, "conditions", source)
    interventions = data.get("interventions", {})
    bounds = area.get("bounds")
    if not (isinstance(bounds, list) and len(bounds) == 4 and all(_number(v) for v in bounds)
            and bounds[0] < bounds[2] and bounds[1] < bounds[3]):
        raise ScenarioError(f"{source}: [area] bounds must be [min_x, min_y, max_x, max_y] with min < max.")
    crs = area.get("crs")
    if not isinstance(crs, str) or not crs.upper().startswith("EPSG:"):
        raise ScenarioError(f"{source}: [area] crs must name the bounds' projected CRS, such as \"EPSG:3067\".")
    cell_m = area.get("cell_m", 2.0)
    if not _number(cell_m) or cell_m <= 0:
        raise ScenarioError(f"{source}: [area] cell_m must be a positive number of metres.")
    try:
        zone = ZoneInfo(str(conditions.get("timezone", "UTC")))
        when = datetime.fromisoformat(str(conditions.get("time", "")))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"{source}: [conditions] needs an ISO 8601 time and an IANA timezone "
                            "such as \"Europe/Helsinki\".") from None
    when = when.replace(tzinfo=zone) if when.tzinfo is None else when.astimezone(zone)
    weather = {}
    for key, default in _CONDITIONS.items():
        value = conditions.get(key, default)
        if not _number(value):
            raise ScenarioError(f"{source}: [conditions] {key} must be a number.")
        weather[key] = float(value)
    soil = conditions.get("soil_group", "B")
    if soil not in _SOIL_GROUPS:
        raise ScenarioError(f"{source}: [conditions] soil_group must be one of A, B, C, D.")
    allowed = interventions.get("allowed", [])
    budget = interventions.get("budget_eur")
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        raise ScenarioError(f"{source}: [interventions] allowed must be a list of catalog ids.")
    if budget is not None and (not _number(budget) or budget < 0):
        raise ScenarioError(f"{source}: [interventions] budget_eur must be a non-negative number.")
    for key in ("id", "city"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ScenarioError(f"{source}: the scenario needs a {key}.")
    known = {"id", "city", "title", "area", "conditions", "interventions"}
    return Scenario(id=data["id"], city=data["city"], title=MappingProxyType(dict(data.get("title", {}))),
                    crs=crs, bounds=(float(bounds[0]), float(bounds[1]), float(bounds[2]),
                                                           float(bounds[3])),
                    cell_m=float(cell_m), when=when, weather=MappingProxyType(weather), soil_group=soil,
                    allowed=tuple(allowed), budget_eur=None if budget is None else float(budget),
                    extra=MappingProxyType({k: v for k, v in data.items() if k not in known}))


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    table = data.get(key)
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: the scenario has no [{key}] table.")
    return table


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
