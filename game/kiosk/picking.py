"""What a ray from the camera hits: buildings (or other features) of the city tiles, in numpy.

The kiosk casts a ray for a tap or a click and needs the feature under it (its stable
id, for the feature store and the interventions) and the 3D point (for a callout).
:meth:`PickIndex.build` gathers, once, the triangles of every feature of the chosen
kinds from the tiles as :mod:`world.gltf_read` reads them, in Panda3D world
coordinates (local metres, x east, y north, z up: each primitive's matrix, then glTF
y-up to z-up, ``(x, y, z)_gltf -> (x, -z, y)``), sorted by feature, with one
axis-aligned box per feature. :meth:`PickIndex.pick` tests the ray against every box
at once (slab test), then runs Möller–Trumbore over the triangles of the boxes it
enters, nearest box first, stopping once no later box can hold a nearer hit.

Pure numpy: no Panda3D, so the tests run headless.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from world.gltf_features import feature_table
from world.gltf_read import Scene, read_gltf

__all__ = ["Y_UP_TO_Z_UP", "Hit", "PickIndex", "Tile", "Vec3", "ground_point", "package_tiles"]

#: glTF y-up -> Panda3D z-up, as a matrix on column vectors: (x, y, z) -> (x, -z, y).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
Y_UP_TO_Z_UP.flags.writeable = False

#: A point or a direction: three floats, as a sequence or an array.
Vec3 = Sequence[float] | np.ndarray

#: One tile for :meth:`PickIndex.build`: its name, its scene and its feature table
#: (``world.gltf_features.feature_table``: at least the ``id`` and ``kind`` columns).
Tile = tuple[str, Scene, Mapping[str, Sequence[Any]]]

_BOX_PAD_M = 1e-4  # boxes grow by this much so rays along a flat face still enter them
_EDGE_EPS = 1e-9  # barycentric slack, so a ray through a shared edge hits one of its triangles


@dataclass(frozen=True, slots=True)
class Hit:
    """The nearest feature a ray hits: its table row, the point (local metres, z up),
    the distance along the ray from its origin, and the tile it comes from."""

    feature_id: str
    kind: str
    cls: str
    name: str
    height_m: float
    point: tuple[float, float, float]
    distance_m: float
    tile: str


def ground_point(origin: Vec3, direction: Vec3, z: float = 0.0) -> tuple[float, float] | None:
    """Where a ray meets the horizontal plane at height ``z``; None when it never does.

    >>> ground_point((0.0, 0.0, 10.0), (1.0, 0.0, -1.0))
    (10.0, 0.0)
    >>> ground_point((0.0, 0.0, 10.0), (0.0, 0.0, 1.0)) is None
    True
    """
    ox, oy, oz = (float(v) for v in origin)
    dx, dy, dz = (float(v) for v in direction)
    if abs(dz) < 1e-12:
        return None
    t = (z - oz) / dz
    if t < 0.0:
        return None
    return (ox + t * dx, oy + t * dy)


def package_tiles(folder: Path) -> list[Tile]:
    """Every tile listed in a city package's ``city.json``, read with its feature table."""
    meta = json.loads((folder / "city.json").read_text(encoding="utf-8"))
    tiles: list[Tile] = []
    for entry in meta["tiles"]:
        path = folder / entry["uri"]
        scene = read_gltf(path)
        tiles.append((str(entry["name"]), scene, feature_table(scene, path)))
    return tiles


def _ray_triangles(origin: np.ndarray, direction: np.ndarray, v0: np.ndarray, e1: np.ndarray,
                   e2: np.ndarray) -> np.ndarray:
    """Möller–Trumbore (1997) for one ray and k triangles (vertex v0, edges e1, e2):
    the ray parameter of each hit, ``inf`` where it misses. Both faces count."""
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
    s = origin - v0
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= -_EDGE_EPS) & (v >= -_EDGE_EPS) & (u + v <= 1.0 + _EDGE_EPS) & (t >= 0.0)
    return np.where(hit, t, np.inf)


