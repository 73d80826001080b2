"""``civictwin workshop demo``: a whole small workshop on this machine, start to report.

A real server on a loopback port, the facilitator, a kiosk client (with its outbox on
disk) and a number of phones, all through the protocol, through every phase with short
timers: the kiosk proposes (with the simulated KPI deltas of its interventions when a city
package is given), the phones and the kiosk vote, the facilitator reveals and closes, and
the workshop is exported. Optionally the wall watches, rendered offscreen, and draws each
phase; a real kiosk (``civictwin play``, offscreen) joins during the propose round and
plays scripts (the attract tour, then a visit); and the report is built at the end. It
shows a new user every part working together, and is what ``make run`` runs when there
is no display (:mod:`game.workshop_live` is the run with windows).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from multiplayer.admin import create_workshop
from multiplayer.client import Client
from multiplayer.errors import MultiplayerError
from multiplayer.export import export
from multiplayer.server import ServerOptions, WorkshopServer
from multiplayer.store import Store

__all__ = ["ServerThread", "await_ack", "civictwin_command", "run_demo", "tail"]

EXAMPLE = Path(__file__).resolve().parent.parent / "content" / "scenarios" / "helsinki-centre.example.json"
_WAIT_S = 60.0
#: The demo's round timers, seconds: shorter than the scenario's, yet long enough for the
#: kiosk's tour and visit on a slow machine (a round whose timer runs out locks).
_TIMERS_S = {"explore": 60, "propose": 300, "vote": 120}


class ServerThread:
    """The workshop server on its own event loop in a thread, on a free port of ``host``."""

    def __init__(self, db: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.host = host
        self.port = port
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(db,), name="workshop-server", daemon=True)

    def _run(self, db: Path) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()

            def ready(server: Any) -> None:
                self.port = next(iter(server.sockets)).getsockname()[1]
                self._ready.set()
            await WorkshopServer(db, ServerOptions(backups=True)).serve(self.host, self.port, ready=ready,
                                                                         stop=self._stop)
        try:
            asyncio.run(main())
        except BaseException as exc:
            self.failure = exc
            self._ready.set()

    def start(self) -> str:
        """Start serving; the websocket URL on this machine."""
        self._thread.start()
        self._ready.wait(_WAIT_S)
        if self.failure is not None or not self.port:
            raise MultiplayerError(f"the workshop server did not start: {self.failure}.")
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(_WAIT_S)


def await_ack(client: Client, msg_id: str, what: str) -> dict[str, Any]:
    """Wait until the server answered ``msg_id`` for good; its ack."""
    if not client.wait_idle(_WAIT_S):
        raise MultiplayerError(f"the server did not answer the {what} in time ({client.fatal or 'no reply'}).")
    reply = client.reply(msg_id) or {}
    if reply.get("type") != "ack":
        raise MultiplayerError(f"the server refused the {what}: {reply.get('message', reply)}")
    return reply


def civictwin_command(*args: str) -> list[str]:
    """A ``civictwin`` subcommand run by this Python (the kiosk and the wall need their own process).
    Pass tokens as ``--token=VALUE``: a URL-safe token may begin with "-", which argparse
    would take for an option."""
    return [sys.executable, "-m", "game.cli", *args]


def tail(log: Path) -> str:
    """The last line of a child's log, for a one-sentence error."""
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines() if log.exists() else []
    return lines[-1] if lines else "no message"


def _proposals(city: Path | None, say: Callable[[str], None]) -> list[dict[str, Any]]:
    """Two proposals from the example interventions; with a city package, each carries the
    KPI deltas the simulations give for it."""
    placed = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    trees = [p for p in placed if p["catalog"].startswith("tree") or p["catalog"] == "bench"]
    proposals = [{"title": "Shade and a quieter Unioninkatu", "interventions": placed},
                 {"title": "Four trees and a bench by the station", "interventions": trees}]
    if city is None:
        return proposals
    from game.simulate import build_engine, find_scenario
    from world.interventions import parse_placed_list

    engine = build_engine(city, find_scenario(city, None))  # one baseline for both proposals
    for proposal in proposals:
        placed = parse_placed_list(proposal["interventions"])
        for item in placed:
            engine.place(item)
        proposal["kpis"] = {name: round(value.delta, 3) for name, value in engine.kpis().items()}
        for item in placed:
            engine.remove(item.id)
        changed = {k: v for k, v in proposal["kpis"].items() if v}
        say(f"  simulated {proposal['title']!r}: " + ", ".join(f"{k} {v:+g}" for k, v in changed.items()))
    return proposals


