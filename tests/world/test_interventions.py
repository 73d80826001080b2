"""world.interventions: every catalog entry's effect on the City and its grids, purity,
undo, placement checks with their reasons, the JSON form and its errors, and exact
window re-rasterisation over each footprint."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from world.catalog import LOCALES, load_catalog
from world.city import Area, Building, City, Road, Tree
from world.frame import LocalFrame
from world.interventions import (
    CHANGE_KINDS,
    PARAMS,
    REASONS,
    InterventionError,
    Placed,
    apply,
    apply_all,
    check,
    footprint,
    make_placed,
    parse_placed,
    parse_placed_list,
    placed_to_json,
    snap_roads,
)
from world.raster import (
    DEFAULT_TRAFFIC,
    LAYERS,
    Grids,
    LandCover,
    SurfaceTreatment,
    rasterize,
    rasterize_window,
    road_segments,
)

CATALOG = load_catalog()


def _effect(catalog_id: str, key: str):
    """The catalog's effect value: the tests follow the catalog, not a copy of it."""
    return CATALOG[catalog_id].effect[key]

AREA = (-64.0, -64.0, 84.0, 64.0)
CELL_M = 1.0
LISTS = ("buildings", "roads", "areas", "trees", "barriers", "furniture", "treatments")


def _toy() -> City:
    """Two buildings north of an east-west primary street with a footway beside it, a
    residential cross street, grass in the south-west, water in the south-east, a tree."""
    return City(
        "toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0),
        [Building("b1", shapely.box(10, 10, 30, 30), 12.0, building_type="apartments", levels=4),
         Building("b2", shapely.box(40, 10, 60, 30), 20.0, building_type="office")],
        [Road("r1", shapely.LineString([(-60, 0), (80, 0)]), "primary", "carriageway", 8.0),
         Road("r2", shapely.LineString([(0, -60), (0, -4)]), "residential", "carriageway", 6.0),
         Road("f1", shapely.LineString([(-60, 6), (80, 6)]), "footway", "footway", 3.0),
         Road("c1", shapely.LineString([(-60, -8), (80, -8)]), "cycleway", "cycleway", 2.0)],
        [Area("g1", shapely.box(-60, -60, -20, -20), "grass"), Area("w1", shapely.box(50, -60, 80, -30), "water")],
        [Tree("t0", shapely.Point(-40.0, 30.0), 8.0, 5.0)], [], [])


#: An allowed placement of every catalog entry on the toy city.
GEOMETRY = {
    "tree-small": shapely.Point(-30.0, 30.0),
    "tree-medium": shapely.Point(-30.5, 30.5),
    "tree-large": shapely.Point(-31.0, 30.0),
    "bench": shapely.Point(-30.0, 40.0),
    "park": shapely.box(-60, 20, -20, 60),
    "play-area": shapely.box(-50, -50, -30, -30),
    "permeable-paving": shapely.box(-50, 15, -35, 25),
    "rain-garden": shapely.box(-50, 15, -35, 25),
    "green-roof": shapely.box(12, 12, 28, 28),
    "bike-lane": shapely.LineString([(-40, 1), (40, 1)]),
    "traffic-calming": shapely.LineString([(-40, -1), (40, -1)]),
    "noise-barrier": shapely.LineString([(-40, 12), (-10, 12)]),
    "new-building": shapely.box(-15, 35, -5, 45),
    "remove-building": shapely.box(40, 10, 60, 30),
}


def _placed(catalog_id: str, **params) -> Placed:
    return make_placed(catalog_id, GEOMETRY[catalog_id], params, id=f"{catalog_id}-1")


def _same_grids(a: Grids, b: Grids) -> bool:
    return a.building_ids == b.building_ids and all(
        np.array_equal(getattr(a, name), getattr(b, name)) for name in LAYERS)


def _same_city(a: City, b: City) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in LISTS)


@pytest.fixture(scope="module")
def toy_grids() -> Grids:
    return rasterize(_toy(), AREA, CELL_M)


# --- every entry: allowed, applied without touching the input, window == full -----------

