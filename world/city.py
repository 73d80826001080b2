"""The City: every source's features in one model, in local metres, with stable ids.

Importers (OSM, CityJSON, GeoJSON) produce a :class:`SourceData` in their own
projected CRS; :func:`assemble` reprojects them into one frame whose origin is the
centre of the combined area and returns a :class:`City`. Everything downstream (meshing,
the feature store, rasterisation, the simulations) reads only the City.

Feature ids are stable across rebuilds of the same data: ``osm:w<way id>``,
``osm:r<relation id>``, ``osm:n<node id>``, ``cj:<CityObject id>``,
``gj:<file stem>:<feature id or index>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from world.frame import LocalFrame, _transformer

__all__ = [
    "Volume", "Surface", "Building", "Road", "Area", "Tree", "Feature", "Barrier", "Furniture", "Treatment",
    "SourceData", "City", "assemble", "FEATURE_KINDS",
]

FEATURE_KINDS = ("building", "road", "area", "tree")

SurfaceKind = Literal["roof", "wall", "ground", "other"]
RoadSurface = Literal["carriageway", "footway", "cycleway"]


@dataclass(frozen=True, slots=True)
class Volume:
    """A prism: a footprint extruded from ``min_height_m`` to ``height_m`` above ground."""

    footprint: shapely.Polygon
    min_height_m: float
    height_m: float


@dataclass(frozen=True, slots=True)
class Surface:
    """One explicit 3D polygon (from CityJSON): exterior ring first, then holes.

    Each ring is an ``(n, 3)`` float64 array, not closed (first point not repeated),
    oriented counter-clockwise seen from outside the solid.
    """

    kind: SurfaceKind
    rings: tuple[np.ndarray, ...]


@dataclass(slots=True)
class Building:
    """A building. Meshed from ``surfaces`` when it has any, else from ``volumes``.

    ``footprint`` is its ground outline (for picking, rasterising, reports);
    ``height_m`` its top above ground; ``part_ids`` the ids of its parts
    (OSM ``building:part``, CityJSON ``BuildingPart``), which it absorbs.
    """

    id: str
    footprint: shapely.Polygon | shapely.MultiPolygon
    height_m: float
    min_height_m: float = 0.0
    building_type: str = "yes"
    levels: int | None = None
    height_source: str = "default"
    volumes: tuple[Volume, ...] = ()
    surfaces: tuple[Surface, ...] = ()
    part_ids: tuple[str, ...] = ()
    name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    kind = "building"

    @property
    def geometry(self) -> BaseGeometry:
        return self.footprint


@dataclass(slots=True)
class Road:
    """A street, footway or cycleway: a centreline with a width, or (CityJSON) a surface."""

    id: str
    geometry: shapely.LineString | shapely.Polygon | shapely.MultiPolygon
    road_class: str
    surface: RoadSurface
    width_m: float
    lanes: int | None = None
    maxspeed_kmh: float | None = None
    oneway: bool = False
    name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    kind = "road"

    def outline(self) -> shapely.Polygon | shapely.MultiPolygon:
        """The paved area: the centreline buffered by half the width (flat ends)."""
        if isinstance(self.geometry, shapely.LineString):
            return shapely.buffer(self.geometry, self.width_m / 2.0, cap_style="flat", join_style="round")
        return self.geometry


@dataclass(slots=True)
class Area:
    """Land cover: ``area_class`` is one of park, grass, forest, water, plaza, parking,
    carriageway, sidewalk, other."""

    id: str
    geometry: shapely.Polygon | shapely.MultiPolygon
    area_class: str
    name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    kind = "area"


@dataclass(slots=True)
class Tree:
    id: str
    geometry: shapely.Point
    height_m: float
    crown_diameter_m: float
    species: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    kind = "tree"


Feature = Building | Road | Area | Tree


@dataclass(slots=True)
class Barrier:
    """A noise barrier: a thin wall ``height_m`` high along a line."""

    id: str
    geometry: shapely.LineString
    height_m: float

    kind = "barrier"


@dataclass(slots=True)
class Furniture:
    """Street furniture; ``seats`` counts the people it seats (benches)."""

    id: str
    geometry: shapely.Point
    furniture_type: str
    seats: int = 0

    kind = "furniture"


@dataclass(slots=True)
class Treatment:
    """A surface treatment over whatever lies beneath it, for runoff: ``green_roof``,
    ``permeable_paving`` or ``rain_garden``, with ``storage_mm`` of rain it holds
    before any runs off."""

    id: str
    geometry: shapely.Polygon | shapely.MultiPolygon
    treatment: str
    storage_mm: float = 0.0

    kind = "treatment"


@dataclass(slots=True)
class SourceData:
    """What one importer read: features in ``crs`` coordinates (metres, not yet local).

    ``base_z_m`` is the ground elevation of the source where it has one (CityJSON);
    z values of building surfaces are absolute in the source's vertical datum.
    """

    path: str
    format: str
    crs: str
    buildings: list[Building] = field(default_factory=list)
    roads: list[Road] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    attribution: str = ""
    base_z_m: float | None = None

    def features(self) -> Iterator[Feature]:
        yield from self.buildings
        yield from self.roads
        yield from self.areas
        yield from self.trees

    def features_count(self) -> int:
        return len(self.buildings) + len(self.roads) + len(self.areas) + len(self.trees)


@dataclass(slots=True)
class City:
    """A district in local metres (see :mod:`world.frame`)."""

    name: str
    frame: LocalFrame
    buildings: list[Building]
    roads: list[Road]
    areas: list[Area]
    trees: list[Tree]
    attribution: list[str]
    sources: list[str]
    #: Things only placed interventions add (the importers leave them empty).
    barriers: list[Barrier] = field(default_factory=list)
    furniture: list[Furniture] = field(default_factory=list)
    treatments: list[Treatment] = field(default_factory=list)

    def features(self) -> Iterator[Feature]:
        yield from self.buildings
        yield from self.roads
        yield from self.areas
        yield from self.trees

    def counts(self) -> dict[str, int]:
        """Features per kind, every kind present (zero where none)."""
        counts = Counter(f.kind for f in self.features())
        return {kind: counts.get(kind, 0) for kind in FEATURE_KINDS}

    def bbox_m(self) -> tuple[float, float, float, float]:
        """``(min_x, min_y, max_x, max_y)`` of every feature, local metres."""
        geoms = np.array([f.geometry for f in self.features()], dtype=object)
        if len(geoms) == 0:
            return (0.0, 0.0, 0.0, 0.0)
        min_x, min_y, max_x, max_y = shapely.total_bounds(geoms)
        return (float(min_x), float(min_y), float(max_x), float(max_y))


def _translate_geometry(geom: BaseGeometry, dx: float, dy: float) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: xy - np.array([dx, dy]))


def _reproject_geometry(geom: BaseGeometry, source: str, target: str, dx: float,
                        dy: float) -> BaseGeometry:
    transformer = _transformer(source, target)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x) - dx, np.asarray(y) - dy])

    return shapely.transform(geom, move)


def _bounds_in(source: SourceData, target: str) -> tuple[float, float, float, float]:
    """The source's bounding box in the target CRS (its densified edges, when reprojected)."""
    min_x, min_y, max_x, max_y = shapely.total_bounds(np.array([f.geometry for f in source.features()],
                                                                 dtype=object))
    if source.crs != target:
        min_x, min_y, max_x, max_y = _transformer(source.crs, target).transform_bounds(min_x, min_y, max_x, max_y)
    return float(min_x), float(min_y), float(max_x), float(max_y)


