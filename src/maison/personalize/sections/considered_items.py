"""`considered_items`: pieces the client keeps coming back to (E9), told in their own days.

A product is **considered** when, within the lookback, the client saved it to their wishlist,
or viewed it on at least two different local days, or spent at least `LONG_DWELL` seconds on
it in total. The reason narrates the visits day by day in the client's zone ("viewed Thursday
evening, returned Saturday afternoon, saved Monday morning"); every view and save is evidence.
Uses `browsing_behaviour` only: with browsing switched off the history holds none of these
events and the section does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from maison.catalog import catalogue
from maison.catalog.entities import Product
from maison.personalize.entities import Section
from maison.personalize.history import PRODUCT_VIEWED, WISHLIST_ADDED, ClientHistory, Moment
from maison.personalize.sections.common import item, listing, offerable, reason, when

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs

KIND = "considered_items"
BROWSING = "browsing_behaviour"
LOOKBACK = timedelta(days=30)
LONG_DWELL = 240.0  # seconds on one product, over all views
MAX_ITEMS = 3
TITLE = "Pieces you have been considering"


@dataclass(frozen=True, slots=True)
class Consideration:
    """One product's views and saves in the lookback, in time order."""

    product: Product
    moments: tuple[Moment, ...]

    @property
    def days(self) -> list[date]:
        return sorted({m.local.date() for m in self.moments})

    @property
    def saved(self) -> bool:
        return any(m.name == WISHLIST_ADDED for m in self.moments)

    @property
    def dwell(self) -> float:
        return sum(m.dwell_seconds for m in self.moments)

    def qualifies(self) -> bool:
        return self.saved or len(self.days) >= 2 or self.dwell >= LONG_DWELL

    def strength(self) -> tuple[int, int, float, str]:
        return (int(self.saved), len(self.days), self.dwell, self.moments[-1].at.isoformat())


def considered(history: ClientHistory, products: Sequence[Product]) -> list[Consideration]:
    """Offerable products the client is considering, strongest first (saves, days, dwell, recency)."""
    by_id = catalogue.by_id(products)
    touched: dict[str, list[Moment]] = defaultdict(list)
    for m in history.since(history.at - LOOKBACK).named(PRODUCT_VIEWED, WISHLIST_ADDED):
        if m.data_category == BROWSING and m.product_id in by_id:
            touched[m.product_id].append(m)
    found = [Consideration(by_id[pid], tuple(ms)) for pid, ms in touched.items()]
    bought = history.bought()
    found = [c for c in found if c.qualifies() and offerable(c.product, bought)]
    return sorted(found, key=lambda c: c.strength(), reverse=True)


def narrate(moments: Sequence[Moment]) -> str:
    """`viewed it Thursday evening, returned Saturday afternoon and saved it Monday morning`.

    One phrase per local day: the day's save if there was one, else its first view. Weekdays
    alone are ambiguous once the visits span a week, so then each day carries its date.
    """
    phrases = []
    days = sorted({m.local.date() for m in moments})
    dated = (days[-1] - days[0]).days >= 7
    for n, day in enumerate(days):
        that_day = [m for m in moments if m.local.date() == day]
        saves = [m for m in that_day if m.name == WISHLIST_ADDED]
        first = saves[0] if saves else that_day[0]
        verb = "saved it" if saves else ("viewed it" if n == 0 else "returned")
        phrases.append(f"{verb} {when(first.local, dated=dated)}")
    return listing(phrases)


def item_text(c: Consideration) -> str:
    told = f"You {narrate(c.moments)}."
    sizes = c.product.online_sizes_in_stock()
    if sizes and sizes != ("one_size",):
        told += f" Sizes {listing(list(sizes))} are available online now." if len(sizes) > 1 else (
            f" Size {sizes[0]} is available online now.")
    else:
        told += " It is available online now."
    return told


def build(inputs: DigestInputs) -> list[Section]:
    history = inputs.history
    if history is None or BROWSING not in inputs.allowed:
        return []
    chosen = considered(history, inputs.products)[:MAX_ITEMS]
    if not chosen:
        return []
    items = tuple(item(c.product, reason(item_text(c), [BROWSING], c.moments)) for c in chosen)
    text = ("Pieces you have returned to or saved recently, with the sizes still available. "
            "We picked them from your own visits to our site.")
    return [Section(KIND, TITLE, text, items)]
