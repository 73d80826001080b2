"""``civictwin workshop live``: a workshop ready to run on this machine, with windows.

A fresh workshop in a new database, the server on all interfaces (phones on the local
network join by the QR code the wall shows), the wall in a window joined with the
facilitator token (its controls run the workshop) and a kiosk in another window. It waits
until the wall closes (the facilitator closed the workshop, or closed the window), then
stops the kiosk and the server and builds the planner's report. This is what ``make run``
runs on a machine with a display; :mod:`game.workshop_demo` is the run without one.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from game.workshop_demo import ServerThread, await_ack, civictwin_command, tail
from multiplayer._http import join_url
from multiplayer.admin import create_workshop
from multiplayer.client import Client
from multiplayer.errors import MultiplayerError

__all__ = ["LiveOptions", "run_live"]

_STOP_S = 15.0


@dataclass(frozen=True)
class LiveOptions:
    """Where the live workshop runs: ``host``/``port`` of the server (0.0.0.0 lets phones in),
    ``public_url`` the base URL phones use (default: this machine's LAN address and the
    port), ``fullscreen`` a wall and a kiosk each filling their screen (the kiosk then in
    public kiosk mode: attract loop, consent, idle reset)."""

    host: str = "0.0.0.0"
    port: int = 8765
    public_url: str | None = None
    lan_address: str = "127.0.0.1"
    fullscreen: bool = False
    lang: str = "en"


def _public_url(options: LiveOptions, port: int) -> str:
    """The base URL phones open: the given one, else this machine's address on the network."""
    if options.public_url:
        return options.public_url
    host = options.lan_address if options.host in ("0.0.0.0", "::") else options.host
    return f"http://{host}:{port}"


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """Ask a window's process to close (SIGTERM), kill it if it will not."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(_STOP_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(_STOP_S)


def _watch(wall: subprocess.Popen[bytes], kiosk: subprocess.Popen[bytes], kiosk_log: Path,
           say: Callable[[str], None]) -> int:
    """Wait for the wall to close; say so once if the kiosk stops on its own meanwhile
    (the workshop goes on with phones). The wall's exit status."""
    told = False
    while wall.poll() is None:
        if not told and kiosk.poll() is not None:
            told = True
            say(f"The kiosk closed (status {kiosk.returncode}): {tail(kiosk_log)}")
        time.sleep(0.2)
    return wall.returncode


def run_live(db: Path, city: Path, report: Path, options: LiveOptions = LiveOptions(), *,
             say: Callable[[str], None] = print) -> Path:
    """Run a workshop with a wall and a kiosk window until the wall closes; the report's index.html."""
    created = create_workshop(db, "helsinki-centre", city=city)
    server = ServerThread(db, host=options.host, port=options.port)
    url = server.start()
    public = _public_url(options, server.port)
    say(f"Workshop {created.code} created in {db}; phones join at {join_url(public, created.code)}")
    logs = db.parent
    wall: subprocess.Popen[bytes] | None = None
    kiosk: subprocess.Popen[bytes] | None = None
    facilitator = Client(url, created.code, "facilitator", token=created.facilitator_token).start()
    try:
        token = await_ack(facilitator, facilitator.send("add_kiosk", name="kiosk 1"), "new kiosk")["token"]
        wall_log, kiosk_log = logs / "workshop-live-wall.log", logs / "workshop-live-kiosk.log"
        with wall_log.open("wb") as log:
            wall = subprocess.Popen(civictwin_command(
                "wall", "--server", url, "--workshop", created.code, f"--token={created.facilitator_token}",
                "--city", str(city), "--public-url", public, "--lang", options.lang, "--until", "closed",
                *(["--fullscreen"] if options.fullscreen else [])), stdout=log, stderr=subprocess.STDOUT)
        with kiosk_log.open("wb") as log:
            kiosk = subprocess.Popen(civictwin_command(
                "play", str(city), "--server", url, "--workshop", created.code, f"--token={token}",
                "--outbox", str(db.with_name(db.stem + "-kiosk-outbox.sqlite")),
                *(["--kiosk"] if options.fullscreen else [])), stdout=log, stderr=subprocess.STDOUT)
        say("The wall and a kiosk are open. Run the workshop from the wall (N: next phase, R: reveal); "
            "close the workshop or the wall window to finish and build the report. Ctrl+C stops it too.")
        try:
            status = _watch(wall, kiosk, kiosk_log, say)
        except KeyboardInterrupt:
            say("Stopping…")
            status = 0
        if status != 0:
            raise MultiplayerError(f"the wall stopped with status {status}: {tail(wall_log)}")
    finally:
        _stop(kiosk)
        _stop(wall)
        facilitator.close()
        server.stop()
    from game.report.build import build_report

    built = build_report(db, created.code, report, city=city)
    say(f"Report: {built.index}")
    return built.index