def test_every_catalog_entry_has_a_placement_and_parameters():
    assert set(GEOMETRY) == set(CATALOG.ids())
    assert {e.model for e in CATALOG} <= set(PARAMS)


@pytest.mark.parametrize("catalog_id", CATALOG.ids())
def test_every_entry_applies_purely_and_the_window_update_is_exact(catalog_id, toy_grids):
    city = _toy()
    frozen = pickle.dumps(city)
    placed = _placed(catalog_id)
    assert check(city, toy_grids, placed, CATALOG) is None
    after = apply(city, placed, CATALOG)
    assert pickle.dumps(city) == frozen  # the input City, its lists and features are untouched
    assert all(getattr(after, n) is not getattr(city, n) for n in LISTS)  # fresh lists, shallow copies
    change = footprint(city, after, placed, CATALOG)
    assert change.kinds and change.kinds <= CHANGE_KINDS
    full = rasterize(after, AREA, CELL_M)
    assert _same_grids(rasterize_window(after, toy_grids, change.bbox), full)
    # Undo is symmetric: the reverse footprint brings the grids back.
    back = footprint(after, city, placed, CATALOG)
    assert back == change
    assert _same_grids(rasterize_window(city, full, back.bbox), toy_grids)
    assert _same_city(apply(city, placed, CATALOG), after)  # deterministic


# --- effects ---------------------------------------------------------------------------

@pytest.mark.parametrize("catalog_id", ["tree-small", "tree-medium", "tree-large"])
def test_a_tree_adds_a_crown_of_its_catalog_radius(catalog_id, toy_grids):
    radius_m, transmissivity = _effect(catalog_id, "canopy_radius_m"), _effect(catalog_id, "transmissivity")
    placed = _placed(catalog_id)
    after = apply(_toy(), placed, CATALOG)
    (tree,) = [t for t in after.trees if t.id == f"placed:{placed.id}"]
    assert tree.crown_diameter_m == 2 * radius_m and tree.attributes == {"transmissivity": transmissivity,
                                                                          "placed": placed.id}
    grids = rasterize(after, AREA, CELL_M)
    new = (grids.canopy_m > 0) & (toy_grids.canopy_m == 0)
    rows, cols = np.nonzero(new)
    x, y = placed.geometry.x, placed.geometry.y
    distance = np.hypot(grids.xs[cols] - x, grids.ys[rows] - y)
    assert np.all(distance < radius_m)  # every new canopy cell lies within the radius
    # 1 m cells: the disc's area within a few cells (pixelation of a small disc).
    assert new.sum() == pytest.approx(math.pi * radius_m ** 2, abs=2 * math.pi * radius_m)
    assert np.all(grids.transmissivity[new] == np.float32(transmissivity))


def test_params_override_the_catalog_effect():
    after = apply(_toy(), _placed("tree-medium", height_m=18.0, canopy_radius_m=5.0, species="Tilia cordata"),
                  CATALOG)
    tree = after.trees[-1]
    assert (tree.height_m, tree.crown_diameter_m, tree.species) == (18.0, 10.0, "Tilia cordata")
    building = apply(_toy(), _placed("new-building", height_m=9.0, building_type="school"), CATALOG).buildings[-1]
    assert (building.height_m, building.levels, building.building_type) == (9.0, 3, "school")


def test_bench_seats_people():
    after = apply(_toy(), _placed("bench"), CATALOG)
    (bench,) = after.furniture
    assert (bench.id, bench.furniture_type, bench.seats) == ("placed:bench-1", "bench", _effect("bench", "seats"))
    assert footprint(_toy(), after, _placed("bench"), CATALOG).kinds == {"seats"}


