"""A fast, pure-numpy reader for glTF 2.0 (``.gltf`` and ``.glb``) triangle meshes.

Why: city tiles arrive as glTF, and the kiosk must turn millions of vertices into GPU
buffers without a per-vertex Python loop. This reader parses the JSON, checks every
byte range, and hands back numpy views straight into the file's bytes (interleaved
data included); it copies only where a conversion is needed (normalised integers,
sparse accessors, strip/fan to list, VEC3 colours to RGBA).

Units and axes are the file's own: glTF metres, y up, right-handed. Each
:class:`Primitive` keeps its vertices in its mesh's space and carries the 4x4 world
matrix of the node instance that places it (column vectors, ``p' = M @ p``).

Anything wrong with a file raises :class:`~world.errors.GltfError` and nothing else,
whatever the bytes: a one-sentence message naming the file and the problem.

>>> import json, struct
>>> doc = json.dumps({"asset": {"version": "2.0"}}).encode()
>>> doc += b" " * (-len(doc) % 4)
>>> glb = struct.pack("<4sII", b"glTF", 2, 20 + len(doc)) + struct.pack("<I4s", len(doc), b"JSON") + doc
>>> read_glb_bytes(glb, "empty.glb").vertex_count
0
>>> read_glb_bytes(b"nonsense", "bad.glb")
Traceback (most recent call last):
world.errors.GltfError: bad.glb: the data is too short to be a GLB file (8 of 12 header bytes).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from world._gltf_accessors import INDEX_TYPES, Doc, as_uint32, is_int, to_float32, triangle_list
from world.errors import GltfError

__all__ = ["SUPPORTED_REQUIRED_EXTENSIONS", "Primitive", "Scene", "read_glb_bytes", "read_gltf"]

# Extensions a file may *require* and still be read correctly by this reader: they
# either change only how vertex data is stored (handled here) or add metadata.
SUPPORTED_REQUIRED_EXTENSIONS = frozenset(
    {
        "KHR_mesh_quantization",
        "EXT_mesh_gpu_instancing",
        "EXT_mesh_features",
        "EXT_instance_features",
        "EXT_structural_metadata",
    }
)
_GLB_MAGIC, _CHUNK_JSON, _CHUNK_BIN = b"glTF", 0x4E4F534A, 0x004E4942
_MODE_NAMES = {0: "POINTS", 1: "LINES", 2: "LINE_LOOP", 3: "LINE_STRIP"}
_MAX_INSTANCES = 1 << 20  # primitive instances a scene may expand to
_VERSION = re.compile(r"(\d+)\.(\d+)")
_IDENTITY = np.eye(4)
_IDENTITY.flags.writeable = False


@dataclass(frozen=True, slots=True, eq=False)
class Primitive:
    """One triangle mesh primitive placed by one node instance.

    Arrays are read-only and may be strided views into the file's bytes (use
    ``np.ascontiguousarray`` before handing them to a GPU API). Instances of the same
    glTF primitive share their vertex arrays and differ only in ``matrix``.
    """

    positions: np.ndarray  # (n, 3) float32, metres in the mesh's space (glTF y-up)
    normals: np.ndarray | None  # (n, 3) float32
    colors: np.ndarray | None  # (n, 4) float32 RGBA in 0..1 (COLOR_0)
    uvs: np.ndarray | None  # (n, 2) float32 (TEXCOORD_0)
    indices: np.ndarray  # (3 * triangles,) uint32 triangle list
    feature_ids: np.ndarray | None  # (n,) uint32 (_FEATURE_ID_0, EXT_mesh_features)
    material: int | None  # index into Scene.materials
    matrix: np.ndarray  # (4, 4) float64 world matrix of the node instance, p' = M @ p

    @property
    def vertex_count(self) -> int:
        """Number of vertices."""
        return len(self.positions)

    @property
    def triangle_count(self) -> int:
        """Number of triangles."""
        return len(self.indices) // 3


@dataclass(frozen=True, slots=True, eq=False)
class Scene:
    """What :func:`read_gltf` returns: the placed primitives of the file's scene."""

    primitives: list[Primitive]  # one per (node instance, glTF primitive)
    materials: list[dict[str, Any]]  # the raw glTF material objects
    extensions_used: list[str]
    extensions_required: list[str]
    json: dict[str, Any]  # the parsed glTF JSON

    @property
    def vertex_count(self) -> int:
        """Vertices over all primitive instances."""
        return sum(p.vertex_count for p in self.primitives)

    @property
    def triangle_count(self) -> int:
        """Triangles over all primitive instances."""
        return sum(p.triangle_count for p in self.primitives)


