"""``civictwin report``: a workshop's report as a web page a planner can open, print or send on.

``civictwin report --db FILE --workshop CODE --out DIR [--city CITY_DIR]`` writes
``DIR/index.html`` (self-contained: no request to any server) and the five export files
next to it. Imports nothing graphical: it runs on a headless server.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_report_command"]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _cmd_report(args: argparse.Namespace) -> int:
    from game.report.build import build_report

    report = build_report(Path(args.db), args.workshop, Path(args.out),
                          city=Path(args.city) if args.city else None)
    counts = report.counts
    words = [_n(counts["participants"], "phone"), _n(counts["kiosk_sessions"], "kiosk visit"),
             _n(counts["proposals"], "proposal"), _n(counts["votes"], "vote")]
    print(f"Report of workshop {args.workshop}: {', '.join(words)}.")
    print(f"Open {report.index} in a browser; the data files are next to it:")
    for name, path in report.files.items():
        if name != "index.html":
            print(f"  {path}")
    return 0


def add_report_command(sub: Any) -> None:
    """Add ``report`` to the subparsers ``sub``."""
    report = sub.add_parser(
        "report", help="write a workshop's report: one self-contained web page plus CSV, GeoJSON and JSON",
        description="Read a workshop from its database and write DIR/index.html, a self-contained page (no "
                    "network requests, printable on A4) with the summary, participation over time, the answers "
                    "to each question, the proposals ranked with their simulated effects, maps of the proposals "
                    "and of the consensus, the questions in every language used, the method and the data "
                    "attribution; and next to it the exports: votes.csv, proposals.csv, interventions.geojson "
                    "(RFC 7946, WGS84), events.jsonl (anonymised) and bundle.json.")
    report.add_argument("--db", required=True, metavar="FILE", help="the workshop database (civictwin serve --db)")
    report.add_argument("--workshop", required=True, metavar="CODE", help="the workshop's join code")
    report.add_argument("--out", required=True, metavar="DIR", help="the folder to write (made if missing)")
    report.add_argument("--city", metavar="CITY_DIR",
                        help="the city package for the maps' basemap (default: build/<the scenario's city> when "
                             "built; without one the maps show only the area and the proposals)")
    report.set_defaults(run=_cmd_report)
