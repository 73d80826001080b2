"""CityJSON (2.0, 1.1) and CityJSONSeq importer → :class:`~world.city.SourceData`.

What becomes what:

* ``Building`` → one :class:`~world.city.Building` (id ``cj:<CityObject id>``) that
  absorbs its ``BuildingPart`` and ``BuildingInstallation`` descendants (their ids go to
  ``part_ids``, their surfaces to the building). A ``BuildingPart`` that belongs to no
  Building becomes a building of its own; an orphan installation is ignored, and so are
  rooms, storeys, units, furniture and constructive elements (interior detail). Its
  footprint is the union of its ground surfaces seen from above (holes kept; all its
  surfaces when it has no ground), its height the z extent of its surfaces, metres.
* ``Road`` → :class:`~world.city.Road` with a 2D surface; ``TransportSquare`` → a plaza
  :class:`~world.city.Area`; ``WaterBody``/``Waterway``, ``PlantCover``, ``LandUse`` and
  ``GenericCityObject`` → areas; ``SolitaryVegetationObject`` → :class:`~world.city.Tree`.
  Railways, bridges, tunnels, terrain, furniture and groups are not modelled.
* Geometry: per CityObject the highest LoD that is ≤ ``lod``, or, when every LoD is
  higher, the lowest one. Only surface geometries (MultiSurface, CompositeSurface, Solid,
  MultiSolid, CompositeSolid, and GeometryInstances of them) count; points and lines are
  index-checked and otherwise ignored. An object left without a usable surface (no
  geometry, or only degenerate or vertical polygons where an outline is needed) is
  skipped.

Coordinates stay in the file's CRS (compound CRSs resolve to their horizontal part); a
geographic CRS is projected to the UTM zone of the data's median point, and template
geometries are then taken to be in metres. Every vertex index, number and nesting level
is checked: a broken file raises :class:`~world.errors.SourceError`, a missing or
unusable CRS :class:`~world.errors.CrsError`, each with one sentence naming the file.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException

from world._cityjson_geometry import (
    BoundaryError,
    Geometry,
    Rings,
    RingStore,
    Templates,
    add_geometry,
    choose_lod,
    polygonal,
    project_to_utm,
    surface_kind,
)
from world.city import Area, Building, Road, SourceData, Surface, Tree
from world.errors import CrsError, SourceError
from world.frame import resolve_crs

__all__ = ["SUPPORTED_VERSIONS", "read_cityjson"]

#: CityJSON versions read (a patch suffix such as "2.0.1" is accepted too).
SUPPORTED_VERSIONS = ("2.0", "1.1")
_VERSION = re.compile(r"(2\.0|1\.1)(\.\d+)?")
_SPACE = re.compile(r"\s*")


class _BadNumber(ValueError):
    """A JSON number that does not fit a finite float64."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(text if len(text) <= 24 else text[:21] + "...")
    return value


@dataclass(slots=True)
class _Chunk:
    """One vertex list with the CityObjects that index it (the file, or one feature)."""
    objects: dict[str, Any]
    vertices: Any
    label: str  # "the file", "the CityJSONFeature on line 3"


def read_cityjson(path: str | os.PathLike[str], *, lod: float = 2.2, crs: str | None = None) -> SourceData:
    """Read a CityJSON file (``.json``) or a CityJSONSeq stream (``.city.jsonl``).

    ``lod`` picks each object's geometry (see the module notes); ``crs`` (e.g.
    ``"EPSG:28992"``) is used only when the file has no ``metadata.referenceSystem``.
    Building surfaces keep absolute z in the source's vertical datum; ``base_z_m`` is the
    median of the buildings' lowest points, metres.
    """
    file = Path(path)
    name = file.name
    try:
        header, chunks = _load(file, name)
        return _read(header, chunks, name, str(path), lod, crs)
    except (SourceError, CrsError):
        raise
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as exc:  # a last guard: the checks above should leave nothing to catch here
        raise SourceError(f"{name}: could not be imported ({type(exc).__name__}: {exc}).") from exc


