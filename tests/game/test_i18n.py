"""The kiosk's texts: complete where promised, consistent placeholders, locale number formats."""

from __future__ import annotations

import math
import string
import subprocess
import sys
from pathlib import Path

import pytest

from game.kiosk.i18n import (
    COMPLETE_LANGUAGES,
    UI_LANGUAGES,
    I18nError,
    Texts,
    format_eur,
    format_number,
    language_name,
    load_texts,
    texts,
)
from tests.conftest import ROOT
from world.catalog import load_catalog
from world.scenario import load_scenario

NBSP, NNBSP, MINUS = "\u00a0", "\u202f", "\u2212"

#: The keys the kiosk's modules ask for (the shared kiosk contract's list).
REQUIRED_KEYS = {
    *(f"attract.{k}" for k in ("touch", "tagline")),
    *(f"consent.{k}" for k in ("heading", "body", "accept", "decline")),
    "language.heading", "settings.large_text", "settings.high_contrast", "mode.walk", "mode.overview",
    *(f"tool.{k}" for k in ("undo", "redo", "delete", "rotate", "cancel")),
    "palette.heading", "overlay.heading", "overlay.none",
    *(f"sim.{k}" for k in ("shade", "heat", "noise", "green", "runoff")),
    *(f"kpi.{k}" for k in ("shade_public_pct", "shade_public_m2", "seats_in_shade", "utci_mean_c",
                           "strong_heat_pct", "homes_3_trees_pct", "homes_30_canopy_pct", "homes_300_park_pct",
                           "homes_3_30_300_pct", "runoff_m3", "rain_retained_pct", "homes_above_55db_pct",
                           "facade_lden_mean_db", "no_change")),
    "budget.text", "budget.over",
    *(f"place.{k}" for k in ("placed", "removed", "undone", "redone", "nothing_to_undo", "pick_spot",
                             "pick_line", "pick_area", "pick_roof")),
    *(f"callout.{k}" for k in ("heading", "shade", "heat", "runoff", "noise", "seats", "none")),
    *(f"busy.{k}" for k in ("loading", "preparing", "updating")),
    *(f"propose.{k}" for k in ("button", "heading", "default_title", "submit", "empty", "sent", "saved",
                               "closed")),
    *(f"proposals.{k}" for k in ("button", "heading", "none", "count", "show")),
    *(f"vote.{k}" for k in ("button", "heading", "received", "saved", "closed")),
    *(f"phase.{k}" for k in ("lobby", "explore", "propose", "vote", "reveal", "closed", "left", "round_closed")),
    "idle.countdown", "idle.still_here", "thanks.heading", "thanks.body", "finish.button",
    *(f"status.{k}" for k in ("online", "offline", "standalone")),
    "hint.walk", "hint.overview", "pick.building", "pick.unnamed", "pick.placed", "reason.over_budget",
}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


# --- The shipped texts ------------------------------------------------------------------


def test_every_required_key_is_there() -> None:
    assert set(texts().keys()) >= REQUIRED_KEYS
    assert "tool.undo" in texts() and "tool.fly" not in texts()
    assert len(REQUIRED_KEYS) == 99


@pytest.mark.parametrize("lang", COMPLETE_LANGUAGES)
def test_every_key_is_translated_in_every_complete_language(lang: str) -> None:
    shipped = texts()
    missing = [key for key in shipped if not shipped.has(lang, key)]
    assert missing == []
    assert all(shipped.raw(lang, key).strip() == shipped.raw(lang, key) != "" for key in shipped)


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_every_language_uses_the_english_placeholders(lang: str) -> None:
    shipped = texts()
    for key in shipped:
        assert _placeholders(shipped.raw(lang, key)) == _placeholders(shipped.raw("en", key)), key


def test_texts_are_translated_not_copied() -> None:
    shipped = texts()
    for lang in COMPLETE_LANGUAGES[1:]:
        same = [key for key in shipped if shipped.raw(lang, key) == shipped.raw("en", key)]
        assert len(same) <= 3, (lang, same)  # "Online", "Offline: …" are the same word in some


def test_french_punctuation_keeps_to_its_word() -> None:
    shipped = texts()
    for key in shipped:
        text = shipped.raw("fr", key)
        assert not any(f" {mark}" in text for mark in ":;?!"), key


