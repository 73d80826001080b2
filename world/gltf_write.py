"""GLB tiles: glTF 2.0 binary, one primitive per material, feature ids and a property table.

A tile holds one node whose ``translation`` is the tile origin and one mesh with a
primitive per material. Positions are float32 relative to the tile origin; glTF is
y-up, so local ``(x east, y north, z up)`` is stored as ``(x, z, -y)`` (3D Tiles turns
it back with its standard y-up → z-up rotation). Each vertex carries
``_FEATURE_ID_0`` (float32, exact below 2²⁴), declared with ``EXT_mesh_features``,
indexing the tile's ``EXT_structural_metadata`` property table: one row per feature
with its stable id, kind, class, name and height.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from world.mesh import MATERIALS, MeshSoup

__all__ = ["TileContent", "FeatureRow", "encode_glb", "write_glb"]

_GLB_MAGIC = 0x46546C67
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_FLOAT, _UBYTE, _USHORT, _UINT = 5126, 5121, 5123, 5125

#: Columns of the property table, with their EXT_structural_metadata type.
_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {"type": "STRING", "description": "Stable feature id, as in the feature store."},
    "kind": {"type": "STRING", "description": "building, road, area or tree."},
    "class": {"type": "STRING", "description": "Building type, road class or land-cover class."},
    "name": {"type": "STRING", "description": "Name from the source, or empty."},
    "height_m": {"type": "SCALAR", "componentType": "FLOAT32",
                 "description": "Height above ground, metres (0 for flat features)."},
}


@dataclass(frozen=True, slots=True)
class FeatureRow:
    id: str
    kind: str
    feature_class: str
    name: str
    height_m: float


@dataclass(slots=True)
class TileContent:
    """One tile: its origin in local metres, meshes per material (feature indices
    already local to the tile, ``-1`` for none), and the features' rows in that order."""

    origin_m: tuple[float, float, float]
    meshes: dict[str, MeshSoup]
    features: list[FeatureRow]


class _Binary:
    """The BIN chunk under construction: 8-byte aligned views (the strictest alignment
    EXT_structural_metadata asks for)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []

    def add(self, data: bytes, target: int | None = None) -> int:
        pad = (-self.length) % 8
        if pad:
            self.chunks.append(b"\0" * pad)
            self.length += pad
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.views.append(view)
        self.chunks.append(data)
        self.length += len(data)
        return len(self.views) - 1

    def payload(self) -> bytes:
        data = b"".join(self.chunks)
        return data + b"\0" * ((-len(data)) % 4)


def _y_up(xyz: np.ndarray) -> np.ndarray:
    out = np.empty((len(xyz), 3), dtype=np.float32)
    out[:, 0], out[:, 1], out[:, 2] = xyz[:, 0], xyz[:, 2], -xyz[:, 1]
    return out


def _property_table(binary: _Binary, rows: list[FeatureRow]) -> dict[str, Any]:
    columns: dict[str, list[Any]] = {
        "id": [r.id for r in rows], "kind": [r.kind for r in rows],
        "class": [r.feature_class for r in rows], "name": [r.name for r in rows],
        "height_m": [r.height_m for r in rows],
    }
    properties: dict[str, Any] = {}
    for name, spec in _PROPERTIES.items():
        if spec["type"] == "STRING":
            encoded = [s.encode("utf-8") for s in columns[name]]
            if not any(encoded):
                continue  # a zero-length bufferView is invalid; the property is optional
            offsets = np.zeros(len(encoded) + 1, dtype="<u4")
            offsets[1:] = np.cumsum([len(b) for b in encoded])
            properties[name] = {
                "values": binary.add(b"".join(encoded)),
                "stringOffsets": binary.add(offsets.tobytes()),
                "stringOffsetType": "UINT32",
            }
        else:
            properties[name] = {"values": binary.add(np.asarray(columns[name], "<f4").tobytes())}
    return {"class": "feature", "count": len(rows), "properties": properties}


def encode_glb(tile: TileContent, generator: str = "civictwin") -> bytes:
    """The GLB bytes of one tile."""
    binary = _Binary()
    accessors: list[dict[str, Any]] = []
    primitives: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    origin = np.asarray(tile.origin_m, dtype=np.float64)

    def accessor(data: np.ndarray, component: int, kind: str, target: int, **extra: Any) -> int:
        view = binary.add(np.ascontiguousarray(data).tobytes(), target)
        accessors.append({"bufferView": view, "componentType": component, "count": len(data),
                          "type": kind, **extra})
        return len(accessors) - 1

    feature_count = len(tile.features)
    for material_name, soup in tile.meshes.items():
        if len(soup.triangles) == 0:
            continue
        positions = _y_up(soup.positions - origin)
        attributes = {
            "POSITION": accessor(positions, _FLOAT, "VEC3", _ARRAY_BUFFER,
                                 min=[float(v) for v in positions.min(axis=0)],
                                 max=[float(v) for v in positions.max(axis=0)]),
            "NORMAL": accessor(_y_up(soup.normals), _FLOAT, "VEC3", _ARRAY_BUFFER),
            "COLOR_0": accessor(soup.colors.astype(np.uint8), _UBYTE, "VEC4", _ARRAY_BUFFER,
                                normalized=True),
        }
        primitive: dict[str, Any] = {"attributes": attributes, "mode": 4, "material": len(materials)}
        if (soup.features >= 0).any():
            attributes["_FEATURE_ID_0"] = accessor(soup.features.astype("<f4"), _FLOAT, "SCALAR",
                                                   _ARRAY_BUFFER)
            primitive["extensions"] = {"EXT_mesh_features": {"featureIds": [
                {"featureCount": feature_count, "attribute": 0, "propertyTable": 0}]}}
        wide = soup.vertex_count > 0xFFFF
        indices = soup.triangles.reshape(-1).astype("<u4" if wide else "<u2")
        primitive["indices"] = accessor(indices, _UINT if wide else _USHORT, "SCALAR",
                                        _ELEMENT_ARRAY_BUFFER)
        primitives.append(primitive)
        materials.append({"name": material_name, "pbrMetallicRoughness": {
            "baseColorFactor": [1.0, 1.0, 1.0, 1.0], "metallicFactor": 0.0,
            "roughnessFactor": MATERIALS[material_name]}})

    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": generator},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "tile",
                   "translation": [float(origin[0]), float(origin[2]), float(-origin[1])]}],
        "meshes": [{"primitives": primitives}],
        "materials": materials,
        "accessors": accessors,
    }
    if feature_count:
        document["extensionsUsed"] = ["EXT_mesh_features", "EXT_structural_metadata"]
        document["extensions"] = {"EXT_structural_metadata": {
            "schema": {"id": "civictwin", "classes": {"feature": {"properties": _PROPERTIES}}},
            "propertyTables": [_property_table(binary, tile.features)],
        }}
    payload = binary.payload()
    document["bufferViews"] = binary.views
    document["buffers"] = [{"byteLength": len(payload)}]
    if not primitives:
        raise ValueError("a tile needs at least one non-empty mesh")

    text = json.dumps(document, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 4)
    total = 12 + 8 + len(text) + 8 + len(payload)
    return b"".join([
        struct.pack("<III", _GLB_MAGIC, 2, total),
        struct.pack("<II", len(text), _CHUNK_JSON), text,
        struct.pack("<II", len(payload), _CHUNK_BIN), payload,
    ])


def write_glb(path: Path, tile: TileContent) -> int:
    """Write one tile; returns its size in bytes."""
    data = encode_glb(tile)
    path.write_bytes(data)
    return len(data)
