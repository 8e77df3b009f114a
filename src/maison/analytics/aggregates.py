"""Counts over all clients' stored events, in a time window: no output names or describes a client.

This module reads the events table directly (it is on the storage-layer allowlist of the
policy-gateway contract test) because an aggregate is not a read of one client's data: units
sold, overall ratings, distinct viewers and wishlist saves per product are shop-wide facts, the
kind the README lists as "aggregate, non-personal inputs". Events of erased clients are gone
from the table, so every figure recomputed after an erasure no longer includes them. Windows
are half-open, `[start, end)`, and nothing at or after `end` is read, so a figure "as of t"
does not change when later events are ingested.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from maison.analytics.entities import OpenTimes, Rating, Sale
from maison.core import marks
from maison.core.clock import epoch_micros, to_local
from maison.core.schema import events

ORDER_COMPLETED = "Order Completed"
PRODUCT_REVIEWED = "Product Reviewed"
PRODUCT_VIEWED = "Product Viewed"
WISHLIST_ADD = "Product Added to Wishlist"
EMAIL_OPENED = "Email Opened"


def sales(conn: Connection, *, start: datetime, end: datetime) -> list[Sale]:
    """Line items of every `Order Completed` in `[start, end)`, each order counted once.

    An order sent twice under two messageIds is one order (by `order_id`); a line without a
    positive whole quantity counts as one unit, as the profile's purchase history reads it.
    """
    return first_of_each_order(order_rows(conn, start=start, end=end))


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One stored `Order Completed`: when, which order (order_id, else message_id), its line items."""

    at: datetime
    order: str
    sales: tuple[Sale, ...]
    client_id: str = ""  # who bought (a distinct-buyers count reads it)


def order_rows(conn: Connection, *, start: datetime | None = None, end: datetime) -> list[OrderRow]:
    """Every `Order Completed` in `[start, end)`, in (timestamp, id) order, line items parsed."""
    query = (
        select(events.c.order_id, events.c.message_id, events.c.timestamp, events.c.product_id, events.c.raw,
               events.c.client_id)
        .where(events.c.event == ORDER_COMPLETED, events.c.timestamp < end)
        .order_by(events.c.timestamp, events.c.id)
    )
    if start is not None:
        query = query.where(events.c.timestamp >= start)
    return [OrderRow(row.timestamp, row.order_id or row.message_id,
                     tuple(line_items(row.raw, row.product_id, row.timestamp)), row.client_id)
            for row in conn.execute(query)]


def first_of_each_order(rows: Iterable[OrderRow]) -> list[Sale]:
    """The line items of each order's first row among `rows` (an order sent twice counts once)."""
    seen: set[str] = set()
    found: list[Sale] = []
    for row in rows:
        if row.order in seen:
            continue
        seen.add(row.order)
        found.extend(row.sales)
    return found


def line_items(raw: Mapping[str, Any], product_id: str | None, at: datetime) -> Iterable[Sale]:
    """The sales one `Order Completed` row stands for (public: `sweeps` must read orders the same way)."""
    props = raw.get("properties") or {}
    lines = props.get("products") if isinstance(props, Mapping) else None
    if not isinstance(lines, list) or not lines:
        return [Sale(product_id, 1, at)] if product_id else []
    items = []
    for line in lines:
        pid = line.get("product_id") if isinstance(line, Mapping) else None
        if not isinstance(pid, str) or not pid:
            continue
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            quantity = 1
        items.append(Sale(pid, quantity, at))
    return items


def units_sold(found: Iterable[Sale], *, start: datetime, end: datetime) -> dict[str, int]:
    """Units per product among `found` with an instant in `[start, end)`."""
    units: Counter[str] = Counter()
    for sale in found:
        if start <= sale.at < end:
            units[sale.product_id] += sale.quantity
    return dict(units)


def ratings(conn: Connection, *, before: datetime, product_ids: Iterable[str] | None = None) -> dict[str, Rating]:
    """Mean and count of all `Product Reviewed` ratings (1-5) timestamped before `before`."""
    query = select(events.c.product_id, events.c.raw).where(
        events.c.event == PRODUCT_REVIEWED, events.c.timestamp < before, events.c.product_id.is_not(None)
    )
    if product_ids is not None:
        query = query.where(events.c.product_id.in_(sorted(set(product_ids))))
    scores: dict[str, list[int]] = defaultdict(list)
    for row in conn.execute(query):
        score = rating_score(row.raw)
        if score is not None:
            scores[row.product_id].append(score)
    return {pid: Rating(sum(v) / len(v), len(v)) for pid, v in scores.items()}


def rating_score(raw: Mapping[str, Any]) -> int | None:
    """The rating a `Product Reviewed` counts as: a number in 1-5, a fraction truncated; else none."""
    value = (raw.get("properties") or {}).get("rating")
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value <= 5:
        return int(value)
    return None


def stored_total(conn: Connection, *, since: marks.Mark | None = None) -> marks.Mark:
    """A mark of all stored events that moves on any insert or delete (`core.marks.total`):
    `since` itself when nothing changed since it was read."""
    return marks.total(conn, events, since=since)


