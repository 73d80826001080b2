"""content <- world <- sims <- multiplayer <- game: the pure packages load no engine."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from tests.conftest import ROOT

ENGINES = ("panda3d", "direct", "arcade", "pyglet")
PURE = ("content", "world", "sims", "multiplayer")


def _modules(package: str) -> list[str]:
    return [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(ROOT / package)])]


def test_pure_packages_import_no_engine() -> None:
    modules = [m for package in PURE for m in _modules(package)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {ENGINES!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert len(modules) > 10
    assert result.stdout.strip() == ""


def test_build_city_command_never_loads_panda3d(tmp_path) -> None:
    out = tmp_path / "city"
    code = (
        "import sys\n"
        "from game.cli import main\n"
        f"status = main(['build-city', 'tests/data/geojson/blocks.geojson', '--out', {str(out)!r}, '--quiet'])\n"
        "status |= main(['inspect', " + repr(str(out)) + "])\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {ENGINES!r})\n"
        "print('ENGINES:' + ','.join(loaded), 'STATUS:', status)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines()[-1] == "ENGINES: STATUS: 0"
