"""Shop-wide figures as of many instants at once, each equal to what `aggregates` gives per instant.

Why it exists: a week's digests are composed each as of its client's own send instant, a few
hundred distinct instants per job, and every digest reads the market (units sold, recent
units, distinct viewers, wishlist adds, ratings) as of its instant. Re-running the SQL
aggregates per instant scans the same 30-day window hundreds of times, far too slow at 10M
events. Here the events are read once, over `[min(instants) - window, max(instants))` (the
ratings: all before the last instant), and one sweep in time order gives every instant's figures.

Why it is exact: every figure is a sum over stored rows of a weight that counts at instant t
exactly when t lies in an interval `(a, b]` of the row's own, in whole microseconds (the
stored precision):

- a wishlist add at s is in the window `[t - window, t)` for t in `(s, s + window]`;
- a valid rating at s counts for every t after it, `(s, +inf)`;
- a view of product p by client c, and a row of an order, count only as the *first* of their
  key ((p, c), or the order's `order_id or message_id`) in the window, in (timestamp, id)
  order: for t in `(max(s, s_prev + window), s + window]`, where s_prev is the key's previous
  row (the previous row is in the window exactly when t <= s_prev + window). A key's pieces
  are disjoint and cover exactly the instants whose window holds one of its rows, so distinct
  viewers and once-per-order sales are plain sums too, with no per-instant set;
- a sale counts in the recent figure where it counts in the window and t <= s + recent: recent
  units come from the window's deduplicated sales, as `market_signals` computes them.

The weights in `(a, b]` at t are those with `a < t` minus those with `b < t`: a bincount per
(gap between consecutive instants, product) and a cumulative sum over instants, so the work is
O(events + instants x products). Line items are parsed by `aggregates.line_items` and ratings
by `aggregates.rating_score`, so both readings of an event stay one rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, select

from maison.analytics import aggregates
from maison.analytics.entities import Rating
from maison.core.clock import MICROSECOND, epoch_micros
from maison.core.schema import events

Ints = NDArray[np.int64]

_NEVER = np.iinfo(np.int64).min // 4  # "no earlier row of this key": before any instant minus any window
_FOREVER = np.iinfo(np.int64).max // 4  # a rating never leaves: after every instant
_EXACT_IN_FLOAT = 2**52  # sums of integer weights below this are exact in float64 (bincount's weights)


@dataclass(frozen=True, slots=True)
class MarketFigures:
    """Shop-wide figures as of one instant (aggregates only), each as the `aggregates` function gives it."""

    units: dict[str, int]  # units sold in [t - window, t), each order once
    units_recent: dict[str, int]  # of those sales, the ones in [t - recent, t)
    viewers: dict[str, int]  # distinct clients who viewed the product in [t - window, t)
    wishlist_adds: dict[str, int]  # in [t - window, t)
    ratings: dict[str, Rating]  # all valid ratings before t


@dataclass(frozen=True, slots=True)
class _Spans:
    """Weighted intervals (a, b] of product codes: a weight counts at instant t when a < t <= b."""

    products: Ints
    starts: Ints
    ends: Ints
    weights: Sequence[int] | None = None  # None: every weight is 1


class Columns:
    """The products of a sweep's columns: each column's product id, and each id's column."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.index = {name: j for j, name in enumerate(self.names)}
        self._aligned: dict[int, tuple[tuple[str, ...], Ints]] = {}

    def of(self, product_ids: tuple[str, ...]) -> Ints:
        """The column of each of these ids (-1 where the sweep saw nothing of it), remembered per tuple:
        a job aligns one catalogue with every instant's row."""
        found = self._aligned.get(id(product_ids))
        if found is None or found[0] is not product_ids:
            found = self._aligned[id(product_ids)] = (
                product_ids, np.fromiter((self.index.get(p, -1) for p in product_ids), dtype=np.int64,
                                         count=len(product_ids)))
        return found[1]


