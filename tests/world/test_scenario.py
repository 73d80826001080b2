"""Scenarios load, place their area in a city's local frame, and refuse bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from world.frame import LocalFrame
from world.scenario import ScenarioError, load_scenario, scenario_names

GOOD = """
id = "t"
city = "helsinki"
[area]
crs = "EPSG:3067"
bounds = [385446.0, 6671801.0, 386446.0, 6672801.0]
[conditions]
time = "2026-06-21T15:00:00"
timezone = "Europe/Helsinki"
"""


def test_the_shipped_scenario_loads() -> None:
    assert "helsinki-centre" in scenario_names()
    scenario = load_scenario("helsinki-centre")
    assert scenario.when.utcoffset().total_seconds() == 3 * 3600  # EEST
    frame = LocalFrame("EPSG:3067", 385946.0, 6672301.0)
    assert scenario.area_m(frame) == pytest.approx((-500.0, -500.0, 500.0, 500.0))
    lon, lat = scenario.centre_lonlat()
    assert 24.93 < lon < 24.96 and 60.16 < lat < 60.18
    assert "tree-medium" in scenario.allowed and scenario.budget_eur == 250000.0


def test_defaults_fill_in_the_weather(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(GOOD)
    scenario = load_scenario(path)
    assert scenario.cell_m == 2.0 and scenario.soil_group == "B"
    assert scenario.weather["rain_mm"] == 30.0


@pytest.mark.parametrize(("replace", "message"), [
    ('bounds = [385446.0, 6671801.0, 386446.0, 6672801.0]', "bounds must be"),
    ('timezone = "Europe/Helsinki"', "IANA timezone"),
    ('time = "2026-06-21T15:00:00"', "ISO 8601 time"),
])
def test_bad_scenarios_name_the_problem(tmp_path: Path, replace: str, message: str) -> None:
    broken = {"bounds": 'bounds = [1, 2]', "timezone": 'timezone = "Mars/Olympus"',
              "time": 'time = "midsummer"'}[replace.split()[0]]
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(replace, broken))
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_an_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="helsinki-centre"):
        load_scenario("atlantis")