def test_filling_placeholders() -> None:
    shipped = texts()
    assert shipped.t("en", "budget.text", spent="€12,400", total="€250,000") == "€12,400 of €250,000"
    assert shipped.t("de", "place.placed", name="Sitzbank", unused=1) == "Sitzbank platziert."
    assert shipped.t("fi", "tool.undo") == "Kumoa"
    assert shipped.t("xx", "tool.undo") == "Undo"  # not a kiosk language: English
    with pytest.raises(KeyError, match=r"no kiosk text 'tool\.fly'"):
        shipped.t("en", "tool.fly")
    with pytest.raises(KeyError, match=r"needs a value for \{total\}"):
        shipped.t("nl", "budget.text", spent="€ 1")
    assert not shipped.has("en", "tool.fly")


def test_texts_are_loaded_once() -> None:
    assert texts() is texts()


def test_language_names_are_endonyms() -> None:
    assert [language_name(code) for code in UI_LANGUAGES] == [
        "English", "Suomi", "Svenska", "Nederlands", "Français", "Deutsch"]
    assert set(COMPLETE_LANGUAGES) < set(UI_LANGUAGES)
    with pytest.raises(KeyError, match="'es' is not a kiosk language"):
        language_name("es")


def test_the_scenario_languages_are_kiosk_languages() -> None:
    scenario = load_scenario("helsinki-centre")
    assert set(scenario.extra["workshop"]["languages"]) <= set(UI_LANGUAGES)
    assert set(scenario.title) >= set(UI_LANGUAGES)


def test_every_catalog_entry_is_named_in_german() -> None:
    catalog = load_catalog()
    for entry in catalog:
        assert entry.name.get("de"), entry.id
    assert catalog["bench"].name["de"] == "Sitzbank"
    assert catalog.refusal("tree-small", {"carriageway"}, "de") == "Das darf nicht auf der Fahrbahn stehen."


def test_loading_imports_no_engine() -> None:
    code = "import sys, game.kiosk.i18n as m; m.texts(); print(any(n.split('.')[0] in ('panda3d', 'direct') " \
           "for n in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- Loading other files ------------------------------------------------------------------


def test_a_key_in_two_files_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "kiosk.toml", '[hud.title]\nen = "Title"\n')
    _write(tmp_path, "kiosk-hud.toml", '[hud.other]\nen = "Other"\n\n[hud.title]\nen = "Again"\n')
    with pytest.raises(I18nError, match=r"'hud.title' is defined in both kiosk-hud.toml and kiosk.toml\.$"):
        load_texts(tmp_path)


def test_files_are_merged_and_other_names_ignored(tmp_path: Path) -> None:
    _write(tmp_path, "kiosk.toml", '[a.b]\nen = "One"\nfi = "Yksi"\n')
    _write(tmp_path, "kiosk-extra.toml", '["c.d"]\nen = "Two {n}"\nsv = "Två {n}"\n')
    _write(tmp_path, "phone.toml", '[a.b]\nen = "Not read"\n')
    loaded = load_texts(tmp_path)
    assert isinstance(loaded, Texts)
    assert loaded.keys() == ("a.b", "c.d")
    assert loaded.t("sv", "c.d", n=2) == "Två 2"


def test_a_language_without_the_key_falls_back_to_english(tmp_path: Path) -> None:
    _write(tmp_path, "kiosk.toml", '[hud.title]\nen = "Title {n}"\nfi = "Otsikko {n}"\n')
    loaded = load_texts(tmp_path)
    assert not loaded.has("sv", "hud.title")
    assert loaded.t("sv", "hud.title", n=1) == "Title 1"
    assert loaded.t("fi", "hud.title", n=1) == "Otsikko 1"


