"""``civictwin sim``: every simulation over a city package and a scenario, with KPIs,
timings and, on request, each field as a PNG."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sims.engine import Engine, KpiValue, conditions_for
from sims.registry import create
from world.catalog import load_catalog
from world.errors import WorldError
from world.frame import LocalFrame
from world.interventions import parse_placed_list
from world.package import load_city, read_metadata
from world.scenario import Scenario, ScenarioError, load_scenario, scenario_names

__all__ = ["SimReport", "simulate", "find_scenario", "format_report"]


class SimReport:
    """What one ``civictwin sim`` run found."""

    def __init__(self, engine: Engine, scenario: Scenario, applied: list[str],
                 incremental_ms: dict[str, list[float]], pngs: list[Path]) -> None:
        self.engine = engine
        self.scenario = scenario
        self.applied = applied
        self.incremental_ms = incremental_ms
        self.pngs = pngs

    def kpis(self) -> dict[str, KpiValue]:
        return self.engine.kpis()

    def timings_ms(self) -> dict[str, dict[str, float | None]]:
        """Per simulation: the full run and the mean incremental update per placement."""
        out: dict[str, dict[str, float | None]] = {}
        for name in [*self.engine.simulations, "scene"]:
            times = self.incremental_ms.get(name, [])
            out[name] = {"full": round(self.engine.timings_ms[name]["full"], 3),
                         "incremental": round(sum(times) / len(times), 3) if times else None}
        return out

    def to_json(self) -> dict[str, Any]:
        return {"city": self.engine.scene.city.name, "scenario": self.scenario.id,
                "when": self.scenario.when.isoformat(), "grid": {"cell_m": self.engine.scene.grids.cell_m,
                                                                 "shape": list(self.engine.scene.grids.shape)},
                "applied": self.applied,
                "kpis": {name: kpi.to_json() for name, kpi in self.kpis().items()},
                "timings_ms": self.timings_ms(), "png": [str(p) for p in self.pngs]}


def find_scenario(package: Path, name: str | None) -> Scenario:
    """The named scenario, or else the first shipped scenario whose area lies in the
    package's extent."""
    if name is not None:
        return load_scenario(name)
    meta = read_metadata(package)
    frame = LocalFrame(str(meta["crs"]), *(float(v) for v in meta["origin_m"]))
    min_x, min_y, max_x, max_y = (float(v) for v in meta["bbox_m"])
    for candidate in scenario_names():
        scenario = load_scenario(candidate)
        a = scenario.area_m(frame)
        if a[0] >= min_x - 1.0 and a[1] >= min_y - 1.0 and a[2] <= max_x + 1.0 and a[3] <= max_y + 1.0:
            return scenario
    raise ScenarioError(f"no shipped scenario covers {package}; pass --scenario NAME or a .toml file.")


def build_engine(package: Path, scenario: Scenario, only: Sequence[str] | None = None) -> Engine:
    """The simulation engine over a city package under ``scenario``, its baseline run."""
    city = load_city(package)
    return Engine(city, conditions_for(scenario), create(only), area=scenario.area_m(city.frame),
                  cell_m=scenario.cell_m, catalog=load_catalog(), allowed=scenario.allowed)


def simulate(package: Path, scenario_name: str | None = None, apply_path: Path | None = None,
             png_dir: Path | None = None, only: Sequence[str] | None = None) -> SimReport:
    """Run every simulation (or ``only`` those) on the package under the scenario, place
    the interventions of ``apply_path`` one by one (timing each incremental update),
    and write the fields to ``png_dir``."""
    scenario = find_scenario(package, scenario_name)
    placed = []
    if apply_path is not None:
        try:
            document = json.loads(apply_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorldError(f"{apply_path}: no such file.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WorldError(f"{apply_path}: not valid JSON ({exc}).") from None
        placed = parse_placed_list(document)
    engine = build_engine(package, scenario, only)
    incremental: dict[str, list[float]] = {}
    for item in placed:
        engine.place(item)
        for name, times in engine.timings_ms.items():
            incremental.setdefault(name, []).append(times["incremental"])
    pngs = []
    if png_dir is not None:
        from game.field_png import write_field_png

        for name, run in engine.runs.items():
            pngs.append(write_field_png(run.result.field, engine.scene.grids, png_dir / f"{name}.png"))
    return SimReport(engine, scenario, [p.id for p in placed], incremental, pngs)


def format_report(report: SimReport) -> str:
    """The human-readable summary ``civictwin sim`` prints."""
    grids = report.engine.scene.grids
    rows, cols = grids.shape
    when = report.scenario.when.strftime("%d %b %Y %H:%M %Z")
    lines = [f"{report.engine.scene.city.name} · scenario {report.scenario.id} · {when} · "
             f"{cols * grids.cell_m / 1000:.2f} × {rows * grids.cell_m / 1000:.2f} km at {grids.cell_m:g} m"]
    if report.applied:
        lines.append(f"Placed {len(report.applied)} interventions: "
                     + ", ".join(p.catalog for p in report.engine.placed))
    lines.append("")
    width = max(len(k.label) for k in report.kpis().values())
    lines.append(f"{'':{width}}  {'value':>10}  {'baseline':>10}  {'change':>10}")
    for kpi in report.kpis().values():
        verdict = {"better": "better", "worse": "worse", "same": ""}[kpi.verdict]
        lines.append(f"{kpi.label:{width}}  {_number(kpi.value):>10}  {_number(kpi.baseline):>10}  "
                     f"{_number(kpi.delta, sign=True):>10}  {kpi.unit} {verdict}".rstrip())
    lines.append("")
    timings = report.timings_ms()
    parts = []
    for name, t in timings.items():
        increment = f", update {t['incremental']:.1f}" if t["incremental"] is not None else ""
        parts.append(f"{name} {t['full']:.0f}{increment}")
    lines.append("Milliseconds: " + "; ".join(parts))
    lines.extend(f"Wrote {p}" for p in report.pngs)
    return "\n".join(lines)


def _number(value: float, *, sign: bool = False) -> str:
    """Two decimals, or three significant digits for small non-zero changes (so that a
    change of −0.004 °C does not print as −0.00)."""
    plus = "+" if sign else ""
    if value != 0.0 and abs(value) < 0.01:
        return f"{value:{plus}.2g}"
    return f"{value:{plus},.2f}"