class _Wall:
    """``civictwin wall`` offscreen in its own process, joined as the facilitator: it draws
    every state and writes ``wall-<phase>.png`` once it has drawn a phase."""

    def __init__(self, url: str, code: str, token: str, city: Path | None, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.log = folder, folder / "wall.log"
        command = civictwin_command("wall", "--server", url, "--workshop", code, f"--token={token}", "--offscreen",
                                    "--screenshots", str(folder), "--state-out", str(folder / "state.json"),
                                    "--until", "closed", *(["--city", str(city)] if city else []))
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "ARCADE_HEADLESS": "1"})

    def wait_drawn(self, phase: str, timeout_s: float = _WAIT_S) -> None:
        """Wait until the wall has its picture of ``phase`` (so a quick demo skips none)."""
        deadline = time.monotonic() + timeout_s
        while not (self.folder / f"wall-{phase}.png").exists():
            if self.process.poll() is not None:
                raise MultiplayerError(f"the wall stopped with status {self.process.returncode}: {tail(self.log)}")
            if time.monotonic() > deadline:
                raise MultiplayerError(f"the wall did not draw the {phase} phase within {timeout_s:.0f} s.")
            time.sleep(0.1)

    def finish(self) -> None:
        """Wait for the wall to see the workshop closed and exit."""
        try:
            status = self.process.wait(_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            status = self.process.wait(_WAIT_S)
        if status != 0:
            raise MultiplayerError(f"the wall stopped with status {status}: {tail(self.log)}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(_WAIT_S)


def _kiosk_visit(url: str, code: str, token: str, city: Path, scripts: Sequence[Path], screenshots: Path,
                 outbox: Path, say: Callable[[str], None]) -> None:
    """A real kiosk (``civictwin play --kiosk``, offscreen, in its own process) joined to the
    workshop, playing ``scripts`` one after another; its screenshots and report go to ``screenshots``."""
    screenshots.mkdir(parents=True, exist_ok=True)
    steps: list[Any] = []
    for script in scripts:
        loaded = json.loads(script.read_text(encoding="utf-8"))
        steps += loaded["steps"] if isinstance(loaded, dict) else loaded
    played = outbox.with_name(outbox.stem + "-script.json")
    played.write_text(json.dumps(steps, ensure_ascii=False), encoding="utf-8")
    command = civictwin_command("play", str(city), "--kiosk", "--offscreen", "--server", url, "--workshop", code,
                                f"--token={token}", "--script", str(played), "--screenshots", str(screenshots),
                                "--outbox", str(outbox))
    say(f"A kiosk joins and plays {', '.join(s.name for s in scripts)} offscreen…")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise MultiplayerError(f"the kiosk stopped with status {done.returncode}: "
                               f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    for line in done.stdout.strip().splitlines():
        say(f"  kiosk: {line}")


def _phase(facilitator: Client, to: str, wall: _Wall | None, before: str, say: Callable[[str], None]) -> None:
    """Move to phase ``to`` (once the wall has drawn ``before``), with the demo's short timer."""
    if wall is not None:
        wall.wait_drawn(before)
    kind = {"reveal": "reveal", "closed": "close"}.get(to, "phase")
    await_ack(facilitator, facilitator.send(kind, **({"to": to} if kind == "phase" else {})), "phase change")
    if to in _TIMERS_S:
        await_ack(facilitator, facilitator.send("timer", seconds=_TIMERS_S[to]), "timer")
    say(f"Phase: {to}." + (f" ({_TIMERS_S[to]} s on the clock)" if to in _TIMERS_S else ""))


def run_demo(db: Path, out: Path, *, city: Path | None = None, phones: int = 20, seed: int = 7,
             kiosk_scripts: Sequence[Path] = (), kiosk_screenshots: Path | None = None,
             wall: Path | None = None, report: Path | None = None,
             say: Callable[[str], None] = print) -> dict[str, Path]:
    """Run a scripted workshop in ``db`` and export it to ``out``; the files written.

    With ``kiosk_scripts`` and a ``city``, a real kiosk joins during the propose round and
    plays them (screenshots in ``kiosk_screenshots``); with ``wall`` (a folder) the wall
    watches offscreen and leaves a picture of each phase there; with ``report`` (a folder)
    the planner's report is built there once the workshop is closed.
    """
    created = create_workshop(db, "helsinki-centre", city=city)
    say(f"Workshop {created.code} created in {db}.")
    server = ServerThread(db)
    url = server.start()
    say(f"Server listening at {url} (phones would open http://127.0.0.1:{server.port}/?w={created.code}).")
    clients: list[Client] = []
    watcher: _Wall | None = None
    kiosk_runs = bool(kiosk_scripts) and city is not None
    try:
        facilitator = Client(url, created.code, "facilitator", token=created.facilitator_token).start()
        clients.append(facilitator)
        if wall is not None:
            watcher = _Wall(url, created.code, created.facilitator_token, city, wall)
            say(f"The wall watches offscreen; its pictures go to {wall}.")
        added = await_ack(facilitator, facilitator.send("add_kiosk", name="library"), "new kiosk")
        kiosk = Client(url, created.code, "kiosk", token=added["token"],
                       outbox=db.with_name(db.stem + "-kiosk-outbox.sqlite"), lang="fi").start()
        clients.append(kiosk)
        _phase(facilitator, "explore", watcher, "lobby", say)
        _phase(facilitator, "propose", watcher, "explore", say)
        say("The kiosk sends two proposals.")
        for proposal in _proposals(city, say):
            ack = await_ack(kiosk, kiosk.send("propose", session="demo-1", **proposal), "proposal")
            say(f"  {ack['proposal']}: {proposal['title']} ({len(proposal['interventions'])} interventions)")
        if kiosk_runs:
            assert city is not None
            second = await_ack(facilitator, facilitator.send("add_kiosk", name="town hall"), "new kiosk")
            _kiosk_visit(url, created.code, second["token"], city, kiosk_scripts,
                         kiosk_screenshots or Path("build/kiosk"), db.with_name(db.stem + "-kiosk2-outbox.sqlite"),
                         say)
        _phase(facilitator, "vote", watcher, "propose", say)
        say(f"{phones} phones and the kiosk vote.")
        rng = random.Random(seed)
        expected = 3 if kiosk_runs else 2
        state = kiosk.wait_state(lambda s: s["phase"] == "vote" and len(s["proposals"]) >= expected, _WAIT_S) or {}
        proposal_ids = [p["id"] for p in state.get("proposals", [])]
        for index in range(phones):
            phone = Client(url, created.code, "participant", lang=rng.choice(["en", "fi", "sv"])).start()
            clients.append(phone)
            phone.send("vote", question="priority", choice=rng.choice(["shade", "quiet", "water", "seats"]))
            phone.send("vote", question="street-score", choice=rng.randint(1, 5))
            if proposal_ids:
                phone.send("vote", question="best-proposal", choice=rng.choice(proposal_ids))
            if (index + 1) % 10 == 0:
                say(f"  {index + 1} phones voted")
        kiosk.send("vote", question="priority", choice="shade", session="demo-1")
        for client in clients:
            if not client.wait_idle(_WAIT_S):
                raise MultiplayerError(f"a {client.role} could not deliver its votes ({client.fatal or 'timeout'}).")
        _phase(facilitator, "reveal", watcher, "vote", say)
        final = facilitator.wait_state(lambda s: s["phase"] == "reveal" and s["counts"]["votes"] >= phones, _WAIT_S)
        for question, tally in (final or {}).get("tallies", {}).items():
            say(f"  {question}: " + ", ".join(f"{k} {v}" for k, v in tally.items()))
        _phase(facilitator, "closed", watcher, "reveal", say)
        if watcher is not None:
            watcher.finish()
    finally:
        if watcher is not None:
            watcher.kill()
        for client in clients:
            client.close()
        server.stop()
    store = Store(db, create=False)
    try:
        written = export(store, created.code, out)
    finally:
        store.close()
    if report is not None:
        from game.report.build import build_report

        built = build_report(db, created.code, report, city=city)
        written["report"] = built.index
    _say_where(say, written, kiosk_screenshots if kiosk_runs else None, wall)
    return written


def _say_where(say: Callable[[str], None], written: dict[str, Path], kiosk: Path | None, wall: Path | None) -> None:
    """Where to look: the exports, the report and the screenshots."""
    say("Exported: " + ", ".join(str(p) for name, p in written.items() if name != "report"))
    if "report" in written:
        say(f"Report: {written['report']}")
    if kiosk is not None:
        say(f"Kiosk screenshots: {kiosk}/")
    if wall is not None:
        say(f"Wall screenshots: {wall}/ (wall-<phase>.png, wall-final.png)")
