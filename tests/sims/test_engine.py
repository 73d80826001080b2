"""The engine: place, remove, undo, redo; updates equal a fresh run; leave-one-out
attribution; slow simulations on a worker thread."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from sims.engine import Engine
from sims.runoff import RunoffSimulation
from sims.scene import Run, Scene, Simulation
from sims.shade import ShadeSimulation
from tests.sims.toy import AREA, HELSINKI_AFTERNOON, toy_city
from world.interventions import InterventionError, apply_all, make_placed


def _engine(**kwargs) -> Engine:
    return Engine(toy_city(), HELSINKI_AFTERNOON, [ShadeSimulation(), RunoffSimulation()], area=AREA, **kwargs)


TREE = make_placed("tree-large", shapely.Point(-30.0, -7.0))
ROOF = make_placed("green-roof", shapely.box(-35.0, 15.0, -5.0, 25.0))
GARDEN = make_placed("rain-garden", shapely.box(60.0, 60.0, 80.0, 80.0))
BENCH = make_placed("bench", shapely.Point(-28.0, -9.0))


def _values(engine: Engine) -> dict[str, float]:
    return {name: kpi.value for name, kpi in engine.kpis().items()}


def _fresh(engine: Engine) -> dict[str, float]:
    """The KPIs of a new engine whose baseline city already holds every placement."""
    city = apply_all(toy_city(), engine.placed, engine.catalog)
    return _values(Engine(city, HELSINKI_AFTERNOON, [ShadeSimulation(), RunoffSimulation()], area=AREA))


def test_the_baseline_has_no_deltas() -> None:
    engine = _engine()
    assert all(kpi.delta == 0.0 and kpi.verdict == "same" for kpi in engine.kpis().values())
    assert set(engine.timings_ms) == {"scene", "shade", "runoff"}


def test_placing_updates_incrementally_to_what_a_fresh_run_gives() -> None:
    engine = _engine()
    for placed in (TREE, ROOF, GARDEN, BENCH):
        engine.place(placed)
        assert _values(engine) == pytest.approx(_fresh(engine), rel=1e-12, abs=1e-9)
    kpis = engine.kpis()
    assert kpis["shade_public_m2"].verdict == "better" and kpis["runoff_m3"].verdict == "better"
    assert kpis["seats_in_shade"].value == 3.0


def test_remove_undo_redo_walk_the_history() -> None:
    engine = _engine()
    baseline = _values(engine)
    engine.place(TREE)
    engine.place(ROOF)
    with_both = _values(engine)
    engine.remove(TREE.id)
    assert [p.id for p in engine.placed] == [ROOF.id]
    assert _values(engine) == pytest.approx(_fresh(engine))
    assert engine.undo()  # the tree is back, in its old place in the list
    assert [p.id for p in engine.placed] == [TREE.id, ROOF.id]
    assert _values(engine) == pytest.approx(with_both)
    assert engine.undo() and engine.undo() and not engine.undo()
    assert _values(engine) == pytest.approx(baseline)
    np.testing.assert_array_equal(engine.runs["shade"].result.field.values,
                                  engine.baseline["shade"].result.field.values)
    assert engine.redo() and engine.redo()
    assert _values(engine) == pytest.approx(with_both)


def test_contribution_is_leave_one_out() -> None:
    engine = _engine()
    engine.place(TREE)
    engine.place(BENCH)
    tree = engine.contribution(TREE.id)
    assert tree["shade_public_m2"] > 0.0
    assert tree["seats_in_shade"] == 3.0  # without the tree the bench would stand in the sun
    assert engine.contribution(BENCH.id)["shade_public_m2"] == 0.0
    assert tree["runoff_m3"] == 0.0  # a tree is not a surface treatment here


def test_refusals_and_unknown_ids_are_clear() -> None:
    engine = _engine()
    on_street = make_placed("tree-small", shapely.Point(0.0, 0.0))
    with pytest.raises(InterventionError, match="carriageway"):
        engine.place(on_street)
    engine.place(TREE)
    with pytest.raises(InterventionError, match="already placed"):
        engine.place(TREE)
    with pytest.raises(InterventionError, match="no placed intervention"):
        engine.remove("nope")
    limited = _engine(allowed=["bench"])
    assert limited.check(TREE, "fi") == "Tämä skenaario ei tarjoa sitä."


class _Slow(Simulation):
    """A slow simulation whose update counts the trees in the scene."""

    name = "slow"
    label = "Counting trees slowly"
    slow = True

    def run(self, scene: Scene) -> Run:
        from sims.field import ColourRamp, Field, Kpi, Result

        field = Field("slow", np.zeros((1, 1)), "", ColourRamp(((0.0, (0, 0, 0, 0)), (1.0, (0, 0, 0, 0)))))
        return Run(Result(field, {"trees": Kpi("trees", float(len(scene.city.trees)), "trees", "higher")}))


def test_slow_simulations_run_on_a_worker_and_publish_in_order() -> None:
    engine = Engine(toy_city(), HELSINKI_AFTERNOON, [ShadeSimulation(), _Slow()], area=AREA, background=True)
    try:
        engine.place(TREE)
        engine.place(make_placed("tree-small", shapely.Point(-60.0, -7.0)))
        engine.wait()
        assert engine.pending() == []
        assert engine.kpis()["trees"].value == 7.0 and engine.kpis()["trees"].delta == 2.0
    finally:
        engine.close()
