"""`maison bench recommend`: recommendation latency at scale and batch throughput, against popularity.

The store is bulk-loaded (clients, identities, consent ledger, events, catalogue) as in
`bench.profile`: ingesting millions of events through validation would measure ingestion.
Synthetic shoppers (seeded) have a taste: two favourite categories and a price level; 90%
consent at L2 (behaviour may be used), 10% stay at L1 with declared categories. Measured:
- the shop model's fit (every consenting client's behaviour through the consent gateway);
- `GET /v1/recommendations/{client}` in-process through the FastAPI app (auth, consent, the
  client's events through the gateway, ranking, brand-safety rules, reasons, the decision
  audit write), next to the baseline of the same route's popularity path (best sellers with
  the same rules and audit) for the same clients;
- composing recommendations for every client in one batch (ranker + brand-safety rules, no
  store round trip), next to popularity for every client.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Engine

from maison.bench.figures import percentile
from maison.catalog import repository as catalog_repo
from maison.catalog.entities import Product
from maison.core.schema import clients as clients_table
from maison.core.schema import consent_ledger, events, identities

CATEGORIES = ("Knitwear", "Outerwear", "Workwear", "Accessories", "Jewellery", "Home", "Books", "Footwear",
              "Tailoring", "Beauty")
MATERIALS = ("cashmere", "merino", "silk", "linen", "leather", "ceramic", "wool", "cotton")
TAGS = ("artisan", "classic", "minimal", "sustainable", "statement", "office", "evening")
L2_PURPOSES = ("declared_categories", "purchase_history", "demographics", "browsing_behaviour", "search_history",
               "cart_activity", "email_engagement", "content_engagement", "similar_customer_signals")


def products(n: int, seed: int) -> list[Product]:
    rng = random.Random(seed)
    found = []
    for i in range(n):
        category = CATEGORIES[i % len(CATEGORIES)]
        level = rng.randrange(5)
        found.append(Product(
            product_id=f"P{i:05d}", name=f"{rng.choice(MATERIALS).title()} piece {i} in {rng.choice(TAGS)}",
            category=category, price=Decimal(80 + level * 150 + rng.randrange(100)), currency="EUR",
            sizes=("one_size",), stock={"online": {"one_size": 0 if rng.random() < 0.05 else rng.randrange(1, 20)}},
            subcategory=f"{category} {i % 7}", materials=(rng.choice(MATERIALS),), tags=tuple(rng.sample(TAGS, 2)),
            maker=f"maker {i % 300}", description=f"A {category.lower()} piece, level {level}.",
        ))
    return found


def load(engine: Engine, *, n_clients: int, catalogue: list[Product], events_per_client: int, seed: int,
         now: datetime, say: Callable[[str], None]) -> list[str]:
    """Bulk-load clients, consent, events; returns the client ids."""
    rng = random.Random(seed)
    by_category: dict[str, list[Product]] = {}
    for p in catalogue:
        by_category.setdefault(p.category, []).append(p)
    ids = [f"cl_rb{i:010d}" for i in range(n_clients)]
    start = now - timedelta(days=120)
    with engine.begin() as conn:
        catalog_repo.upsert_products(conn, catalogue, now=now)
        conn.execute(clients_table.insert(), [{"id": c, "created_at": start} for c in ids])
        conn.execute(identities.insert(), [{"kind": "user", "value": f"rb-{i}", "client_id": c, "linked_at": start}
                                           for i, c in enumerate(ids)])
    batch: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i, client in enumerate(ids):
        l2 = rng.random() < 0.9
        ledger += [{"client_id": client, "kind": "purpose", "purpose": p, "granted": l2 or p in L2_PURPOSES[:3],
                    "level": None, "effective_at": start, "recorded_at": start, "method": "web"} for p in L2_PURPOSES]
        ledger.append({"client_id": client, "kind": "level", "purpose": None, "granted": None,
                       "level": "L2" if l2 else "L1", "effective_at": start, "recorded_at": start, "method": "web"})
        favourites = rng.sample(CATEGORIES, 2)
        count = max(1, int(rng.expovariate(1 / events_per_client)))
        for k in range(count):
            p = rng.choice(by_category[favourites[0] if rng.random() < 0.6 else favourites[1]][:300])
            at = start + timedelta(minutes=rng.randrange(60 * 24 * 119))
            roll = rng.random()
            props: dict[str, Any]
            if roll < 0.75:
                name, cat, props = "Product Viewed", "browsing_behaviour", {"product_id": p.product_id}
            elif roll < 0.9:
                name, cat, props = "Product Added", "cart_activity", {"product_id": p.product_id}
            else:
                name, cat, props = "Order Completed", "purchase_history", {
                    "order_id": f"o{i}-{k}", "products": [{"product_id": p.product_id, "quantity": 1}]}
            mid = f"rb{i}-{k}"
            raw = {"type": "track", "event": name, "userId": f"rb-{i}", "messageId": mid, "timestamp": at.isoformat(),
                   "properties": props}
            batch.append({"source": "bench", "message_id": mid, "client_id": client, "type": "track", "event": name,
                          "user_id": f"rb-{i}", "timestamp": at, "received_at": at, "data_category": cat,
                          "product_id": p.product_id, "order_id": props.get("order_id"), "raw": raw})
        if len(batch) >= 50_000 or i == len(ids) - 1:
            with engine.begin() as conn:
                conn.execute(events.insert(), batch)
                conn.execute(consent_ledger.insert(), ledger)
            say(f"    {i + 1:,} clients loaded ({time.perf_counter() - started:.0f} s)")
            batch, ledger = [], []
    return ids


def latency(app: Any, key: str, clients: list[str], *, requests: int, seed: int,
            path: Callable[[str], str]) -> list[float]:
    """Seconds per request of `path(client)` through the app, random clients."""
    from fastapi.testclient import TestClient

    rng = random.Random(seed)
    samples = []
    with TestClient(app) as http:
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(min(20, requests)):  # warm-up
            http.get(path(rng.choice(clients)), headers=headers)
        for _ in range(requests):
            url = path(rng.choice(clients))
            t = time.perf_counter()
            r = http.get(url, headers=headers)
            samples.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {r.status_code} {r.text[:200]}")
    return samples


def batch_compose(conn: Any, model: Any, *, k: int, at: datetime, say: Callable[[str], None]
                  ) -> tuple[float, float, int]:
    """Seconds to compose top-k for every client with usable behaviour: (hybrid, popularity, clients).

    The hybrid figure includes reading every client's behaviour through the consent gateway
    (the served model keeps no client's rows), ranking, and the brand-safety rules.
    """
    from maison.recommend import rules, training

    ids = list(model.index)
    products = [model.products[i] for i in ids]
    safety = rules.BrandSafety()
    t = time.perf_counter()
    log, _ = training.read_log(conn, ids, at=at)
    say(f"    read {len(log):,} events of {log.n_users:,} clients ({time.perf_counter() - t:.0f} s)")
    users = np.arange(log.n_users)
    for s in range(0, users.size, 4096):
        top = model.ranker.recommend(users[s : s + 4096], k * 3, history=log)
        for row in top:
            rules.select([products[i] for i in row if i >= 0], k=k, rules=safety)
        if s % (4096 * 5) == 0:
            say(f"    hybrid: {min(s + 4096, users.size):,} clients ({time.perf_counter() - t:.0f} s)")
    hybrid = time.perf_counter() - t
    t = time.perf_counter()
    order = sorted(ids, key=lambda p: -model.sold.get(p, 0))
    ranked = [model.products[p] for p in order[: k * 3]]
    for _ in users:
        rules.select(ranked, k=k, rules=safety)
    return hybrid, time.perf_counter() - t, int(users.size)


def summary(samples: list[float]) -> tuple[float, float]:
    return percentile(samples, 50) * 1000, percentile(samples, 99) * 1000


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
