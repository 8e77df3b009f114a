"""The real HTTP server as a subprocess (`maison serve`), for load and crash tests.

It runs exactly as in production: its own process (or processes, with `workers`), its own
engine, configured only through `MAISON_DATABASE_URL` and `MAISON_HOME`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerError(RuntimeError):
    """The server subprocess did not come up, or died; the message carries its log tail."""


class Server:
    """`maison serve` on a free loopback port; `kill()` is SIGKILL, `stop()` a clean shutdown."""

    def __init__(self, database_url: str, *, home: Path, workers: int = 1, port: int | None = None) -> None:
        self.database_url = database_url
        self.home = home
        self.workers = workers
        self.port = port or free_port()
        self.log = home / f"server-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 120.0) -> Server:
        """Start and wait until `/healthz` answers. The timeout is generous: on a busy machine
        importing the application in two workers has taken over 30 s."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MAISON_DATABASE_URL": self.database_url, "MAISON_HOME": str(self.home)}
        cmd = [sys.executable, "-m", "maison.cli", "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as log:
            # A session of its own, so that kill() reaches uvicorn's worker processes too.
            self._proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Until every worker has answered `/healthz` (each on a new connection). Load
        generators keep their connections open: opened while a second worker was still
        importing, all of them stayed on the first one, and the run measured one worker."""
        deadline = time.monotonic() + timeout
        assert self._proc is not None
        seen: set[int] = set()
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerError(f"server exited with {self._proc.returncode}:\n{self.log_tail()}")
            try:
                answer = httpx.get(f"{self.url}/healthz", timeout=1.0)
                if answer.status_code == 200:
                    seen.add(int(answer.json().get("worker", 0)))
                    if len(seen) >= self.workers:
                        return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise ServerError(f"server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def session(self) -> int:
        """The session (and process group) id of the server and its workers."""
        assert self._proc is not None, "the server is not running"
        return self._proc.pid

    def kill(self) -> None:
        """SIGKILL the whole process group, as a power cut of the process would."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._proc = None

    def stop(self, *, timeout: float = 10.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._proc = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
