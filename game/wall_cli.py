"""``civictwin wall``: the facilitator's wall on a projector, or offscreen for tests and
screenshots. The window joins a running workshop server; see :mod:`game.wall.window`."""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from game._args import bounded, lang_problem, usage_error, window_size

__all__ = ["add_wall_command", "join_base"]

_window_size = window_size(640, 360)
_seconds = bounded("run time", "a number of seconds", 0.1, 7 * 24 * 3600.0)
_PHASES = ("lobby", "explore", "propose", "vote", "reveal", "closed")
#: How long the wall waits for the server's answer before opening anyway (and saying it is away).
_JOIN_WAIT_S = 8.0


def join_base(server: str, public_url: str | None) -> str:
    """The base of the phones' join link: ``public_url``, else the websocket URL's host
    over HTTP(S).

    >>> join_base("ws://192.168.1.20:8765/ws", None), join_base("wss://w.example.org/ws", None)
    ('http://192.168.1.20:8765', 'https://w.example.org')
    """
    if public_url:
        return public_url.rstrip("/")
    parts = urlsplit(server)
    return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"


def add_wall_command(sub: Any) -> None:
    """Add ``wall`` to the subparsers ``sub``."""
    wall = sub.add_parser(
        "wall", help="the facilitator's wall: map, timer, QR code, live tallies and ranking",
        description="Open the wall for a projector on a running workshop: the map of the area with every "
                    "proposal in its table's colour and the consensus of the votes, the phase and a large "
                    "timer, the QR code phones join with, live tallies and the ranking of proposals with "
                    "their KPI changes. With the facilitator token it also shows the controls (keys N next "
                    "phase, + and - a minute more or less, L lock, R reveal, Q next question), each shown "
                    "done only once the server has stored it; with the view token it only watches. It "
                    "reconnects by itself and says so while the server is away.")
    wall.add_argument("--server", required=True, metavar="ws://HOST:PORT/ws",
                      help="the workshop server's websocket URL")
    wall.add_argument("--workshop", required=True, metavar="CODE", help="the workshop's join code")
    wall.add_argument("--token", required=True, metavar="TOKEN",
                      help="the facilitator token (controls shown) or the view token (watch only)")
    wall.add_argument("--fullscreen", action="store_true", help="fill the screen (F11 or Esc toggles)")
    wall.add_argument("--city", metavar="CITY_DIR",
                      help="the city package for the map (default: build/<city> of the workshop's scenario)")
    wall.add_argument("--public-url", metavar="URL",
                      help="the base URL phones use, when it is not the server's (a proxy, another interface)")
    wall.add_argument("--lang", default="en", help="the language of the questions and titles (default en)")
    wall.add_argument("--size", type=_window_size, default=(1280, 720), metavar="WxH",
                      help="window size (default 1280x720; --fullscreen takes the screen's)")
    wall.add_argument("--offscreen", action="store_true",
                      help="draw offscreen (no display needed: Mesa EGL), for tests and screenshots")
    wall.add_argument("--screenshots", metavar="DIR",
                      help="write DIR/wall-<phase>.png at each phase's first frame, wall-away.png when the "
                           "server goes away and wall-final.png on exit")
    wall.add_argument("--state-out", metavar="FILE.json",
                      help="keep FILE.json up to date with what the wall shows (counts, tallies, ranking, "
                           "whether the server is there)")
    wall.add_argument("--until", choices=_PHASES, metavar="PHASE",
                      help=f"exit once the workshop reaches this phase ({', '.join(_PHASES)})")
    wall.add_argument("--seconds", type=_seconds, metavar="S", help="exit after this many seconds")
    wall.set_defaults(run=_cmd_wall)


def _check(args: argparse.Namespace) -> str | None:
    """A usage problem argparse cannot see, as a sentence, or None."""
    if not re.match(r"^wss?://[^/\s]+", args.server):
        return f"--server {args.server!r} is not a websocket URL such as ws://127.0.0.1:8765/ws."
    if args.public_url is not None and not re.match(r"^https?://[^/\s]+", args.public_url):
        return f"--public-url {args.public_url!r} is not a web address such as http://192.168.1.20:8765."
    if (problem := lang_problem(args.lang)) is not None:
        return problem
    if args.offscreen and args.fullscreen:
        return "--offscreen and --fullscreen exclude each other."
    if args.city is not None and not Path(args.city).is_dir():
        return f"--city {args.city}: there is no such folder."
    return None


def _cmd_wall(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem is not None:
        return usage_error("wall", problem)
    if args.offscreen:
        os.environ["ARCADE_HEADLESS"] = "1"  # before arcade is imported
    # The client logs each refusal and reconnection; the wall says them on screen and in one
    # sentence on exit, so they stay out of the terminal.
    logging.getLogger("multiplayer").addHandler(logging.NullHandler())
    from datetime import UTC, datetime

    from game.wall.basemap import find_city, load_basemap
    from game.wall.board import board_from_state
    from game.wall.live import LiveFeed
    from multiplayer._http import join_url
    from multiplayer.errors import MultiplayerError

    feed = LiveFeed(args.server, args.workshop, args.token, lambda state: board_from_state(state, datetime.now(UTC)),
                    lang=args.lang)
    try:
        if not feed.wait_joined(_JOIN_WAIT_S) and feed.fatal is not None:
            raise MultiplayerError(feed.fatal)
        city = Path(args.city) if args.city else None

        def basemap_for(state: dict[str, Any]) -> Any:
            found = city or find_city(str(state.get("scenario", "")))
            return load_basemap(found, state.get("area_m") or (0.0, 0.0, 1.0, 1.0))

        from game.wall.window import WallOptions, WallWindow

        options = WallOptions(size=args.size, fullscreen=args.fullscreen, offscreen=args.offscreen, lang=args.lang,
                              join_url=join_url(join_base(args.server, args.public_url), args.workshop),
                              screenshots=Path(args.screenshots) if args.screenshots else None,
                              state_out=Path(args.state_out) if args.state_out else None,
                              until=args.until, seconds=args.seconds)
        window = WallWindow(options, feed, basemap_for)
        reason = window.run_offscreen() if args.offscreen else window.run_window()
        if reason == "fatal":
            raise MultiplayerError(feed.fatal or "the server refused this wall.")
    finally:
        feed.close()
    role = "facilitator" if feed.role == "facilitator" else "watch-only wall"
    print(f"The {role} of workshop {args.workshop.upper()} stopped ({reason}).")
    return 0
