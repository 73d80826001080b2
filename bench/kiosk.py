"""The kiosk's rows of ``make bench``: start to first interactive frame, frame time and draw
calls at the overview and at street level, each beside an anchor measured in the same run.

The anchor is the same district loaded the way a quick prototype would: one glTF node per
building (and per ground and tree mesh of each tile) through panda3d-gltf. Each side runs
in its own process (:mod:`bench._kiosk_frames`), alternately, and the GL renderer is named
so that software-rendered figures (Mesa llvmpipe) are not mistaken for a GPU's.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pygltflib

from world.gltf_read import read_gltf
from world.package import read_metadata

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["kiosk_rows", "write_per_building_glb"]


def _accessor(gl: pygltflib.GLTF2, blob: bytearray, array: np.ndarray, kind: str, component: int,
              target: int | None, bounds: bool = False) -> int:
    data = np.ascontiguousarray(array).tobytes()
    while len(blob) % 4:
        blob.append(0)
    gl.bufferViews.append(pygltflib.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(data), target=target))
    blob.extend(data)
    accessor = pygltflib.Accessor(bufferView=len(gl.bufferViews) - 1, componentType=component, count=len(array),
                                  type=kind)
    if bounds:
        accessor.min = array.min(axis=0).tolist()
        accessor.max = array.max(axis=0).tolist()
    gl.accessors.append(accessor)
    return len(gl.accessors) - 1


def write_per_building_glb(package: Path, out: Path) -> int:
    """The package's tiles as one GLB with a node per building (the buildings of each tile
    split by feature id) and a node per other mesh; returns the number of mesh nodes."""
    gl = pygltflib.GLTF2(asset=pygltflib.Asset(version="2.0"), scene=0, scenes=[pygltflib.Scene(nodes=[0])],
                         nodes=[pygltflib.Node(children=[])], buffers=[], bufferViews=[], accessors=[], meshes=[],
                         materials=[])
    blob = bytearray()
    materials: dict[tuple[str, int], int] = {}
    for tile in read_metadata(package)["tiles"]:
        scene = read_gltf(package / tile["uri"])
        for prim in scene.primitives:
            raw = scene.materials[prim.material] if prim.material is not None else {}
            key = (tile["name"], -1 if prim.material is None else prim.material)
            if key not in materials:
                pbr = raw.get("pbrMetallicRoughness", {})
                gl.materials.append(pygltflib.Material(
                    name=raw.get("name"), doubleSided=bool(raw.get("doubleSided", False)),
                    pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(
                        baseColorFactor=pbr.get("baseColorFactor", [1, 1, 1, 1]), metallicFactor=0.0,
                        roughnessFactor=pbr.get("roughnessFactor", 1.0))))
                materials[key] = len(gl.materials) - 1
            indices = prim.indices.reshape(-1, 3)
            if raw.get("name") == "building" and prim.feature_ids is not None:
                owner = prim.feature_ids[indices[:, 0]]
                groups = [indices[owner == f] for f in np.unique(owner)]
            else:
                groups = [indices]
            for tris in groups:
                used, remap = np.unique(tris.ravel(), return_inverse=True)
                attributes = pygltflib.Attributes(
                    POSITION=_accessor(gl, blob, prim.positions[used].astype(np.float32), "VEC3", 5126, 34962, True))
                if prim.normals is not None:
                    attributes.NORMAL = _accessor(gl, blob, prim.normals[used].astype(np.float32), "VEC3", 5126, 34962)
                if prim.colors is not None:
                    attributes.COLOR_0 = _accessor(gl, blob, prim.colors[used].astype(np.float32), "VEC4", 5126, 34962)
                index = _accessor(gl, blob, remap.astype(np.uint32), "SCALAR", 5125, 34963)
                gl.meshes.append(pygltflib.Mesh(primitives=[pygltflib.Primitive(
                    attributes=attributes, indices=index, material=materials[key])]))
                gl.nodes.append(pygltflib.Node(mesh=len(gl.meshes) - 1,
                                               matrix=np.asarray(prim.matrix, dtype=float).T.ravel().tolist()))
                gl.nodes[0].children.append(len(gl.nodes) - 1)
    gl.buffers.append(pygltflib.Buffer(byteLength=len(blob)))
    gl.set_binary_blob(bytes(blob))
    out.parent.mkdir(parents=True, exist_ok=True)
    gl.save_binary(str(out))
    return len(gl.nodes) - 1


def _frames(mode: str, source: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_kiosk_frames.py"), mode, str(source)],
                         capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"the {mode} frame benchmark failed: {out.stderr.strip()[-400:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _play_start(package: Path, tmp: Path) -> dict[str, Any]:
    """The kiosk itself, offscreen, on a one-step script: its own start-up timings."""
    script = tmp / "kiosk-start.json"
    script.write_text(json.dumps([{"do": "wait", "frames": 1}]), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "game.cli", "play", str(package), "--offscreen",
                          "--script", str(script), "--screenshots", str(tmp / "kiosk-start"),
                          "--outbox", str(tmp / "kiosk-outbox.sqlite")],
                         capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"civictwin play failed: {out.stderr.strip()[-400:]}")
    frames: dict[str, Any] = json.loads((tmp / "kiosk-start" / "report.json").read_text(encoding="utf-8"))["frames"]
    return frames


def _faster(anchor: float, ours: float) -> str:
    """The anchor's time over ours, said the way round that reads as a whole number."""
    return f"{anchor / ours:.1f}× faster" if anchor >= ours else f"{ours / anchor:.1f}× slower"