def stored_before(conn: Connection, *, before: datetime, previous: tuple[marks.Mark, marks.Mark] | None,
                  now: marks.Mark) -> tuple[marks.Mark, marks.Mark]:
    """Events timestamped before an instant: how many, and the largest id (a cache's high-water
    mark), with the events' `stored_total` that goes with them, to pass back in `previous`.

    A model fitted on the events before an instant is stale exactly when this changes: a late
    event adds a row (and a larger id), an erasure or a consent withdrawal removes some.
    `previous`: this mark and `stored_total` when it was last read (None: never); `now`:
    `stored_total` now. Counted from the rows added since where that says it (`core.marks`)."""
    return marks.before_since(conn, events.c.timestamp, before, previous=previous, now=now)


def distinct_buyers(conn: Connection, *, before: datetime) -> tuple[dict[str, int], int]:
    """Distinct clients who bought each product before an instant, and distinct clients who bought anything."""
    return BuyersTimeline.read(conn, end=before).at(before)


class BuyersTimeline:
    """`distinct_buyers` at any instant up to `end`, from one read of the orders before `end`.

    A weekly job asks at every distinct send instant of the week; each `distinct_buyers` call
    reads and parses every order in the store. A client has bought a product before t exactly
    when their first order row holding it is before t, so the first instants are kept, sorted,
    and each question is a bisect and a count. Built from `order_rows` (in stored order), which
    a job also reads for the shop's sales timeline: one read of the orders serves both.
    """

    @classmethod
    def read(cls, conn: Connection, *, end: datetime) -> BuyersTimeline:
        return cls(order_rows(conn, end=end), end=end)

    def __init__(self, rows: Iterable[OrderRow], *, end: datetime) -> None:
        first_pair: dict[tuple[str, str], datetime] = {}
        first_client: dict[str, datetime] = {}
        for row in rows:
            if row.at >= end:
                continue
            for sale in row.sales:
                first_pair.setdefault((row.client_id, sale.product_id), row.at)
                first_client.setdefault(row.client_id, row.at)
        pairs = sorted((t, pid) for (_, pid), t in first_pair.items())
        self.end = end
        self._times = [t for t, _ in pairs]
        self._names = sorted({pid for _, pid in pairs})
        self._index = {pid: i for i, pid in enumerate(self._names)}
        self._codes = np.array([self._index[pid] for _, pid in pairs], dtype=np.int64)
        self._clients = sorted(first_client.values())
        self._translations: dict[tuple[int, int], tuple[Sequence[str], np.ndarray]] = {}

    @property
    def names(self) -> Sequence[str]:
        """The products bought before `end`, by code."""
        return self._names

    def at(self, before: datetime) -> tuple[dict[str, int], int]:
        """`distinct_buyers(conn, before=before)`, for `before` up to `end`."""
        counts, clients = self.counts_at(before)
        return counts.as_dict(), clients

    def counts_at(self, before: datetime) -> tuple[BuyerCounts, int]:
        """`at(before)` with the buyers per product as `BuyerCounts`: the pairs first bought before
        it counted per product in C (a clientele's pairs are hundreds of thousands), and no
        dictionary built unless asked."""
        if before > self.end:
            raise ValueError(f"{before.isoformat()} is after the orders read (up to {self.end.isoformat()})")
        counted = np.bincount(self._codes[: bisect_left(self._times, before)], minlength=len(self._names))
        return BuyerCounts(self, counted), bisect_left(self._clients, before)

    def codes_of(self, names: Sequence[str]) -> np.ndarray:
        """Each name's code in this timeline, or the code past the last one (never bought before
        `end`); kept for the last few lists asked (a job asks for each segment's at every instant)."""
        key = (id(names), len(names))
        found = self._translations.get(key)
        if found is None or found[0] is not names:
            index, past = self._index, len(self._names)
            found = self._translations[key] = (names, np.array([index.get(n, past) for n in names], dtype=np.int64))
            while len(self._translations) > 32:
                del self._translations[next(iter(self._translations))]
        return found[1]


