"""A real workshop server process on a loopback port, with a fresh database per test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from multiplayer.admin import CreatedWorkshop, create_workshop

CIVICTWIN = str(Path(sys.executable).with_name("civictwin"))
_SERVING = re.compile(r"on http://127\.0\.0\.1:(\d+) ")


@dataclass
class ServerProcess:
    """``civictwin serve`` in a subprocess: start, SIGKILL, SIGTERM and restart on the same port."""

    db: Path
    created: CreatedWorkshop
    rate: float = 1000.0
    port: int = 0
    log_path: Path = field(init=False)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    starts: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.log_path = self.db.with_suffix(".log")

    @property
    def code(self) -> str:
        return self.created.code

    @property
    def facilitator_token(self) -> str:
        return self.created.facilitator_token

    @property
    def view_token(self) -> str:
        return self.created.view_token

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> ServerProcess:
        assert self.process is None, "already running"
        self.starts += 1
        mark = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [CIVICTWIN, "serve", "--db", str(self.db), "--port", str(self.port), "--no-qr",
             "--rate", str(self.rate)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[mark:].decode(errors="replace")
            found = _SERVING.search(text)
            if found:
                self.port = int(found.group(1))
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{text}")
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start within {timeout_s} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM: the graceful shutdown; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout_s)
        self.process = None
        return code

    def restart(self) -> ServerProcess:
        if self.process is not None:
            self.kill()
        return self.start()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def health(self) -> dict[str, object]:
        import json
        with urllib.request.urlopen(f"{self.http}/healthz", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


def make_server(tmp_path: Path, scenario: str = "helsinki-centre") -> ServerProcess:
    db = tmp_path / "workshop.db"
    return ServerProcess(db, create_workshop(db, scenario))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server with one Helsinki workshop in a fresh database."""
    process = make_server(tmp_path).start()
    try:
        yield process
    finally:
        process.stop()
