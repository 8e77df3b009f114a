"""Selection-level curation of a digest beyond L1 (pure): brand-safety rules over all sections.

Builders each justify their own items; this step keeps the whole digest coherent:

- **No product twice.** An item already shown in an earlier section is dropped from later ones
  (sections keep their builder order, so the more personal reason wins).
- **At most `max_per_subcategory`** items of one subcategory across the curated sections.
- **No near-duplicates**: two pieces of the same subcategory, maker and materials (a colour or
  cut of the same piece) are not shown together; the first one stays.

Sections listed in `exempt` (the client's own abandoned cart, whose items and total must stay
whole) are never trimmed but still count. A section left empty disappears. L1 sections
(`top_sellers`) are not curated, so L1 digests are exactly the declared top sellers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from maison.catalog.entities import Product
from maison.personalize.entities import Item, Section


@dataclass(frozen=True, slots=True)
class CurationPolicy:
    """Per-maison brand-safety settings for a digest's selection."""

    max_per_subcategory: int = 3
    exempt: frozenset[str] = frozenset({"abandoned_cart"})
    untouched: frozenset[str] = frozenset({"top_sellers"})


def _near_key(p: Product) -> tuple[str, str | None, str | None, tuple[str, ...]]:
    return (p.category, p.subcategory, p.maker, tuple(sorted(p.materials)))


def curate(sections: Sequence[Section], products: Mapping[str, Product],
           policy: CurationPolicy = CurationPolicy()) -> list[Section]:
    seen: set[str] = set()
    per_sub: dict[tuple[str, str | None], int] = {}
    near: set[tuple[str, str | None, str | None, tuple[str, ...]]] = set()
    kept: list[Section] = []
    for section in sections:
        items: list[Item] = []
        for it in section.items:
            p = products.get(it.product_id)
            fixed = section.kind in policy.exempt or section.kind in policy.untouched
            if not fixed:
                if it.product_id in seen or p is None:
                    continue
                if per_sub.get((p.category, p.subcategory), 0) >= policy.max_per_subcategory:
                    continue
                if p.maker is not None and _near_key(p) in near:
                    continue
            items.append(it)
            seen.add(it.product_id)
            if p is not None:
                per_sub[(p.category, p.subcategory)] = per_sub.get((p.category, p.subcategory), 0) + 1
                near.add(_near_key(p))
        if items:
            kept.append(replace(section, items=tuple(items)) if len(items) != len(section.items) else section)
    return kept
