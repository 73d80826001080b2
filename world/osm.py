"""OpenStreetMap importer: ``.osm.pbf``, ``.osm`` (XML) and ``.osm.bz2`` to a SourceData.

>>> data = read_osm("content/cities/helsinki/helsinki-center.osm.pbf", crs="EPSG:3067")
>>> data.crs, len(data.buildings) > 400, data.attribution
('EPSG:3067', True, '© OpenStreetMap contributors (ODbL 1.0)')

pyosmium reads the file in two passes (relations first, so that multipolygon relations
can be assembled into areas, wiki "Relation:multipolygon"), with node locations cached
and a key filter (:data:`world.osm_tags.FILTER_KEYS`) in front of Python. Geometries come
out of libosmium as WKB, are parsed by shapely in bulk and are reprojected in a single
vectorised pyproj call from lon/lat to the target CRS: ``crs`` when given (projected
only), else the UTM zone of the data's centre.

What becomes what (the tag rules and their tables are in :mod:`world.osm_tags`):

* **Buildings**: closed ways and multipolygon relations with ``building=*`` (holes
  kept). Elements with ``building:part=*`` are parts (wiki "Simple 3D Buildings"): each
  is given to the smallest building whose footprint contains the part's representative
  point; that building is then built from its parts' volumes only (its own outline is
  not extruded), lists them in ``part_ids`` and takes the tallest part's height. Parts
  inside no building are buildings of their own. ``type=building`` relations are not
  read (geometric containment decides).
* **Roads**: ways with a known ``highway`` value, not ``area=yes``, at least two nodes.
* **Areas**: land cover of closed ways and multipolygons (``world.osm_tags.AREA_RULES``).
  The sea is a known gap: ``natural=coastline`` is not assembled.
* **Trees**: ``natural=tree`` nodes; ``natural=tree_row`` ways become
  ``n = max(1, round(length / 8 m))`` trees at the centres of ``n`` equal stretches of
  the line (about 8 m apart, none on the end nodes, which usually touch a road or a
  wall), ids ``osm:w<id>#<k>`` with ``k`` from 0 along the way.

Extracts cut at a bounding box keep ways whose nodes lie partly outside it. Such a
building or area has an unknown shape and is skipped (libosmium cannot close it); a road
or tree row keeps its longest run of consecutive nodes that are in the file.

Feature ids: ``osm:w<way id>``, ``osm:r<relation id>``, ``osm:n<node id>``. Every
feature's ``attributes`` are its OSM tags. Errors are :class:`~world.errors.SourceError`
(file missing, unreadable, truncated, not OSM, no features) and
:class:`~world.errors.CrsError` (bad or geographic ``crs``); nothing else escapes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import osmium.filter
import osmium.geom
import shapely
from shapely.errors import GEOSException

from world import osm_tags as rules
from world.city import Area, Building, Road, SourceData, Tree, Volume
from world.errors import CrsError, SourceError, WorldError
from world.frame import _transformer, resolve_crs, utm_crs_for

__all__ = ["ATTRIBUTION", "read_osm"]

ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"

# File name endings pyosmium can read, and the libosmium format string for each.
_FORMATS = ((".osm.pbf", "pbf"), (".pbf", "pbf"), (".osm.bz2", "osm.bz2"),
            (".osm.gz", "osm.gz"), (".osm", "osm"), (".xml", "osm"))

# PBF framing limits from the format specification (wiki "PBF Format").
_MAX_BLOB_HEADER_BYTES = 64 * 1024
_MAX_BLOB_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class _Raw:
    """What the pyosmium pass collected, still in lon/lat: ids, tags and geometries."""

    polygon_ids: list[str] = field(default_factory=list)
    polygon_tags: list[dict[str, str]] = field(default_factory=list)
    polygon_wkb: list[str] = field(default_factory=list)
    line_ids: list[str] = field(default_factory=list)
    line_tags: list[dict[str, str]] = field(default_factory=list)
    line_geoms: list[Any] = field(default_factory=list)  # WKB hex, or an (n, 2) array
    node_ids: list[str] = field(default_factory=list)
    node_tags: list[dict[str, str]] = field(default_factory=list)
    node_lonlat: list[tuple[float, float]] = field(default_factory=list)


def read_osm(path: str | os.PathLike[str], *, crs: str | None = None,
             progress: Callable[[str], None] | None = None) -> SourceData:
    """Read an OpenStreetMap file into buildings, roads, areas and trees in metres.

    ``crs`` (e.g. ``"EPSG:3067"``) must be projected; by default the UTM zone of the
    data's centre is used. ``progress`` is called with a short message between phases.
    """
    name = Path(path).name
    report = progress or (lambda _message: None)
    file_format = _check_file(Path(path), name)
    target = _target_crs(crs, name)
    report(f"reading {name}")
    raw = _collect(Path(path), file_format, name)
    if not (raw.polygon_ids or raw.line_ids or raw.node_ids):
        raise SourceError(f"{name}: contains no buildings, roads, areas or trees.")
    report("projecting coordinates")
    try:
        polygons, lines, points, target = _project(raw, target, name)
        report("assembling features")
        data = SourceData(path=str(path), format="osm", crs=target, attribution=ATTRIBUTION)
        data.buildings, data.areas = _polygon_features(raw, polygons)
        data.roads, row_trees = _line_features(raw, lines)
        data.trees = _node_trees(raw, points) + row_trees
    except GEOSException as exc:
        raise SourceError(f"{name}: contains geometry that cannot be processed ({exc}).") from exc
    if not (data.buildings or data.roads or data.areas or data.trees):
        raise SourceError(f"{name}: contains no buildings, roads, areas or trees.")
    return data


def _target_crs(crs: str | None, name: str) -> str | None:
    if crs is None:
        return None
    try:
        code, geographic = resolve_crs(crs)
    except CrsError as exc:
        raise CrsError(f"{name}: {exc}") from exc
    if geographic:
        raise CrsError(f"{name}: {code} is a geographic CRS in degrees; a projected CRS in metres is needed.")
    return code


def _check_file(path: Path, name: str) -> str:
    """The libosmium format of ``path``, after checks that give precise messages."""
    try:
        if not path.exists():
            raise SourceError(f"{name}: no such file.")
        if not path.is_file():
            raise SourceError(f"{name}: is not a regular file.")
        lowered = name.lower()
        file_format = next((fmt for suffix, fmt in _FORMATS if lowered.endswith(suffix)), None)
        if file_format is None:
            raise SourceError(f"{name}: is not an OpenStreetMap file name "
                              "(expected .osm.pbf, .osm, .osm.bz2 or .osm.gz).")
        size = path.stat().st_size
        if size == 0:
            raise SourceError(f"{name}: the file is empty.")
        if file_format == "pbf":
            _check_pbf_framing(path, size, name)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).rstrip(".")
        raise SourceError(f"{name}: cannot be read ({reason}).") from exc
    return file_format


def _check_pbf_framing(path: Path, size: int, name: str) -> None:
    """Walk the PBF block headers (cheap: only the headers are read) to catch truncation.

    A PBF file is a sequence of (4-byte big-endian length, BlobHeader, Blob); libosmium
    quietly accepts some truncated files, so the framing is checked here first.
    """
    not_osm = SourceError(f"{name}: is not OpenStreetMap PBF data.")
    truncated = SourceError(f"{name}: the file is truncated.")
    position = 0
    with path.open("rb") as stream:
        while position < size:
            prefix = stream.read(4)
            if len(prefix) < 4:
                raise truncated
            header_size = int.from_bytes(prefix, "big")
            if not 0 < header_size <= _MAX_BLOB_HEADER_BYTES:
                raise not_osm
            header = stream.read(header_size)
            if len(header) < header_size:
                raise truncated
            blob = _parse_blob_header(header)
            if blob is None or (position == 0 and blob[0] != "OSMHeader"):
                raise not_osm
            position += 4 + header_size + blob[1]
            if position > size:
                raise truncated
            stream.seek(position)


def _parse_blob_header(header: bytes) -> tuple[str, int] | None:
    """``(type, datasize)`` of a PBF BlobHeader message, or None if it is not one."""
    fields: dict[int, Any] = {}
    index = 0

    def varint() -> int:
        nonlocal index
        value = shift = 0
        while True:
            if index >= len(header) or shift > 63:
                raise ValueError
            byte = header[index]
            index += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    try:
        while index < len(header):
            key = varint()
            number, wire = key >> 3, key & 7
            if wire == 0:
                fields[number] = varint()
            elif wire == 2:
                length = varint()
                fields[number] = header[index:index + length]
                index += length
            else:
                return None
        kind = fields.get(1)
        datasize = fields.get(3)
        if not isinstance(kind, bytes) or not isinstance(datasize, int) or index > len(header):
            return None
        if kind not in (b"OSMHeader", b"OSMData") or datasize > _MAX_BLOB_BYTES:
            return None
        return kind.decode("ascii"), datasize
    except ValueError:
        return None


def _collect(path: Path, file_format: str, name: str) -> _Raw:
    """One pyosmium iteration: every element that can become a feature, in lon/lat."""
    raw = _Raw()
    factory = osmium.geom.WKBFactory()
    try:
        key_filter = osmium.filter.KeyFilter(*rules.FILTER_KEYS)
        processor = (osmium.FileProcessor(osmium.io.File(str(path), file_format))
                     .with_locations()
                     .with_areas(osmium.filter.KeyFilter(*rules.FILTER_KEYS))
                     .with_filter(key_filter))
        for obj in processor:
            if isinstance(obj, osmium.osm.Area):
                tags = dict(obj.tags)
                if (rules.is_building(tags) or rules.is_building_part(tags)
                        or rules.area_class(tags) is not None):
                    prefix = "osm:w" if obj.from_way() else "osm:r"
                    raw.polygon_ids.append(f"{prefix}{obj.orig_id()}")
                    raw.polygon_tags.append(tags)
                    raw.polygon_wkb.append(factory.create_multipolygon(obj))
            elif isinstance(obj, osmium.osm.Way):
                tags = dict(obj.tags)
                if rules.road_class(tags) is None and tags.get("natural") != "tree_row":
                    continue
                line = _way_line(obj, factory)
                if line is not None:
                    raw.line_ids.append(f"osm:w{obj.id}")
                    raw.line_tags.append(tags)
                    raw.line_geoms.append(line)
            elif (isinstance(obj, osmium.osm.Node) and obj.tags.get("natural") == "tree"
                  and obj.location.valid()):
                raw.node_ids.append(f"osm:n{obj.id}")
                raw.node_tags.append(dict(obj.tags))
                raw.node_lonlat.append((obj.location.lon, obj.location.lat))
    except WorldError:
        raise
    except Exception as exc:  # pyosmium raises RuntimeError, ValueError, ... on bad input
        detail = str(exc).strip().rstrip(".") or type(exc).__name__
        raise SourceError(f"{name}: the file is truncated or is not OpenStreetMap data "
                          f"({detail}).") from exc
    return raw


def _way_line(way: Any, factory: osmium.geom.WKBFactory) -> Any:
    """WKB of a way's line; for a way cut by the extract, its longest located run."""
    try:
        return factory.create_linestring(way)
    except osmium.InvalidLocationError:
        pass
    except RuntimeError:  # fewer than two distinct nodes
        return None
    # Rare (ways crossing the extract's edge): walk the nodes of this way only.
    best: list[tuple[float, float]] = []
    run: list[tuple[float, float]] = []
    for node in way.nodes:
        if node.location.valid():
            run.append((node.lon, node.lat))
            if len(run) > len(best):
                best = list(run)
        else:
            run = []
    coords = np.array(best, dtype=np.float64).reshape(-1, 2)
    if len(coords) < 2 or not np.any(coords != coords[0]):
        return None
    return coords


