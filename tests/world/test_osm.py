"""Tests of the OpenStreetMap importer (world.osm) and its tag rules (world.osm_tags).

Counts on the Helsinki extract are checked against an independent census made here with
a plain pyosmium SimpleHandler (no areas, no filters), so that the importer's pipeline
(key filter, area assembly, WKB, bulk reprojection, part merging) is compared with the
raw file rather than with itself.
"""

from __future__ import annotations

import bz2
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from world.city import Building, SourceData
from world.errors import CrsError, SourceError
from world.osm import ATTRIBUTION, read_osm
from world.osm_tags import parse_length_m, parse_maxspeed_kmh

ROOT = Path(__file__).resolve().parents[2]
HELSINKI = ROOT / "content" / "cities" / "helsinki" / "helsinki-center.osm.pbf"

# highway values of the Helsinki file that are not roads (see world.osm_tags docs).
NOT_ROADS = {"construction", "platform", "elevator", "trail", "crossing", "proposed", "bus_stop"}
FOOTWAYS = {"footway", "path", "pedestrian", "steps", "corridor", "bridleway"}


# --------------------------------------------------------------------------- census

class _Census(osmium.SimpleHandler):
    """Everything the tests need from the raw file, element by element."""

    def __init__(self) -> None:
        super().__init__()
        self.ways: dict[int, tuple[dict[str, str], bool, list[tuple[float, float] | None]]] = {}
        self.relations: dict[int, tuple[dict[str, str], list[int]]] = {}
        self.tree_nodes: set[int] = set()

    def node(self, n: Any) -> None:
        if n.tags.get("natural") == "tree" and n.location.valid():
            self.tree_nodes.add(n.id)

    def way(self, w: Any) -> None:
        coords = [(n.lon, n.lat) if n.location.valid() else None for n in w.nodes]
        self.ways[w.id] = (dict(w.tags), w.is_closed(), coords)

    def relation(self, r: Any) -> None:
        if r.tags.get("type") == "multipolygon":
            self.relations[r.id] = (dict(r.tags), [m.ref for m in r.members if m.type == "w"])

    # --- derived views
    def complete_way(self, way_id: int) -> bool:
        return way_id in self.ways and all(c is not None for c in self.ways[way_id][2])

    def polygons(self) -> dict[str, dict[str, str]]:
        """Closed complete ways (4+ nodes) and complete multipolygon relations, by id."""
        out = {f"osm:w{i}": tags for i, (tags, closed, coords) in self.ways.items()
               if closed and len(coords) >= 4 and self.complete_way(i)}
        out.update({f"osm:r{i}": tags for i, (tags, members) in self.relations.items()
                    if members and all(self.complete_way(m) for m in members)})
        return out

    def longest_run(self, way_id: int) -> list[tuple[float, float]]:
        best: list[tuple[float, float]] = []
        run: list[tuple[float, float]] = []
        for c in self.ways[way_id][2]:
            run = [*run, c] if c is not None else []
            if len(run) > len(best):
                best = run
        return best if len(set(best)) >= 2 else []


def _is_part(tags: dict[str, str]) -> bool:
    return tags.get("building:part", "no") != "no"


def _is_building(tags: dict[str, str]) -> bool:
    return tags.get("building", "no") != "no"


@pytest.fixture(scope="module")
def census() -> _Census:
    handler = _Census()
    handler.apply_file(str(HELSINKI), locations=True)
    return handler


@pytest.fixture(scope="module")
def helsinki() -> tuple[SourceData, float]:
    started = time.perf_counter()
    data = read_osm(HELSINKI)
    return data, time.perf_counter() - started


@pytest.fixture(scope="module")
def data(helsinki: tuple[SourceData, float]) -> SourceData:
    return helsinki[0]


@pytest.fixture(scope="module")
def by_id(data: SourceData) -> dict[str, Any]:
    return {f.id: f for f in data.features()}


# --------------------------------------------------------------------------- Helsinki

def test_helsinki_source_metadata_and_speed(helsinki: tuple[SourceData, float]) -> None:
    data, seconds = helsinki
    assert data.format == "osm"
    assert data.crs == "EPSG:32635"  # UTM 35N: Helsinki is at 24.9° E
    assert data.attribution == ATTRIBUTION
    assert data.path == str(HELSINKI)
    assert seconds < 3.0
    ids = [f.id for f in data.features()]
    assert len(ids) == len(set(ids))


