"""Consent at the edges: record changes, load states, enforce withdrawals on stored data.

`may(conn, client, category, use)` is the one policy check for readers holding a connection;
batch readers load a `ConsentBook` once and ask it per client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from maison.consent import repository as repo
from maison.consent.entities import ConsentState, EntryKind, LedgerEntry, Use
from maison.consent.exceptions import InvalidConsent
from maison.consent.purposes import LEVELS, OBSERVED, PURPOSES
from maison.consent.rules import may as may_in_state
from maison.consent.rules import state_at
from maison.core.schema import events

METHODS = ("web", "app", "store", "associate", "email_link", "dashboard", "api")


@dataclass(frozen=True)
class ConsentBook:
    """Ledger entries of a set of clients, answering for any instant without more queries."""

    entries: Mapping[str, Sequence[LedgerEntry]]

    def state(self, client_id: str | None, at: datetime | None = None) -> ConsentState:
        if client_id is None:
            return ConsentState()
        return state_at(self.entries.get(client_id, ()), at)

    def may(self, client_id: str | None, category: str, use: Use, at: datetime | None = None) -> bool:
        return may_in_state(self.state(client_id, at), category, use)


def book(conn: Connection, client_ids: Iterable[str]) -> ConsentBook:
    return ConsentBook(repo.entries_for(conn, client_ids))


def state(conn: Connection, client_id: str, at: datetime | None = None) -> ConsentState:
    return book(conn, [client_id]).state(client_id, at)


def may(conn: Connection, client_id: str, category: str, use: Use, at: datetime | None = None) -> bool:
    """The policy check: may `category` of this client be put to `use` (at an instant)?"""
    return book(conn, [client_id]).may(client_id, category, use, at)


def record(conn: Connection, entries: Sequence[LedgerEntry], *, now: datetime) -> int:
    """Append entries and enforce any withdrawal on data already stored. Returns events removed."""
    repo.append(conn, entries, recorded_at=now)
    withdrawn = {(e.client_id, e.purpose) for e in entries if e.kind == EntryKind.PURPOSE and e.granted is False}
    removed = 0
    for client_id, purpose in sorted(withdrawn):  # type: ignore[type-var]
        if purpose in OBSERVED:
            removed += purge_not_collectable(conn, client_id, purpose)  # type: ignore[arg-type]
    return removed


def purge_not_collectable(conn: Connection, client_id: str, purpose: str) -> int:
    """Delete stored events of `purpose` timestamped while it was withdrawn.

    Events can arrive out of order (offline devices, replays); an event that was stored before
    the withdrawal that precedes it in time arrived must not stay.
    """
    entries = repo.entries_for(conn, [client_id]).get(client_id, [])
    rows = conn.execute(
        select(events.c.id, events.c.timestamp).where(events.c.client_id == client_id, events.c.data_category == purpose)
    ).all()
    doomed = [r.id for r in rows if not may_in_state(state_at(entries, r.timestamp), purpose, Use.COLLECT)]
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
