"""Applying a placed intervention to a City: a pure function giving a new City.

The input City, its lists and its features are never changed: every list is copied,
features that change are replaced (:func:`dataclasses.replace`), and new features get
the ids ``placed:<placement id>`` and, when one placement adds several,
``placed:<placement id>:1``, ``:2``… in the order they are made. New features are
appended, so applying a list of placements in order gives the same City however it
was reached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import shapely

from world._intervention_match import snap_roads, target_buildings
from world._intervention_parse import InterventionError, Placed, effect_value, entry_for, make_placed
from world._raster_receivers import STOREY_M
from world.catalog import Catalog, Intervention
from world.city import Area, Barrier, Building, City, Furniture, Treatment, Tree
from world.errors import CatalogError
from world.raster import DEFAULT_TRAFFIC, FLOW_FACTOR, HEAVY_SHARE_FACTOR

__all__ = ["MAX_PARK_TREES", "apply", "apply_all", "park_tree_points"]

#: Most trees one park placement may plant (40 trees/ha over 250 ha): a bound that keeps
#: a mistaken huge polygon from flooding the City with features.
MAX_PARK_TREES = 10_000


def _where(placed: Placed) -> str:
    return f"intervention {placed.id!r} ({placed.catalog})"


def _feature_ids(placed: Placed) -> Iterator[str]:
    yield f"placed:{placed.id}"
    k = 1
    while True:
        yield f"placed:{placed.id}:{k}"
        k += 1


def park_tree_points(polygon: shapely.Geometry, trees_per_ha: float) -> np.ndarray:
    """Tree positions ``(n, 2)`` for a park: each tree stands in the middle of a square
    of side √(10 000 m² ÷ trees per ha), on a grid of such squares centred on the
    polygon's bounding box (as many as round to fit across it); the points strictly
    inside the polygon, north row first, west to east. Deterministic, and about
    ``trees_per_ha`` × area in ha trees.

    >>> park_tree_points(shapely.box(0, 0, 100, 100), 4.0).tolist()  # 50 m squares
    [[25.0, 75.0], [75.0, 75.0], [25.0, 25.0], [75.0, 25.0]]
    """
    if trees_per_ha <= 0.0 or polygon.is_empty:
        return np.zeros((0, 2))
    spacing_m = math.sqrt(10_000.0 / trees_per_ha)
    min_x, min_y, max_x, max_y = polygon.bounds
    nx, ny = max(1, round((max_x - min_x) / spacing_m)), max(1, round((max_y - min_y) / spacing_m))
    if nx * ny > 50 * MAX_PARK_TREES:
        raise InterventionError(f"a park of {polygon.area / 10_000:.0f} ha would hold more than "
                                f"{MAX_PARK_TREES} trees.")
    xs = (min_x + max_x) / 2.0 + spacing_m * (np.arange(nx) - (nx - 1) / 2.0)
    ys = (min_y + max_y) / 2.0 - spacing_m * (np.arange(ny) - (ny - 1) / 2.0)
    gx, gy = np.meshgrid(xs, ys)
    shapely.prepare(polygon)
    inside = np.asarray(shapely.contains_xy(polygon, gx, gy))
    return np.column_stack([gx[inside], gy[inside]])


def _tree(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    radius_m = float(effect_value(entry, placed, "canopy_radius_m"))
    tree = Tree(next(ids), placed.geometry, height_m=float(effect_value(entry, placed, "height_m")),
                crown_diameter_m=2.0 * radius_m, species=placed.params.get("species"),
                attributes={"transmissivity": float(effect_value(entry, placed, "transmissivity")),
                            "placed": placed.id})
    return replace(city, trees=[*city.trees, tree])


def _bench(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    bench = Furniture(next(ids), placed.geometry, "bench", seats=int(effect_value(entry, placed, "seats", 0)))
    return replace(city, furniture=[*city.furniture, bench])


def _area(placed: Placed, entry: Intervention, ids: Iterator[str], default_class: str) -> Area:
    attributes: dict[str, Any] = {"placed": placed.id, "catalog": entry.id}
    if "impervious" in entry.effect:
        attributes["impervious"] = float(entry.effect["impervious"])
    return Area(next(ids), placed.geometry, str(entry.effect.get("landcover", default_class)), attributes=attributes)


def _park(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    area = _area(placed, entry, ids, "park")
    try:
        points = park_tree_points(placed.geometry, float(effect_value(entry, placed, "trees_per_ha", 0.0)))
    except InterventionError as exc:
        raise InterventionError(f"{_where(placed)}: {exc}") from None
    if len(points) > MAX_PARK_TREES:
        raise InterventionError(f"{_where(placed)}: the park would hold {len(points)} trees, more than "
                                f"{MAX_PARK_TREES}.")
    radius_m = float(effect_value(entry, placed, "tree_canopy_radius_m", 4.0))
    height_m = float(effect_value(entry, placed, "tree_height_m", 10.0))
    trees = [Tree(next(ids), shapely.Point(float(x), float(y)), height_m=height_m, crown_diameter_m=2.0 * radius_m,
                  attributes={"placed": placed.id}) for x, y in points]
    return replace(city, areas=[*city.areas, area], trees=[*city.trees, *trees])


def _play_area(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    return replace(city, areas=[*city.areas, _area(placed, entry, ids, "grass")])


def _treatment(placed: Placed, entry: Intervention, ids: Iterator[str], name: str,
               geometry: shapely.Geometry) -> Treatment:
    return Treatment(next(ids), geometry, name, storage_mm=float(effect_value(entry, placed, "storage_mm", 0.0)))


def _rain_garden(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    area = _area(placed, entry, ids, "grass")
    garden = _treatment(placed, entry, ids, "rain_garden", placed.geometry)
    return replace(city, areas=[*city.areas, area], treatments=[*city.treatments, garden])


def _paving(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    paving = _treatment(placed, entry, ids, "permeable_paving", placed.geometry)
    return replace(city, treatments=[*city.treatments, paving])


def _targets(placed: Placed, city: City) -> list[int]:
    found = target_buildings(city, placed)
    if not found:
        wanted = placed.params.get("building")
        what = f"no building has the id {wanted!r}" if wanted is not None else "no building lies under it"
        raise InterventionError(f"{_where(placed)}: {what}.")
    return found


def _green_roof(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    roofs = [_treatment(placed, entry, ids, "green_roof", city.buildings[i].footprint)
             for i in _targets(placed, city)]
    return replace(city, treatments=[*city.treatments, *roofs])


def _remove_building(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    """The buildings go; their footprints become areas of the effect's land cover
    (plaza), and green roofs laid on exactly those footprints go with them."""
    gone = set(_targets(placed, city))
    footprints = [city.buildings[i].footprint for i in sorted(gone)]
    cover = str(entry.effect.get("landcover", "plaza"))
    areas = [Area(next(ids), f, cover, attributes={"placed": placed.id, "catalog": entry.id}) for f in footprints]
    kept = [t for t in city.treatments
            if t.treatment != "green_roof" or not any(shapely.equals_exact(t.geometry, f, 0.0) for f in footprints)]
    return replace(city, buildings=[b for i, b in enumerate(city.buildings) if i not in gone],
                   areas=[*city.areas, *areas], treatments=kept)


def _new_building(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    height_m = float(effect_value(entry, placed, "height_m"))
    levels = int(placed.params.get("levels", max(1, round(height_m / STOREY_M))))
    building = Building(next(ids), placed.geometry, height_m, building_type=str(placed.params.get(
        "building_type", "apartments")), levels=levels, height_source="intervention",
        attributes={"placed": placed.id, "catalog": entry.id})
    return replace(city, buildings=[*city.buildings, building])


def _barrier(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    barrier = Barrier(next(ids), placed.geometry, float(effect_value(entry, placed, "height_m")))
    return replace(city, barriers=[*city.barriers, barrier])


def _street(placed: Placed, entry: Intervention, city: City, ids: Iterator[str]) -> City:
    """Bike lane, traffic calming: the followed carriageways' flows and heavy share are
    scaled (factors multiply when several placements reach a road) and, with a
    ``speed_kmh`` effect, the speed limit is lowered to it (never raised)."""
    followed = snap_roads(city, placed.geometry)
    if not followed:
        raise InterventionError(f"{_where(placed)}: the line follows no carriageway.")
    flow = float(effect_value(entry, placed, "traffic_flow_factor", 1.0))
    heavy = float(effect_value(entry, placed, "heavy_share_factor", 1.0))
    speed = effect_value(entry, placed, "speed_kmh")
    roads = list(city.roads)
    for i in followed:
        road = roads[i]
        attributes = dict(road.attributes)
        attributes[FLOW_FACTOR] = float(attributes.get(FLOW_FACTOR, 1.0)) * flow
        attributes[HEAVY_SHARE_FACTOR] = float(attributes.get(HEAVY_SHARE_FACTOR, 1.0)) * heavy
        attributes["placed"] = (*attributes.get("placed", ()), placed.id)
        limit = road.maxspeed_kmh
        if speed is not None:
            current = limit if limit is not None else DEFAULT_TRAFFIC.get(
                road.road_class, DEFAULT_TRAFFIC["residential"])[4]
            limit = min(float(current), float(speed))
        roads[i] = replace(road, attributes=attributes, maxspeed_kmh=limit)
    return replace(city, roads=roads)


_LISTS = ("buildings", "roads", "areas", "trees", "barriers", "furniture", "treatments", "attribution", "sources")

_Effect = Callable[[Placed, Intervention, City, Iterator[str]], City]
#: The effect of each catalog model. The catalog gives remove-building the model "none"
#: (it adds nothing); "remove-building" is accepted as well, should the catalog name it.
_EFFECTS: dict[str, _Effect] = {
    "tree": _tree, "bench": _bench, "park": _park, "play-area": _play_area, "rain-garden": _rain_garden,
    "permeable-paving": _paving, "green-roof": _green_roof, "bike-lane": _street, "traffic-calming": _street,
    "noise-barrier": _barrier, "building": _new_building, "none": _remove_building,
    "remove-building": _remove_building,
}
_BUILDING_EDITS = ("green-roof", "none", "remove-building")


def apply(city: City, placed: Placed, catalog: Catalog) -> City:
    """A new City with ``placed``'s effect; the input is left untouched.
    :class:`InterventionError` when the placement is malformed or cannot apply here
    (a building edit with no building, a street line that follows no carriageway).

    >>> from world.frame import LocalFrame
    >>> from world.catalog import load_catalog
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [], [], [], [], [])
    >>> after = apply(city, Placed("t1", "tree-medium", shapely.Point(5.0, 5.0)), load_catalog())
    >>> [(t.id, t.height_m, t.crown_diameter_m, t.attributes["transmissivity"]) for t in after.trees], city.trees
    ([('placed:t1', 10.0, 8.0, 0.2)], [])
    """
    where = _where(placed)
    entry = entry_for(catalog, placed.catalog, where)
    try:
        entry.check_geometry(placed.geometry)
    except CatalogError as exc:
        raise InterventionError(f"{where}: {exc}") from None
    if (entry.kind == "building-edit") != (entry.model in _BUILDING_EDITS):
        raise InterventionError(f"{where}: catalog model {entry.model!r} does not fit kind {entry.kind!r}.")
    effect = _EFFECTS.get(entry.model)
    if effect is None:
        raise InterventionError(f"{where}: catalog model {entry.model!r} has no effect that can be applied.")
    # Validates the params exactly as parsing does (a Placed may be built by hand).
    make_placed(entry.id, placed.geometry, placed.params, id=placed.id, catalog=catalog, where=where)
    # Every list is copied, so nothing done to the new City's lists reaches the input's.
    copies: dict[str, Any] = {name: list(getattr(city, name)) for name in _LISTS}
    fresh = replace(city, **copies)
    return effect(placed, entry, fresh, _feature_ids(placed))


def apply_all(city: City, placed: Iterable[Placed], catalog: Catalog) -> City:
    """``city`` with every placement applied in order (undo = apply the list without it)."""
    for item in placed:
        city = apply(city, item, catalog)
    return city
