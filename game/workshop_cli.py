"""The workshop subcommands of ``civictwin``: ``workshop create``, ``serve``, ``export``
and ``backup``. Their modules are imported lazily, as in :mod:`game.cli`."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Any

from game._args import bounded

__all__ = ["add_workshop_commands"]


def _cmd_workshop_create(args: argparse.Namespace) -> int:
    from multiplayer.admin import create_workshop

    created = create_workshop(Path(args.db), args.scenario, city=Path(args.city) if args.city else None)
    if args.json:
        print(json.dumps(created.to_json()))
        return 0
    print(f"Workshop {created.code} ({created.scenario}) created in {args.db}.")
    print(f"Facilitator token (keep it; it is shown only now): {created.facilitator_token}")
    print(f"View token for a wall that only watches:           {created.view_token}")
    print(f"Serve it with: civictwin serve --db {args.db}")
    return 0


def _cmd_workshop_demo(args: argparse.Namespace) -> int:
    from game.workshop_demo import run_demo

    db, out = Path(args.db), Path(args.out)
    if db.exists():
        from multiplayer.errors import MultiplayerError
        raise MultiplayerError(f"{db} already exists; the demo writes a fresh database, so name a new file.")
    db.parent.mkdir(parents=True, exist_ok=True)
    if args.kiosk_script and not args.city:
        print("civictwin workshop demo: error: --kiosk-script needs --city (the kiosk walks a city package).",
              file=sys.stderr)
        return 2
    run_demo(db, out, city=Path(args.city) if args.city else None, phones=args.phones,
             kiosk_scripts=[Path(s) for s in args.kiosk_script or ()], kiosk_screenshots=Path(args.kiosk_screenshots),
             wall=Path(args.wall) if args.wall else None, report=Path(args.report) if args.report else None)
    return 0


def _cmd_workshop_live(args: argparse.Namespace) -> int:
    import os

    from game.workshop_live import LiveOptions, run_live
    from multiplayer.errors import MultiplayerError

    db = Path(args.db)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise MultiplayerError("workshop live opens the wall and a kiosk in windows, and there is no display here; "
                               "`civictwin workshop demo` runs a workshop headless.")
    if db.exists():
        raise MultiplayerError(f"{db} already exists; a live run starts a fresh database, so name a new file.")
    db.parent.mkdir(parents=True, exist_ok=True)
    options = LiveOptions(host=args.host, port=args.port, public_url=args.public_url, lan_address=_lan_address(),
                          fullscreen=args.fullscreen, lang=args.lang)
    run_live(db, Path(args.city), Path(args.report), options)
    return 0


def _cmd_workshop_list(args: argparse.Namespace) -> int:
    from multiplayer.store import Store

    store = Store(Path(args.db), create=False)
    try:
        rows = [{"workshop": code, **_workshop_summary(store, code)} for code in store.workshop_codes()]
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print(f"{args.db} holds no workshops yet.")
    for row in rows if not args.json else []:
        print(f"{row['workshop']}  {row['scenario']:<20} created {row['created_at']}  {row['events']} events")
    return 0


def _workshop_summary(store: Any, code: str) -> dict[str, Any]:
    (row,) = store.rows("workshops", code)
    return {"scenario": row["scenario"], "created_at": row["created_at"], "events": len(store.events(code))}


def _lan_address() -> str:
    """This machine's address on the local network (no packet is sent), for join links
    when serving on all interfaces."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, nothing is sent
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _cmd_serve(args: argparse.Namespace) -> int:
    import segno

    from multiplayer._http import join_url
    from multiplayer.server import ServerOptions, run
    from multiplayer.store import Store

    db = Path(args.db)
    store = Store(db, create=False)
    codes = store.workshop_codes()
    store.close()

    def ready(host: str, port: int) -> None:
        shown = args.public_url or f"http://{_lan_address() if host in ('0.0.0.0', '::') else host}:{port}"
        print(f"Serving {len(codes)} workshop(s) from {db} on http://{host}:{port} "
              f"(websocket at /ws, health at /healthz). Stop with Ctrl+C.", flush=True)
        for code in codes:
            url = join_url(shown, code)
            print(f"\nWorkshop {code}: phones join at {url}")
            if not args.no_qr:
                segno.make(url, error="m").terminal(out=sys.stdout, compact=True, border=2)
        sys.stdout.flush()

    options = ServerOptions(rate_per_s=args.rate, burst=max(1, int(args.rate * 3)),
                            extra_origins=tuple(args.origin or ()), backups=not args.no_backups)
    try:
        run(db, args.host, args.port, options=options, on_ready=ready)
    except OSError as exc:
        from multiplayer.errors import MultiplayerError
        raise MultiplayerError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}.") from None
    print("Server stopped; every acknowledged message is on disk.", flush=True)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from multiplayer.export import export
    from multiplayer.store import Store

    store = Store(Path(args.db), create=False, needs_key=False)  # exporting checks no token
    try:
        written = export(store, args.workshop.upper(), Path(args.out))
    finally:
        store.close()
    for path in written.values():
        print(f"Wrote {path}")
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    from multiplayer.store import Store

    store = Store(Path(args.db), create=False)
    try:
        path = store.backup(Path(args.out) if args.out else None, label="manual")
    finally:
        store.close()
    print(f"Backed up {args.db} to {path}")
    return 0