def _slab(origin: np.ndarray, direction: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry and exit ray parameters of every box (Kay & Kajiya slabs); entry > exit: missed."""
    near = np.full(len(lo), -np.inf)
    far = np.full(len(lo), np.inf)
    for axis in range(3):
        d, o = direction[axis], origin[axis]
        if d == 0.0:
            inside = (lo[:, axis] <= o) & (o <= hi[:, axis])
            near = np.where(inside, near, np.inf)
            far = np.where(inside, far, -np.inf)
            continue
        t1, t2 = (lo[:, axis] - o) / d, (hi[:, axis] - o) / d
        near = np.maximum(near, np.minimum(t1, t2))
        far = np.minimum(far, np.maximum(t1, t2))
    return near, far


class PickIndex:
    """Triangles of the pickable features, grouped by feature, with their boxes.

    ``triangles`` is ``(t, 3, 3)`` float64 in local metres (z up), sorted by feature;
    feature ``f`` owns ``triangles[starts[f]:starts[f + 1]]`` and the box
    ``lo[f]``..``hi[f]``; its table row is ``rows[f]``.
    """

    def __init__(self, triangles: np.ndarray, starts: np.ndarray, rows: list[tuple[str, str, str, str, float, str]]):
        self.triangles = triangles
        self.starts = starts
        self.rows = rows
        self._v0 = triangles[:, 0]
        self._e1 = triangles[:, 1] - triangles[:, 0]
        self._e2 = triangles[:, 2] - triangles[:, 0]
        if len(rows):
            self.lo = np.minimum.reduceat(triangles.min(axis=1), starts[:-1]) - _BOX_PAD_M
            self.hi = np.maximum.reduceat(triangles.max(axis=1), starts[:-1]) + _BOX_PAD_M
        else:
            self.lo = self.hi = np.zeros((0, 3))

    def __len__(self) -> int:
        """Number of pickable features."""
        return len(self.rows)

    @classmethod
    def build(cls, tiles: Iterable[Tile], kinds: Sequence[str] = ("building",)) -> PickIndex:
        """Index the features of ``kinds`` (the table's ``kind`` column) in ``tiles``."""
        parts: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        rows: list[tuple[str, str, str, str, float, str]] = []
        for entry in tiles:
            if len(entry) != 3:
                raise ValueError("PickIndex.build takes (name, scene, table) per tile, the table from "
                                 "world.gltf_features.feature_table(scene, path).")
            name, scene, table = entry
            if "kind" not in table or "id" not in table:
                continue
            count = len(table["id"])
            wanted = np.isin(np.asarray(table["kind"], dtype=object), list(kinds))
            local = np.full(count, -1, dtype=np.int64)
            local[wanted] = np.arange(len(rows), len(rows) + int(wanted.sum()))
            column = {key: table.get(key, [""] * count) for key in ("class", "name")}
            heights = table.get("height_m", [0.0] * count)
            rows += [(str(table["id"][i]), str(table["kind"][i]), str(column["class"][i]),
                      str(column["name"][i]), float(heights[i] or 0.0), name)
                     for i in np.flatnonzero(wanted).tolist()]
            for prim in scene.primitives:
                if prim.feature_ids is None or prim.triangle_count == 0:
                    continue
                corners = np.asarray(prim.indices, dtype=np.int64).reshape(-1, 3)
                ids = np.asarray(prim.feature_ids, dtype=np.int64)[corners[:, 0]]
                keep = ids < count
                keep[keep] = local[ids[keep]] >= 0
                if not keep.any():
                    continue
                matrix = Y_UP_TO_Z_UP @ np.asarray(prim.matrix, dtype=np.float64)[:3]
                points = np.asarray(prim.positions, dtype=np.float64) @ matrix[:, :3].T + matrix[:, 3]
                parts.append(points[corners[keep]])
                owners.append(local[ids[keep]])
        if not parts:
            return cls(np.zeros((0, 3, 3)), np.zeros(1, dtype=np.int64), [])
        triangles = np.concatenate(parts)
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        triangles, owner = triangles[order], owner[order]
        # Features of the wanted kinds without a triangle are dropped; renumber the rest.
        present, starts = np.unique(owner, return_index=True)
        starts = np.append(starts, len(owner)).astype(np.int64)
        return cls(np.ascontiguousarray(triangles), starts, [rows[i] for i in present])

    def pick(self, origin: Vec3, direction: Vec3, max_distance_m: float = np.inf) -> Hit | None:
        """The nearest feature along the ray from ``origin`` (local metres, z up) towards
        ``direction`` (any length), within ``max_distance_m``; None when nothing is hit."""
        o = np.asarray(origin, dtype=np.float64)
        d = np.asarray(direction, dtype=np.float64)
        length = float(np.linalg.norm(d))
        if length == 0.0 or not len(self.rows):
            return None
        d = d / length
        near, far = _slab(o, d, self.lo, self.hi)
        near = np.maximum(near, 0.0)
        candidates = np.flatnonzero((near <= far) & (near <= max_distance_m))
        best_t, best_f = float(max_distance_m), -1
        for f in candidates[np.argsort(near[candidates], kind="stable")]:
            if near[f] > best_t:
                break  # boxes come nearest first: no later one can hold a nearer hit
            a, b = self.starts[f], self.starts[f + 1]
            t = _ray_triangles(o, d, self._v0[a:b], self._e1[a:b], self._e2[a:b])
            nearest = float(t.min())
            if nearest < best_t or (best_f < 0 and nearest == best_t != np.inf):
                best_t, best_f = nearest, int(f)
        if best_f < 0:
            return None
        feature_id, kind, cls, name, height_m, tile = self.rows[best_f]
        px, py, pz = (o + d * best_t).tolist()
        return Hit(feature_id, kind, cls, name, height_m, (px, py, pz), best_t, tile)
