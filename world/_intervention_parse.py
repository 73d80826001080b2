"""Placed interventions as data: :class:`Placed`, the protocol's JSON form, and validation.

A placement travels as ``{"catalog": "tree-medium", "geometry": {"type": "Point",
"coordinates": [x, y]}, "params": {...}, "id": "..."}`` in local metres (DESIGN.md,
"Workshop protocol"). :func:`parse_placed` turns that into a :class:`Placed` or raises
:class:`InterventionError` with one sentence naming what is wrong; :func:`placed_to_json`
is its inverse. Without an ``id`` the placement gets one derived from its content, so
the same input always gets the same id.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from world.catalog import KINDS, Catalog, Intervention, load_catalog
from world.errors import CatalogError, WorldError

__all__ = ["InterventionError", "Placed", "PARAMS", "MAX_COORDINATE_M", "parse_placed", "parse_placed_list",
           "make_placed", "placed_to_json", "default_catalog", "entry_for", "effect_value"]

#: A coordinate farther than this from the city's origin (local metres) is refused:
#: a district is a few kilometres across, and this keeps a typo from making a park of
#: a continent.
MAX_COORDINATE_M = 100_000.0
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAX_TEXT = 100


class InterventionError(WorldError):
    """A placed intervention is malformed, or cannot be applied to this city."""


@dataclass(frozen=True, slots=True)
class _Param:
    """One parameter a placement may override: ``kind`` number, int or str, and for
    numbers the closed range ``[low, high]`` in ``unit``."""

    kind: str
    low: float = 0.0
    high: float = math.inf
    unit: str = ""


_FACTOR = _Param("number", 0.0, 2.0)
_STORAGE = _Param("number", 0.0, 1000.0, "mm")
_TEXT = _Param("str")
#: The parameters each catalog model accepts, overriding the catalog's ``effect``
#: values of the same name (``species``, ``building``, ``building_type`` and ``levels``
#: are extra). Ranges are sanity bounds, not design rules.
PARAMS: dict[str, dict[str, _Param]] = {
    "tree": {"height_m": _Param("number", 1.0, 60.0, "m"), "canopy_radius_m": _Param("number", 0.5, 20.0, "m"),
             "transmissivity": _Param("number", 0.0, 1.0), "species": _TEXT},
    "bench": {"seats": _Param("int", 1, 20)},
    "park": {"trees_per_ha": _Param("number", 0.0, 400.0), "tree_canopy_radius_m": _Param("number", 0.5, 20.0, "m"),
             "tree_height_m": _Param("number", 1.0, 60.0, "m")},
    "play-area": {},
    "rain-garden": {"storage_mm": _STORAGE},
    "permeable-paving": {"storage_mm": _STORAGE},
    "green-roof": {"storage_mm": _STORAGE, "building": _TEXT},
    "bike-lane": {"traffic_flow_factor": _FACTOR, "heavy_share_factor": _FACTOR},
    "traffic-calming": {"speed_kmh": _Param("number", 5.0, 130.0, "km/h"), "traffic_flow_factor": _FACTOR,
                        "heavy_share_factor": _FACTOR},
    "noise-barrier": {"height_m": _Param("number", 0.5, 10.0, "m")},
    "building": {"height_m": _Param("number", 2.0, 300.0, "m"), "levels": _Param("int", 1, 100),
                 "building_type": _TEXT},
    "none": {"building": _TEXT},
    "remove-building": {"building": _TEXT},
}


@dataclass(frozen=True, slots=True)
class Placed:
    """One placed intervention: a stable ``id``, the ``catalog`` entry id, its
    ``geometry`` (shapely, 2D, local metres) and the ``params`` overriding the entry's
    effect (read-only). Build it with :func:`parse_placed` or :func:`make_placed`,
    which validate it."""

    id: str
    catalog: str
    geometry: BaseGeometry
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.id, self.catalog))


@functools.cache
def default_catalog() -> Catalog:
    """The shipped catalog, loaded once."""
    return load_catalog()


def entry_for(catalog: Catalog, catalog_id: str, where: str) -> Intervention:
    """The catalog entry, or :class:`InterventionError` naming ``where`` it was asked for."""
    try:
        return catalog[catalog_id]
    except CatalogError:
        raise InterventionError(f"{where}: the catalog has no intervention {catalog_id!r}.") from None


def effect_value(entry: Intervention, placed: Placed, key: str, default: Any = None) -> Any:
    """The placement's ``key``: its own parameter, else the catalog effect, else ``default``."""
    return placed.params.get(key, entry.effect.get(key, default))


