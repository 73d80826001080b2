"""Proposals' interventions as an RFC 7946 GeoJSON FeatureCollection for GIS tools.

Interventions are drawn in the workshop's local metres (the frame of its ``created``
event: a projected CRS and an origin). RFC 7946 wants WGS84 longitude/latitude with no
``crs`` member, polygons following the right-hand rule (exterior rings counter-clockwise,
holes clockwise) and rings closed; coordinates here are rounded to 7 decimals (about
1 cm), which RFC 7946 §11.2 suggests is plenty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from world.frame import LocalFrame

__all__ = ["DECIMALS", "feature_collection", "to_wgs84_geometry"]

DECIMALS = 7


def _signed_area(ring: np.ndarray) -> float:
    """Twice the signed area of a closed ring (positive when counter-clockwise)."""
    x, y = ring[:, 0], ring[:, 1]
    return float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _points(frame: LocalFrame, coordinates: Any) -> np.ndarray:
    xy = np.asarray([[float(c[0]), float(c[1])] for c in coordinates], dtype=np.float64).reshape(-1, 2)
    return np.round(frame.local_to_wgs84_array(xy), DECIMALS)


def _ring(frame: LocalFrame, coordinates: Any, counter_clockwise: bool) -> list[list[float]]:
    ring = _points(frame, coordinates)
    if len(ring) and not np.array_equal(ring[0], ring[-1]):
        ring = np.vstack([ring, ring[:1]])
    if len(ring) >= 4 and (_signed_area(ring) > 0) != counter_clockwise:
        ring = ring[::-1]
    return ring.tolist()


def _polygon(frame: LocalFrame, rings: Sequence[Any]) -> list[list[list[float]]]:
    return [_ring(frame, ring, counter_clockwise=index == 0) for index, ring in enumerate(rings)]


def to_wgs84_geometry(frame: LocalFrame, geometry: Mapping[str, Any]) -> dict[str, Any]:
    """A GeoJSON-style geometry in ``frame``'s local metres as an RFC 7946 geometry (z dropped:
    the workshop frame has no vertical datum)."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        converted: Any = _points(frame, [coordinates])[0].tolist()
    elif kind in ("LineString", "MultiPoint"):
        converted = _points(frame, coordinates).tolist()
    elif kind == "MultiLineString":
        converted = [_points(frame, line).tolist() for line in coordinates]
    elif kind == "Polygon":
        converted = _polygon(frame, coordinates)
    elif kind == "MultiPolygon":
        converted = [_polygon(frame, polygon) for polygon in coordinates]
    else:
        raise ValueError(f"geometry type {kind!r} cannot be exported")
    return {"type": kind, "coordinates": converted}


def feature_collection(frame: LocalFrame, proposals: Sequence[Mapping[str, Any]], votes: Mapping[str, int],
                       kpi_names: Sequence[str]) -> dict[str, Any]:
    """One Feature per placed intervention, carrying its proposal's id, title, votes and KPIs."""
    features = []
    for proposal in proposals:
        kpis = {f"kpi_{name}": proposal["kpis"].get(name) for name in kpi_names}
        for index, intervention in enumerate(proposal["interventions"], start=1):
            features.append({
                "type": "Feature", "id": f"{proposal['id']}-{index}",
                "geometry": to_wgs84_geometry(frame, intervention["geometry"]),
                "properties": {"proposal": proposal["id"], "proposal_title": proposal["title"],
                               "catalog": intervention.get("catalog"), "params": intervention.get("params") or {},
                               "votes": votes.get(proposal["id"], 0), **kpis}})
    return {"type": "FeatureCollection", "features": features}
