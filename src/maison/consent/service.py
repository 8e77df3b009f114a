"""Consent at the edges: record changes, load states, enforce withdrawals on stored data.

`may(conn, client, category, use)` is the one policy check for readers holding a connection;
batch readers load a `ConsentBook` once and ask it per client.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from maison.consent import repository as repo
from maison.consent.entities import ConsentState, EntryKind, LedgerEntry, PurposeState, Use
from maison.consent.exceptions import InvalidConsent
from maison.consent.purposes import LEVELS, OBSERVED, PURPOSES
from maison.consent.rules import may as may_in_state
from maison.consent.rules import timeline
from maison.core.clock import MICROSECOND
from maison.core.schema import events

METHODS = ("web", "app", "store", "associate", "email_link", "dashboard", "api")


class ConsentBook:
    """Ledger entries of a set of clients, answering for any instant without more queries.

    Each client's states are folded once into a timeline of change points, so asking for the
    state at an event's instant is a binary search, not a re-fold of the ledger.
    """

    def __init__(self, entries: Mapping[str, Sequence[LedgerEntry]], *,
                 answering: frozenset[str] | None = None) -> None:
        self.entries = entries
        self.answering = answering  # None: every category; else `may` only for these (see `book`)
        self._timelines: dict[str, tuple[list[datetime], list[ConsentState]]] = {}

    def with_ledgers_of(self, clients: Iterable[str], other: ConsentBook) -> ConsentBook:
        """This book with these clients' ledgers as `other` read them again (a cache brought up to
        date with the entries added since it was read); the other clients' folds are kept."""
        if other.answering != self.answering:
            raise ValueError("both books must answer for the same categories")
        again = set(clients)
        book = ConsentBook({**{c: e for c, e in self.entries.items() if c not in again}, **other.entries},
                           answering=self.answering)
        book._timelines = {c: t for c, t in self._timelines.items() if c not in again}
        return book

    def _timeline(self, client_id: str) -> tuple[list[datetime], list[ConsentState]]:
        cached = self._timelines.get(client_id)
        if cached is None:
            cached = self._timelines[client_id] = timeline(self.entries.get(client_id, ()))
        return cached

    def spans(self, client_id: str) -> list[tuple[datetime | None, datetime | None, datetime | None]]:
        """The client's spans of constant consent: `(start, end, asked)` for each `[start, end)` between
        their ledger's effective instants (None: unbounded), with `asked` an instant inside it. Every
        answer of this book at an instant of a span is its answer at `asked` (None: any instant)."""
        changes = self._timeline(client_id)[0]
        if not changes:
            return [(None, None, None)]
        ends: list[datetime | None] = [*changes[1:], None]
        return [(None, changes[0], changes[0] - MICROSECOND),
                *((a, b, a) for a, b in zip(changes, ends, strict=True))]

    def state(self, client_id: str | None, at: datetime | None = None) -> ConsentState:
        """The client's state at `at`. A book read `answering` some categories holds only their
        purposes' statements: ask it through `may`, which refuses the others."""
        if client_id is None:
            return ConsentState()
        instants, states = self._timeline(client_id)
        if not instants:
            return ConsentState()
        index = len(instants) if at is None else bisect_right(instants, at)
        return states[index - 1] if index else ConsentState()

    def may(self, client_id: str | None, category: str, use: Use, at: datetime | None = None) -> bool:
        if self.answering is not None and category not in self.answering:
            raise ValueError(f"this consent book was read to answer for {sorted(self.answering)}, not {category!r}")
        return may_in_state(self.state(client_id, at), category, use)


def book(conn: Connection, client_ids: Iterable[str], *, purposes: Iterable[str] | None = None,
         answering: Iterable[str] | None = None) -> ConsentBook:
    """The ledger of these clients; restricted to `purposes` it answers only collection of
    those purposes (level, restriction and objections are not loaded).

    `answering`: a book that answers `may` for these categories only, under every use. The
    policy (`rules.may`) decides a category from the statements of its own purpose, the level,
    restriction and objections, never from another purpose's statements, so those are not read:
    a job that reads the ledgers of a whole clientele for three categories skips most of a
    ledger (a consent banner states every purpose each time). Asked about another category,
    the book raises rather than answer from what it did not read."""
    if answering is None:
        return ConsentBook(repo.entries_for(conn, client_ids, purposes=purposes))
    only = frozenset(answering)
    return ConsentBook(repo.entries_for(conn, client_ids, purposes=purposes, statements_of=only), answering=only)


def state(conn: Connection, client_id: str, at: datetime | None = None) -> ConsentState:
    return book(conn, [client_id]).state(client_id, at)


def may(conn: Connection, client_id: str, category: str, use: Use, at: datetime | None = None) -> bool:
    """The policy check: may `category` of this client be put to `use` (at an instant)?"""
    return book(conn, [client_id]).may(client_id, category, use, at)


