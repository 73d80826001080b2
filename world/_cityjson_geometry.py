"""CityJSON boundary arrays → validated, cleaned 3D polygons, in one vectorised pass.

:mod:`world.cityjson` walks every geometry of a file with :class:`RingStore`, which
only records the nested index lists (one Python step per ring). :meth:`RingStore.solve`
then checks every vertex index at once, looks up the coordinates with one fancy index,
and computes for every ring its Newell normal (twice the area, in the ring's plane) and
which vertices to keep (consecutive duplicates and the closing repeat are dropped). The
importer finally asks :class:`Rings` for the cleaned rings of the polygons it uses and
for their 2D outlines, which are built with shapely's vectorised constructors.

Coordinates are metres (or whatever the source CRS uses) and are never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any, NoReturn

import numpy as np
import shapely
from shapely.errors import GEOSException

from world.frame import _transformer, utm_crs_for

__all__ = [
    "FLAT_NZ", "INDEX_DEPTH", "MIN_AREA_M2", "SURFACE_DEPTH", "BoundaryError", "Geometry", "RingStore",
    "Rings", "Templates", "add_geometry", "choose_lod", "parse_lod", "polygonal", "project_to_utm",
    "surface_kind", "surfaces_with_semantics",
]

#: How many list levels sit above the surface level in ``boundaries``, per surface type.
SURFACE_DEPTH = {"MultiSurface": 1, "CompositeSurface": 1, "Solid": 2, "MultiSolid": 3, "CompositeSolid": 3}
#: Point and line geometries: their indices are checked but they make no surfaces.
INDEX_DEPTH = {"MultiPoint": 0, "MultiLineString": 1}
#: Rings whose area is below this (m², in their own plane) are degenerate and dropped.
MIN_AREA_M2 = 1e-9
#: |z| of a unit normal above which a polygon without semantics is a roof or ground (< ~78° slope).
FLAT_NZ = 0.2


class BoundaryError(ValueError):
    """Boundaries or semantics that do not have the shape their geometry type needs.

    ``owner`` is the index of the CityObject at fault in the caller's list (or -1);
    ``str(error)`` is a phrase that completes "CityObject 'x' ...".
    """

    def __init__(self, problem: str, owner: int = -1) -> None:
        super().__init__(problem)
        self.owner = owner


def parse_lod(value: Any) -> tuple[float, str] | None:
    """A geometry's ``lod`` ("2.2", "1", 2) as a number and as its original text; None if invalid."""
    try:
        number = float(value) if value.__class__ in (str, int, float) else -1.0
    except (ValueError, OverflowError):
        return None
    return (number, str(value)) if np.isfinite(number) and number >= 0 else None


def _semantic_types(semantics: Any) -> list[str | None] | None:
    if semantics is None:
        return None
    surfaces = semantics.get("surfaces") if isinstance(semantics, dict) else None
    if not isinstance(surfaces, list) or not all(isinstance(s, dict) for s in surfaces):
        raise BoundaryError("has 'semantics' without a list of surfaces")
    return [s["type"] if isinstance(s.get("type"), str) else None for s in surfaces]


def surfaces_with_semantics(boundaries: Any, depth: int,
                            semantics: Any) -> tuple[list[Any], list[str | None]]:
    """Every surface (a list of rings) of a surface geometry, and its semantic type or None.

    ``depth`` is :data:`SURFACE_DEPTH` of the type. Raises :class:`BoundaryError` when
    the nesting is wrong or a semantics value does not index ``semantics.surfaces``; the
    rings themselves are checked later, all at once, by :meth:`RingStore.solve`.
    """
    types = _semantic_types(semantics)
    values = semantics.get("values") if types is not None else None
    surfaces: list[Any] = []
    kinds: list[str | None] = []
    _walk(boundaries, values, depth, types, surfaces, kinds)
    return surfaces, kinds


def _walk(node: Any, values: Any, depth: int, types: list[str | None] | None, surfaces: list[Any],
          kinds: list[str | None]) -> None:
    if not isinstance(node, list):
        raise BoundaryError("has malformed boundaries (a list was expected)")
    if not isinstance(values, list) or types is None:
        values = None
    elif len(values) != len(node):
        raise BoundaryError("has semantics values that do not match its boundaries")
    if depth > 1:
        for i, child in enumerate(node):
            _walk(child, values[i] if values is not None else None, depth - 1, types, surfaces, kinds)
        return
    surfaces.extend(node)
    if values is None or types is None:
        kinds.extend([None] * len(node))
        return
    for value in values:
        if value is not None and (value.__class__ is not int or not 0 <= value < len(types)):
            raise BoundaryError(f"has a semantics value {value!r} that indexes no semantic surface")
        kinds.append(None if value is None else types[value])


