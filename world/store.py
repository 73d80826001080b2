"""The feature store: one SQLite row per feature, for picking, placement rules and reports.

Table ``features``: ``id`` (stable, primary key), ``kind``, ``class``, ``tile``,
``name``, ``height_m``, ``min_height_m``, the bounding box ``min_x``…``max_y`` (local
metres), ``geometry`` (WKB, local metres), ``attributes`` (JSON: the source tags) and
``props`` (JSON: the model's typed fields that have no column, such as a road's surface
and width, so that :func:`read_city` gives back the City the simulations need).
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

from world.city import Area, Building, City, Feature, Road, Tree
from world.errors import PackageError
from world.frame import LocalFrame

__all__ = ["write_feature_store", "read_city", "FeatureStore", "feature_class", "feature_height_m"]

#: The typed fields each kind keeps in ``props`` (everything else has a column).
_PROPS = {
    "building": ("building_type", "levels", "height_source", "part_ids"),
    "road": ("surface", "width_m", "lanes", "maxspeed_kmh", "oneway"),
    "area": (),
    "tree": ("crown_diameter_m", "species"),
}


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
            "props": json.dumps({name: getattr(feature, name) for name in _PROPS[feature.kind]}, ensure_ascii=False),
        }


def write_feature_store(path: Path, city: City, tile_of: dict[str, str]) -> int:
    """Write every feature of ``city``; returns the number of rows."""
    db = sqlite_utils.Database(path)
    table = db.table("features")
    table.insert_all(_rows(city, tile_of), pk="id", batch_size=2000, columns={
        "id": str, "kind": str, "class": str, "tile": str, "name": str, "height_m": float,
        "min_height_m": float, "min_x": float, "min_y": float, "max_x": float, "max_y": float,
        "geometry": bytes, "attributes": str, "props": str})
    table.create_index(["kind"])
    table.create_index(["tile"])
    db.execute("CREATE VIRTUAL TABLE features_rtree USING rtree(fid, min_x, max_x, min_y, max_y)")
    db.execute("INSERT INTO features_rtree SELECT rowid, min_x, max_x, min_y, max_y FROM features")
    db.conn.commit()
    count = table.count
    db.close()
    return count


def read_city(path: Path, name: str, frame: LocalFrame, attribution: list[str], sources: list[str]) -> City:
    """The City stored in the feature store at ``path``, in its stored order. Buildings
    come back without their mesh (``volumes``, ``surfaces``): footprints and heights
    are what the simulations read.

    :class:`PackageError` when the file is not a feature store of this version.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT id, kind, class, name, height_m, min_height_m, geometry, attributes, props "
                                "FROM features ORDER BY rowid").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise PackageError(f"{path}: not a readable feature store ({exc}).") from None
    city = City(name, frame, [], [], [], [], list(attribution), list(sources))
    for ident, kind, cls, label, height_m, min_height_m, wkb, attributes, props in rows:
        geometry = shapely.from_wkb(wkb)
        tags = json.loads(attributes)
        typed = json.loads(props)
        if kind == "building":
            typed["part_ids"] = tuple(typed.get("part_ids", ()))
            city.buildings.append(Building(ident, geometry, height_m, min_height_m, name=label, attributes=tags,
                                           **typed))
        elif kind == "road":
            city.roads.append(Road(ident, geometry, cls, name=label, attributes=tags, **typed))
        elif kind == "area":
            city.areas.append(Area(ident, geometry, cls, name=label, attributes=tags))
        elif kind == "tree":
            city.trees.append(Tree(ident, geometry, height_m, attributes=tags, **typed))
        else:
            raise PackageError(f"{path}: feature {ident!r} has the unknown kind {kind!r}.")
    return city


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
