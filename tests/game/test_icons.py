"""Tests for game.kiosk.icons: one clean, distinct, antialiased pictogram per catalog entry."""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from game.kiosk.icons import PICTOGRAMS, icon_rgba, icon_sheet
from tests.conftest import ROOT
from world.catalog import load_catalog

CATALOG = load_catalog()
SHEET = icon_sheet(CATALOG)


def test_the_sheet_has_every_entry_in_catalog_order() -> None:
    assert list(SHEET) == CATALOG.ids()
    assert set(PICTOGRAMS) >= {entry.model for entry in CATALOG}


@pytest.mark.parametrize("entry_id", CATALOG.ids())
def test_icons_are_square_rgba8_with_a_transparent_background(entry_id: str) -> None:
    icon = SHEET[entry_id]
    assert icon.shape == (128, 128, 4) and icon.dtype == np.uint8
    alpha = icon[..., 3]
    covered = (alpha > 0).mean()
    assert 0.08 < covered < 0.8, "a pictogram, neither empty nor a filled square"
    assert alpha[0, 0] == alpha[0, -1] == 0, "the top corners are transparent"
    assert ((alpha > 0) & (alpha < 255)).sum() > 100, "antialiased edges"
    assert (icon[..., :3][alpha == 0] == 0).all(), "no colour where nothing is drawn"


def test_icons_can_be_asked_at_any_size() -> None:
    small = icon_rgba(CATALOG["bench"], 64)
    assert small.shape == (64, 64, 4)
    big = SHEET["bench"].astype(np.float32).reshape(64, 2, 64, 2, 4).mean(axis=(1, 3))
    assert np.abs(big[..., 3] - small[..., 3]).mean() < 4.0, "the same drawing, scaled"


def test_every_pair_of_icons_differs() -> None:
    for (a, icon_a), (b, icon_b) in itertools.combinations(SHEET.items(), 2):
        difference = np.abs(icon_a.astype(np.int32) - icon_b.astype(np.int32)).mean()
        assert difference > 10.0, f"{a} and {b} look alike"


def test_tree_icons_grow_with_the_tree() -> None:
    heights = []
    for entry_id in ("tree-small", "tree-medium", "tree-large"):
        rows = np.nonzero((SHEET[entry_id][..., 3] > 128).any(axis=1))[0]
        heights.append(rows.max() - rows.min())
    assert heights[0] + 10 < heights[1] and heights[1] + 10 < heights[2]


def test_icons_are_deterministic() -> None:
    assert np.array_equal(icon_rgba(CATALOG["rain-garden"]), SHEET["rain-garden"])


def test_an_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no pictogram for the model 'gazebo'"):
        icon_rgba(replace(CATALOG["bench"], model="gazebo"))


def test_icons_need_no_engine() -> None:
    code = ("import sys, game.kiosk.icons as icons, world.catalog as c\n"
            "icons.icon_sheet(c.load_catalog(), 32)\n"
            "assert not [m for m in sys.modules if m.split('.')[0] in ('panda3d', 'direct')]")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
