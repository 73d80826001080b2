"""The `civictwin` command: help everywhere, bad input as one sentence and status 1."""

from __future__ import annotations

import bz2
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, HELSINKI_DIR, HELSINKI_PBF, ROOT

SUBCOMMANDS = ["build-city", "inspect", "snapshot", "sim"]


def civictwin(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "game.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, check=False)


@pytest.mark.parametrize("command", [[], *([c] for c in SUBCOMMANDS)])
def test_help(command: list[str]) -> None:
    result = civictwin(*command, "--help")
    assert result.returncode == 0
    assert "usage: civictwin" in result.stdout


def test_usage_errors_exit_2() -> None:
    assert civictwin().returncode == 2
    assert civictwin("build-city", "x.osm.pbf").returncode == 2  # no --out
    result = civictwin("build-city", "x.osm.pbf", "--out", "o", "--tile-size-m", "abc")
    assert result.returncode == 2 and "not a number" in result.stderr


def _truncated_pbf(tmp_path: Path) -> Path:
    path = tmp_path / "truncated.osm.pbf"
    data = HELSINKI_PBF.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _bad_cases(tmp_path: Path) -> list[tuple[list[str], str]]:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [')
    (tmp_path / "garbage.osm.bz2").write_bytes(bz2.compress(b"<osm><node id='1' lat='x'"))
    no_crs = json.loads((DATA / "cityjson" / "multi_lod.json").read_text())
    no_crs.get("metadata", {}).pop("referenceSystem", None)
    (tmp_path / "no_crs.json").write_text(json.dumps(no_crs))
    cases = [
        ([str(tmp_path / "missing.osm.pbf")], "missing.osm.pbf"),
        ([str(tmp_path / "notes.txt")], "notes.txt"),
        ([str(tmp_path / "broken.geojson")], "broken.geojson"),
        ([str(tmp_path / "garbage.osm.bz2")], "garbage.osm.bz2"),
        ([str(_truncated_pbf(tmp_path))], "truncated.osm.pbf"),
        ([str(tmp_path / "no_crs.json")], "no_crs.json"),
        ([str(HELSINKI_PBF), "--crs", "EPSG:999999"], "EPSG:999999"),
        ([str(HELSINKI_PBF), "--crs", "EPSG:4326"], "EPSG:4326"),
    ]
    for case in sorted((DATA / "cityjson" / "corpus" / "invalid").iterdir()):
        fixture = json.loads((case / "invariants.json").read_text())["fixture"]
        cases.append(([str(case / fixture)], fixture))
    return cases


def test_bad_input_gets_one_sentence_and_status_1(tmp_path: Path) -> None:
    for args, named in _bad_cases(tmp_path):
        out = tmp_path / "out"
        result = civictwin("build-city", *args, "--out", str(out), "--quiet")
        assert result.returncode == 1, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("civictwin: error: "), (args, result.stderr)
        assert named in lines[0], (named, lines[0])
        assert "Traceback" not in result.stderr
        assert not out.exists(), "nothing half-written is left behind"


def test_inspect_errors(tmp_path: Path) -> None:
    for target in (DATA / "gltf" / "malformed" / "invalid_magic.glb", tmp_path / "nothing.glb",
                   DATA / "gltf" / "unsupported" / "Box-draco.glb", tmp_path):
        result = civictwin("inspect", str(target))
        assert result.returncode == 1, target
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_inspect_json_on_a_sample_model() -> None:
    result = civictwin("inspect", str(DATA / "gltf" / "samples" / "Duck.glb"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    # Independent counts from the file's own JSON chunk (GLB header 12 bytes, chunk header 8).
    data = (DATA / "gltf" / "samples" / "Duck.glb").read_bytes()
    document = json.loads(data[20:20 + int.from_bytes(data[12:16], "little")])
    primitive = document["meshes"][0]["primitives"][0]
    accessors = document["accessors"]
    assert summary["vertices"] == accessors[primitive["attributes"]["POSITION"]]["count"] == 2399
    assert summary["triangles"] == accessors[primitive["indices"]]["count"] // 3 == 4212
    assert summary["materials"] == 1 and summary["extensions"] == []


def test_build_and_inspect_helsinki_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "helsinki"
    result = civictwin("build-city", str(HELSINKI_DIR), "--out", str(out), "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    result = civictwin("inspect", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key in ("vertices", "triangles", "materials", "extensions", "tiles", "features", "crs",
                "origin_lonlat", "bbox_m"):
        assert key in summary
    assert summary["features"] == built["features"]
    assert summary["tiles"] == len(built["tiles"])
    assert summary["vertices"] == sum(t["vertices"] for t in built["tiles"])
    assert summary["crs"] == "EPSG:3067"
    text = civictwin("inspect", str(out)).stdout
    assert "EPSG:3067" in text and "buildings" in text