def test_census_matches_the_documented_file(census: _Census) -> None:
    building_ways = [i for i, (t, closed, _) in census.ways.items() if closed and _is_building(t)]
    assert len(building_ways) == 433
    assert len(census.tree_nodes) == 649


def test_buildings_and_parts_match_census(data: SourceData, census: _Census) -> None:
    polygons = census.polygons()
    outlines = {i for i, t in polygons.items() if _is_building(t) and not _is_part(t)}
    parts = {i for i, t in polygons.items() if _is_part(t)}
    assert outlines and parts
    imported = {b.id for b in data.buildings}
    orphans = imported & parts
    absorbed = [p for b in data.buildings for p in b.part_ids]
    assert imported == outlines | orphans
    assert len(data.buildings) == len(outlines) + len(orphans)
    assert len(absorbed) == len(set(absorbed))
    assert set(absorbed) | orphans == parts
    assert not set(absorbed) & orphans


def test_absorbed_parts_lie_in_their_building(data: SourceData, by_id: dict[str, Any]) -> None:
    parents = [b for b in data.buildings if b.part_ids]
    assert len(parents) >= 10
    for building in parents:
        assert len(building.volumes) >= len(building.part_ids)
        assert building.height_m == max(v.height_m for v in building.volumes)
        for pid in building.part_ids:
            assert pid not in by_id  # absorbed, not a building of its own
        for volume in building.volumes:
            assert building.footprint.buffer(0.01).contains(shapely.point_on_surface(volume.footprint))


def test_heights_follow_the_tag_rules(data: SourceData, census: _Census, by_id: dict[str, Any]) -> None:
    tagged_height = levels_only = 0
    for pid, tags in census.polygons().items():
        building = by_id.get(pid)
        if not isinstance(building, Building) or building.part_ids or _is_part(tags):
            continue
        if "height" in tags and tags["height"].replace(".", "", 1).isdigit():
            assert building.height_m == pytest.approx(float(tags["height"]))
            assert building.height_source == "height"
            tagged_height += 1
        elif ("building:levels" in tags and tags["building:levels"].isdigit()
              and int(tags["building:levels"]) > 0
              and not {"height", "building:height", "roof:levels"} & tags.keys()
              and tags.get("roof:shape", "flat") == "flat"):
            assert building.height_m == pytest.approx(3.0 * int(tags["building:levels"]))
            assert building.height_source == "levels"
            assert building.levels == int(tags["building:levels"])
            levels_only += 1
        if "min_height" not in tags and "building:min_level" not in tags:
            assert building.min_height_m == 0.0
        assert all(v.height_m > v.min_height_m for v in building.volumes)
    assert tagged_height >= 5 and levels_only >= 50
    assert {b.height_source for b in data.buildings} == {"height", "levels", "default"}


def test_multipolygon_holes_are_kept(data: SourceData, census: _Census) -> None:
    with_inner = [b for b in data.buildings if b.id.startswith("osm:r")
                  and any(len(p.interiors) for p in shapely.get_parts(b.footprint))]
    assert len(with_inner) >= 10
    for b in with_inner:
        shells = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(b.footprint)])
        assert b.footprint.area < shells.area
        assert b.footprint.is_valid


def test_trees_match_census(data: SourceData, census: _Census) -> None:
    node_trees = {t.id for t in data.trees if t.id.startswith("osm:n")}
    assert node_trees == {f"osm:n{i}" for i in census.tree_nodes}
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True)
    rows = Counter(t.id.split("#")[0] for t in data.trees if "#" in t.id)
    expected = {}
    for wid, (tags, _, _) in census.ways.items():
        run = census.longest_run(wid) if tags.get("natural") == "tree_row" else []
        if run:
            lonlat = np.array(run)
            x, y = to_utm.transform(lonlat[:, 0], lonlat[:, 1])
            length = float(np.hypot(np.diff(x), np.diff(y)).sum())
            expected[f"osm:w{wid}"] = max(1, round(length / 8.0))
    assert rows == expected
    assert all(t.crown_diameter_m > 0 and t.height_m > 0 for t in data.trees)