def _where(index: int | None, raw: Any) -> str:
    if index is not None:
        return f"intervention {index}"
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
        return f"intervention {raw['id']!r}"
    return "the intervention"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position(raw: Any, where: str) -> tuple[float, float]:
    if not isinstance(raw, list | tuple) or len(raw) not in (2, 3) or not all(_number(v) for v in raw):
        raise InterventionError(f"{where}: a position must be [x, y] in metres, not {raw!r}.")
    for value in raw[:2]:
        if not math.isfinite(value):
            raise InterventionError(f"{where}: the coordinate {value!r} is not a finite number.")
        if abs(value) > MAX_COORDINATE_M:
            raise InterventionError(f"{where}: the coordinate {value!r} m lies more than "
                                    f"{MAX_COORDINATE_M / 1000:.0f} km from the city's origin.")
    return (float(raw[0]), float(raw[1]))


def _positions(raw: Any, where: str, least: int, what: str) -> list[tuple[float, float]]:
    if not isinstance(raw, list | tuple) or len(raw) < least:
        raise InterventionError(f"{where}: {what} needs a list of at least {least} positions.")
    return [_position(p, where) for p in raw]


def _polygon(raw: Any, where: str) -> shapely.Polygon:
    if not isinstance(raw, list | tuple) or not raw:
        raise InterventionError(f"{where}: a Polygon needs a list of rings, the outer one first.")
    rings = [_positions(ring, where, 3, "a Polygon ring") for ring in raw]
    return shapely.Polygon(rings[0], rings[1:])


def _geometry(raw: Any, where: str) -> BaseGeometry:
    """A GeoJSON-style geometry object (local metres) as a 2D shapely geometry."""
    if not isinstance(raw, Mapping) or "type" not in raw or "coordinates" not in raw:
        raise InterventionError(f"{where}: geometry must be an object with 'type' and 'coordinates'.")
    kind, coords = raw["type"], raw["coordinates"]
    if kind == "Point":
        return shapely.Point(_position(coords, where))
    if kind == "LineString":
        return shapely.LineString(_positions(coords, where, 2, "a LineString"))
    if kind == "Polygon":
        return _polygon(coords, where)
    if kind == "MultiPolygon":
        if not isinstance(coords, list | tuple) or not coords:
            raise InterventionError(f"{where}: a MultiPolygon needs a list of polygons.")
        return shapely.MultiPolygon([_polygon(p, where) for p in coords])
    raise InterventionError(f"{where}: geometry type {kind!r} is not Point, LineString, Polygon or MultiPolygon.")