def read_gltf(path: str | os.PathLike[str]) -> Scene:
    """Read a ``.glb`` or ``.gltf`` file (external buffers resolve relative to it).

    The container is recognised by its first bytes (GLB magic ``glTF``) or, failing
    that, by a ``.glb`` suffix; anything else is parsed as glTF JSON.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise GltfError(f"{file.name}: the file cannot be read ({exc.strerror or exc}).") from None
    if data[:4] == _GLB_MAGIC or file.suffix.lower() == ".glb":
        return _read_glb(memoryview(data), file.name, file.parent)
    return _build(Doc(file.name, _parse_json(data, file.name), None, file.parent))


def read_glb_bytes(data: bytes | bytearray | memoryview, name: str = "<bytes>") -> Scene:
    """Read a GLB held in memory; ``name`` is what error messages call it.

    External buffer URIs cannot be resolved here and raise GltfError; ``data:`` URIs and
    the GLB binary chunk work. The returned arrays may view ``data`` itself, so do not
    modify a mutable ``data`` afterwards.
    """
    try:
        view = memoryview(data).cast("B")
    except (TypeError, ValueError):
        raise GltfError(f"{name}: the data is not a contiguous byte buffer.") from None
    return _read_glb(view, name, None)


# -- container and JSON ----------------------------------------------------------------


def _read_glb(data: memoryview, name: str, base_dir: Path | None) -> Scene:
    """Split a GLB into its JSON and BIN chunks (bytes after the declared length are ignored)."""
    size = len(data)
    if size < 12:
        raise GltfError(f"{name}: the data is too short to be a GLB file ({size} of 12 header bytes).")
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != _GLB_MAGIC:
        raise GltfError(f"{name}: the data does not start with the GLB magic 'glTF'.")
    if version != 2:
        raise GltfError(f"{name}: GLB version {version} is not supported (only version 2).")
    if length < 20:
        raise GltfError(f"{name}: the declared GLB length {length} is too small to hold a JSON chunk.")
    if length > size:
        raise GltfError(f"{name}: the GLB declares {length} bytes but only {size} are present.")
    offset, chunks = 12, 0
    json_chunk: memoryview | None = None
    bin_chunk: memoryview | None = None
    while offset < length:
        if offset + 8 > length:
            raise GltfError(f"{name}: the GLB chunk header at byte {offset} is truncated.")
        chunk_length, chunk_type = struct.unpack_from("<II", data, offset)
        start, offset = offset + 8, offset + 8 + chunk_length
        if offset > length:
            raise GltfError(f"{name}: the GLB chunk at byte {start - 8} runs past the end of the GLB stream.")
        chunk = data[start:offset]
        if chunks == 0 and chunk_type != _CHUNK_JSON:
            raise GltfError(f"{name}: the first GLB chunk is not the JSON chunk (type 0x{chunk_type:08x}).")
        if chunk_type == _CHUNK_JSON:
            if json_chunk is not None:
                raise GltfError(f"{name}: the GLB has more than one JSON chunk.")
            if chunk_length == 0:
                raise GltfError(f"{name}: the GLB JSON chunk is empty.")
            json_chunk = chunk
        elif chunk_type == _CHUNK_BIN:
            if bin_chunk is not None or chunks != 1:
                raise GltfError(f"{name}: the GLB has a BIN chunk that is repeated or not the second chunk.")
            bin_chunk = chunk
        chunks += 1  # chunks of unknown type are skipped, as the specification asks
    assert json_chunk is not None  # the loop ran at least once since length >= 20
    return _build(Doc(name, _parse_json(json_chunk, name), bin_chunk, base_dir))


def _reject_constant(token: str) -> None:
    raise ValueError(f"{token} is not valid JSON")


def _parse_json(raw: bytes | memoryview, name: str) -> dict[str, Any]:
    """Parse and minimally check the glTF JSON (an object with a 2.x ``asset.version``)."""
    try:
        text = bytes(raw).rstrip(b" \t\r\n\x00").decode("utf-8-sig")
        gltf = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise GltfError(f"{name}: the glTF JSON is invalid ({str(exc)[:120]}).") from None
    if not isinstance(gltf, dict):
        raise GltfError(f"{name}: the glTF JSON is not an object.")
    asset = gltf.get("asset")
    if not isinstance(asset, dict) or not isinstance(asset.get("version"), str):
        raise GltfError(f"{name}: the glTF JSON has no asset.version.")
    for key in ("version", "minVersion"):
        value = asset.get(key, "2.0")
        match = _VERSION.fullmatch(value) if isinstance(value, str) else None
        if match is None or match.group(1) != "2" or (key == "minVersion" and match.group(2) != "0"):
            raise GltfError(f"{name}: glTF asset {key} {value!r} is not supported (only 2.x).")
    return gltf


def _string_list(doc: Doc, key: str) -> list[str]:
    value = doc.array(key)
    if not all(isinstance(v, str) for v in value):
        doc.fail(f"'{key}' is not an array of strings.")
    return list(value)


# -- scene ------------------------------------------------------------------------------


def _build(doc: Doc) -> Scene:
    """Check extensions, walk the scene's node trees and read every placed primitive."""
    used, required = _string_list(doc, "extensionsUsed"), _string_list(doc, "extensionsRequired")
    for ext in required:
        if ext not in SUPPORTED_REQUIRED_EXTENSIONS:
            doc.fail(f"the file requires the extension {ext}, which this reader does not support.")
    materials = doc.array("materials")
    if not all(isinstance(m, dict) for m in materials):
        doc.fail("'materials' is not an array of objects.")
    placed: list[Primitive] = []
    cache: dict[int, list[Primitive]] = {}
    with np.errstate(all="ignore"):
        for mesh, matrix in _mesh_instances(doc):
            if mesh not in cache:
                cache[mesh] = _read_mesh(doc, mesh, len(materials))
            if len(placed) + len(cache[mesh]) > _MAX_INSTANCES:
                doc.fail(f"the scene expands to more than {_MAX_INSTANCES} primitive instances.")
            placed.extend(dataclasses.replace(p, matrix=matrix) for p in cache[mesh])
    return Scene(placed, list(materials), used, required, doc.gltf)


