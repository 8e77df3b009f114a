"""One read of the catalogue, with what is derived from all of its products worked out once.

A week's digest job hands the same products to every client's digest, and several sections
derive something from the whole catalogue (products by id, by category, the rarity of each
facet, the words of every tag). At 10,000 products that is more work than the rest of a
digest, repeated for each of a hundred thousand clients. A `Catalogue` remembers each derived
value; functions that take any sequence of products ask `derived(products, key, compute)`,
which computes every time for a plain list (tests, one-off callers) and once for a `Catalogue`.
The products are immutable, so a remembered value cannot go stale while the catalogue lives
(a job builds a new one per run: stock is "now").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import TypeVar, overload

from maison.catalog.entities import Product

T = TypeVar("T")


class Catalogue(Sequence[Product]):
    """An immutable sequence of products that remembers values derived from all of them."""

    __slots__ = ("_derived", "_items")

    def __init__(self, products: Iterable[Product]) -> None:
        self._items = tuple(products)
        self._derived: dict[Hashable, object] = {}

    @overload
    def __getitem__(self, index: int) -> Product: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Product]: ...

    def __getitem__(self, index: int | slice) -> Product | Sequence[Product]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._items)

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]  # type: ignore[return-value]


def derived(products: Sequence[Product], key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, once per `Catalogue` (callers must not change what it returns)."""
    if isinstance(products, Catalogue):
        return products.remember(key, compute)
    return compute()


def by_id(products: Sequence[Product]) -> dict[str, Product]:
    """The products by product_id (read-only)."""
    return derived(products, "by_id", lambda: {p.product_id: p for p in products})


def by_category(products: Sequence[Product]) -> dict[str, list[Product]]:
    """The products of each category, in catalogue order (read-only)."""

    def compute() -> dict[str, list[Product]]:
        found: dict[str, list[Product]] = {}
        for p in products:
            found.setdefault(p.category, []).append(p)
        return found

    return derived(products, "by_category", compute)
