"""A loopback load generator: concurrent keep-alive clients posting pre-encoded bodies.

Bodies are encoded before the clock starts, so the figures measure the server, not the JSON
encoder of the client. Each client is a thread with its own connection, as SDKs in separate
processes would be.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from maison.core.clock import utcnow


@dataclass
class LoadResult:
    """Per-request latencies (seconds) and statuses of one load run, its wall time, and the
    totals the server reported (accepted, duplicates, dropped, rejected)."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)


def _count(totals: dict[str, int], answer: dict[str, Any]) -> None:
    for key in ("accepted", "duplicates", "dropped"):
        totals[key] = totals.get(key, 0) + int(answer.get(key) or 0)
    totals["rejected"] = totals.get("rejected", 0) + len(answer.get("rejected") or ())


def auth_header(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def batch_bodies(messages: Sequence[dict[str, Any]], size: int) -> list[bytes]:
    """`/v1/batch` bodies of `size` messages each, with a batch-level sentAt as SDKs send."""
    sent_at = utcnow().isoformat()
    return [
        orjson.dumps({"batch": list(messages[i : i + size]), "sentAt": sent_at})
        for i in range(0, len(messages), size)
    ]


def post_all(base_url: str, path: str, bodies: Sequence[bytes], *, write_key: str, clients: int) -> LoadResult:
    """Post every body once, `clients` at a time; returns when all have been answered."""
    headers = {**auth_header(write_key), "Content-Type": "application/json"}
    result = LoadResult()
    lock = threading.Lock()
    next_index = itertools.count()

    def client() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        answers: list[bytes] = []
        with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as http:
            while (i := next(next_index)) < len(bodies):
                start = time.perf_counter()
                try:
                    response = http.post(path, content=bodies[i])
                    status = response.status_code
                except httpx.HTTPError as exc:
                    with lock:
                        result.errors.append(f"{type(exc).__name__}: {exc}")
                    status = 0
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    answers.append(response.content)
        with lock:
            result.latencies.extend(latencies)
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n
            for answer in answers:
                _count(result.totals, orjson.loads(answer))

    threads = [threading.Thread(target=client, name=f"load-{n}") for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    return result
