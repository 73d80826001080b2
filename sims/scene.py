"""What every simulation reads and how it is told about a change.

A :class:`Scene` is one immutable snapshot of the city under a scenario: the City
(with any placed interventions already applied by :mod:`world.interventions`), its
grids, the road segments with traffic, the façade receivers and the weather and time of
the :class:`Conditions`. The engine (:mod:`sims.engine`) builds a new Scene after each
change and hands every :class:`Simulation` the previous :class:`Run` plus a
:class:`Change` saying where (a bounding box) and what changed, so that it can redo only
what the change touches.

Every simulation has the same shape (DESIGN.md, "Simulations"): parameters in a frozen
dataclass given to the constructor, :meth:`Simulation.run` for a full run,
:meth:`Simulation.update` for an incremental one (by default a full run), and a
:class:`sims.field.Result` inside the returned :class:`Run`. Deterministic: the same
scene gives the same bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sims.field import Result
from world.city import City
from world.raster import Grids, Receivers, Segments, rasterize, receivers, road_segments

__all__ = ["Conditions", "Scene", "Change", "CHANGE_KINDS", "Run", "Simulation", "make_scene"]

#: What a change can touch. ``surface``: building or crown heights (the surface model
#: and canopy layers); ``landcover``: land cover and imperviousness; ``treatment``:
#: green roofs, permeable paving, rain-garden storage; ``traffic``: flows, speeds or
#: vehicle mix of the roads in :attr:`Change.roads`; ``buildings``: buildings added or
#: removed (so also receivers and homes); ``barriers``: noise barriers; ``seats``:
#: benches.
CHANGE_KINDS = frozenset({"surface", "landcover", "treatment", "traffic", "buildings", "barriers", "seats"})


@dataclass(frozen=True, slots=True)
class Conditions:
    """The moment and weather a scenario is simulated for.

    ``when`` is timezone-aware; ``lat_deg``/``lon_deg`` place the sun. The heat
    defaults describe a hot, calm summer afternoon in a Nordic city (Helsinki's
    July 2010 and June 2020 heat waves both passed 30 °C); the noise defaults are
    those of CNOSSOS-EU (Directive (EU) 2015/996): 15 °C, 70 % relative humidity.
    """

    when: datetime
    lat_deg: float
    lon_deg: float
    air_temperature_c: float = 30.0
    relative_humidity_pct: float = 40.0
    #: Wind speed at 10 m, m/s (what UTCI expects).
    wind_ms: float = 1.0
    rain_mm: float = 30.0
    soil_group: str = "B"
    noise_temperature_c: float = 15.0
    noise_humidity_pct: float = 70.0

    def __post_init__(self) -> None:
        if self.when.tzinfo is None:
            raise ValueError("the scenario time must carry a timezone")


@dataclass(frozen=True, slots=True, eq=False)
class Scene:
    """One snapshot of the city under a scenario; treat every array as read-only.

    ``memo`` holds layers several simulations derive the same way from this scene (the
    shade fraction at the scenario's sun, used by shade and heat): the first to need one
    computes it with :meth:`memoised`, the others reuse it.
    """

    city: City
    grids: Grids
    conditions: Conditions
    segments: Segments
    receivers: Receivers
    memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    def memoised(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per scene and key. Every caller must compute the same value
        for the same key, so that whichever comes first, the results are identical."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


def make_scene(city: City, conditions: Conditions, area: tuple[float, float, float, float] | None = None,
               cell_m: float = 2.0) -> Scene:
    """Rasterise ``city`` over ``area`` (default its bounding box) and gather its road
    segments and façade receivers into a Scene."""
    grids = rasterize(city, area, cell_m)
    return Scene(city=city, grids=grids, conditions=conditions, segments=road_segments(city),
                 receivers=receivers(city, grids))


@dataclass(frozen=True, slots=True)
class Change:
    """Where and what changed between two scenes.

    ``bbox`` (local metres, ``min_x, min_y, max_x, max_y``) holds every cell whose
    layers changed; ``None`` means anywhere. ``roads`` names the roads whose traffic
    changed (for ``traffic``); ``buildings`` the ids of buildings added, removed or
    altered.
    """

    bbox: tuple[float, float, float, float] | None
    kinds: frozenset[str]
    roads: frozenset[str] = frozenset()
    buildings: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(self.kinds - CHANGE_KINDS)
        if unknown:
            raise ValueError(f"unknown change kind {unknown[0]!r}")

    def touches(self, *kinds: str) -> bool:
        """True when the change is of any of these kinds."""
        return not self.kinds.isdisjoint(kinds)


@dataclass(frozen=True, slots=True, eq=False)
class Run:
    """A simulation's answer for one scene plus whatever it keeps to update it."""

    result: Result
    state: Any = field(default=None, repr=False)


class Simulation(ABC):
    """Base of every simulation: a name, a label, and full and incremental runs.

    ``slow`` simulations (noise) may be run by the engine on a worker thread so they
    never hold up the fast ones.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    slow: ClassVar[bool] = False

    @abstractmethod
    def run(self, scene: Scene) -> Run:
        """A full run over the scene."""

    def update(self, before: Run, scene: Scene, change: Change) -> Run:
        """The run for ``scene``, which differs from the scene of ``before`` by
        ``change``; must equal :meth:`run` of ``scene``. The default runs in full."""
        return self.run(scene)
