"""Brand-safety rules that keep a served selection buyable and coherent. Pure, configurable per maison.

Applied after ranking, in rank order, so the best item of a near-duplicate pair or of a crowded
subcategory is the one kept:
- buyable: in stock online (in the client's size when known) and not access-restricted unless the
  client has been granted one of the product's collections;
- never the same product twice, never one the client is viewing on the page being served;
- no near-duplicates: the same piece in another colour (same name stem), or the same
  subcategory, maker and materials;
- at most `max_per_subcategory` items of one subcategory;
- price consistent with the client's band: within [reference / ratio, reference x ratio] of the
  median price of what the client bought or engaged with, when there is such a reference.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from maison.catalog.entities import Product

_COLOUR_SUFFIX = re.compile(r"\s+in\s+[\w\s-]+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BrandSafety:
    """The rules' settings (a maison may change each)."""

    max_per_subcategory: int = 2
    price_ratio: float = 2.5  # allowed factor either side of the client's reference price
    min_price_references: int = 2  # fewer priced items than this: no price-band rule


@dataclass(frozen=True, slots=True)
class Dropped:
    product_id: str
    rule: str


def name_stem(name: str) -> str:
    """The product name without its colour suffix ("Cashmere Cardigan in Charcoal" -> "cashmere cardigan")."""
    return _COLOUR_SUFFIX.sub("", name).strip().lower()


def signature(product: Product) -> tuple[str | None, str | None, tuple[str, ...]]:
    return (product.subcategory, product.maker, tuple(sorted(product.materials)))


def reference_price(prices: Iterable[float], *, rules: BrandSafety) -> float | None:
    """The client's reference price: the median of what they bought or engaged with."""
    found = [p for p in prices if p > 0]
    return statistics.median(found) if len(found) >= rules.min_price_references else None


def buyable(product: Product, *, collections: frozenset[str], size: str | None = None) -> str | None:
    """None when the product may be served, else the rule it breaks."""
    if not product.in_stock_online():
        return "out_of_stock"
    if size is not None and size in product.sizes and product.units("online", size) <= 0:
        return "size_out_of_stock"
    if product.access_restricted and not collections.intersection(product.collections):
        return "access_restricted"
    return None


def select(
    ranked: Sequence[Product], *, k: int, rules: BrandSafety, collections: frozenset[str] = frozenset(),
    reference: float | None = None, exclude: frozenset[str] = frozenset(), size: str | None = None,
) -> tuple[list[Product], list[Dropped]]:
    """The first `k` products of `ranked` that pass every rule, and why the others were dropped."""
    chosen: list[Product] = []
    dropped: list[Dropped] = []
    stems: set[str] = set()
    signatures: set[tuple[str | None, str | None, tuple[str, ...]]] = set()
    per_subcategory: Counter[str] = Counter()
    seen: set[str] = set()
    for product in ranked:
        if len(chosen) >= k:
            break
        rule = _broken(product, rules=rules, collections=collections, reference=reference, exclude=exclude, size=size,
                       seen=seen, stems=stems, signatures=signatures, per_subcategory=per_subcategory)
        if rule is not None:
            dropped.append(Dropped(product.product_id, rule))
            continue
        chosen.append(product)
        seen.add(product.product_id)
        stems.add(name_stem(product.name))
        if product.subcategory and (product.maker or product.materials):
            signatures.add(signature(product))
        per_subcategory[product.subcategory or product.category] += 1
    return chosen, dropped


def _broken(product: Product, *, rules: BrandSafety, collections: frozenset[str], reference: float | None,
            exclude: frozenset[str], size: str | None, seen: set[str], stems: set[str],
            signatures: set[tuple[str | None, str | None, tuple[str, ...]]],
            per_subcategory: Counter[str]) -> str | None:
    if product.product_id in seen or product.product_id in exclude:
        return "excluded"
    unbuyable = buyable(product, collections=collections, size=size)
    if unbuyable is not None:
        return unbuyable
    if name_stem(product.name) in stems or (product.subcategory and signature(product) in signatures):
        return "near_duplicate"
    if per_subcategory[product.subcategory or product.category] >= rules.max_per_subcategory:
        return "subcategory_cap"
    if reference is not None:
        price = float(product.price)
        if not reference / rules.price_ratio <= price <= reference * rules.price_ratio:
            return "price_band"
    return None
