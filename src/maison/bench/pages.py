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
  the shop does on a live server: the ledger's mark moves every time.
Issue 4 sets no goal for this page; the figures say what the cohort costs beside the baseline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import Engine

from maison.bench import digests
from maison.bench.figures import percentile
from maison.consent import service as consent
from maison.consent.entities import EntryKind, LedgerEntry
from maison.core.db import reading
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

    say(f"  {len(l1):,} L1 pages (baseline), then {len(cohort):,} L2/L3 pages: cold, warm, under consent traffic")
    rows = []
    for measure, clients, hook in (("L1 client: no cohort (baseline)", l1, None),
                                   ("L2/L3 client: first pages after start", cohort, None),
                                   ("L2/L3 client: quiet store", cohort, None),
                                   ("L2/L3 client: a consent entry before each page", cohort, consent_banner)):
        times, in_cohort = timed_pages(engine, list(zip(clients, shown, strict=False)), at=AT, before_each=hook)
        rows.append({"measure": measure, "pages": len(times), "in_cohort": in_cohort,
                     "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99),
                     "max_ms": max(times, default=0.0)})
    return {"clients": n_clients, "products": n_products, "events": loaded.events, "seed": seed,
            "fit_and_keep_s": fit_s, "rows": rows}
