"""The wall's rows of ``make bench``: frame time of the facilitator's wall with 50 proposals
of ~8 interventions and 1,000 votes, at 1280x720 and 1920x1080, offscreen, beside an anchor
drawn in the same run: the same board with every shape drawn by immediate-mode
``arcade.draw_polygon_filled`` each frame (its panels drawn as ours).

Each measurement runs in its own process (one arcade window per process), alternately:

    python bench/wall.py CITY_DIR                         # the rows
    python bench/wall.py --measure MODE WxH CITY_DIR      # one run, one JSON line

Modes: ``ours`` (an unchanged board), ``live`` (ours with a new board every 10th frame,
as when votes stream in: new tallies and a new consensus grid), ``anchor``. Ours are the
real frame path of the facilitator's :class:`game.wall.window.WallWindow` (a stub feed in
place of the network), on a clock of 60 frames a second: the feed's poll, the timer
counting down (a new second every 60th frame), the controls, the canvas painted where it
changed and copied to the screen. A frame is timed from the poll to ``glFinish`` (the GPU's
work included, the screenshot readback not). The GL renderer is named so that
software-rendered figures (Mesa llvmpipe) are not mistaken for a GPU's.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["synthetic_state", "wall_rows"]

BUDGET_MS = 1000.0 / 60.0
SIZES = ((1280, 720), (1920, 1080))
#: Frames drawn before timing starts, and timed frames, per mode (the anchor takes seconds a frame).
_WARM_FRAMES = {"ours": 10, "live": 10, "anchor": 1}
_FRAMES = {"ours": 180, "live": 180, "anchor": 5}
_CATALOG = ("tree-medium", "tree-large", "bench", "park", "rain-garden", "bike-lane", "green-roof",
            "traffic-calming")
_KPIS = ("shade_public_pct", "utci_mean_c", "runoff_m3", "facade_lden_mean_db")


def synthetic_state(city: Path | None, proposals: int = 50, per_proposal: int = 8, votes: int = 1000,
                    seed: int = 11) -> dict[str, Any]:
    """The wall's view of a helsinki-centre workshop in its vote round with ``proposals``
    proposals of ``per_proposal`` interventions from four kiosks and phones, and ``votes``
    votes on the proposal question (plus the other questions' answers)."""
    from multiplayer.workshop import Workshop, spec_from_scenario
    from world.frame import LocalFrame
    from world.package import read_metadata
    from world.scenario import load_scenario

    frame = None
    if city is not None:
        meta = read_metadata(city)
        frame = LocalFrame(str(meta["crs"]), *(float(v) for v in meta["origin_m"]))
    spec = spec_from_scenario(load_scenario("helsinki-centre"), frame)
    now = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)
    workshop, _ = Workshop.create("BENCH1", spec, "f" * 64, "v" * 64, now)
    state = json.loads(json.dumps(workshop.state_for("wall")))
    rng = random.Random(seed)
    min_x, min_y, max_x, max_y = state["area_m"]
    made = []
    for index in range(proposals):
        cx, cy = rng.uniform(min_x + 80, max_x - 80), rng.uniform(min_y + 80, max_y - 80)
        placed = []
        for _ in range(per_proposal):
            catalog = rng.choice(_CATALOG)
            x, y = cx + rng.uniform(-60, 60), cy + rng.uniform(-60, 60)
            geometry: dict[str, Any]
            if catalog in ("park", "green-roof", "rain-garden"):
                r = rng.uniform(5.0, 18.0)
                geometry = {"type": "Polygon", "coordinates": [[[x - r, y - r], [x + r, y - r], [x + r, y + r],
                                                                [x - r, y + r], [x - r, y - r]]]}
            elif catalog in ("bike-lane", "traffic-calming"):
                geometry = {"type": "LineString",
                            "coordinates": [[x, y], [x + rng.uniform(-90, 90), y + rng.uniform(-90, 90)]]}
            else:
                geometry = {"type": "Point", "coordinates": [x, y]}
            placed.append({"catalog": catalog, "geometry": geometry, "params": {}})
        kiosk = f"k{index % 5 + 1}" if index % 5 < 4 else None
        made.append({"id": f"P{index + 1}", "title": f"Proposal {index + 1} for a greener centre",
                     "description": None, "interventions": placed,
                     "kpis": {k: round(rng.uniform(-1.0, 2.0), 2) for k in rng.sample(_KPIS, 2)},
                     "author_role": "kiosk" if kiosk else "participant", "kiosk": kiosk, "late": False})
    state["proposals"] = made
    state["kiosks"] = [{"id": f"k{i}", "name": name, "revoked": False}
                       for i, name in enumerate(("library", "town hall", "school", "market"), 1)]
    tallies = state["tallies"]
    for question in state["questions"]:
        keys = ([o["id"] for o in question["options"]] if question["kind"] == "choice" else
                ["1", "2", "3", "4", "5"] if question["kind"] == "score" else [p["id"] for p in made])
        tallies[question["id"]] = dict.fromkeys(keys, 0)
        for _ in range(votes if question["kind"] == "proposal" else votes // 3):
            tallies[question["id"]][rng.choice(keys)] += 1
    total = sum(sum(t.values()) for t in tallies.values())
    state.update(phase="vote", rev=2000, timer_ends_at=(now + timedelta(seconds=290)).isoformat(),
                 counts={"participants": votes // 3, "kiosks": 4, "proposals": proposals, "votes": total})
    return state


def _boards(state: dict[str, Any], count: int) -> list[tuple[dict[str, Any], Any]]:
    """``count`` states from ``state`` with one more vote each (a vote stream), each with its board."""
    from game.wall.board import board_from_state

    now = datetime(2026, 6, 21, 12, 0, 5, tzinfo=UTC)
    rng = random.Random(3)
    boards = []
    question = next(q["id"] for q in state["questions"] if q["kind"] == "proposal")
    for step in range(count):
        boards.append((state, board_from_state(state, now + timedelta(seconds=step))))
        state = json.loads(json.dumps(state))
        tally = state["tallies"][question]
        tally[rng.choice(sorted(tally))] += 1
        state["rev"] += 1
        state["counts"]["votes"] += 1
    return boards


def _naive_map(renderer: Any, board: Any) -> None:
    """The anchor's map: every basemap polygon, consensus cell and intervention drawn on
    its own with arcade's immediate-mode polygon call (exterior rings; holes ignored)."""
    import arcade
    import shapely

    from game.wall.colours import LAYER_COLOURS
    from game.wall.consensus import intervention_shape

    def polygon(shape: Any, colour: tuple[int, int, int]) -> None:
        for part in shapely.get_parts(shape):
            if isinstance(part, shapely.Polygon) and not part.is_empty:
                points = [renderer.to_px(x, y) for x, y in part.exterior.coords[:-1]]
                if len(points) >= 3:
                    arcade.draw_polygon_filled(points, colour)

    left, bottom, width, height = renderer.map_rect
    arcade.draw_lrbt_rectangle_filled(left, left + width, bottom, bottom + height, (30, 33, 38))
    for layer, shapes in renderer.basemap.shapes.items():
        for shape in shapes:
            polygon(shape, LAYER_COLOURS[layer])
    top = board.consensus.max_support or 1.0
    for x0, y0, x1, y1, support in board.consensus.cells():
        (px0, py0), (px1, py1) = renderer.to_px(x0, y0), renderer.to_px(x1, y1)
        arcade.draw_lrbt_rectangle_filled(px0, px1, py0, py1, (203, 82, 136, int(80 + 120 * support / top)))
    for proposal in reversed(board.ranking):
        for intervention in proposal.interventions:
            polygon(intervention_shape(intervention), proposal.colour)


class _Feed:
    """A :class:`game.wall.live.LiveFeed` with no network: hands over the states it is given."""

    role = "facilitator"
    connected = True
    fatal = None

    def __init__(self) -> None:
        self.pending: tuple[dict[str, Any], Any] | None = None

    def poll(self) -> Any:
        from game.wall.live import Change

        pending, self.pending = self.pending, None
        return Change(pending[0] if pending else None, pending[1] if pending else None, False)


def measure(mode: str, size: tuple[int, int], city: Path) -> dict[str, Any]:
    """One run: frame times in ms of ``mode`` at ``size`` (see the module docstring)."""
    import os
    import time

    os.environ["ARCADE_HEADLESS"] = "1"
    from game.wall.basemap import load_basemap
    from game.wall.window import WallOptions, WallWindow

    state = synthetic_state(city)
    basemap = load_basemap(city, state["area_m"])
    feed: Any = _Feed()
    window = WallWindow(WallOptions(size, offscreen=True, join_url="http://192.168.1.20:8765/?w=BENCH1"), feed,
                        lambda _state: basemap)
    boards = _boards(state, 1 + _FRAMES[mode] // 10 + 2)
    start = datetime(2026, 6, 21, 12, 0, 5, tzinfo=UTC)
    feed.pending = boards[0]
    window.update_state(start, 0.0)  # the first board makes the renderer
    renderer = window.renderer
    assert renderer is not None
    times_ms = []
    for frame in range(_WARM_FRAMES[mode] + _FRAMES[mode]):
        now_s = (frame + 1) / 60.0
        now = start + timedelta(seconds=now_s)
        if mode == "live" and frame % 10 == 0:
            feed.pending = boards[frame // 10 + 1]
        started = time.perf_counter()
        if mode == "anchor":
            board = boards[0][1]
            renderer.clear()
            _naive_map(renderer, board)
            renderer.draw_panels(board, now)
        else:
            window.update_state(now, now_s)
            window.draw_frame(now)
        window.ctx.finish()
        if frame >= _WARM_FRAMES[mode]:
            times_ms.append((time.perf_counter() - started) * 1000.0)
    quantiles = statistics.quantiles(times_ms, n=20)
    board = boards[0][1]
    return {"mode": mode, "size": list(size), "renderer": window.ctx.info.RENDERER, "frames": len(times_ms),
            "p50_ms": statistics.median(times_ms), "p95_ms": quantiles[18], "max_ms": max(times_ms),
            "interventions": sum(len(p.interventions) for p in board.ranking),
            "proposals": len(board.ranking), "votes": sum(p.votes for p in board.ranking)}


def _run(mode: str, size: tuple[int, int], city: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", mode, f"{size[0]}x{size[1]}",
                          str(city)], capture_output=True, text=True, timeout=900, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"the wall's {mode} frame benchmark failed: {out.stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def wall_rows(city_dir: Path, repeat: int = 1) -> list[tuple[str, str, str, str]]:
    """The wall's rows: (figure, measured, budget, ratio)."""
    rows: list[tuple[str, str, str, str]] = []
    for size in SIZES:
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "live": [], "anchor": []}
        for _ in range(max(1, repeat)):
            for mode in runs:
                runs[mode].append(_run(mode, size, city_dir))

        def median(mode: str, key: str) -> float:
            return statistics.median(r[key] for r in runs[mode])  # noqa: B023

        first = runs["ours"][0]
        if not rows:
            rows.append(("wall: GL renderer of these figures", first["renderer"], "—", "—"))
        label = (f"{size[0]}x{size[1]}, {first['proposals']} proposals, {first['interventions']} interventions, "
                 f"{first['votes']:,} votes")
        for mode, words in (("ours", "unchanged board"), ("live", "a new board every 10th frame")):
            p50, p95 = median(mode, "p50_ms"), median(mode, "p95_ms")
            rows.append((f"wall: frame time, {words} ({label})", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                         f"< {BUDGET_MS:.1f} ms (60 fps)", f"p95 at {p95 / BUDGET_MS:.2f}× the budget"))
        a50, a95 = median("anchor", "p50_ms"), median("anchor", "p95_ms")
        ours50 = median("ours", "p50_ms")
        rows.append((f"wall: frame time, anchor: every shape by arcade.draw_polygon_filled ({size[0]}x{size[1]})",
                     f"p50 {a50:.1f} ms, p95 {a95:.1f} ms", "(anchor)",
                     f"ours {a50 / ours50:.0f}× faster (p50); anchor at {a50 / BUDGET_MS:.1f}× the budget"))
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        width, height = (int(v) for v in sys.argv[3].split("x"))
        print(json.dumps(measure(sys.argv[2], (width, height), Path(sys.argv[4]))))
        sys.exit(0)
    package = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "helsinki"
    for row in wall_rows(package):
        print("  ".join(row))
