"""`civictwin sim`: every simulation on the built Helsinki package, with placements,
JSON, PNG fields, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from sims.registry import names
from tests.conftest import ROOT
from world.package import load_city

KPIS = {"shade_public_pct", "shade_public_m2", "seats_in_shade", "utci_mean_c", "strong_heat_pct",
        "homes_3_trees_pct", "homes_30_canopy_pct", "homes_300_park_pct", "homes_3_30_300_pct",
        "runoff_m3", "rain_retained_pct", "homes_above_55db_pct", "facade_lden_mean_db"}


def civictwin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "game.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)


#: Four street trees and a bench on the sidewalks south of the railway station, a green
#: roof, and traffic calming on Unioninkatu: what `make run` places.
EXAMPLE = ROOT / "content" / "scenarios" / "helsinki-centre.example.json"


def test_sim_json_with_placements_and_pngs(helsinki_package: Path, tmp_path: Path) -> None:
    result = civictwin("sim", str(helsinki_package), "--apply", str(EXAMPLE), "--json", "--png", str(tmp_path / "png"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["kpis"]) == KPIS
    for kpi in report["kpis"].values():
        assert {"value", "baseline", "delta", "unit"} <= set(kpi)
        assert kpi["delta"] == pytest.approx(kpi["value"] - kpi["baseline"])
    assert set(names()) <= set(report["timings_ms"])
    assert all(t["full"] > 0 and t["incremental"] > 0 for t in report["timings_ms"].values())
    kpis = report["kpis"]
    assert kpis["shade_public_m2"]["delta"] > 0  # the tree shades the sidewalk
    assert kpis["runoff_m3"]["delta"] < 0  # the green roof holds rain
    assert kpis["utci_mean_c"]["delta"] < 0  # shade cools
    assert kpis["seats_in_shade"]["value"] == 3  # the bench stands under the first tree
    assert kpis["facade_lden_mean_db"]["delta"] < 0  # calmer traffic on Unioninkatu
    assert len(report["applied"]) == len(json.loads(EXAMPLE.read_text()))
    for name in names():
        image = Image.open(tmp_path / "png" / f"{name}.png")
        assert image.width > 500 and image.height > 500


def test_sim_prints_a_table(helsinki_package: Path) -> None:
    result = civictwin("sim", str(helsinki_package), "--only", "shade,runoff")
    assert result.returncode == 0, result.stderr
    assert "Sidewalks, plazas and cycleways in shade" in result.stdout
    assert "Milliseconds:" in result.stdout


@pytest.mark.parametrize(("args", "status", "message"), [
    (["--scenario", "atlantis"], 1, "no scenario 'atlantis'"),
    (["--only", "weather"], 2, "choose from"),
    (["--apply", "missing.json"], 1, "missing.json: no such file"),
])
def test_sim_errors_are_one_sentence(helsinki_package: Path, args: list[str], status: int, message: str) -> None:
    result = civictwin("sim", str(helsinki_package), *args)
    assert result.returncode == status
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_refused_placement_names_the_reason(helsinki_package: Path, tmp_path: Path) -> None:
    city = load_city(helsinki_package)
    street = next(r for r in city.roads if r.surface == "carriageway" and r.road_class == "primary"
                  and abs(r.geometry.centroid.x) < 300 and abs(r.geometry.centroid.y) < 300)
    point = street.geometry.interpolate(0.5, normalized=True)
    apply = tmp_path / "apply.json"
    apply.write_text(json.dumps([{"catalog": "tree-small", "geometry": {"type": "Point",
                                                                       "coordinates": [point.x, point.y]}}]))
    result = civictwin("sim", str(helsinki_package), "--apply", str(apply), "--only", "shade")
    assert result.returncode == 1
    assert "carriageway" in result.stderr and "Traceback" not in result.stderr