def test_park_is_park_land_with_trees_at_the_catalog_density():
    big = make_placed("park", shapely.box(-200, -200, 0, 0), id="big")
    after = apply(_toy(), big, CATALOG)
    trees = [t for t in after.trees if t.attributes.get("placed") == "big"]
    # 4 ha at the catalog density; the square planting grid rounds to whole rows
    # (13 × 13 for 40 trees/ha), hence the 10 % tolerance.
    assert len(trees) == pytest.approx(4 * _effect("park", "trees_per_ha"), rel=0.10)
    assert all(big.geometry.contains(t.geometry) and t.crown_diameter_m == 2 * _effect("park", "tree_canopy_radius_m")
               and t.height_m == _effect("park", "tree_height_m") for t in trees)
    assert [t.id for t in trees] == [f"placed:big:{k}" for k in range(1, len(trees) + 1)]
    (area,) = [a for a in after.areas if a.id == "placed:big"]
    assert area.area_class == "park"
    small = apply(_toy(), _placed("park"), CATALOG)
    grids = rasterize(small, AREA, CELL_M)
    inside = shapely.contains_xy(GEOMETRY["park"], grids.xs[None, :], grids.ys[:, None])
    assert np.all(grids.landcover[inside] == LandCover.PARK)


def test_play_area_and_rain_garden_are_grass_the_garden_stores_rain():
    grids = rasterize(apply(_toy(), _placed("play-area"), CATALOG), AREA, CELL_M)
    inside = shapely.contains_xy(GEOMETRY["play-area"], grids.xs[None, :], grids.ys[:, None])
    assert np.all(grids.landcover[inside] == LandCover.GRASS)
    after = apply(_toy(), _placed("rain-garden"), CATALOG)
    assert [t.treatment for t in after.treatments] == ["rain_garden"] and after.areas[-1].area_class == "grass"
    grids = rasterize(after, AREA, CELL_M)
    inside = shapely.contains_xy(GEOMETRY["rain-garden"], grids.xs[None, :], grids.ys[:, None])
    assert inside.sum() == 15 * 10
    assert np.all(grids.treatment[inside] == SurfaceTreatment.RAIN_GARDEN)
    assert np.all(grids.storage_mm[inside] == np.float32(_effect("rain-garden", "storage_mm")))
    assert np.all(grids.treatment[~inside] == SurfaceTreatment.NONE)


def test_permeable_paving_marks_its_cells_only():
    grids = rasterize(apply(_toy(), _placed("permeable-paving"), CATALOG), AREA, CELL_M)
    inside = shapely.contains_xy(GEOMETRY["permeable-paving"], grids.xs[None, :], grids.ys[:, None])
    assert np.array_equal(grids.treatment == SurfaceTreatment.PERMEABLE_PAVING, inside)
    assert np.all(grids.landcover[inside] == LandCover.OTHER)


def test_green_roof_marks_treatment_on_exactly_the_buildings_cells(toy_grids):
    placed = _placed("green-roof")
    after = apply(_toy(), placed, CATALOG)
    (roof,) = after.treatments
    assert roof.treatment == "green_roof" and roof.storage_mm == _effect("green-roof", "storage_mm")
    assert roof.geometry.equals(after.buildings[0].footprint)
    grids = rasterize(after, AREA, CELL_M)
    b1 = toy_grids.building_id == toy_grids.building_ids.index("b1")
    assert np.array_equal(grids.treatment == SurfaceTreatment.GREEN_ROOF, b1) and b1.sum() == 400
    by_id = make_placed("green-roof", shapely.box(0, 0, 1, 1), {"building": "b2"}, id="g")
    assert apply(_toy(), by_id, CATALOG).treatments[0].geometry.equals(after.buildings[1].footprint)
    assert footprint(_toy(), after, placed, CATALOG).kinds == {"treatment"}


def test_removed_building_leaves_plaza_cells(toy_grids):
    placed = _placed("remove-building")
    after = apply(_toy(), placed, CATALOG)
    assert [b.id for b in after.buildings] == ["b1"]
    assert after.areas[-1].area_class == "plaza" and after.areas[-1].id == "placed:remove-building-1"
    grids = rasterize(after, AREA, CELL_M)
    was = toy_grids.building_id == toy_grids.building_ids.index("b2")
    assert np.all(grids.landcover[was] == LandCover.PLAZA) and np.all(grids.building_m[was] == 0)
    assert grids.building_ids == ("b1",)
    change = footprint(_toy(), after, placed, CATALOG)
    assert change.buildings == {"b2"} and {"buildings", "surface", "landcover"} <= change.kinds


