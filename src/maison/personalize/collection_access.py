"""Collection access: restricted collections that open to a client from the depth and direction
of their engagement (pure).

Some products are `access_restricted` (an Atelier collection of limited, hand-made pieces): they
may be recommended only to a client who has been granted access to their collection. Access is
earned by how the client engages, read from their taste trajectory, never bought:

- **Depth**: in their latest month with views, at least `MIN_VIEWS` product views with a median
  dwell of at least `MIN_DWELL` seconds and at least `DEPTH_GROWTH` times their first month's,
  and more time on content pages than in their first month.
- **Direction**: a *signature tag* of the collection (carried by at least half of its restricted
  pieces: the collection's character, from the catalogue) rose by at least `MIN_RISE` in their
  share of product views from their first month to their latest.

Access carries no price benefit: prices stay the catalogue's. Once granted it is recorded as
derived data (`client_derived`, kind `collection_access`), shown in the privacy settings and the
export, and erased with the client.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from maison.catalog.entities import Product
from maison.personalize.trajectory import MonthSummary, percent
from maison.personalize.vocabulary import Vocabulary

MIN_VIEWS = 5
MIN_DWELL = 60.0
DEPTH_GROWTH = 1.5
MIN_RISE = 0.2
KIND = "collection_access"
NO_PRICE_BENEFIT = "Access carries no price benefit: every piece is offered at its catalogue price."


@dataclass(frozen=True, slots=True)
class Access:
    collection: str
    granted_at: datetime
    reason: str
    signature_tag: str
    data_categories: tuple[str, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "granted_at": self.granted_at.isoformat(),
            "reason": self.reason,
            "price_benefit": False,
            "signature_tag": self.signature_tag,
            "data_categories": list(self.data_categories),
        }


def restricted_collections(products: Sequence[Product]) -> dict[str, tuple[str, ...]]:
    """Each collection holding restricted pieces, with its signature tags (on >= half of them)."""
    pieces: dict[str, list[Product]] = {}
    for product in products:
        if product.access_restricted:
            for collection in product.collections:
                pieces.setdefault(collection, []).append(product)
    found = {}
    for collection, members in sorted(pieces.items()):
        counts = Counter(t for p in members for t in set(p.tags))
        found[collection] = tuple(sorted(t for t, n in counts.items() if 2 * n >= len(members)))
    return found


def unlocked(
    months: Sequence[MonthSummary], products: Sequence[Product], *, vocabulary: Vocabulary, at: datetime
) -> list[Access]:
    """Collections the trajectory opens at `at` (see module doc); none from fewer than two months."""
    viewed = [m for m in months if m.product_views]
    if len(viewed) < 2:
        return []
    first, last = viewed[0], viewed[-1]
    if not _deeper(first, last):
        return []
    granted = []
    for collection, signature in restricted_collections(products).items():
        rises = [(t, _share(first, t), _share(last, t)) for t in signature if t in vocabulary.aesthetic_tags
                 or t in vocabulary.value_tags]
        rises = [r for r in rises if r[2] - r[1] >= MIN_RISE]
        if not rises:
            continue
        tag, before, now = max(rises, key=lambda r: (r[2] - r[1], r[0]))
        categories = tuple(sorted({c for m in (first, last) for c in m.data_categories}))
        granted.append(Access(collection, at, _reason(collection, first, last, tag, before, now), tag, categories))
    return granted


def _deeper(first: MonthSummary, last: MonthSummary) -> bool:
    if last.product_views < MIN_VIEWS or last.median_dwell_seconds is None or first.median_dwell_seconds is None:
        return False
    return (last.median_dwell_seconds >= MIN_DWELL
            and last.median_dwell_seconds >= DEPTH_GROWTH * first.median_dwell_seconds
            and last.content_seconds > first.content_seconds)


def _share(month: MonthSummary, tag: str) -> float:
    return month.tag_shares.get(tag, month.value_tag_shares.get(tag, 0.0))


def _reason(collection: str, first: MonthSummary, last: MonthSummary, tag: str, before: float, now: float) -> str:
    return (
        f"Opened from your taste trajectory: your median time on a piece grew from "
        f"{first.median_dwell_seconds:.0f} seconds in month {first.month.index} to {last.median_dwell_seconds:.0f} "
        f"seconds in month {last.month.index}, your time on our content pages grew from "
        f"{round(first.content_seconds / 60)} to {round(last.content_seconds / 60)} minutes, and the share of your "
        f"views on {tag} pieces, the character of the {collection}, rose from {percent(before)} to "
        f"{percent(now)}. {NO_PRICE_BENEFIT}"
    )