def _int_array(flat: list[Any]) -> np.ndarray | None:
    """``flat`` as int64 when it holds only Python ints in the int64 range, else None."""
    if not flat:
        return np.zeros(0, dtype=np.int64)
    try:
        array = np.array(flat)
    except (ValueError, TypeError, OverflowError):
        return None
    if array.ndim != 1 or array.dtype.kind != "i" or any(x.__class__ is bool for x in flat):
        return None
    return array.astype(np.int64, copy=False)


class RingStore:
    """Collects vertex blocks and the surfaces of a whole file for :meth:`solve`.

    A *block* is one vertex array (the file's, one CityJSONFeature's, or one placed
    geometry template); ring indices are relative to their block. Each ``add_*`` call
    records one *group* (block, owner) so that nothing is stored per ring in Python.
    """

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self.block_labels: list[str] = []
        self._surfaces: list[Any] = []
        self._groups: list[tuple[int, int, int]] = []   # block, owner, surface count
        self._loose: list[Any] = []                     # index lists of points and lines
        self._loose_groups: list[tuple[int, int, int]] = []
        self.poly_semantic: list[str | None] = []

    def add_block(self, vertices: np.ndarray, label: str) -> int:
        """Register an ``(n, 3)`` float64 array; ``label`` completes "... but <label> N vertices"."""
        self._blocks.append(vertices)
        self.block_labels.append(label)
        return len(self._blocks) - 1

    def add_surfaces(self, surfaces: list[Any], kinds: list[str | None], block: int, owner: int) -> range:
        """Add polygons (from :func:`surfaces_with_semantics`); returns their polygon indices."""
        first = len(self._surfaces)
        self._surfaces.extend(surfaces)
        self.poly_semantic.extend(kinds)
        self._groups.append((block, owner, len(surfaces)))
        return range(first, len(self._surfaces))

    def add_indices(self, boundaries: Any, depth: int, block: int, owner: int) -> None:
        """Check-only index lists of a MultiPoint (depth 0) or MultiLineString (depth 1)."""
        lists = [boundaries] if depth == 0 else boundaries
        if not isinstance(lists, list):
            raise BoundaryError("has malformed boundaries (a list was expected)", owner)
        self._loose.extend(lists)
        self._loose_groups.append((block, owner, len(lists)))

    def _diagnose(self, sizes: np.ndarray) -> NoReturn:
        """Slow path for boundaries that failed the fast checks: name the object at fault."""
        position = 0
        for block, owner, count in self._groups:
            for surface in self._surfaces[position:position + count]:
                if surface.__class__ is not list or not surface:
                    raise BoundaryError("has a surface that is not a non-empty list of rings", owner)
                for ring in surface:
                    self._check_list(ring, block, owner, sizes)
            position += count
        position = 0
        for block, owner, count in self._loose_groups:
            for values in self._loose[position:position + count]:
                self._check_list(values, block, owner, sizes)
            position += count
        raise BoundaryError("has vertex indices that cannot be read")  # not reached: a check above fails

    def _check_list(self, values: Any, block: int, owner: int, sizes: np.ndarray) -> None:
        if values.__class__ is not list or not all(v.__class__ is int for v in values):
            raise BoundaryError("has a ring, point or line that is not a list of integer vertex indices", owner)
        for value in values:
            if not 0 <= value < sizes[block]:
                raise BoundaryError(f"has a boundary that refers to vertex {value} but "
                                    f"{self.block_labels[block]} {int(sizes[block])} vertices", owner)

    def solve(self) -> Rings:
        """Check every surface, ring and index, then compute the ring statistics."""
        sizes = np.array([len(b) for b in self._blocks], dtype=np.int64)
        if not (all(s.__class__ is list and s for s in self._surfaces)
                and all(v.__class__ is list for v in self._loose)):
            self._diagnose(sizes)
        rings = list(chain.from_iterable(self._surfaces))
        if not all(r.__class__ is list for r in rings):
            self._diagnose(sizes)
        indices = _int_array(list(chain.from_iterable(rings)))
        loose = _int_array(list(chain.from_iterable(self._loose)))
        if indices is None or loose is None:
            self._diagnose(sizes)
        poly_count = np.fromiter(map(len, self._surfaces), dtype=np.int64, count=len(self._surfaces))
        lengths = np.fromiter(map(len, rings), dtype=np.int64, count=len(rings))
        group_block = np.array([g[0] for g in self._groups], dtype=np.int64)
        ring_block = np.repeat(np.repeat(group_block, [g[2] for g in self._groups]), poly_count)
        loose_lengths = np.fromiter(map(len, self._loose), dtype=np.int64, count=len(self._loose))
        loose_block = np.repeat([g[0] for g in self._loose_groups], [g[2] for g in self._loose_groups])
        for values, blocks, counts in ((indices, ring_block, lengths), (loose, loose_block, loose_lengths)):
            limits = np.repeat(sizes[blocks.astype(np.int64)], counts)
            if ((values < 0) | (values >= limits)).any():
                self._diagnose(sizes)
        offsets = (np.cumsum(sizes) - sizes).astype(np.int64)
        vertices = np.concatenate(self._blocks) if self._blocks else np.zeros((0, 3))
        indices = indices + np.repeat(offsets[ring_block], lengths)
        return Rings(vertices[indices], lengths, poly_count)