@dataclass(frozen=True, slots=True)
class MarketRow:
    """One instant's figures as arrays over the sweep's product columns, zero for none: what
    `MarketFigures` holds, without a dictionary entry per product (`figures()` gives those)."""

    columns: Columns
    units: NDArray[Any]
    units_recent: NDArray[Any]
    viewers: NDArray[Any]
    wishlist_adds: NDArray[Any]
    rating_count: NDArray[Any]
    rating_sum: NDArray[Any]

    def rating(self, product_id: str) -> Rating | None:
        """`figures().ratings.get(product_id)`."""
        j = self.columns.index.get(product_id)
        if j is None or not self.rating_count[j]:
            return None
        return Rating(int(self.rating_sum[j]) / int(self.rating_count[j]), int(self.rating_count[j]))

    def figures(self) -> MarketFigures:
        names = self.columns.names
        return MarketFigures(
            units=_nonzero(self.units, names), units_recent=_nonzero(self.units_recent, names),
            viewers=_nonzero(self.viewers, names), wishlist_adds=_nonzero(self.wishlist_adds, names),
            ratings={names[j]: Rating(int(self.rating_sum[j]) / int(self.rating_count[j]), int(self.rating_count[j]))
                     for j in np.flatnonzero(self.rating_count).tolist()},
        )


def market_at(
    conn: Connection, instants: Iterable[datetime], *, window: timedelta, recent: timedelta
) -> dict[datetime, MarketFigures]:
    """The market as of each instant (aware datetimes), from one read of the events they need."""
    rows = market_rows(conn, instants, window=window, recent=recent)
    return {t: row.figures() for t, row in rows.items()}


def market_rows(
    conn: Connection, instants: Iterable[datetime], *, window: timedelta, recent: timedelta
) -> dict[datetime, MarketRow]:
    """`market_at` as arrays (`MarketRow`), for a caller that reads a few products of each instant."""
    wanted = list(instants)
    if not wanted:
        return {}
    if any(t.tzinfo is None for t in wanted):
        raise ValueError("instants must be timezone-aware datetimes")
    # elapsed time, in UTC: on a zone-aware instant `- window` would subtract wall-clock days and,
    # across a DST change, start the read an hour late
    start, end = min(wanted).astimezone(UTC) - window, max(wanted).astimezone(UTC)
    products = Codes()
    spans = {
        "viewers": _views(conn, products, start=start, end=end, window=_micros(window)),
        "wishlist_adds": _wishlist(conn, products, start=start, end=end, window=_micros(window)),
        **_orders(conn, products, start=start, end=end, window=_micros(window), recent=_micros(min(window, recent))),
        **_ratings(conn, products, before=end),
    }
    grid = np.unique(np.array([epoch_micros(t) for t in wanted], dtype=np.int64))
    table = {f: _totals(s, grid, len(products.names)) for f, s in spans.items()}
    columns = Columns(products.names)
    rows = [MarketRow(columns, *(table[f][i] for f in _FIGURES)) for i in range(len(grid))]
    row = {int(t): i for i, t in enumerate(grid)}
    return {t: rows[row[epoch_micros(t)]] for t in wanted}


_FIGURES = ("units", "units_recent", "viewers", "wishlist_adds", "rating_count", "rating_sum")  # MarketRow's order


class Codes:
    """Strings as dense integer codes, in order of first sight (products: the columns of every
    figure's matrix; also a cohort's products, `personalize.cohort.SegmentReads`)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, name: str) -> int:
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.names)
            self.names.append(name)
        return found

    def codes(self, names: Iterable[str]) -> Ints:
        return np.fromiter((self.code(n) for n in names), dtype=np.int64)


def _views(conn: Connection, products: Codes, *, start: datetime, end: datetime, window: int) -> _Spans:
    rows = conn.execute(
        select(events.c.product_id, events.c.client_id, events.c.timestamp)
        .where(events.c.event == aggregates.PRODUCT_VIEWED, events.c.timestamp >= start, events.c.timestamp < end,
               events.c.product_id.is_not(None))
    ).all()
    pid = products.codes(r.product_id for r in rows)
    at = _times(r.timestamp for r in rows)
    first = _first_in_window((pid, Codes().codes(r.client_id for r in rows)), at, np.zeros_like(at), window)
    return _Spans(pid, first, at + window)


def _wishlist(conn: Connection, products: Codes, *, start: datetime, end: datetime, window: int) -> _Spans:
    rows = conn.execute(
        select(events.c.product_id, events.c.timestamp)
        .where(events.c.event == aggregates.WISHLIST_ADD, events.c.timestamp >= start, events.c.timestamp < end,
               events.c.product_id.is_not(None))
    ).all()
    at = _times(r.timestamp for r in rows)
    return _Spans(products.codes(r.product_id for r in rows), at, at + window)


def _orders(
    conn: Connection, products: Codes, *, start: datetime, end: datetime, window: int, recent: int
) -> dict[str, _Spans]:
    """Line items of each order's first row in the window; `recent` is already at most `window`."""
    rows = conn.execute(
        select(events.c.id, events.c.order_id, events.c.message_id, events.c.timestamp, events.c.product_id,
               events.c.raw)
        .where(events.c.event == aggregates.ORDER_COMPLETED, events.c.timestamp >= start, events.c.timestamp < end)
    ).all()
    at = _times(r.timestamp for r in rows)
    ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
    first = _first_in_window((Codes().codes(r.order_id or r.message_id for r in rows),), at, ids, window)
    of_row: list[int] = []
    names: list[str] = []
    quantities: list[int] = []
    for i, r in enumerate(rows):
        for sale in aggregates.line_items(r.raw, r.product_id, r.timestamp):
            of_row.append(i)
            names.append(sale.product_id)
            quantities.append(sale.quantity)
    line = np.array(of_row, dtype=np.int64)
    pid = products.codes(names)
    return {
        "units": _Spans(pid, first[line], at[line] + window, quantities),
        "units_recent": _Spans(pid, first[line], at[line] + recent, quantities),
    }


