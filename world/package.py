"""Build a city package: sources → City → tiles, tileset, feature store and metadata.

The package is a folder::

    city.json       name, CRS, origin, bounding box, tiles, feature counts, attribution
    tileset.json    3D Tiles 1.1 (see world.tileset)
    tiles/*.glb     one GLB per occupied tile, named <ix>_<iy>.glb (see world.gltf_write)
    features.sqlite the feature store (see world.store)

It is written into a hidden sibling folder and renamed into place only when complete,
so a failed build never leaves a half-written package that looks valid.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from tqdm import tqdm

from world.city import City, SourceData, assemble
from world.errors import CrsError, PackageError, SourceError
from world.frame import LocalFrame, resolve_crs
from world.gltf_write import FeatureRow, TileContent, write_glb
from world.mesh import mesh_city, split_by_tile, terrain_quad
from world.sources import read_city_config, read_source
from world.store import feature_class, feature_height_m, read_city, write_feature_store
from world.tileset import TileEntry, tileset_document

__all__ = ["BuildResult", "build_city", "load_city", "read_metadata", "DEFAULT_TILE_SIZE_M", "GENERATOR",
           "PACKAGE_FORMAT"]

DEFAULT_TILE_SIZE_M = 250.0
GENERATOR = "civictwin 0.1.0"
#: 2: the feature store keeps typed ``props`` (read back by :func:`load_city`).
PACKAGE_FORMAT = 2
_TERRAIN_MARGIN_M = 20.0


@dataclass(frozen=True, slots=True)
class BuildResult:
    out: Path
    metadata: dict[str, Any]

    @property
    def tiles(self) -> int:
        return len(self.metadata["tiles"])


def _expand(sources: list[Path]) -> tuple[list[Path], dict[str, Any]]:
    """Source files, with city folders replaced by their city.toml's sources; and the
    settings those city.toml files give (the first folder's win)."""
    settings: dict[str, Any] = {}
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            config = read_city_config(source)
            files += config.sources
            settings.setdefault("name", config.name)
            settings.setdefault("crs", config.crs)
            settings.setdefault("tile_size_m", config.tile_size_m)
            if config.attribution:
                settings.setdefault("attribution", config.attribution)
        else:
            files.append(source)
    return files, settings


def _projected_crs(crs: str | None) -> str | None:
    """``"EPSG:<code>"`` of a projected CRS, or None; a geographic one is refused."""
    if crs is None:
        return None
    epsg, geographic = resolve_crs(crs)
    if geographic:
        raise CrsError(f"{crs} is geographic; the local frame needs a projected CRS (e.g. a UTM zone).")
    return epsg


def _tile_grid(city: City, tile_size_m: float) -> tuple[np.ndarray, list[tuple[int, int]], np.ndarray]:
    """Tile of every feature (by its bounding-box centre), the occupied tiles' (ix, iy)
    and the grid's lower-left corner (local metres, whole)."""
    geoms = np.array([f.geometry for f in city.features()], dtype=object)
    bounds = shapely.bounds(geoms)
    corner = np.floor(bounds[:, :2].min(axis=0))  # the grid starts at the district's corner
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2.0
    cell = np.floor((centre - corner) / tile_size_m).astype(np.int64)
    keys, tile_of_feature = np.unique(cell, axis=0, return_inverse=True)
    return tile_of_feature.reshape(-1), [(int(ix), int(iy)) for ix, iy in keys], corner


def _write_tiles(city: City, bbox_m: tuple[float, float, float, float], folder: Path, tile_size_m: float,
                 bar: tqdm) -> tuple[list[dict[str, Any]],
                                                                                    dict[str, str]]:
    features = list(city.features())
    index = {f.id: i for i, f in enumerate(features)}
    if len(index) != len(features):
        duplicate = next(i for i, n in Counter(f.id for f in features).items() if n > 1)
        raise SourceError(f"feature id {duplicate} appears twice; is one source given twice?")
    tile_of_feature, tiles, corner = _tile_grid(city, tile_size_m)
    bar.set_description("meshing")
    soups = mesh_city(city, index)
    per_material = {name: split_by_tile(soup, tile_of_feature, len(tiles)) for name, soup in soups.items()}
    bar.update()
    bar.total += len(tiles)
    min_x, min_y, max_x, max_y = bbox_m
    (folder / "tiles").mkdir()
    entries: list[dict[str, Any]] = []
    tile_names: dict[str, str] = {}
    feature_tiles = [np.flatnonzero(tile_of_feature == t) for t in range(len(tiles))]
    for t, (ix, iy) in enumerate(tiles):
        name = f"{ix}_{iy}"
        bar.set_description(f"tile {name}")
        x0, y0 = corner[0] + ix * tile_size_m, corner[1] + iy * tile_size_m
        origin = (x0 + tile_size_m / 2.0, y0 + tile_size_m / 2.0, 0.0)
        members = feature_tiles[t]
        meshes = {"terrain": terrain_quad(max(x0, min_x - _TERRAIN_MARGIN_M), max(y0, min_y - _TERRAIN_MARGIN_M),
                                          min(x0 + tile_size_m, max_x + _TERRAIN_MARGIN_M),
                                          min(y0 + tile_size_m, max_y + _TERRAIN_MARGIN_M))}
        for material, parts in per_material.items():
            soup = parts[t]
            # Global feature indices → rows of this tile's property table.
            soup.features = np.searchsorted(members, soup.features)
            meshes[material] = soup
        rows = [FeatureRow(features[i].id, features[i].kind, feature_class(features[i]),
                           getattr(features[i], "name", None) or "", feature_height_m(features[i]))
                for i in members]
        uri = f"tiles/{name}.glb"
        size = write_glb(folder / uri, TileContent(origin, meshes, rows))
        lo = np.min([m.positions.min(axis=0) for m in meshes.values() if m.vertex_count], axis=0)
        hi = np.max([m.positions.max(axis=0) for m in meshes.values() if m.vertex_count], axis=0)
        entries.append({"name": name, "uri": uri, "bytes": size, "features": len(rows),
                        "vertices": sum(m.vertex_count for m in meshes.values()),
                        "triangles": sum(len(m.triangles) for m in meshes.values()),
                        "min_m": [round(float(v), 3) for v in lo], "max_m": [round(float(v), 3) for v in hi]})
        tile_names.update({features[i].id: name for i in members})
        bar.update()
    return entries, tile_names


def _replace_folder(built: Path, out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise PackageError(f"{out}: exists and is not a folder; choose another --out.")
        if any(out.iterdir()) and not (out / "city.json").is_file():
            raise PackageError(f"{out}: exists and is not a city package; choose another --out.")
        trash = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(trash)
        built.rename(out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        built.rename(out)


def build_city(sources: list[Path], out: Path, *, name: str | None = None, tile_size_m: float | None = None,
               lod: float = 2.2, crs: str | None = None, progress: bool = True) -> BuildResult:
    """Build a city package from ``sources`` into the folder ``out`` (replaced if it is
    an earlier package). ``crs`` is the projected CRS of the local frame (and, for
    CityJSON files without one, their CRS)."""
    files, settings = _expand(sources)
    crs = _projected_crs(crs or settings.get("crs"))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    # disable=None: tqdm draws only on a terminal, so logs stay free of carriage returns.
    with tqdm(total=len(files) + 4, unit="step", file=sys.stderr, disable=None if progress else True,
              leave=False, bar_format="{desc:<28} {bar} {n_fmt}/{total_fmt} [{elapsed}]") as bar:
        read = []
        for path in files:
            bar.set_description(f"reading {path.name}")
            read.append(read_source(path, lod=lod, crs=crs))
            bar.update()
        bar.set_description("assembling")
        city = assemble(read, name or settings.get("name") or Path(read[0].path).stem, crs=crs)
        if "attribution" in settings and settings["attribution"] not in city.attribution:
            city.attribution.insert(0, settings["attribution"])
        if not any(city.counts().values()):
            raise SourceError("the sources contain no buildings, roads, areas or trees.")
        bbox_m = city.bbox_m()
        bar.update()
        size_m = float(tile_size_m or settings.get("tile_size_m") or DEFAULT_TILE_SIZE_M)
        if not (math.isfinite(size_m) and size_m >= 10.0):
            raise SourceError(f"a tile size of {size_m} m is too small; use at least 10 m.")
        staging.mkdir()
        try:
            tiles, tile_names = _write_tiles(city, bbox_m, staging, size_m, bar)
            bar.set_description("feature store")
            write_feature_store(staging / "features.sqlite", city, tile_names)
            bar.update()
            metadata = _metadata(city, bbox_m, tiles, size_m, lod, read)
            transform = city.frame.ecef_matrix()
            entries = [TileEntry(t["uri"], tuple(t["min_m"]), tuple(t["max_m"])) for t in tiles]
            (staging / "tileset.json").write_text(
                json.dumps(tileset_document(entries, transform, GENERATOR), indent=1))
            (staging / "city.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False))
            bar.update()
            _replace_folder(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out, metadata)


def _metadata(city: City, bbox_m: tuple[float, float, float, float], tiles: list[dict[str, Any]],
              tile_size_m: float, lod: float, read: list[SourceData]) -> dict[str, Any]:
    lon, lat = city.frame.origin_lonlat
    return {
        "format": PACKAGE_FORMAT,
        "generator": GENERATOR,
        "name": city.name,
        "crs": city.frame.crs,
        "origin_m": [city.frame.origin_x_m, city.frame.origin_y_m, city.frame.origin_z_m],
        "origin_lonlat": [round(lon, 9), round(lat, 9)],
        "bbox_m": [round(v, 3) for v in bbox_m],
        "tile_size_m": tile_size_m,
        "lod": lod,
        "features": city.counts(),
        "tiles": tiles,
        "attribution": city.attribution,
        "sources": [{"file": Path(s.path).name, "format": s.format, "crs": s.crs} for s in read],
        "feature_store": "features.sqlite",
        "tileset": "tileset.json",
    }


def read_metadata(folder: Path) -> dict[str, Any]:
    """The ``city.json`` of a package; :class:`PackageError` when it is not one."""
    try:
        meta = json.loads((folder / "city.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageError(f"{folder}: not a city package (no city.json).") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{folder / 'city.json'}: unreadable ({exc}).") from None
    if not isinstance(meta, dict):
        raise PackageError(f"{folder / 'city.json'}: not a JSON object.")
    return meta


def load_city(folder: Path) -> City:
    """The City of a built package, read back from its feature store (footprints,
    heights, roads with widths and traffic tags, land cover, trees), in local metres.

    >>> load_city(Path("no-such-folder"))
    Traceback (most recent call last):
    ...
    world.errors.PackageError: no-such-folder: not a city package (no city.json).
    """
    meta = read_metadata(folder)
    if meta.get("format") != PACKAGE_FORMAT:
        raise PackageError(f"{folder}: package format {meta.get('format')!r}, this version reads "
                           f"{PACKAGE_FORMAT}; rebuild it with `civictwin build-city`.")
    try:
        x, y, z = (float(v) for v in meta["origin_m"])
        frame = LocalFrame(str(meta["crs"]), x, y, z)
        store = folder / str(meta["feature_store"])
    except (KeyError, TypeError, ValueError):
        raise PackageError(f"{folder / 'city.json'}: lacks the crs, origin_m or feature_store entries.") from None
    if not store.is_file():
        raise PackageError(f"{store}: the package's feature store is missing.")
    sources = [str(s.get("file", "")) for s in meta.get("sources", []) if isinstance(s, dict)]
    return read_city(store, str(meta.get("name", folder.name)), frame, list(meta.get("attribution", [])), sources)