@dataclass(slots=True, init=False)
class Rings:
    """Cleaned rings of a file: kept vertices, per-ring Newell normals, validity flags."""

    coords: np.ndarray          # (k, 3) kept vertices of every ring, ring after ring
    start: np.ndarray           # first row of each ring in ``coords``
    count: np.ndarray           # kept vertices per ring
    normal: np.ndarray          # (r, 3) Newell vector per ring: unnormalised, |n| = 2 × area
    ok: np.ndarray              # ring has ≥ 3 kept vertices and a non-zero area
    poly_first: np.ndarray      # first ring of each polygon
    poly_count: np.ndarray      # rings per polygon
    poly_nz: np.ndarray         # z of each polygon's unit exterior normal (NaN when degenerate)
    _outlines: np.ndarray | None

    def __init__(self, points: np.ndarray, lengths: np.ndarray, poly_count: np.ndarray) -> None:
        n_rings = len(lengths)
        starts = (np.cumsum(lengths) - lengths).astype(np.int64)
        ring_of = np.repeat(np.arange(n_rings), lengths)
        following = np.arange(1, len(points) + 1)
        filled = lengths > 0
        following[(starts + lengths - 1)[filled]] = starts[filled]
        nxt = points[following]
        first = points[starts[ring_of]]
        a, b = points - first, nxt - first
        with np.errstate(all="ignore"):
            terms = ((a[:, 1] - b[:, 1]) * (a[:, 2] + b[:, 2]),
                     (a[:, 2] - b[:, 2]) * (a[:, 0] + b[:, 0]),
                     (a[:, 0] - b[:, 0]) * (a[:, 1] + b[:, 1]))
            self.normal = np.stack([np.bincount(ring_of, t, minlength=n_rings) for t in terms], axis=1)
            area = np.linalg.norm(self.normal, axis=1) / 2.0
        keep = np.any(points != nxt, axis=1)
        self.coords = points[keep]
        self.count = np.bincount(ring_of[keep], minlength=n_rings)
        self.start = (np.cumsum(self.count) - self.count).astype(np.int64)
        self.ok = (self.count >= 3) & (area >= MIN_AREA_M2)
        self.poly_count = poly_count
        self._outlines = None
        self.poly_first = first_ring = (np.cumsum(poly_count) - poly_count).astype(np.int64)
        with np.errstate(all="ignore"):
            self.poly_nz = self.normal[first_ring, 2] / (2.0 * area[first_ring])

    def polygon(self, index: int) -> tuple[np.ndarray, ...] | None:
        """The kept rings of a polygon, exterior first; None when its exterior is degenerate."""
        first = int(self.poly_first[index])
        if not self.ok[first]:
            return None
        return tuple(self.coords[self.start[r]:self.start[r] + self.count[r]]
                     for r in range(first, first + int(self.poly_count[index])) if self.ok[r])

    def outlines(self, polygons: np.ndarray) -> np.ndarray:
        """2D shapely polygons (xy, holes included) for the given polygon indices.

        Entries are None where the polygon is degenerate or vertical (no area seen from
        above); invalid projections are repaired with :func:`shapely.make_valid`. All
        polygons of the file are built on the first call, with one vectorised pass.
        """
        if self._outlines is None:
            self._outlines = self._build_outlines()
        return self._outlines[polygons]

    def _build_outlines(self) -> np.ndarray:
        out = np.full(len(self.poly_first), None, dtype=object)
        first = self.poly_first
        chosen = np.nonzero(self.ok[first] & (np.abs(self.normal[first, 2]) >= 2 * MIN_AREA_M2))[0]
        if not len(chosen):
            return out
        counts = self.poly_count[chosen]
        rings = np.repeat(first[chosen], counts) + _ramps(counts)
        owner = np.repeat(np.arange(len(chosen)), counts)
        rings_ok = self.ok[rings]
        rings, owner = rings[rings_ok], owner[rings_ok]
        sizes = self.count[rings]
        rows = np.repeat(self.start[rings], sizes) + _ramps(sizes)
        ring_ids = np.repeat(np.arange(len(rings)), sizes)
        shapes = shapely.polygons(shapely.linearrings(self.coords[rows, :2], indices=ring_ids), indices=owner)
        invalid = np.nonzero(~shapely.is_valid(shapes))[0]
        for i, fixed in zip(invalid, shapely.make_valid(shapes[invalid]), strict=True):
            shapes[i] = polygonal([fixed])
        out[chosen] = shapes
        return out


