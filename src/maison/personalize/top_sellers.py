"""Top sellers of a category and the one social-proof label each carries (pure).

A **top seller** of a category at instant t is among the `n` recommendable products of that
category with most units sold (all clients' `Order Completed` line items) in [t - 30 x 24 h, t),
equal units ordered by product_id ascending. Recommendable: online stock > 0 (store-only
products have none), not access-restricted, and at least one unit sold in the window (a product
nobody bought is not a "top seller").

**Labels.** Every item gets exactly one label, the first in `LABEL_PRIORITY` whose condition
holds. Category-wide conditions ("first", "most") are judged over *every* product of the
category, in stock or not, so a label never claims more than the data say:

1. `Bestseller` - first of its category by units in the window (ties by product_id).
2. `Top-Rated` - mean rating >= 4.5 from >= 10 ratings before t.
3. `Trending` - units in the last 7 days >= 1.5 x the weekly average of the 23 days before
   (and at least one unit in the last 7 days).
4. `Most Popular` - most distinct viewers in its category in the window (ties share it).
5. `Customer Favourite` - most wishlist adds in its category in the window (ties share it).
6. `Popular in <category>` - always true of a top seller of the category.

Why this order: the section ranks by sales, so the sales claim comes first; then quality
(ratings), which a client weighs most after sales; then momentum; then attention (views) and
intent (saves), which are weaker signals; the category fallback last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain, islice
from typing import Protocol, runtime_checkable

import numpy as np

from maison.catalog import catalogue
from maison.catalog.entities import Product

WINDOW = timedelta(days=30)
RECENT = timedelta(days=7)
TOP_N = 3
TOP_RATED_MEAN = 4.5
TOP_RATED_MIN_COUNT = 10

BESTSELLER, TOP_RATED, TRENDING = "Bestseller", "Top-Rated", "Trending"
MOST_POPULAR, CUSTOMER_FAVOURITE, POPULAR_IN = "Most Popular", "Customer Favourite", "Popular in"
LABEL_PRIORITY = (BESTSELLER, TOP_RATED, TRENDING, MOST_POPULAR, CUSTOMER_FAVOURITE, POPULAR_IN)


@dataclass(frozen=True, slots=True)
class Signals:
    """Shop-wide figures of one product at one instant (no client's own data)."""

    units: int = 0  # in the 30-day window
    units_recent: int = 0  # in its last 7 days
    viewers: int = 0  # distinct clients who viewed it in the window
    wishlist_adds: int = 0  # in the window
    rating_mean: float | None = None  # all ratings before the instant
    rating_count: int = 0


def recommendable(product: Product) -> bool:
    """Buyable online now and open to everyone: the floor for any recommendation."""
    return product.in_stock_online() and not product.access_restricted


def rank(products: Sequence[Product], signals: Mapping[str, Signals]) -> list[Product]:
    """By units sold in the window, most first; equal units by product_id ascending."""
    return sorted(products, key=lambda p: (-_of(signals, p).units, p.product_id))


def top_sellers(
    products: Sequence[Product],
    signals: Mapping[str, Signals],
    *,
    category: str,
    n: int = TOP_N,
    exclude: frozenset[str] = frozenset(),
) -> list[Product]:
    """The category's top `n` recommendable products by units in the window (see module doc)."""
    eligible = [  # the cheap tests first: most of a catalogue sold nothing in the window
        p for p in products
        if p.category == category and _of(signals, p).units > 0 and p.product_id not in exclude and recommendable(p)
    ]
    return rank(eligible, signals)[:n]


@dataclass(frozen=True, slots=True)
class RankingIndex:
    """The catalogue in product_id order: each product's position, category code and whether it is
    recommendable, once per `Catalogue` (positions in id order make the id the last sort key)."""

    products: tuple[Product, ...]
    ids: tuple[str, ...]
    position: Mapping[str, int]
    codes: Mapping[str, int]
    category_code: np.ndarray
    recommendable: np.ndarray


def ranking_index(products: Sequence[Product]) -> RankingIndex:
    def compute() -> RankingIndex:
        ordered = tuple(sorted(catalogue.by_id(products).values(), key=lambda p: p.product_id))
        codes: dict[str, int] = {}
        for p in ordered:
            codes.setdefault(p.category, len(codes))
        return RankingIndex(
            ordered, tuple(p.product_id for p in ordered), {p.product_id: i for i, p in enumerate(ordered)}, codes,
            np.array([codes[p.category] for p in ordered], dtype=np.int64),
            np.array([recommendable(p) for p in ordered], dtype=bool))

    return catalogue.derived(products, "top_sellers.ranking_index", compute)


@runtime_checkable
class FigureArrays(Protocol):
    """Signals that can hand over their units, viewers and wishlist adds for a whole catalogue at
    once, as arrays in `RankingIndex` order (`personalize.shop.MarketSignals`)."""

    def arrays(self, index: RankingIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class Shelves:
    """The catalogue's categories under one instant's signals: each category's top sellers and
    each product's label, worked out once (pure answers, remembered).

    Every client sent at the same instant sees the same shop; ranking a category and judging a
    label against all its products again for each of them costs more than the rest of an L1 digest.
    The figures are laid out as arrays over the catalogue in id order (`RankingIndex`), so a
    category's ranking and its leader are a mask and a sort. The answers are those of
    `top_sellers`, `rank` and `choose_label` (products are unique by id, as a catalogue's are).
    """

    def __init__(self, products: Sequence[Product], signals: Mapping[str, Signals]) -> None:
        self.products = products
        self.signals = signals
        self._peers = catalogue.by_category(products)  # once per `Catalogue`, shared by every instant
        self.by_id = catalogue.by_id(products)
        self.index = ranking_index(products)
        self.units, self.viewers, self.wishlist_adds = (
            signals.arrays(self.index) if isinstance(signals, FigureArrays) else _arrays(signals, self.index))
        self._ranked: dict[str, list[Product]] = {}
        self._heads: dict[str, _Head] = {}
        self._labels: dict[tuple[str, str], str] = {}
        self._sold: list[Product] | None = None

    def ranked(self) -> Iterator[Product]:
        """`rank(products, signals)`, lazily: the products that sold in the window ranked (once per
        instant), then every other one by product_id. That is `rank`'s order, since all that sold
        nothing share its first key; a caller that stops at its sixth match never walks the unsold
        thousands."""
        if self._sold is None:
            self._sold = self._by_units(np.flatnonzero(self.units > 0))
        unsold = (self.index.products[i] for i in np.flatnonzero(self.units == 0).tolist())
        return chain(self._sold, unsold)

    def peers(self, category: str) -> Sequence[Product]:
        """Every product of the category, in catalogue order."""
        return self._peers.get(category, [])

    def top_sellers(self, category: str, *, n: int = TOP_N, exclude: frozenset[str] = frozenset()) -> list[Product]:
        """`top_sellers(products, signals, category=category, n=n, exclude=exclude)`."""
        ranked = self._ranked.get(category)
        if ranked is None:
            ranked = self._ranked[category] = self._by_units(
                np.flatnonzero(self._in(category) & (self.units > 0) & self.index.recommendable))
        # `rank` is a total order (units, then product_id), so leaving some out after ranking is ranking the rest
        return list(islice((p for p in ranked if p.product_id not in exclude), n))

    def label(self, product: Product) -> str:
        """`choose_label(product, <every product of its category>, signals)`."""
        key = (product.category, product.product_id)
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = self._choose_label(product)
        return found

    def _in(self, category: str) -> np.ndarray:
        code = self.index.codes.get(category)
        inside: np.ndarray = self.index.category_code == (-1 if code is None else code)
        return inside

    def _by_units(self, positions: np.ndarray) -> list[Product]:
        """These catalogue positions by `rank`: units, most first, then product_id (the position)."""
        order = positions[np.lexsort((positions, -self.units[positions]))]
        return [self.index.products[i] for i in order.tolist()]

    def _head_of(self, category: str) -> _Head:
        """What the category-wide labels are judged against, worked out once per category: its leader
        by `rank` among the products that sold (None when none did), and its most viewers and
        wishlist adds (0 when none has any): all that `_bestseller` and `_most` read from the peers."""
        found = self._heads.get(category)
        if found is None:
            inside = self._in(category)
            sold = np.flatnonzero(inside & (self.units > 0))  # positions, ascending: in product_id order
            # `rank`'s first: the most units, and of those the first product_id (argmax takes the
            # first of equal maxima; no sort of the rest)
            first = int(sold[np.argmax(self.units[sold])]) if sold.size else None
            found = self._heads[category] = _Head(
                leader=self.index.products[first].product_id if first is not None else None,
                viewers=int(self.viewers[inside].max(initial=0)),
                wishlist_adds=int(self.wishlist_adds[inside].max(initial=0)),
            )
        return found

    def _choose_label(self, product: Product) -> str:
        """`choose_label` with "first" and "most" read from the category's head instead of rescanning
        (and, for Bestseller, re-sorting) every product of the category for each label."""
        head, mine = self._head_of(product.category), _of(self.signals, product)
        peers = self.peers(product.category)  # the product's own conditions ignore peers: as in choose_label
        holds = {
            BESTSELLER: head.leader == product.product_id and mine.units > 0,
            TOP_RATED: _top_rated(product, peers, self.signals),
            TRENDING: _trending(product, peers, self.signals),
            MOST_POPULAR: 0 < mine.viewers >= head.viewers,
            CUSTOMER_FAVOURITE: 0 < mine.wishlist_adds >= head.wishlist_adds,
            POPULAR_IN: True,
        }
        return next(label for label in LABEL_PRIORITY if holds[label])


def _arrays(signals: Mapping[str, Signals], index: RankingIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units, viewers and wishlist adds of each catalogue product (`index` order), zero without signals."""
    units, viewers, saves = (np.zeros(len(index.ids), dtype=np.int64) for _ in range(3))
    for pid, s in signals.items():
        i = index.position.get(pid)
        if i is not None:
            units[i], viewers[i], saves[i] = s.units, s.viewers, s.wishlist_adds
    return units, viewers, saves


@dataclass(frozen=True, slots=True)
class _Head:
    leader: str | None
    viewers: int
    wishlist_adds: int


def label_name(label: str, category: str) -> str:
    return f"{POPULAR_IN} {category}" if label == POPULAR_IN else label


def label_holds(
    label: str, product: Product, category_products: Sequence[Product], signals: Mapping[str, Signals]
) -> bool:
    """Whether `label` is true of `product` among all products of its category."""
    return _CONDITIONS[label](product, category_products, signals)


def choose_label(product: Product, category_products: Sequence[Product], signals: Mapping[str, Signals]) -> str:
    """The first label of `LABEL_PRIORITY` that holds (the last one always does)."""
    return next(label for label in LABEL_PRIORITY if label_holds(label, product, category_products, signals))


def _of(signals: Mapping[str, Signals], product: Product) -> Signals:
    return signals.get(product.product_id, _NONE)


_NONE = Signals()


def _bestseller(product: Product, peers: Sequence[Product], signals: Mapping[str, Signals]) -> bool:
    ranked = rank(peers, signals)
    return bool(ranked) and ranked[0].product_id == product.product_id and _of(signals, product).units > 0


def _top_rated(product: Product, peers: Sequence[Product], signals: Mapping[str, Signals]) -> bool:
    s = _of(signals, product)
    return s.rating_mean is not None and s.rating_count >= TOP_RATED_MIN_COUNT and s.rating_mean >= TOP_RATED_MEAN


def _trending(product: Product, peers: Sequence[Product], signals: Mapping[str, Signals]) -> bool:
    s = _of(signals, product)
    before = s.units - s.units_recent  # the 23 days before the last 7
    # units_recent >= 1.5 * (before / 23 * 7), in integers: 46 * recent >= 21 * before
    return s.units_recent > 0 and 46 * s.units_recent >= 21 * before


def _most(metric: Callable[[Signals], int]) -> Callable[[Product, Sequence[Product], Mapping[str, Signals]], bool]:
    def holds(product: Product, peers: Sequence[Product], signals: Mapping[str, Signals]) -> bool:
        mine = metric(_of(signals, product))
        return mine > 0 and mine >= max((metric(_of(signals, p)) for p in peers), default=0)

    return holds


def _always(product: Product, peers: Sequence[Product], signals: Mapping[str, Signals]) -> bool:
    return True


_CONDITIONS: Mapping[str, Callable[[Product, Sequence[Product], Mapping[str, Signals]], bool]] = {
    BESTSELLER: _bestseller,
    TOP_RATED: _top_rated,
    TRENDING: _trending,
    MOST_POPULAR: _most(lambda s: s.viewers),
    CUSTOMER_FAVOURITE: _most(lambda s: s.wishlist_adds),
    POPULAR_IN: _always,
}
