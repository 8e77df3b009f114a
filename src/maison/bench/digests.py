"""`maison bench digests`: the weekly digest job's throughput for every client, against one at a time.

Issue 4's goal is digests for 100k clients in under 2 minutes on 2 cores. The store is bulk-loaded
(clients, identities, consent ledger, catalogue, content pages, events) as `bench.recommend.load`
does: ingesting millions of events through the HTTP path would measure ingestion. Event rows are
built with the ingest normaliser (`ingest.rules.normalize`, `ingest.repository.event_values`), so
`data_category`, `product_id`, `dwell_seconds` and the other typed columns are the ones ingestion
would store; only the consent gate is skipped, and the synthetic clients emit nothing their
consent would have dropped (L1 clients have no observed behaviour).

Synthetic clients (seeded, never real data) follow the alex-morgan scenario's message shapes: an
`identify` with `declared_categories` (1-3 of the catalogue's) and a `timezone` (stated together,
so stored under `declared_categories`, as ingest classifies it), and from L2 twelve weeks of
`Email Opened` at a habitual local time with noise, product views with `dwell_seconds`, wishlist
saves, searches, cart adds, `Checkout Started`, orders with line items, reviews with ratings and
fit answers, and content-page reads. The ledger puts ~10% at L1, ~70% at L2 and ~20% at L3.

Measured in one run: the load (reported, not judged); `personalize.weekly.run_week` for every
client of the week starting `MONDAY`, with `now` after every send instant; and the baseline,
`service.produce` one client at a time in its own transaction, on a random sample of clients for
the week before. The baseline runs after the job and on another week so that neither sees the
other's records: the job's digests are sent after every instant of the week before, and every
read of a digest (sent picks, derived data) is bounded by its own send instant.

The job's CPU seconds (its workers' included) are reported beside its wall time: 2 cores give
240 CPU seconds in 120 s, and a job that keeps both busy can only go faster by doing less. With
workers, the fit of the week's segment model is reported apart (it comes before them).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine, text

from maison.bench import cpu
from maison.bench import recommend as rb
from maison.catalog import repository as catalog_repo
from maison.catalog.entities import ContentPage, Product
from maison.consent.purposes import LEVEL_OF, PURPOSES
from maison.core.schema import clients as clients_table
from maison.core.schema import consent_ledger, events, identities
from maison.core.settings import IngestSettings
from maison.ingest.repository import EVENT_COLUMNS, event_values
from maison.ingest.rules import normalize

MONDAY = date(2026, 3, 2)  # the measured week (2026-W10); fixed, so a seed always gives the same store
HISTORY_WEEKS = 12
GOAL_CLIENTS = 100_000
GOAL_SECONDS = 120.0
ZONES = ("Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo")
LEVEL_SHARES = (("L1", 0.10), ("L2", 0.70), ("L3", 0.20))
APPAREL = frozenset({"Knitwear", "Outerwear", "Workwear", "Tailoring", "Footwear"})
SIZES = ("XS", "S", "M", "L", "XL")
AESTHETICS = ("minimalist", "architectural", "classic", "vintage-inspired")
FIT = ("runs small", "true to size", "true to size", "true to size", "runs large")
QUERIES = ("navy blazer", "cashmere jumper", "silk scarf", "linen shirt", "leather tote", "wool coat", "ceramic vase",
           "office to dinner", "gift for her", "sustainable knitwear")
SOURCE = "bench"


# ---------------------------------------------------------------- the synthetic shop


def catalogue(n: int, seed: int) -> list[Product]:
    """`bench.recommend.products`, with sizes XS-XL and stock per size for apparel (so fit answers and
    sizing apply), one aesthetic tag each, stylist pairings, and some launches in the last month."""
    rng = random.Random(seed + 1)
    base = rb.products(n, seed)
    found = []
    for i, p in enumerate(base):
        sizes, stock = p.sizes, p.stock
        if p.category in APPAREL:
            sizes = SIZES
            stock = {"online": {s: 0 if rng.random() < 0.15 else rng.randrange(1, 12) for s in SIZES}}
        pairs = tuple(base[(i + d) % n].product_id for d in (10, 20)) if rng.random() < 0.3 else ()
        launched = MONDAY - timedelta(days=rng.randrange(3, 30) if rng.random() < 0.05 else rng.randrange(60, 700))
        found.append(replace(p, sizes=sizes, stock=stock, tags=(*p.tags, rng.choice(AESTHETICS)), pairs_with=pairs,
                             launched_on=launched))
    return found


def content_pages(catalogue: Sequence[Product]) -> list[ContentPage]:
    """A dozen editorial pages of each kind the digest reads, some featuring products."""
    kinds = ("sourcing", "impact", "education", "styling_guide", "editorial")
    return [
        ContentPage(page_id=f"CP-{i:03d}", name=f"{kind.replace('_', ' ').title()} {i}", path=f"/journal/{kind}-{i}",
                    content_type=kind, topics=(kind, rb.CATEGORIES[i % len(rb.CATEGORIES)].lower()),
                    features_products=tuple(p.product_id for p in catalogue[i * 7 : i * 7 + 3]),
                    published_on=MONDAY - timedelta(days=20 + 30 * i))
        for i, kind in enumerate(kinds * 3)
    ]


@dataclass(frozen=True, slots=True)
class Client:
    """One synthetic client: who they are, what they consented to, and their habits."""

    index: int
    id: str
    user: str
    level: str
    zone: str
    favourites: tuple[str, ...]  # declared categories, also where most of their behaviour goes
    open_minute: int | None  # habitual local minute of the day they open emails (None: they do not)
    joined: datetime


def clients(n: int, seed: int, *, monday: date = MONDAY) -> list[Client]:
    rng = random.Random(seed)
    start = datetime.combine(monday - timedelta(weeks=HISTORY_WEEKS), clock_time(), UTC)
    levels, weights = [lv for lv, _ in LEVEL_SHARES], [w for _, w in LEVEL_SHARES]
    found = []
    for i in range(n):
        level = rng.choices(levels, weights)[0]
        engaged = level != "L1" and rng.random() < 0.85
        found.append(Client(
            index=i, id=f"cl_dg{i:010d}", user=f"cus_dg{i:08d}", level=level, zone=rng.choice(ZONES),
            favourites=tuple(rng.sample(rb.CATEGORIES, rng.randint(1, 3))),
            open_minute=rng.randrange(7 * 60, 22 * 60) if engaged else None,
            joined=start - timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(1440)),
        ))
    return found


def ledger_rows(client: Client) -> list[dict[str, Any]]:
    """The consent ledger of one client: every purpose their level includes granted, the level chosen."""
    def row(**kw: Any) -> dict[str, Any]:
        return {"client_id": client.id, "effective_at": client.joined, "recorded_at": client.joined, "method": "web",
                "source": "onboarding", **kw}

    rank = ("L1", "L2", "L3").index(client.level)
    granted = [row(kind="purpose", purpose=p, granted=("L1", "L2", "L3").index(LEVEL_OF[p]) <= rank, level=None)
               for p in PURPOSES]
    return [*granted, row(kind="level", purpose=None, granted=None, level=client.level)]


def messages(client: Client, rng: random.Random, by_category: dict[str, list[Product]],
             pages: Sequence[ContentPage], *, monday: date) -> Iterator[dict[str, Any]]:
    """One client's Segment messages (alex-morgan shapes), up to the Tuesday of the measured week."""
    zone = ZoneInfo(client.zone)
    start = datetime.combine(monday - timedelta(weeks=HISTORY_WEEKS), clock_time(), UTC)
    end = datetime.combine(monday + timedelta(days=1), clock_time(), UTC)
    span = int((end - start).total_seconds() // 60)
    k = 0

    def message(kind: str, at: datetime, channel: str = "web", **body: Any) -> dict[str, Any]:
        nonlocal k
        k += 1
        return {"type": kind, **body, "userId": client.user, "messageId": f"dg{client.index}-{k}",
                "timestamp": at.isoformat(), "context": {"timezone": client.zone, "channel": channel}}

    def when() -> datetime:
        return start + timedelta(minutes=rng.randrange(span), seconds=rng.randrange(60))

    def pick() -> Product:
        category = rng.choice(client.favourites) if rng.random() < 0.75 else rng.choice(rb.CATEGORIES)
        return rng.choice(by_category[category][:400])

    def item(p: Product) -> dict[str, Any]:
        return {"product_id": p.product_id, "name": p.name, "category": p.category, "price": float(p.price),
                "currency": "EUR"}

    def variant(p: Product) -> str:
        return rng.choice(p.sizes)

    yield message("identify", client.joined + timedelta(minutes=5), traits={
        "first_name": "Client", "last_name": f"N{client.index}", "email": f"{client.user}@example.net",
        "timezone": client.zone, "declared_categories": list(client.favourites),
        "age_band": rng.choice(("25-34", "35-44", "45-54")),
    })
    bought: list[tuple[Product, datetime]] = []
    for n in range(rng.choice((0, 0, 1, 1, 2, 3))):  # orders: the contract, kept at every level
        lines = [pick() for _ in range(rng.randint(1, 3))]
        at = when()
        products = [{**item(p), "quantity": 1, "variant": variant(p)} for p in lines]
        total = sum(float(p.price) for p in lines)
        if client.level != "L1":
            yield message("track", at - timedelta(minutes=3), event="Checkout Started", properties={
                "checkout_id": f"chk_dg{client.index}-{n}", "cart_id": f"cart_dg{client.index}-{n}", "value": total,
                "revenue": total, "currency": "EUR", "products": products})
        yield message("track", at, event="Order Completed", properties={
            "order_id": f"ord_dg{client.index}-{n}", "total": total, "revenue": total, "subtotal": total,
            "shipping": 0, "tax": round(total / 6, 2), "currency": "EUR", "products": products,
            "checkout_id": f"chk_dg{client.index}-{n}"})
        bought += [(p, at) for p in lines]
    for p, at in bought:
        if rng.random() < 0.3:
            review: dict[str, Any] = {"product_id": p.product_id, "review_id": f"rev_dg{client.index}-{p.product_id}",
                                      "rating": rng.choice((3, 4, 4, 5, 5, 5))}
            if len(p.sizes) > 1:
                review["fit"] = rng.choice(FIT)
            yield message("track", at + timedelta(days=rng.randint(5, 12)), event="Product Reviewed",
                          properties=review)
    if client.level == "L1":
        return  # no observed behaviour without its consent: ingestion would have dropped it
    for _ in range(int(rng.expovariate(1 / 18)) + 2):
        p = pick()
        yield message("track", when(), rng.choice(("web", "web", "mobile")), event="Product Viewed",
                      properties={**item(p), "dwell_seconds": rng.randrange(5, 400),
                                  "url": f"https://shop.example.com/products/{p.product_id}"})
        if rng.random() < 0.08:
            yield message("track", when(), event="Product Added to Wishlist",
                          properties={**item(p), "wishlist_id": f"wl_dg{client.index}", "wishlist_name": "Saved"})
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        yield message("track", when(), event="Products Searched", properties={"query": rng.choice(QUERIES)})
    for n in range(rng.choice((0, 0, 1, 2))):
        p = pick()
        yield message("track", when(), event="Product Added", properties={
            **item(p), "cart_id": f"cart_dg{client.index}-c{n}", "quantity": 1, "variant": variant(p)})
    for _ in range(rng.choice((0, 1, 2, 4))):
        page = rng.choice(pages)
        yield message("page", when(), name=page.name, properties={
            "path": page.path, "url": f"https://shop.example.com{page.path}", "title": page.name,
            "dwell_seconds": rng.randrange(10, 600), "content_type": page.content_type})
    if client.open_minute is not None:  # the weekly email, opened on most Tuesdays near their usual time
        for week in range(HISTORY_WEEKS):
            if rng.random() < 0.25:
                continue
            day = monday - timedelta(weeks=HISTORY_WEEKS - week) + timedelta(days=rng.choice((1, 1, 1, 2)))
            minute = min(max(client.open_minute + int(rng.gauss(0, 25)), 0), 1439)
            local = datetime.combine(day, clock_time(minute // 60, minute % 60, rng.randrange(60)), zone)
            yield message("track", local.astimezone(UTC), "email", event="Email Opened", properties={
                "email_id": f"digest-{client.user}-{day.isoformat()}", "email_subject": "Your week",
                "campaign_id": "weekly-digest", "campaign_name": "Weekly Digest"})


def rows_of(client: Client, rng: random.Random, by_category: dict[str, list[Product]],
            pages: Sequence[ContentPage], *, monday: date, max_event_bytes: int) -> list[tuple[Any, ...]]:
    """The client's messages as the event rows ingestion would store (`EVENT_COLUMNS` order)."""
    found = []
    for m in messages(client, rng, by_category, pages, monday=monday):
        received = datetime.fromisoformat(m["timestamp"]) + timedelta(seconds=2)
        event = normalize(m, received_at=received, max_event_bytes=max_event_bytes)
        found.append(event_values(event, source=SOURCE, client_id=client.id))
    return found


# ---------------------------------------------------------------- the store


@dataclass(frozen=True, slots=True)
class Loaded:
    clients: list[Client]
    events: int
    seconds: float


def load(engine: Engine, *, n_clients: int, products: Sequence[Product], pages: Sequence[ContentPage], seed: int,
         monday: date = MONDAY, say: Callable[[str], None]) -> Loaded:
    """Bulk-load catalogue, content pages, clients, identities, ledger and events (COPY on PostgreSQL)."""
    started = time.perf_counter()
    people = clients(n_clients, seed, monday=monday)
    rng = random.Random(seed + 2)
    by_category: dict[str, list[Product]] = {}
    for p in products:
        by_category.setdefault(p.category, []).append(p)
    limit = IngestSettings().max_event_bytes
    with engine.begin() as conn:
        catalog_repo.upsert_products(conn, products, now=datetime.combine(monday, clock_time(), UTC))
        catalog_repo.upsert_content_pages(conn, pages)
        conn.execute(clients_table.insert(), [{"id": c.id, "created_at": c.joined} for c in people])
        conn.execute(identities.insert(), [{"kind": "user", "value": c.user, "client_id": c.id, "linked_at": c.joined}
                                           for c in people])
    loaded = 0
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection() if postgres else None
    try:
        for part in range(0, len(people), 2_000):
            batch: list[tuple[Any, ...]] = []
            ledger: list[dict[str, Any]] = []
            for c in people[part : part + 2_000]:
                batch += rows_of(c, rng, by_category, pages, monday=monday, max_event_bytes=limit)
                ledger += ledger_rows(c)
            with engine.begin() as conn:
                conn.execute(consent_ledger.insert(), ledger)
                if not postgres:
                    conn.execute(events.insert(), [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in batch])
            if raw is not None:
                with raw.cursor().copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                    for r in batch:
                        copy.write_row((*r[:-1], orjson.dumps(r[-1]).decode()))
                raw.commit()
            loaded += len(batch)
            if (part // 2_000) % 10 == 9 or part + 2_000 >= len(people):
                say(f"    {min(part + 2_000, len(people)):,} clients, {loaded:,} events "
                    f"({time.perf_counter() - started:.0f} s)")
    finally:
        if raw is not None:
            raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return Loaded(people, loaded, time.perf_counter() - started)


# ---------------------------------------------------------------- the measures


def now_after(monday: date) -> datetime:
    """An instant after every send instant of the week (Tuesday 21:45 in the westernmost zone)."""
    return datetime.combine(monday + timedelta(days=3), clock_time(), UTC)


def baseline(engine: Engine, client_ids: Sequence[str], monday: date) -> tuple[float, int]:
    """Seconds to `service.produce` each client's digest of the week alone, one transaction each;
    and how many were sent."""
    from maison.personalize import service

    week = monday.isocalendar()[1]
    sent = 0
    t = time.perf_counter()
    for client in client_ids:
        with engine.begin() as conn:
            sent += service.produce(conn, client, monday, week=week) is not None
    return time.perf_counter() - t, sent


def rows(*, clients_n: int, load_s: float, events_n: int, job: Any, base_n: int, base_s: float,
         base_sent: int) -> list[dict[str, Any]]:
    """The figures table: load, the job, the one-at-a-time baseline, each with its extrapolation."""
    job_rate = job.clients / job.seconds if job.seconds > 0 else 0.0
    base_rate = base_n / base_s if base_s > 0 else 0.0
    job_100k = GOAL_CLIENTS / job_rate if job_rate else float("inf")
    return [
        {"measure": "store load (bulk, normalised rows)", "clients": clients_n, "events": events_n,
         "seconds": load_s, "clients_per_s": clients_n / load_s if load_s else 0.0, "sent": None, "withheld": None,
         "extrapolated_100k_s": None, "goal": "", "passed": None},
        {"measure": "weekly.run_week, every client", "clients": job.clients, "events": None, "seconds": job.seconds,
         "clients_per_s": job_rate, "sent": job.sent, "withheld": job.withheld, "already_sent": job.already_sent,
         "not_due": job.not_due, "extrapolated_100k_s": job_100k, "goal": "100k clients < 120 s",
         "passed": job_100k < GOAL_SECONDS},
        {"measure": "service.produce, one client per transaction (baseline)", "clients": base_n, "events": None,
         "seconds": base_s, "clients_per_s": base_rate, "sent": base_sent, "withheld": base_n - base_sent,
         "extrapolated_100k_s": GOAL_CLIENTS / base_rate if base_rate else float("inf"),
         "extrapolated_all_s": clients_n / base_rate if base_rate else float("inf"), "goal": "", "passed": None},
    ]


def run(engine: Engine, *, n_clients: int, n_products: int, sample: int, seed: int, say: Callable[[str], None],
        monday: date = MONDAY, workers: int = 1) -> dict[str, Any]:
    """Load, run the week's job for every client, then the baseline on a sample; the figures."""
    from maison.personalize import weekly

    products = catalogue(n_products, seed)
    say(f"  loading {n_clients:,} clients, {n_products:,} products, {HISTORY_WEEKS} weeks of events")
    loaded = load(engine, n_clients=n_clients, products=products, pages=content_pages(products), seed=seed,
                  monday=monday, say=say)
    say(f"  loaded {loaded.events:,} events in {loaded.seconds:.0f} s; running the job of {monday} for every client")
    done = 0
    t = last = time.perf_counter()

    def progress(n: int) -> None:  # every tenth of the clients, and at least once a minute on a long run
        nonlocal done, last
        before, done = done, done + n
        now = time.perf_counter()
        if before * 10 // max(n_clients, 1) != done * 10 // max(n_clients, 1) or now - last > 60:
            last = now
            say(f"    {done:,} clients ({now - t:.0f} s)")

    cpu_before = cpu.process_tree()
    job = weekly.run_week(engine, monday, now=now_after(monday), progress=progress, workers=workers)
    job_cpu = cpu.process_tree() - cpu_before  # the workers have ended: their CPU is counted
    say(f"  the job used {job_cpu:,.1f} s of CPU: {job_cpu / job.seconds:.2f} cores busy on average"
        + (f"; the segment model's fit took {job.fit_seconds:.1f} s" if job.fit_seconds is not None else ""))
    previous = monday - timedelta(days=7)
    picked = random.Random(seed + 3).sample([c.id for c in loaded.clients], min(sample, n_clients))
    say(f"  baseline: service.produce for {len(picked):,} random clients, week of {previous}, one transaction each")
    base_s, base_sent = baseline(engine, picked, previous)
    levels = {c.id: c.level for c in loaded.clients}
    return {
        "clients": n_clients, "products": n_products, "events": loaded.events, "seed": seed, "week": job.week,
        "workers": workers,
        "baseline_week": previous.isoformat(), "levels": {lv: sum(1 for v in levels.values() if v == lv)
                                                           for lv, _ in LEVEL_SHARES},
        "rows": rows(clients_n=n_clients, load_s=loaded.seconds, events_n=loaded.events, job=job,
                     base_n=len(picked), base_s=base_s, base_sent=base_sent),
        "job": {"week": job.week, "clients": job.clients, "sent": job.sent, "withheld": job.withheld,
                "already_sent": job.already_sent, "not_due": job.not_due, "seconds": job.seconds,
                "cpu_seconds": job_cpu, "fit_seconds": job.fit_seconds},
    }