def test_removing_a_building_takes_its_green_roof_with_it():
    roofed = apply(_toy(), make_placed("green-roof", GEOMETRY["remove-building"], id="g"), CATALOG)
    assert len(roofed.treatments) == 1
    assert apply(roofed, _placed("remove-building"), CATALOG).treatments == []


def test_new_building_is_a_building_of_its_height():
    after = apply(_toy(), _placed("new-building"), CATALOG)
    building = after.buildings[-1]
    height_m = _effect("new-building", "height_m")
    assert (building.id, building.height_m, building.levels, building.building_type) == (
        "placed:new-building-1", height_m, max(1, round(height_m / 3.0)), "apartments")
    grids = rasterize(after, AREA, CELL_M)
    inside = shapely.contains_xy(GEOMETRY["new-building"], grids.xs[None, :], grids.ys[:, None])
    assert np.all(grids.building_m[inside] == np.float32(height_m))
    assert np.all(grids.landcover[inside] == LandCover.BUILDING)


def test_noise_barrier_is_a_barrier_of_the_catalog_height():
    after = apply(_toy(), _placed("noise-barrier"), CATALOG)
    (barrier,) = after.barriers
    assert barrier.height_m == _effect("noise-barrier", "height_m")
    assert barrier.geometry.equals(GEOMETRY["noise-barrier"])
    assert footprint(_toy(), after, _placed("noise-barrier"), CATALOG).kinds == {"barriers"}


def test_bike_lane_and_traffic_calming_scale_the_street_they_follow():
    base = road_segments(_toy())
    day, evening, night, heavy, speed, _ = DEFAULT_TRAFFIC["primary"]
    lane_flow, lane_heavy = _effect("bike-lane", "traffic_flow_factor"), _effect("bike-lane", "heavy_share_factor")
    calm_flow = _effect("traffic-calming", "traffic_flow_factor")
    calm_heavy = _effect("traffic-calming", "heavy_share_factor")
    calm_kmh = _effect("traffic-calming", "speed_kmh")
    lane = apply(_toy(), _placed("bike-lane"), CATALOG)
    assert [r.attributes.get("traffic_flow_factor") for r in lane.roads] == [lane_flow, None, None, None]
    segments = road_segments(lane)
    assert segments.flow_vph[0].tolist() == pytest.approx([lane_flow * day, lane_flow * evening, lane_flow * night],
                                                          rel=1e-12)
    assert np.array_equal(segments.flow_vph[1], base.flow_vph[1])  # the cross street is not followed
    calmed = apply(lane, _placed("traffic-calming"), CATALOG)
    road = calmed.roads[0]
    assert road.maxspeed_kmh == min(calm_kmh, speed) and road.attributes["placed"] == ("bike-lane-1",
                                                                                       "traffic-calming-1")
    segments = road_segments(calmed)
    # Factors multiply: bike lane × calming on the flows and on the heavy share.
    assert segments.flow_vph[0, 0] == pytest.approx(lane_flow * calm_flow * day, rel=1e-12)
    assert segments.heavy_share[0] == pytest.approx(min(1.0, lane_heavy * calm_heavy * heavy), rel=1e-12)
    assert segments.speed_kmh[0] == min(calm_kmh, speed)
    change = footprint(lane, calmed, _placed("traffic-calming"), CATALOG)
    assert change.kinds == {"traffic"} and change.roads == {"r1"}
    assert _toy().roads[0].maxspeed_kmh is None


def test_a_street_intervention_snaps_to_parallel_carriageways_only():
    city = _toy()
    assert snap_roads(city, shapely.LineString([(-40, 1), (40, 1)])) == [0]
    assert snap_roads(city, shapely.LineString([(1, -50), (1, -10)])) == [1]
    assert snap_roads(city, shapely.LineString([(20, -30), (20, 30)])) == []  # across r1
    assert snap_roads(city, shapely.LineString([(-40, 20), (40, 20)])) == []  # 20 m off r1
    with pytest.raises(InterventionError, match="follows no carriageway"):
        apply(city, make_placed("bike-lane", shapely.LineString([(20, -30), (20, 30)])), CATALOG)