def _mesh_instances(doc: Doc) -> list[tuple[int, np.ndarray]]:
    """(mesh index, world matrix) for every mesh instance of the document's scene."""
    nodes, scenes = doc.array("nodes"), doc.array("scenes")
    if "scene" in doc.gltf or scenes:
        scene = doc.item("scenes", doc.gltf.get("scene", 0), "the document")
        roots = scene.get("nodes", [])
        if not isinstance(roots, list):
            doc.fail("a scene's 'nodes' is not an array.")
    elif nodes:
        children = {c for n in nodes if isinstance(n, dict) for c in _children(doc, n) if is_int(c)}
        roots = [i for i in range(len(nodes)) if i not in children]
    else:
        return [(i, _IDENTITY) for i in range(len(doc.array("meshes")))]
    out: list[tuple[int, np.ndarray]] = []
    visited: set[int] = set()
    stack = [(index, np.eye(4)) for index in reversed(roots)]
    while stack:
        index, parent = stack.pop()
        node = doc.item("nodes", index, "the scene")
        if index in visited:
            doc.fail(f"node {index} is reached twice in the scene; nodes must form trees.")
        visited.add(index)
        world = parent @ _local_matrix(doc, node, index)
        if "mesh" in node:
            mesh = node["mesh"]
            doc.item("meshes", mesh, f"node {index}")
            for matrix in _instance_matrices(doc, node, index, world):
                matrix.flags.writeable = False
                out.append((mesh, matrix))
                if len(out) > _MAX_INSTANCES:
                    doc.fail(f"the scene expands to more than {_MAX_INSTANCES} mesh instances.")
        stack.extend((child, world) for child in reversed(_children(doc, node)))
    return out


def _children(doc: Doc, node: dict[str, Any]) -> list[Any]:
    children = node.get("children", [])
    if not isinstance(children, list):
        doc.fail("a node's 'children' is not an array.")
    return children


