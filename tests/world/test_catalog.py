"""The intervention catalog: complete, multilingual, checked, with costs and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from world.catalog import CATALOG_PATH, KINDS, LOCALES, load_catalog
from world.errors import CatalogError

REQUIRED_IDS = {
    "tree-small", "tree-medium", "tree-large", "bench", "park", "play-area", "permeable-paving",
    "rain-garden", "green-roof", "bike-lane", "traffic-calming", "noise-barrier", "new-building",
    "remove-building",
}


def test_every_required_intervention_is_there_in_every_language() -> None:
    catalog = load_catalog()
    assert set(catalog.ids()) >= REQUIRED_IDS
    for entry in catalog:
        assert entry.kind in KINDS
        assert set(LOCALES) <= set(entry.name)
        assert len(set(entry.name.values())) >= 3, f"{entry.id} is translated, not copied"


def test_trees_grow_with_their_size() -> None:
    catalog = load_catalog()
    small, medium, large = (catalog[f"tree-{s}"] for s in ("small", "medium", "large"))
    assert small.effect["canopy_radius_m"] < medium.effect["canopy_radius_m"] < large.effect["canopy_radius_m"]
    assert small.effect["height_m"] < medium.effect["height_m"] < large.effect["height_m"]
    assert all(0.0 < t.effect["transmissivity"] < 1.0 for t in (small, medium, large))


def test_costs_scale_with_geometry() -> None:
    catalog = load_catalog()
    lane = shapely.LineString([(0, 0), (100, 0)])
    assert catalog["bike-lane"].cost_eur(lane) == pytest.approx(100 * catalog["bike-lane"].per_m_eur)
    square = shapely.box(0, 0, 10, 20)
    assert catalog["park"].cost_eur(square) == pytest.approx(200 * catalog["park"].per_m2_eur)


def test_refusals_speak_the_citizens_language() -> None:
    catalog = load_catalog()
    assert catalog.refusal("tree-medium", {"sidewalk"}) is None
    assert catalog.refusal("tree-medium", {"sidewalk", "carriageway"}, "en") == "It can't stand on the carriageway."
    assert catalog.refusal("tree-medium", {"carriageway"}, "fi") == "Sitä ei voi sijoittaa ajoradalle."
    assert catalog.refusal("tree-medium", {"carriageway"}, "xx") == "It can't stand on the carriageway."
    assert catalog.refusal("bench", {"cycleway"}, "nl") == "Dit zou het fietspad blokkeren."


def test_geometry_must_suit_the_kind() -> None:
    catalog = load_catalog()
    catalog["bench"].check_geometry(shapely.Point(1, 2))
    catalog["noise-barrier"].check_geometry(shapely.LineString([(0, 0), (5, 0)]))
    with pytest.raises(CatalogError, match="bench is placed with a valid Point, not LineString"):
        catalog["bench"].check_geometry(shapely.LineString([(0, 0), (5, 0)]))
    with pytest.raises(CatalogError, match="no intervention 'fountain'"):
        catalog["fountain"]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('id = "bench"', 'id = "tree-small"', 1), "used twice"),
    (lambda t: t.replace(', fr = "Banc"', '', 1), "no name in fr"),
    (lambda t: t.replace('kind = "line"', 'kind = "curve"', 1), "kind 'curve'"),
    (lambda t: t.replace("effect = { height_m = 3.0 }", "effect = {}", 1), "lacks the effect parameters height_m"),
    (lambda t: t.replace('forbidden = ["building", "carriageway", "water", "cycleway"]',
                         '["building", "lava"]', 1), "not valid TOML"),
    (lambda t: t.replace('forbidden = ["building", "carriageway", "water", "cycleway"]',
                         'forbidden = ["lava"]', 1), "no reason in every locale"),
])
def test_a_broken_catalog_names_the_problem(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "interventions.toml"
    path.write_text(edit(CATALOG_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)
