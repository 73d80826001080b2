"""Workshop server load on loopback: durable votes/s and latency, measured side by side
with a bare websockets echo server (the anchor) under exactly the same load.

    .venv/bin/python bench/workshop.py [--seconds S]

Three loads, each run against ``civictwin serve`` (SQLite WAL, ``synchronous=FULL``,
group commit; an ack only after the commit) and against the echo server:

- closed loop: 200 phones, each sends a vote as soon as its previous one is acked;
- steady: 1,000 phones, each votes once a second at its own offset;
- burst: 1,000 phones vote at the same instant; time until the last ack.

The load generator runs in two worker processes, beside the server process, on the same
machine: the figures include its share of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CIVICTWIN = str(Path(sys.executable).with_name("civictwin"))
_SERVING = re.compile(r"on http://127\.0\.0\.1:(\d+) ")
_ECHO = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for frame in ws:
        await ws.send(frame)
async def main():
    async with serve(echo, "127.0.0.1", 0, compression=None, max_size=16384) as server:
        print("on http://127.0.0.1:%d " % next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"""
CHOICES = ["shade", "quiet", "water", "seats"]


def _start(args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    handle = log.open("wb")
    process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
    handle.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _SERVING.search(log.read_text(errors="replace"))
        if found:
            return process, int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"could not start {args[0]}:\n{log.read_text(errors='replace')}")


# -- one worker process: some of the phones --------------------------------------------------------
async def _phone(url: str, code: str | None, mode: str, start_at: float, seconds: float,
                 latencies: list[float]) -> None:
    from websockets.asyncio.client import connect

    from multiplayer.protocol import client_message, new_id

    ws = await connect(url, compression=None, open_timeout=60, max_size=None)
    if code is not None:
        await ws.send(json.dumps(client_message("hello", role="participant", workshop=code)))
        while json.loads(await ws.recv()).get("type") != "ack":
            pass
    rng = random.Random()
    end_at = start_at + seconds
    await asyncio.sleep(max(0.0, start_at - time.time()))
    if mode == "steady":
        await asyncio.sleep(rng.random())
    while time.time() < end_at or mode == "burst":
        # Frames from a template and replies matched by their id's text: the generator shares
        # the machine with the server, so it spends as little CPU as it can.
        msg_id = new_id()
        frame = f'{{"v":1,"type":"vote","id":"{msg_id}","question":"priority","choice":"{rng.choice(CHOICES)}"}}'
        sent = time.perf_counter()
        await ws.send(frame)
        while msg_id not in await ws.recv():
            pass
        latencies.append(time.perf_counter() - sent)
        if mode == "burst":
            break
        if mode == "steady":
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - sent)))
    await ws.close()


def _worker(url: str, code: str | None, mode: str, phones: int, start_at: float, seconds: float,
            out: Any) -> None:
    latencies: list[float] = []

    async def main() -> None:
        await asyncio.gather(*(_phone(url, code, mode, start_at, seconds, latencies) for _ in range(phones)))
    asyncio.run(main())
    out.put(latencies)


def _load(url: str, code: str | None, mode: str, phones: int, seconds: float, workers: int = 2) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 3.0 + phones / 400.0  # time to connect and join everyone first
    procs = [ctx.Process(target=_worker, args=(url, code, mode, phones // workers, start_at, seconds, queue))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    for _ in procs:
        latencies += queue.get(timeout=600)
    for proc in procs:
        proc.join()
    latencies.sort()
    quantile = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"count": len(latencies), "per_s": len(latencies) / seconds, "p50_ms": quantile[49] * 1000,
            "p99_ms": quantile[98] * 1000, "max_ms": latencies[-1] * 1000}


def measure(tmp: Path, seconds: float) -> dict[str, dict[str, float]]:
    """Run the three loads against the workshop server and the echo server."""
    from multiplayer.admin import create_workshop
    from tests.multiplayer.wire import join  # the same client code the tests use

    db = tmp / "bench.db"
    created = create_workshop(db, "helsinki-centre")
    server, port = _start([CIVICTWIN, "serve", "--db", str(db), "--port", "0", "--no-qr", "--no-backups",
                           "--rate", "100000"], tmp / "server.log")
    echo, echo_port = _start([sys.executable, "-c", _ECHO], tmp / "echo.log")
    url, echo_url = f"ws://127.0.0.1:{port}/ws", f"ws://127.0.0.1:{echo_port}"

    async def open_vote() -> None:
        facilitator = await join(url, created.code, "facilitator", created.facilitator_token)
        await facilitator.request("phase", to="vote")
        await facilitator.request("timer", seconds=86_400)
        await facilitator.close()
    asyncio.run(open_vote())
    results: dict[str, dict[str, float]] = {}
    try:
        for name, mode, phones, duration in (("closed", "closed", 200, seconds), ("steady", "steady", 1000, seconds),
                                             ("burst", "burst", 1000, 1.0)):
            print(f"workshop load: {name} ({phones} phones)…", file=sys.stderr)
            results[name] = _load(url, created.code, mode, phones, duration)
            results[name + "_echo"] = _load(echo_url, None, mode, phones, duration)
    finally:
        for process in (server, echo):
            process.terminate()
            process.wait(timeout=60)
    return results


def workshop_rows(tmp: Path, seconds: float = 5.0) -> list[tuple[str, str, str, str]]:
    r = measure(tmp, seconds)
    closed, closed_echo = r["closed"], r["closed_echo"]
    steady, steady_echo = r["steady"], r["steady_echo"]
    burst, burst_echo = r["burst"], r["burst_echo"]
    return [
        ("workshop server: durable votes/s, 200 phones in a closed loop", f"{closed['per_s']:,.0f} votes/s",
         "≥ 5,000 votes/s", f"{closed['per_s'] / 5000:.2f}× the budget; "
                            f"{closed['per_s'] / closed_echo['per_s']:.2f}× the echo server"),
        ("  same load, p50 / p99 latency", f"{closed['p50_ms']:.1f} / {closed['p99_ms']:.1f} ms", "p99 < 50 ms",
         f"{50 / closed['p99_ms']:.1f}× under"),
        ("  anchor: bare websockets echo, same load", f"{closed_echo['per_s']:,.0f} msgs/s, p99 "
         f"{closed_echo['p99_ms']:.1f} ms", "(anchor)", "1.0×"),
        ("workshop server: 1,000 phones at 1 vote/s, p50 / p99",
         f"{steady['p50_ms']:.1f} / {steady['p99_ms']:.1f} ms", "p99 < 20 ms",
         f"{20 / steady['p99_ms']:.1f}× under; echo p99 {steady_echo['p99_ms']:.1f} ms "
         f"({steady['p99_ms'] / steady_echo['p99_ms']:.1f}× the echo)"),
        ("workshop server: 1,000 votes at the same instant, until all acked", f"{burst['max_ms']:.0f} ms",
         "(no budget)", f"echo {burst_echo['max_ms']:.0f} ms ({burst['max_ms'] / burst_echo['max_ms']:.1f}× the echo)"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the closed-loop and steady loads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = workshop_rows(Path(tmp), args.seconds)
    for row in rows:
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
