"""``civictwin workshop demo``: a whole small workshop on this machine, start to export.

A real server on a loopback port, the facilitator, one kiosk (the kiosk's client, with
its outbox on disk) and a number of phones, all through the protocol: the kiosk proposes
(with the simulated KPI deltas of its interventions when a city package is given), the
phones and the kiosk vote, the facilitator reveals and closes, and the workshop is
exported. It shows a new user every part working together, and is what ``make run`` runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from multiplayer.admin import create_workshop
from multiplayer.client import Client
from multiplayer.errors import MultiplayerError
from multiplayer.export import export
from multiplayer.server import ServerOptions, WorkshopServer
from multiplayer.store import Store

__all__ = ["run_demo"]

EXAMPLE = Path(__file__).resolve().parent.parent / "content" / "scenarios" / "helsinki-centre.example.json"
_WAIT_S = 60.0


class _ServerThread:
    """The workshop server on its own event loop in a thread, on a free loopback port."""

    def __init__(self, db: Path) -> None:
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(db,), name="workshop-server", daemon=True)

    def _run(self, db: Path) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()

            def ready(server: Any) -> None:
                self.port = next(iter(server.sockets)).getsockname()[1]
                self._ready.set()
            await WorkshopServer(db, ServerOptions(backups=True)).serve("127.0.0.1", 0, ready=ready, stop=self._stop)
        try:
            asyncio.run(main())
        except BaseException as exc:
            self.failure = exc
            self._ready.set()

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(_WAIT_S)
        if self.failure is not None or not self.port:
            raise MultiplayerError(f"the workshop server did not start: {self.failure}.")
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(_WAIT_S)


def _await(client: Client, msg_id: str, what: str) -> dict[str, Any]:
    """Wait until the server answered ``msg_id`` for good; its ack."""
    if not client.wait_idle(_WAIT_S):
        raise MultiplayerError(f"the server did not answer the {what} in time ({client.fatal or 'no reply'}).")
    reply = client.reply(msg_id) or {}
    if reply.get("type") != "ack":
        raise MultiplayerError(f"the server refused the {what}: {reply.get('message', reply)}")
    return reply


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


def _kiosk_visit(url: str, code: str, token: str, city: Path, script: Path, screenshots: Path, outbox: Path,
                 say: Callable[[str], None]) -> None:
    """A real kiosk (``civictwin play``, offscreen, in its own process) joined to the
    workshop, driven through ``script``; its screenshots and report go to ``screenshots``."""
    display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    command = [sys.executable, "-m", "game.cli", "play", str(city), "--kiosk", "--server", url,
               "--workshop", code, "--token", token, "--script", str(script), "--screenshots", str(screenshots),
               "--outbox", str(outbox), *([] if display else ["--offscreen"])]
    say(f"A kiosk joins and plays {script.name} {'in a window' if display else 'offscreen (no display)'}…")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise MultiplayerError(f"the kiosk stopped with status {done.returncode}: "
                               f"{(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    for line in done.stdout.strip().splitlines():
        say(f"  kiosk: {line}")


def run_demo(db: Path, out: Path, *, city: Path | None = None, phones: int = 20, seed: int = 7,
             kiosk_visit: tuple[Path, Path] | None = None, say: Callable[[str], None] = print) -> dict[str, Path]:
    """Run a scripted workshop in ``db`` and export it to ``out``; the exported files.
    With ``kiosk_visit`` (a script and a screenshot folder) and a ``city``, a real kiosk joins
    during the propose round and plays the script."""
    created = create_workshop(db, "helsinki-centre", city=city)
    say(f"Workshop {created.code} created in {db}.")
    server = _ServerThread(db)
    url = server.start()
    say(f"Server listening at {url} (phones would open http://127.0.0.1:{server.port}/?w={created.code}).")
    clients: list[Client] = []
    try:
        facilitator = Client(url, created.code, "facilitator", token=created.facilitator_token).start()
        clients.append(facilitator)
        added = _await(facilitator, facilitator.send("add_kiosk", name="library"), "new kiosk")
        kiosk = Client(url, created.code, "kiosk", token=added["token"],
                       outbox=db.with_name(db.stem + "-kiosk-outbox.sqlite"), lang="fi").start()
        clients.append(kiosk)
        _await(facilitator, facilitator.send("phase", to="propose"), "phase change")
        say("Phase: propose. The kiosk sends two proposals.")
        for proposal in _proposals(city, say):
            ack = _await(kiosk, kiosk.send("propose", session="demo-1", **proposal), "proposal")
            say(f"  {ack['proposal']}: {proposal['title']} ({len(proposal['interventions'])} interventions)")
        if kiosk_visit is not None and city is not None:
            second = _await(facilitator, facilitator.send("add_kiosk", name="town hall"), "new kiosk")
            _kiosk_visit(url, created.code, second["token"], city, *kiosk_visit,
                         db.with_name(db.stem + "-kiosk2-outbox.sqlite"), say)
        _await(facilitator, facilitator.send("phase", to="vote"), "phase change")
        say(f"Phase: vote. {phones} phones and the kiosk vote.")
        rng = random.Random(seed)
        expected = 3 if kiosk_visit is not None and city is not None else 2
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
        _await(facilitator, facilitator.send("reveal"), "reveal")
        final = facilitator.wait_state(lambda s: s["phase"] == "reveal" and s["counts"]["votes"] >= phones, _WAIT_S)
        for question, tally in (final or {}).get("tallies", {}).items():
            say(f"  {question}: " + ", ".join(f"{k} {v}" for k, v in tally.items()))
        _await(facilitator, facilitator.send("close"), "close")
        say("Phase: closed.")
    finally:
        for client in clients:
            client.close()
        server.stop()
    store = Store(db, create=False)
    try:
        return export(store, created.code, out)
    finally:
        store.close()
