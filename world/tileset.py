"""``tileset.json``: 3D Tiles 1.1 over the GLB tiles.

The root ``transform`` takes local metres (z up) to ECEF (see
:meth:`world.frame.LocalFrame.ecef_matrix`); every tile's bounding volume is a box in
those local metres. Tiles are leaves with ``geometricError`` 0 (full detail) under a
content-less root that refines by ``ADD``. Tile content is glTF, y-up as 3D Tiles
expects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["TileEntry", "tileset_document", "box_volume"]


@dataclass(frozen=True, slots=True)
class TileEntry:
    uri: str
    min_m: tuple[float, float, float]
    max_m: tuple[float, float, float]


def box_volume(min_m: tuple[float, float, float], max_m: tuple[float, float, float]) -> list[float]:
    """A 3D Tiles ``box``: centre then three half-axis vectors.

    >>> box_volume((0.0, 0.0, 0.0), (10.0, 20.0, 4.0))
    [5.0, 10.0, 2.0, 5.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 2.0]
    """
    centre = [(lo + hi) / 2.0 for lo, hi in zip(min_m, max_m, strict=True)]
    half = [max((hi - lo) / 2.0, 0.01) for lo, hi in zip(min_m, max_m, strict=True)]
    return [*centre, half[0], 0.0, 0.0, 0.0, half[1], 0.0, 0.0, 0.0, half[2]]


def tileset_document(tiles: list[TileEntry], transform: list[float], generator: str) -> dict[str, Any]:
    """The tileset as a JSON-ready dict."""
    lo = tuple(min(t.min_m[i] for t in tiles) for i in range(3))
    hi = tuple(max(t.max_m[i] for t in tiles) for i in range(3))
    diagonal_m = math.dist(lo, hi)
    return {
        "asset": {"version": "1.1", "generator": generator},
        "geometricError": round(diagonal_m, 3),
        "root": {
            "transform": transform,
            "boundingVolume": {"box": box_volume(lo, hi)},  # type: ignore[arg-type]
            "geometricError": round(diagonal_m / 2.0, 3),
            "refine": "ADD",
            "children": [
                {"boundingVolume": {"box": box_volume(t.min_m, t.max_m)}, "geometricError": 0.0,
                 "content": {"uri": t.uri}}
                for t in tiles
            ],
        },
    }
