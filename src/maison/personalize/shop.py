"""The shop-wide inputs of digests (catalogue, sales, views, ratings, open times), read once per job.

Every digest is composed as of its own send instant, and a week's digests go out at a few
hundred distinct instants (quarter hours in each client's zone). What the shop sold, viewed,
saved and rated in the 30 days before an instant is the same for every client sent at it, so
one `ShopView` per job answers each instant once; composing a client's digest alone builds a
view of its own and reads the same figures. The view holds aggregates and the catalogue only,
never one client's data, and it lives no longer than the job (the catalogue's stock is "now").

`prepare(instants)` reads the market figures of many instants in one sweep over the events
(`analytics.sweeps`) instead of one set of aggregate queries per instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection

from maison.analytics import aggregates, sweeps
from maison.analytics.entities import OpenTimes, Rating
from maison.analytics.sweeps import MarketFigures, MarketRow
from maison.catalog import service as catalog
from maison.catalog.catalogue import Catalogue
from maison.catalog.entities import ContentPage, Product
from maison.personalize.send_time import Prior, SendTimePolicy, clientele_prior, prior
from maison.personalize.top_sellers import RECENT, WINDOW, RankingIndex, Shelves, Signals


class ShopView:
    """Shop-wide figures as of instants, each computed once (see module doc)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._products: Sequence[Product] | None = None
        self._pages: Sequence[ContentPage] | None = None
        self._market: dict[datetime, MarketFigures] = {}
        self._rows: dict[datetime, MarketRow] = {}
        self._signals: dict[datetime, Mapping[str, Signals]] = {}
        self._opens: dict[tuple[datetime, datetime], OpenTimes] = {}
        self._open_timeline = aggregates.OpenTimesTimeline(conn)
        self._priors: dict[tuple[datetime, datetime, SendTimePolicy], Prior] = {}
        self._shelves: dict[datetime, Shelves] = {}

    def products(self) -> Sequence[Product]:
        if self._products is None:
            self._products = Catalogue(catalog.list_products(self.conn))
        return self._products

    def content_pages(self) -> Sequence[ContentPage]:
        if self._pages is None:
            self._pages = catalog.list_content_pages(self.conn)
        return self._pages

    def market(self, at: datetime) -> MarketFigures:
        """Units, recent units, viewers, saves and ratings as of `at` (`market_figures`)."""
        found = self._market.get(at)
        if found is None:
            row = self._rows.get(at)
            found = self._market[at] = row.figures() if row is not None else market_figures(self.conn, at=at)
        return found

    def signals(self, at: datetime) -> Mapping[str, Signals]:
        """The market as of `at`, per product (`market_signals`): read from the prepared sweep's
        arrays when `prepare` covered the instant, so nothing is built for products no digest asks about."""
        found = self._signals.get(at)
        if found is None:
            row = self._rows.get(at)
            found = self._signals[at] = MarketSignals(row) if row is not None else signals_of(self.market(at))
        return found

    def shelves(self, at: datetime) -> Shelves:
        """The catalogue by category under the signals as of `at`: top sellers and labels, once."""
        found = self._shelves.get(at)
        if found is None:
            found = self._shelves[at] = Shelves(self.products(), self.signals(at))
        return found

    def ratings(self, before: datetime) -> Mapping[str, Rating]:
        """Every `Product Reviewed` rating before the instant, per product."""
        row = self._rows.get(before)
        return MarketRatings(row) if row is not None else self.market(before).ratings

    def open_times(self, start: datetime, end: datetime) -> OpenTimes:
        """The clientele's email-open histogram over `[start, end)`."""
        found = self._opens.get((start, end))
        if found is None:
            found = self._opens[(start, end)] = self._open_timeline.over(start, end)
        return found

    def send_prior(self, start: datetime, end: datetime, policy: SendTimePolicy) -> Prior:
        """What every client's opens are pooled with for a send time learned from `[start, end)`."""
        found = self._priors.get((start, end, policy))
        if found is None:
            histogram = self.open_times(start, end)
            found = self._priors[(start, end, policy)] = prior(
                clientele_prior(histogram.minutes, histogram.clients, policy), policy)
        return found

    def prepare(self, instants: Iterable[datetime]) -> None:
        """Compute the market figures of all these instants in one pass over the events."""
        wanted = sorted({t for t in instants if t not in self._market and t not in self._rows})
        if wanted:
            self._rows.update(sweeps.market_rows(self.conn, wanted, window=WINDOW, recent=RECENT))