@pytest.mark.parametrize(("body", "message"), [
    ('[a.b]\nen = "x"\nes = "x"\n', r"kiosk.toml: the kiosk text 'a.b' is given in 'es'"),
    ('[a.b]\nfi = "x"\n', r"kiosk.toml: the kiosk text 'a.b' has no English"),
    ('[a.b]\nen = "{n} m"\nde = "{m} m"\n', r"kiosk.toml: the kiosk text 'a.b' in 'de' must use .*\{n\}"),
    ('[a.b]\nen = "{n:.1f} m"\n', r"kiosk.toml: the kiosk text 'a.b' in 'en' has a bad placeholder"),
    ('[a.b]\nen = "x }"\n', r"kiosk.toml: the kiosk text 'a.b' in 'en' has a bad placeholder"),
    ('[a.b]\nen = "  "\n', r"kiosk.toml: the kiosk text 'a.b' is empty in 'en'"),
    ('[a]\nen = "x"\n[a.b]\nen = "y"\n', r"kiosk.toml: 'a.en' is mixed with deeper keys"),
    ('[a.b]\nen = 3\n', r"kiosk.toml: 'a.b.en' is not a string"),
    ('en = "x"\n', r"kiosk.toml: 'en' is a text outside any \[key\] table"),
    ('["a.b"]\nen = "x"\n[a.b]\nen = "y"\n', r"'a.b' is defined twice in kiosk.toml"),
    ('[a.b\nen = "x"\n', r"kiosk.toml: cannot be read as TOML"),
])
def test_bad_files_are_refused_in_one_sentence(tmp_path: Path, body: str, message: str) -> None:
    _write(tmp_path, "kiosk.toml", body)
    with pytest.raises(I18nError, match=message) as caught:
        load_texts(tmp_path)
    assert "\n" not in str(caught.value)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(I18nError, match="no kiosk"):
        load_texts(tmp_path)


# --- Numbers and money (known answers after CLDR) -----------------------------------------

@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "33,305.2"), ("fi", f"33{NBSP}305,2"), ("sv", f"33{NBSP}305,2"), ("nl", "33.305,2"),
    ("fr", f"33{NNBSP}305,2"), ("de", "33.305,2"), ("xx", "33,305.2"),
])
def test_numbers_as_each_language_writes_them(lang: str, expected: str) -> None:
    assert format_number(33305.2, lang, decimals=1) == expected


@pytest.mark.parametrize(("value", "lang", "decimals", "expected"), [
    (38.0, "en", 0, "+38"),
    (-1.25, "fi", 1, f"{MINUS}1,2"),  # round half to even on the binary value
    (-1.26, "de", 1, f"{MINUS}1,3"),
    (0.0, "en", 0, "±0"),
    (0.04, "nl", 1, "±0,0"),
    (-0.4, "fr", 0, "±0"),
    (1234.5, "fr", 1, f"+1{NNBSP}234,5"),
    (-12400.0, "sv", 0, f"{MINUS}12{NBSP}400"),
])
def test_signed_changes(value: float, lang: str, decimals: int, expected: str) -> None:
    assert format_number(value, lang, decimals=decimals, sign=True) == expected


def test_plain_numbers_edge_cases() -> None:
    assert format_number(999, "de") == "999"
    assert format_number(1000, "fi") == f"1{NBSP}000"
    assert format_number(-3.0, "en") == f"{MINUS}3"
    assert format_number(-0.001, "en", decimals=2) == "0.00"
    assert format_number(1_234_567.891, "nl", decimals=2) == "1.234.567,89"
    assert format_number(math.nan, "en") == "–"
    assert format_number(math.inf, "de", sign=True) == "–"
    with pytest.raises(ValueError, match="decimals"):
        format_number(1.0, "en", decimals=-1)


@pytest.mark.parametrize(("lang", "expected", "negative"), [
    ("en", "€1,200", f"{MINUS}€60"),
    ("fi", f"1{NBSP}200{NBSP}€", f"{MINUS}60{NBSP}€"),
    ("sv", f"1{NBSP}200{NBSP}€", f"{MINUS}60{NBSP}€"),
    ("fr", f"1{NNBSP}200{NBSP}€", f"{MINUS}60{NBSP}€"),
    ("de", f"1.200{NBSP}€", f"{MINUS}60{NBSP}€"),
    ("nl", f"€{NBSP}1.200", f"€{NBSP}{MINUS}60"),
    ("xx", "€1,200", f"{MINUS}€60"),
])
def test_euros_as_each_language_writes_them(lang: str, expected: str, negative: str) -> None:
    assert format_eur(1200, lang) == expected
    assert format_eur(-60.2, lang) == negative


def test_euros_with_cents_and_large_budgets() -> None:
    assert format_eur(250_000, "en") == "€250,000"
    assert format_eur(250_000, "de") == f"250.000{NBSP}€"
    assert format_eur(12.5, "fr", decimals=2) == f"12,50{NBSP}€"
    assert format_eur(0.4, "en") == "€0"
