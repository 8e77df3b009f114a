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

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from maison.analytics import aggregates, sweeps
from maison.analytics.entities import OpenTimes, Rating
from maison.analytics.sweeps import MarketFigures
from maison.catalog import service as catalog
from maison.catalog.catalogue import Catalogue
from maison.catalog.entities import ContentPage, Product
from maison.personalize.send_time import Prior, SendTimePolicy, clientele_prior, prior
from maison.personalize.top_sellers import RECENT, WINDOW, Shelves, Signals


class ShopView:
    """Shop-wide figures as of instants, each computed once (see module doc)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._products: Sequence[Product] | None = None
        self._pages: Sequence[ContentPage] | None = None
        self._market: dict[datetime, MarketFigures] = {}
        self._signals: dict[datetime, dict[str, Signals]] = {}
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
            found = self._market[at] = market_figures(self.conn, at=at)
        return found

    def signals(self, at: datetime) -> dict[str, Signals]:
        """The market as of `at`, per product (`market_signals`)."""
        found = self._signals.get(at)
        if found is None:
            found = self._signals[at] = signals_of(self.market(at))
        return found

    def shelves(self, at: datetime) -> Shelves:
        """The catalogue by category under the signals as of `at`: top sellers and labels, once."""
        found = self._shelves.get(at)
        if found is None:
            found = self._shelves[at] = Shelves(self.products(), self.signals(at))
        return found

    def ratings(self, before: datetime) -> dict[str, Rating]:
        """Every `Product Reviewed` rating before the instant, per product."""
        return self.market(before).ratings

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
        wanted = sorted({t for t in instants if t not in self._market})
        if wanted:
            self._market.update(sweeps.market_at(self.conn, wanted, window=WINDOW, recent=RECENT))


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
