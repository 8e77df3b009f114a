"""`search_coordinates`: the client's own search, quoted, answered with pieces that complete a look (E10).

The latest search in the lookback is quoted verbatim. Its words are matched against the
catalogue's own tag vocabulary: a tag matches when all its words appear, in order, among the
query's words (`office-to-dinner` in "office to dinner outfits"); only the longest matching
tags are kept, so a specific occasion beats a generic word. When the client is considering a
piece (see `considered_items`, which needs `browsing_behaviour`), the coordinating items are
the offerable pieces a stylist paired with it (`pairs_with`) that carry a matching tag; without
browsing, the offerable pieces carrying the tag, best sellers first. Nothing here is a word
list: the tags are whatever the catalogue uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from itertools import islice
from typing import TYPE_CHECKING

from maison.catalog import catalogue
from maison.catalog.entities import Product
from maison.personalize.entities import Section
from maison.personalize.history import ClientHistory, Moment
from maison.personalize.sections.common import item, offerable, reason, when
from maison.personalize.sections.considered_items import BROWSING, Consideration, considered
from maison.personalize.top_sellers import Signals

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs

KIND = "search_coordinates"
SEARCH = "search_history"
LOOKBACK = timedelta(days=14)
MAX_ITEMS = 3


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def matching_tags(query: str, products: Sequence[Product]) -> list[str]:
    """Catalogue tags whose words all appear, in order and together, in the query; longest only."""
    said = " " + " ".join(words(query)) + " "
    found = sorted(t for t, spelled in _tag_words(products).items() if f" {spelled} " in said)
    if not found:
        return []
    longest = max(len(words(t)) for t in found)
    return [t for t in found if len(words(t)) == longest]


def _tag_words(products: Sequence[Product]) -> dict[str, str]:
    """Every catalogue tag with words, and its words joined by single spaces (once per `Catalogue`)."""
    return catalogue.derived(products, "tag_words", lambda: {
        t: " ".join(words(t)) for p in products for t in p.tags if words(t)})


def latest_search(history: ClientHistory) -> Moment | None:
    recent = [m for m in history.since(history.at - LOOKBACK).searches() if isinstance(m.properties.get("query"), str)]
    return recent[-1] if recent else None


def coordinates(anchor: Product | None, tags: Sequence[str], products: Sequence[Product],
                signals: Mapping[str, Signals], history: ClientHistory,
                ranked: Callable[[], Iterable[Product]] | None = None) -> list[Product]:
    """Offerable pieces carrying a matching tag: the anchor's stylist pairings, else the best sellers.

    `ranked()`: the products already in best-seller order (`Shelves.ranked`, once per instant)."""
    by_id = catalogue.by_id(products)
    pool: Iterable[Product]
    if anchor is not None:
        pool = [by_id[pid] for pid in anchor.pairs_with if pid in by_id]
    elif ranked is not None:
        pool = ranked()
    else:
        pool = sorted(products, key=lambda p: (-signals.get(p.product_id, Signals()).units, p.product_id))
    bought, wanted = history.bought(), set(tags)
    return list(islice((p for p in pool if wanted & set(p.tags) and offerable(p, bought)), MAX_ITEMS))


def _anchor(history: ClientHistory, products: Sequence[Product], tags: Sequence[str],
            allowed: frozenset[str]) -> Consideration | None:
    """The considered piece the search most plausibly belongs to: the strongest one sharing a tag."""
    if BROWSING not in allowed:
        return None
    for c in considered(history, products):
        if set(tags) & set(c.product.tags) and c.product.pairs_with:
            return c
    return None


def build(inputs: DigestInputs) -> list[Section]:
    history = inputs.history
    if history is None or SEARCH not in inputs.allowed:
        return []
    search = latest_search(history)
    if search is None:
        return []
    query = str(search.properties["query"])
    tags = matching_tags(query, inputs.products)
    if not tags:
        return []
    anchor = _anchor(history, inputs.products, tags, inputs.allowed)
    ranked = inputs.shelves.ranked if inputs.shelves is not None else None
    chosen = coordinates(anchor.product if anchor else None, tags, inputs.products, inputs.signals, history, ranked)
    if not chosen and anchor is not None:  # none of its pairings fits the search: answer the search alone
        anchor = None
        chosen = coordinates(None, tags, inputs.products, inputs.signals, history, ranked)
    if not chosen:
        return []
    asked = f'You searched for "{query}" on {when(search.local)}.'
    items = []
    for p in chosen:
        shared = [t for t in tags if t in p.tags]
        if anchor is not None:
            text = (f"{asked} Our stylists paired this with the {anchor.product.name} you have been considering, "
                    f"and it is one of our {' and '.join(shared)} pieces.")
            items.append(item(p, reason(text, [SEARCH, BROWSING], [search, anchor.moments[-1]], attributes=shared)))
        else:
            text = f"{asked} This is one of our {' and '.join(shared)} pieces, which is what your search asks for."
            items.append(item(p, reason(text, [SEARCH], [search], attributes=shared)))
    title = f'For your search "{query}"'
    text = (f'{asked} Here are pieces that complete the look'
            + (f" with the {anchor.product.name}." if anchor else ".")
            + " All are available to order online now.")
    return [Section(KIND, title, text, tuple(items))]
