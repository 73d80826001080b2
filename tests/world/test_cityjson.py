"""The CityJSON importer: real 3D BAG and Delft data, the conformance corpus, and edge cases.

Expected numbers are counted from the JSON itself wherever possible, never copied from
the importer's output.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from world.city import Building, SourceData
from world.cityjson import _vertex_array, read_cityjson
from world.errors import CrsError, SourceError

DATA = Path(__file__).resolve().parents[1] / "data" / "cityjson"
MULTI_LOD = DATA / "multi_lod.json"
DELFT = DATA / "delft.json"
CORPUS = DATA / "corpus"
RD_NEW = "EPSG:28992"
RD_URL = "https://www.opengis.net/def/crs/EPSG/0/7415"


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(folder: Path, document: Any, name: str = "test.city.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _box(x: float, y: float, z: float, w: float, d: float, h: float, first: int,
         semantics: bool = True) -> tuple[list[list[float]], dict[str, Any]]:
    """Vertices and an outward-oriented Solid of an axis-aligned box, indices from ``first``."""
    vertices = [[x, y, z], [x + w, y, z], [x + w, y + d, z], [x, y + d, z],
                [x, y, z + h], [x + w, y, z + h], [x + w, y + d, z + h], [x, y + d, z + h]]
    faces = [[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]]
    geometry: dict[str, Any] = {"type": "Solid", "lod": "1.2",
                                "boundaries": [[[[first + i for i in face]] for face in faces]]}
    if semantics:
        geometry["semantics"] = {
            "surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
            "values": [[0, 1, 2, 2, 2, 2]]}
    return vertices, geometry


def _document(objects: dict[str, Any], vertices: list[list[float]], **extra: Any) -> dict[str, Any]:
    """A CityJSON 2.0 document in RD New with an identity transform."""
    document = {"type": "CityJSON", "version": "2.0",
                "transform": {"scale": [1.0, 1.0, 1.0], "translate": [0.0, 0.0, 0.0]},
                "metadata": {"referenceSystem": RD_URL}, "CityObjects": objects, "vertices": vertices}
    document.update(extra)
    return document


def _summary(source: SourceData) -> dict[str, Any]:
    """What must not change between two encodings of the same buildings."""
    return {b.id: (b.height_m, b.part_ids, b.attributes["lod"], round(b.footprint.area, 6),
                   [(s.kind, [r.tolist() for r in s.rings]) for s in b.surfaces]) for b in source.buildings}


def _roof_z(building: Building) -> np.ndarray:
    return np.concatenate([r[:, 2] for s in building.surfaces if s.kind == "roof" for r in s.rings])


# --- multi_lod.json: ten real 3D BAG buildings with LoD 1.2, 1.3 and 2.2 -------------------------------

def test_multi_lod_has_one_building_per_top_level_building() -> None:
    document = _json(MULTI_LOD)
    expected = {f"cj:{k}" for k, o in document["CityObjects"].items()
                if o["type"] == "Building" and not o.get("parents")}
    source = read_cityjson(MULTI_LOD, crs=RD_NEW)
    assert {b.id for b in source.buildings} == expected
    assert len(source.buildings) == len(expected)
    assert source.crs == RD_NEW and source.format == "cityjson"
    assert "3D BAG" in source.attribution  # the attributes are 3D BAG's (tudelft3d-geoflow)


def test_lod_2_2_picks_sloped_roofs_with_semantics() -> None:
    document = _json(MULTI_LOD)
    source = read_cityjson(MULTI_LOD, lod=2.2, crs=RD_NEW)
    for building in source.buildings:
        assert building.attributes["lod"] == "2.2" and building.height_source == "cityjson-lod2.2"
        obj = document["CityObjects"][building.id[3:]]
        lod22 = next(g for g in obj["geometry"] if g["lod"] == "2.2")
        assert len(building.surfaces) <= sum(len(shell) for shell in lod22["boundaries"])
        assert {s.kind for s in building.surfaces} >= {"roof", "wall", "ground"}
    assert any(np.ptp(_roof_z(b)) > 0.5 for b in source.buildings)  # some roofs slope


def test_lod_1_2_picks_flat_roofs() -> None:
    source = read_cityjson(MULTI_LOD, lod=1.2, crs=RD_NEW)
    for building in source.buildings:
        assert building.attributes["lod"] == "1.2"
        assert np.ptp(_roof_z(building)) == 0.0  # LoD 1.2: one roof height per building


@pytest.mark.parametrize(("wanted", "picked"), [(1.0, "1.2"), (0.0, "1.2"), (1.3, "1.3"), (2.0, "1.3"),
                                                (2.2, "2.2"), (3.0, "2.2")])
def test_lod_selection_takes_highest_not_above_else_lowest(wanted: float, picked: str) -> None:
    source = read_cityjson(MULTI_LOD, lod=wanted, crs=RD_NEW)
    assert {b.attributes["lod"] for b in source.buildings} == {picked}


def test_multi_lod_geometry_matches_the_json() -> None:
    document = _json(MULTI_LOD)
    transform = document["transform"]
    vertices = np.array(document["vertices"]) * transform["scale"] + transform["translate"]
    source = read_cityjson(MULTI_LOD, crs=RD_NEW)
    lows = []
    for building in source.buildings:
        obj = document["CityObjects"][building.id[3:]]
        lod22 = next(g for g in obj["geometry"] if g["lod"] == "2.2")
        used = sorted({i for shell in lod22["boundaries"] for surface in shell for ring in surface
                       for i in ring})
        z = vertices[used, 2]
        assert building.height_m == pytest.approx(z.max() - z.min(), abs=1e-9)
        lows.append(z.min())
        semantics = lod22["semantics"]
        grounds = [shapely.Polygon(vertices[surface[0], :2]) for surface, value
                   in zip(lod22["boundaries"][0], semantics["values"][0], strict=True)
                   if value is not None and semantics["surfaces"][value]["type"] == "GroundSurface"]
        expected = shapely.union_all(grounds)
        assert building.footprint.is_valid and building.footprint.area > 5.0
        assert building.footprint.symmetric_difference(expected).area < 1e-6
        assert building.min_height_m == 0.0 and building.building_type == "yes"
        assert building.attributes["identificatie"] == obj["attributes"]["identificatie"]
        for surface in building.surfaces:
            for ring in surface.rings:
                assert ring.dtype == np.float64 and ring.ndim == 2 and ring.shape[1] == 3
                assert len(ring) >= 3 and not np.array_equal(ring[0], ring[-1])
    assert source.base_z_m == pytest.approx(float(np.median(lows)))


def test_cityjson_1_1_reads_like_2_0(tmp_path: Path) -> None:
    document = _json(MULTI_LOD)
    document["version"] = "1.1"
    older = read_cityjson(_write(tmp_path, document), crs=RD_NEW)
    assert _summary(older) == _summary(read_cityjson(MULTI_LOD, crs=RD_NEW))


def _reindexed(node: Any, mapping: dict[int, int]) -> Any:
    return [_reindexed(n, mapping) for n in node] if isinstance(node, list) else mapping[node]


def _indices(node: Any) -> set[int]:
    return set().union(*(_indices(n) for n in node)) if isinstance(node, list) else {node}


def test_cityjsonseq_reads_like_the_whole_file(tmp_path: Path) -> None:
    document = _json(MULTI_LOD)
    header = {"type": "CityJSON", "version": "2.0", "transform": document["transform"],
              "CityObjects": {}, "vertices": []}
    lines = [json.dumps(header)]
    for object_id, obj in document["CityObjects"].items():
        used = sorted(set().union(*(_indices(g["boundaries"]) for g in obj["geometry"])))
        mapping = {old: new for new, old in enumerate(used)}
        feature_obj = copy.deepcopy(obj)
        for geometry in feature_obj["geometry"]:
            geometry["boundaries"] = _reindexed(geometry["boundaries"], mapping)
        lines.append(json.dumps({"type": "CityJSONFeature", "id": object_id,
                                 "CityObjects": {object_id: feature_obj},
                                 "vertices": [document["vertices"][i] for i in used]}))
    path = tmp_path / "multi_lod.city.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for lod in (1.2, 2.2):
        streamed = read_cityjson(path, lod=lod, crs=RD_NEW)
        assert _summary(streamed) == _summary(read_cityjson(MULTI_LOD, lod=lod, crs=RD_NEW))


def test_cityjsonseq_rejects_bad_features(tmp_path: Path) -> None:
    header = json.dumps({"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []})
    feature = {"type": "CityJSONFeature", "id": "a", "CityObjects": {"a": {"type": "Building"}},
               "vertices": []}
    cases = {
        "unresolved root id": dict(feature, id="b"),
        "not a feature": dict(feature, type="CityJSON"),
        "no CityObjects": {k: v for k, v in feature.items() if k != "CityObjects"},
    }
    for problem, bad in cases.items():
        path = tmp_path / "bad.city.jsonl"
        path.write_text(f"{header}\n{json.dumps(feature)}\n{json.dumps(bad)}\n", encoding="utf-8")
        with pytest.raises(SourceError, match=r"^bad\.city\.jsonl: ") as caught:
            read_cityjson(path, crs=RD_NEW)
        assert "line 3" in str(caught.value) or problem == "no CityObjects"
    path.write_text(f"{header}\n{json.dumps(feature)}\n{json.dumps(feature)}\n", encoding="utf-8")
    with pytest.raises(SourceError, match="appears twice"):
        read_cityjson(path, crs=RD_NEW)


# --- delft.json: a Delft block in LoD1 with roads and land use (EPSG:7415) ----------------------------

def test_delft_counts_match_the_json() -> None:
    types = Counter(o["type"] for o in _json(DELFT)["CityObjects"].values())
    source = read_cityjson(DELFT)
    assert source.crs == RD_NEW  # EPSG:7415 = RD New + NAP; the horizontal part
    assert len(source.buildings) == types["Building"]
    assert len(source.roads) == types["Road"]
    # Bridges are not modelled; every other surface object here has an outline seen from above.
    assert len(source.areas) == types["PlantCover"] + types["LandUse"] + types["WaterBody"] + \
        types["GenericCityObject"]
    classes = Counter(a.area_class for a in source.areas)
    assert classes["water"] == types["WaterBody"] and classes["grass"] == types["PlantCover"]
    assert not source.trees
    assert all(r.geometry.is_valid and r.geometry.area > 0 and r.surface == "carriageway"
               for r in source.roads)
    assert all(b.footprint.is_valid and b.height_m > 0 and b.attributes["lod"] == "1"
               for b in source.buildings)
    assert source.base_z_m is not None and -5.0 < source.base_z_m < 5.0


def test_delft_imports_fast() -> None:
    best = min(_timed(lambda: read_cityjson(DELFT)) for _ in range(3))
    assert best < 1.0, f"delft.json took {best:.3f} s"


def _timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# --- the conformance corpus ---------------------------------------------------------------------------

def _cases(folder: str) -> list[Path]:
    return sorted(p for p in (CORPUS / folder).iterdir() if (p / "invariants.json").exists())


def _fixture(case: Path) -> Path:
    invariants = _json(case / "invariants.json")
    if "fixture" in invariants:
        return case / invariants["fixture"]
    return next(p for p in case.iterdir() if p.name.endswith((".city.json", ".city.jsonl")))


#: (buildings, roads, areas, trees) expected from each v2_0 case, worked out from its JSON.
EXPECTED_COUNTS = {
    "appearance_complete": (2, 0, 0, 0),          # two horizontal squares; appearance not modelled
    "cityjson_fake_complete": (1, 0, 0, 1),       # orphan BuildingPart; tree from a GeometryInstance
    "geometry_material_multisolid": (0, 0, 1, 0),  # GenericCityObjects with area seen from above
    "geometry_material_multisurface": (0, 0, 1, 0),
    "geometry_material_solid": (0, 0, 1, 0),
    "geometry_semantics_multisolid": (0, 0, 1, 0),
    "geometry_semantics_solid": (0, 0, 1, 0),
    # every other case has no surface with an area: no geometry at all, points or lines
    # only, or (semantic_*, geometry_texture_*, geometry_semantics_multisurface) vertices
    # that all lie on one line, so their polygons are degenerate and dropped.
}

#: What each corpus check id means for an importer, which has no writer: roundtrip,
#: appearance, material, texture, metadata and extension checks are about data it does not
#: model, so for those the test asserts acceptance only (the file imports).
CHECKS_ASSERTED = {
    "vertex_indices_preserved", "coordinates_precision_roundtrip", "transform_preserved",
    "coordinates_preserved", "cityobject_hierarchy_resolved", "geometry_instance_resolved",
    "feature_boundaries_preserved", "missing_geometry_member", "empty_geometry_member",
    "semantic_surface_preserved", "metadata_properties_preserved",
}


@pytest.mark.parametrize("case", _cases("v2_0"), ids=lambda p: p.name)
def test_conformance_case(case: Path) -> None:
    invariants = _json(case / "invariants.json")
    assert invariants.get("expected_result", "accept") != "reject" and invariants["kind"] == "positive"
    fixture = _fixture(case)
    checks = {c["id"] for c in invariants["checks"]}
    first = json.loads(fixture.read_text(encoding="utf-8").split("\n\n")[0])
    if "referenceSystem" in first.get("metadata", {}):
        source = read_cityjson(fixture)
    else:  # most cases have no CRS: refused without one, read with one supplied
        with pytest.raises(CrsError, match=r"has no metadata\.referenceSystem; pass --crs"):
            read_cityjson(fixture)
        source = read_cityjson(fixture, crs=RD_NEW)
    counts = (len(source.buildings), len(source.roads), len(source.areas), len(source.trees))
    assert counts == EXPECTED_COUNTS.get(case.name, (0, 0, 0, 0))
    for feature in source.features():
        assert feature.geometry.is_valid and not feature.geometry.is_empty
    if checks & {"vertex_indices_preserved", "coordinates_precision_roundtrip", "coordinates_preserved"}:
        _check_vertex_precision(fixture)
    if "metadata_properties_preserved" in checks:  # the parts an importer uses: CRS and credit
        assert source.crs == "EPSG:2355" and first["metadata"]["title"] in source.attribution


def _check_vertex_precision(fixture: Path) -> None:
    """Decoded vertices: one per stored vertex, within 0.1 mm of exact decimal arithmetic."""
    exact = json.loads(fixture.read_text(encoding="utf-8"), parse_float=Decimal)
    scale = [Decimal(v) for v in exact["transform"]["scale"]]
    translate = [Decimal(v) for v in exact["transform"]["translate"]]
    plain = _json(fixture)
    decoded = _vertex_array(plain["vertices"], np.array(plain["transform"]["scale"], dtype=float),
                            np.array(plain["transform"]["translate"], dtype=float), fixture.name, "the file")
    assert decoded.shape == (len(exact["vertices"]), 3)
    for row, stored in zip(decoded, exact["vertices"], strict=True):
        for value, v, s, t in zip(row, stored, scale, translate, strict=True):
            assert abs(Decimal(float(value)) - (Decimal(v) * s + t)) < Decimal("1e-4")


def test_every_corpus_check_is_accounted_for() -> None:
    """New check ids must be sorted into asserted or not-modelled by whoever adds them."""
    not_modelled = {
        "appearance_preserved", "default_material_texture_set", "multiple_material_texture_set",
        "material_assignment", "roundtrip_stable_with_extra_members", "roundtrip_stable",
        "full_surface_roundtrip", "building_address_preserved", "address_location_resolved",
        "cityobject_structure_preserved", "cityobject_extension_type_preserved",
        "cityobject_extension_members_preserved", "extension_member_preserved",
        "geometry_instance_preserved", "geometry_material_preserved", "geometry_semantics_preserved",
        "geometry_texture_preserved", "metadata_extra_properties_preserved", "semantic_hierarchy_resolved",
        "semantic_attributes_resolved", "semantic_extension_type_preserved",
        "semantic_extension_properties_preserved", "semantic_extension_members_preserved",
    }
    seen = {c["id"] for case in _cases("v2_0") for c in _json(case / "invariants.json")["checks"]}
    assert seen <= CHECKS_ASSERTED | not_modelled, seen - CHECKS_ASSERTED - not_modelled


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: p.name)
def test_invalid_case_is_rejected(case: Path) -> None:
    assert _json(case / "invariants.json")["expected_result"] == "reject"
    fixture = _fixture(case)
    for crs in (None, RD_NEW):  # a broken file is reported as broken, CRS or not
        with pytest.raises(SourceError, match=rf"^{fixture.name}: "):
            read_cityjson(fixture, crs=crs)


def test_fake_complete_hierarchy_and_instance() -> None:
    fixture = CORPUS / "v2_0" / "cityjson_fake_complete" / "cityjson_fake_complete.city.json"
    source = read_cityjson(fixture)
    (building,) = source.buildings
    assert building.id == "cj:id-1" and building.part_ids == ()  # its parent is a +NoiseBuilding
    assert building.attributes["lod"] == "2.1" and building.attributes["roofType"] == "gable"
    (tree,) = source.trees
    # template vertices × 2 (the matrix) + reference vertex 1 (11, 910, 43)
    assert (tree.geometry.x, tree.geometry.y) == pytest.approx((11 + 4.2 / 2, 910 + 1 + 7.4 / 2))
    assert tree.height_m == pytest.approx(2.4) and tree.crown_diameter_m == pytest.approx(7.4)


def test_semantic_types_map_to_surface_kinds(tmp_path: Path) -> None:
    document = _json(CORPUS / "v2_0" / "semantic_all_types" / "semantic_all_types.city.json")
    document["vertices"] = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]  # a real triangle, facing up
    document["CityObjects"]["fixture"]["type"] = "Building"
    (building,) = read_cityjson(_write(tmp_path, document), crs=RD_NEW).buildings
    semantics = document["CityObjects"]["fixture"]["geometry"][0]["semantics"]
    expected = [{"RoofSurface": "roof", "WallSurface": "wall", "GroundSurface": "ground"}.get(
        semantics["surfaces"][v]["type"], "other") if v is not None else "roof" for v in semantics["values"]]
    assert [s.kind for s in building.surfaces] == expected


# --- synthetic files ----------------------------------------------------------------------------------

def test_building_parts_and_installations_join_their_building(tmp_path: Path) -> None:
    v1, g1 = _box(0, 0, 0, 10, 10, 6, 0)
    v2, g2 = _box(10, 0, 0, 5, 10, 9, 8)
    v3, g3 = _box(0, 0, 6, 1, 1, 1, 16, semantics=False)
    v4, g4 = _box(50, 50, 1, 4, 4, 3, 24)
    objects = {
        "b": {"type": "Building", "children": ["p1", "p2"], "attributes": {"function": "school",
                                                                           "storeysAboveGround": 3}},
        "p1": {"type": "BuildingPart", "parents": ["b"], "geometry": [g1]},
        "p2": {"type": "BuildingPart", "parents": ["b"], "children": ["chimney"], "geometry": [g2]},
        "chimney": {"type": "BuildingInstallation", "parents": ["p2"], "geometry": [g3]},
        "lonely": {"type": "BuildingPart", "geometry": [g4]},
        "room": {"type": "BuildingRoom", "parents": ["b"], "geometry": [g4]},
    }
    source = read_cityjson(_write(tmp_path, _document(objects, v1 + v2 + v3 + v4)))
    by_id = {b.id: b for b in source.buildings}
    assert set(by_id) == {"cj:b", "cj:lonely"}
    school = by_id["cj:b"]
    assert school.part_ids == ("cj:p1", "cj:p2", "cj:chimney")
    assert len(school.surfaces) == 18 and school.footprint.area == pytest.approx(150.0)
    assert school.height_m == pytest.approx(9.0) and school.building_type == "school" and school.levels == 3
    assert by_id["cj:lonely"].height_m == pytest.approx(3.0) and source.base_z_m == pytest.approx(0.5)


def test_surfaces_without_semantics_are_classified_by_normal(tmp_path: Path) -> None:
    vertices, geometry = _box(100, 200, 5, 2, 3, 4, 0, semantics=False)
    source = read_cityjson(_write(tmp_path, _document({"b": {"type": "Building", "geometry": [geometry]}},
                                                      vertices)))
    (building,) = source.buildings
    assert Counter(s.kind for s in building.surfaces) == {"wall": 4, "roof": 1, "ground": 1}
    assert building.footprint.equals(shapely.box(100, 200, 102, 203))
    assert building.height_m == 4.0 and building.height_source == "cityjson-lod1.2"


def test_degenerate_rings_and_polygons_are_dropped(tmp_path: Path) -> None:
    vertices = [[0, 0, 0], [4, 0, 0], [4, 4, 0], [0, 4, 0], [1, 1, 0], [2, 1, 0], [3, 1, 0], [5, 5, 5]]
    surfaces = [
        [[0, 1, 1, 2, 3, 0], [4, 5, 6]],  # repeated and closing vertices; a hole on one line
        [[0, 1, 0]],                      # two distinct points
        [[4, 5, 6]],                      # three points on one line: zero area
        [[7, 7, 7, 7]],
    ]
    geometry = {"type": "MultiSurface", "lod": "2", "boundaries": surfaces}
    source = read_cityjson(_write(tmp_path, _document({"b": {"type": "Building", "geometry": [geometry]}},
                                                      vertices)))
    (surface,) = source.buildings[0].surfaces
    (ring,) = surface.rings
    assert ring.tolist() == [[0, 0, 0], [4, 0, 0], [4, 4, 0], [0, 4, 0]]


def test_roads_areas_trees_and_ignored_types(tmp_path: Path) -> None:
    square = {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2, 3]]]}
    objects = {
        "road": {"type": "Road", "geometry": [square], "attributes": {"function": "voetpad"}},
        "park": {"type": "LandUse", "geometry": [square], "attributes": {"function": "park"}},
        "parking": {"type": "LandUse", "geometry": [square], "attributes": {"class": "parkeervlak"}},
        "yard": {"type": "LandUse", "geometry": [square], "attributes": {"bgt_fysiekvoorkomen": "erf"}},
        "wood": {"type": "PlantCover", "geometry": [square], "attributes": {"class": "loofbos"}},
        "lawn": {"type": "PlantCover", "geometry": [square]},
        "pond": {"type": "WaterBody", "geometry": [square]},
        "square": {"type": "TransportSquare", "geometry": [square]},
        "rail": {"type": "Railway", "geometry": [square]},
        "bridge": {"type": "Bridge", "geometry": [square]},
        "group": {"type": "CityObjectGroup", "children": ["road"], "geometry": [square]},
    }
    vertices = [[0, 0, 1], [10, 0, 1], [10, 5, 1], [0, 5, 1]]
    source = read_cityjson(_write(tmp_path, _document(objects, vertices)))
    (road,) = source.roads
    assert road.id == "cj:road" and road.geometry.area == 50.0 and road.attributes["function"] == "voetpad"
    classes = {a.id[3:]: a.area_class for a in source.areas}
    assert classes == {"park": "park", "parking": "parking", "yard": "other", "wood": "forest",
                       "lawn": "grass", "pond": "water", "square": "plaza"}
    assert not source.buildings and not source.trees and source.base_z_m is None


def test_geographic_crs_is_projected_to_utm(tmp_path: Path) -> None:
    lon, lat, step = 24.94, 60.17, 0.0001
    vertices, geometry = _box(lon, lat, 10, step, step, 12, 0)
    document = _document({"b": {"type": "Building", "geometry": [geometry]}}, vertices)
    document["metadata"]["referenceSystem"] = "https://www.opengis.net/def/crs/EPSG/0/4326"
    source = read_cityjson(_write(tmp_path, document))
    assert source.crs == "EPSG:32635"
    (building,) = source.buildings
    ring = np.array(vertices[:4])
    geodesic_m2, _ = Geod(ellps="WGS84").polygon_area_perimeter(ring[:, 0], ring[:, 1])
    assert building.footprint.area == pytest.approx(abs(geodesic_m2), rel=1e-3)  # UTM scale ≈ 0.9996
    assert building.height_m == pytest.approx(12.0) and 300_000 < building.footprint.bounds[0] < 500_000


def test_crs_argument_only_supplies_a_missing_crs(tmp_path: Path) -> None:
    assert read_cityjson(DELFT, crs="EPSG:3067").crs == RD_NEW  # the file's own CRS wins
    assert read_cityjson(MULTI_LOD, crs="urn:ogc:def:crs:EPSG::7415").crs == RD_NEW
    with pytest.raises(CrsError, match=r"^multi_lod\.json: has no metadata\.referenceSystem"):
        read_cityjson(MULTI_LOD)
    with pytest.raises(CrsError, match=r"^multi_lod\.json: "):
        read_cityjson(MULTI_LOD, crs="EPSG:999999")
    document = _document({}, [])
    document["metadata"]["referenceSystem"] = "https://www.opengis.net/def/crs/EPSG/0/4978"  # geocentric
    with pytest.raises(CrsError, match=r"^test\.city\.json: "):
        read_cityjson(_write(tmp_path, document))


def _broken_documents() -> dict[str, str]:
    vertices, geometry = _box(0, 0, 0, 1, 1, 1, 0)
    good = _document({"b": {"type": "Building", "geometry": [geometry]}}, vertices)

    def variant(change: Any) -> str:
        document = copy.deepcopy(good)
        change(document)
        return json.dumps(document)

    building = lambda d: d["CityObjects"]["b"]  # noqa: E731
    return {
        "empty": "",
        "not json": "{\"type\": \"CityJSON\",",
        "a list": "[]",
        "wrong type": variant(lambda d: d.update(type="FeatureCollection")),
        "version 1.0": variant(lambda d: d.update(version="1.0")),
        "version number": variant(lambda d: d.update(version=2.0)),
        "version 3.0": variant(lambda d: d.update(version="3.0")),
        "no CityObjects": variant(lambda d: d.pop("CityObjects")),
        "NaN vertex": variant(lambda d: d["vertices"][0].__setitem__(0, float("nan"))),
        "ragged vertex": variant(lambda d: d["vertices"][0].pop()),
        "string vertex": variant(lambda d: d["vertices"][0].__setitem__(0, "1")),
        "huge translate": variant(lambda d: d["transform"].__setitem__("translate", [10 ** 400, 0, 0])),
        "scale overflow": variant(lambda d: d["transform"].__setitem__("scale", [1e308, 1e308, 1e308])
                                  or d["vertices"][1].__setitem__(0, 10)),
        "negative index": variant(lambda d: building(d)["geometry"][0]["boundaries"][0][0][0].__setitem__(0, -1)),
        "float index": variant(lambda d: building(d)["geometry"][0]["boundaries"][0][0][0].__setitem__(0, 1.0)),
        "bool index": variant(lambda d: building(d)["geometry"][0]["boundaries"][0][0][0].__setitem__(0, True)),
        "shallow solid": variant(lambda d: building(d)["geometry"][0].update(type="MultiSolid")),
        "deep surface": variant(lambda d: building(d)["geometry"][0].update(type="MultiSurface")),
        "unknown geometry": variant(lambda d: building(d)["geometry"][0].update(type="Polygon")),
        "no lod": variant(lambda d: building(d)["geometry"][0].pop("lod")),
        "semantic value": variant(lambda d: building(d)["geometry"][0]["semantics"]["values"][0]
                                  .__setitem__(0, 7)),
        "semantic count": variant(lambda d: building(d)["geometry"][0]["semantics"]["values"][0].pop()),
        "attributes list": variant(lambda d: building(d).update(attributes=[1])),
        "parents string": variant(lambda d: building(d).update(parents="x")),
        "bad instance": variant(lambda d: building(d)["geometry"].append(
            {"type": "GeometryInstance", "template": 0, "boundaries": [0], "transformationMatrix": [1] * 16})),
        "infinite literal": json.dumps(good).replace("\"lod\": \"1.2\"", "\"lod\": 1e999"),
    }


@pytest.mark.parametrize("problem", list(_broken_documents()))
def test_broken_files_raise_one_clear_source_error(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "broken.city.json"
    path.write_text(_broken_documents()[problem], encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_cityjson(path, crs=RD_NEW)
    message = str(caught.value)
    assert message.startswith("broken.city.json: ") and message.endswith(".")
    assert "could not be imported" not in message  # not the last-resort guard
    assert "\n" not in message


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^nothing\.json: no such file\.$"):
        read_cityjson(tmp_path / "nothing.json")


# --- fuzzing ------------------------------------------------------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats() | st.text(max_size=4)
    | st.sampled_from(["Building", "Solid", "MultiSurface", "2.2", "RoofSurface", "GeometryInstance"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8)


def _seed() -> dict[str, Any]:
    v1, g1 = _box(0, 0, 0, 4, 4, 3, 0)
    v2, g2 = _box(4, 0, 0, 2, 2, 5, 8, semantics=False)
    square = {"type": "MultiSurface", "lod": "1", "boundaries": [[[0, 1, 2, 3], [0, 1, 2]]]}
    objects = {
        "b": {"type": "Building", "children": ["p"], "attributes": {"function": "house"}, "geometry": [g1]},
        "p": {"type": "BuildingPart", "parents": ["b"], "geometry": [g2]},
        "r": {"type": "Road", "geometry": [square]},
        "t": {"type": "SolitaryVegetationObject", "geometry": [
            {"type": "GeometryInstance", "template": 0, "boundaries": [3],
             "transformationMatrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]}]},
    }
    templates = {"templates": [{"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1, 2]]]}],
                 "vertices-templates": [[0, 0, 0], [1, 0, 2], [0, 1, 3]]}
    return _document(objects, v1 + v2, **{"geometry-templates": templates})


def _members(value: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in a JSON tree, depth first."""
    keys = list(value) if isinstance(value, dict) else range(len(value)) if isinstance(value, list) else []
    for key in keys:
        found.append((value, key))
        _members(value[key], found)
    return found