def test_roads_match_census(data: SourceData, census: _Census) -> None:
    expected: dict[str, str] = {}
    values = set()
    for wid, (tags, _, _) in census.ways.items():
        value = tags.get("highway")
        if value is None:
            continue
        values.add(value)
        if value in NOT_ROADS or tags.get("area") == "yes" or not census.longest_run(wid):
            continue
        if value == "cycleway" or (value == "path" and tags.get("bicycle") == "designated"):
            expected[f"osm:w{wid}"] = "cycleway"
        else:
            expected[f"osm:w{wid}"] = "footway" if value in FOOTWAYS else "carriageway"
    assert {r.id: r.surface for r in data.roads} == expected
    surfaces = Counter(r.surface for r in data.roads)
    assert surfaces["carriageway"] > 500 and surfaces["footway"] > 1000 and surfaces["cycleway"] > 50
    assert all(r.width_m > 0 and r.geometry.length > 0 for r in data.roads)


def test_parks_match_census(data: SourceData, census: _Census) -> None:
    parks = {i for i, t in census.polygons().items()
             if t.get("leisure") in ("park", "garden") and not _is_building(t)}
    assert len(parks) >= 10
    assert {a.id for a in data.areas if a.area_class == "park"} == parks
    assert all(a.geometry.is_valid and a.geometry.area > 0 for a in data.areas)
    assert {"park", "grass", "water", "plaza", "parking"} <= {a.area_class for a in data.areas}


def test_crs_override_gives_tm35fin_coordinates(data: SourceData) -> None:
    tm35 = read_osm(HELSINKI, crs="EPSG:3067")
    assert tm35.crs == "EPSG:3067"
    centroids = shapely.centroid(np.array([b.footprint for b in tm35.buildings], dtype=object))
    x, y = np.median(shapely.get_coordinates(centroids), axis=0)
    assert math.hypot(x - 385_500.0, y - 6_672_500.0) < 1_000.0
    assert [b.id for b in tm35.buildings] == [b.id for b in data.buildings]


# --------------------------------------------------------------------------- fixture

X0, Y0 = 385_000.0, 6_672_000.0
_TO_LONLAT = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)