def may_collect(conn: Connection, items: Sequence[tuple[str, str, datetime]]) -> list[bool]:
    """May each (client, category, instant) be stored? The ingest gate's question, for a batch.

    `rules.may(state, category, COLLECT)` reads nothing of the state but the statement of the
    category's own purpose (restriction keeps data; levels and objections govern use). So the
    database is asked only for that statement at each instant, all probes in one query, and
    the answer goes through the one policy. `book(...).may(...)` gives the same answers; it
    loads every ledger row of the clients, which at ingest cost several times the insert.
    """
    probes = [(c, category, at) for c, category, at in items if category in PURPOSES]
    stated = repo.latest_statements(conn, probes) if probes else {}
    return [
        may_in_state(_stating(category, stated.get((c, category, at))), category, Use.COLLECT)
        for c, category, at in items
    ]


@cache
def _stating(category: str, granted: bool | None) -> ConsentState:
    """The smallest state holding one purpose statement (or none): what COLLECT reads."""
    if granted is None:
        return ConsentState()
    return ConsentState(purposes={category: PurposeState(granted, None)}, has_record=True)


def record(conn: Connection, entries: Sequence[LedgerEntry], *, now: datetime) -> int:
    """Append entries and enforce any withdrawal on data already stored. Returns events removed."""
    repo.append(conn, entries, recorded_at=now)
    withdrawn = [e for e in entries if e.kind == EntryKind.PURPOSE and e.granted is False and e.purpose in OBSERVED]
    if not withdrawn:
        return 0
    return purge_not_collectable(
        conn, {(e.client_id, str(e.purpose)) for e in withdrawn}, since=min(e.effective_at for e in withdrawn)
    )


def purge_not_collectable(conn: Connection, pairs: set[tuple[str, str]], *, since: datetime) -> int:
    """Delete stored events of (client, purpose) pairs timestamped while the purpose was withdrawn.

    Events can arrive out of order (offline devices, replays); an event that was stored before
    the withdrawal that precedes it in time arrived must not stay. One query finds candidates;
    the ledger is read only for clients that have any.
    """
    clients = sorted({c for c, _ in pairs})
    purposes = sorted({p for _, p in pairs})
    candidates: list[Row[Any, Any, Any, Any]] = []
    for start in range(0, len(clients), 500):
        candidates += conn.execute(
            select(events.c.id, events.c.client_id, events.c.data_category, events.c.timestamp).where(
                events.c.client_id.in_(clients[start : start + 500]),
                events.c.data_category.in_(purposes),
                events.c.timestamp >= since,
            )
        ).all()
    candidates = [r for r in candidates if (r.client_id, r.data_category) in pairs]
    if not candidates:
        return 0
    ledger = book(conn, {r.client_id for r in candidates})
    doomed = [r.id for r in candidates if not ledger.may(r.client_id, r.data_category, Use.COLLECT, r.timestamp)]
    for start in range(0, len(doomed), 500):
        conn.execute(delete(events).where(events.c.id.in_(doomed[start : start + 500])))
    return len(doomed)


def update(
    conn: Connection,
    client_id: str,
    *,
    purposes: Mapping[str, bool] | None = None,
    level: str | None = None,
    restriction: bool | None = None,
    object_marketing: bool | None = None,
    object_profiling: bool | None = None,
    method: str,
    at: datetime,
    actor: str | None = None,
    notice_version: str | None = None,
    geography: str | None = None,
) -> ConsentState:
    """Record a change made through the API, the dashboard or an associate; one step per change."""
    if method not in METHODS:
        raise InvalidConsent(f"method must be one of {', '.join(METHODS)}")
    unknown = sorted(set(purposes or {}) - set(PURPOSES))
    if unknown:
        raise InvalidConsent(f"unknown purposes {unknown}; allowed: {', '.join(PURPOSES)}")
    if level is not None and level not in LEVELS:
        raise InvalidConsent(f"level must be one of {', '.join(LEVELS)}")
    common = dict(client_id=client_id, effective_at=at, method=method, actor=actor,
                  notice_version=notice_version, geography=geography)
    entries: list[LedgerEntry] = []
    if level is not None:
        entries.append(LedgerEntry(kind=EntryKind.LEVEL, level=level, **common))  # type: ignore[arg-type]
    for purpose, granted in (purposes or {}).items():
        entries.append(LedgerEntry(kind=EntryKind.PURPOSE, purpose=purpose, granted=granted, **common))  # type: ignore[arg-type]
    for kind, flag in ((EntryKind.RESTRICTION, restriction), (EntryKind.OBJECT_MARKETING, object_marketing),
                       (EntryKind.OBJECT_PROFILING, object_profiling)):
        if flag is not None:
            entries.append(LedgerEntry(kind=kind, granted=flag, **common))  # type: ignore[arg-type]
    if not entries:
        raise InvalidConsent("nothing to change: give purposes, level, restriction or an objection")
    record(conn, entries, now=at)
    return state(conn, client_id)
