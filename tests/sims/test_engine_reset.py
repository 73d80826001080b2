"""Engine.reset: back to the baseline with no history, also while slow updates are queued."""

from __future__ import annotations

import numpy as np
import shapely

from sims.engine import Engine
from sims.runoff import RunoffSimulation
from sims.shade import ShadeSimulation
from tests.sims.test_engine import _Slow
from tests.sims.toy import AREA, HELSINKI_AFTERNOON, toy_city
from world.interventions import make_placed

TREE = make_placed("tree-large", shapely.Point(-30.0, -7.0))
GARDEN = make_placed("rain-garden", shapely.box(60.0, 60.0, 80.0, 80.0))


def _values(engine: Engine) -> dict[str, float]:
    return {name: kpi.value for name, kpi in engine.kpis().items()}


def test_reset_returns_to_the_baseline_and_clears_the_history() -> None:
    engine = Engine(toy_city(), HELSINKI_AFTERNOON, [ShadeSimulation(), RunoffSimulation()], area=AREA)
    baseline = _values(engine)
    engine.place(TREE)
    engine.place(GARDEN)
    engine.undo()
    assert _values(engine) != baseline
    engine.reset()
    assert engine.placed == ()
    assert _values(engine) == baseline
    assert all(kpi.delta == 0.0 for kpi in engine.kpis().values())
    assert engine.scene is engine.baseline_scene
    np.testing.assert_array_equal(engine.runs["shade"].result.field.values,
                                  engine.baseline["shade"].result.field.values)
    assert not engine.undo() and not engine.redo()  # neither the undo nor the redo list survives
    engine.place(TREE)  # and the engine goes on working from there
    assert [p.id for p in engine.placed] == [TREE.id]


def test_reset_drops_queued_slow_updates() -> None:
    engine = Engine(toy_city(), HELSINKI_AFTERNOON, [ShadeSimulation(), _Slow()], area=AREA, background=True)
    try:
        engine.place(TREE)
        engine.place(make_placed("tree-small", shapely.Point(-60.0, -7.0)))
        engine.reset()
        assert engine.pending() == [] and engine.poll() == []
        assert engine.kpis()["trees"].delta == 0.0
        engine.place(TREE)  # the slow simulation starts again from the baseline, not from a dropped update
        engine.wait()
        assert engine.kpis()["trees"].delta == 1.0
    finally:
        engine.close()