def _load(file: Path, name: str) -> tuple[dict[str, Any], list[_Chunk]]:
    """Parse the file as a stream of JSON values and sort them into header and chunks."""
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SourceError(f"{name}: no such file.") from None
    except OSError as exc:
        raise SourceError(f"{name}: cannot be read ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise SourceError(f"{name}: is not UTF-8 text.") from None
    decoder = json.JSONDecoder(parse_float=_finite_float, parse_constant=_finite_float)
    values: list[tuple[Any, int]] = []
    position, line, counted = 0, 1, 0
    while True:
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]  # \s* always matches
        if position >= len(text):
            break
        line += text.count("\n", counted, position)
        counted = position
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError as exc:
            detail = (f"{exc.msg} at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError)
                      else f"the number {exc} is not a finite 64-bit float" if isinstance(exc, _BadNumber)
                      else str(exc))
            raise SourceError(f"{name}: is not valid JSON ({detail}).") from None
        except RecursionError:
            raise SourceError(f"{name}: nests JSON arrays or objects too deeply.") from None
        values.append((value, line))
    if not values:
        raise SourceError(f"{name}: is empty.")
    return _sort_values(values, name)


def _sort_values(values: list[tuple[Any, int]], name: str) -> tuple[dict[str, Any], list[_Chunk]]:
    """The header (the CityJSON object, or {} for bare features) and every vertex chunk."""
    first = values[0][0]
    kind = first.get("type") if isinstance(first, dict) else None
    if kind == "CityJSON":
        version = first.get("version")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise SourceError(f"{name}: CityJSON version {version!r} is not supported "
                              f"(only {' and '.join(SUPPORTED_VERSIONS)}).")
        header, chunks, features = first, [_chunk(first, name, "the file")], values[1:]
    elif kind == "CityJSONFeature":
        header, chunks, features = {}, [], values
    else:
        found = "missing" if kind is None else f"{kind!r}"
        raise SourceError(f"{name}: the top-level \"type\" is {found}; a CityJSON file starts with "
                          "{\"type\": \"CityJSON\", ...}.")
    for value, line in features:
        if not isinstance(value, dict) or value.get("type") != "CityJSONFeature":
            raise SourceError(f"{name}: the JSON value on line {line} is not a CityJSONFeature.")
        chunk = _chunk(value, name, f"the CityJSONFeature on line {line}")
        root = value.get("id")
        if not isinstance(root, str) or root not in chunk.objects:
            raise SourceError(f"{name}: the CityJSONFeature on line {line} has id {root!r}, "
                              "which is none of its CityObjects.")
        chunks.append(chunk)
    return header, chunks


def _chunk(value: dict[str, Any], name: str, label: str) -> _Chunk:
    objects = value.get("CityObjects")
    if not isinstance(objects, dict):
        raise SourceError(f"{name}: \"CityObjects\" of {label} is missing or not a JSON object.")
    vertices = value.get("vertices", [])
    return _Chunk(objects, vertices, label)


def _triple(value: Any, what: str, name: str) -> np.ndarray:
    """Three finite float64 numbers (a transform's scale or translate)."""
    ok = isinstance(value, list) and len(value) == 3 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    try:
        array = np.array(value, dtype=np.float64) if ok else None
    except OverflowError:
        array = None
    if array is None or not np.isfinite(array).all():
        raise SourceError(f"{name}: transform.{what} must be three finite 64-bit numbers.")
    return array


def _vertex_array(raw: Any, scale: np.ndarray, translate: np.ndarray, name: str, label: str) -> np.ndarray:
    """Stored vertices × scale + translate, as an ``(n, 3)`` float64 array, checked finite."""
    if not isinstance(raw, list):
        raise SourceError(f"{name}: \"vertices\" of {label} is not a list.")
    if not raw:
        return np.zeros((0, 3))
    try:
        stored = np.array(raw)
    except (ValueError, TypeError, OverflowError):
        stored = np.zeros(0, dtype=object)
    if stored.ndim != 2 or stored.shape[1] != 3 or stored.dtype.kind not in "iuf":
        raise SourceError(f"{name}: the vertices of {label} are not all [x, y, z] triples of numbers "
                          "within the 64-bit integer and float ranges.")
    with np.errstate(all="ignore"):
        vertices = stored.astype(np.float64) * scale + translate
    if not np.isfinite(vertices).all():
        raise SourceError(f"{name}: the vertices of {label} overflow the 64-bit float range once "
                          "transformed.")
    return vertices


