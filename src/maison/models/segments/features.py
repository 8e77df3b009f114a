"""Behaviour as numbers: one feature vector per client, built from their events before an instant.

Pure functions over event rows (the `raw` messages the consent gateway returns, with their
`data_category`) and over the catalogue's own vocabulary: the categories, tags and price bands
are read from the products passed in, never from a list fixed in code, so another maison's
catalogue gives other columns and the same method.

Every feature is a *share* (of product views, content visits, email opens, units bought) or a
log-scaled amount, so a heavy and a light browser with the same tastes look alike. Events are
weighted by recency (exponential decay with a half-life), because tastes drift: a client who
moved from quick looks at best-sellers to long reads about sourcing should be compared on
what they do now. Features are grouped into blocks, one per data category (consent purpose),
so a caller can leave out a block the client's consent does not let it use and say exactly
which purposes a similarity rested on.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from maison.core.clock import message_local_time, parse_instant, part_of_day
from maison.profiles.rules import declared_categories

BROWSING, CONTENT, EMAIL, PURCHASES = "browsing_behaviour", "content_engagement", "email_engagement", "purchase_history"
BLOCKS = (BROWSING, CONTENT, EMAIL, PURCHASES)
DECLARED = "declared_categories"  # a client's stated interests: placement only, never fitted on
PARTS_OF_DAY = ("morning", "afternoon", "evening", "night")
PRICE_BANDS = ("entry", "mid", "upper", "top")  # catalogue price quartiles
HALF_LIFE_DAYS = 28.0


class CatalogueProduct(Protocol):
    """What the features need of a product (the catalogue's `Product` fits)."""

    @property
    def product_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def price(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Feature:
    """One column: its block (a data category), what it measures, and of what."""

    block: str
    kind: str  # category | tag | price_band | dwell | saves | content_type | content_time | open_time | bought
    value: str

    @property
    def name(self) -> str:
        return f"{self.block}:{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The columns a catalogue gives, and each product's facts in those terms."""

    features: tuple[Feature, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    content_types: tuple[str, ...]
    price_cuts: tuple[float, ...]  # upper bounds of the first three bands
    product_category: Mapping[str, str]
    product_tags: Mapping[str, tuple[str, ...]]
    product_price: Mapping[str, float]

    def columns_by_key(self) -> dict[tuple[str, str], int]:
        """(kind, value) -> column; kinds are unique to a block, so the pair names a column."""
        return {(f.kind, f.value): i for i, f in enumerate(self.features)}

    def view_share_columns(self) -> list[int]:
        """Columns that are shares of product views (category, tag, price band)."""
        return [i for i, f in enumerate(self.features) if f.kind in ("category", "tag", "price_band")]

    def columns(self, block: str) -> list[int]:
        return [i for i, f in enumerate(self.features) if f.block == block]

    def band(self, price: float) -> str:
        return PRICE_BANDS[bisect_right(self.price_cuts, price)]


def vocabulary(products: Iterable[CatalogueProduct], content_types: Iterable[str]) -> Vocabulary:
    """Columns from the catalogue: its categories, tags and price quartiles, and the content types."""
    items = sorted(products, key=lambda p: p.product_id)
    categories = tuple(sorted({p.category for p in items}))
    tags = tuple(sorted({t for p in items for t in p.tags}))
    kinds = tuple(sorted(set(content_types)))
    prices = np.array([float(p.price) for p in items]) if items else np.array([0.0])
    cuts = tuple(float(q) for q in np.quantile(prices, [0.25, 0.5, 0.75]))
    features = (
        *(Feature(BROWSING, "category", c) for c in categories),
        *(Feature(BROWSING, "tag", t) for t in tags),
        *(Feature(BROWSING, "price_band", b) for b in PRICE_BANDS),
        Feature(BROWSING, "dwell", "mean log seconds"),
        Feature(BROWSING, "saves", "per view"),
        *(Feature(CONTENT, "content_type", k) for k in kinds),
        Feature(CONTENT, "content_time", "log seconds"),
        *(Feature(EMAIL, "open_time", p) for p in PARTS_OF_DAY),
        Feature(EMAIL, "open_rate", "log opens per week"),
        *(Feature(PURCHASES, "bought", c) for c in categories),
    )
    return Vocabulary(
        features=features, categories=categories, tags=tags, content_types=kinds, price_cuts=cuts,
        product_category={p.product_id: p.category for p in items},
        product_tags={p.product_id: tuple(p.tags) for p in items},
        product_price={p.product_id: float(p.price) for p in items},
    )


Stored = tuple[datetime, str, Mapping[str, Any]]
"""An event as the store keeps it: its instant, its data category and the raw message
(`consent.gateway.Prefetched.rows`), read without a copy of the message per row."""


def content_types_seen(rows: Iterable[Stored]) -> set[str]:
    """The `content_type`s of content pages among stored rows (for a vocabulary when pages are not listed)."""
    kinds = (_props(raw).get("content_type") for _, category, raw in rows if category == CONTENT)
    return {k for k in kinds if isinstance(k, str)}


def client_vector(rows: Sequence[Mapping[str, Any]], vocab: Vocabulary, *, at: datetime,
                  half_life_days: float = HALF_LIFE_DAYS) -> np.ndarray:
    """One client's features from their rows before `at` (rows at or after `at` are ignored)."""
    return _tally(_stored(rows), vocab, at=at, half_life_days=half_life_days)[0]


def stored_vector(rows: Iterable[Stored], vocab: Vocabulary, *, at: datetime,
                  half_life_days: float = HALF_LIFE_DAYS) -> np.ndarray:
    """`client_vector` of rows as stored: a fit tallies every pooled client's events, and needs
    neither a copy of each message with its category added nor its timestamp parsed again (about
    6% of a fit's CPU at 20,000 clients)."""
    return _tally(rows, vocab, at=at, half_life_days=half_life_days)[0]


def block_evidence(rows: Sequence[Mapping[str, Any]], vocab: Vocabulary, *, at: datetime,
                   half_life_days: float = HALF_LIFE_DAYS) -> dict[str, float]:
    """How many events each block's values rest on, recency-weighted as the features are: product
    views (browsing), content visits, email opens, units bought. A block's shares are estimates
    from that many events: with one content visit "100 % sourcing" says little, with forty a lot
    (the placement weighs each block by it; see `estimator.reliability`)."""
    return _tally(_stored(rows), vocab, at=at, half_life_days=half_life_days)[1]


def vector_and_evidence(rows: Sequence[Mapping[str, Any]], vocab: Vocabulary, *, at: datetime,
                        half_life_days: float = HALF_LIFE_DAYS) -> tuple[np.ndarray, dict[str, float]]:
    """`client_vector` and `block_evidence` of the same rows, from one pass over them.

    A block with no evidence has all its features at zero (each is a share of, or a mean over,
    that block's events), so leaving its rows out changes neither the vector nor the other
    blocks' evidence: a placement that uses only the blocks with evidence reads the vector of all
    its rows."""
    return _tally(_stored(rows), vocab, at=at, half_life_days=half_life_days)


def _stored(rows: Iterable[Mapping[str, Any]]) -> Iterator[Stored]:
    """Rows as readers get them (the message with its `data_category`) as stored rows; a row without
    a readable timestamp is left out."""
    for row in rows:
        stamp = _instant(row)
        if stamp is not None:
            yield stamp, str(row.get("data_category")), row


def _tally(rows: Iterable[Stored], vocab: Vocabulary, *, at: datetime,
           half_life_days: float) -> tuple[np.ndarray, dict[str, float]]:
    """The feature vector and, per block, the recency-weighted number of events behind it."""
    x = np.zeros(len(vocab.features))
    col = vocab.columns_by_key()
    views = saves = pages = content_seconds = dwell = opens = units = 0.0
    first: datetime | None = None  # of the events some block rests on, for the open rate's weeks
    for stamp, cat, row in rows:
        if stamp >= at:
            continue
        w = 0.5 ** ((at - stamp).total_seconds() / 86400.0 / half_life_days)
        props, name = _props(row), _name(row)
        if cat == BROWSING and name == "Product Viewed":
            pid = props.get("product_id")
            if not isinstance(pid, str) or pid not in vocab.product_category:
                continue
            views += w
            x[col["category", vocab.product_category[pid]]] += w
            for tag in vocab.product_tags[pid]:
                x[col["tag", tag]] += w
            x[col["price_band", vocab.band(vocab.product_price[pid])]] += w
            dwell += w * math.log1p(_seconds(props))
        elif cat == BROWSING and name == "Product Added to Wishlist":
            saves += w
            continue  # not evidence: a save is counted per view
        elif cat == CONTENT and name in ("page", "screen"):  # an app's screen reads as a page
            kind = props.get("content_type")
            if isinstance(kind, str) and ("content_type", kind) in col:
                x[col["content_type", kind]] += w
            pages += w
            content_seconds += w * _seconds(props)
        elif cat == EMAIL and name == "Email Opened":
            opens += w
            x[col["open_time", part_of_day(message_local_time(row, stamp))]] += w
        elif cat == PURCHASES and name == "Order Completed":
            before = units
            for pid, quantity in _lines(props):
                if pid in vocab.product_category:
                    units += w * quantity
                    x[col["bought", vocab.product_category[pid]]] += w * quantity
            if units == before:
                continue  # no piece of the catalogue: not evidence
        else:
            continue
        if first is None or stamp < first:
            first = stamp
    _normalise(x, vocab.view_share_columns(), views)
    x[col["dwell", "mean log seconds"]] = dwell / views if views else 0.0
    x[col["saves", "per view"]] = saves / views if views else 0.0
    kinds = [col["content_type", k] for k in vocab.content_types]
    _normalise(x, kinds, float(x[kinds].sum()) if kinds else 0.0)
    x[col["content_time", "log seconds"]] = math.log1p(content_seconds)
    _normalise(x, [col["open_time", p] for p in PARTS_OF_DAY], opens)
    if opens and first is not None:
        x[col["open_rate", "log opens per week"]] = math.log1p(opens / _weeks_seen(first, at, half_life_days))
    _normalise(x, vocab.columns(PURCHASES), units)
    return x, {BROWSING: views, CONTENT: pages, EMAIL: opens, PURCHASES: units}


def declared_vector(rows: Iterable[Mapping[str, Any]], categories: Sequence[str], *,
                    at: datetime) -> np.ndarray | None:
    """The client's declared interests as shares over the catalogue's `categories`: the latest
    `identify` before `at` stating `declared_categories`, each named catalogue category 1 / (how
    many). None without a declaration, when the latest one cleared them (null or empty) or names
    no catalogue category: a client who said nothing is not "interested in nothing"."""
    stated = [r for r in rows if r.get("type") == "identify" and DECLARED in (r.get("traits") or {})
              and (s := _instant(r)) is not None and s < at]
    if not stated:
        return None
    named = set(declared_categories(stated[-1]["traits"][DECLARED])) & set(categories)
    if not named:
        return None
    return np.array([1.0 / len(named) if c in named else 0.0 for c in categories])


def has_signal(rows: Iterable[Mapping[str, Any]], *, at: datetime, block: str) -> int:
    """How many events of a block the client has before `at` (a block with none says nothing)."""
    return sum(1 for r in rows if r.get("data_category") == block and (s := _instant(r)) is not None and s < at)


def _weeks_seen(first: datetime, at: datetime, half_life_days: float) -> float:
    """The weeks from the client's first event to `at`, each weighed by recency as their opens are
    (the integral of the decay), and at least one: a long-known client's old weeks count as little
    as their old opens, and a newcomer's single day counts as a week, not a seventh of one."""
    days = max((at - first).total_seconds() / 86400.0, 0.0)
    weighted = half_life_days / math.log(2) * (1.0 - math.exp(-math.log(2) * days / half_life_days))
    return max(weighted / 7.0, 1.0)


def _normalise(x: np.ndarray, columns: list[int], total: float) -> None:
    if columns and total > 0:
        x[columns] = x[columns] / total


def _props(row: Mapping[str, Any]) -> Mapping[str, Any]:
    props = row.get("properties")
    return props if isinstance(props, Mapping) else {}


def _name(row: Mapping[str, Any]) -> str:
    return str(row.get("event")) if row.get("type") == "track" else str(row.get("type"))


def _instant(row: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_instant(row["timestamp"])
    except (KeyError, TypeError, ValueError):
        return None


def _seconds(props: Mapping[str, Any]) -> float:
    value = props.get("dwell_seconds")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0.0


def _lines(props: Mapping[str, Any]) -> list[tuple[str, int]]:
    lines = props.get("products")
    found = []
    for line in lines if isinstance(lines, list) else [props]:
        pid = line.get("product_id") if isinstance(line, Mapping) else None
        if isinstance(pid, str):
            quantity = line.get("quantity")
            found.append((pid, quantity if isinstance(quantity, int) and not isinstance(quantity, bool)
                          and quantity > 0 else 1))
    return found