def kiosk_rows(package: Path, tmp: Path, repeat: int = 2) -> list[tuple[str, str, str, str]]:
    anchor_glb = tmp / "per-building.glb"
    nodes = write_per_building_glb(package, anchor_glb)
    ours_runs, anchor_runs, starts = [], [], []
    for _ in range(max(1, repeat)):
        ours_runs.append(_frames("ours", package))
        anchor_runs.append(_frames("anchor", anchor_glb))
        starts.append(_play_start(package, tmp))

    def median(runs: list[dict[str, Any]], *path: str) -> float:
        values = []
        for run in runs:
            value: Any = run
            for key in path:
                value = value[key]
            values.append(float(value))
        return statistics.median(values)

    renderer = ours_runs[0]["renderer"]
    rows = [("kiosk: GL renderer of these figures", renderer, "—", "—")]
    interactive = median(starts, "interactive_s")
    rows.append(("kiosk: start to first interactive frame (Helsinki, civictwin play)",
                 f"{interactive:.2f} s (first frame {median(starts, 'first_frame_s'):.2f} s, "
                 f"simulations ready {median(starts, 'sims_ready_s'):.2f} s)",
                 "< 3 s", f"{3.0 / interactive:.1f}× under"))
    ours_first, anchor_first = median(ours_runs, "first_frame_s"), median(anchor_runs, "first_frame_s")
    rows.append(("kiosk: process start to first frame of the district, our tiles vs panda3d-gltf",
                 f"{ours_first:.2f} s vs {anchor_first:.2f} s", "(anchor: panda3d-gltf, node per building)",
                 _faster(anchor_first, ours_first)))
    for view in ("overview", "street"):
        ours_ms, anchor_ms = median(ours_runs, "views", view, "frame_ms_mean"), \
            median(anchor_runs, "views", view, "frame_ms_mean")
        ours_calls, anchor_calls = median(ours_runs, "views", view, "draw_calls"), \
            median(anchor_runs, "views", view, "draw_calls")
        p95 = median(ours_runs, "views", view, "frame_ms_p95")
        rows.append((f"kiosk: frame time at the {view}, 1280x720 (ours p95 {p95:.1f} ms)",
                     f"{ours_ms:.1f} ms vs {anchor_ms:.1f} ms", "(anchor: panda3d-gltf, node per building)",
                     _faster(anchor_ms, ours_ms)))
        rows.append((f"kiosk: draw calls at the {view}", f"{ours_calls:.0f} vs {anchor_calls:.0f} ({nodes} nodes)",
                     "≤ 1 per tile per material", f"{anchor_calls / max(ours_calls, 1):.0f}× fewer"))
    return rows


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as folder:
        package = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "helsinki"
        for row in kiosk_rows(package, Path(folder)):
            print("  ".join(row))
