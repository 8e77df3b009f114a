"""Kill -9 the server during a sustained ingest: every acknowledged event survives, once.

The real server runs as a subprocess on the test's store (SQLite file or PostgreSQL). Client
threads post batches with unique messageIds and note which were answered 200; the server is
killed with SIGKILL mid-stream, restarted, and every batch is sent again, the unanswered ones
included, as an SDK retries. A 200 must mean committed; a retry must never store twice.
"""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import Engine, func, select

from maison.bench.server import Server
from maison.core.schema import events

BATCHES = 160
BATCH_SIZE = 20
SENDERS = 4
KILL_AFTER_ACKED = 40  # batches answered 200 before the kill: well inside the stream


def _batches() -> list[list[dict[str, object]]]:
    # `Order Completed` (purchase history) is kept under the default consent state, so every
    # message sent must be stored: the test is about durability, not about the consent gate.
    return [
        [
            {
                "type": "track", "event": "Order Completed", "anonymousId": f"anon-{(b * BATCH_SIZE + i) % 40}",
                "messageId": f"crash-{b:04d}-{i:03d}", "timestamp": "2026-01-05T20:00:00+00:00",
                "properties": {"order_id": f"ord-{b}-{i}", "total": 120, "currency": "EUR"},
            }
            for i in range(BATCH_SIZE)
        ]
        for b in range(BATCHES)
    ]


def _post(url: str, key: str, bodies: list[bytes], acked: set[int], *, until: threading.Event | None = None) -> None:
    """Post each body once from SENDERS threads, adding to `acked` the index of each 200 as it comes.

    Stops early once `until` is set; a request in flight when the server dies is not acknowledged.
    """
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
            "Content-Type": "application/json"}
    todo = iter(range(len(bodies)))
    lock = threading.Lock()

    def sender() -> None:
        with httpx.Client(base_url=url, headers=auth, timeout=30.0) as http:
            while until is None or not until.is_set():
                with lock:
                    index = next(todo, None)
                if index is None:
                    return
                try:
                    ok = http.post("/v1/batch", content=bodies[index]).status_code == 200
                except httpx.TransportError:
                    ok = False  # unknown outcome: the SDK keeps the batch and retries it
                if ok:
                    with lock:
                        acked.add(index)

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _stored(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.message_id, func.count()).group_by(events.c.message_id))
        return {mid: n for mid, n in rows}


@pytest.mark.e2e
def test_every_acknowledged_event_survives_kill_9_once(engine: Engine, write_key: str, tmp_path: Path) -> None:
    batches = _batches()
    bodies = [orjson.dumps({"batch": b}) for b in batches]
    url = engine.url.render_as_string(hide_password=False)
    server = Server(url, home=tmp_path / "home").start()
    killed = threading.Event()
    try:
        acked: set[int] = set()

        def killer() -> None:
            deadline = time.monotonic() + 10
            while len(acked) < KILL_AFTER_ACKED and time.monotonic() < deadline:
                time.sleep(0.005)
            server.kill()
            killed.set()

        watcher = threading.Thread(target=killer)
        watcher.start()
        _post(server.url, write_key, bodies, acked, until=killed)
        watcher.join()
    finally:
        server.kill()
    assert KILL_AFTER_ACKED <= len(acked) < BATCHES, f"the kill did not land mid-stream ({len(acked)} acked)"

    stored = _stored(engine)
    acknowledged = [m["messageId"] for i in acked for m in batches[i]]
    assert [m for m in acknowledged if stored.get(m) != 1] == [], "acknowledged events lost or duplicated"

    retried: set[int] = set()
    with Server(url, home=tmp_path / "home") as again:
        _post(again.url, write_key, bodies, retried)
    assert retried == set(range(BATCHES)), "a retry after restart was not accepted"

    stored = _stored(engine)
    sent = {m["messageId"] for b in batches for m in b}
    assert set(stored) == sent
    assert set(stored.values()) == {1}
    assert sum(stored.values()) == len(sent) == BATCHES * BATCH_SIZE