def _ramps(counts: np.ndarray) -> np.ndarray:
    """``[0..c0-1, 0..c1-1, ...]`` for the given counts."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _polygon_parts(geoms: Any) -> list[shapely.Polygon]:
    found: list[shapely.Polygon] = []
    for geom in geoms:
        if isinstance(geom, shapely.Polygon):
            if not geom.is_empty:
                found.append(geom)
        elif isinstance(geom, (shapely.MultiPolygon, shapely.GeometryCollection)):
            found += _polygon_parts(geom.geoms)
    return found


def _union(parts: list[shapely.Polygon]) -> Any:
    """Union of valid polygons. Triangulated surfaces usually form a coverage (no overlaps,
    shared edges), which GEOS merges ~10× faster; the result is checked (valid, and its area
    the sum of the parts') and the general overlay is used when it is not one."""
    try:
        merged = shapely.coverage_union_all(parts)
        total = float(shapely.area(np.array(parts, dtype=object)).sum())
        if merged.is_valid and abs(merged.area - total) <= 1e-9 * max(total, 1.0):
            return merged
    except GEOSException:
        pass
    try:
        return shapely.union_all(parts)
    except GEOSException:
        return shapely.union_all(parts, grid_size=1e-6)


def polygonal(geoms: Any) -> shapely.Polygon | shapely.MultiPolygon:
    """The union of the polygonal parts of ``geoms`` (None entries skipped), in 2D.

    Lines and points (e.g. vertical walls seen from above) are dropped; the result is a
    Polygon, a MultiPolygon, or an empty Polygon.
    """
    parts = _polygon_parts(geoms)
    if len(parts) > 1:
        parts = _polygon_parts([_union(parts)])
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


@dataclass(slots=True)
class Geometry:
    """One surface geometry of a CityObject: its LoD (number and text) and polygon indices."""

    lod: float
    lod_text: str
    polygons: range


@dataclass(slots=True)
class Templates:
    """``geometry-templates``: template geometries and their untransformed ``(n, 3)`` vertices."""

    items: list[dict[str, Any]]
    vertices: np.ndarray


def add_geometry(geom: Any, store: RingStore, block_id: int, block: np.ndarray, templates: Templates,
                 owner: int) -> Geometry | None:
    """Register one geometry's rings in ``store``; return it if it has surfaces.

    A GeometryInstance is placed (its template's vertices × matrix + reference point)
    into a new vertex block and then read like its template.
    """
    if not isinstance(geom, dict) or not isinstance(geom.get("type"), str):
        raise BoundaryError("has a geometry that is not a JSON object with a string \"type\"")
    kind = geom["type"]
    if kind == "GeometryInstance":
        geom, block_id = _place_template(geom, store, block, templates)
        kind = geom.get("type")
        if kind == "GeometryInstance" or not isinstance(kind, str):
            raise BoundaryError("has a GeometryInstance whose template is not a plain geometry")
    if kind in INDEX_DEPTH:
        store.add_indices(geom.get("boundaries"), INDEX_DEPTH[kind], block_id, owner)
        return None
    if kind not in SURFACE_DEPTH:
        raise BoundaryError(f"has a geometry of unknown type {kind!r}")
    lod = parse_lod(geom.get("lod"))
    if lod is None:
        raise BoundaryError(f"has a {kind} whose \"lod\" {geom.get('lod')!r} is not a level of detail")
    surfaces, kinds = surfaces_with_semantics(geom.get("boundaries"), SURFACE_DEPTH[kind],
                                              geom.get("semantics"))
    return Geometry(lod[0], lod[1], store.add_surfaces(surfaces, kinds, block_id, owner))


def _place_template(geom: dict[str, Any], store: RingStore, block: np.ndarray,
                    templates: Templates) -> tuple[dict[str, Any], int]:
    index = geom.get("template")
    if index.__class__ is not int or not 0 <= index < len(templates.items):
        raise BoundaryError(f"has a GeometryInstance with template {index!r}, which does not exist")
    reference = geom.get("boundaries")
    if (not isinstance(reference, list) or len(reference) != 1 or reference[0].__class__ is not int
            or not 0 <= reference[0] < len(block)):
        raise BoundaryError("has a GeometryInstance whose boundaries are not one valid vertex index")
    matrix = geom.get("transformationMatrix")
    if not isinstance(matrix, list) or len(matrix) != 16 or not all(map(_finite_number, matrix)):
        raise BoundaryError("has a GeometryInstance without a transformationMatrix of 16 finite numbers")
    m = np.array(matrix, dtype=np.float64).reshape(4, 4)
    with np.errstate(all="ignore"):
        placed = templates.vertices @ m[:3, :3].T + m[:3, 3] + block[reference[0]]
    if not np.isfinite(placed).all():
        raise BoundaryError("has a GeometryInstance whose placed vertices overflow the float range")
    return templates.items[index], store.add_block(placed, f"geometry template {index} has")


def _finite_number(value: Any) -> bool:
    if value.__class__ not in (int, float):
        return False
    try:
        return bool(np.isfinite(float(value)))
    except OverflowError:
        return False


def choose_lod(geometries: list[Geometry], lod: float) -> list[Geometry]:
    """The geometries at the highest LoD ≤ ``lod``; when every LoD is higher, at the lowest."""
    if not geometries:
        return []
    levels = sorted({g.lod for g in geometries})
    below = [level for level in levels if level <= lod + 1e-9]
    pick = below[-1] if below else levels[0]
    return [g for g in geometries if g.lod == pick]


_SEMANTIC_KIND = {"RoofSurface": "roof", "WallSurface": "wall", "GroundSurface": "ground"}


def surface_kind(semantic: str | None, normal_z: float) -> str:
    """Roof/wall/ground/other from a semantic surface type, else from the unit normal's z.

    Without semantics a polygon facing up more than :data:`FLAT_NZ` is a roof, facing
    down as much a ground surface, anything steeper a wall.
    """
    if semantic is not None:
        return _SEMANTIC_KIND.get(semantic, "other")
    return "roof" if normal_z > FLAT_NZ else "ground" if normal_z < -FLAT_NZ else "wall"


def project_to_utm(blocks: list[np.ndarray], source: str) -> tuple[list[np.ndarray], str]:
    """Longitude/latitude vertex blocks → the UTM zone of their median point (z kept).

    Raises ValueError (a phrase) when vertices are not degrees or cannot be projected.
    """
    every = np.concatenate(blocks) if blocks else np.zeros((0, 3))
    if len(every) and (np.abs(every[:, 0]).max() > 180.0 or np.abs(every[:, 1]).max() > 90.0):
        raise ValueError(f"its CRS {source} is geographic but some vertices are not longitude/latitude degrees")
    centre = np.median(every[:, :2], axis=0) if len(every) else np.zeros(2)
    target = utm_crs_for(float(centre[0]), float(centre[1]))
    projected = []
    for block in blocks:
        x, y = _transformer(source, target).transform(block[:, 0], block[:, 1])
        moved = np.column_stack([np.asarray(x, dtype=np.float64).reshape(-1),
                                 np.asarray(y, dtype=np.float64).reshape(-1), block[:, 2]])
        if not np.isfinite(moved).all():
            raise ValueError(f"some vertices cannot be projected from {source} to {target}")
        projected.append(moved)
    return projected, target
