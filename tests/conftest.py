"""Shared fixtures: paths to the reference data copied into tests/data and content/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
HELSINKI_PBF = ROOT / "content" / "cities" / "helsinki" / "helsinki-center.osm.pbf"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