def test_building_edit_without_a_building_is_refused():
    with pytest.raises(InterventionError, match="no building lies under it"):
        apply(_toy(), make_placed("green-roof", shapely.box(-50, 40, -45, 45)), CATALOG)
    with pytest.raises(InterventionError, match="no building has the id 'nope'"):
        apply(_toy(), make_placed("remove-building", shapely.box(0, 0, 1, 1), {"building": "nope"}), CATALOG)


# --- apply_all and undo ----------------------------------------------------------------

def test_apply_all_without_an_element_is_its_undo(toy_grids):
    items = [_placed("tree-medium"), _placed("bike-lane"), _placed("remove-building"), _placed("green-roof"),
             _placed("park"), _placed("traffic-calming")]
    base = _toy()
    assert _same_city(apply_all(base, [], CATALOG), base)
    step = base
    for item in items:
        step = apply(step, item, CATALOG)
    everything = apply_all(base, items, CATALOG)
    assert _same_city(step, everything)
    grids = rasterize(everything, AREA, CELL_M)
    for k, item in enumerate(items):
        rest = items[:k] + items[k + 1:]
        without = apply_all(base, rest, CATALOG)
        change = footprint(without, everything, item, CATALOG)
        assert _same_grids(rasterize_window(without, grids, change.bbox), rasterize(without, AREA, CELL_M))
        # Traffic differs on exactly the roads the footprint names.
        a, b = road_segments(without), road_segments(everything)
        differ = {a.ids[i] for i in range(len(a)) if not (np.array_equal(a.flow_vph[i], b.flow_vph[i])
                                                         and a.heavy_share[i] == b.heavy_share[i]
                                                         and a.speed_kmh[i] == b.speed_kmh[i])}
        assert differ == set(change.roads) and (("traffic" in change.kinds) == bool(differ))
    assert _same_city(apply_all(everything, [], CATALOG), everything)


def test_change_kinds_are_those_of_the_simulations():
    from sims.scene import CHANGE_KINDS as SIMULATION_KINDS

    assert CHANGE_KINDS == SIMULATION_KINDS


def test_footprint_of_nothing_is_the_placement_box():
    tree = _placed("tree-small")
    found = footprint(_toy(), _toy(), tree, CATALOG)
    assert found.kinds == frozenset() and found.bbox == (-30.0, 30.0, -30.0, 30.0)


# --- check -----------------------------------------------------------------------------

def test_a_tree_on_the_carriageway_is_refused_with_the_catalogs_reason(toy_grids):
    tree = make_placed("tree-medium", shapely.Point(-30.0, 0.5))
    assert check(_toy(), toy_grids, tree, CATALOG, "en") == "It can't stand on the carriageway."
    assert check(_toy(), toy_grids, tree, CATALOG, "fi") == "Sitä ei voi sijoittaa ajoradalle."
    assert check(_toy(), toy_grids, tree, CATALOG, "xx") == "It can't stand on the carriageway."


@pytest.mark.parametrize(("catalog_id", "geometry", "reason"), [
    ("bench", shapely.Point(-30.0, -8.0), "It would block the cycle path."),
    ("tree-small", shapely.Point(20.0, 20.0), "It can't go inside a building."),
    ("rain-garden", shapely.box(60, -50, 70, -40), "It can't go in the water."),
    ("permeable-paving", shapely.box(-50, -50, -30, -30), "Green ground is already permeable."),
    ("new-building", shapely.box(25, 25, 35, 35), "It can't go inside a building."),
    ("noise-barrier", shapely.LineString([(-30, -2), (-30, 2)]), "It can't stand on the carriageway."),
    ("green-roof", shapely.box(-50, 40, -45, 45), REASONS["no_building"]["en"]),
    ("bike-lane", shapely.LineString([(20, -30), (20, 5)]), REASONS["no_street"]["en"]),
    ("tree-small", shapely.Point(500.0, 0.0), REASONS["outside"]["en"]),
    ("park", shapely.box(-100, 20, -20, 60), REASONS["outside"]["en"]),
])
def test_check_refuses_with_a_reason(catalog_id, geometry, reason, toy_grids):
    assert check(_toy(), toy_grids, make_placed(catalog_id, geometry), CATALOG) == reason


