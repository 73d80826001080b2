"""Tests for world.gltf_read: reference samples, synthetic edge cases, malformed files, fuzzing.

Expected values come from independent sources: pygltflib's parse of the same file and a
slow struct-based accessor decoder written here, the accessors' own min/max, and the
Khronos validator's reports for the malformed GLBs.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pygltflib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from world.errors import GltfError
from world.gltf_read import Primitive, Scene, read_glb_bytes, read_gltf

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = DATA / "gltf" / "samples"
UNSUPPORTED = DATA / "gltf" / "unsupported"
MALFORMED = DATA / "gltf" / "malformed"
TILES = DATA / "3dtiles" / "glTF"
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".glb", ".gltf"))
TILE_FILES = sorted(TILES.rglob("*.gltf"))
MALFORMED_FILES = sorted(MALFORMED.glob("*.glb"))

# -- an independent, slow reference decoder (pygltflib for JSON, struct per element) -----

_STRUCT = {5120: "b", 5121: "B", 5122: "h", 5123: "H", 5125: "I", 5126: "f"}
_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def _load_ref(path: Path) -> pygltflib.GLTF2:
    return pygltflib.GLTF2().load(str(path))


def _buffer(g: pygltflib.GLTF2, path: Path, index: int) -> bytes:
    uri = g.buffers[index].uri
    if uri is None:
        return g.binary_blob()
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    return (path.parent / uri).read_bytes()


def _ref_accessor(g: pygltflib.GLTF2, path: Path, index: int) -> np.ndarray:
    acc = g.accessors[index]
    n = _NCOMP[acc.type]
    fmt = "<" + _STRUCT[acc.componentType] * n
    rows: list[tuple[Any, ...]] = [(0,) * n] * acc.count
    if acc.bufferView is not None:
        view = g.bufferViews[acc.bufferView]
        data = _buffer(g, path, view.buffer)
        stride = view.byteStride or struct.calcsize(fmt)
        start = (view.byteOffset or 0) + (acc.byteOffset or 0)
        rows = [struct.unpack_from(fmt, data, start + k * stride) for k in range(acc.count)]
    if acc.sparse is not None:
        sp = acc.sparse
        iview, vview = g.bufferViews[sp.indices.bufferView], g.bufferViews[sp.values.bufferView]
        ifmt = "<" + _STRUCT[sp.indices.componentType]
        idata, vdata = _buffer(g, path, iview.buffer), _buffer(g, path, vview.buffer)
        for k in range(sp.count):
            at = struct.unpack_from(ifmt, idata, (iview.byteOffset or 0) + (sp.indices.byteOffset or 0)
                                    + k * struct.calcsize(ifmt))[0]
            voff = (vview.byteOffset or 0) + (sp.values.byteOffset or 0) + k * struct.calcsize(fmt)
            rows[at] = struct.unpack_from(fmt, vdata, voff)
    return np.array(rows, dtype=np.float64).reshape(acc.count, n)


def _ref_instances(g: pygltflib.GLTF2) -> list[int]:
    """Mesh index of every mesh instance in the default scene, by recursive traversal."""
    out: list[int] = []

    def visit(i: int) -> None:
        node = g.nodes[i]
        if node.mesh is not None:
            out.append(node.mesh)
        for child in node.children or []:
            visit(child)

    for root in g.scenes[g.scene or 0].nodes:
        visit(root)
    return out


def _ref_counts(g: pygltflib.GLTF2) -> tuple[int, int]:
    vertices = triangles = 0
    for mesh in _ref_instances(g):
        for prim in g.meshes[mesh].primitives:
            n = g.accessors[prim.attributes.POSITION].count
            vertices += n
            triangles += (g.accessors[prim.indices].count if prim.indices is not None else n) // 3
    return vertices, triangles


# -- a tiny GLB writer for synthetic cases --------------------------------------------------


def make_glb(gltf: dict[str, Any], binary: bytes = b"") -> bytes:
    doc = json.dumps(gltf).encode()
    doc += b" " * (-len(doc) % 4)
    body = struct.pack("<I4s", len(doc), b"JSON") + doc
    if binary:
        binary += b"\0" * (-len(binary) % 4)
        body += struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


_COMPONENT = {np.dtype(np.int8): 5120, np.dtype(np.uint8): 5121, np.dtype(np.int16): 5122,
              np.dtype(np.uint16): 5123, np.dtype(np.uint32): 5125, np.dtype(np.float32): 5126}
_TYPE = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4"}


def mesh_glb(attributes: dict[str, np.ndarray], indices: np.ndarray | None = None, mode: int | None = None,
             normalized: tuple[str, ...] = (), **top: Any) -> bytes:
    """A one-mesh GLB whose accessors hold the given arrays (one bufferView each)."""
    blob, views, accessors = b"", [], []

    def add(arr: np.ndarray, norm: bool = False) -> int:
        nonlocal blob
        arr = np.ascontiguousarray(arr)
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": arr.nbytes})
        blob += arr.tobytes() + b"\0" * (-arr.nbytes % 4)
        ncomp = 1 if arr.ndim == 1 else arr.shape[1]
        acc = {"bufferView": len(views) - 1, "componentType": _COMPONENT[arr.dtype], "count": len(arr),
               "type": _TYPE[ncomp]}
        if norm:
            acc["normalized"] = True
        accessors.append(acc)
        return len(accessors) - 1

    prim: dict[str, Any] = {"attributes": {k: add(v, k in normalized) for k, v in attributes.items()}}
    if indices is not None:
        prim["indices"] = add(indices)
    if mode is not None:
        prim["mode"] = mode
    gltf = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": len(blob)}], "bufferViews": views,
            "accessors": accessors, "meshes": [{"primitives": [prim]}], "nodes": [{"mesh": 0}],
            "scenes": [{"nodes": [0]}], "scene": 0, **top}
    return make_glb(gltf, blob)


TRI = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)


# -- the reference samples -------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_counts_and_attributes_match_reference(path: Path) -> None:
    scene = read_gltf(path)
    g = _load_ref(path)
    assert (scene.vertex_count, scene.triangle_count) == _ref_counts(g)
    instances = _ref_instances(g)
    prims = [p for mesh in instances for p in g.meshes[mesh].primitives]
    assert len(scene.primitives) == len(prims)
    for got, ref in zip(scene.primitives, prims, strict=True):
        assert got.positions.dtype == np.float32 and got.positions.shape == (got.vertex_count, 3)
        assert got.indices.dtype == np.uint32 and got.indices.ndim == 1
        np.testing.assert_allclose(got.positions, _ref_accessor(g, path, ref.attributes.POSITION), rtol=1e-6)
        acc = g.accessors[ref.attributes.POSITION]
        np.testing.assert_allclose(got.positions.min(axis=0), acc.min, atol=1e-5)
        np.testing.assert_allclose(got.positions.max(axis=0), acc.max, atol=1e-5)
        for name, value in (("NORMAL", got.normals), ("TEXCOORD_0", got.uvs)):
            ref_index = getattr(ref.attributes, name)
            assert (value is None) == (ref_index is None)
            if ref_index is not None:
                np.testing.assert_allclose(value, _ref_accessor(g, path, ref_index), rtol=1e-6)
        if ref.indices is not None:
            np.testing.assert_array_equal(got.indices, _ref_accessor(g, path, ref.indices).ravel())
        assert got.material == ref.material
        assert got.matrix.shape == (4, 4) and got.matrix.dtype == np.float64
    assert scene.materials == [m for m in scene.json.get("materials", [])]


def test_interleaved_data_is_a_zero_copy_strided_view() -> None:
    prim = read_gltf(SAMPLES / "BoxInterleaved.glb").primitives[0]
    assert prim.positions.strides == (24, 4) and prim.normals is not None and prim.normals.strides == (24, 4)
    assert not prim.positions.flags.owndata and not prim.positions.flags.writeable
    assert np.shares_memory(prim.positions, prim.normals) is False  # interleaved, not overlapping
    np.testing.assert_allclose(np.linalg.norm(prim.normals, axis=1), 1.0, rtol=1e-6)


def test_box_textured_containers_agree() -> None:
    glb, gltf, embed = (read_gltf(SAMPLES / n) for n in ("BoxTextured.glb", "BoxTextured.gltf",
                                                           "BoxTexturedEmbed.gltf"))
    for other in (gltf, embed):
        a, b = glb.primitives[0], other.primitives[0]
        for field in ("positions", "normals", "uvs", "indices", "matrix"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_duck_matrix_comes_from_the_node_hierarchy() -> None:
    scene = read_gltf(SAMPLES / "Duck.glb")
    (duck,) = scene.primitives
    # node 0 scales by 0.01 and its child node 2 holds the mesh; node 1 is a camera.
    np.testing.assert_allclose(duck.matrix, np.diag([0.01, 0.01, 0.01, 1.0]), atol=1e-9)
    assert duck.vertex_count == 2399 and duck.triangle_count == 4212
    assert duck.uvs is not None and duck.uvs.shape == (2399, 2)
    assert "KHR_materials_pbrSpecularGlossiness" not in scene.extensions_required


def test_box_interleaved_root_rotation() -> None:
    (prim,) = read_gltf(SAMPLES / "BoxInterleaved.glb").primitives
    expected = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], float)  # -90 deg about X
    np.testing.assert_allclose(prim.matrix, expected, atol=1e-12)


def test_vertex_colours_are_rgba() -> None:
    (prim,) = read_gltf(SAMPLES / "cubevc.glb").primitives
    assert prim.colors is not None and prim.colors.shape == (54, 4) and prim.colors.dtype == np.float32
    g = _load_ref(SAMPLES / "cubevc.glb")
    ref = _ref_accessor(g, SAMPLES / "cubevc.glb", g.meshes[0].primitives[0].attributes.COLOR_0)
    np.testing.assert_allclose(prim.colors[:, :3], ref, rtol=1e-6)
    assert (prim.colors[:, 3] == 1.0).all()


def test_sparse_accessor_substitutes_the_file_values() -> None:
    (prim,) = read_gltf(SAMPLES / "SimpleSparseAccessor.gltf").primitives
    doc = json.loads((SAMPLES / "SimpleSparseAccessor.gltf").read_text())
    blob = base64.b64decode(doc["buffers"][0]["uri"].split(",", 1)[1])
    at = np.frombuffer(blob, "<u2", 3, 240)  # bufferView 2: the sparse indices
    values = np.frombuffer(blob, "<f4", 9, 248).reshape(3, 3)  # bufferView 3: the values
    base = np.frombuffer(blob, "<f4", 42, 72).reshape(14, 3)  # bufferView 1: the base positions
    assert list(at) == [8, 10, 12]
    np.testing.assert_array_equal(prim.positions[at], values)
    untouched = np.setdiff1d(np.arange(14), at)
    np.testing.assert_array_equal(prim.positions[untouched], base[untouched])
    assert not np.array_equal(base[at], values)


@pytest.mark.parametrize("path", TILE_FILES, ids=lambda p: p.parent.name)
def test_3dtiles_samples_load_with_feature_ids(path: Path) -> None:
    scene = read_gltf(path)
    doc = json.loads(path.read_text())
    g = _load_ref(path)
    expected = [prim for mesh in _ref_instances(g) for prim in doc["meshes"][mesh]["primitives"]]
    got = scene.primitives[: len(expected)]  # GPU instancing repeats them; see the test below
    assert scene.vertex_count > 0 and len(got) == len(expected)
    for prim, ref in zip(got, expected, strict=True):
        fid = ref["attributes"].get("_FEATURE_ID_0")
        assert (prim.feature_ids is not None) == (fid is not None)
        if fid is not None:
            assert prim.feature_ids is not None and prim.feature_ids.dtype == np.uint32
            np.testing.assert_array_equal(prim.feature_ids, _ref_accessor(g, path, fid).ravel())


def test_feature_ids_match_the_accessor() -> None:
    path = TILES / "EXT_mesh_features" / "FeatureIdAttribute" / "FeatureIdAttribute.gltf"
    (prim,) = read_gltf(path).primitives
    ref = _ref_accessor(_load_ref(path), path, 3).ravel()
    np.testing.assert_array_equal(prim.feature_ids, ref)
    assert set(ref) == {0, 1, 2, 3}


def test_gpu_instancing_places_one_primitive_per_instance() -> None:
    path = TILES / "GpuInstancesMetadata" / "GpuInstancesMetadata.gltf"
    scene = read_gltf(path)
    g = _load_ref(path)
    translations = _ref_accessor(g, path, 3)
    assert len(scene.primitives) == 10
    np.testing.assert_allclose([p.matrix[:3, 3] for p in scene.primitives], translations, rtol=1e-6)
    assert all(p.positions is scene.primitives[0].positions for p in scene.primitives)  # shared, not copied
    scales = _ref_accessor(g, path, 5)
    np.testing.assert_allclose([np.linalg.norm(p.matrix[:3, 0]) for p in scene.primitives], scales[:, 0],
                               rtol=1e-5)


# -- unsupported content ----------------------------------------------------------------------


def test_draco_is_refused_by_name() -> None:
    with pytest.raises(GltfError, match=r"Box-draco\.glb: .*KHR_draco_mesh_compression"):
        read_gltf(UNSUPPORTED / "Box-draco.glb")


def test_triangle_strip_is_converted() -> None:
    (prim,) = read_gltf(UNSUPPORTED / "Mesh_PrimitiveMode_04.gltf").primitives
    assert prim.vertex_count == 4 and prim.triangle_count == 4 - 2
    assert list(prim.indices) == [0, 1, 2, 1, 3, 2]
    tri = prim.positions[prim.indices.reshape(-1, 3)].astype(float)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert np.sign(normals[0, 2]) == np.sign(normals[1, 2]) != 0  # consistent winding


def test_triangle_fan_is_converted() -> None:
    square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [-1, 1, 0]], np.float32)
    (prim,) = read_glb_bytes(mesh_glb({"POSITION": square}, mode=6)).primitives
    assert list(prim.indices) == [1, 2, 0, 2, 3, 0, 3, 4, 0]


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_points_and_lines_are_refused(mode: int) -> None:
    with pytest.raises(GltfError, match="only triangle modes"):
        read_glb_bytes(mesh_glb({"POSITION": TRI}, mode=mode), "lines.glb")


def test_unknown_required_extension_is_refused() -> None:
    glb = mesh_glb({"POSITION": TRI}, extensionsUsed=["EXT_meshopt_compression"],
                   extensionsRequired=["EXT_meshopt_compression"])
    with pytest.raises(GltfError, match="requires the extension EXT_meshopt_compression"):
        read_glb_bytes(glb)


# -- synthetic edge cases -----------------------------------------------------------------------


def test_quantized_and_normalized_attributes_are_converted() -> None:
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 51]], np.uint8)
    normals = np.array([[127, 0, 0], [0, -128, 0], [0, 0, 127]], np.int8)
    positions = np.array([[0, 0, 0], [100, 0, 0], [0, 100, 0]], np.int16)
    uvs = np.array([[0, 0], [65535, 0], [0, 65535]], np.uint16)
    fids = np.array([7.0, 2.0, 4000000.0], np.float32)
    glb = mesh_glb({"POSITION": positions, "NORMAL": normals, "COLOR_0": colors, "TEXCOORD_0": uvs,
                    "_FEATURE_ID_0": fids}, normalized=("NORMAL", "COLOR_0", "TEXCOORD_0"),
                   extensionsUsed=["KHR_mesh_quantization"], extensionsRequired=["KHR_mesh_quantization"])
    (prim,) = read_glb_bytes(glb).primitives
    np.testing.assert_array_equal(prim.positions, positions.astype(np.float32))
    assert prim.normals is not None and prim.colors is not None and prim.uvs is not None
    np.testing.assert_allclose(prim.normals, [[1, 0, 0], [0, -1, 0], [0, 0, 1]])
    np.testing.assert_allclose(prim.colors, [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0.2, 1]], rtol=1e-6)
    np.testing.assert_allclose(prim.uvs, [[0, 0], [1, 0], [0, 1]])
    assert prim.feature_ids is not None and prim.feature_ids.dtype == np.uint32
    assert list(prim.feature_ids) == [7, 2, 4000000]
    assert list(prim.indices) == [0, 1, 2]  # generated for a non-indexed primitive


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_index_component_types(dtype: type) -> None:
    quad = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32)
    (prim,) = read_glb_bytes(mesh_glb({"POSITION": quad}, np.array([0, 1, 2, 0, 2, 3], dtype))).primitives
    assert prim.indices.dtype == np.uint32 and list(prim.indices) == [0, 1, 2, 0, 2, 3]


def test_index_out_of_range_is_refused() -> None:
    with pytest.raises(GltfError, match=r"bad\.glb: the indices of mesh 0 primitive 0 refer to vertex 3"):
        read_glb_bytes(mesh_glb({"POSITION": TRI}, np.array([0, 1, 3], np.uint16)), "bad.glb")


def _tamper(glb: bytes, change: Any) -> bytes:
    length = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20:20 + length])
    change(doc)
    rest = glb[20 + length:]
    binary = rest[8:] if rest else b""
    return make_glb(doc, binary)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["accessors"][0].update(count=4), "accessor 0 points past the end of bufferView 0"),
        (lambda d: d["bufferViews"][0].update(byteLength=99), "bufferView 0 points past the end of buffer 0"),
        (lambda d: d["accessors"][0].update(componentType=5124), "invalid componentType 5124"),
        (lambda d: d["accessors"][0].update(type="MAT4"), "type 'MAT4'"),
        (lambda d: d["accessors"][0].update(count=-1), "invalid count -1"),
        (lambda d: d["accessors"][0].update(count=True), "invalid count True"),
        (lambda d: d["accessors"][0].update(normalized=True), "invalid 'normalized'"),
        (lambda d: d["bufferViews"][0].update(byteStride=4), "less than the 12-byte elements"),
        (lambda d: d["meshes"][0]["primitives"][0]["attributes"].update(POSITION=9), "accessor 9"),
        (lambda d: d["meshes"][0]["primitives"][0].update(material=0), "material 0"),
        (lambda d: d["nodes"][0].update(children=[0]), "node 0 is reached twice"),
        (lambda d: d["nodes"][0].update(rotation=[0, 0, 0]), "invalid 'rotation'"),
        (lambda d: d["nodes"][0].update(matrix=[10**400] * 16), "invalid 'matrix'"),
        (lambda d: d.update(scene=3), "scene 3"),
        (lambda d: d["buffers"][0].update(uri="tri.bin"), "cannot be resolved without a path"),
        (lambda d: d["buffers"][0].update(uri="data:;base64,@@@"), "not valid base64"),
        (lambda d: d["buffers"][0].update(byteLength=100), "declares 100 bytes"),
        (lambda d: d["asset"].update(version="3.0"), "version '3.0' is not supported"),
        (lambda d: d.update(accessors={}), "'accessors' is not an array"),
    ],
)
def test_malformed_json_gives_a_named_error(change: Any, message: str) -> None:
    glb = _tamper(mesh_glb({"POSITION": TRI}), change)
    with pytest.raises(GltfError, match=r"^tri\.glb: .*" + message.replace(".", r"\.").replace("(", r"\(")
                       .replace("[", r"\[")) as info:
        read_glb_bytes(glb, "tri.glb")
    assert str(info.value).endswith(".")


def test_without_scenes_root_nodes_are_instanced() -> None:
    def drop(d: dict[str, Any]) -> None:
        del d["scene"], d["scenes"]
        d["nodes"] = [{"children": [1], "translation": [1, 2, 3]}, {"mesh": 0, "scale": [2, 2, 2]},
                      {"mesh": 0}]

    scene = read_glb_bytes(_tamper(mesh_glb({"POSITION": TRI}), drop))
    assert len(scene.primitives) == 2
    np.testing.assert_allclose(scene.primitives[0].matrix, [[2, 0, 0, 1], [0, 2, 0, 2], [0, 0, 2, 3],
                                                            [0, 0, 0, 1]])
    np.testing.assert_allclose(scene.primitives[1].matrix, np.eye(4))


def test_without_nodes_every_mesh_is_instanced_at_identity() -> None:
    def drop(d: dict[str, Any]) -> None:
        del d["scene"], d["scenes"], d["nodes"]

    (prim,) = read_glb_bytes(_tamper(mesh_glb({"POSITION": TRI}), drop)).primitives
    np.testing.assert_array_equal(prim.matrix, np.eye(4))


def test_node_trs_composes_translation_rotation_scale() -> None:
    half = math.sqrt(0.5)

    def trs(d: dict[str, Any]) -> None:
        d["nodes"][0].update(translation=[5, 0, 0], rotation=[0, 0, half, half], scale=[2, 1, 1])

    (prim,) = read_glb_bytes(_tamper(mesh_glb({"POSITION": TRI}), trs)).primitives
    # scale x by 2, rotate 90 degrees about +Z (x -> y), then move 5 along x: (1,0,0) -> (5,2,0)
    np.testing.assert_allclose(prim.matrix @ [1, 0, 0, 1], [5, 2, 0, 1], atol=1e-12)
    np.testing.assert_allclose(prim.matrix @ [0, 1, 0, 1], [4, 0, 0, 1], atol=1e-12)


def test_dataclasses_are_frozen_and_arrays_read_only() -> None:
    scene = read_gltf(SAMPLES / "Duck.glb")
    prim = scene.primitives[0]
    assert isinstance(scene, Scene) and isinstance(prim, Primitive)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prim.material = 3  # type: ignore[misc]
    for arr in (prim.positions, prim.normals, prim.uvs, prim.indices, prim.matrix):
        assert arr is not None and not arr.flags.writeable


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(GltfError, match=r"^missing\.glb: the file cannot be read"):
        read_gltf(tmp_path / "missing.glb")
    (tmp_path / "junk.gltf").write_bytes(b"\xff\xfe not json")
    with pytest.raises(GltfError, match=r"^junk\.gltf: the glTF JSON is invalid"):
        read_gltf(tmp_path / "junk.gltf")
    (tmp_path / "deep.gltf").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(GltfError, match=r"^deep\.gltf: the glTF JSON is invalid"):
        read_gltf(tmp_path / "deep.gltf")


# -- the Khronos validator's GLB corpus -------------------------------------------------------


@pytest.mark.parametrize("path", MALFORMED_FILES, ids=lambda p: p.name)
def test_malformed_glb_follows_the_validator(path: Path) -> None:
    report = json.loads(path.with_name(path.name + ".report.json").read_text())
    if report["issues"]["numErrors"] > 0:
        with pytest.raises(GltfError, match="^" + path.name.replace(".", r"\.") + ": "):
            read_gltf(path)
        with pytest.raises(GltfError):
            read_glb_bytes(path.read_bytes(), path.name)
    else:
        assert isinstance(read_gltf(path), Scene)
        assert isinstance(read_glb_bytes(path.read_bytes()), Scene)


# -- fuzzing: GltfError or a Scene, nothing else ------------------------------------------------

VALID_GLBS = {n: (SAMPLES / n).read_bytes() for n in ("BoxInterleaved.glb", "Duck.glb", "cubevc.glb")}
_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _loads_or_gltf_error(data: bytes) -> None:
    try:
        scene = read_glb_bytes(data, "fuzz.glb")
    except GltfError as exc:
        assert str(exc).startswith("fuzz.glb: ")
        return
    for prim in scene.primitives:
        if len(prim.indices):
            assert int(prim.indices.max()) < prim.vertex_count


@_FUZZ
@given(st.binary(max_size=512))
def test_fuzz_random_bytes(data: bytes) -> None:
    _loads_or_gltf_error(data)
    _loads_or_gltf_error(b"glTF\x02\x00\x00\x00" + data)


@_FUZZ
@given(st.sampled_from(sorted(VALID_GLBS)), st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)),
                                                      max_size=8), st.integers(0, 2**31))
def test_fuzz_byte_mutations_and_truncations(name: str, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID_GLBS[name])
    for at, value in flips:
        data[at % len(data)] = value
    _loads_or_gltf_error(bytes(data))
    _loads_or_gltf_error(bytes(data[: cut % (len(data) + 1)]))


_JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                         st.builds(list), st.builds(dict), st.lists(st.integers(-3, 40), max_size=5),
                         st.integers(-2, 60), st.sampled_from(["SCALAR", "VEC2", "VEC4", "MAT4"]))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@_FUZZ
@given(st.sampled_from(sorted(VALID_GLBS)), st.data())
def test_fuzz_json_value_mutations(name: str, data: st.DataObject) -> None:
    glb = VALID_GLBS[name]
    length = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20:20 + length])
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        target = doc
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = data.draw(_JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    binary = glb[20 + length + 8:]
    _loads_or_gltf_error(make_glb(doc, binary))