def _project(raw: _Raw, target: str | None, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Every geometry to the target CRS in one vectorised transform."""
    polygons = shapely.from_wkb(raw.polygon_wkb) if raw.polygon_wkb else np.empty(0, dtype=object)
    lines = np.empty(len(raw.line_geoms), dtype=object)
    wkb_at = [i for i, g in enumerate(raw.line_geoms) if isinstance(g, str)]
    if wkb_at:
        lines[wkb_at] = shapely.from_wkb([raw.line_geoms[i] for i in wkb_at])
    for i, geom in enumerate(raw.line_geoms):
        if not isinstance(geom, str):
            lines[i] = shapely.linestrings(geom)
    lonlat = np.array(raw.node_lonlat, dtype=np.float64).reshape(-1, 2)
    points = shapely.points(lonlat) if len(lonlat) else np.empty(0, dtype=object)
    everything = np.concatenate([polygons, lines, points]).astype(object)
    if target is None:
        min_x, min_y, max_x, max_y = shapely.total_bounds(everything)
        target = utm_crs_for((min_x + max_x) / 2.0, (min_y + max_y) / 2.0)
    transformer = _transformer("EPSG:4326", target)

    def to_target(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    moved = shapely.transform(everything, to_target)
    if not np.all(np.isfinite(shapely.get_coordinates(moved))):
        raise CrsError(f"{name}: some coordinates lie outside the area where {target} is defined.")
    n_poly, n_line = len(polygons), len(lines)
    return moved[:n_poly], moved[n_poly:n_poly + n_line], moved[n_poly + n_line:], target


def _clean_polygons(geoms: np.ndarray) -> np.ndarray:
    """Valid Polygon/MultiPolygon (single parts unwrapped), or None where nothing is left."""
    out = np.array(geoms, dtype=object)
    for index in np.flatnonzero(~shapely.is_valid(out)).tolist():
        fixed = shapely.make_valid(out[index])
        if not isinstance(fixed, shapely.Polygon | shapely.MultiPolygon):
            polygonal = [g for g in shapely.get_parts(fixed)
                         if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
            fixed = shapely.union_all(polygonal) if polygonal else None
        out[index] = fixed if fixed is not None and fixed.area > 0.0 else None
    for i, geom in enumerate(out):
        if geom is None or geom.is_empty:
            out[i] = None
        elif isinstance(geom, shapely.MultiPolygon) and len(geom.geoms) == 1:
            out[i] = geom.geoms[0]
    return out


def _polygon_features(raw: _Raw, polygons: np.ndarray) -> tuple[list[Building], list[Area]]:
    geoms = _clean_polygons(polygons)
    outlines: list[Building] = []
    parts: list[Building] = []
    areas: list[Area] = []
    for osm_id, tags, geom in zip(raw.polygon_ids, raw.polygon_tags, geoms, strict=True):
        if geom is None:
            continue
        if rules.is_building(tags) or rules.is_building_part(tags):
            building = _building(osm_id, tags, geom)
            (parts if rules.is_building_part(tags) else outlines).append(building)
        else:
            klass = rules.area_class(tags)
            if klass is not None:
                areas.append(Area(osm_id, geom, klass, tags.get("name"), tags))
    return _absorb_parts(outlines, parts), areas


def _building(osm_id: str, tags: dict[str, str], footprint: Any) -> Building:
    bottom, top, levels, source = rules.building_heights(tags)
    volumes = tuple(Volume(p, bottom, top) for p in shapely.get_parts(footprint))
    kind = tags.get("building") or tags.get("building:part") or "yes"
    if kind == "no":
        kind = tags.get("building:part", "yes")
    return Building(id=osm_id, footprint=footprint, height_m=top, min_height_m=bottom,
                    building_type=kind, levels=levels, height_source=source, volumes=volumes,
                    name=tags.get("name"), attributes=tags)


def _absorb_parts(outlines: list[Building], parts: list[Building]) -> list[Building]:
    """Give each part to the smallest outline containing its representative point."""
    if not parts:
        return outlines
    owner = [-1] * len(parts)
    if outlines:
        footprints = np.array([b.footprint for b in outlines], dtype=object)
        tree = shapely.STRtree(footprints)
        points = shapely.point_on_surface(np.array([p.footprint for p in parts], dtype=object))
        part_at, outline_at = tree.query(points, predicate="intersects")
        sizes = shapely.area(footprints)
        for p, o in zip(part_at.tolist(), outline_at.tolist(), strict=True):
            if owner[p] < 0 or sizes[o] < sizes[owner[p]]:
                owner[p] = o
    children: dict[int, list[Building]] = {}
    orphans: list[Building] = []
    for part, o in zip(parts, owner, strict=True):
        if o < 0:
            orphans.append(part)
        else:
            children.setdefault(o, []).append(part)
    for o, members in children.items():
        outline = outlines[o]
        tallest = max(members, key=lambda b: b.height_m)
        part_levels = [b.levels for b in members if b.levels is not None]
        outline.volumes = tuple(v for b in members for v in b.volumes)
        outline.part_ids = tuple(b.id for b in members)
        outline.height_m = tallest.height_m
        outline.min_height_m = min(b.min_height_m for b in members)
        outline.height_source = tallest.height_source
        if outline.levels is None and part_levels:
            outline.levels = max(part_levels)
    return outlines + orphans


def _line_features(raw: _Raw, lines: np.ndarray) -> tuple[list[Road], list[Tree]]:
    roads: list[Road] = []
    trees: list[Tree] = []
    lengths = shapely.length(lines) if len(lines) else np.empty(0)
    for osm_id, tags, line, length in zip(raw.line_ids, raw.line_tags, lines, lengths, strict=True):
        if tags.get("natural") == "tree_row":
            trees += _tree_row(osm_id, tags, line, float(length))
        klass = rules.road_class(tags)
        if klass is None or not length > 0.0:
            continue
        surface = rules.road_surface(tags)
        oneway, backwards = rules.road_oneway(tags)
        lanes = rules.parse_count(tags.get("lanes"))
        roads.append(Road(
            id=osm_id, geometry=shapely.reverse(line) if backwards else line, road_class=klass,
            surface=surface,  # type: ignore[arg-type]
            width_m=rules.road_width_m(tags, surface),
            lanes=int(lanes) if lanes is not None and lanes >= 1 else None,
            maxspeed_kmh=rules.parse_maxspeed_kmh(tags.get("maxspeed")), oneway=oneway,
            name=tags.get("name"), attributes=tags))
    return roads, trees


def _tree_row(osm_id: str, tags: dict[str, str], line: Any, length: float) -> list[Tree]:
    count = max(1, round(length / rules.TREE_ROW_SPACING_M))
    distances = (np.arange(count) + 0.5) * (length / count)
    points = shapely.line_interpolate_point(line, distances)
    height, crown, species = rules.tree_properties(tags)
    return [Tree(f"{osm_id}#{k}", point, height, crown, species, dict(tags))
            for k, point in enumerate(points)]


def _node_trees(raw: _Raw, points: np.ndarray) -> list[Tree]:
    trees = []
    for osm_id, tags, point in zip(raw.node_ids, raw.node_tags, points, strict=True):
        height, crown, species = rules.tree_properties(tags)
        trees.append(Tree(osm_id, point, height, crown, species, tags))
    return trees
