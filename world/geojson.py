"""GeoJSON footprints (RFC 7946) → buildings.

Polygon and MultiPolygon features become buildings; other geometry types are ignored.
Height comes from the ``height`` property (metres), else ``levels`` (or
``building:levels``) × :data:`STOREY_M`, else :data:`DEFAULT_HEIGHT_M`;
``min_height`` lifts the base. RFC 7946 coordinates are WGS84 longitude/latitude and
are projected to the UTM zone of the data's centre; a legacy ``crs`` member (GeoJSON
2008) or the ``crs`` argument declares projected coordinates instead.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from world.city import Building, SourceData, Volume
from world.errors import CrsError, SourceError
from world.frame import _transformer, resolve_crs, utm_crs_for

__all__ = ["read_geojson", "STOREY_M", "DEFAULT_HEIGHT_M"]

#: Storey height used with ``levels``, metres (the same convention as the OSM importer).
STOREY_M = 3.0
#: Height of a footprint with neither ``height`` nor ``levels``, metres.
DEFAULT_HEIGHT_M = 10.0


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _height(props: dict[str, Any]) -> tuple[float, str, int | None]:
    height = _number(props.get("height"))
    levels = _number(props.get("levels", props.get("building:levels")))
    level_count = int(levels) if levels is not None else None
    if height is not None and height > 0:
        return height, "height", level_count
    if levels is not None and levels > 0:
        return levels * STOREY_M, "levels", level_count
    return DEFAULT_HEIGHT_M, "default", level_count


def _declared_crs(document: dict[str, Any], name: str) -> str | None:
    member = document.get("crs")
    if not isinstance(member, dict):
        return None
    crs_name = (member.get("properties") or {}).get("name")
    if not isinstance(crs_name, str):
        raise SourceError(f"{name}: its 'crs' member has no properties.name.")
    return crs_name


def read_geojson(path: str | os.PathLike[str], *, crs: str | None = None) -> SourceData:
    """Read building footprints from a GeoJSON FeatureCollection (or one Feature)."""
    file = Path(path)
    name = file.name
    try:
        document = json.loads(file.read_bytes())
    except FileNotFoundError:
        raise SourceError(f"{name}: no such file.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{name}: not valid JSON ({exc}).") from None
    if not isinstance(document, dict) or document.get("type") not in ("FeatureCollection", "Feature"):
        raise SourceError(f"{name}: not a GeoJSON FeatureCollection or Feature.")
    features = document.get("features") if document["type"] == "FeatureCollection" else [document]
    if not isinstance(features, list):
        raise SourceError(f"{name}: 'features' is not a list.")

    geoms, props_list, ids = [], [], []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            continue
        if feature["geometry"].get("type") not in ("Polygon", "MultiPolygon"):
            continue
        try:
            geom = shapely.geometry.shape(feature["geometry"])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                shapely.errors.ShapelyError) as exc:
            raise SourceError(f"{name}: feature {index} has an invalid geometry ({exc}).") from None
        if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
            raise SourceError(f"{name}: feature {index} has an empty or non-finite geometry.")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        feature_id = feature.get("id", props.get("id", index))
        geoms.append(geom)
        props_list.append(props)
        ids.append(f"gj:{file.stem}:{feature_id}")
    if not geoms:
        raise SourceError(f"{name}: contains no Polygon or MultiPolygon footprints.")
    if len(set(ids)) != len(ids):
        raise SourceError(f"{name}: feature ids are not unique.")

    declared = crs or _declared_crs(document, name)
    if declared is not None:
        epsg, geographic = resolve_crs(declared)
    else:
        epsg, geographic = "EPSG:4326", True
    array = np.array(geoms, dtype=object)
    if geographic:
        lon_min, lat_min, lon_max, lat_max = shapely.total_bounds(array)
        if not (-180 <= lon_min <= lon_max <= 180 and -90 <= lat_min <= lat_max <= 90):
            raise CrsError(f"{name}: coordinates are not longitude/latitude; pass --crs EPSG:… "
                           "for projected coordinates.")
        target = utm_crs_for((lon_min + lon_max) / 2, (lat_min + lat_max) / 2)
        transformer = _transformer(epsg, target)

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        array = shapely.transform(array, project)
        epsg = target
    array = shapely.make_valid(array)

    source = SourceData(path=str(file), format="geojson", crs=epsg,
                        attribution=str(document.get("attribution", f"GeoJSON: {name}")))
    for feature_id, geom, props in zip(ids, array, props_list, strict=True):
        height_m, height_source, levels = _height(props)
        min_height_m = min(_number(props.get("min_height")) or 0.0, height_m)
        footprint = shapely.union_all(shapely.get_parts(geom)[shapely.area(shapely.get_parts(geom)) > 0])
        if footprint.is_empty:
            continue
        parts = shapely.get_parts(footprint)
        source.buildings.append(Building(
            id=feature_id, footprint=footprint, height_m=height_m, min_height_m=min_height_m,
            building_type=str(props.get("building", props.get("type", "yes"))), levels=levels,
            height_source=height_source, name=props.get("name"),
            volumes=tuple(Volume(p, min_height_m, height_m) for p in parts),
            attributes={k: v for k, v in props.items() if isinstance(v, str | int | float | bool)}))
    return source
