"""Independent checks of our GLB tiles with pygltflib (not our reader): the parts of
EXT_mesh_features and EXT_structural_metadata the Khronos validator does not check."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pygltflib

_DTYPES = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def accessor_array(gltf: pygltflib.GLTF2, blob: bytes, index: int) -> np.ndarray:
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    dtype = np.dtype(_DTYPES[accessor.componentType]).newbyteorder("<")
    width = _WIDTH[accessor.type]
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    data = np.frombuffer(blob, dtype=dtype, count=accessor.count * width, offset=start)
    return data.reshape(accessor.count, width) if width > 1 else data


def property_strings(gltf: pygltflib.GLTF2, blob: bytes, prop: dict) -> list[str]:
    values = gltf.bufferViews[prop["values"]]
    offsets_view = gltf.bufferViews[prop["stringOffsets"]]
    offsets = np.frombuffer(blob, "<u4", count=offsets_view.byteLength // 4, offset=offsets_view.byteOffset)
    assert (np.diff(offsets.astype(np.int64)) >= 0).all(), "string offsets never decrease"
    assert offsets[0] == 0 and offsets[-1] == values.byteLength
    raw = blob[values.byteOffset:values.byteOffset + values.byteLength]
    return [raw[a:b].decode("utf-8") for a, b in pairwise(offsets)]


def check_tile(path: Path) -> dict[str, object]:
    """Assert the tile's structure; return its feature ids and per-material counts."""
    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()
    assert len(gltf.meshes) == 1 and len(gltf.nodes) == 1, "one node and one mesh per tile"
    materials = [gltf.materials[p.material].name for p in gltf.meshes[0].primitives]
    assert len(materials) == len(set(materials)), "one primitive per material"
    metadata = gltf.extensions.get("EXT_structural_metadata")
    ids: list[str] = []
    if metadata:
        assert "EXT_structural_metadata" in gltf.extensionsUsed
        table = metadata["propertyTables"][0]
        for prop in table["properties"].values():
            for key in ("values", "stringOffsets"):
                if key in prop:
                    assert gltf.bufferViews[prop[key]].byteOffset % 8 == 0, "8-byte aligned metadata"
        ids = property_strings(gltf, blob, table["properties"]["id"])
        assert len(ids) == table["count"] == len(set(ids))
    for primitive in gltf.meshes[0].primitives:
        attributes = primitive.attributes
        positions = accessor_array(gltf, blob, attributes.POSITION)
        assert positions.dtype == np.float32
        normals = accessor_array(gltf, blob, attributes.NORMAL)
        assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
        declared = (primitive.extensions or {}).get("EXT_mesh_features")
        feature_attr = getattr(attributes, "_FEATURE_ID_0", None)
        if declared:
            assert feature_attr is not None
            feature_ids = accessor_array(gltf, blob, feature_attr)
            count = declared["featureIds"][0]["featureCount"]
            assert count == len(ids)
            assert feature_ids.min() >= 0 and feature_ids.max() < count
            assert np.array_equal(feature_ids, np.round(feature_ids)), "integral feature ids"
        else:
            assert gltf.materials[primitive.material].name == "terrain"
    return {"ids": ids, "materials": materials, "gltf": gltf, "blob": blob}


def feature_triangles(package: Path) -> dict[str, np.ndarray]:
    """Per feature id, its triangles ``(t, 3, 3)`` in local metres (z up) as our reader
    returns them from the package's tiles. Tile origins sit at z = 0, so z is absolute."""
    from world.gltf_read import read_gltf

    parts: dict[str, list[np.ndarray]] = {}
    for tile in sorted((package / "tiles").glob("*.glb")):
        ids = check_tile(tile)["ids"]
        for primitive in read_gltf(tile).primitives:
            if primitive.feature_ids is None:
                continue
            p = primitive.positions.astype(np.float64)
            xyz = np.column_stack([p[:, 0], -p[:, 2], p[:, 1]])[primitive.indices.reshape(-1, 3)]
            owner = primitive.feature_ids[primitive.indices[::3]]
            for index in np.unique(owner):
                parts.setdefault(ids[index], []).append(xyz[owner == index])
    return {fid: np.concatenate(chunks) for fid, chunks in parts.items()}


def enclosed_volume_m3(triangles: np.ndarray) -> float:
    """Divergence-theorem volume; floors left out at z = 0 add nothing to it."""
    return float(np.einsum("ij,ij->i", triangles[:, 0], np.cross(triangles[:, 1], triangles[:, 2])).sum() / 6.0)