def _params(entry: Intervention, raw: Any, where: str) -> dict[str, Any]:
    """Check ``raw`` against :data:`PARAMS` of the entry's model; the params as a dict."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InterventionError(f"{where}: params must be an object, not {type(raw).__name__}.")
    allowed = PARAMS.get(entry.model, {})
    for key, value in raw.items():
        spec = allowed.get(key)
        if spec is None:
            takes = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
            raise InterventionError(f"{where}: {entry.id} takes no parameter {key!r} ({takes}).")
        if spec.kind == "str":
            if not isinstance(value, str) or not 0 < len(value) <= _MAX_TEXT:
                raise InterventionError(f"{where}: parameter {key} must be a text of 1 to {_MAX_TEXT} "
                                        f"characters, not {value!r}.")
            continue
        integral = spec.kind == "int"
        fits = _number(value) and math.isfinite(value) and spec.low <= value <= spec.high and \
            (not integral or isinstance(value, int))
        if not fits:
            what = "a whole number" if integral else "a number"
            unit = f" {spec.unit}" if spec.unit else ""
            raise InterventionError(f"{where}: parameter {key} must be {what} from {spec.low:g} to "
                                    f"{spec.high:g}{unit}, not {value!r}.")
    return dict(raw)


def _content_id(catalog_id: str, geometry: BaseGeometry, params: Mapping[str, Any]) -> str:
    """16 hex digits of SHA-256 over the catalog id, the geometry's WKB and the params as
    canonical JSON: the same placement always gets the same id."""
    digest = hashlib.sha256()
    digest.update(catalog_id.encode("utf-8") + b"\0")
    digest.update(shapely.to_wkb(geometry, output_dimension=2, byte_order=1, include_srid=False) + b"\0")
    digest.update(json.dumps(dict(params), sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return digest.hexdigest()[:16]


def make_placed(catalog_id: str, geometry: BaseGeometry, params: Mapping[str, Any] | None = None, *,
                id: str | None = None, catalog: Catalog | None = None, where: str = "the intervention") -> Placed:
    """A validated :class:`Placed` from a shapely geometry (z dropped); the id derived
    from the content when not given. :class:`InterventionError` names what is wrong."""
    entry = entry_for(catalog or default_catalog(), catalog_id, where)
    if id is not None and (not isinstance(id, str) or not _ID.fullmatch(id)):
        raise InterventionError(f"{where}: the id {id!r} must be 1 to 64 letters, digits, '_', '-' or '.'.")
    geometry = shapely.force_2d(geometry)
    expected = " or ".join(KINDS[entry.kind])
    if geometry.geom_type not in KINDS[entry.kind]:
        raise InterventionError(f"{where}: geometry is a {geometry.geom_type}, {entry.id} needs a {expected}.")
    if geometry.is_empty or not geometry.is_valid:
        reason = "it is empty" if geometry.is_empty else shapely.is_valid_reason(geometry)
        raise InterventionError(f"{where}: the {geometry.geom_type} is not a valid {expected} ({reason}).")
    checked = _params(entry, params, where)
    return Placed(id=id or _content_id(entry.id, geometry, checked), catalog=entry.id, geometry=geometry,
                  params=checked)


def parse_placed(obj: Any, *, index: int | None = None, catalog: Catalog | None = None) -> Placed:
    """A :class:`Placed` from the protocol's JSON object; ``index`` (counted from 1)
    names it in errors ("intervention 3: geometry is a Point, bike-lane needs a
    LineString.").

    >>> p = parse_placed({"catalog": "bench", "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}})
    >>> p.catalog, p.geometry.wkt, len(p.id), p == parse_placed(placed_to_json(p))
    ('bench', 'POINT (1 2)', 16, True)
    >>> try:
    ...     parse_placed({"catalog": "bench", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 0]]}},
    ...                  index=3)
    ... except InterventionError as exc:
    ...     print(exc)
    intervention 3: geometry is a LineString, bench needs a Point.
    """
    where = _where(index, obj)
    if not isinstance(obj, Mapping):
        raise InterventionError(f"{where}: expected an object with catalog, geometry and params, "
                                f"not {type(obj).__name__}.")
    unknown = sorted(set(obj) - {"catalog", "geometry", "params", "id"})
    if unknown:
        raise InterventionError(f"{where}: unknown field {unknown[0]!r} (expected catalog, geometry, params, id).")
    catalog_id = obj.get("catalog")
    if not isinstance(catalog_id, str):
        raise InterventionError(f"{where}: 'catalog' must be a catalog id such as 'tree-medium'.")
    entry = entry_for(catalog or default_catalog(), catalog_id, where)
    ident = obj.get("id")
    if ident is not None and not isinstance(ident, str):
        raise InterventionError(f"{where}: the id must be a text, not {type(ident).__name__}.")
    return make_placed(entry.id, _geometry(obj.get("geometry"), where), obj.get("params"), id=ident,
                       catalog=catalog, where=where)


def parse_placed_list(json_value: Any, *, catalog: Catalog | None = None) -> list[Placed]:
    """Every placement of a JSON value: a list of placements, an object with an
    ``interventions`` list (a proposal), or JSON text of either. Ids must be unique."""
    if isinstance(json_value, str | bytes):
        try:
            json_value = json.loads(json_value)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InterventionError(f"the interventions are not valid JSON ({exc}).") from None
    if isinstance(json_value, Mapping) and "interventions" in json_value:
        json_value = json_value["interventions"]
    if not isinstance(json_value, list):
        raise InterventionError("the interventions must be a list of placements or an object with one "
                                "under 'interventions'.")
    out: list[Placed] = []
    seen: set[str] = set()
    for i, raw in enumerate(json_value, start=1):
        placed = parse_placed(raw, index=i, catalog=catalog)
        if placed.id in seen:
            raise InterventionError(f"intervention {i}: the id {placed.id!r} is used twice.")
        seen.add(placed.id)
        out.append(placed)
    return out


def _coordinates(geometry: BaseGeometry) -> Any:
    if isinstance(geometry, shapely.Point):
        return [geometry.x, geometry.y]
    if isinstance(geometry, shapely.LineString):
        return [[x, y] for x, y in geometry.coords]
    if isinstance(geometry, shapely.Polygon):
        return [[[x, y] for x, y in ring.coords] for ring in (geometry.exterior, *geometry.interiors)]
    if isinstance(geometry, shapely.MultiPolygon):
        return [_coordinates(part) for part in geometry.geoms]
    raise InterventionError(f"a {geometry.geom_type} cannot be written as a placement geometry.")


def placed_to_json(placed: Placed) -> dict[str, Any]:
    """The protocol's JSON object for ``placed`` (with its id); the inverse of
    :func:`parse_placed`.

    >>> placed_to_json(Placed("a1", "bench", shapely.Point(3.0, 4.5), {"seats": 2}))
    {'id': 'a1', 'catalog': 'bench', 'geometry': {'type': 'Point', 'coordinates': [3.0, 4.5]}, 'params': {'seats': 2}}
    """
    return {"id": placed.id, "catalog": placed.catalog,
            "geometry": {"type": placed.geometry.geom_type, "coordinates": _coordinates(placed.geometry)},
            "params": dict(placed.params)}
