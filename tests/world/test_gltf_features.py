"""Tests for world.gltf_features: the property table of a tile, decoded.

Expected values are the rows handed to world.gltf_write, and for the Helsinki package
the strings pygltflib reads (tests/world/tile_checks.py, independent of our reader).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pygltflib
import pytest

from tests.world.tile_checks import property_strings
from world.errors import GltfError, WorldError
from world.gltf_features import feature_table
from world.gltf_read import read_glb_bytes, read_gltf
from world.gltf_write import FeatureRow, TileContent, encode_glb
from world.mesh import MeshSoup

ROWS = [
    FeatureRow("osm:w1", "building", "apartments", "Talo Ö", 12.5),
    FeatureRow("osm:w2", "road", "residential", "", 0.0),
    FeatureRow("cj:x", "building", "yes", "Ümlaut ✓ 北", 3.25),
]


def _soup(features: list[int]) -> MeshSoup:
    """One triangle per feature, side by side."""
    n = len(features)
    xyz = np.array([[[i, 0.0, 0.0], [i + 1.0, 0.0, 0.0], [i, 1.0, 0.0]] for i in range(n)]).reshape(-1, 3)
    return MeshSoup(xyz, np.tile(np.array([0, 0, 1], np.float32), (3 * n, 1)), np.full((3 * n, 4), 200, np.uint8),
                    np.repeat(np.asarray(features, np.int64), 3), np.arange(3 * n).reshape(-1, 3))


def _tile(rows: list[FeatureRow] = ROWS) -> bytes:
    return encode_glb(TileContent((10.0, 20.0, 0.0), {"building": _soup(list(range(len(rows))))}, rows))


def _split(glb: bytes) -> tuple[dict[str, Any], bytes]:
    json_length = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20:20 + json_length])
    bin_length = struct.unpack_from("<I", glb, 20 + json_length)[0]
    start = 28 + json_length
    return doc, glb[start:start + bin_length]


def _join(doc: dict[str, Any], binary: bytes) -> bytes:
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 28 + len(text) + len(binary)
    return (struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<II", len(text), 0x4E4F534A) + text
            + struct.pack("<II", len(binary), 0x004E4942) + binary)


def test_rows_come_back_as_written() -> None:
    glb = _tile()
    table = feature_table(read_glb_bytes(glb, "t.glb"), glb)
    assert list(table) == ["id", "kind", "class", "name", "height_m"]
    assert table["id"] == [r.id for r in ROWS]
    assert table["kind"] == [r.kind for r in ROWS]
    assert table["class"] == [r.feature_class for r in ROWS]
    assert table["name"] == [r.name for r in ROWS]
    assert table["height_m"] == pytest.approx([r.height_m for r in ROWS], abs=1e-6)


def test_a_column_the_writer_left_out_comes_back_empty() -> None:
    rows = [FeatureRow("a", "tree", "tree", "", 8.0), FeatureRow("b", "tree", "tree", "", 9.0)]
    glb = _tile(rows)
    doc, _ = _split(glb)
    assert "name" not in doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["properties"]
    assert feature_table(read_glb_bytes(glb), glb)["name"] == ["", ""]


def test_read_from_a_glb_path_and_a_gltf_with_an_external_buffer(tmp_path: Path) -> None:
    glb = _tile()
    (tmp_path / "t.glb").write_bytes(glb)
    expected = feature_table(read_glb_bytes(glb), glb)
    assert feature_table(read_gltf(tmp_path / "t.glb"), tmp_path / "t.glb") == expected
    doc, binary = _split(glb)
    doc["buffers"] = [{"uri": "t.bin", "byteLength": len(binary)}]
    (tmp_path / "t.bin").write_bytes(binary)
    (tmp_path / "t.gltf").write_text(json.dumps(doc))
    assert feature_table(read_gltf(tmp_path / "t.gltf"), str(tmp_path / "t.gltf")) == expected


def test_a_scene_without_metadata_has_no_table() -> None:
    doc, binary = _split(_tile())
    del doc["extensions"]
    glb = _join(doc, binary)
    assert feature_table(read_glb_bytes(glb), glb) == {}


def test_the_helsinki_tiles_agree_with_pygltflib(helsinki_package: Path) -> None:
    tiles = sorted((helsinki_package / "tiles").glob("*.glb"))
    assert tiles
    for path in tiles:
        gltf = pygltflib.GLTF2().load(str(path))
        blob = gltf.binary_blob()
        props = gltf.extensions["EXT_structural_metadata"]["propertyTables"][0]["properties"]
        table = feature_table(read_gltf(path), path)
        for key in ("id", "kind", "class"):
            assert table[key] == property_strings(gltf, blob, props[key]), (path.name, key)
        if "name" in props:
            assert table["name"] == property_strings(gltf, blob, props["name"])
        view = gltf.bufferViews[props["height_m"]["values"]]
        heights = np.frombuffer(blob, "<f4", count=len(table["id"]), offset=view.byteOffset)
        assert table["height_m"] == heights.tolist()


def _broken(change: str) -> bytes:
    doc, binary = _split(_tile())
    table = doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0]
    props = table["properties"]
    if change == "decreasing offsets":
        view = doc["bufferViews"][props["kind"]["stringOffsets"]]
        raw = bytearray(binary)
        struct.pack_into("<I", raw, view["byteOffset"] + 4, 1000)
        binary = bytes(raw)
    elif change == "view past the buffer":
        doc["bufferViews"][props["id"]["values"]]["byteOffset"] = len(binary)
    elif change == "unknown class":
        table["class"] = "nope"
    elif change == "unknown property":
        props["colour"] = props["kind"]
    elif change == "vector property":
        doc["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["feature"]["properties"]["height_m"] = {
            "type": "VEC3", "componentType": "FLOAT32"}
    elif change == "short values":
        table["count"] = 50
    elif change == "no such table":
        doc["extensions"]["EXT_structural_metadata"]["propertyTables"] = []
    return _join(doc, binary)


@pytest.mark.parametrize(("change", "message"), [
    ("decreasing offsets", "property 'kind' of property table 0 has string offsets"),
    ("view past the buffer", "bufferView"),
    ("unknown class", "refers to the class 'nope'"),
    ("unknown property", "the property 'colour'"),
    ("vector property", "property 'height_m' of property table 0 has type 'VEC3'"),
    ("short values", "property table 0"),
    ("no such table", "no property table 0"),
])
def test_malformed_tables_raise_a_gltf_error_naming_the_part(change: str, message: str) -> None:
    glb = _broken(change)
    with pytest.raises(GltfError, match=r"^bad\.glb: ") as info:
        feature_table(read_glb_bytes(glb, "bad.glb"), glb, name="bad.glb")
    assert message in str(info.value)
    assert isinstance(info.value, WorldError) and str(info.value).endswith(".")


def test_an_unreadable_source_is_a_gltf_error(tmp_path: Path) -> None:
    glb = _tile()
    scene = read_glb_bytes(glb, "t.glb")
    with pytest.raises(GltfError, match=r"missing\.glb: the file cannot be read"):
        feature_table(scene, tmp_path / "missing.glb")
    with pytest.raises(GltfError, match="not a GLB"):
        feature_table(scene, b"nonsense")
