"""Summaries of a GLB/glTF file or a city package, for ``civictwin inspect``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from world.errors import GltfError, PackageError
from world.gltf_read import Scene, read_gltf
from world.package import read_metadata
from world.store import FeatureStore

__all__ = ["inspect_path", "format_summary"]


def _scene_summary(scene: Scene) -> dict[str, Any]:
    with_ids = [p.feature_ids for p in scene.primitives if p.feature_ids is not None]
    feature_ids = np.unique(np.concatenate(with_ids)) if with_ids else np.zeros(0)
    return {
        "vertices": scene.vertex_count,
        "triangles": scene.triangle_count,
        "primitives": len(scene.primitives),
        "materials": len(scene.materials),
        "material_names": [m.get("name", f"material {i}") for i, m in enumerate(scene.materials)],
        "extensions": sorted(scene.extensions_used),
        "feature_ids": len(feature_ids),
    }


def _package_summary(folder: Path) -> dict[str, Any]:
    meta = read_metadata(folder)
    store = folder / meta.get("feature_store", "features.sqlite")
    if not store.is_file():
        raise PackageError(f"{folder}: the feature store {store.name} is missing.")
    vertices = triangles = 0
    materials: set[str] = set()
    extensions: set[str] = set()
    for tile in meta.get("tiles", []):
        path = folder / tile["uri"]
        if not path.is_file():
            raise PackageError(f"{folder}: tile {tile['uri']} is missing.")
        scene = read_gltf(path)
        vertices += scene.vertex_count
        triangles += scene.triangle_count
        materials.update(m.get("name", "") for m in scene.materials)
        extensions.update(scene.extensions_used)
    with FeatureStore(store) as features:
        counts = {kind: 0 for kind in ("building", "road", "area", "tree")} | features.counts()
    return {
        "name": meta.get("name"),
        "tiles": len(meta.get("tiles", [])),
        "vertices": vertices,
        "triangles": triangles,
        "materials": len(materials),
        "material_names": sorted(materials),
        "extensions": sorted(extensions),
        "features": counts,
        "crs": meta.get("crs"),
        "origin_lonlat": meta.get("origin_lonlat"),
        "bbox_m": meta.get("bbox_m"),
        "attribution": meta.get("attribution", []),
    }


def inspect_path(path: Path) -> dict[str, Any]:
    """A summary dict of a city package folder or a ``.glb``/``.gltf`` file."""
    if path.is_dir():
        return {"path": str(path), "type": "city-package", **_package_summary(path)}
    if not path.exists():
        raise GltfError(f"{path}: no such file or folder.")
    if path.suffix.lower() not in (".glb", ".gltf"):
        raise GltfError(f"{path.name}: not a .glb or .gltf file, nor a city package folder.")
    return {"path": str(path), "type": path.suffix.lower().lstrip("."), **_scene_summary(read_gltf(path))}


def format_summary(summary: dict[str, Any]) -> str:
    """A human-readable summary, one fact per line."""
    lines = [f"{summary['path']} ({summary['type']})"]
    if summary["type"] == "city-package":
        lines.append(f"  name        {summary['name']}")
        lines.append(f"  crs         {summary['crs']}, origin at lon {summary['origin_lonlat'][0]:.6f}, "
                     f"lat {summary['origin_lonlat'][1]:.6f}")
        x0, y0, x1, y1 = summary["bbox_m"]
        lines.append(f"  extent      {x1 - x0:.0f} m × {y1 - y0:.0f} m")
        lines.append("  features    " + ", ".join(f"{n} {k}s" for k, n in summary["features"].items()))
        lines.append(f"  tiles       {summary['tiles']}")
    lines.append(f"  geometry    {summary['vertices']:,} vertices, {summary['triangles']:,} triangles")
    lines.append(f"  materials   {summary['materials']} ({', '.join(summary['material_names'])})")
    if summary.get("extensions"):
        lines.append(f"  extensions  {', '.join(summary['extensions'])}")
    for line in summary.get("attribution", []):
        lines.append(f"  data        {line}")
    return "\n".join(lines)
