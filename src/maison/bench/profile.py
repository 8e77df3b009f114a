"""`maison bench profile`: profile read latency at scale, against the bare event query.

The store is bulk-loaded with synthetic clients and events (COPY on PostgreSQL, large
executemany on SQLite, indexes kept) because ingesting 10M events through validation would
measure ingestion, not reads. Reads are timed in-process through `profiles.service.get_profile`
(the work the endpoint does), next to the floor: fetching the same client's events with one
indexed query and nothing else.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, select, text

from maison.core.schema import clients as clients_table
from maison.core.schema import events, identities
from maison.profiles.service import get_profile

START = datetime(2025, 1, 1, tzinfo=UTC)
PRODUCTS = [f"P-{i:05d}" for i in range(10_000)]
EVENT_COLUMNS = ("source", "message_id", "client_id", "type", "event", "user_id", "anonymous_id", "timestamp",
                 "utc_offset_minutes", "received_at", "data_category", "channel", "timezone", "product_id",
                 "dwell_seconds", "order_id", "revenue", "currency", "store_id", "raw")


@dataclass(frozen=True)
class Shape:
    clients: int
    events: int
    seed: int = 7


def _client_sizes(shape: Shape, rng: random.Random) -> list[int]:
    """Skewed sizes (most clients light, a few heavy) summing to `events`."""
    weights = [rng.paretovariate(1.6) for _ in range(shape.clients)]
    total = sum(weights)
    sizes = [max(1, int(w / total * shape.events)) for w in weights]
    sizes[0] += shape.events - sum(sizes)
    return sizes


def _events_of(n: int, index: int, sizes: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    user = f"bench-{index:07d}"
    client = f"cl_bench{index:012d}"
    t = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
    for k in range(sizes):
        t += timedelta(minutes=rng.randrange(1, 60 * 24 * 3))
        roll = rng.random()
        product = rng.choice(PRODUCTS)
        if roll < 0.7:
            name, category, props = "Product Viewed", "browsing_behaviour", {
                "product_id": product, "dwell_seconds": rng.randrange(5, 400),
            }
        elif roll < 0.85:
            name, category, props = "Email Opened", "email_engagement", {
                "campaign_id": "weekly-edit", "email_id": f"e{k}",
            }
        elif roll < 0.95:
            name, category, props = "Product Added", "cart_activity", {
                "product_id": product, "cart_id": f"c{index}-{k // 20}", "variant": "M", "price": 300,
            }
        else:
            name, category, props = "Order Completed", "purchase_history", {
                "order_id": f"o{index}-{k}", "total": 420, "currency": "EUR",
                "products": [{"product_id": product, "price": 420, "quantity": 1}],
            }
        mid = f"m{index}-{k}"
        raw = {"type": "track", "event": name, "userId": user, "messageId": mid, "timestamp": t.isoformat(),
               "properties": props, "context": {"timezone": "Europe/Paris", "channel": "web"}}
        yield ("bench", mid, client, "track", name, user, None, t, 60, t, category, "web", "Europe/Paris",
               props.get("product_id"), props.get("dwell_seconds"), props.get("order_id"),
               props.get("total"), "EUR" if "total" in props else None, None, raw)


def load(engine: Engine, shape: Shape, *, say: Callable[[str], None]) -> list[str]:
    """Bulk-load the synthetic store; returns the user ids."""
    rng = random.Random(shape.seed)
    sizes = _client_sizes(shape, rng)
    users = [f"bench-{i:07d}" for i in range(shape.clients)]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            clients_table.insert(), [{"id": f"cl_bench{i:012d}", "created_at": now} for i in range(shape.clients)]
        )
        conn.execute(
            identities.insert(),
            [{"kind": "user", "value": u, "client_id": f"cl_bench{i:012d}", "linked_at": now}
             for i, u in enumerate(users)],
        )
    started = time.perf_counter()
    loaded = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for i, size in enumerate(sizes):
                    for row in _events_of(loaded, i, size, rng):
                        copy.write_row((*row[:-1], orjson.dumps(row[-1]).decode()))
                    loaded += size
                    if i % 10_000 == 0:
                        say(f"    {loaded:,} events loaded ({time.perf_counter() - started:.0f} s)")
            raw.commit()
        finally:
            raw.close()
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        return users
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for i, size in enumerate(sizes):
            batch.extend(dict(zip(EVENT_COLUMNS, row, strict=True)) for row in _events_of(loaded, i, size, rng))
            loaded += size
            if len(batch) >= 50_000:
                conn.execute(events.insert(), batch)
                batch = []
                say(f"    {loaded:,} events loaded ({time.perf_counter() - started:.0f} s)")
        if batch:
            conn.execute(events.insert(), batch)
    return users


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def measure(engine: Engine, users: list[str], *, reads: int, seed: int) -> dict[str, tuple[float, float]]:
    """p50/p99 (ms) of the bare indexed event fetch and of the full profile read, same clients."""
    rng = random.Random(seed)
    picks = [rng.choice(users) for _ in range(reads)]
    floor: list[float] = []
    full: list[float] = []
    with engine.connect() as conn:
        for user in picks:
            client = "cl_bench" + user.split("-")[1].rjust(12, "0")
            t0 = time.perf_counter()
            conn.execute(select(events.c.raw).where(events.c.client_id == client)).all()
            floor.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            get_profile(conn, user)
            full.append(time.perf_counter() - t0)
            conn.rollback()
    return {"bare event query": _percentiles(floor), "profile read": _percentiles(full)}


def run(*, clients: int, events_total: int, backends: tuple[str, ...], reads: int, postgres_url: str,
        say: Callable[[str], None]) -> list[dict[str, Any]]:
    """Load and measure each backend in a scratch store; rows for the figures table."""
    import tempfile
    from pathlib import Path

    from maison.bench.stores import scratch_store

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maison-bench-profile-") as tmp:
        for backend in backends:
            with scratch_store(backend, workdir=Path(tmp), postgres_url=postgres_url) as store:
                engine = store.fresh()
                say(f"{backend}: loading {clients:,} clients and {events_total:,} events")
                started = time.perf_counter()
                users = load(engine, Shape(clients=clients, events=events_total), say=say)
                say(f"{backend}: loaded in {time.perf_counter() - started:.0f} s; timing {reads:,} reads")
                for name, (p50, p99) in measure(engine, users, reads=reads, seed=11).items():
                    goal = 50.0 if name == "profile read" else None
                    rows.append({"backend": backend, "measure": name, "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                                 "goal_p99_ms": goal,
                                 "verdict": "" if goal is None else ("PASS" if p99 < goal else "MISS")})
                engine.dispose()
    return rows
