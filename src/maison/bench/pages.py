"""`maison bench pages`: the personalised product page at scale, quiet and under consent traffic.

The product page (`GET /v1/products/{id}/for/{client}`) is a real-time surface. From L2 it shows
a rating and sizing guidance from the client's cohort: the pooled members of their segment,
thousands of clients at 100,000. The store is the digest benchmark's synthetic shop
(`bench.digests.load`), with the segment model fitted and kept first (as the weekly job keeps
it; a server reads it back). On the same sampled products, `service.product_page` on a
connection of its own, as the route calls it (the route adds auth and JSON):
- L1 clients' pages: shop-wide facts only, no cohort. The baseline;
- L2 and L3 clients' pages: a first pass after start (each segment's first page reads its
  members' ledgers: the pass's largest figure), then the same pages again;
- the same pages with a consent entry recorded before each one, as a consent banner somewhere in
  the shop does on a live server: the ledger's mark moves every time;
- the same pages with an identity merge of two other clients before each one (a visitor who
  consented on the banner signs in): their consent entries move, and only their ledgers are read
  again (`core.marks.added`, migration 0012);
- the same pages four at a time on four threads, right after an event dated before the model's
  period (a late event): the data mark moves, one page refits the model and the others use the
  model of the data before (`segments.model_as_of`). The max is that refit.
Issue 4 sets no goal for this page; the figures say what the cohort costs beside the baseline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import Engine

from maison.bench import digests
from maison.bench.figures import percentile
from maison.consent import service as consent
from maison.consent.entities import EntryKind, LedgerEntry
from maison.core.db import reading
from maison.core.settings import IngestSettings
from maison.identity import repository as identity
from maison.ingest.service import ingest
from maison.models.segments import service as segments
from maison.personalize import cohort as cohorts
from maison.personalize import service

AT = digests.now_after(digests.MONDAY)


def timed_pages(engine: Engine, pairs: Sequence[tuple[str, str]], *, at: datetime,
                before_each: Callable[[int], None] | None = None) -> tuple[list[float], int]:
    """Milliseconds of each (client, product) page, and for how many of them the client had a cohort
    (asked again after the timing: a cohort rating also needs 20 raters of the piece among it)."""
    times, in_cohort = [], 0
    for i, (client, product) in enumerate(pairs):
        if before_each is not None:
            before_each(i)
        with engine.connect() as conn:
            started = time.perf_counter()
            service.product_page(conn, client, product, at=at)
            times.append((time.perf_counter() - started) * 1000)
            in_cohort += cohorts.cohort_of(conn, client, at=at) is not None
    return times, in_cohort


def run(engine: Engine, *, n_clients: int, n_products: int, sample: int, seed: int,
        say: Callable[[str], None]) -> dict[str, Any]:
    """Load the shop, keep the segment model, then time the pages (see the module doc)."""
    products = digests.catalogue(n_products, seed)
    say(f"  loading {n_clients:,} clients, {n_products:,} products, {digests.HISTORY_WEEKS} weeks of events")
    loaded = digests.load(engine, n_clients=n_clients, products=products, pages=digests.content_pages(products),
                          seed=seed, say=say)
    say("  fitting and keeping the segment model")
    started = time.perf_counter()
    with reading(engine) as conn:
        segments.model_as_of(conn, at=datetime.combine(digests.MONDAY, clock_time(), UTC), keep=True)
    fit_s = time.perf_counter() - started
    rng = random.Random(seed + 5)
    by_level: dict[str, list[str]] = {}
    for c in loaded.clients:
        by_level.setdefault(c.level, []).append(c.id)
    l1 = rng.sample(by_level.get("L1", []), min(sample, len(by_level.get("L1", []))))
    beyond = [c for level in ("L2", "L3") for c in by_level.get(level, [])]
    cohort = rng.sample(beyond, min(sample, len(beyond)))
    shown = [p.product_id for p in rng.sample(products, min(sample, len(products)))]
    everyone = [c.id for c in loaded.clients]

    def consent_banner(i: int) -> None:  # a statement by someone else, at the page's instant
        with engine.begin() as conn:
            consent.record(conn, [LedgerEntry(rng.choice(everyone), EntryKind.PURPOSE, AT - timedelta(minutes=i + 1),
                                              purpose="email_engagement", granted=True)], now=AT)

    paged = set(cohort) | set(l1)
    others = [c for c in everyone if c not in paged]
    rng.shuffle(others)
    pairs = iter(zip(others[::2], others[1::2], strict=False))

    def sign_in(_: int) -> None:  # two clients who are not paged merged into one, before the page
        pair = next(pairs, None)
        if pair is None:  # a shop too small for the sample: no one left to merge
            return
        with engine.begin() as conn:
            identity.merge(conn, survivor=pair[0], merged=pair[1], reason="admin", at=AT)

    say(f"  {len(l1):,} L1 pages (baseline), then {len(cohort):,} L2/L3 pages: cold, warm, under consent traffic, "
        "merges, four at a time after a late event")
    rows = []
    for measure, clients, hook in (("L1 client: no cohort (baseline)", l1, None),
                                   ("L2/L3 client: first pages after start", cohort, None),
                                   ("L2/L3 client: quiet store", cohort, None),
                                   ("L2/L3 client: a consent entry before each page", cohort, consent_banner),
                                   ("L2/L3 client: an identity merge before each page", cohort, sign_in)):
        times, in_cohort = timed_pages(engine, list(zip(clients, shown, strict=False)), at=AT, before_each=hook)
        rows.append(_row(measure, times, in_cohort))
    users = {c.id: c.user for c in loaded.clients}
    late_event(engine, [users[c] for c in cohort], shown[0])
    times, in_cohort = concurrent_pages(engine, list(zip(cohort, shown, strict=False)), at=AT, threads=4)
    rows.append(_row("L2/L3 client: 4 at once after a late event", times, in_cohort))
    return {"clients": n_clients, "products": n_products, "events": loaded.events, "seed": seed,
            "fit_and_keep_s": fit_s, "rows": rows}


def _row(measure: str, times: list[float], in_cohort: int) -> dict[str, Any]:
    return {"measure": measure, "pages": len(times), "in_cohort": in_cohort, "p50_ms": percentile(times, 50),
            "p99_ms": percentile(times, 99), "max_ms": max(times, default=0.0)}


def late_event(engine: Engine, user_ids: Sequence[str], product_id: str) -> None:
    """A view dated before the model's period, ingested now (an offline till's batch, a client's
    clock), by the first of these clients whose consent then let it be stored (the gate drops the
    others'): the model's data mark moves."""
    stamp = segments.fit_instant(AT) - timedelta(days=3)
    for user_id in user_ids:
        with engine.begin() as conn:
            result = ingest(conn, [{"type": "track", "event": "Product Viewed", "userId": user_id,
                                    "messageId": f"late-{user_id}", "timestamp": stamp.isoformat(),
                                    "properties": {"product_id": product_id, "dwell_seconds": 30}}],
                            source="bench", received_at=AT, limits=IngestSettings())
        if result.accepted:
            return
    raise RuntimeError("no client's consent let a late event be stored: nothing would be measured")


def concurrent_pages(engine: Engine, pairs: Sequence[tuple[str, str]], *, at: datetime,
                     threads: int) -> tuple[list[float], int]:
    """`timed_pages`, `threads` pages at a time, each on a read connection of its own (as the
    server's worker threads read)."""
    def one(pair: tuple[str, str]) -> tuple[float, bool]:
        with reading(engine) as conn:
            started = time.perf_counter()
            service.product_page(conn, pair[0], pair[1], at=at)
            took = (time.perf_counter() - started) * 1000
            return took, cohorts.cohort_of(conn, pair[0], at=at) is not None

    with ThreadPoolExecutor(threads) as pool:
        found = list(pool.map(one, pairs))
    return [t for t, _ in found], sum(1 for _, placed in found if placed)