def _crs(metadata: dict[str, Any], crs: str | None, name: str) -> tuple[str, bool]:
    """``("EPSG:<code>", is_geographic)`` from metadata.referenceSystem, else from ``crs``."""
    declared = metadata.get("referenceSystem")
    if declared is None:
        if crs is None:
            raise CrsError(f"{name}: has no metadata.referenceSystem; pass --crs EPSG:<code> to say "
                           "which CRS its coordinates are in.")
        declared = crs
    elif not isinstance(declared, str):
        raise SourceError(f"{name}: metadata.referenceSystem is not a string.")
    try:
        return resolve_crs(declared)
    except CrsError as exc:
        raise CrsError(f"{name}: {exc}") from None


def _read(header: dict[str, Any], chunks: list[_Chunk], name: str, path: str, lod: float,
          crs: str | None) -> SourceData:
    """Decode vertices, gather and check every geometry, then build the features."""
    metadata = header.get("metadata", {})
    if not isinstance(metadata, dict):
        raise SourceError(f"{name}: \"metadata\" is not a JSON object.")
    crs_error: CrsError | None = None
    try:
        epsg, geographic = _crs(metadata, crs, name)
    except CrsError as exc:  # reported once the file has proved well-formed
        epsg, geographic, crs_error = "", False, exc
    transform = header.get("transform")
    if transform is None:
        scale, translate = np.ones(3), np.zeros(3)
    elif isinstance(transform, dict):
        scale = _triple(transform.get("scale"), "scale", name)
        translate = _triple(transform.get("translate"), "translate", name)
    else:
        raise SourceError(f"{name}: \"transform\" is not a JSON object.")
    blocks = [_vertex_array(c.vertices, scale, translate, name, c.label) for c in chunks]
    if geographic:
        try:
            blocks, epsg = project_to_utm(blocks, epsg)
        except ValueError as exc:
            raise SourceError(f"{name}: {exc}.") from None
    store = RingStore()
    block_ids = [store.add_block(b, f"{c.label} has") for b, c in zip(blocks, chunks, strict=True)]
    objects: dict[str, dict[str, Any]] = {}
    geometries: dict[str, list[Geometry]] = {}
    templates = _templates(header.get("geometry-templates"), name)
    for chunk, block_id, block in zip(chunks, block_ids, blocks, strict=True):
        for object_id, obj in chunk.objects.items():
            if object_id in objects:
                raise SourceError(f"{name}: CityObject {object_id!r} appears twice.")
            _check_object(object_id, obj, name)
            objects[object_id] = obj
            owner = len(geometries)
            try:
                geometries[object_id] = [
                    g for g in (add_geometry(geom, store, block_id, block, templates, owner)
                                for geom in obj.get("geometry", [])) if g is not None]
            except BoundaryError as exc:
                raise SourceError(f"{name}: CityObject {object_id!r} {exc}.") from None
    try:
        rings = store.solve()
    except BoundaryError as exc:
        owner_id = list(geometries)[exc.owner] if 0 <= exc.owner < len(geometries) else "?"
        raise SourceError(f"{name}: CityObject {owner_id!r} {exc}.") from None
    if crs_error is not None:
        raise crs_error
    chosen = {object_id: choose_lod(geoms, lod) for object_id, geoms in geometries.items()}
    source = SourceData(path=path, format="cityjson", crs=epsg,
                        attribution=_attribution(metadata, objects, name))
    _build(source, objects, chosen, rings, store.poly_semantic)
    return source


def _check_object(object_id: str, obj: Any, name: str) -> None:
    """The members of a CityObject that the importer reads have the JSON types it expects."""
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise SourceError(f"{name}: CityObject {object_id!r} is not a JSON object with a string \"type\".")
    for key in ("parents", "children"):
        links = obj.get(key, [])
        if not isinstance(links, list) or not all(isinstance(link, str) for link in links):
            raise SourceError(f"{name}: CityObject {object_id!r} has {key!r} that is not a list of ids.")
    if not isinstance(obj.get("attributes", {}), dict):
        raise SourceError(f"{name}: CityObject {object_id!r} has \"attributes\" that are not a JSON object.")
    if not isinstance(obj.get("geometry", []), list):
        raise SourceError(f"{name}: CityObject {object_id!r} has \"geometry\" that is not a list.")


