"""The ingest gate's set-based question `may_collect` answers exactly as the full consent book.

The gate asks the database only for each purpose's last statement at each event's instant;
these tests hold it to the policy folded from the whole ledger, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from maison.consent import service
from maison.consent.entities import EntryKind, LedgerEntry, Use
from maison.consent.purposes import CONSENT_RECORD, IDENTITY, L1_PURPOSES, PURPOSES

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def statement(client: str, purpose: str, granted: bool, minutes: int) -> LedgerEntry:
    return LedgerEntry(client_id=client, kind=EntryKind.PURPOSE, purpose=purpose, granted=granted,
                       effective_at=T0 + timedelta(minutes=minutes), method="web")


def test_grant_then_withdrawal_is_judged_at_each_events_instant(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        service.record(conn, [statement("cl_a", "browsing_behaviour", True, 0),
                              statement("cl_a", "browsing_behaviour", False, 10)], now=T0)
        answers = service.may_collect(conn, [
            ("cl_a", "browsing_behaviour", T0 - timedelta(minutes=1)),  # before any consent
            ("cl_a", "browsing_behaviour", T0),  # at the grant's own instant
            ("cl_a", "browsing_behaviour", T0 + timedelta(minutes=5)),
            ("cl_a", "browsing_behaviour", T0 + timedelta(minutes=10)),  # withdrawn at that instant
            ("cl_a", "purchase_history", T0 + timedelta(minutes=5)),  # L1: kept unless withdrawn
            ("cl_unknown", "browsing_behaviour", T0),  # no ledger: privacy by default
            ("cl_unknown", IDENTITY, T0),  # always kept
        ])
    assert answers == [False, True, True, False, True, False, True]


def test_same_instant_statements_are_decided_by_the_one_recorded_last(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        service.record(conn, [statement("cl_b", "search_history", True, 0),
                              statement("cl_b", "search_history", False, 0)], now=T0)
        service.record(conn, [statement("cl_c", "search_history", False, 0),
                              statement("cl_c", "search_history", True, 0)], now=T0)
        answers = service.may_collect(conn, [("cl_b", "search_history", T0), ("cl_c", "search_history", T0)])
        book = service.book(conn, ["cl_b", "cl_c"])
    assert answers == [book.may("cl_b", "search_history", Use.COLLECT, T0),
                       book.may("cl_c", "search_history", Use.COLLECT, T0)] == [False, True]


def test_random_ledgers_get_the_books_answers(engine):  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    clients = [f"cl_{n}" for n in range(12)]
    entries = [
        statement(rng.choice(clients), rng.choice(PURPOSES), rng.random() < 0.6, rng.randrange(0, 120, 5))
        for _ in range(150)
    ]
    categories = [*PURPOSES, CONSENT_RECORD, IDENTITY, "unknown_category"]
    probes = [
        (rng.choice(clients), rng.choice(categories), T0 + timedelta(minutes=rng.randrange(-5, 130)))
        for _ in range(600)
    ]
    with engine.begin() as conn:
        service.record(conn, entries, now=T0)
        answers = service.may_collect(conn, probes)
        book = service.book(conn, clients)
    expected = [book.may(c, cat, Use.COLLECT, at) for c, cat, at in probes]
    assert answers == expected
    assert 0 < sum(answers) < len(answers)  # the sample exercises both outcomes
    assert any(cat in L1_PURPOSES and not ok for (_, cat, _), ok in zip(probes, answers, strict=True))


def test_a_few_probes_at_a_time_get_the_same_answers_in_any_time_zone(engine):  # type: ignore[no-untyped-def]
    """One event's probes take a plain statement on PostgreSQL (up to four), a batch's the probe
    table: both answer as the book, whatever the offset the instants carry."""
    rng = random.Random(11)
    clients = [f"cl_{n}" for n in range(6)]
    entries = [
        statement(rng.choice(clients), rng.choice(PURPOSES), rng.random() < 0.6, rng.randrange(0, 120, 5))
        for _ in range(60)
    ]
    east = timezone(timedelta(hours=2))
    probes = [
        (rng.choice(clients), rng.choice(PURPOSES), (T0 + timedelta(minutes=rng.randrange(-5, 130))).astimezone(east))
        for _ in range(120)
    ]
    with engine.begin() as conn:
        service.record(conn, entries, now=T0)
        book = service.book(conn, clients)
        expected = [book.may(c, cat, Use.COLLECT, at) for c, cat, at in probes]
        for size in (1, 2, 4, 5):
            answers = [a for i in range(0, len(probes), size) for a in service.may_collect(conn, probes[i:i + size])]
            assert answers == expected, size
    assert 0 < sum(expected) < len(expected)


def test_a_book_read_for_some_categories_answers_for_them_as_the_whole_ledger(engine):  # type: ignore[no-untyped-def]
    """A job that reads a clientele's ledgers for three categories skips the other purposes'
    statements: for its categories, under every use and at every instant, the book answers as
    the whole ledger does (levels, restrictions and objections included); about any other
    category it refuses to answer rather than answer from what it did not read."""
    rng = random.Random(13)
    clients = [f"cl_{n}" for n in range(15)]
    entries = [statement(rng.choice(clients), rng.choice(PURPOSES), rng.random() < 0.7, rng.randrange(0, 120, 5))
               for _ in range(300)]
    kinds = (EntryKind.LEVEL, EntryKind.RESTRICTION, EntryKind.OBJECT_MARKETING, EntryKind.OBJECT_PROFILING)
    for _ in range(60):
        kind = rng.choice(kinds)
        entries.append(LedgerEntry(
            client_id=rng.choice(clients), kind=kind, effective_at=T0 + timedelta(minutes=rng.randrange(0, 120, 5)),
            level=rng.choice(("L1", "L2", "L3")) if kind is EntryKind.LEVEL else None,
            granted=None if kind is EntryKind.LEVEL else rng.random() < 0.3, method="web"))
    some = ("browsing_behaviour", "similar_customer_signals", "purchase_history")
    with engine.begin() as conn:
        service.record(conn, entries, now=T0)
        whole = service.book(conn, clients)
        limited = service.book(conn, clients, answering=some)
    assert sum(len(v) for v in limited.entries.values()) < sum(len(v) for v in whole.entries.values())
    answers = [(whole.may(c, cat, use, at), limited.may(c, cat, use, at))
               for c in clients for cat in some for use in Use
               for at in (None, *(T0 + timedelta(minutes=m) for m in range(-5, 130, 5)))]
    assert [a for a, _ in answers] == [b for _, b in answers]
    assert 0 < sum(a for a, _ in answers) < len(answers)
    with pytest.raises(ValueError, match="search_history"):
        limited.may(clients[0], "search_history", Use.PERSONALIZE, T0)