def test_check_refuses_the_wrong_shape_in_every_language(toy_grids):
    wrong = Placed("w", "bike-lane", shapely.Point(-30.0, 30.0))
    for lang in LOCALES:
        assert check(_toy(), toy_grids, wrong, CATALOG, lang) == REASONS["line"][lang]
    with pytest.raises(InterventionError, match="no intervention 'oak'"):
        check(_toy(), toy_grids, Placed("o", "oak", shapely.Point(0, 0)), CATALOG)


def test_every_reason_is_given_in_every_locale():
    for key, texts in REASONS.items():
        assert set(texts) == set(LOCALES), key
        assert all(text.endswith(".") and text[0].isupper() for text in texts.values()), key
        assert len(set(texts.values())) == len(LOCALES), key


# --- JSON form -------------------------------------------------------------------------

_coordinate = st.floats(-5000.0, 5000.0, allow_nan=False)


@st.composite
def _placements(draw) -> Placed:
    catalog_id = draw(st.sampled_from(["tree-medium", "bench", "noise-barrier", "park", "green-roof"]))
    x, y = draw(_coordinate), draw(_coordinate)
    w, h = draw(st.floats(1.0, 200.0)), draw(st.floats(1.0, 200.0))
    geometry = {"tree-medium": shapely.Point(x, y), "bench": shapely.Point(x, y),
                "noise-barrier": shapely.LineString([(x, y), (x + w, y + h), (x + 2 * w, y)])}.get(
        catalog_id, shapely.box(x, y, x + w, y + h))
    params = draw(st.fixed_dictionaries({}, optional={
        "tree-medium": {"height_m": st.floats(1.0, 60.0), "species": st.text(min_size=1, max_size=20)},
        "bench": {"seats": st.integers(1, 20)}, "noise-barrier": {"height_m": st.floats(0.5, 10.0)},
        "park": {"trees_per_ha": st.floats(0.0, 400.0)}, "green-roof": {"storage_mm": st.floats(0.0, 1000.0)},
    }[catalog_id]))
    ident = draw(st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
    return make_placed(catalog_id, geometry, params, id=ident)


@settings(max_examples=60, deadline=None)
@given(placed=_placements())
def test_json_round_trip(placed):
    text = json.dumps(placed_to_json(placed))
    assert parse_placed(json.loads(text)) == placed
    assert parse_placed_list(f"[{text}]") == [placed]
    # The content id is stable: the same placement without an id gets the same one back.
    anonymous = {k: v for k, v in json.loads(text).items() if k != "id"}
    assert parse_placed(anonymous).id == parse_placed(json.loads(json.dumps(anonymous))).id


def test_content_ids_are_stable_and_tell_placements_apart():
    raw = {"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [1.5, 2.0]}}
    first = parse_placed(raw)
    assert first.id == parse_placed(dict(raw)).id and len(first.id) == 16
    assert first.id != parse_placed({**raw, "params": {"height_m": 12}}).id
    assert first.id != parse_placed({**raw, "catalog": "tree-small"}).id
    assert parse_placed({**raw, "id": "mine"}).id == "mine"
    assert len(parse_placed_list({"interventions": [raw, {**raw, "id": "other"}]})) == 2


_POINT = {"type": "Point", "coordinates": [0.0, 0.0]}


@pytest.mark.parametrize(("raw", "message"), [
    ({"catalog": "oak", "geometry": _POINT}, "intervention 3: the catalog has no intervention 'oak'."),
    ({"catalog": "bike-lane", "geometry": _POINT},
     "intervention 3: geometry is a Point, bike-lane needs a LineString."),
    ({"catalog": "bench", "geometry": {"type": "Point", "coordinates": [float("nan"), 0.0]}},
     "intervention 3: the coordinate nan is not a finite number."),
    ({"catalog": "bench", "geometry": {"type": "Point", "coordinates": [0.0, float("inf")]}},
     "intervention 3: the coordinate inf is not a finite number."),
    ({"catalog": "bench", "geometry": {"type": "Point", "coordinates": [1e9, 0.0]}}, "more than 100 km"),
    ({"catalog": "bench", "geometry": {"type": "Point", "coordinates": [True, 0.0]}}, "a position must be [x, y]"),
    ({"catalog": "tree-medium", "geometry": _POINT, "params": {"height_m": "tall"}},
     "intervention 3: parameter height_m must be a number from 1 to 60 m, not 'tall'."),
    ({"catalog": "bench", "geometry": _POINT, "params": {"seats": 2.5}}, "parameter seats must be a whole number"),
    ({"catalog": "bench", "geometry": _POINT, "params": {"colour": "red"}},
     "intervention 3: bench takes no parameter 'colour' (it takes seats)."),
    ({"catalog": "play-area", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]},
      "params": {"x": 1}}, "play-area takes no parameter 'x' (it takes none)."),
    ({"catalog": "bench", "geometry": _POINT, "params": [1]}, "params must be an object, not list."),
    ({"catalog": "park", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2]]]}},
     "intervention 3: the Polygon is not a valid Polygon or MultiPolygon (Self-intersection"),
    ({"catalog": "park", "geometry": {"type": "Circle", "coordinates": [0, 0]}}, "geometry type 'Circle' is not"),
    ({"catalog": "bench", "geometry": "POINT (0 0)"}, "geometry must be an object with 'type' and 'coordinates'."),
    ({"catalog": "bench"}, "geometry must be an object"),
    ({"geometry": _POINT}, "'catalog' must be a catalog id"),
    ({"catalog": "bench", "geometry": _POINT, "id": "has space"}, "the id 'has space' must be 1 to 64"),
    ({"catalog": "bench", "geometry": _POINT, "id": 7}, "the id must be a text, not int."),
    ({"catalog": "bench", "geometry": _POINT, "title": "x"}, "unknown field 'title'"),
    (["bench"], "intervention 3: expected an object with catalog, geometry and params, not list."),
])
def test_bad_placements_raise_one_clear_sentence(raw, message):
    with pytest.raises(InterventionError) as caught:
        parse_placed(raw, index=3)
    assert message in str(caught.value)
    assert str(caught.value).endswith(".") and "\n" not in str(caught.value)


