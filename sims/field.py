"""What every simulation returns: a field (values, units, colour ramp) and named KPIs.

The kiosk drapes fields over the ground as textures, the report draws them as maps, and
the wall shows KPI cards; all of them read only these types.

>>> ramp = ColourRamp(((0.0, (0, 0, 255, 255)), (10.0, (255, 0, 0, 255))))
>>> ramp.colorize(np.array([[0.0, 5.0, 20.0]]))[0, :, :3].tolist()
[[0, 0, 255], [128, 0, 128], [255, 0, 0]]
>>> Kpi("runoff_m3", 12.0, "m³", better="lower").improves_on(15.0)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from itertools import pairwise
from typing import Literal

import numpy as np

__all__ = ["ColourRamp", "Field", "Kpi", "Result"]

Rgba = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class ColourRamp:
    """Piecewise-linear colours: ``stops`` are ``(value, rgba)`` with increasing values;
    values outside the stops take the end colours; NaN is transparent."""

    stops: tuple[tuple[float, Rgba], ...]

    def __post_init__(self) -> None:
        values = [v for v, _ in self.stops]
        if len(values) < 2 or any(b <= a for a, b in pairwise(values)):
            raise ValueError("a colour ramp needs at least two stops with increasing values")

    def colorize(self, values: np.ndarray) -> np.ndarray:
        """RGBA8 image of shape ``values.shape + (4,)``."""
        xs = np.array([v for v, _ in self.stops], dtype=np.float64)
        colours = np.array([c for _, c in self.stops], dtype=np.float64)
        flat = np.asarray(values, dtype=np.float64).ravel()
        out = np.empty((flat.size, 4), dtype=np.float64)
        for channel in range(4):
            out[:, channel] = np.interp(flat, xs, colours[:, channel])
        out[np.isnan(flat)] = 0.0
        return np.rint(out).astype(np.uint8).reshape(*np.shape(values), 4)


@dataclass(frozen=True, slots=True)
class Field:
    """A grid of values, row 0 north. ``cell_m`` and ``origin`` (the north-west
    corner, local metres) place it; ``None`` means those of the scene's grids."""

    name: str
    values: np.ndarray
    unit: str
    ramp: ColourRamp
    legend: str = ""
    cell_m: float | None = None
    origin: tuple[float, float] | None = None

    def image(self) -> np.ndarray:
        return self.ramp.colorize(self.values)


@dataclass(frozen=True, slots=True)
class Kpi:
    """A named number with its unit and which direction is better."""

    name: str
    value: float
    unit: str
    better: Literal["higher", "lower"]
    label: str = ""

    def improves_on(self, baseline: float) -> bool:
        return self.value > baseline if self.better == "higher" else self.value < baseline


@dataclass(frozen=True, slots=True)
class Result:
    """One simulation's answer: its field and its KPIs by name."""

    field: Field
    kpis: dict[str, Kpi] = _field(default_factory=dict)
