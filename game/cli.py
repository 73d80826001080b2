"""The ``civictwin`` command. Subcommands import their modules lazily, so that
``civictwin build-city`` never loads Panda3D."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from game._args import bounded, window_size

__all__ = ["main", "build_parser"]


_window_size = window_size(16, 16)
_tile_size = bounded("tile size", "a number of metres", 10.0, 10_000.0)
_lod = bounded("level of detail", "a level of detail such as 1.2 or 2.2", 0.0, 4.0)


def _cmd_build_city(args: argparse.Namespace) -> int:
    from world.package import build_city

    started = time.perf_counter()
    result = build_city([Path(s) for s in args.sources], Path(args.out), name=args.name,
                        tile_size_m=args.tile_size_m, lod=args.lod, crs=args.crs,
                        progress=not args.quiet)
    elapsed_s = time.perf_counter() - started
    meta = result.metadata
    if args.json:
        print(json.dumps({"out": str(result.out), "seconds": round(elapsed_s, 3), **meta}))
        return 0
    counts = ", ".join(f"{n} {kind}s" for kind, n in meta["features"].items())
    vertices = sum(t["vertices"] for t in meta["tiles"])
    print(f"Built {meta['name']!r} in {elapsed_s:.1f} s: {counts}; "
          f"{result.tiles} tiles, {vertices:,} vertices ({meta['crs']}).")
    print(f"City package: {result.out}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from world.inspect import format_summary, inspect_path

    summary = inspect_path(Path(args.path))
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0




def _cmd_snapshot(args: argparse.Namespace) -> int:
    from game.snapshot import render_snapshot

    out = render_snapshot(Path(args.package), Path(args.out), size=args.size, view=args.view)
    print(f"Wrote {out}")
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from game.simulate import format_report, simulate

    report = simulate(Path(args.package), args.scenario, Path(args.apply) if args.apply else None,
                      Path(args.png) if args.png else None, args.only)
    print(json.dumps(report.to_json(), ensure_ascii=False) if args.json else format_report(report))
    return 0


def _simulation_names(text: str) -> list[str]:
    from sims.registry import names

    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in names()]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(names())} (comma-separated)")
    return chosen


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civictwin",
        description="civictwin: a citizen engagement twin. Build a playable city from open data, "
                    "inspect it, simulate interventions, and run workshops around it.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = sub.add_parser(
        "build-city", help="turn OSM / CityJSON / GeoJSON into a city package (3D Tiles, feature store)",
        description="Read OpenStreetMap (.osm.pbf, .osm, .osm.bz2), CityJSON (.json, .city.jsonl) or "
                    "GeoJSON sources, or a city folder with a city.toml, and write a city package: "
                    "tileset.json, tiles/*.glb, features.sqlite and city.json.")
    build.add_argument("sources", nargs="+", metavar="SOURCE", help="source files or a city folder")
    build.add_argument("--out", required=True, metavar="DIR", help="the city package folder to write")
    build.add_argument("--name", help="the city's name (default: from city.toml or the first file)")
    build.add_argument("--tile-size-m", type=_tile_size, default=None, metavar="M",
                       help="tile edge in metres (default 250)")
    build.add_argument("--lod", type=_lod, default=2.2,
                       help="CityJSON level of detail: the highest at or below this (default 2.2)")
    build.add_argument("--crs", metavar="EPSG:CODE",
                       help="projected CRS of the local frame; also the CRS of CityJSON files that "
                            "declare none")
    build.add_argument("--json", action="store_true", help="print the result as one JSON object")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(run=_cmd_build_city)

    inspect = sub.add_parser(
        "inspect", help="summarise a GLB/glTF file or a city package",
        description="Print vertices, triangles, materials and extensions of a .glb/.gltf file; for a "
                    "city package also its tiles, feature counts, CRS, origin and extent.")
    inspect.add_argument("path", metavar="FILE_OR_DIR")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(run=_cmd_inspect)

    snapshot = sub.add_parser(
        "snapshot", help="render a city package offscreen to a PNG",
        description="Render a city package with Panda3D offscreen (no display or GPU needed: Mesa's "
                    "EGL) from an oblique or top-down view, and write a PNG.")
    snapshot.add_argument("package", metavar="CITY_DIR")
    snapshot.add_argument("--out", required=True, metavar="FILE.png")
    snapshot.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH",
                          help="image size in pixels (default 1280x720)")
    snapshot.add_argument("--view", choices=["oblique", "top"], default="oblique")
    snapshot.set_defaults(run=_cmd_snapshot)

    sim = sub.add_parser(
        "sim", help="run the simulations (shade, heat, green access, runoff, noise) and print KPIs",
        description="Run every simulation over a city package under a scenario (area, date and time, "
                    "weather, rain), optionally after placing interventions, and print each KPI with its "
                    "baseline and change, and the time each simulation took.")
    sim.add_argument("package", metavar="CITY_DIR", help="a city package written by build-city")
    sim.add_argument("--scenario", metavar="S", help="a scenario name from content/scenarios or a .toml file "
                                                     "(default: the shipped scenario inside the city)")
    sim.add_argument("--apply", metavar="FILE.json",
                     help="a JSON list of interventions to place, in the protocol's format: "
                          '[{"catalog": "tree-medium", "geometry": {"type": "Point", "coordinates": [x, y]}, '
                          '"params": {}}] with coordinates in the package\'s local metres')
    sim.add_argument("--json", action="store_true",
                     help="print one JSON object: kpis {name: {value, baseline, delta, unit}} and timings_ms")
    sim.add_argument("--png", metavar="DIR", help="write each field as DIR/<simulation>.png with its legend")
    sim.add_argument("--only", type=_simulation_names, metavar="NAMES",
                     help="comma-separated simulations to run (default: all)")
    sim.set_defaults(run=_cmd_sim)

    from game.workshop_cli import add_workshop_commands
    add_workshop_commands(sub)
    from game.play_cli import add_play_command
    add_play_command(sub)
    from game.wall_cli import add_wall_command
    add_wall_command(sub)
    from game.review_cli import add_review_command
    add_review_command(sub)
    from game.report_cli import add_report_command
    add_report_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from multiplayer.errors import MultiplayerError
    from world.errors import WorldError

    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except WorldError as exc:
        print(f"civictwin: error: {exc}", file=sys.stderr)
        return 1
    except MultiplayerError as exc:
        print(f"civictwin: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("civictwin: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
