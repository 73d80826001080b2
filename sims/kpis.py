"""Every KPI the simulations report, known without running one.

A proposal carries only its KPI deltas (``{name: value − baseline}``); the wall, the
review and the report need each one's unit and which way is better to say whether a
change helps. The simulations set both on every :class:`~sims.field.Kpi` they return;
``tests/sims/test_kpis.py`` runs each of them and checks that this table says the same.

>>> KPIS["runoff_m3"]
KpiInfo(simulation='runoff', unit='m³', better='lower')
>>> [name for name, info in KPIS.items() if info.simulation == "shade"]
['shade_public_pct', 'shade_public_m2', 'seats_in_shade']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["KPIS", "KpiInfo", "kpi_sort_key"]


@dataclass(frozen=True, slots=True)
class KpiInfo:
    """Which simulation reports a KPI, its unit and the better direction."""

    simulation: str
    unit: str
    better: Literal["higher", "lower"]


#: In the order the kiosk shows its cards: shade, heat, runoff, noise, green.
KPIS: dict[str, KpiInfo] = {
    "shade_public_pct": KpiInfo("shade", "%", "higher"),
    "shade_public_m2": KpiInfo("shade", "m²", "higher"),
    "seats_in_shade": KpiInfo("shade", "seats", "higher"),
    "utci_mean_c": KpiInfo("heat", "°C", "lower"),
    "strong_heat_pct": KpiInfo("heat", "%", "lower"),
    "runoff_m3": KpiInfo("runoff", "m³", "lower"),
    "rain_retained_pct": KpiInfo("runoff", "%", "higher"),
    "homes_above_55db_pct": KpiInfo("noise", "%", "lower"),
    "facade_lden_mean_db": KpiInfo("noise", "dB(A)", "lower"),
    "homes_3_trees_pct": KpiInfo("green", "%", "higher"),
    "homes_30_canopy_pct": KpiInfo("green", "%", "higher"),
    "homes_300_park_pct": KpiInfo("green", "%", "higher"),
    "homes_3_30_300_pct": KpiInfo("green", "%", "higher"),
}
_ORDER = {name: index for index, name in enumerate(KPIS)}


def kpi_sort_key(name: str) -> tuple[int, str]:
    """Known KPIs in card order, then any other by name.

    >>> sorted(["zebra_pct", "runoff_m3", "shade_public_pct"], key=kpi_sort_key)
    ['shade_public_pct', 'runoff_m3', 'zebra_pct']
    """
    return (_ORDER.get(name, len(_ORDER)), name)
