"""The one way readers get client events: filtered by the policy for their declared use."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from maison.consent import service as consent
from maison.consent.readers import Reader
from maison.core.clock import MICROSECOND
from maison.core.schema import events

_CHUNK = 500


def read(
    conn: Connection, reader: Reader, client_ids: Iterable[str], *, at: datetime,
    book: consent.ConsentBook | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Events of the reader's categories, timestamped before `at`, for the clients whose consent
    at `at` allows the reader's use of each category. Rows are `raw` messages with
    `data_category` and `client_id` added, in time order.

    `book`: the ledger of these clients that the caller loaded on this connection (a request
    that also needs the client's state itself), so it is not read a second time; the policy is
    still applied here, per client and category. A client missing from it has no consent on
    record and receives nothing.
    """
    ids = sorted(set(client_ids))
    if book is None:
        book = consent.book(conn, ids, answering=reader.categories)
    allowed = {c: _allowed(book, reader, c, at) for c in ids}
    wanted = sorted({cat for cats in allowed.values() for cat in cats})
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not wanted:
        return {}
    for start in range(0, len(ids), _CHUNK):
        chunk = [c for c in ids[start : start + _CHUNK] if allowed[c]]
        if not chunk:
            continue
        rows = conn.execute(
            select(events.c.client_id, events.c.data_category, events.c.raw)
            .where(events.c.client_id.in_(chunk), events.c.data_category.in_(wanted), events.c.timestamp < at)
            .order_by(events.c.client_id, events.c.timestamp, events.c.id)
        )
        for row in rows:
            if row.data_category in allowed[row.client_id]:
                found[row.client_id].append({**row.raw, "data_category": row.data_category, "client_id": row.client_id})
    return dict(found)


def read_about(
    conn: Connection, reader: Reader, client_ids: Iterable[str], *, at: datetime, event: str, product_id: str,
) -> dict[str, list[dict[str, Any]]]:
    """`read(conn, reader, client_ids, at=at)` narrowed to one event about one product: the rows
    `read` returns whose `event` is `event` and whose stored `product_id` is `product_id`.

    A product page asks what a cohort of hundreds or thousands of clients said about one piece.
    The few rows about it are found first (by the product index, with no client in the query: a
    cohort of 20,000 as 40 lists of 500 ids walked the product's rows 40 times, 370 ms at 100,000
    clients) and the policy is applied to the asked clients' rows alone, per client and category at
    `at`, as `read` applies it: the ledgers and events of the others are never loaded.
    """
    ids = set(client_ids)
    about = conn.execute(
        select(events.c.id, events.c.client_id)
        .where(events.c.product_id == product_id, events.c.event == event,
               events.c.data_category.in_(sorted(reader.categories)), events.c.timestamp < at)
        .order_by(events.c.client_id, events.c.timestamp, events.c.id)
    ).all()
    chosen = [r.id for r in about if r.client_id in ids]
    rows: dict[int, Row[Any, Any, Any, Any]] = {}
    for start in range(0, len(chosen), _CHUNK):
        rows.update((r.id, r) for r in conn.execute(
            select(events.c.id, events.c.client_id, events.c.data_category, events.c.raw)
            .where(events.c.id.in_(chosen[start : start + _CHUNK]))))
    candidates = [rows[i] for i in chosen]
    if not candidates:
        return {}
    book = consent.book(conn, {row.client_id for row in candidates}, answering=reader.categories)
    allowed = {c: _allowed(book, reader, c, at) for c in {row.client_id for row in candidates}}
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in candidates:
        if row.data_category in allowed[row.client_id]:
            found[row.client_id].append({**row.raw, "data_category": row.data_category, "client_id": row.client_id})
    return dict(found)


def _allowed(book: consent.ConsentBook, reader: Reader, client_id: str, at: datetime | None) -> set[str]:
    """The reader's categories this client's consent lets it use at the instant: the one policy."""
    return {cat for cat in reader.categories if book.may(client_id, cat, reader.use, at)}