def _ratings(conn: Connection, products: Codes, *, before: datetime) -> dict[str, _Spans]:
    rows = conn.execute(
        select(events.c.product_id, events.c.timestamp, events.c.raw)
        .where(events.c.event == aggregates.PRODUCT_REVIEWED, events.c.timestamp < before,
               events.c.product_id.is_not(None))
    ).all()
    scored = [(r.product_id, r.timestamp, s) for r in rows if (s := aggregates.rating_score(r.raw)) is not None]
    pid = products.codes(p for p, _, _ in scored)
    at = _times(t for _, t, _ in scored)
    never = np.full_like(at, _FOREVER)
    return {"rating_count": _Spans(pid, at, never), "rating_sum": _Spans(pid, at, never, [s for _, _, s in scored])}


def _first_in_window(keys: tuple[Ints, ...], at: Ints, tiebreak: Ints, window: int) -> Ints:
    """Per row, the a of the instants `(a, at + window]` at which it is its key's first row in the window.

    Rows of a key in (timestamp, tiebreak) order; a row is the first in `[t - window, t)` when it
    is in it and the key's previous row is not, i.e. when also `t > previous + window`. A row
    tied in time with an earlier one of its key gets an empty interval (a = at + window).
    """
    order = np.lexsort((tiebreak, at, *reversed(keys)))
    ordered = at[order]
    same = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        k = key[order]
        same &= k[1:] == k[:-1]
    previous = np.full_like(ordered, _NEVER)
    previous[1:] = np.where(same, ordered[:-1], _NEVER)
    first = np.empty_like(at)
    first[order] = np.maximum(ordered, previous + window)
    return first


def _totals(spans: _Spans, grid: Ints, width: int) -> NDArray[Any]:
    """Per instant of `grid` (rows) and product (columns), the weights of the intervals holding it."""
    keep = spans.starts < spans.ends
    cells = (len(grid) + 1) * width
    # (a, b] holds the instants after a up to b: it opens at the first instant after a and
    # closes at the first after b; a cumulative sum over instants then counts what is open
    opens = np.searchsorted(grid, spans.starts[keep], side="right") * width + spans.products[keep]
    closes = np.searchsorted(grid, spans.ends[keep], side="right") * width + spans.products[keep]
    delta: NDArray[Any]
    if spans.weights is None:
        delta = np.bincount(opens, minlength=cells) - np.bincount(closes, minlength=cells)
    elif sum(spans.weights) < _EXACT_IN_FLOAT:
        w = np.asarray(spans.weights, dtype=np.float64)[keep]
        delta = (np.bincount(opens, w, cells) - np.bincount(closes, w, cells)).astype(np.int64)
    else:  # quantities too large for float64 or int64: Python integers, slower but exact
        w = np.asarray(spans.weights, dtype=object)[keep]
        delta = np.zeros(cells, dtype=object)
        np.add.at(delta, opens, w)
        np.subtract.at(delta, closes, w)
    return np.cumsum(delta.reshape(len(grid) + 1, width), axis=0)[:-1]


def _nonzero(row: NDArray[Any], names: Sequence[str]) -> dict[str, int]:
    present = np.flatnonzero(row).tolist()
    return {names[j]: int(row[j]) for j in present}


def _micros(span: timedelta) -> int:
    return span // MICROSECOND


def _times(instants: Iterable[datetime]) -> Ints:
    return np.fromiter((epoch_micros(t) for t in instants), dtype=np.int64)
