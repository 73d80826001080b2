"""The kiosk HUD drawn offscreen by tests/game/hud_demo.py, in a subprocess (Panda3D
allows one ShowBase per process): texts per view, presses, redraws, pictures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT

DEMO = ROOT / "tests" / "game" / "hud_demo.py"
VIEWS = ("explore-en", "explore-fi", "explore-hc", "explore-large", "explore-idle", "attract", "consent-de",
         "language", "propose", "proposals", "vote", "vote-hc-large", "thanks", "consent-hc")


def _run(out: Path, size: str) -> dict:
    result = subprocess.run([sys.executable, str(DEMO), str(out), size], capture_output=True, text=True, cwd=ROOT,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run(tmp_path_factory.mktemp("hud-720"), "1280x720")


def _pixels(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def _texts(demo: dict, view: str) -> str:
    return "\n".join(demo["views"][view]["texts"])


def test_every_view_is_drawn(demo: dict) -> None:
    assert list(demo["views"]) == list(VIEWS)
    for name, shown in demo["views"].items():
        pixels = _pixels(shown["png"])
        assert pixels.shape == (720, 1280, 3), name
        assert pixels.std() > 20.0, f"{name}: the picture is nearly flat"
        assert shown["texts"], f"{name}: nothing written"


EXPECTED = {
    "explore-en": ("Bulevardi: a cooler street", "Explore · 12:04 left", "Online", "Shaded sidewalks and squares",
                   "Mean road noise at façades", "Homes meeting the 3-30-300 rule", "33,305 m²", "+38 m²",
                   "no change", "€12,400 of €250,000", "Medium tree", "€1,200", "Permeable paving", "Undo", "Finish",
                   "Heat", "Walk to a park", "Felt temperature (UTCI)", "°C", "This Medium tree:",
                   "−0.4 °C felt temperature nearby", "Medium tree placed.", "Updating Noise…", "FI", "DE",
                   "tap the ground to walk there"),
    "explore-fi": ("Bulevardi: viileämpi katu", "Tutki · 12:04 jäljellä", "Keskikokoinen puu",
                   "Vettä läpäisevä päällyste", "1 200 €", "Kumoa", "Äänestä", "Tuntuva lämpötila julkisessa tilassa",
                   "ei muutosta",
                   "12 400 € / 250 000 €", "Kävelymatka puistoon", "Tämä keskikokoinen puu:"),
    "explore-hc": ("Shaded sidewalks and squares", "Medium tree", "Undo", "Heat"),
    "explore-large": ("That would go over the budget of €250,000.", "Felt temperature in public space"),
    "explore-idle": ("Still there? Starting over in 9 s", "I'm still here"),
    "attract": ("Shape your street", "Shape your street: plant trees, add benches, see what changes.",
                "Touch the screen to start", "EN", "DE"),
    "consent-de": ("Bevor Sie beginnen", "Dieser Kiosk ist anonym.", "Ich verstehe, los geht’s", "Nein danke", "DE"),
    "language": ("Choose your language", "English", "Suomi", "Svenska", "Nederlands", "Français", "Deutsch"),
    "propose": ("Name your proposal", "Shady Bulevardi «for everyone»", "Send proposal", "Cancel",
                "Felt temperature −0.4 °C"),
    "proposals": ("Proposals so far", "Shady Bulevardi «for everyone»", "Rain gardens on Fredrikinkatu",
                  "Bike lane to the market", "7 interventions", "Storm water −12 m³", "Back to the street"),
    "vote": ("Your vote", "What should Bulevardi have more of?", "How important is a cooler street",
             "Which proposal do you like best?", "Trees and shade", "Places to sit", "5",
             "Benches & trees by the school", "Vote received ✓", "Vote saved on this kiosk", "Finish"),
    "vote-hc-large": ("Your vote", "Back to the street", "Finish"),
    "thanks": ("Thank you!", "Your ideas are saved. The screen is now wiped for the next person."),
}


@pytest.mark.parametrize("view", list(EXPECTED))
def test_each_view_shows_its_texts(demo: dict, view: str) -> None:
    shown = _texts(demo, view)
    for text in EXPECTED[view]:
        assert text in shown, f"{view}: {text!r} is not shown"


def test_screens_show_only_their_own_parts(demo: dict) -> None:
    assert "Medium tree" not in _texts(demo, "consent-de"), "the palette belongs to the explore screen"
    assert "Online" not in _texts(demo, "attract"), "the attract screen has no top bar"
    large = _texts(demo, "explore-large")
    assert "Public space in strong heat stress" not in large, "that view has four KPI cards"
    assert "Medium tree placed." not in _texts(demo, "explore-idle")


def test_kpi_deltas_carry_no_decoration_in_texts(demo: dict) -> None:
    texts = demo["views"]["explore-en"]["texts"]
    assert "▲" not in texts and "✓" not in texts, "arrows and glyphs are drawn, not listed"
    assert texts.count("no change") == 2


PRESSES = {
    "explore-en:Undo": ["undo", {}],
    "explore-en:Heat": ["overlay", {"sim": "heat"}],
    "explore-en:Bench": ["select", {"catalog": "bench"}],
    "explore-en:FI": ["lang", {"code": "fi"}],
    "explore-en:select": ["select", {"catalog": "tree-small"}],
    "explore-fi:Kumoa": ["undo", {}],
    "explore-fi:Puisto": ["select", {"catalog": "park"}],
    "explore-hc:Map": ["mode", {"to": "overview"}],
    "explore-large:Redo": ["redo", {}],
    "explore-idle:I'm still here": ["still_here", {}],
    "attract:start": ["start", {}],
    "attract:DE": ["lang", {"code": "de"}],
    "consent-de:Ich verstehe, los geht’s": ["consent", {}],
    "consent-de:Nein danke": ["decline", {}],
    "language:Suomi": ["lang", {"code": "fi"}],
    "propose:Send proposal": ["propose", {"title": "Shady Bulevardi «for everyone»"}],
    "proposals:Rain gardens on Fredrikinkatu": ["fly_to", {"proposal": "pr2"}],
    "vote:Places to sit": ["vote", {"choice": "1", "question": "q1"}],
    "vote:4": ["vote", {"choice": "3", "question": "q2"}],
    "vote:Finish": ["finish", {}],
}


@pytest.mark.parametrize("press", list(PRESSES))
def test_pressing_a_button_hands_back_its_action(demo: dict, press: str) -> None:
    received = demo["presses"][press]
    assert received[0] == PRESSES[press]
    assert received[1] == ["hit", {"under_pointer": True}], "a pointer at the button's centre lands on it"


def test_the_idle_countdown_is_modal(demo: dict) -> None:
    (kind, body), = demo["presses"]["explore-idle:Undo"]
    assert kind == "error" and "no visible button 'Undo'" in body["message"]


def test_an_update_redraws_only_what_changed(demo: dict) -> None:
    assert demo["redrawn"] == ["toast"]
    assert demo["left_after_destroy"] == 0


def test_high_contrast_repaints_the_palette(demo: dict) -> None:
    normal, contrast = _pixels(demo["views"]["explore-en"]["png"]), _pixels(demo["views"]["explore-hc"]["png"])
    tray = (slice(580, 690), slice(30, 1250))  # the palette tray at 720p
    assert np.abs(normal[tray] - contrast[tray]).mean() > 40.0
    assert normal[tray].mean() > 180.0, "white cards and light tiles"
    assert contrast[tray].mean() < 110.0, "black tiles with white outlines"


def test_the_layout_scales_with_the_window(demo: dict, tmp_path: Path) -> None:
    big = _run(tmp_path, "1920x1080")
    for name in ("explore-en", "explore-fi", "consent-de", "vote"):
        assert big["views"][name]["texts"] == demo["views"][name]["texts"], name
        pixels = _pixels(big["views"][name]["png"])
        assert pixels.shape == (1080, 1920, 3)
        small = _pixels(demo["views"][name]["png"])
        # The same picture, 1.5 times larger: compare at 720p.
        scaled = np.asarray(Image.open(big["views"][name]["png"]).convert("RGB").resize((1280, 720)), dtype=float)
        assert np.abs(scaled - small).mean() < 8.0, name
    assert all(press[1] == ["hit", {"under_pointer": True}] for key, press in big["presses"].items()
               if key != "explore-idle:Undo")
