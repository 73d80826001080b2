"""Every simulation, by name: the CLI, the kiosk, the server and the report use only this.

>>> names()
['shade', 'heat', 'green', 'runoff', 'noise']
>>> [s.name for s in create(["runoff", "shade"])]
['runoff', 'shade']
"""

from __future__ import annotations

from collections.abc import Iterable

from sims.green import GreenSimulation
from sims.heat import HeatSimulation
from sims.noise import NoiseSimulation
from sims.runoff import RunoffSimulation
from sims.scene import Simulation
from sims.shade import ShadeSimulation

__all__ = ["SIMULATIONS", "names", "create"]

#: The fast simulations first (they answer within a frame), then the slow ones.
SIMULATIONS: dict[str, type[Simulation]] = {
    "shade": ShadeSimulation,
    "heat": HeatSimulation,
    "green": GreenSimulation,
    "runoff": RunoffSimulation,
    "noise": NoiseSimulation,
}


def names() -> list[str]:
    return list(SIMULATIONS)


def create(selected: Iterable[str] | None = None) -> list[Simulation]:
    """New simulations with default parameters, all of them or those named."""
    chosen = list(SIMULATIONS) if selected is None else list(selected)
    unknown = [n for n in chosen if n not in SIMULATIONS]
    if unknown:
        raise ValueError(f"unknown simulation {unknown[0]!r}; known: {', '.join(SIMULATIONS)}")
    return [SIMULATIONS[n]() for n in chosen]