def _templates(member: Any, name: str) -> Templates:
    """``geometry-templates``: their vertices are real coordinates, never compressed."""
    if member is None:
        return Templates([], np.zeros((0, 3)))
    items = member.get("templates") if isinstance(member, dict) else None
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise SourceError(f"{name}: \"geometry-templates\" has no list of template geometries.")
    vertices = _vertex_array(member.get("vertices-templates"), np.ones(3), np.zeros(3), name,
                             "the geometry templates")
    return Templates(items, vertices)


def _attribution(metadata: dict[str, Any], objects: dict[str, dict[str, Any]], name: str) -> str:
    """A credit line: 3D BAG's own when the data looks like 3D BAG, else from the metadata."""
    text = json.dumps(metadata).lower()
    if "3dbag" in text or "3d bag" in text or any(
            any(k.startswith("b3_") for k in a) or a.get("reconstructie_methode") == "tudelft3d-geoflow"
            for a in (o.get("attributes", {}) for o in list(objects.values())[:20])):
        return "© 3D BAG by tudelft3d and 3DGI"
    contact = metadata.get("pointOfContact")
    contact = contact if isinstance(contact, dict) else {}
    who = next((contact[k] for k in ("organization", "contactName") if isinstance(contact.get(k), str)), None)
    title = metadata.get("title") if isinstance(metadata.get("title"), str) else None
    parts = [title, f"© {who}" if who else None]
    return " ".join(p for p in parts if p) or f"CityJSON data from {name}"


_PART_TYPES = ("BuildingPart", "BuildingInstallation")
_AREA_CLASS = {"WaterBody": "water", "Waterway": "water", "PlantCover": "grass", "LandUse": "other",
               "GenericCityObject": "other", "TransportSquare": "plaza"}
_CLASS_WORDS = (("parking", "parking"), ("parkeer", "parking"), ("park", "park"), ("forest", "forest"),
                ("wood", "forest"), ("bos", "forest"), ("gras", "grass"), ("lawn", "grass"),
                ("water", "water"))


