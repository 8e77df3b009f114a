"""What the recommendations endpoint returns: items with their reasons, and the served set."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SURFACES = ("home", "product_page", "digest")


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    codes: tuple[str, ...]
    data_categories: tuple[str, ...]  # client data this item's choice used (aggregates are never listed)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "codes": list(self.codes), "data_categories": list(self.data_categories)}


@dataclass(frozen=True, slots=True)
class Item:
    product_id: str
    name: str
    category: str
    subcategory: str | None
    price: Decimal
    currency: str
    available_sizes: tuple[str, ...]
    reason: Reason
    exploratory: bool = False
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id, "name": self.name, "category": self.category,
            "subcategory": self.subcategory, "price": str(self.price), "currency": self.currency,
            "available_sizes": list(self.available_sizes), "exploratory": self.exploratory,
            "reason": self.reason.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Recommendations:
    client_id: str
    surface: str
    level: str
    at: str
    model_version: str
    items: tuple[Item, ...]
    product_id: str | None = None
    withheld: str | None = None  # why nothing is served (restriction), else None
    dropped: dict[str, int] = field(default_factory=dict)  # brand-safety rule -> items dropped

    def data_categories(self) -> list[str]:
        return sorted({c for i in self.items for c in i.reason.data_categories})

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id, "surface": self.surface, "product_id": self.product_id, "level": self.level,
            "at": self.at, "model_version": self.model_version, "withheld": self.withheld,
            "data_categories": self.data_categories(), "items": [i.to_dict() for i in self.items],
        }
