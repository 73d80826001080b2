"""The feature store: one SQLite row per feature, for picking, placement rules and reports.

Table ``features``: ``id`` (stable, primary key), ``kind``, ``class``, ``tile``,
``name``, ``height_m``, ``min_height_m``, the bounding box ``min_x``…``max_y`` (local
metres), ``geometry`` (WKB, local metres) and ``attributes`` (JSON: the source tags).
An R*-tree (``features_rtree``) over the bounding boxes makes picking a lookup.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shapely
import sqlite_utils

from world.city import Building, City, Feature, Road, Tree

__all__ = ["write_feature_store", "FeatureStore", "feature_class", "feature_height_m"]


def feature_class(feature: Feature) -> str:
    """Building type, road class, land-cover class, or ``tree``."""
    if isinstance(feature, Building):
        return feature.building_type
    if isinstance(feature, Road):
        return feature.road_class
    if isinstance(feature, Tree):
        return "tree"
    return feature.area_class


def feature_height_m(feature: Feature) -> float:
    return float(getattr(feature, "height_m", 0.0))


def _json_default(value: Any) -> Any:
    return str(value)


def _rows(city: City, tile_of: dict[str, str]) -> Iterable[dict[str, Any]]:
    for feature in city.features():
        min_x, min_y, max_x, max_y = feature.geometry.bounds
        yield {
            "id": feature.id,
            "kind": feature.kind,
            "class": feature_class(feature),
            "tile": tile_of.get(feature.id),
            "name": getattr(feature, "name", None),
            "height_m": feature_height_m(feature),
            "min_height_m": float(getattr(feature, "min_height_m", 0.0)),
            "min_x": min_x, "min_y": min_y, "max_x": max_x, "max_y": max_y,
            "geometry": shapely.to_wkb(feature.geometry),
            "attributes": json.dumps(feature.attributes, ensure_ascii=False, default=_json_default),
        }


def write_feature_store(path: Path, city: City, tile_of: dict[str, str]) -> int:
    """Write every feature of ``city``; returns the number of rows."""
    db = sqlite_utils.Database(path)
    table = db.table("features")
    table.insert_all(_rows(city, tile_of), pk="id", batch_size=2000, columns={
        "id": str, "kind": str, "class": str, "tile": str, "name": str, "height_m": float,
        "min_height_m": float, "min_x": float, "min_y": float, "max_x": float, "max_y": float,
        "geometry": bytes, "attributes": str})
    table.create_index(["kind"])
    table.create_index(["tile"])
    db.execute("CREATE VIRTUAL TABLE features_rtree USING rtree(fid, min_x, max_x, min_y, max_y)")
    db.execute("INSERT INTO features_rtree SELECT rowid, min_x, max_x, min_y, max_y FROM features")
    db.conn.commit()
    count = table.count
    db.close()
    return count


class FeatureStore:
    """Read access to a city package's feature store."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self._conn.row_factory = sqlite3.Row

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> dict[str, int]:
        """Rows per feature kind."""
        rows = self._conn.execute("SELECT kind, COUNT(*) FROM features GROUP BY kind ORDER BY kind")
        return {kind: count for kind, count in rows}

    def get(self, feature_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT * FROM features WHERE id = ?", (feature_id,)).fetchone()
        return self._decode(row) if row else None

    def pick(self, x_m: float, y_m: float, radius_m: float = 0.5) -> list[dict[str, Any]]:
        """Features whose geometry lies within ``radius_m`` of a local point, nearest
        first; bounding boxes through the R*-tree, then exact geometry."""
        rows = self._conn.execute(
            "SELECT f.* FROM features_rtree r JOIN features f ON f.rowid = r.fid "
            "WHERE r.min_x <= ? AND r.max_x >= ? AND r.min_y <= ? AND r.max_y >= ?",
            (x_m + radius_m, x_m - radius_m, y_m + radius_m, y_m - radius_m)).fetchall()
        point = shapely.Point(x_m, y_m)
        hits = []
        for row in rows:
            decoded = self._decode(row)
            distance = decoded["geometry"].distance(point)
            if distance <= radius_m:
                hits.append((distance, decoded))
        hits.sort(key=lambda item: (item[0], item[1]["id"]))
        return [decoded for _, decoded in hits]

    @staticmethod
    def _decode(row: sqlite3.Row) -> dict[str, Any]:
        out = dict(row)
        out["geometry"] = shapely.from_wkb(out["geometry"])
        out["attributes"] = json.loads(out["attributes"])
        return out