def _links(objects: dict[str, dict[str, Any]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Children and parents of every object, from both ``children`` and ``parents``."""
    down: dict[str, list[str]] = {k: [] for k in objects}
    up: dict[str, list[str]] = {k: [] for k in objects}
    for object_id, obj in objects.items():
        for child in (c for c in obj.get("children", []) if c in objects):
            down[object_id].append(child)
            up[child].append(object_id)
        for parent in (p for p in obj.get("parents", []) if p in objects):
            down[parent].append(object_id)
            up[object_id].append(parent)
    return down, up


def _building_groups(objects: dict[str, dict[str, Any]]) -> list[list[str]]:
    """``[root, *parts]`` per building: Buildings first, then the tops of orphan parts."""
    down, up = _links(objects)
    claimed: set[str] = set()
    groups: list[list[str]] = []

    def claim(root: str) -> None:
        members, stack = [root], [root]
        claimed.add(root)
        while stack:
            for child in down[stack.pop()]:
                if child not in claimed and objects[child]["type"] in _PART_TYPES:
                    claimed.add(child)
                    members.append(child)
                    stack.append(child)
        groups.append(members)

    for object_id, obj in objects.items():
        if obj["type"] == "Building":
            claim(object_id)
    for object_id, obj in objects.items():
        if obj["type"] == "BuildingPart" and object_id not in claimed:
            top, seen = object_id, {object_id}
            while (higher := next((p for p in up[top] if p not in claimed and p not in seen
                                   and objects[p]["type"] == "BuildingPart"), None)) is not None:
                top = higher
                seen.add(top)
            claim(top)
    return groups


def _text(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str) and value.strip():
        return value.strip()
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _area_class(kind: str, attributes: dict[str, Any]) -> str:
    base = _AREA_CLASS[kind]
    if kind not in ("LandUse", "PlantCover"):
        return base
    texts = (_text(attributes.get(key)) for key in ("function", "class", "usage"))
    words = " ".join(t.lower() for t in texts if t)
    found = next((cls for word, cls in _CLASS_WORDS if word in words), None)
    if kind == "PlantCover":
        return "forest" if found == "forest" else base
    return found if found in ("grass", "park", "forest", "water", "parking") else base


def _build(source: SourceData, objects: dict[str, dict[str, Any]], chosen: dict[str, list[Geometry]],
           rings: Rings, semantic: list[str | None]) -> None:
    """Turn the chosen geometries into buildings, roads, areas and trees on ``source``."""
    ground_levels = []
    for members in _building_groups(objects):
        built = _building(members, objects, chosen, rings, semantic)
        if built is not None:
            source.buildings.append(built[0])
            ground_levels.append(built[1])
    source.base_z_m = float(np.median(ground_levels)) if ground_levels else None
    for object_id, obj in objects.items():
        kind, attributes = obj["type"], dict(obj.get("attributes", {}))
        polygons = np.array([p for g in chosen[object_id] for p in g.polygons], dtype=np.int64)
        if kind in _AREA_CLASS or kind == "Road":
            outline = polygonal(rings.outlines(polygons))
            if outline.is_empty:
                continue
            label = _text(attributes.get("name"))
            if kind == "Road":
                source.roads.append(Road(f"cj:{object_id}", outline, "road", "carriageway", 0.0, name=label,
                                         attributes=attributes))
            else:
                source.areas.append(Area(f"cj:{object_id}", outline, _area_class(kind, attributes), name=label,
                                         attributes=attributes))
        elif kind == "SolitaryVegetationObject":
            points = [r for p in polygons if (rs := rings.polygon(int(p))) for r in rs]
            if points:
                xyz = np.concatenate(points)
                low, high = xyz.min(axis=0), xyz.max(axis=0)
                source.trees.append(Tree(
                    f"cj:{object_id}", shapely.Point((low[:2] + high[:2]) / 2.0), float(high[2] - low[2]),
                    max(2.0, float((high[:2] - low[:2]).max())), species=_text(attributes.get("species")),
                    attributes=attributes))


def _building(members: list[str], objects: dict[str, dict[str, Any]], chosen: dict[str, list[Geometry]],
              rings: Rings, semantic: list[str | None]) -> tuple[Building, float] | None:
    """One Building from a root and its parts, with its lowest z; None without surfaces.

    LoD 0 geometries (2D footprints, as on 3D BAG's Building next to the solids of its
    BuildingParts) are left out when any member has a 3D geometry.
    """
    picks = {m: chosen[m] for m in members}
    if any(g.lod >= 1.0 for gs in picks.values() for g in gs):
        picks = {m: [g for g in gs if g.lod >= 1.0] for m, gs in picks.items()}
    surfaces, used, grounds = [], [], []
    for geometry in (g for gs in picks.values() for g in gs):
        for p in geometry.polygons:
            polygon = rings.polygon(p)
            if polygon is None:
                continue
            kind = surface_kind(semantic[p], float(rings.poly_nz[p]))
            surfaces.append(Surface(kind, polygon))  # type: ignore[arg-type]
            used.append(p)
            if kind == "ground":
                grounds.append(p)
    if not surfaces:
        return None
    footprint = polygonal(rings.outlines(np.array(grounds, dtype=np.int64)))
    if footprint.is_empty:
        footprint = polygonal(rings.outlines(np.array(used, dtype=np.int64)))
    if footprint.is_empty:
        return None
    z = np.concatenate([ring[:, 2] for surface in surfaces for ring in surface.rings])
    root = members[0]
    geometries = picks[root] or max(picks.values(), key=lambda gs: gs[0].lod if gs else -1.0)
    lod_text = geometries[0].lod_text
    attributes = dict(objects[root].get("attributes", {}))
    building_type = next((t for t in (_text(attributes.get(k)) for k in ("function", "usage")) if t), "yes")
    attributes["lod"] = lod_text
    storeys = attributes.get("storeysAboveGround")
    return Building(
        id=f"cj:{root}", footprint=footprint, height_m=float(z.max() - z.min()), min_height_m=0.0,
        building_type=building_type, levels=storeys if storeys.__class__ is int and 0 <= storeys < 1000 else None,
        height_source=f"cityjson-lod{lod_text}", surfaces=tuple(surfaces),
        part_ids=tuple(f"cj:{m}" for m in members[1:]), name=_text(attributes.get("name")),
        attributes=attributes), float(z.min())