def _mutate(document: dict[str, Any], data: st.DataObject) -> None:
    """Replace, nudge, delete or duplicate one member chosen anywhere in the document."""
    container, key = data.draw(st.sampled_from(_members(document, [])))
    action = data.draw(st.sampled_from(["replace", "nudge", "delete", "duplicate"]))
    value = container[key]
    if action == "nudge" and isinstance(value, int) and not isinstance(value, bool):
        container[key] = value + data.draw(st.sampled_from([-1, 1, 8, 1000, 2 ** 63, 2 ** 64]))
    elif action == "delete":
        del container[key]
    elif action == "duplicate" and isinstance(container, list):
        container.insert(key, copy.deepcopy(value))
    else:
        container[key] = data.draw(_JSON_VALUES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_import_or_raise_a_world_error(tmp_path: Path, data: st.DataObject) -> None:
    document = _seed()
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(document, data)
    path = tmp_path / "fuzz.city.json"
    path.write_text(json.dumps(document), encoding="utf-8")  # NaN and Infinity included
    try:
        source = read_cityjson(path, crs=data.draw(st.sampled_from([None, RD_NEW])))
    except (SourceError, CrsError) as error:
        assert str(error).startswith("fuzz.city.json: ") and "could not be imported" not in str(error)
        return
    for feature in source.features():
        assert feature.geometry.is_valid and feature.id.startswith("cj:")


def test_the_seed_document_imports(tmp_path: Path) -> None:
    source = read_cityjson(_write(tmp_path, _seed()))
    assert [b.id for b in source.buildings] == ["cj:b"] and source.buildings[0].part_ids == ("cj:p",)
    assert len(source.roads) == 1 and len(source.trees) == 1
    assert source.trees[0].height_m == pytest.approx(3.0)


def test_lod0_footprint_of_a_building_with_solid_parts_is_left_out(tmp_path: Path) -> None:
    vertices, solid = _box(0, 0, 2, 6, 4, 5, 0)
    footprint = {"type": "MultiSurface", "lod": "0", "boundaries": [[[0, 1, 2, 3]]]}  # like 3D BAG
    objects = {"b": {"type": "Building", "children": ["b-0"], "geometry": [footprint],
                     "attributes": {"b3_h_maaiveld": 2.0}},
               "b-0": {"type": "BuildingPart", "parents": ["b"], "geometry": [solid]}}
    source = read_cityjson(_write(tmp_path, _document(objects, vertices)), lod=2.2)
    (building,) = source.buildings
    assert Counter(s.kind for s in building.surfaces) == {"wall": 4, "roof": 1, "ground": 1}
    assert building.attributes["lod"] == "1.2" and building.part_ids == ("cj:b-0",)
    assert source.attribution == "© 3D BAG by tudelft3d and 3DGI"
    alone = read_cityjson(_write(tmp_path, _document({"b": objects["b"]}, vertices)))
    assert alone.buildings[0].attributes["lod"] == "0"  # LoD 0 is used when it is all there is
