"""What applying (or undoing) a placement changed: where on the grid, and of which kind.

:func:`footprint` compares the City before and after feature by feature (by id, then
by value, so a City rebuilt by :func:`world.interventions.apply_all` compares equal to
one reached step by step) and reports the bounding box of every raster cell that may
have changed, the kinds of change (the strings of ``sims.scene.CHANGE_KINDS``, which
`world` cannot import), the roads whose traffic changed and the buildings added,
removed or altered. It is symmetric: swapping the cities describes the undo.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from world._intervention_parse import Placed, entry_for
from world.catalog import Catalog
from world.city import City, Road, Tree

__all__ = ["CHANGE_KINDS", "Footprint", "footprint"]

#: The kinds of change; identical to ``sims.scene.CHANGE_KINDS``.
CHANGE_KINDS = frozenset({"surface", "landcover", "treatment", "traffic", "buildings", "barriers", "seats"})

#: The kinds of change each City list brings (roads are looked at field by field).
_LIST_KINDS = {"buildings": frozenset({"buildings", "surface", "landcover"}), "trees": frozenset({"surface"}),
               "areas": frozenset({"landcover"}), "treatments": frozenset({"treatment"}),
               "barriers": frozenset({"barriers"}), "furniture": frozenset({"seats"})}
#: Road fields that move its paved outline (land cover) rather than only its traffic.
_ROAD_SHAPE = ("geometry", "width_m", "surface")

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Footprint:
    """Where and what a placement changed: ``bbox`` (local metres, ``min_x, min_y,
    max_x, max_y``) covers every cell whose raster layers may differ (and the roads
    and furniture changed, which no layer holds); ``kinds`` ⊂ :data:`CHANGE_KINDS`;
    ``roads`` the ids of roads whose traffic changed; ``buildings`` the ids of
    buildings added, removed or altered."""

    bbox: Box
    kinds: frozenset[str]
    roads: frozenset[str] = frozenset()
    buildings: frozenset[str] = frozenset()


def _same(a: Any, b: Any) -> bool:
    """Equal features (dataclass equality; shapely compares coordinates exactly)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except ValueError:  # numpy arrays (CityJSON surfaces) that are not the same objects
        return False


def _changed(before: Sequence[Any], after: Sequence[Any]) -> Iterator[tuple[Any | None, Any | None]]:
    """Pairs (old, new) of features that differ, matched by id (and occurrence, should
    an id repeat); None for a side where the feature does not exist."""
    def keyed(features: Iterable[Any]) -> dict[tuple[str, int], Any]:
        seen: dict[str, int] = {}
        out = {}
        for f in features:
            n = seen.get(f.id, 0)
            seen[f.id] = n + 1
            out[(f.id, n)] = f
        return out

    # Applying appends, replaces or drops a few features and keeps the rest as the same
    # objects in the same order: strip that common head and tail before matching by id.
    n = min(len(before), len(after))
    head = 0
    while head < n and before[head] is after[head]:
        head += 1
    tail = 0
    while tail < n - head and before[len(before) - 1 - tail] is after[len(after) - 1 - tail]:
        tail += 1
    old, new = keyed(before[head:len(before) - tail]), keyed(after[head:len(after) - tail])
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        if a is None or b is None or not _same(a, b):
            yield a, b


def _id(a: Any, b: Any) -> str:
    """The id of a changed pair, whichever side exists."""
    return str(a.id if a is not None else b.id)


def _box(geometry: shapely.Geometry) -> Box:
    min_x, min_y, max_x, max_y = (float(v) for v in shapely.bounds(geometry))
    return (min_x, min_y, max_x, max_y)


def _bounds(feature: Any) -> Box:
    """Bounds of the cells a feature can reach: a crown's disc, a road's outline."""
    if isinstance(feature, Tree):
        r = feature.crown_diameter_m / 2.0
        return (feature.geometry.x - r, feature.geometry.y - r, feature.geometry.x + r, feature.geometry.y + r)
    if isinstance(feature, Road):
        return _box(feature.outline())
    geometry = feature.footprint if hasattr(feature, "footprint") else feature.geometry
    return _box(geometry)


def footprint(city_before: City, city_after: City, placed: Placed, catalog: Catalog) -> Footprint:
    """What changed from ``city_before`` to ``city_after`` = apply(``city_before``,
    ``placed``, ``catalog``) (or back, for an undo). When nothing changed, the bbox is
    the placement's own and ``kinds`` is empty.

    >>> from world.catalog import load_catalog
    >>> from world.frame import LocalFrame
    >>> from world.interventions import apply
    >>> city = City("toy", LocalFrame("EPSG:3067", 0.0, 0.0, 0.0), [], [], [], [], [], [])
    >>> tree = Placed("t1", "tree-medium", shapely.Point(5.0, 5.0))
    >>> found = footprint(city, apply(city, tree, load_catalog()), tree, load_catalog())
    >>> found.bbox, sorted(found.kinds)
    ((1.0, 1.0, 9.0, 9.0), ['surface'])
    """
    entry_for(catalog, placed.catalog, f"intervention {placed.id!r}")
    boxes: list[Box] = []
    kinds: set[str] = set()
    roads: set[str] = set()
    buildings: set[str] = set()
    for name, brings in _LIST_KINDS.items():
        for a, b in _changed(getattr(city_before, name), getattr(city_after, name)):
            kinds |= brings
            boxes += [_bounds(f) for f in (a, b) if f is not None]
            if name == "buildings":
                buildings.add(_id(a, b))
    for a, b in _changed(city_before.roads, city_after.roads):
        boxes += [_bounds(f) for f in (a, b) if f is not None]
        if a is None or b is None or any(not _same(getattr(a, k), getattr(b, k)) for k in _ROAD_SHAPE):
            kinds.add("landcover")
        if "carriageway" in {f.surface for f in (a, b) if f is not None}:
            kinds.add("traffic")
            roads.add(_id(a, b))
    if not boxes:
        return Footprint(_box(placed.geometry), frozenset())
    bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    return Footprint(bbox, frozenset(kinds), frozenset(roads), frozenset(buildings))
