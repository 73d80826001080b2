"""Where a tap lands on the city, for the kiosk session: lines snapped onto streets, the
roof under a finger, the anchor of a callout and the grid cells around a placement.

All in local metres (x east, y north), pure shapely and numpy.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import ops
from shapely.geometry.base import BaseGeometry

from world.city import Building, City

__all__ = ["SNAP_LINE_M", "snap_line", "building_at", "roof_at", "anchor_xy", "cells_within"]

#: An end of a drawn line moves onto a road centreline this close to it, m.
SNAP_LINE_M = 15.0


def _centrelines(city: City, surface: str | None) -> list[shapely.LineString]:
    return [r.geometry for r in city.roads if isinstance(r.geometry, shapely.LineString)
            and (surface is None or r.surface == surface)]


def _nearest(lines: list[shapely.LineString], point: shapely.Point, within_m: float) -> int | None:
    if not lines:
        return None
    distances = shapely.distance(np.array(lines, dtype=object), point)
    best = int(np.argmin(distances))
    return best if distances[best] <= within_m else None


def snap_line(city: City, line: shapely.LineString, *, surface: str | None = "carriageway",
              within_m: float = SNAP_LINE_M) -> shapely.LineString:
    """``line`` with each end moved onto the nearest road centreline (of ``surface``, or
    any road for None) within ``within_m``; when both ends land on the same road the line
    follows that road between them. Ends with no road near stay where they are.

    >>> from world.city import Road
    >>> from world.frame import LocalFrame
    >>> bend = Road("r", shapely.LineString([(0, 0), (50, 0), (50, 50)]), "primary", "carriageway", 8.0)
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [bend], [], [], [], [])
    >>> snap_line(city, shapely.LineString([(10, 4), (46, 40)])).wkt
    'LINESTRING (10 0, 50 0, 50 40)'
    >>> snap_line(city, shapely.LineString([(10, 40), (20, 40)])).wkt
    'LINESTRING (10 40, 20 40)'
    """
    lines = _centrelines(city, surface)
    coords = [tuple(c[:2]) for c in line.coords]
    start, end = shapely.Point(coords[0]), shapely.Point(coords[-1])
    first, last = _nearest(lines, start, within_m), _nearest(lines, end, within_m)
    if first is not None and first == last:
        road = lines[first]
        a, b = road.project(start), road.project(end)
        if abs(b - a) > 1e-6:
            followed = ops.substring(road, a, b)
            if isinstance(followed, shapely.LineString) and followed.length > 0.0:
                return shapely.LineString([tuple(c[:2]) for c in followed.coords])
    if first is not None:
        coords[0] = tuple(lines[first].interpolate(lines[first].project(start)).coords[0][:2])
    if last is not None:
        coords[-1] = tuple(lines[last].interpolate(lines[last].project(end)).coords[0][:2])
    snapped = shapely.LineString(coords)
    return snapped if snapped.length > 0.0 else line


def building_at(city: City, x: float, y: float) -> Building | None:
    """The building whose footprint holds (x, y); the smallest one where footprints overlap."""
    if not city.buildings:
        return None
    footprints = np.array([b.footprint for b in city.buildings], dtype=object)
    inside = np.nonzero(shapely.contains_xy(footprints, x, y))[0]
    if len(inside) == 0:
        return None
    return min((city.buildings[int(i)] for i in inside), key=lambda b: b.footprint.area)


def roof_at(city: City, x: float, y: float) -> shapely.Polygon | shapely.MultiPolygon | None:
    """The footprint of the building under (x, y), which a green roof covers, or None.

    >>> from world.frame import LocalFrame
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [Building("b", shapely.box(0, 0, 10, 8), 9.0)],
    ...             [], [], [], [], [])
    >>> roof_at(city, 5.0, 4.0).bounds, roof_at(city, 20.0, 4.0)
    ((0.0, 0.0, 10.0, 8.0), None)
    """
    building = building_at(city, x, y)
    return None if building is None else building.footprint


def anchor_xy(geometry: BaseGeometry) -> tuple[float, float]:
    """A point on the geometry to pin a note to: its representative point."""
    point = geometry.representative_point()
    return (float(point.x), float(point.y))


def cells_within(origin: tuple[float, float], cell_m: float, shape: tuple[int, int], geometry: BaseGeometry,
                 radius_m: float) -> tuple[tuple[slice, slice], np.ndarray]:
    """The window of a grid (north-west ``origin``, ``cell_m``, ``shape``) around
    ``geometry`` and the mask of the cells in it whose centre lies within ``radius_m``.

    >>> window, mask = cells_within((0.0, 10.0), 2.0, (5, 5), shapely.Point(5.0, 5.0), 2.5)
    >>> window, int(mask.sum())
    ((slice(1, 4, None), slice(1, 4, None)), 5)
    """
    rows, cols = shape
    west, north = origin
    min_x, min_y, max_x, max_y = geometry.bounds
    c0 = int(np.clip(np.floor((min_x - radius_m - west) / cell_m), 0, cols))
    c1 = int(np.clip(np.ceil((max_x + radius_m - west) / cell_m), c0, cols))
    r0 = int(np.clip(np.floor((north - max_y - radius_m) / cell_m), 0, rows))
    r1 = int(np.clip(np.ceil((north - min_y + radius_m) / cell_m), r0, rows))
    xs = west + (np.arange(c0, c1) + 0.5) * cell_m
    ys = north - (np.arange(r0, r1) + 0.5) * cell_m
    gx, gy = np.meshgrid(xs, ys)
    distances = shapely.distance(geometry, shapely.points(gx.ravel(), gy.ravel())).reshape(gx.shape)
    return (slice(r0, r1), slice(c0, c1)), distances <= radius_m