def _numbers(doc: Doc, obj: dict[str, Any], key: str, size: int, default: list[float],
             what: str) -> np.ndarray:
    """A fixed-length array of finite JSON numbers as float64."""
    value = obj.get(key, default)
    ok = isinstance(value, list) and len(value) == size
    if ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        try:
            arr = np.array(value, dtype=np.float64)
        except OverflowError:  # an integer beyond float64 range
            arr = np.array([np.inf])
        if np.isfinite(arr).all():
            return arr
    doc.fail(f"{what} has an invalid '{key}' (expected {size} finite numbers).")


def _local_matrix(doc: Doc, node: dict[str, Any], index: int) -> np.ndarray:
    what = f"node {index}"
    if "matrix" in node:
        return _numbers(doc, node, "matrix", 16, [], what).reshape(4, 4).T  # stored column-major
    if "translation" not in node and "rotation" not in node and "scale" not in node:
        return _IDENTITY
    t = _numbers(doc, node, "translation", 3, [0.0, 0.0, 0.0], what)
    r = _numbers(doc, node, "rotation", 4, [0.0, 0.0, 0.0, 1.0], what)
    s = _numbers(doc, node, "scale", 3, [1.0, 1.0, 1.0], what)
    return _trs(t[None], r[None], s[None])[0]


