"""Live servers for end-to-end tests: the real Maison app under uvicorn, and its request log.

Each server listens on a loopback socket bound to port 0 before its thread starts, so the port
is known up front and parallel workers (`pytest -n 2`) never collide. The API is wrapped in a
`RequestLog` that records what really reached it (method, path, headers, first body bytes,
status), so tests can prove wire-level facts such as "the body was gzipped" or "the CORS
preflight was answered by Maison".

Import it as `from e2e.e2e_live import ...` (pytest runs in importlib mode with `tests/` on its
pythonpath, so this folder is the namespace package `e2e`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select

from maison.core.schema import events

IN_CI = os.environ.get("CI", "").lower() == "true"
HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
ANALYTICS_NEXT_UMD = HERE / "js" / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
SHOP_PAGE = HERE / "page"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

ASGIApp = Callable[..., Any]


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}", pytrace=False)
        time.sleep(interval)


@dataclass
class Seen:
    """One HTTP request as it reached the server, before any application code ran."""

    method: str
    path: str
    headers: dict[str, str]
    body_head: bytes = b""
    status: int | None = None


class RequestLog:
    """ASGI wrapper recording every request's method, path, headers, first body bytes and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        seen = Seen(scope["method"], scope["path"], headers)
        self.seen.append(seen)

        async def peek_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request" and not seen.body_head:
                seen.body_head = message.get("body", b"")[:2]
            return message

        async def record_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            await send(message)

        await self.app(scope, peek_receive, record_send)

    def to(self, path_prefix: str, method: str = "POST") -> list[Seen]:
        """Requests to paths under `path_prefix`, once every request seen so far has an answer."""
        wait_until(
            lambda: all(s.status is not None for s in self.seen),
            timeout=10,
            what="the requests in flight to be answered",
        )
        return [s for s in self.seen if s.method == method and s.path.startswith(path_prefix)]


class LiveServer:
    """An ASGI app served by uvicorn in a background thread on a free loopback port."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]
        self.host = host
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"uvicorn-{self.port}",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LiveServer:
        self._thread.start()
        wait_until(
            lambda: self._server.started or not self._thread.is_alive(),
            timeout=10,
            what=f"uvicorn on {self.url}",
        )
        if not self._server.started:
            pytest.fail(f"uvicorn on {self.url} stopped before it started serving", pytrace=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        if self._thread.is_alive():
            pytest.fail(f"uvicorn on {self.url} did not stop within 10 s", pytrace=False)


@dataclass
class LiveApi:
    """The running Maison API, its store and the log of requests that reached it."""

    url: str
    engine: Engine
    log: RequestLog
    _keys: list[str] = field(default_factory=list)
    _admin: str | None = None

    def create_key(self, *, origins: list[str]) -> str:
        from maison.access.keys import create_key
        from maison.core.clock import utcnow

        with self.engine.begin() as conn:
            key = create_key(conn, name=f"e2e-{len(self._keys)}", origins=origins, now=utcnow())
        self._keys.append(key)
        return key

    def events(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(events).order_by(events.c.id)).mappings()
            return [dict(r) for r in rows]

    def wait_for_events(self, count: int, *, timeout: float = 10) -> list[dict[str, Any]]:
        """The stored events once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while len(rows := self.events()) < count:
            if time.monotonic() > deadline:
                got = [(r["type"], r["event"]) for r in rows]
                pytest.fail(
                    f"timed out after {timeout} s waiting for {count} events; stored: {got}",
                    pytrace=False,
                )
            time.sleep(0.05)
        return rows

    def profile(self, identifier: str) -> dict[str, Any]:
        """The client's profile as `GET /v1/profiles/{identifier}` serves it to an admin."""
        response = httpx.get(
            f"{self.url}/v1/profiles/{identifier}",
            headers={"Authorization": f"Bearer {self._admin_key()}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def _admin_key(self) -> str:
        if self._admin is None:
            from maison.access.auth import create_api_key
            from maison.core.clock import utcnow

            with self.engine.begin() as conn:
                self._admin = create_api_key(conn, name="e2e-admin", scope="admin", store_id=None, now=utcnow())
        return self._admin
