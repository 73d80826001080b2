"""The ``EXT_structural_metadata`` property table of a tile, as plain Python columns.

City tiles (:mod:`world.gltf_write`) give every vertex a ``_FEATURE_ID_0`` that indexes
one row of the tile's property table: the feature's stable id, kind, class, name and
height. :func:`feature_table` decodes that table into ``{property: [value per row]}``
so that the kiosk can name what a ray hit without opening the feature store.

A :class:`~world.gltf_read.Scene` keeps the glTF JSON but not the binary buffers, so
the caller also hands over where the bytes are: the file the scene was read from, or
the GLB bytes themselves. Supported: STRING properties (UINT8, UINT16 or UINT32 string
offsets) and SCALAR numeric properties, without arrays, offset or scale (all a tile
written by :mod:`world.gltf_write` uses). A class property the table leaves out (the
writer omits a column of empty strings) comes back as its ``default``, else ``""``
for a string and ``None`` for a number. Anything malformed raises
:class:`~world.errors.GltfError` naming the file and the part at fault.

>>> import numpy as np
>>> from world.gltf_read import read_glb_bytes
>>> from world.gltf_write import FeatureRow, TileContent, encode_glb
>>> from world.mesh import MeshSoup
>>> soup = MeshSoup(np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]), np.tile(np.float32([0, 0, 1]), (3, 1)),
...                 np.full((3, 4), 255, np.uint8), np.zeros(3, np.int64), np.array([[0, 1, 2]]))
>>> glb = encode_glb(TileContent((0.0, 0.0, 0.0), {"ground": soup}, [FeatureRow("osm:w1", "area", "park", "", 0.0)]))
>>> feature_table(read_glb_bytes(glb, "t.glb"), glb)
{'id': ['osm:w1'], 'kind': ['area'], 'class': ['park'], 'name': [''], 'height_m': [0.0]}
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from world._gltf_accessors import Doc, is_int
from world.errors import GltfError
from world.gltf_read import Scene

__all__ = ["EXTENSION", "feature_table"]

EXTENSION = "EXT_structural_metadata"
_GLB_MAGIC, _CHUNK_BIN = b"glTF", 0x004E4942
_SCALAR_TYPES: dict[str, np.dtype[Any]] = {
    "INT8": np.dtype("<i1"), "UINT8": np.dtype("<u1"), "INT16": np.dtype("<i2"), "UINT16": np.dtype("<u2"),
    "INT32": np.dtype("<i4"), "UINT32": np.dtype("<u4"), "INT64": np.dtype("<i8"), "UINT64": np.dtype("<u8"),
    "FLOAT32": np.dtype("<f4"), "FLOAT64": np.dtype("<f8"),
}
_OFFSET_TYPES = {key: _SCALAR_TYPES[key] for key in ("UINT8", "UINT16", "UINT32")}
_UNSUPPORTED_KEYS = ("array", "normalized", "offset", "scale", "enumType")


def feature_table(scene: Scene, source: str | os.PathLike[str] | bytes | bytearray | memoryview,
                  table: int = 0, *, name: str | None = None) -> dict[str, list[Any]]:
    """Property table ``table`` of ``scene`` as ``{property: [value per feature row]}``.

    ``source`` is what the scene was read from: a ``.glb``/``.gltf`` path (external
    buffers resolve next to it) or GLB bytes. Columns come in the schema class's
    property order; ``{}`` when the scene has no structural metadata at all.
    ``name`` is what error messages call the file (default: the path's file name).
    """
    ext = scene.json.get("extensions")
    metadata = ext.get(EXTENSION) if isinstance(ext, dict) else None
    label = name or (Path(source).name if isinstance(source, str | os.PathLike) else "<bytes>")
    if metadata is None:
        return {}
    doc = Doc(label, scene.json, None, None)
    if not isinstance(metadata, dict):
        doc.fail(f"the {EXTENSION} extension is not a JSON object.")
    tables = metadata.get("propertyTables")
    if not isinstance(tables, list) or not 0 <= table < len(tables) or not isinstance(tables[table], dict):
        doc.fail(f"the {EXTENSION} extension has no property table {table}.")
    what = f"property table {table}"
    spec = tables[table]
    count = doc.integer(spec, "count", what)
    properties = spec.get("properties", {})
    if not isinstance(properties, dict):
        doc.fail(f"{what} has 'properties' that is not an object.")
    schema_properties = _class_properties(doc, metadata, spec.get("class"), what)
    unknown = sorted(set(properties) - set(schema_properties))
    if unknown:
        doc.fail(f"{what} has the property {unknown[0]!r}, which its class does not define.")
    doc.glb_bin, doc.base_dir = _binary(source, label)
    columns: dict[str, list[Any]] = {}
    for key, prop_spec in schema_properties.items():
        if key in properties:
            columns[key] = _column(doc, properties[key], prop_spec, count, f"property {key!r} of {what}")
        else:
            fill = prop_spec.get("default", "" if prop_spec.get("type") == "STRING" else None)
            columns[key] = [fill] * count
    return columns


def _class_properties(doc: Doc, metadata: dict[str, Any], cls: object, what: str) -> dict[str, dict[str, Any]]:
    """The schema's definition of each property of class ``cls``."""
    schema = metadata.get("schema")
    if not isinstance(schema, dict):
        doc.fail(f"the {EXTENSION} extension has no embedded schema (an external schemaUri is not supported).")
    classes = schema.get("classes")
    definition = classes.get(cls) if isinstance(classes, dict) and isinstance(cls, str) else None
    if not isinstance(definition, dict):
        doc.fail(f"{what} refers to the class {cls!r}, which the schema does not define.")
    props = definition.get("properties", {})
    if not isinstance(props, dict) or not all(isinstance(p, dict) for p in props.values()):
        doc.fail(f"the schema class {cls!r} has 'properties' that are not objects.")
    return props


def _binary(source: str | os.PathLike[str] | bytes | bytearray | memoryview,
            label: str) -> tuple[memoryview | None, Path | None]:
    """The GLB binary chunk (or None for a .gltf) and the folder external buffers live in."""
    if isinstance(source, bytes | bytearray | memoryview):
        return _glb_bin(memoryview(source).cast("B"), label), None
    path = Path(source)
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise GltfError(f"{label}: the file cannot be read ({exc.strerror or exc}).") from None
    if bytes(data[:4]) != _GLB_MAGIC and path.suffix.lower() != ".glb":
        return None, path.parent
    return _glb_bin(data, label), path.parent


def _glb_bin(data: memoryview, label: str) -> memoryview | None:
    """The BIN chunk of a GLB (the second chunk, when it is one)."""
    if len(data) < 20 or bytes(data[:4]) != _GLB_MAGIC:
        raise GltfError(f"{label}: the data is not a GLB file.")
    length = min(struct.unpack_from("<I", data, 8)[0], len(data))
    json_length = struct.unpack_from("<I", data, 12)[0]
    start = 20 + json_length
    if start + 8 > length:
        return None
    chunk_length, chunk_type = struct.unpack_from("<II", data, start)
    if chunk_type != _CHUNK_BIN:
        return None
    if start + 8 + chunk_length > length:
        raise GltfError(f"{label}: the GLB binary chunk runs past the end of the file.")
    return data[start + 8:start + 8 + chunk_length]


def _view_bytes(doc: Doc, index: object, what: str) -> memoryview:
    """The bytes of buffer view ``index``, bounds-checked against its buffer."""
    view = doc.item("bufferViews", index, what)
    vwhat = f"bufferView {index}"
    offset = doc.integer(view, "byteOffset", vwhat, default=0)
    length = doc.integer(view, "byteLength", vwhat)
    data = doc.buffer(doc.integer(view, "buffer", vwhat), vwhat)
    if offset + length > len(data):
        doc.fail(f"{vwhat} points past the end of its buffer.")
    return data[offset:offset + length]


def _column(doc: Doc, prop: object, spec: dict[str, Any], count: int, what: str) -> list[Any]:
    if not isinstance(prop, dict):
        doc.fail(f"{what} is not a JSON object.")
    for key in _UNSUPPORTED_KEYS:
        if spec.get(key) or key in prop:
            doc.fail(f"{what} uses '{key}', which this reader does not support.")
    kind = spec.get("type")
    if "values" not in prop or not is_int(prop["values"]):
        doc.fail(f"{what} has no 'values' buffer view.")
    values = _view_bytes(doc, prop["values"], what)
    if kind == "STRING":
        offset_type = prop.get("stringOffsetType", "UINT32")
        if offset_type not in _OFFSET_TYPES or not is_int(prop.get("stringOffsets")):
            doc.fail(f"{what} lacks 'stringOffsets' or has an invalid stringOffsetType {offset_type!r}.")
        return _strings(doc, values, _view_bytes(doc, prop["stringOffsets"], what), _OFFSET_TYPES[offset_type],
                        count, what)
    component = spec.get("componentType")
    if kind != "SCALAR" or component not in _SCALAR_TYPES:
        doc.fail(f"{what} has type {kind!r} {component or ''}; only STRING and numeric SCALAR are supported.")
    dtype = _SCALAR_TYPES[component]
    if len(values) < count * dtype.itemsize:
        doc.fail(f"{what} needs {count * dtype.itemsize} bytes but its buffer view holds {len(values)}.")
    return np.frombuffer(values, dtype, count).tolist()


def _strings(doc: Doc, values: memoryview, offsets_view: memoryview, dtype: np.dtype[Any], count: int,
             what: str) -> list[str]:
    if len(offsets_view) < (count + 1) * dtype.itemsize:
        doc.fail(f"{what} needs {count + 1} string offsets but its stringOffsets view holds fewer.")
    offsets = np.frombuffer(offsets_view, dtype, count + 1).astype(np.int64)
    if count and (offsets[0] < 0 or bool(np.any(np.diff(offsets) < 0)) or offsets[-1] > len(values)):
        doc.fail(f"{what} has string offsets that decrease or point past its {len(values)} bytes of values.")
    raw = bytes(values)
    try:
        return [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    except UnicodeDecodeError:
        doc.fail(f"{what} holds a string that is not valid UTF-8.")