def _trs(t: np.ndarray, r: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(k, 4, 4) matrices T @ R @ S from (k,3) translations, (k,4) xyzw quaternions, (k,3) scales."""
    q = np.asarray(r, dtype=np.float64)
    norm2 = np.einsum("ij,ij->i", q, q)
    q = np.where(norm2[:, None] > 0, q / np.sqrt(np.where(norm2 > 0, norm2, 1.0))[:, None], [0, 0, 0, 1])
    x, y, z, w = q.T
    m = np.zeros((len(q), 4, 4))
    m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = 1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)
    m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)
    m[:, 2, 0], m[:, 2, 1], m[:, 2, 2] = 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)
    m[:, :3, :3] *= np.asarray(s, dtype=np.float64)[:, None, :]
    m[:, :3, 3] = t
    m[:, 3, 3] = 1.0
    return m


def _instance_matrices(doc: Doc, node: dict[str, Any], index: int, world: np.ndarray) -> list[np.ndarray]:
    """The node's world matrix, or one per instance when it uses EXT_mesh_gpu_instancing."""
    ext = node.get("extensions")
    inst = ext.get("EXT_mesh_gpu_instancing") if isinstance(ext, dict) else None
    if inst is None:
        return [world]
    attrs = inst.get("attributes") if isinstance(inst, dict) else None
    if not isinstance(attrs, dict) or not attrs:
        doc.fail(f"node {index} has an EXT_mesh_gpu_instancing without attributes.")
    what = f"EXT_mesh_gpu_instancing of node {index}"
    parts: dict[str, np.ndarray] = {}
    for key, size in (("TRANSLATION", 3), ("ROTATION", 4), ("SCALE", 3)):
        if key in attrs:
            parts[key] = _attribute(doc, attrs[key], f"{key} of the {what}", (size,))
    counts = {len(a) for a in parts.values()}
    if len(counts) != 1:
        doc.fail(f"the {what} needs TRANSLATION, ROTATION or SCALE attributes of one common length.")
    k = counts.pop()
    t = parts.get("TRANSLATION", np.zeros((k, 3)))
    r = parts.get("ROTATION", np.tile([0.0, 0.0, 0.0, 1.0], (k, 1)))
    s = parts.get("SCALE", np.ones((k, 3)))
    return list(world @ _trs(t, r, s))


# -- meshes ------------------------------------------------------------------------------


def _attribute(doc: Doc, index: object, what: str, sizes: tuple[int, ...],
               colour: bool = False) -> np.ndarray:
    """An attribute accessor with one of ``sizes`` components, as read-only float32.

    Integer data (KHR_mesh_quantization) is converted; normalised integers, and any
    integer colour, are scaled to 0..1 (or -1..1 when signed); a colour gains alpha 1.
    The result is shared by every primitive that uses the accessor.
    """
    arr, component, normalized = doc.accessor(index, what)
    if arr.shape[1] not in sizes:
        doc.fail(f"{what} uses accessor {index} with {arr.shape[1]} components; expected {sizes}.")
    key = ("float", index, colour)
    out = doc.memo.get(key)
    if out is None:
        out = to_float32(arr, component, normalized or colour)
        if colour and out.shape[1] == 3:
            out = np.concatenate([out, np.ones((len(out), 1), np.float32)], axis=1)
        out.flags.writeable = False
        doc.memo[key] = out
    return out


def _read_mesh(doc: Doc, mesh_index: int, material_count: int) -> list[Primitive]:
    mesh = doc.item("meshes", mesh_index, "a node")
    prims = mesh.get("primitives")
    if not isinstance(prims, list) or not prims:
        doc.fail(f"mesh {mesh_index} has no primitives array.")
    return [_read_primitive(doc, p, f"mesh {mesh_index} primitive {i}", material_count, _IDENTITY)
            for i, p in enumerate(prims)]


def _read_primitive(doc: Doc, prim: object, what: str, material_count: int, matrix: np.ndarray) -> Primitive:
    if not isinstance(prim, dict):
        doc.fail(f"{what} is not a JSON object.")
    attrs = prim.get("attributes")
    if not isinstance(attrs, dict) or "POSITION" not in attrs:
        doc.fail(f"{what} has no POSITION attribute.")
    mode = doc.integer(prim, "mode", what, default=4, hi=6)
    if mode in _MODE_NAMES:
        doc.fail(f"{what} draws {_MODE_NAMES[mode]}; only triangle modes are supported.")
    positions = _attribute(doc, attrs["POSITION"], f"POSITION of {what}", (3,))
    n = len(positions)
    optional: dict[str, np.ndarray | None] = {}
    for key, sizes, colour in (("NORMAL", (3,), False), ("COLOR_0", (3, 4), True),
                               ("TEXCOORD_0", (2,), False)):
        arr = _attribute(doc, attrs[key], f"{key} of {what}", sizes, colour) if key in attrs else None
        if arr is not None and len(arr) != n:
            doc.fail(f"{key} of {what} has {len(arr)} elements but POSITION has {n}.")
        optional[key] = arr
    feature_ids = None
    if "_FEATURE_ID_0" in attrs:
        raw, component, _ = doc.accessor(attrs["_FEATURE_ID_0"], f"_FEATURE_ID_0 of {what}")
        if raw.shape[1] != 1 or len(raw) != n:
            doc.fail(f"_FEATURE_ID_0 of {what} is not a SCALAR accessor with one value per vertex.")
        feature_ids = doc.memo.get(("ids", attrs["_FEATURE_ID_0"]))
        if feature_ids is None:
            feature_ids = doc.memo[("ids", attrs["_FEATURE_ID_0"])] = as_uint32(raw[:, 0], component)
    material = prim.get("material")
    if material is not None and (not is_int(material) or not 0 <= material < material_count):
        doc.fail(f"{what} refers to material {material!r}, which does not exist.")
    return Primitive(positions, optional["NORMAL"], optional["COLOR_0"], optional["TEXCOORD_0"],
                     _indices(doc, prim, what, n, mode), feature_ids, material, matrix)


def _indices(doc: Doc, prim: dict[str, Any], what: str, n: int, mode: int) -> np.ndarray:
    """The primitive's triangle list as uint32, converted from strips and fans.

    Checked and converted once per (accessor, vertex count, mode), then shared.
    """
    key = ("indices", prim.get("indices"), n, mode)
    if "indices" in prim:
        raw, component, _ = doc.accessor(prim["indices"], f"the indices of {what}")
        if raw.shape[1] != 1 or component not in INDEX_TYPES:
            doc.fail(f"the indices of {what} are not a SCALAR accessor of unsigned integers.")
        if key in doc.memo:
            return doc.memo[key]
        idx = raw[:, 0] if raw.dtype == np.uint32 else raw[:, 0].astype(np.uint32)
        if len(idx) and int(idx.max()) >= n:
            doc.fail(f"the indices of {what} refer to vertex {int(idx.max())} of only {n} vertices.")
    elif key in doc.memo:
        return doc.memo[key]
    else:
        idx = np.arange(n, dtype=np.uint32)
    idx = triangle_list(idx, mode)
    doc.memo[key] = idx
    return idx
