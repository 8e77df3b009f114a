"""A weekly job's segment reads (`cohort.SegmentReads`) answer as the per-client path does.

The job reads a segment's members once and answers every client sent at any instant: who is
still pooled (their consent at the instant) and how many members bought each product (their
rows before the instant, as their consent then lets them be used). Each answer must be the
one `_still_pooled` and `signals.buyers` over `gateway`'s read give for that client and instant,
including across a member's consent change, an order stored between two instants, a client
who is not a member of the segment they are placed in, and a cohort that is not "the pooled
members without the client".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maison.analytics import aggregates
from maison.analytics.entities import Sale
from maison.consent.entities import EntryKind, LedgerEntry, Use
from maison.consent.gateway import Prefetched
from maison.consent.service import ConsentBook
from maison.models.segments.service import POOL_PURPOSES
from maison.personalize import cohort_signals as signals
from maison.personalize.cohort import MEMBERS, SegmentReads

T0 = datetime(2026, 3, 2, tzinfo=UTC)
US = timedelta(microseconds=1)
L3_PURPOSES = ("browsing_behaviour", "similar_customer_signals", "purchase_history")


def joined(client: str, at: datetime, purposes: tuple[str, ...] = L3_PURPOSES) -> list[LedgerEntry]:
    return [LedgerEntry(client, EntryKind.LEVEL, at, level="L3")] + [
        LedgerEntry(client, EntryKind.PURPOSE, at, purpose=p, granted=True) for p in purposes]


def order(client: str, at: datetime, *products: str) -> tuple[datetime, str, dict[str, Any]]:
    return at, "purchase_history", {"event": "Order Completed", "timestamp": at.isoformat(),
                                    "properties": {"products": [{"product_id": p} for p in products]}}


def segment() -> tuple[tuple[str, ...], Prefetched]:
    members = ("m1", "m2", "m3", "m4", "m5")
    ledger = {
        "m1": joined("m1", T0 - timedelta(days=60)),
        "m2": joined("m2", T0 - timedelta(days=60))  # withdraws similar-customer signals on Tuesday
        + [LedgerEntry("m2", EntryKind.PURPOSE, T0 + timedelta(days=1), purpose="similar_customer_signals",
                       granted=False)],
        "m3": joined("m3", T0 - timedelta(days=60), ("browsing_behaviour", "similar_customer_signals")),  # no purchases
        "m4": joined("m4", T0 - timedelta(days=60)),
        "m5": joined("m5", T0 - timedelta(days=60), ("purchase_history",)),  # never pooled
    }
    rows = {
        "m1": [order("m1", T0 - timedelta(days=9), "A", "B"), order("m1", T0 + timedelta(hours=30), "C")],
        "m2": [order("m2", T0 - timedelta(days=3), "A")],
        "m3": [order("m3", T0 - timedelta(days=3), "A")],
        "m4": [order("m4", T0 - timedelta(days=20), "B"), order("m4", T0 + timedelta(hours=10), "A")],
        "m5": [order("m5", T0 - timedelta(days=2), "A")],
    }
    book = ConsentBook(ledger)
    return members, Prefetched(frozenset(members), rows, book, T0 + timedelta(days=3))


def instants() -> list[datetime]:
    edges = [T0 + timedelta(hours=10), T0 + timedelta(days=1), T0 + timedelta(hours=30)]
    return sorted({T0, T0 + timedelta(days=2), *edges, *(t - timedelta(microseconds=1) for t in edges)})


def test_pooled_members_and_their_buyers_at_every_instant_are_those_of_the_per_client_path() -> None:
    members, prefetched = segment()
    reads = SegmentReads(prefetched, members)
    answers = set()
    for at in instants():
        now = reads.at(at)
        for client in (*members, "outsider"):  # "outsider": placed in the segment, not one of its members
            expected = tuple(m for m in members if m != client and all(
                prefetched.book.may(m, p, Use.PERSONALIZE, at) for p in POOL_PURPOSES))
            assert now.pooled_without(client) == expected, (client, at)
            rows = prefetched.read(MEMBERS, expected, at=at)
            counted = now.buyers(expected, client)
            assert counted == signals.buyers(r for kept in rows.values() for r in kept), (client, at)
            answers.add(str(counted))
            some = expected[:1]  # a cohort that is not "pooled without the client": counted member by member
            rows = prefetched.read(MEMBERS, some, at=at)
            assert now.buyers(some, client) == signals.buyers(r for kept in rows.values() for r in kept)
    assert len(answers) > 4  # the instants and clients change the answer: the test can fail


SHOP = {"A": 12, "B": 3, "C": 1}  # all clients' buyers per product ("D": none outside the segment)


def shop_counts() -> aggregates.BuyerCounts:
    """`SHOP` as a job holds it (`SharedReads.distinct_buyers`): counted from one read of the orders."""
    rows = [aggregates.OrderRow(T0 - timedelta(days=1), f"o-{pid}-{i}", (Sale(pid, 1, T0 - timedelta(days=1)),),
                                f"shopper-{i}")
            for pid, n in SHOP.items() for i in range(n)]
    counts, _ = aggregates.BuyersTimeline(rows, end=T0).counts_at(T0)
    assert dict(counts) == SHOP
    return counts


def test_affinities_at_every_instant_are_those_of_the_counted_buyers() -> None:
    """The lift of each product members bought at least twice, the client's own purchase left out:
    the segment's answer is `signals.affinities` of the per-client path's buyers."""
    members, prefetched = segment()
    reads = SegmentReads(prefetched, members)
    shop = shop_counts()  # as a job holds all clients' buyers: an array per instant, looked up by code
    lifts = set()
    for at in instants():
        now = reads.at(at)
        for client in (*members, "outsider"):
            without = now.pooled_without(client)
            rows = prefetched.read(MEMBERS, without, at=at)
            expected = signals.affinities(*signals.buyers(r for kept in rows.values() for r in kept), SHOP, 40,
                                          min_buyers=2)
            found = now.affinities(without, client, shop, 40, min_buyers=2)
            assert found == expected, (client, at)
            # in the order the segment's counts list them, as when they were built from `buyers`
            assert list(found or ()) == list(signals.affinities(*now.buyers(without, client) or ({}, 0), SHOP, 40,
                                                                min_buyers=2))
            lifts.add(str(found))
            counted = signals.buyers(r for kept in rows.values() for r in kept)
            for lift in (2.5, 9.0):  # only what the cohort buys markedly more often than clients overall
                strong = now.affinities(without, client, shop, 40, min_buyers=1, min_lift=lift)
                assert strong == signals.affinities(*counted, SHOP, 40, min_buyers=1, min_lift=lift), (client, lift)
                assert all(a.lift >= lift for a in (strong or {}).values())
                lifts.add(f"{lift}:{strong}")
            # no threshold at all: still only products someone other than the client bought (m1 alone buys C)
            assert now.affinities(without, client, shop, 40, min_buyers=0) == signals.affinities(
                *signals.buyers(r for kept in rows.values() for r in kept), SHOP, 40, min_buyers=0), (client, at)
            assert now.affinities(tuple(list(without)), client, shop, 40, min_buyers=2) == found  # an equal copy
            assert now.affinities(without[:1], client, shop, 40, min_buyers=2) is None  # not "all but the client"
            if client in now.pooled:
                assert now.affinities(now.pooled, client, shop, 40, min_buyers=2) is None  # the client among them
    assert len(lifts) > 2  # who bought what changes with the instant and the client


def test_a_cohort_with_members_the_segment_did_not_pool_is_not_answered_from_it() -> None:
    members, prefetched = segment()
    now = SegmentReads(prefetched, members).at(T0)
    assert now.buyers(("m1", "m5"), "m2") is None  # m5 is never pooled: the caller reads for itself
    assert now.buyers(("m1", "stranger"), "m2") is None


_PURPOSES = ("browsing_behaviour", "similar_customer_signals", "purchase_history")
_ENTRY = st.one_of(
    st.builds(lambda p, g, n: (p, g, n), st.sampled_from(_PURPOSES), st.booleans(), st.integers(0, 20)),
    st.builds(lambda lv, n: ("level", lv, n), st.sampled_from(["L1", "L2", "L3"]), st.integers(0, 20)),
)
_ORDER = st.tuples(st.integers(0, 20), st.lists(st.sampled_from("ABCD"), min_size=1, max_size=3))


@given(st.lists(st.tuples(st.lists(_ENTRY, max_size=5), st.lists(_ORDER, max_size=4)), min_size=1, max_size=6))
@settings(max_examples=120, deadline=None)
def test_any_ledgers_and_orders_give_the_per_client_answers(people: list[Any]) -> None:
    """Members who join, withdraw and grant back pooling or their purchases, at any level, with orders
    stamped at and around those changes (the same product in several orders): at every instant, and a
    microsecond either side of every change, the pooled members and buyers are the per-client path's."""
    members = tuple(f"m{i}" for i in range(len(people)))
    ledger, rows = {}, {}
    for m, (entries, orders) in zip(members, people, strict=True):
        ledger[m] = [LedgerEntry(m, EntryKind.LEVEL, T0 + timedelta(minutes=n), level=v) if k == "level" else
                     LedgerEntry(m, EntryKind.PURPOSE, T0 + timedelta(minutes=n), purpose=k, granted=v)
                     for k, v, n in entries]
        rows[m] = sorted((order(m, T0 + timedelta(minutes=n), *products) for n, products in orders),
                         key=lambda r: r[0])
    prefetched = Prefetched(frozenset(members), rows, ConsentBook(ledger), T0 + timedelta(minutes=30))
    reads = SegmentReads(prefetched, members)
    shop = shop_counts()
    for minute in range(-1, 23):
        for at in (T0 + timedelta(minutes=minute) + d for d in (-US, timedelta(0), US)):
            now = reads.at(at)
            pooled = tuple(m for m in members if all(
                prefetched.book.may(m, p, Use.PERSONALIZE, at) for p in POOL_PURPOSES))
            assert now.pooled == pooled, at
            seen = prefetched.read(MEMBERS, pooled, at=at)
            assert (now.counts, now.count) == signals.buyers(r for kept in seen.values() for r in kept), at
            assert now.bought == signals.bought_by(r for kept in seen.values() for r in kept), at
            for client in members:
                without = now.pooled_without(client)
                kept = prefetched.read(MEMBERS, without, at=at)
                counted = signals.buyers(r for found in kept.values() for r in found)
                assert now.buyers(without, client) == counted
                for threshold in (0, 1, 2):  # any product bought (none other buying it is not one), then by two
                    expected = signals.affinities(*counted, SHOP, 40, min_buyers=threshold)
                    found = now.affinities(without, client, shop, 40, min_buyers=threshold)
                    assert found == expected, (client, at, threshold)


def test_a_member_who_bought_a_product_twice_is_one_buyer_of_it() -> None:
    members = ("m1", "m2")
    ledger = {m: joined(m, T0 - timedelta(days=60)) for m in members}
    rows = {"m1": [order("m1", T0 - timedelta(days=9), "A", "B"), order("m1", T0 - timedelta(days=3), "A")],
            "m2": [order("m2", T0 - timedelta(days=3), "A")]}
    prefetched = Prefetched(frozenset(members), rows, ConsentBook(ledger), T0 + timedelta(days=3))
    now = SegmentReads(prefetched, members).at(T0)
    assert (now.counts, now.count) == ({"A": 2, "B": 1}, 2)
    seen = prefetched.read(MEMBERS, members, at=T0)
    assert (now.counts, now.count) == signals.buyers(r for found in seen.values() for r in found)
    assert now.buyers(now.pooled_without("m2"), "m2") == ({"A": 1, "B": 1}, 1)
