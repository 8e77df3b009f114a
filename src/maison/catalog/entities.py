"""What the catalog holds: products with their stock, content pages, and what an import did.

Sizes are kept exactly as the catalog spells them: one-size products carry the single size
`one_size` (the catalog's own word, also used as the `variant` of cart and order events), so a
size read from an event can be looked up in `stock` without translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ONLINE = "online"
"""The stock location of the web shop; every other location is a store id."""

Stock = Mapping[str, Mapping[str, int]]
"""Units per location, then per size: `{"online": {"M": 3}, "london": {"M": 0}}`."""


@dataclass(frozen=True, slots=True)
class Product:
    """One catalog product. Lists are tuples so that a product can be shared without copying."""

    product_id: str
    name: str
    category: str
    price: Decimal
    currency: str
    sizes: tuple[str, ...]
    stock: Stock = field(hash=False)  # a mapping is unhashable; the other fields identify it
    subcategory: str | None = None
    materials: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    certifications: tuple[str, ...] = ()
    maker: str | None = None
    collections: tuple[str, ...] = ()
    limited_edition: bool = False
    access_restricted: bool = False
    launched_on: date | None = None
    pairs_with: tuple[str, ...] = ()
    description: str | None = None

    def units(self, location: str, size: str | None = None) -> int:
        """Units at one location, for one size or all sizes; unknown means zero."""
        at = self.stock.get(location, {})
        return at.get(size, 0) if size is not None else sum(at.values())

    def online_sizes_in_stock(self) -> tuple[str, ...]:
        """Sizes a client can buy online now, in the catalog's size order."""
        return tuple(s for s in self.sizes if self.units(ONLINE, s) > 0)

    def in_stock_online(self) -> bool:
        """The catalog's definition of "in stock": some online units, whatever the stores hold."""
        return self.units(ONLINE) > 0

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus an `online` summary so that clients need not re-derive it."""
        return {
            "product_id": self.product_id,
            "name": self.name,
            "category": self.category,
            "subcategory": self.subcategory,
            "price": self.price,
            "currency": self.currency,
            "materials": list(self.materials),
            "colors": list(self.colors),
            "tags": list(self.tags),
            "certifications": list(self.certifications),
            "maker": self.maker,
            "collections": list(self.collections),
            "limited_edition": self.limited_edition,
            "access_restricted": self.access_restricted,
            "launched_on": self.launched_on.isoformat() if self.launched_on else None,
            "sizes": list(self.sizes),
            "stock": {loc: dict(per_size) for loc, per_size in self.stock.items()},
            "online": {
                "in_stock": self.in_stock_online(),
                "units": self.units(ONLINE),
                "sizes_in_stock": list(self.online_sizes_in_stock()),
            },
            "pairs_with": list(self.pairs_with),
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Facets:
    """A product's id, category, tags and price: what a model's columns are built from. Reading only
    these skips the stock rows and the other attributes (a tenth of the cost of a `Product`)."""

    product_id: str
    category: str
    tags: tuple[str, ...]
    price: Decimal


@dataclass(frozen=True, slots=True)
class ContentPage:
    """An editorial page (sourcing, impact, styling guide) and the products it features."""

    page_id: str
    name: str
    path: str
    content_type: str
    topics: tuple[str, ...] = ()
    features_products: tuple[str, ...] = ()
    published_on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "name": self.name,
            "path": self.path,
            "content_type": self.content_type,
            "topics": list(self.topics),
            "features_products": list(self.features_products),
            "published_on": self.published_on.isoformat() if self.published_on else None,
        }


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """Which products a listing returns; `None` means "any"."""

    category: str | None = None
    subcategory: str | None = None
    tag: str | None = None
    collection: str | None = None
    in_stock: bool | None = None  # True: online units > 0; False: none online


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in an import file.

    `field` is None when the whole line is unreadable; `line` is 0 for the file as a whole.
    """

    line: int
    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import wrote: rows new to the store, rows replaced, stock rows written."""

    kind: str  # "products" | "content_pages"
    file: str
    created: int
    updated: int
    stock_rows: int = 0
    ids: tuple[str, ...] = field(default=(), repr=False)

    @property
    def total(self) -> int:
        return self.created + self.updated

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "stock_rows": self.stock_rows,
        }
