"""Offscreen rendering of a city package: Panda3D on Mesa's EGL, no display, no GPU.

Rendered in a subprocess: Panda3D allows one ShowBase per process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from panda3d.core import PNMImage

from tests.conftest import ROOT


def _pixels(path: Path) -> np.ndarray:
    image = PNMImage()
    assert image.read(str(path))
    width, height = image.get_x_size(), image.get_y_size()
    return np.array([[image.get_xel_val(x, y) for x in range(width)] for y in range(height)], dtype=np.int32)


def test_snapshot_of_helsinki_shows_sky_ground_and_buildings(helsinki_package: Path, tmp_path: Path) -> None:
    out = tmp_path / "helsinki.png"
    result = subprocess.run([sys.executable, "-m", "game.cli", "snapshot", str(helsinki_package), "--out", str(out),
                             "--size", "320x180"], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    pixels = _pixels(out)
    assert pixels.shape == (180, 320, 3)
    sky = pixels[2, 318]
    assert sky[2] > sky[0] and sky[2] > 200, "the top right corner is sky blue"
    # Grass is lit vertex colour: green clearly above red and blue somewhere in the park.
    green = (pixels[..., 1] > pixels[..., 0] + 30) & (pixels[..., 1] > pixels[..., 2] + 30)
    assert green.sum() > 100, "parks are drawn in their land-cover colour"
    distinct = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert distinct > 100, "buildings, roads and trees give a varied picture, not a flat fill"


def test_snapshot_of_a_missing_package_is_one_sentence(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "game.cli", "snapshot", str(tmp_path), "--out",
                             str(tmp_path / "x.png")], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("civictwin: error:")
    assert "Traceback" not in result.stderr
