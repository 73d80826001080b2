"""Which importer reads a source, and city folders described by a ``city.toml``.

A source is a file (OSM ``.osm.pbf``/``.osm``/``.osm.bz2``, CityJSON ``.json`` or
CityJSONSeq ``.city.jsonl``, GeoJSON ``.geojson`` or ``.json``) or a folder holding a
``city.toml``::

    name = "Helsinki centre"
    crs = "EPSG:3067"                     # optional
    sources = ["helsinki-center.osm.pbf"] # relative to the folder
    tile_size_m = 250                     # optional
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from world.city import SourceData
from world.errors import SourceError

__all__ = ["CityConfig", "read_city_config", "detect_format", "read_source"]

_SNIFF_BYTES = 65536
_JSON_TYPE = re.compile(rb'"type"\s*:\s*"(CityJSON|CityJSONFeature|FeatureCollection|Feature)"')


@dataclass(slots=True)
class CityConfig:
    """A city folder's ``city.toml``, sources resolved to paths."""

    folder: Path
    name: str
    sources: list[Path]
    crs: str | None = None
    tile_size_m: float | None = None
    attribution: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def read_city_config(folder: Path) -> CityConfig:
    path = folder / "city.toml"
    if not path.is_file():
        raise SourceError(f"{folder}: a folder source needs a city.toml; none is there.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"{path}: not valid TOML ({exc}).") from None
    sources = data.pop("sources", None)
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise SourceError(f"{path}: 'sources' must be a non-empty list of file names.")
    tile_size = data.pop("tile_size_m", None)
    if tile_size is not None and (not isinstance(tile_size, int | float) or tile_size <= 0):
        raise SourceError(f"{path}: 'tile_size_m' must be a positive number.")
    return CityConfig(folder=folder, name=str(data.pop("name", folder.name)),
                      sources=[folder / s for s in sources], crs=data.pop("crs", None),
                      tile_size_m=float(tile_size) if tile_size else None,
                      attribution=data.pop("attribution", None), extra=data)


def detect_format(path: Path) -> str:
    """``"osm"``, ``"cityjson"`` or ``"geojson"``, from the name and, for ``.json``,
    its top-level ``"type"`` (looked for in the first 64 KiB, else parsed)."""
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2")):
        return "osm"
    if name.endswith(".jsonl"):
        return "cityjson"
    if name.endswith(".geojson"):
        return "geojson"
    if name.endswith(".json"):
        try:
            with path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
            found = {m.group(1) for m in _JSON_TYPE.finditer(head)}
            if not found:
                # Sorted keys put the top-level "type" anywhere: read the document's own.
                document = json.loads(path.read_bytes())
                kind = document.get("type") if isinstance(document, dict) else None
                found = {kind.encode()} if isinstance(kind, str) else set()
        except OSError as exc:
            raise SourceError(f"{path.name}: cannot be read ({exc.strerror}).") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"{path.name}: not valid JSON ({exc}).") from None
        if found & {b"CityJSON", b"CityJSONFeature"}:
            return "cityjson"
        if found & {b"FeatureCollection", b"Feature"}:
            return "geojson"
        raise SourceError(f"{path.name}: a JSON file that is neither CityJSON nor GeoJSON.")
    raise SourceError(f"{path.name}: unknown format; expected .osm.pbf, .osm, .osm.bz2, CityJSON "
                      ".json or .city.jsonl, or GeoJSON .geojson.")


def read_source(path: Path, *, lod: float = 2.2, crs: str | None = None) -> SourceData:
    """Read one source file with the importer its format needs."""
    if not path.exists():
        raise SourceError(f"{path}: no such file.")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder without a city.toml.")
    kind = detect_format(path)
    if kind == "osm":
        from world.osm import read_osm
        return read_osm(path, crs=crs)
    if kind == "cityjson":
        from world.cityjson import read_cityjson
        return read_cityjson(path, lod=lod, crs=crs)
    from world.geojson import read_geojson
    return read_geojson(path, crs=crs)