def _fixture_xml() -> str:
    """A tiny hand-made district, coordinates chosen in EPSG:3067 metres."""
    nodes: list[tuple[float, float]] = []

    def ring(*points: tuple[float, float]) -> list[int]:
        ids = []
        for p in points:
            nodes.append(p)
            ids.append(len(nodes))
        return [*ids, ids[0]]

    def line(*points: tuple[float, float]) -> list[int]:
        return ring(*points)[:-1]

    def box(x0: float, y0: float, x1: float, y1: float) -> list[int]:
        return ring((x0, y0), (x1, y0), (x1, y1), (x0, y1))

    ways = {
        100: (box(0, 0, 40, 40), {}),
        101: (box(15, 15, 25, 25), {}),
        102: (box(0, 0, 15, 40), {"building:part": "yes", "height": "12"}),
        103: (box(25, 0, 40, 40), {"building:part": "yes", "building:levels": "5",
                                   "building:min_level": "1", "roof:shape": "gabled"}),
        104: (box(100, 0, 110, 8), {"building": "house", "height": "12,5", "name": "Talo"}),
        105: (box(120, 0, 140, 12), {"building": "apartments", "building:levels": "4",
                                     "roof:levels": "1"}),
        106: (box(150, 0, 170, 30), {"building": "church"}),
        107: (box(200, 0, 205, 5), {"building:part": "yes", "height": "5"}),
        110: (box(0, 100, 50, 150), {"leisure": "park", "name": "Puisto"}),
        120: (line((0, 200), (40, 200)), {"natural": "tree_row", "species": "Tilia x europaea"}),
        130: (line((0, -20), (100, -20)), {"highway": "primary", "lanes": "2", "maxspeed": "30 mph",
                                           "oneway": "-1", "name": "Katu"}),
        131: (line((0, -40), (100, -40)), {"highway": "residential", "width": "7.5 m",
                                           "maxspeed": "FI:urban"}),
        132: (line((0, -60), (50, -60)), {"highway": "path", "bicycle": "designated"}),
        133: (line((0, -70), (50, -70)), {"highway": "footway"}),
        134: (line((0, -80), (50, -80)), {"highway": "construction"}),
        135: (box(60, 100, 90, 130), {"highway": "pedestrian", "area": "yes"}),
    }
    partial = line((0, -90), (30, -90), (60, -90))
    ways[136] = ([partial[0], partial[1], 99999, partial[2]], {"highway": "service"})
    nodes.append((60.0, 60.0))  # the tree, written as node 9001
    lon, lat = _TO_LONLAT.transform([X0 + x for x, _ in nodes], [Y0 + y for _, y in nodes])
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for i, (lo, la) in enumerate(zip(lon[:-1], lat[:-1], strict=True), start=1):
        out.append(f'<node id="{i}" lat="{la:.7f}" lon="{lo:.7f}"/>')
    out.append(f'<node id="9001" lat="{lat[-1]:.7f}" lon="{lon[-1]:.7f}"><tag k="natural" v="tree"/>'
               '<tag k="height" v="15"/><tag k="diameter_crown" v="8"/><tag k="genus" v="Acer"/></node>')
    for wid, (refs, tags) in ways.items():
        out.append(f'<way id="{wid}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                   + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>")
    out.append('<relation id="10"><member type="way" ref="100" role="outer"/>'
               '<member type="way" ref="101" role="inner"/><tag k="type" v="multipolygon"/>'
               '<tag k="building" v="yes"/><tag k="name" v="Halli"/></relation>')
    out.append("</osm>")
    return "\n".join(out)


@pytest.fixture(scope="module")
def fixture_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "district.osm"
    path.write_text(_fixture_xml(), encoding="utf-8")
    return path


def _local(geom: Any) -> np.ndarray:
    return shapely.get_coordinates(geom) - np.array([X0, Y0])


def test_fixture_buildings_parts_and_hole(fixture_path: Path) -> None:
    data = read_osm(fixture_path, crs="EPSG:3067")
    b = {x.id: x for x in data.buildings}
    assert set(b) == {"osm:r10", "osm:w104", "osm:w105", "osm:w106", "osm:w107"}
    hall = b["osm:r10"]
    assert hall.name == "Halli" and hall.building_type == "yes"
    assert hall.footprint.area == pytest.approx(1500.0, abs=1.0)
    assert len(hall.footprint.interiors) == 1
    assert hall.part_ids == ("osm:w102", "osm:w103")
    assert [(v.min_height_m, v.height_m) for v in hall.volumes] == [(0.0, 12.0), (3.0, 16.0)]
    assert [round(v.footprint.area) for v in hall.volumes] == [600, 600]
    assert (hall.height_m, hall.min_height_m, hall.height_source, hall.levels) == (16.0, 0.0, "levels", 5)
    house = b["osm:w104"]
    assert (house.height_m, house.height_source, house.building_type, house.name) == (
        12.5, "height", "house", "Talo")
    assert house.volumes[0].footprint.equals(house.footprint)
    assert (b["osm:w105"].height_m, b["osm:w105"].levels) == (15.0, 4)
    assert (b["osm:w106"].height_m, b["osm:w106"].height_source) == (20.0, "default")
    assert (b["osm:w107"].height_m, b["osm:w107"].building_type, b["osm:w107"].part_ids) == (5.0, "yes", ())
    corner = _local(house.footprint).min(axis=0)
    assert corner == pytest.approx([100.0, 0.0], abs=0.05)


def test_fixture_roads(fixture_path: Path) -> None:
    roads = {r.id: r for r in read_osm(fixture_path, crs="EPSG:3067").roads}
    assert set(roads) == {"osm:w130", "osm:w131", "osm:w132", "osm:w133", "osm:w136"}
    katu = roads["osm:w130"]
    assert (katu.road_class, katu.surface, katu.width_m, katu.lanes, katu.maxspeed_kmh, katu.oneway,
            katu.name) == ("primary", "carriageway", 6.5, 2, 48.28, True, "Katu")
    assert _local(katu.geometry)[0] == pytest.approx([100.0, -20.0], abs=0.05)  # reversed (-1)
    res = roads["osm:w131"]
    assert (res.width_m, res.maxspeed_kmh, res.oneway, res.lanes) == (7.5, 50.0, False, None)
    assert (roads["osm:w132"].surface, roads["osm:w132"].width_m) == ("cycleway", 1.5)
    assert (roads["osm:w133"].surface, roads["osm:w133"].width_m) == ("footway", 2.0)
    assert roads["osm:w136"].geometry.length == pytest.approx(30.0, abs=0.05)  # longest located run


def test_fixture_areas_and_trees(fixture_path: Path) -> None:
    data = read_osm(fixture_path, crs="EPSG:3067")
    areas = {a.id: a for a in data.areas}
    assert {k: a.area_class for k, a in areas.items()} == {"osm:w110": "park", "osm:w135": "plaza"}
    assert areas["osm:w110"].name == "Puisto"
    assert areas["osm:w110"].geometry.area == pytest.approx(2500.0, abs=1.0)
    trees = {t.id: t for t in data.trees}
    assert set(trees) == {"osm:n9001", *(f"osm:w120#{k}" for k in range(5))}
    node_tree = trees["osm:n9001"]
    assert (node_tree.height_m, node_tree.crown_diameter_m, node_tree.species) == (15.0, 8.0, "Acer")
    assert _local(node_tree.geometry)[0] == pytest.approx([60.0, 60.0], abs=0.05)
    xs = [_local(trees[f"osm:w120#{k}"].geometry)[0] for k in range(5)]
    assert np.array(xs) == pytest.approx(np.array([[4 + 8 * k, 200] for k in range(5)]), abs=0.05)
    row_tree = trees["osm:w120#0"]
    assert (row_tree.height_m, row_tree.crown_diameter_m, row_tree.species) == (10.0, 6.0, "Tilia x europaea")


def test_fixture_bz2_and_default_crs(fixture_path: Path, tmp_path: Path) -> None:
    compressed = tmp_path / "district.osm.bz2"
    compressed.write_bytes(bz2.compress(fixture_path.read_bytes()))
    plain, packed = read_osm(fixture_path), read_osm(compressed)
    assert plain.crs == packed.crs == "EPSG:32635"
    assert [f.id for f in packed.features()] == [f.id for f in plain.features()]
    for a, b in zip(plain.features(), packed.features(), strict=True):
        assert a.geometry.equals_exact(b.geometry, 1e-9)


def test_progress_hook_is_called(fixture_path: Path) -> None:
    messages: list[str] = []
    read_osm(fixture_path, progress=messages.append)
    assert messages and messages[0] == "reading district.osm"


# --------------------------------------------------------------------------- errors

def _expect_source_error(path: Path, **kwargs: Any) -> str:
    with pytest.raises(SourceError) as info:
        read_osm(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{path.name}: ") and message.endswith(".")
    return message


@pytest.mark.parametrize("keep", ["half", 100])
def test_truncated_pbf(tmp_path: Path, keep: str | int) -> None:
    raw = HELSINKI.read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(raw[: len(raw) // 2 if keep == "half" else int(keep)])
    assert "truncated" in _expect_source_error(cut)


def test_bad_files(tmp_path: Path) -> None:
    cases = {
        "empty.osm.pbf": b"",
        "garbage.osm": b"<osm version='0.6'><node id='1' lat='x'",
        "text.osm": b"hello world",
        "random.osm.pbf": bytes(range(256)) * 8,
        "broken.osm.bz2": b"BZh91AY&SYnot really",
        "nothing.osm": b"<?xml version='1.0'?><osm version='0.6'><node id='1' lat='60' lon='25'/></osm>",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        _expect_source_error(path)
    assert "no buildings, roads, areas or trees" in _expect_source_error(tmp_path / "nothing.osm")
    assert "no such file" in _expect_source_error(tmp_path / "missing.osm.pbf")


def test_bad_crs(fixture_path: Path) -> None:
    for crs in ("EPSG:4326", "EPSG:0", "not a crs"):
        with pytest.raises(CrsError, match=r"^district\.osm: "):
            read_osm(fixture_path, crs=crs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=600), suffix=st.sampled_from([".osm.pbf", ".osm", ".osm.bz2"]),
       cut=st.integers(min_value=0, max_value=685_000))
def test_any_bytes_give_source_error_only(tmp_path: Path, content: bytes, suffix: str, cut: int) -> None:
    path = tmp_path / f"fuzz{suffix}"
    for blob in (content, HELSINKI.read_bytes()[:cut] + content):
        path.write_bytes(blob)
        try:
            read_osm(path)
        except SourceError as exc:
            assert str(exc).startswith(path.name)


@given(st.text(max_size=12))
def test_tag_parsers_never_raise(text: str) -> None:
    length = parse_length_m(text)
    speed = parse_maxspeed_kmh(text)
    assert length is None or (math.isfinite(length) and length > 0)
    assert speed is None or (math.isfinite(speed) and speed > 0)