def test_bad_lists_are_refused():
    item = {"catalog": "bench", "geometry": _POINT, "id": "same"}
    with pytest.raises(InterventionError, match="intervention 2: the id 'same' is used twice"):
        parse_placed_list([item, item])
    with pytest.raises(InterventionError, match="not valid JSON"):
        parse_placed_list("[{")
    with pytest.raises(InterventionError, match="must be a list"):
        parse_placed_list({"catalog": "bench"})
    with pytest.raises(InterventionError, match=r"intervention 'p' \(bench\): parameter seats must be"):
        apply(_toy(), Placed("p", "bench", shapely.Point(0, 0), {"seats": -1}), CATALOG)


# --- Hypothesis: random small placements keep the window update exact ------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(catalog_id=st.sampled_from(["tree-small", "tree-large", "rain-garden", "permeable-paving", "play-area",
                                   "new-building", "park", "green-roof", "remove-building"]),
       x=st.floats(-60.0, 70.0), y=st.floats(-60.0, 50.0), w=st.floats(1.0, 30.0), h=st.floats(1.0, 30.0))
def test_window_update_is_exact_wherever_it_is_placed(catalog_id, x, y, w, h, toy_grids):
    geometry = shapely.Point(x, y) if catalog_id.startswith("tree") else shapely.box(x, y, x + w, y + h)
    placed = make_placed(catalog_id, geometry)
    city = _toy()
    try:
        after = apply(city, placed, CATALOG)
    except InterventionError:  # a building edit with no building under it
        assert catalog_id in ("green-roof", "remove-building")
        assert check(city, toy_grids, placed, CATALOG) in (REASONS["no_building"]["en"], REASONS["outside"]["en"])
        return
    change = footprint(city, after, placed, CATALOG)
    assert _same_grids(rasterize_window(after, toy_grids, change.bbox), rasterize(after, AREA, CELL_M))


