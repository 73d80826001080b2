"""The KPI table is the simulations' own: each KPI's unit and better direction as a run reports them."""

from __future__ import annotations

from sims.kpis import KPIS
from sims.registry import create
from tests.sims.toy import toy_scene


def test_every_kpi_has_the_unit_and_direction_its_simulation_reports() -> None:
    scene = toy_scene()
    reported = {kpi.name: (sim.name, kpi.unit, kpi.better)
                for sim in create() for kpi in sim.run(scene).result.kpis.values()}
    assert reported == {name: (i.simulation, i.unit, i.better) for name, i in KPIS.items()}


def test_each_simulations_kpis_stand_together() -> None:
    simulations = [info.simulation for info in KPIS.values()]
    groups = [s for i, s in enumerate(simulations) if i == 0 or simulations[i - 1] != s]
    assert sorted(groups) == sorted(set(simulations)) == sorted(s.name for s in create())