def market_figures(conn: Connection, *, at: datetime) -> MarketFigures:
    """The market as of `at` from the per-instant aggregates (`sweeps.market_at` gives the same for many).

    The windows are elapsed time (30 x 24 h before the instant), so the arithmetic is done in
    UTC: on a zone-aware instant Python subtracts wall-clock days, and across a DST change the
    window of a client in New York was an hour shorter than the same instant's in London.
    """
    at = at.astimezone(UTC)
    start = at - WINDOW
    sold = aggregates.sales(conn, start=start, end=at)
    return MarketFigures(
        units=aggregates.units_sold(sold, start=start, end=at),
        units_recent=aggregates.units_sold(sold, start=at - RECENT, end=at),
        viewers=aggregates.distinct_viewers(conn, start=start, end=at),
        wishlist_adds=aggregates.wishlist_adds(conn, start=start, end=at),
        ratings=aggregates.ratings(conn, before=at),
    )


def market_signals(conn: Connection, *, at: datetime) -> dict[str, Signals]:
    """Shop-wide sales, views, saves and ratings per product as of `at` (aggregates only)."""
    return signals_of(market_figures(conn, at=at))


def signals_of(market: MarketFigures) -> dict[str, Signals]:
    """One `Signals` per product the market mentions."""
    units, recent, viewers, saves, ratings = (market.units.get, market.units_recent.get, market.viewers.get,
                                              market.wishlist_adds.get, market.ratings.get)
    found: dict[str, Signals] = {}
    for pid in {*market.units, *market.viewers, *market.wishlist_adds, *market.ratings}:
        rated = ratings(pid)  # positional, in `Signals`' field order: one per product per instant
        found[pid] = Signals(units(pid, 0), recent(pid, 0), viewers(pid, 0), saves(pid, 0),
                             rated.mean if rated is not None else None, rated.count if rated is not None else 0)
    return found


class MarketSignals(Mapping[str, Signals]):
    """`signals_of(row.figures())`, built per product when asked: a job's instant is read by a few
    dozen digests, which ask about a few dozen products each, and `Shelves` takes the whole
    catalogue's figures as arrays (`arrays`) rather than as ten thousand `Signals`."""

    def __init__(self, row: MarketRow) -> None:
        self.row = row
        self._mentioned = ((row.units != 0) | (row.units_recent != 0) | (row.viewers != 0)
                           | (row.wishlist_adds != 0) | (row.rating_count != 0))
        self._built: dict[str, Signals] = {}

    def __getitem__(self, product_id: str) -> Signals:
        found = self._built.get(product_id)
        if found is None:
            j = self.row.columns.index.get(product_id)
            if j is None or not self._mentioned[j]:
                raise KeyError(product_id)
            row, rated = self.row, self.row.rating(product_id)
            found = self._built[product_id] = Signals(
                int(row.units[j]), int(row.units_recent[j]), int(row.viewers[j]), int(row.wishlist_adds[j]),
                rated.mean if rated is not None else None, rated.count if rated is not None else 0)
        return found

    def get(self, product_id: str, default: Any = None) -> Any:  # the hot path: no exception when absent
        try:
            return self[product_id]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        names = self.row.columns.names
        return (names[j] for j in np.flatnonzero(self._mentioned).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self._mentioned))

    def arrays(self, index: RankingIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Units, viewers and wishlist adds of each catalogue product in `index` order (0 when unseen)."""
        columns = self.row.columns.of(index.ids)
        seen = columns >= 0
        out = []
        for figure in (self.row.units, self.row.viewers, self.row.wishlist_adds):
            values = np.zeros(len(columns), dtype=np.int64)
            values[seen] = figure[columns[seen]]
            out.append(values)
        return out[0], out[1], out[2]


class MarketRatings(Mapping[str, Rating]):
    """`row.figures().ratings`, each `Rating` built when asked."""

    def __init__(self, row: MarketRow) -> None:
        self.row = row

    def __getitem__(self, product_id: str) -> Rating:
        found = self.row.rating(product_id)
        if found is None:
            raise KeyError(product_id)
        return found

    def get(self, product_id: str, default: Any = None) -> Any:
        found = self.row.rating(product_id)
        return default if found is None else found

    def __iter__(self) -> Iterator[str]:
        names = self.row.columns.names
        return (names[j] for j in np.flatnonzero(self.row.rating_count).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self.row.rating_count))