class Prefetched:
    """Events of a set of clients read once up to an instant, answering `read` for earlier instants.

    A job that asks about thousands of clients, each at its own instant (a week's digests go out
    at each client's send time), would otherwise send one query per client and question. The
    rows are kept as stored; the policy is applied at each `read`, per client, category and
    instant, exactly as `read` applies it: nothing a later consent forbids is ever returned.
    """

    def __init__(self, clients: frozenset[str], rows: dict[str, list[tuple[datetime, str, dict[str, Any]]]],
                 book: consent.ConsentBook, until: datetime) -> None:
        self.clients = clients  # every client read, with rows or not
        self._rows = rows
        self._stamps = {c: [r[0] for r in found] for c, found in rows.items()}
        self.book = book
        self.until = until

    def stamps(self) -> list[datetime]:
        """Every row's timestamp, sorted: `read` at two instants with as many rows before each, and the
        same consent, gives the same answer."""
        return sorted(t for found in self._stamps.values() for t in found)

    def read(self, reader: Reader, client_ids: Iterable[str], *, at: datetime) -> dict[str, list[dict[str, Any]]]:
        """As `read(conn, reader, client_ids, at=at)`, for `at` no later than the prefetch's instant."""
        if at > self.until:
            raise ValueError(f"prefetched up to {self.until.isoformat()}, asked at {at.isoformat()}")
        found: dict[str, list[dict[str, Any]]] = {}
        for c in sorted(set(client_ids)):
            kept = [{**raw, "data_category": cat, "client_id": c} for _, cat, raw in self.rows(reader, c, at=at)]
            if kept:
                found[c] = kept
        return found

    def rows(self, reader: Reader, client_id: str, *, at: datetime) -> list[tuple[datetime, str, dict[str, Any]]]:
        """The rows `read(reader, [client_id], at=at)` returns, as stored: (timestamp, data category,
        raw message), the message not copied (a caller must not change it). For a reader of every
        pooled client's events (a segment fit), which needs neither a copy nor the client in each row."""
        if at > self.until:
            raise ValueError(f"prefetched up to {self.until.isoformat()}, asked at {at.isoformat()}")
        allowed = _allowed(self.book, reader, client_id, at)
        if not allowed or client_id not in self._rows:
            return []
        return [row for row in self._rows[client_id][: bisect_left(self._stamps[client_id], at)] if row[1] in allowed]


    def visible(self, reader: Reader, client_id: str) -> list[tuple[dict[str, Any], datetime, datetime | None]]:
        """Every row `read(reader, [client_id], at=t)` returns at some t up to the prefetch's instant,
        with when: `(row, start, end)`, one entry per span, meaning `read` at t holds the row exactly
        when start <= t < end (end None: until the prefetch's instant, inclusive).

        A job that asks `read` about many clients at many instants can then answer each instant
        with arithmetic on instants. The policy is `read`'s own (`_allowed`), asked once per span
        of constant consent: between two of the client's ledger instants every answer is the same.
        """
        allowed = [(a, b, _allowed(self.book, reader, client_id, asked)) for a, b, asked in self.book.spans(client_id)]
        found: list[tuple[dict[str, Any], datetime, datetime | None]] = []
        for stamp, category, raw in self._rows.get(client_id, ()):
            row: dict[str, Any] | None = None
            after = stamp + MICROSECOND  # `read` at t holds rows stamped before t
            for a, b, categories in allowed:
                start = after if a is None else max(a, after)
                if category in categories and (b is None or start < b):
                    row = row if row is not None else {**raw, "data_category": category, "client_id": client_id}
                    found.append((row, start, b))
        return found


def prefetch(
    conn: Connection, client_ids: Iterable[str], *, until: datetime, categories: Iterable[str],
    book: consent.ConsentBook | None = None,
) -> Prefetched:
    """Read the clients' events of these categories timestamped before `until`, for `Prefetched.read`."""
    ids = sorted(set(client_ids))
    wanted = sorted(set(categories))
    if book is None:
        book = consent.book(conn, ids, answering=wanted)
    rows: dict[str, list[tuple[datetime, str, dict[str, Any]]]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(events.c.client_id, events.c.timestamp, events.c.data_category, events.c.raw)
            .where(events.c.client_id.in_(ids[start : start + _CHUNK]), events.c.data_category.in_(wanted),
                   events.c.timestamp < until)
            .order_by(events.c.client_id, events.c.timestamp, events.c.id)
        )
        for client_id, stamp, category, raw in conn.execute(query):  # unpacked: a chunk is ~30,000 rows
            rows[client_id].append((stamp, category, raw))
    return Prefetched(frozenset(ids), dict(rows), book, until)
