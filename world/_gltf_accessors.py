"""Buffers, buffer views and accessors of a glTF 2.0 document, read as numpy arrays.

This is the low-level half of :mod:`world.gltf_read`. Every byte range an accessor
names is bounds-checked against its buffer view and buffer *before* a view is made,
so a malformed file ends in :class:`~world.errors.GltfError` and never in a numpy or
index error. Tightly packed and interleaved (``byteStride``) data come back as
zero-copy, read-only strided views of the file's bytes; a copy is made only when the
data has to change (sparse substitution, bufferless zeros).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from pathlib import Path
from typing import Any, NoReturn, TypeGuard
from urllib.parse import unquote, unquote_to_bytes

import numpy as np

from world.errors import GltfError

__all__ = [
    "COMPONENT_DTYPES", "FLOAT", "INDEX_TYPES", "Doc", "as_uint32", "is_int", "to_float32", "triangle_list",
]

FLOAT = 5126
# glTF componentType -> little-endian numpy dtype (glTF buffers are always little-endian).
COMPONENT_DTYPES: dict[int, np.dtype[Any]] = {
    5120: np.dtype("<i1"),
    5121: np.dtype("<u1"),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    FLOAT: np.dtype("<f4"),
}
INDEX_TYPES = frozenset({5121, 5123, 5125})
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
_SINGULAR = {
    "accessors": "accessor",
    "bufferViews": "bufferView",
    "buffers": "buffer",
    "meshes": "mesh",
    "nodes": "node",
    "scenes": "scene",
    "materials": "material",
}
# Accessors without a bufferView are all zeros; cap how many elements they may claim in
# all, so a few bytes of JSON cannot demand gigabytes.
_MAX_SYNTHETIC = 1 << 24
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_int(value: object) -> TypeGuard[int]:
    """True for a JSON integer (``bool`` is not one, although Python says it is)."""
    return isinstance(value, int) and not isinstance(value, bool)


def to_float32(arr: np.ndarray, component: int, normalized: bool) -> np.ndarray:
    """Convert raw accessor data to float32, applying glTF's normalisation rules.

    Float data is returned as is (a view). Normalised unsigned integers map to 0..1
    and signed ones to -1..1 (``max(c / MAX, -1)``); other integers keep their value.
    """
    if component == FLOAT:
        return arr
    if not normalized:
        return arr.astype(np.float32)
    info = np.iinfo(arr.dtype)
    out = arr.astype(np.float32)
    out *= np.float32(1.0 / info.max)
    if info.min < 0:
        np.maximum(out, np.float32(-1.0), out=out)
    return out


def as_uint32(values: np.ndarray, component: int) -> np.ndarray:
    """Feature ids of any component type as read-only uint32 (floats rounded, clamped at 0)."""
    if values.dtype == np.uint32:
        return values
    if component == FLOAT:
        values = np.clip(np.nan_to_num(np.rint(values)), 0, 4294967295.0)
    out = values.astype(np.uint32)
    out.flags.writeable = False
    return out


def triangle_list(idx: np.ndarray, mode: int) -> np.ndarray:
    """A read-only, contiguous uint32 triangle list from TRIANGLES (4), STRIP (5) or FAN (6) indices.

    A list drops a trailing partial triangle. A strip's triangle i is
    ``(v[i], v[i+1+i%2], v[i+2-i%2])``, which keeps every triangle's winding; a fan's is
    ``(v[i+1], v[i+2], v[0])`` (glTF 2.0, section 3.7.2.1).
    """
    if mode == 4:
        idx = idx[: len(idx) - len(idx) % 3]
    else:
        i = np.arange(max(len(idx) - 2, 0))
        odd = i & 1
        if mode == 5:
            tris = np.stack([idx[i], idx[i + 1 + odd], idx[i + 2 - odd]], axis=1)
        else:
            tris = np.stack([idx[i + 1], idx[i + 2], np.broadcast_to(idx[:1], i.shape)], axis=1)
        idx = tris.reshape(-1)
    if not idx.flags.c_contiguous:
        idx = np.ascontiguousarray(idx)
    idx.flags.writeable = False
    return idx


class Doc:
    """A parsed glTF JSON plus its buffers, with validated access to its arrays.

    ``name`` is what error messages call the file; ``base_dir`` resolves external
    buffer URIs (``None``: external files are refused); ``glb_bin`` is the GLB BIN
    chunk, which a buffer without ``uri`` refers to.
    """

    def __init__(self, name: str, gltf: dict[str, Any], glb_bin: memoryview | None, base_dir: Path | None):
        self.name = name
        self.gltf = gltf
        self.glb_bin = glb_bin
        self.base_dir = base_dir
        self._buffers: dict[int, memoryview] = {}
        self._accessors: dict[int, tuple[np.ndarray, int, bool]] = {}
        self._synthetic = 0
        # Derived arrays (conversions, generated indices) shared by every primitive that
        # uses the same accessor, keyed by the caller.
        self.memo: dict[tuple[Any, ...], np.ndarray] = {}

    def fail(self, problem: str) -> NoReturn:
        """Raise GltfError("<name>: <problem>")."""
        raise GltfError(f"{self.name}: {problem}")

    # -- JSON access ------------------------------------------------------------------

    def array(self, key: str) -> list[Any]:
        """The top-level JSON array ``key`` (empty when absent)."""
        value = self.gltf.get(key, [])
        if not isinstance(value, list):
            self.fail(f"the top-level property '{key}' is not an array.")
        return value

    def item(self, key: str, index: object, referrer: str) -> dict[str, Any]:
        """Element ``index`` of the top-level array ``key``, checked to exist and be an object."""
        items = self.array(key)
        what = _SINGULAR.get(key, key)
        if not is_int(index) or not 0 <= index < len(items):
            self.fail(f"{referrer} refers to {what} {index!r}, which does not exist.")
        obj = items[index]
        if not isinstance(obj, dict):
            self.fail(f"{what} {index} is not a JSON object.")
        return obj

    def integer(self, obj: dict[str, Any], key: str, what: str, default: int | None = None,
                lo: int = 0, hi: int | None = None) -> int:
        """The integer property ``key`` of ``obj``, required when ``default`` is None."""
        value = obj.get(key, default)
        if value is None:
            self.fail(f"{what} has no '{key}'.")
        if not is_int(value) or value < lo or (hi is not None and value > hi):
            self.fail(f"{what} has an invalid {key} {value!r}.")
        return int(value)

    # -- buffers ----------------------------------------------------------------------

    def buffer(self, index: int, referrer: str) -> memoryview:
        """The bytes of buffer ``index``, exactly ``byteLength`` long (loaded once)."""
        cached = self._buffers.get(index)
        if cached is not None:
            return cached
        buf = self.item("buffers", index, referrer)
        what = f"buffer {index}"
        length = self.integer(buf, "byteLength", what)
        uri = buf.get("uri")
        if uri is None:
            if index != 0 or self.glb_bin is None:
                self.fail(f"{what} has no uri and there is no GLB binary chunk for it.")
            data = self.glb_bin
        elif not isinstance(uri, str):
            self.fail(f"{what} has a uri that is not a string.")
        elif uri.startswith("data:"):
            data = memoryview(self._data_uri(uri, what))
        else:
            data = memoryview(self._external(uri, length, what))
        if len(data) < length:
            self.fail(f"{what} declares {length} bytes but only {len(data)} are present.")
        view = data[:length]
        self._buffers[index] = view
        return view

    def _data_uri(self, uri: str, what: str) -> bytes:
        header, sep, payload = uri.partition(",")
        if not sep:
            self.fail(f"{what} has a data: URI without a comma.")
        try:
            if header.endswith(";base64"):
                return base64.b64decode(payload, validate=True)
            return unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            self.fail(f"{what} has a data: URI that is not valid base64 ({exc}).")

    def _external(self, uri: str, length: int, what: str) -> bytes:
        if self.base_dir is None:
            self.fail(f"{what} refers to the external file {uri!r}, which cannot be resolved without a path.")
        rel = unquote(uri)
        if _SCHEME.match(rel) or os.path.isabs(rel) or "\x00" in rel:
            self.fail(f"{what} refers to {uri!r}; only relative file paths and data: URIs are supported.")
        path = self.base_dir / rel
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode) or info.st_size < length:
                self.fail(f"{what} refers to {rel!r}, which is not a file of at least {length} bytes.")
            with open(path, "rb") as handle:
                return handle.read(length)
        except (OSError, ValueError) as exc:
            self.fail(f"{what} refers to the file {rel!r}, which cannot be read ({exc}).")

    # -- accessors --------------------------------------------------------------------

    def accessor(self, index: object, referrer: str) -> tuple[np.ndarray, int, bool]:
        """Accessor ``index`` as ``(array of shape (count, components), componentType, normalized)``.

        The array keeps the stored dtype; it is a read-only view of the buffer when the
        accessor has a buffer view and no sparse part. Matrix types are refused (no mesh
        attribute this reader uses has them).
        """
        acc = self.item("accessors", index, referrer)
        assert is_int(index)  # item() checked it
        cached = self._accessors.get(index)
        if cached is not None:
            return cached
        what = f"accessor {index}"
        component = acc.get("componentType")
        if not is_int(component) or component not in COMPONENT_DTYPES:
            self.fail(f"{what} has an invalid componentType {component!r}.")
        kind = acc.get("type")
        if not isinstance(kind, str) or kind not in _COMPONENTS:
            self.fail(f"{what} has type {kind!r}; only SCALAR and VEC2..VEC4 are supported here.")
        normalized = acc.get("normalized", False)
        if not isinstance(normalized, bool) or (normalized and component in (FLOAT, 5125)):
            self.fail(f"{what} has an invalid 'normalized' value {normalized!r} for its componentType.")
        count = self.integer(acc, "count", what)
        dtype = COMPONENT_DTYPES[component]
        ncomp = _COMPONENTS[kind]
        if "bufferView" in acc:
            offset = self.integer(acc, "byteOffset", what, default=0)
            arr = self._view(acc["bufferView"], offset, count, dtype, ncomp, what, None)
        else:
            self._synthetic += count
            if self._synthetic > _MAX_SYNTHETIC:
                self.fail(f"{what} has no bufferView and the file's bufferless accessors exceed "
                          f"{_MAX_SYNTHETIC} elements.")
            arr = np.zeros((count, ncomp), dtype)
        if "sparse" in acc:
            arr = self._sparse(acc["sparse"], arr, what)
        arr.flags.writeable = False
        result = (arr, int(component), normalized)
        self._accessors[index] = result
        return result

    def _view(self, view_index: object, offset: int, count: int, dtype: np.dtype[Any], ncomp: int,
              what: str, stride: int | None) -> np.ndarray:
        """A bounds-checked strided view of ``count`` elements in a buffer view.

        ``stride`` None means: the view's byteStride, or tightly packed without one.
        """
        view = self.item("bufferViews", view_index, what)
        vwhat = f"bufferView {view_index}"
        buf_index = self.integer(view, "buffer", vwhat)
        view_offset = self.integer(view, "byteOffset", vwhat, default=0)
        view_length = self.integer(view, "byteLength", vwhat)
        data = self.buffer(buf_index, vwhat)
        if view_offset + view_length > len(data):
            self.fail(f"{vwhat} points past the end of buffer {buf_index}.")
        elem = dtype.itemsize * ncomp
        if stride is None:
            stride = self.integer(view, "byteStride", vwhat, default=elem, lo=1, hi=252)
            if stride < elem:
                self.fail(f"{vwhat} has byteStride {stride}, less than the {elem}-byte elements of {what}.")
        if count == 0:
            return np.empty((0, ncomp), dtype)
        if offset + (count - 1) * stride + elem > view_length:
            self.fail(f"{what} points past the end of {vwhat}.")
        return np.ndarray((count, ncomp), dtype, data, view_offset + offset, (stride, dtype.itemsize))

    def _sparse(self, sparse: object, base: np.ndarray, what: str) -> np.ndarray:
        """Apply a sparse accessor's substitutions to a copy of ``base``."""
        swhat = f"the sparse part of {what}"
        if not isinstance(sparse, dict):
            self.fail(f"{swhat} is not a JSON object.")
        count = self.integer(sparse, "count", swhat, lo=1, hi=len(base))
        indices, values = sparse.get("indices"), sparse.get("values")
        if not isinstance(indices, dict) or not isinstance(values, dict):
            self.fail(f"{swhat} lacks its 'indices' or 'values' object.")
        component = indices.get("componentType")
        if not is_int(component) or component not in INDEX_TYPES:
            self.fail(f"{swhat} has an invalid index componentType {component!r}.")
        itype = COMPONENT_DTYPES[component]
        ioffset = self.integer(indices, "byteOffset", swhat, default=0)
        idx = self._view(indices.get("bufferView"), ioffset, count, itype, 1, swhat, itype.itemsize)[:, 0]
        elem = base.dtype.itemsize * base.shape[1]
        voffset = self.integer(values, "byteOffset", swhat, default=0)
        vals = self._view(values.get("bufferView"), voffset, count, base.dtype, base.shape[1], swhat, elem)
        if int(idx.max()) >= len(base) or (count > 1 and bool(np.any(idx[1:] <= idx[:-1]))):
            self.fail(f"{swhat} has indices that are out of range or not strictly increasing.")
        out = np.array(base, copy=True)
        out[idx] = vals
        return out
