"""`sweeps.market_at` gives, at every instant, exactly what the per-instant aggregates give.

Events go through the ingest normaliser (`normalize`, `event_row`), so their typed columns
(product_id, order_id, timestamp) are what ingest would store, and are inserted directly: the
consent gate and identity resolution are not what is under test here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, select

from maison.analytics import aggregates
from maison.analytics.entities import Rating
from maison.analytics.sweeps import MarketFigures, market_at, market_rows
from maison.core.clock import to_local
from maison.core.schema import clients, events
from maison.ingest.repository import event_row
from maison.ingest.rules import normalize
from maison.personalize import trajectory
from maison.personalize.shop import MarketRatings, MarketSignals, signals_of
from maison.personalize.top_sellers import RECENT, WINDOW

T0 = datetime(2026, 1, 5, tzinfo=UTC)
RECEIVED = datetime(2026, 6, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
QUANTITIES: tuple[Any, ...] = (1, 2, 3, 7, 0, -2, "2", True, None, 2.5)  # invalid ones count as 1
RATINGS: tuple[Any, ...] = (1, 2, 3, 4, 5, 4.5, 0, 6, "5", True, None)  # 0, 6, "5", True, None are ignored


def track(event: str, at: datetime, client: str, message_id: str, **props: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": client, "messageId": message_id,
            "timestamp": at.isoformat(), "properties": props}


def store(engine: Engine, messages: Iterable[dict[str, Any]]) -> None:
    rows = [event_row(normalize(m, received_at=RECEIVED, max_event_bytes=32 * 1024), source="test",
                      client_id=m["userId"]) for m in messages]
    with engine.begin() as conn:
        known = set(conn.scalars(select(clients.c.id)))
        new = sorted({r["client_id"] for r in rows} - known)
        if new:
            conn.execute(clients.insert(), [{"id": c, "created_at": T0} for c in new])
        if rows:
            conn.execute(events.insert(), rows)


def per_instant(engine: Engine, t: datetime, *, window: timedelta, recent: timedelta) -> MarketFigures:
    """The figures as `personalize.shop.market_signals` reads them, one instant at a time (windows in
    elapsed time: the instant in UTC)."""
    t = t.astimezone(UTC)
    with engine.connect() as conn:
        sold = aggregates.sales(conn, start=t - window, end=t)
        return MarketFigures(
            units=aggregates.units_sold(sold, start=t - window, end=t),
            units_recent=aggregates.units_sold(sold, start=t - recent, end=t),
            viewers=aggregates.distinct_viewers(conn, start=t - window, end=t),
            wishlist_adds=aggregates.wishlist_adds(conn, start=t - window, end=t),
            ratings=aggregates.ratings(conn, before=t),
        )


def assert_matches(engine: Engine, instants: Sequence[datetime], *, window: timedelta, recent: timedelta) -> None:
    with engine.connect() as conn:
        swept = market_at(conn, instants, window=window, recent=recent)
        rows = market_rows(conn, instants, window=window, recent=recent)
    assert set(swept) == set(instants) == set(rows)
    for t in instants:
        assert swept[t] == per_instant(engine, t, window=window, recent=recent), t
        # the arrays a job reads answer as the figures do (`personalize.shop.MarketRatings`, `MarketSignals`)
        assert dict(MarketRatings(rows[t])) == swept[t].ratings
        for pid in (*rows[t].columns.names, "p-unknown"):
            assert rows[t].rating(pid) == swept[t].ratings.get(pid)
        assert dict(MarketSignals(rows[t])) == signals_of(swept[t])


def random_shop(seed: int, *, span: timedelta) -> list[dict[str, Any]]:
    """A seeded mix of every event the figures read, on a 15-minute grid so that times collide."""
    rng = random.Random(seed)
    slots = span // timedelta(minutes=15)
    people = [f"c{i}" for i in range(6)]
    products = [f"p{i}" for i in range(8)]

    def when() -> datetime:
        return T0 + rng.randrange(slots) * timedelta(minutes=15)

    out: list[dict[str, Any]] = []
    for i in range(90):  # views, often the same client viewing the same product again
        out.append(track("Product Viewed", when(), rng.choice(people[:3]) if i % 2 else rng.choice(people),
                         f"v{i}", product_id=rng.choice(products[:4]) if i % 3 else rng.choice(products)))
    out.append(track("Product Viewed", when(), "c0", "v-none"))  # no product: counted nowhere
    for i in range(25):
        out.append(track("Product Added to Wishlist", when(), rng.choice(people), f"w{i}",
                         product_id=rng.choice(products)))
    for i in range(30):
        lines = [{"product_id": rng.choice(products), "quantity": rng.choice(QUANTITIES)}
                 for _ in range(rng.randint(1, 3))]
        if i % 7 == 0:
            lines.append({"quantity": 2})  # a line without a product: skipped
        props: dict[str, Any] = {"products": lines}
        if i % 5:
            props["order_id"] = f"o{i}"  # else the messageId is the order
        out.append(track("Order Completed", when(), rng.choice(people), f"m{i}", **props))
    out.append(track("Order Completed", when(), "c1", "m-single", order_id="o-single", product_id="p1"))
    out.append(track("Order Completed", when(), "c1", "m-empty", order_id="o-empty"))  # no line items at all
    for i in range(30):
        out.append(track("Product Reviewed", when(), rng.choice(people), f"r{i}",
                         product_id=rng.choice(products), rating=rng.choice(RATINGS)))
    out.append(track("Email Opened", when(), "c2", "e0"))  # read by no figure
    return out


def duplicated_order(first: datetime, second: datetime) -> list[dict[str, Any]]:
    """One order sent twice under two messageIds, its second copy carrying other line items."""
    return [
        track("Order Completed", first, "c3", "dup-a", order_id="o-dup",
              products=[{"product_id": "p2", "quantity": 4}]),
        track("Order Completed", second, "c3", "dup-b", order_id="o-dup",
              products=[{"product_id": "p5", "quantity": 9}]),
    ]


def edge_instants(messages: Sequence[dict[str, Any]], *, window: timedelta, recent: timedelta) -> set[datetime]:
    """Instants exactly at events, exactly window or recent after them, and a microsecond either side."""
    found: set[datetime] = set()
    for m in messages:
        at = datetime.fromisoformat(m["timestamp"])
        found.update({at, at + US, at + window, at + window + US, at + recent, at + recent + US})
    return found


def test_an_instant_before_any_event_has_empty_figures(engine: Engine) -> None:
    store(engine, random_shop(1, span=timedelta(days=2)))
    with engine.connect() as conn:
        (figures,) = market_at(conn, [T0 - timedelta(days=1)], window=WINDOW, recent=RECENT).values()
    assert figures == MarketFigures({}, {}, {}, {}, {})
    assert_matches(engine, [T0 - timedelta(days=1), T0], window=WINDOW, recent=RECENT)


def test_no_instants_read_nothing(engine: Engine) -> None:
    with engine.connect() as conn:
        assert market_at(conn, [], window=WINDOW, recent=RECENT) == {}


def test_half_open_windows_and_the_first_row_of_a_duplicated_order(engine: Engine) -> None:
    window, recent = timedelta(hours=10), timedelta(hours=4)
    store(engine, [
        track("Product Viewed", T0, "c0", "v0", product_id="p1"),
        track("Product Viewed", T0 + timedelta(hours=8), "c0", "v1", product_id="p1"),  # same client again
        track("Product Viewed", T0 + timedelta(hours=9), "c1", "v2", product_id="p1"),
        track("Product Reviewed", T0, "c1", "r0", product_id="p1", rating=5),
        track("Product Reviewed", T0 + timedelta(hours=1), "c2", "r1", product_id="p1", rating=2),
        track("Product Reviewed", T0 + timedelta(hours=1), "c2", "r2", product_id="p1", rating=9),
        *duplicated_order(T0, T0 + timedelta(hours=9)),
    ])
    t = T0 + window  # v0 and the order's first copy are exactly at t - window: in the window
    with engine.connect() as conn:
        swept = market_at(conn, [t, t + US, T0 + timedelta(hours=9)], window=window, recent=recent)
    assert swept[T0 + timedelta(hours=9)].viewers == {"p1": 1}  # v2, exactly at t, is not yet in
    assert swept[t].viewers == {"p1": 2}
    assert swept[t].ratings == {"p1": Rating(3.5, 2)}
    # the order counts once, from its first copy; its second copy (at 9 h) is in the recent
    # window, but the first copy is not, so the order adds nothing to the recent units
    assert (swept[t].units, swept[t].units_recent) == ({"p2": 4}, {})
    # a microsecond later the first copy has left: the second copy is the order's first row
    assert (swept[t + US].units, swept[t + US].units_recent) == ({"p5": 9}, {"p5": 9})
    assert_matches(engine, sorted(swept), window=window, recent=recent)


def test_matches_the_aggregates_at_every_edge_instant(engine: Engine) -> None:
    window, recent = timedelta(hours=20), timedelta(hours=6)
    shop = random_shop(7, span=timedelta(days=3)) + duplicated_order(T0 + timedelta(hours=5), T0 + timedelta(hours=20))
    store(engine, shop)
    edges = edge_instants(shop, window=window, recent=recent)
    forced = edge_instants(shop[-2:], window=window, recent=recent) | {T0 - US, T0}
    instants = sorted(forced | set(random.Random(7).sample(sorted(edges), 110)))
    assert_matches(engine, instants, window=window, recent=recent)


def test_matches_the_aggregates_with_the_digest_windows_and_a_recent_longer_than_the_window(engine: Engine) -> None:
    shop = random_shop(11, span=timedelta(days=40)) + duplicated_order(T0 + timedelta(days=3), T0 + timedelta(days=27))
    store(engine, shop)
    digest = sorted(random.Random(11).sample(sorted(edge_instants(shop, window=WINDOW, recent=RECENT)), 60))
    assert_matches(engine, digest + [T0 + timedelta(days=33, hours=1)], window=WINDOW, recent=RECENT)
    longer = sorted(random.Random(12).sample(sorted(edge_instants(shop, window=RECENT, recent=WINDOW)), 30))
    assert_matches(engine, longer, window=RECENT, recent=WINDOW)


def test_an_instant_in_another_zone_is_the_same_instant(engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    store(engine, random_shop(3, span=timedelta(days=1)))
    t = (T0 + timedelta(hours=12)).astimezone(ZoneInfo("America/New_York"))
    with engine.connect() as conn:
        swept = market_at(conn, [t], window=timedelta(hours=5), recent=timedelta(hours=2))
    assert swept[t] == per_instant(engine, t.astimezone(UTC), window=timedelta(hours=5), recent=timedelta(hours=2))


HOUR = timedelta(hours=1)
KINDS = ("view", "wishlist", "order", "order", "review")
event_specs = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 12), st.integers(0, 2), st.integers(0, 2),
              st.integers(0, 3), st.sampled_from(QUANTITIES + RATINGS)),
    max_size=14,
)


def from_specs(specs: Sequence[tuple[str, int, int, int, int, Any]]) -> list[dict[str, Any]]:
    """Events on an hourly grid from (kind, hour, client, product, order, value) tuples."""
    out = []
    for i, (kind, hour, client, product, order, value) in enumerate(specs):
        at, who, pid = T0 + hour * HOUR, f"c{client}", f"p{product}"
        if kind == "view":
            out.append(track("Product Viewed", at, who, f"h{i}", product_id=pid))
        elif kind == "wishlist":
            out.append(track("Product Added to Wishlist", at, who, f"h{i}", product_id=pid))
        elif kind == "order":  # few order ids, so one order often has several rows
            out.append(track("Order Completed", at, who, f"h{i}", order_id=f"o{order}",
                             products=[{"product_id": pid, "quantity": value}]))
        else:
            out.append(track("Product Reviewed", at, who, f"h{i}", product_id=pid, rating=value))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(specs=event_specs, hours=st.lists(st.integers(-1, 17), min_size=1, max_size=4),
       window_hours=st.integers(1, 5), recent_hours=st.integers(0, 6))
def test_any_small_shop_matches_the_aggregates(
    engine: Engine, specs: list[tuple[str, int, int, int, int, Any]], hours: list[int], window_hours: int,
    recent_hours: int,
) -> None:
    with engine.begin() as conn:
        conn.execute(delete(events))
    store(engine, from_specs(specs))
    assert_matches(engine, [T0 + h * HOUR for h in hours], window=window_hours * HOUR, recent=recent_hours * HOUR)


def test_windows_are_elapsed_time_for_an_instant_in_a_zone_whose_clocks_just_changed(engine: Engine) -> None:
    """20:15 in New York two days after the clocks went forward: the window is the last 30 x 24 h.

    Subtracting 30 days from a zone-aware instant gives the same wall time a month earlier, an hour
    later in elapsed time; a view in that hour belongs to the window, and so to the figures."""
    from zoneinfo import ZoneInfo

    from maison.personalize.shop import market_signals

    t = datetime(2026, 3, 10, 20, 15, tzinfo=ZoneInfo("America/New_York"))
    utc = t.astimezone(UTC)
    early = utc - WINDOW + timedelta(minutes=30)  # in the last 720 h, before 20:15 New York time 30 days earlier
    store(engine, [
        track("Product Viewed", early, "c1", "v1", product_id="p1"),
        track("Product Added to Wishlist", early, "c1", "w1", product_id="p1"),
        track("Order Completed", utc - RECENT + timedelta(minutes=30), "c2", "o1", order_id="o1",
              products=[{"product_id": "p1", "quantity": 2}]),
    ])
    with engine.connect() as conn:
        swept = market_at(conn, [t], window=WINDOW, recent=RECENT)[t]
        signals = market_signals(conn, at=t)["p1"]
    assert (swept.viewers, swept.wishlist_adds, swept.units_recent) == ({"p1": 1}, {"p1": 1}, {"p1": 2})
    assert (signals.viewers, signals.wishlist_adds, signals.units_recent) == (1, 1, 2)
    assert swept == per_instant(engine, t, window=WINDOW, recent=RECENT)


def test_a_jobs_one_timeline_of_the_orders_answers_each_client_as_their_own_read_of_sales_would(engine: Engine) -> None:
    """`cohort.SharedReads.timeline` (the weekly job's L3 digests) reads every order once; a client's
    view `since` their start gives the top sellers at every instant that a timeline of
    `aggregates.sales(start, end)` gives: each order once, from its first row after the start."""
    from maison.personalize.cohort import SharedReads
    from maison.personalize.trajectory import SalesTimeline
    from personalize_factory import product

    shop = random_shop(11, span=timedelta(days=3)) + duplicated_order(T0 + timedelta(hours=5), T0 + timedelta(hours=40))
    store(engine, shop)
    catalogue = [product(f"p{i}", ("Knitwear", "Home")[i % 2]) for i in range(8)]
    horizon = T0 + timedelta(days=4)
    rng = random.Random(5)
    edges = [T0 + timedelta(minutes=15 * rng.randrange(4 * 24 * 3)) for _ in range(24)]
    edges += [T0 + timedelta(hours=5), T0 + timedelta(hours=5) + US, T0 + timedelta(hours=40), horizon]
    differ = 0
    with engine.connect() as conn:
        shared = SharedReads(conn, until=horizon)
        windows = [(a, b) for a in edges[::3] for b in edges[1::3] if a < b]
        assert windows
        with patch.object(trajectory, "_BLOCK", 2):  # kept totals every other line: both ways of counting
            kept_often = SharedReads(conn, until=horizon).timeline(catalogue)
        for start, end in windows:
            mine = shared.timeline(catalogue).since(start)
            often = kept_often.since(start)
            alone = SalesTimeline(aggregates.sales(conn, start=start, end=end), catalogue)
            everything = SalesTimeline(aggregates.sales(conn, start=T0 - timedelta(days=40), end=end), catalogue)
            def top(timeline: SalesTimeline, category: str, at: datetime) -> set[str]:
                return {p.product_id for p in catalogue if timeline.is_top_seller(category, p.product_id, at)}

            for at in [t for t in edges if start < t <= end]:
                for category in ("Knitwear", "Home"):
                    assert top(mine, category, at) == top(alone, category, at), (start, at)
                    assert top(often, category, at) == top(mine, category, at), (start, at)
                    differ += top(mine, category, at) != top(everything, category, at)
    assert differ  # where the view starts matters (the duplicated order): the test can fail


def buyers_by_definition(conn: Connection, *, before: datetime) -> tuple[dict[str, int], int]:
    """Distinct clients per product with an order row holding it before the instant, and distinct
    clients with any line: read and counted directly, as a reference."""
    buyers: dict[str, set[str]] = {}
    everyone: set[str] = set()
    rows = conn.execute(select(events.c.client_id, events.c.product_id, events.c.raw)
                        .where(events.c.event == "Order Completed", events.c.timestamp < before))
    for row in rows:
        for sale in aggregates.line_items(row.raw, row.product_id, before):
            buyers.setdefault(sale.product_id, set()).add(row.client_id)
            everyone.add(row.client_id)
    return {pid: len(ids) for pid, ids in buyers.items()}, len(everyone)


def test_a_jobs_one_read_of_the_orders_counts_each_instants_buyers_as_the_aggregate_does(engine: Engine) -> None:
    """`aggregates.BuyersTimeline` (the weekly job's cohort lifts) answers `distinct_buyers` at any
    instant up to its horizon, at and a microsecond either side of every order, and a duplicated
    order's second copy makes its client a buyer of what only that copy holds."""
    second = T0 + timedelta(hours=40)
    shop = random_shop(12, span=timedelta(days=3)) + [
        track("Order Completed", T0 + timedelta(hours=5), "c-dup", "dup-c", order_id="o-dup2",
              products=[{"product_id": "p2", "quantity": 1}]),
        track("Order Completed", second, "c-dup", "dup-d", order_id="o-dup2",
              products=[{"product_id": "p-only", "quantity": 1}]),
    ]
    store(engine, shop)
    horizon = T0 + timedelta(days=4)
    instants = sorted({t for m in shop if m["event"] == "Order Completed"
                       for at in [datetime.fromisoformat(m["timestamp"])] for t in (at - US, at, at + US)} | {horizon})
    with engine.connect() as conn:
        timeline = aggregates.BuyersTimeline.read(conn, end=horizon)
        answers = {t: timeline.at(t) for t in instants}
        asked = ["p-only", "p2", "never-bought", *sorted({p for a in answers.values() for p in a[0]})]
        for t in instants:
            assert answers[t] == buyers_by_definition(conn, before=t), t
            assert aggregates.distinct_buyers(conn, before=t) == answers[t]
            counts, clients = timeline.counts_at(t)  # the same, as an array for a list of products
            assert (dict(counts), clients) == answers[t]
            assert counts.among(asked).tolist() == [answers[t][0].get(p, 0) for p in asked], t
        try:
            timeline.at(horizon + US)
        except ValueError as error:
            assert "after the orders read" in str(error)
        else:
            raise AssertionError("an instant past the read must be refused")
    assert len({str(a) for a in answers.values()}) > 5  # the answers move with the instant: the test can fail
    assert "p-only" not in answers[second][0] and answers[second + US][0]["p-only"] == 1


def opens_by_definition(conn: Connection, *, start: datetime, end: datetime) -> tuple[dict[int, int], int]:
    """Every stored `Email Opened` in `[start, end)`, counted one by one at its local minute."""
    minutes: dict[int, int] = {}
    clients_seen = set()
    for row in conn.execute(select(events).where(events.c.event == "Email Opened")):
        if start <= row.timestamp < end:
            local = to_local(row.timestamp, row.timezone, row.utc_offset_minutes)
            minutes[local.hour * 60 + local.minute] = minutes.get(local.hour * 60 + local.minute, 0) + 1
            clients_seen.add(row.client_id)
    return minutes, len(clients_seen)


def test_one_read_of_the_opens_answers_every_window_as_counting_them_does(engine: Engine) -> None:
    """`aggregates.OpenTimesTimeline` (the send-time prior of every zone and week of a job) reads the
    opens once and reads again only the part of a later window past what it holds: asked windows that
    grow to the left, to the right, shrink and touch an open to the microsecond, it counts each
    window's local minutes and clients as going through every stored open does."""
    rng = random.Random(5)
    zones = ("Europe/London", "America/New_York", "Asia/Tokyo", None)
    opens = []
    for i in range(120):
        at = T0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        offset = rng.choice((0, 60, -300, 540))
        message = track("Email Opened", at.astimezone(timezone(timedelta(minutes=offset))), f"c{rng.randrange(9)}",
                        f"open-{i}", campaign_id="weekly-edit")
        zone = rng.choice(zones)
        if zone is not None:
            message["context"] = {"timezone": zone}
        opens.append(message)
    store(engine, opens)
    instants = sorted(datetime.fromisoformat(m["timestamp"]).astimezone(UTC) for m in opens)
    mid = instants[60]
    windows = [(mid, mid + timedelta(days=2)), (mid - timedelta(days=3), mid + timedelta(days=1)),
               (mid - timedelta(days=3), mid + timedelta(days=6)), (instants[10], instants[90]),
               (instants[10] + US, instants[90] + US), (T0 - timedelta(days=1), T0 + timedelta(days=30)),
               (mid, mid)]
    with engine.connect() as conn:
        timeline = aggregates.OpenTimesTimeline(conn)
        answers = [timeline.over(start, end) for start, end in windows]
        for (start, end), found in zip(windows, answers, strict=True):
            assert (dict(found.minutes), found.clients) == opens_by_definition(conn, start=start, end=end)
            assert aggregates.email_open_times(conn, start=start, end=end) == found
    assert answers[5].total == 120 and answers[6].total == 0
    assert len({str(a) for a in answers}) == len(windows)  # every window differs: the test can fail