class BuyerCounts(Mapping[str, int]):
    """Distinct buyers per product at an instant (`BuyersTimeline.counts_at`): a mapping of the
    products bought (worked out when first read as one), and `among`, the counts of a list of
    products as an array. A job's cohorts look up thousands of products at hundreds of
    instants; one dictionary per instant, then one look-up per product, was seconds of a run."""

    def __init__(self, timeline: BuyersTimeline, counted: np.ndarray) -> None:
        self._timeline, self._counted = timeline, counted
        self._padded = np.append(counted, 0)  # a last code for products never bought
        self._dict: dict[str, int] | None = None

    def among(self, names: Sequence[str]) -> np.ndarray:
        """The buyers of each product named (0 for one never bought), in the order given."""
        found: np.ndarray = self._padded[self._timeline.codes_of(names)]
        return found

    def as_dict(self) -> dict[str, int]:
        """The counts as a dictionary of their own (the products bought, each with its buyers)."""
        return dict(self._mapping())

    def _mapping(self) -> dict[str, int]:
        if self._dict is None:
            names = self._timeline.names
            self._dict = {names[i]: int(self._counted[i]) for i in np.flatnonzero(self._counted).tolist()}
        return self._dict

    def __getitem__(self, product_id: str) -> int:
        return self._mapping()[product_id]

    def get(self, product_id: str, default: Any = None) -> Any:
        return self._mapping().get(product_id, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


def co_purchases(conn: Connection, *, before: datetime) -> dict[str, Counter[str]]:
    """For each product, how many orders before an instant also held each other product (each order once)."""
    rows = conn.execute(
        select(events.c.order_id, events.c.message_id, events.c.product_id, events.c.raw)
        .where(events.c.event == ORDER_COMPLETED, events.c.timestamp < before)
    )
    together: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[str] = set()
    for row in rows:
        order = row.order_id or row.message_id
        if order in seen:
            continue
        seen.add(order)
        items = {sale.product_id for sale in line_items(row.raw, row.product_id, before)}
        for pid in items:
            together[pid].update(items - {pid})
    return dict(together)


def distinct_viewers(conn: Connection, *, start: datetime, end: datetime) -> dict[str, int]:
    """Distinct clients who viewed each product in `[start, end)`."""
    query = (
        select(events.c.product_id, func.count(func.distinct(events.c.client_id)))
        .where(events.c.event == PRODUCT_VIEWED, events.c.timestamp >= start, events.c.timestamp < end,
               events.c.product_id.is_not(None))
        .group_by(events.c.product_id)
    )
    return {pid: int(n) for pid, n in conn.execute(query).tuples()}


def wishlist_adds(conn: Connection, *, start: datetime, end: datetime) -> dict[str, int]:
    """`Product Added to Wishlist` events per product in `[start, end)`."""
    query = (
        select(events.c.product_id, func.count())
        .where(events.c.event == WISHLIST_ADD, events.c.timestamp >= start, events.c.timestamp < end,
               events.c.product_id.is_not(None))
        .group_by(events.c.product_id)
    )
    return {pid: int(n) for pid, n in conn.execute(query).tuples()}


def email_open_times(conn: Connection, *, start: datetime, end: datetime) -> OpenTimes:
    """Local minute of day of every `Email Opened` in `[start, end)`, over all clients.

    Local time is the zone the event's context carried, else the offset of its timestamp: an
    approximation good enough for a shop-wide histogram, and it needs no client's profile.
    """
    return OpenTimesTimeline(conn).over(start, end)


class OpenTimesTimeline:
    """`email_open_times` over any window, from the opens read once and kept as arrays.

    A weekly job asks for the clientele's histogram over a half-year window for each time zone
    of its clients and for two weeks: windows that overlap all but a few hours. Each
    `email_open_times` call read and converted every open of its window again (eight calls: a
    quarter of a 2,000-client job's fixed cost, and linear in the clientele). Here the opens
    already read are kept sorted by instant with their local minute and client; a window
    reaching past them reads only the part missing, and each answer is a slice and a count.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._span: tuple[datetime, datetime] | None = None
        self._times = np.zeros(0, dtype=np.int64)
        self._minutes = np.zeros(0, dtype=np.int64)
        self._clients = np.zeros(0, dtype=np.int64)
        self._codes: dict[str, int] = {}

    def over(self, start: datetime, end: datetime) -> OpenTimes:
        """`email_open_times(conn, start=start, end=end)`."""
        if end <= start:
            return OpenTimes({}, 0)
        self._cover(start, end)
        lo, hi = np.searchsorted(self._times, [epoch_micros(start), epoch_micros(end)], side="left")
        counts = np.bincount(self._minutes[lo:hi], minlength=MINUTES_A_DAY)
        return OpenTimes({int(m): int(counts[m]) for m in np.flatnonzero(counts)},
                         len(np.unique(self._clients[lo:hi])))

    def _cover(self, start: datetime, end: datetime) -> None:
        if self._span is None:
            missing = [(start, end)]
            self._span = (start, end)
        else:
            first, last = self._span
            missing = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
            self._span = (min(start, first), max(end, last))
        for a, b in missing:
            self._read(a, b)

    def _read(self, start: datetime, end: datetime) -> None:
        rows = self.conn.execute(
            select(events.c.client_id, events.c.timestamp, events.c.timezone, events.c.utc_offset_minutes)
            .where(events.c.event == EMAIL_OPENED, events.c.timestamp >= start, events.c.timestamp < end)
        )
        times, minutes, clients = [], [], []
        for client_id, at, tz_name, offset in rows:
            local = to_local(at, tz_name, offset)
            times.append(epoch_micros(at))
            minutes.append(local.hour * 60 + local.minute)
            clients.append(self._codes.setdefault(client_id, len(self._codes)))
        merged = [np.concatenate([old, np.array(new, dtype=np.int64)]) for old, new in
                  ((self._times, times), (self._minutes, minutes), (self._clients, clients))]
        order = np.argsort(merged[0], kind="stable")
        self._times, self._minutes, self._clients = (m[order] for m in merged)


MINUTES_A_DAY = 24 * 60