# --- Helsinki --------------------------------------------------------------------------

SCENARIO = (-500.0, -500.0, 500.0, 500.0)


@pytest.fixture(scope="module")
def helsinki_grids(helsinki_city) -> Grids:
    return rasterize(helsinki_city, SCENARIO)


def _helsinki_street(city: City) -> Road:
    return next(r for r in city.roads if r.surface == "carriageway" and isinstance(r.geometry, shapely.LineString)
                and r.geometry.length > 80 and shapely.box(-300, -300, 300, 300).contains(r.geometry))


def test_helsinki_tree_on_a_street_is_refused(helsinki_city, helsinki_grids):
    street = _helsinki_street(helsinki_city)
    tree = make_placed("tree-medium", street.geometry.interpolate(0.5, normalized=True))
    assert check(helsinki_city, helsinki_grids, tree, CATALOG, "fi") == "Sitä ei voi sijoittaa ajoradalle."


def test_helsinki_bike_lane_follows_the_street_it_is_drawn_on(helsinki_city, helsinki_grids):
    from shapely.ops import substring

    street = _helsinki_street(helsinki_city)
    drawn = substring(street.geometry, 10.0, street.geometry.length - 10.0).offset_curve(1.5)
    lane = make_placed("bike-lane", drawn)
    assert check(helsinki_city, helsinki_grids, lane, CATALOG) is None
    after = apply(helsinki_city, lane, CATALOG)
    change = footprint(helsinki_city, after, lane, CATALOG)
    assert street.id in change.roads and change.kinds == {"traffic"}
    before, now = road_segments(helsinki_city), road_segments(after)
    k = before.ids.index(street.id)
    factor = _effect("bike-lane", "traffic_flow_factor")
    assert now.flow_vph[k].tolist() == pytest.approx((before.flow_vph[k] * factor).tolist(), rel=1e-12)
    changed = {i for i in range(len(before)) if not np.array_equal(before.flow_vph[i], now.flow_vph[i])}
    assert changed == {before.ids.index(r) for r in change.roads}


def test_helsinki_remove_building_and_green_roof_update_exactly(helsinki_city, helsinki_grids):
    ids = helsinki_grids.building_ids
    victim, roofed = ids[len(ids) // 3], ids[len(ids) // 2]
    by_id = {b.id: b for b in helsinki_city.buildings}
    items = [make_placed("remove-building", by_id[victim].footprint, {"building": victim}, id="rm"),
             make_placed("green-roof", by_id[roofed].footprint, {"building": roofed}, id="gr"),
             make_placed("tree-large", by_id[victim].footprint.representative_point(), id="tr")]
    city, grids = helsinki_city, helsinki_grids
    for item in items:
        after = apply(city, item, CATALOG)
        grids = rasterize_window(after, grids, footprint(city, after, item, CATALOG).bbox)
        city = after
    assert _same_grids(grids, rasterize(city, SCENARIO))
    assert victim not in grids.building_ids
    cells = grids.building_id == grids.building_ids.index(roofed)
    assert np.array_equal(grids.treatment == SurfaceTreatment.GREEN_ROOF, cells)
    assert np.all(grids.landcover[helsinki_grids.building_id == ids.index(victim)] == LandCover.PLAZA)
    assert len(helsinki_city.treatments) == 0 and victim in {b.id for b in helsinki_city.buildings}
    # Undo the removal: replaying the rest gives the city back its building.
    undone = apply_all(helsinki_city, items[1:], CATALOG)
    change = footprint(undone, city, items[0], CATALOG)
    assert change.buildings == {victim}
    assert _same_grids(rasterize_window(undone, grids, change.bbox), rasterize(undone, SCENARIO))

