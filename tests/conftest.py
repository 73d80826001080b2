"""Shared fixtures: reference data paths, the Khronos glTF validator, a built Helsinki."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
HELSINKI_DIR = ROOT / "content" / "cities" / "helsinki"
HELSINKI_PBF = HELSINKI_DIR / "helsinki-center.osm.pbf"
VALIDATOR = ROOT / "tools" / "validate-gltf.cjs"

#: The extract's published bounds (shared/data/README.md): lon, lat.
HELSINKI_LON = (24.9352, 24.9534)
HELSINKI_LAT = (60.1642, 60.1791)


def validate_gltf(paths: list[Path]) -> list[dict]:
    """Run the Khronos glTF validator (npm ``gltf-validator``, installed by ``make``)
    on files; one report per file. Fails, never skips, when it is missing."""
    node = shutil.which("node")
    assert node, "Node.js is missing: `make test` installs what the tests need"
    assert (ROOT / "node_modules" / "gltf-validator").is_dir(), \
        "the npm package gltf-validator is missing: run `make test` (it runs `npm ci`)"
    out = subprocess.run([node, str(VALIDATOR), *map(str, paths)], capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode in (0, 1), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def helsinki_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Helsinki sample built once per test session, the way `make run` builds it."""
    from world.package import build_city

    out = tmp_path_factory.mktemp("helsinki") / "package"
    build_city([HELSINKI_DIR], out, progress=False)
    return out


@pytest.fixture(scope="session")
def helsinki_city():
    """The Helsinki sample imported and assembled exactly as the build does."""
    from world.city import assemble
    from world.osm import read_osm

    return assemble([read_osm(HELSINKI_PBF, crs="EPSG:3067")], "Helsinki centre")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="write the rendered screenshots as the new golden pictures (review them first)")


@pytest.fixture(scope="session")
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))
