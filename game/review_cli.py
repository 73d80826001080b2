"""``civictwin review``: the planner's look back at a finished workshop, from its database.

The same map and panels as the wall, over the workshop's event log: step through the
moments (the end of each round) and the questions, filter the proposals, open one,
compare two, export. ``--offscreen --screenshot F`` draws one frame of the view the
other flags describe and exits (no display needed: Mesa EGL).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from game._args import lang_problem, usage_error, window_size

__all__ = ["add_review_command"]

_window_size = window_size(640, 400)


def _pair(text: str) -> tuple[str, str]:
    """``P1,P2`` → ("P1", "P2"): two different proposal ids."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not two proposal ids such as P1,P2")
    if parts[0].upper() == parts[1].upper():
        raise argparse.ArgumentTypeError(f"compare two different proposals, not {parts[0]} with itself")
    return parts[0].upper(), parts[1].upper()


def add_review_command(sub: Any) -> None:
    """Add ``review`` to the subparsers ``sub``."""
    review = sub.add_parser(
        "review", help="look back at a finished workshop: rounds, questions, proposals, comparisons, export",
        description="Open a workshop's database for planners: the wall's map and panels at the end of each "
                    "round (← →), each question's tally (Q, ↑ ↓), the proposals filtered by text (/), one "
                    "opened with its interventions, KPIs and votes (click or 1–9), two side by side (tick "
                    "two, C), and the exports (E).")
    review.add_argument("--db", required=True, metavar="FILE", help="the workshop database (civictwin serve --db)")
    review.add_argument("--workshop", required=True, metavar="CODE", help="the workshop's join code")
    review.add_argument("--city", metavar="CITY_DIR",
                        help="the city package for the basemap (default: build/<the scenario's city> when "
                             "built; without one only the area and the proposals are drawn)")
    review.add_argument("--lang", default="en", help="language of titles, questions and KPI names (default en)")
    review.add_argument("--size", type=_window_size, default=(1600, 900), metavar="WxH",
                        help="window size (default 1600x900)")
    review.add_argument("--fullscreen", action="store_true", help="open fullscreen")
    review.add_argument("--offscreen", action="store_true",
                        help="draw one frame offscreen (no display needed) and exit; needs --screenshot")
    review.add_argument("--screenshot", metavar="FILE.png", help="with --offscreen: where to write the frame")
    review.add_argument("--moment", type=int, metavar="N",
                        help="start at moment N: 0 is the end of the lobby, -1 (the default) the end")
    review.add_argument("--question", metavar="ID", help="start on this question's tally")
    review.add_argument("--filter", default="", metavar="TEXT", help="start with this filter")
    review.add_argument("--open", metavar="P1", help="start with this proposal opened")
    review.add_argument("--compare", type=_pair, metavar="P1,P2", help="start comparing these two proposals")
    review.add_argument("--export", metavar="DIR",
                        help="where E writes the exports (default ./review-export-<code>)")
    review.set_defaults(run=_cmd_review)


def _check(args: argparse.Namespace) -> str | None:
    """A usage problem argparse cannot see, as a sentence, or None."""
    if args.offscreen and not args.screenshot:
        return "--offscreen needs --screenshot: with no window, the frame must go to a file."
    if args.screenshot and not args.offscreen:
        return "--screenshot goes with --offscreen (in a window, press E to export instead)."
    if args.open and args.compare:
        return "--open and --compare show different panels: give one of them."
    if args.offscreen and args.fullscreen:
        return "--offscreen and --fullscreen do not go together."
    if (problem := lang_problem(args.lang)) is not None:
        return problem
    return None


def _cmd_review(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem is not None:
        return usage_error("review", problem)
    if args.offscreen:
        os.environ["ARCADE_HEADLESS"] = "1"  # before arcade is first imported
    from game.wall.basemap import find_city, load_basemap
    from game.wall.review import ReviewModel
    from multiplayer.errors import MultiplayerError

    model = ReviewModel.open_db(Path(args.db), args.workshop, lang=args.lang)
    if args.moment is not None:
        model.moment = args.moment
    if args.question is not None:
        model.question = args.question
    model.set_filter(args.filter)
    from game.wall.review_window import ReviewView

    view = ReviewView()
    if args.open:
        view.mode, view.opened = "detail", model.open(args.open.upper()).id
    if args.compare:
        model.compare(*args.compare)
        view.mode, view.selected = "compare", list(args.compare)
    scenario = str(model.replay.data.spec.get("scenario") or model.replay.data.workshop.get("scenario") or "")
    city = Path(args.city) if args.city else find_city(scenario)
    if args.city and not Path(args.city).is_dir():
        raise MultiplayerError(f"there is no city package folder {args.city}.")
    basemap = load_basemap(city, model.board().area_m)
    export_dir = Path(args.export) if args.export else None
    if args.offscreen:
        from game.wall.review_window import render_screenshot

        out = render_screenshot(model, basemap, args.size, Path(args.screenshot), view=view)
        print(f"Wrote {out} ({model.moments[model.moment].label}, {view.mode}).")
        return 0
    import arcade

    from game.wall.review_window import ReviewWindow

    try:
        ReviewWindow(model, basemap, args.size, view=view, export_dir=export_dir, fullscreen=args.fullscreen)
    except Exception as exc:  # pyglet: no display to open a window on
        if type(exc).__name__ not in ("NoSuchDisplayException", "NoSuchConfigException"):
            raise
        raise MultiplayerError("there is no display to open the review window on; "
                               "use --offscreen --screenshot FILE.png.") from None
    arcade.run()
    return 0