def _localise(feature: Feature, move: Any, move_points: Any, dz_m: float) -> Feature:
    if isinstance(feature, Building):
        volumes = tuple(replace(v, footprint=move(v.footprint)) for v in feature.volumes)
        surfaces = tuple(
            Surface(s.kind, tuple(move_points(ring, dz_m) for ring in s.rings)) for s in feature.surfaces)
        return replace(feature, footprint=move(feature.footprint), volumes=volumes, surfaces=surfaces)
    return replace(feature, geometry=move(feature.geometry))


def assemble(sources: list[SourceData], name: str, crs: str | None = None) -> City:
    """Merge importer outputs into one City in a local frame centred on their extent.

    ``crs`` (``"EPSG:<code>"``, projected) overrides the target CRS; by default it is
    the first source's CRS. The origin is the centre of the combined bounding box,
    rounded to the metre so that local coordinates stay readable.
    """
    target = crs or sources[0].crs
    boxes = [_bounds_in(source, target) for source in sources if source.features_count()]
    if boxes:
        stacked = np.array(boxes)
        min_x, min_y = stacked[:, 0].min(), stacked[:, 1].min()
        max_x, max_y = stacked[:, 2].max(), stacked[:, 3].max()
        origin_x, origin_y = round((min_x + max_x) / 2.0), round((min_y + max_y) / 2.0)
    else:
        origin_x = origin_y = 0.0
    base_levels = [s.base_z_m for s in sources if s.base_z_m is not None]
    origin_z = float(np.median(base_levels)) if base_levels else 0.0
    frame = LocalFrame(target, float(origin_x), float(origin_y), round(origin_z, 3))

    city = City(name=name, frame=frame, buildings=[], roads=[], areas=[], trees=[],
                attribution=[], sources=[])
    for source in sources:
        def move(g: BaseGeometry, _s: str = source.crs) -> BaseGeometry:
            if _s == target:
                return _translate_geometry(g, frame.origin_x_m, frame.origin_y_m)
            return _reproject_geometry(g, _s, target, frame.origin_x_m, frame.origin_y_m)

        def move_points(ring: np.ndarray, dz_m: float, _s: str = source.crs) -> np.ndarray:
            out = np.array(ring, dtype=np.float64, copy=True)
            if _s != target:
                x, y = _transformer(_s, target).transform(out[:, 0], out[:, 1])
                out[:, 0], out[:, 1] = x, y
            out[:, 0] -= frame.origin_x_m
            out[:, 1] -= frame.origin_y_m
            out[:, 2] -= dz_m
            return out

        city.buildings += [_localise(b, move, move_points, origin_z) for b in source.buildings]  # type: ignore[misc]
        city.roads += [_localise(r, move, move_points, origin_z) for r in source.roads]  # type: ignore[misc]
        city.areas += [_localise(a, move, move_points, origin_z) for a in source.areas]  # type: ignore[misc]
        city.trees += [_localise(t, move, move_points, origin_z) for t in source.trees]  # type: ignore[misc]
        if source.attribution and source.attribution not in city.attribution:
            city.attribution.append(source.attribution)
        city.sources.append(source.path)
    return city
