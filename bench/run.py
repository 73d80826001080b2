"""`make bench`: the figures of DESIGN.md's budget table that exist so far, each with the
ratio to its anchor, measured side by side in one run. Prints; asserts nothing.

    .venv/bin/python bench/run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.kiosk import kiosk_rows  # noqa: E402
from bench.sims import sim_rows  # noqa: E402
from bench.wall import wall_rows  # noqa: E402
from bench.workshop import workshop_rows  # noqa: E402
from world.gltf_read import read_gltf  # noqa: E402
from world.package import build_city  # noqa: E402

HELSINKI = ROOT / "content" / "cities" / "helsinki"


def _median_s(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _side_by_side(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b``, run alternately so both see the same machine."""
    times_a, times_b = [], []
    for _ in range(repeat):
        for func, times in ((a, times_a), (b, times_b)):
            started = time.perf_counter()
            func()
            times.append(time.perf_counter() - started)
    return statistics.median(times_a), statistics.median(times_b)


def _without_feature_ids(source: Path, target: Path) -> None:
    """A copy of a tile without ``_FEATURE_ID_0``: panda3d-gltf 1.3 raises AttributeError
    on any custom vertex attribute (it looks up ``column_name.parent.basename``), so
    both loaders get this copy to compare like with like."""
    data = source.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20:20 + json_length])
    for mesh in document["meshes"]:
        for primitive in mesh["primitives"]:
            primitive["attributes"].pop("_FEATURE_ID_0", None)
            primitive.pop("extensions", None)
    document.pop("extensions", None)
    document.pop("extensionsUsed", None)
    text = json.dumps(document).encode()
    text += b" " * ((-len(text)) % 4)
    binary = data[20 + json_length:]
    header = struct.pack("<III", 0x46546C67, 2, 12 + 8 + len(text) + len(binary))
    target.write_bytes(header + struct.pack("<II", len(text), 0x4E4F534A) + text + binary)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median is printed)")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "helsinki"
        print("building Helsinki…", file=sys.stderr)
        build_s = _median_s(lambda: build_city([HELSINKI], out, progress=False), max(3, args.repeat // 2))
        rows.append(("build the Helsinki sample city from OSM", f"{build_s:.2f} s", "< 15 s",
                     f"{15.0 / build_s:.0f}× under budget"))

        merged = Path(tmp) / "merged"
        build_city([HELSINKI], merged, progress=False, tile_size_m=5000)
        (tile,) = (merged / "tiles").glob("*.glb")  # one tile: the whole district merged
        vertices = read_gltf(tile).vertex_count
        read_s = _median_s(lambda: read_gltf(tile), args.repeat * 4)
        rate = vertices / read_s
        rows.append((f"GLB tile → numpy arrays (merged district tile, {vertices:,} vertices)",
                     f"{rate / 1e6:.0f} M vertices/s", "≥ 5 M vertices/s", f"{rate / 5e6:.1f}× the budget"))

        from panda3d.core import loadPrcFileData
        loadPrcFileData("", "load-display p3headlessgl\nwindow-type none\naudio-library-name null\n"
                            "notify-level error\nmodel-cache-dir\n")
        import gltf

        from game.kiosk.geometry import scene_to_node

        plain = Path(tmp) / "merged-plain.glb"
        _without_feature_ids(tile, plain)
        ours_s, theirs_s = _side_by_side(lambda: scene_to_node(read_gltf(plain), "tile"),
                                         lambda: gltf.load_model(str(plain)), args.repeat)
        rows.append(("GLB tile → Panda3D geometry: civictwin (reader + one buffer copy per array)",
                     f"{ours_s * 1000:.1f} ms", "≥ 10× faster than panda3d-gltf",
                     f"{theirs_s / ours_s:.1f}× faster"))
        rows.append(("GLB tile → Panda3D geometry: panda3d-gltf load_model, same tile",
                     f"{theirs_s * 1000:.1f} ms", "(anchor)", "1.0×"))
        ours_rate = vertices / ours_s
        rows.append(("GLB tile → Panda3D geometry, throughput", f"{ours_rate / 1e6:.1f} M vertices/s",
                     "≥ 5 M vertices/s", f"{ours_rate / 5e6:.1f}× the budget"))

        tiles = sorted((out / "tiles").glob("*.glb"))
        primitives = 0
        materials = 0
        for path in tiles:
            scene = read_gltf(path)
            primitives += len(scene.primitives)
            materials += len({p.material for p in scene.primitives})
        rows.append((f"draw calls for the district ({len(tiles)} tiles of 250 m)", f"{primitives}",
                     "≤ 1 per tile per material", f"{primitives / materials:.2f} per tile-material"))

        print("running the simulations…", file=sys.stderr)
        rows += sim_rows(out, args.repeat)

        print("loading the workshop server…", file=sys.stderr)
        rows += workshop_rows(Path(tmp))

        print("rendering the kiosk and its anchor (panda3d-gltf, a node per building)…", file=sys.stderr)
        rows += kiosk_rows(out, Path(tmp))

        print("drawing the wall with 50 proposals and 1,000 votes, and its anchor (shapes drawn one by one)…",
              file=sys.stderr)
        rows += wall_rows(out)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("figure", "measured", "budget", "ratio")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
