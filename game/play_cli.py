"""``civictwin play``: the kiosk, in a window, fullscreen for a public kiosk, or offscreen
driven by a script (tests, screenshots, ``make run`` on a machine with no display)."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from game._args import bounded, lang_problem, usage_error, window_size

__all__ = ["add_play_command"]

_window_size = window_size(320, 240)
_idle = bounded("idle time", "a number of seconds", 10.0, 3600.0)




def add_play_command(sub: Any) -> None:
    play = sub.add_parser(
        "play", help="the kiosk: walk a city package in 3D, place interventions, propose and vote",
        description="Open the kiosk on a city package. Without --server it works alone and keeps "
                    "proposals and votes in its outbox; with --server, --workshop and --token it joins "
                    "a workshop and sends them there (queued in the outbox while offline).")
    play.add_argument("city", metavar="CITY_DIR", help="a city package built by `civictwin build-city`")
    play.add_argument("--scenario", help="scenario name or .toml file (default: the one covering the city)")
    play.add_argument("--server", metavar="ws://HOST:PORT/ws", help="the workshop server's websocket URL")
    play.add_argument("--workshop", metavar="CODE", help="the workshop's join code")
    play.add_argument("--token", metavar="KIOSK_TOKEN", help="this kiosk's token (from the facilitator)")
    play.add_argument("--kiosk", action="store_true",
                      help="public kiosk mode: fullscreen, attract loop, consent, idle reset")
    play.add_argument("--lang", default="en", help="the starting language: en, fi, sv, nl, fr or de (default en)")
    play.add_argument("--idle", type=_idle, default=90.0, metavar="SECONDS",
                      help="kiosk mode: start over after this many idle seconds (default 90)")
    play.add_argument("--offscreen", action="store_true",
                      help="render offscreen (no display needed: Mesa EGL); needs --script")
    play.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH",
                      help="window size (default 1280x720)")
    play.add_argument("--script", metavar="FILE.json",
                      help='run these steps and exit, e.g. [{"do": "goto", "x": 0, "y": 0}, {"do": "place", '
                           '"catalog": "tree-medium", "x": 3, "y": 1}, {"do": "screenshot", "name": "a"}]')
    play.add_argument("--screenshots", metavar="DIR", help="write the script's screenshots and report.json here")
    play.add_argument("--outbox", metavar="FILE.sqlite",
                      help="where the kiosk keeps what it has not yet delivered "
                           "(default: $XDG_STATE_HOME/civictwin/kiosk-outbox.sqlite)")
    play.set_defaults(run=_cmd_play)


def _check(args: argparse.Namespace) -> str | None:
    """A usage problem argparse cannot see, as a sentence, or None."""
    linked = [args.server, args.workshop, args.token]
    if any(v is not None for v in linked) and not all(v is not None for v in linked):
        return "--server, --workshop and --token go together: give all three or none."
    if args.server is not None and not re.match(r"^wss?://[^/\s]+", args.server):
        return f"--server {args.server!r} is not a websocket URL such as ws://127.0.0.1:8765/ws."
    if args.offscreen and args.script is None:
        return "--offscreen needs --script: with no window, only a script can drive the kiosk."
    if args.screenshots is not None and args.script is None:
        return "--screenshots needs --script: the screenshots are the script's."
    if (problem := lang_problem(args.lang)) is not None:
        return problem
    return None


def _cmd_play(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    problem = _check(args)
    if problem is not None:
        return usage_error("play", problem)
    from game.kiosk.errors import KioskError
    from game.kiosk.i18n import UI_LANGUAGES

    if args.lang not in UI_LANGUAGES:
        print(f"civictwin play: error: --lang {args.lang!r}: the kiosk speaks {', '.join(UI_LANGUAGES)}.",
              file=sys.stderr)
        return 2
    try:
        return _play(args, started)
    except KioskError as exc:
        print(f"civictwin: error: {exc}", file=sys.stderr)
        return 1


def _play(args: argparse.Namespace, started: float) -> int:
    from game.kiosk.app import KioskApp, PlayOptions
    from game.kiosk.runner import ScriptRunner
    from game.kiosk.script import load_script
    from game.simulate import find_scenario
    from world.package import read_metadata

    city = Path(args.city)
    read_metadata(city)  # a clear error for a folder that is not a city package
    steps = load_script(Path(args.script)) if args.script else None
    scenario = find_scenario(city, args.scenario)
    screenshots = Path(args.screenshots) if args.screenshots else None
    outbox = Path(args.outbox) if args.outbox else None
    options = PlayOptions(city=city, scenario=args.scenario, server=args.server, workshop=args.workshop,
                          token=args.token, kiosk=args.kiosk, lang=args.lang, offscreen=args.offscreen,
                          size=args.size, script=Path(args.script) if args.script else None,
                          screenshots=screenshots, idle_s=args.idle, outbox=outbox, started=started)
    app = KioskApp(options, scenario, steps)
    try:
        if steps is None:
            app.run()
            return 0
        report = ScriptRunner(app, steps, screenshots).run()
        from game.kiosk._app_sink import flush_sink

        flush_sink(app.sink, 5.0)
    finally:
        app.close()
    refused = sum(1 for s in report["steps"] if not s["accepted"])
    frames = report["frames"]
    print(f"Ran {len(report['steps'])} steps ({refused} refused) on {frames['renderer']}: first frame "
          f"{frames['first_frame_s']:.2f} s, interactive {frames['interactive_s']:.2f} s, "
          f"simulations ready {frames['sims_ready_s']:.2f} s, {frames['frame_ms_mean']:.1f} ms a frame.")
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
        (screenshots / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
        print(f"Wrote {len(report['screenshots'])} screenshots and report.json to {screenshots}")
    else:
        print(json.dumps(report, ensure_ascii=False))
    return 0