_port = bounded("port", "a port number", 0, 65535, integer=True)
_rate = bounded("rate", "a number of messages per second", 0.1, 100_000)
_phones = bounded("number of phones", "a number of phones", 1, 200, integer=True)


def add_workshop_commands(sub: Any) -> None:
    """Add ``workshop``, ``serve``, ``export`` and ``backup`` to the subparsers ``sub``."""
    workshop = sub.add_parser("workshop", help="create and list workshops in a database",
                              description="Manage the workshops of a workshop database (SQLite).")
    wsub = workshop.add_subparsers(dest="workshop_command", metavar="ACTION", required=True)
    create = wsub.add_parser(
        "create", help="create a workshop and print its join code and tokens",
        description="Create a workshop for a scenario (its area, interventions, questions and round "
                    "lengths) in a database, created if missing. Prints the join code, the facilitator "
                    "token and a view token; tokens are stored only as keyed hashes.")
    create.add_argument("--db", required=True, metavar="FILE", help="the workshop database (SQLite)")
    create.add_argument("--scenario", required=True, metavar="NAME",
                        help="a scenario name from content/scenarios or a .toml file")
    create.add_argument("--city", metavar="CITY_DIR",
                        help="the city package the kiosks use (its local frame); default: the scenario's area")
    create.add_argument("--json", action="store_true",
                        help='print {"workshop": code, "facilitator_token": …, "view_token": …}')
    create.set_defaults(run=_cmd_workshop_create)
    demo = wsub.add_parser(
        "demo", help="run a small scripted workshop on this machine, export it and report on it",
        description="Create a workshop in a new database, start a server on a free loopback port, and run "
                    "a facilitator, a kiosk (with its outbox) and phones through propose, vote, reveal and "
                    "close; then export it. With --city, the kiosk's proposals carry simulated KPI deltas; "
                    "--wall, --kiosk-script and --report add the wall, a real kiosk and the report.")
    demo.add_argument("--db", required=True, metavar="FILE", help="a new workshop database to write")
    demo.add_argument("--out", required=True, metavar="DIR", help="where to export the workshop")
    demo.add_argument("--city", metavar="CITY_DIR", help="the city package (for the proposals' KPIs)")
    demo.add_argument("--phones", type=_phones, default=20, metavar="N",
                      help="phones voting (1-200, default 20)")
    demo.add_argument("--kiosk-script", action="append", metavar="FILE.json",
                      help="also run a kiosk (civictwin play --kiosk, offscreen) joined to the workshop, playing "
                           "this script; repeat to play several one after another (the attract tour, a visit)")
    demo.add_argument("--kiosk-screenshots", default="build/kiosk", metavar="DIR",
                      help="where that kiosk writes its screenshots and report.json (default build/kiosk)")
    demo.add_argument("--wall", metavar="DIR",
                      help="also run the wall offscreen; it writes wall-<phase>.png for each phase here")
    demo.add_argument("--report", metavar="DIR", help="build the planner's report (index.html) here at the end")
    demo.set_defaults(run=_cmd_workshop_demo)
    live = wsub.add_parser(
        "live", help="run a workshop here with the wall and a kiosk in windows, then build its report",
        description="Create a workshop in a new database, serve it (phones on the local network join by the "
                    "QR code on the wall), open the wall with the facilitator's controls and a kiosk, wait until "
                    "the wall closes, then build the planner's report. Needs a display.")
    live.add_argument("--db", required=True, metavar="FILE", help="a new workshop database to write")
    live.add_argument("--city", required=True, metavar="CITY_DIR", help="the city package the kiosk and wall show")
    live.add_argument("--report", required=True, metavar="DIR", help="where to build the report at the end")
    live.add_argument("--host", default="0.0.0.0", help="interface to serve on (default 0.0.0.0: the local network)")
    live.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    live.add_argument("--public-url", metavar="URL", help="the base URL phones use, when behind a proxy")
    live.add_argument("--fullscreen", action="store_true",
                      help="the wall and the kiosk fullscreen, the kiosk in public kiosk mode (two screens)")
    live.add_argument("--lang", default="en", help="the wall's language (default en)")
    live.set_defaults(run=_cmd_workshop_live)
    listing = wsub.add_parser("list", help="list the workshops in a database",
                              description="List the workshops of a database with their scenario and size.")
    listing.add_argument("--db", required=True, metavar="FILE")
    listing.add_argument("--json", action="store_true", help="print one JSON list")
    listing.set_defaults(run=_cmd_workshop_list)

    serve = sub.add_parser(
        "serve", help="run the workshop server (websocket, phone page, health)",
        description="Serve every workshop in a database: the websocket protocol at /ws, the phone page at "
                    "/, /healthz and /qr/<code>.svg. Prints each workshop's join link and a QR code. "
                    "SIGTERM or Ctrl+C closes connections with 1001 after committing what is queued.")
    serve.add_argument("--db", required=True, metavar="FILE")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; "
                                                           "0.0.0.0 for phones on the local network)")
    serve.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    serve.add_argument("--public-url", metavar="URL", help="the base URL phones use, when behind a proxy")
    serve.add_argument("--origin", action="append", metavar="URL",
                       help="another browser origin allowed to connect (repeatable)")
    serve.add_argument("--rate", type=_rate, default=10.0,
                       help="messages per second allowed per phone (kiosks get 20x; default 10)")
    serve.add_argument("--no-qr", action="store_true", help="do not print QR codes")
    serve.add_argument("--no-backups", action="store_true", help="no backup on phase changes")
    serve.set_defaults(run=_cmd_serve)

    export = sub.add_parser(
        "export", help="export a workshop: CSV, GeoJSON, JSON lines, a JSON bundle",
        description="Write votes.csv, proposals.csv, interventions.geojson (RFC 7946, WGS84), events.jsonl "
                    "(anonymised) and bundle.json for one workshop.")
    export.add_argument("--db", required=True, metavar="FILE")
    export.add_argument("--workshop", required=True, metavar="CODE")
    export.add_argument("--out", required=True, metavar="DIR")
    export.set_defaults(run=_cmd_export)

    backup = sub.add_parser(
        "backup", help="copy a workshop database safely while it is in use",
        description="Copy a workshop database with SQLite's online backup API (safe while the server "
                    "runs). Default destination: <db>.backups/<time>-manual.sqlite.")
    backup.add_argument("--db", required=True, metavar="FILE")
    backup.add_argument("--out", metavar="FILE", help="the backup file to write")
    backup.set_defaults(run=_cmd_backup)
