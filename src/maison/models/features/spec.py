"""What the early-signal features are, and how each one reads in plain words.

Categories and collections are data: the spec is built from whatever the catalog holds, so a
retailer's own collections become features (and reasons) without code. Every feature carries
the sentence used to explain a score, so wording is generated from definitions, never written
per catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

DAY: Final = 86_400


@dataclass(frozen=True, slots=True)
class Feature:
    """One column of the feature table; `says` is formatted with `value`, `days` and `name`."""

    name: str
    says: str
    kind: str = "count"  # count | amount | ratio | minutes | days | month | category | flag


def slug(text: str) -> str:
    """A column-safe, backend-neutral name fragment: lower-case ASCII letters, digits, `_`."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


BASE: Final[tuple[Feature, ...]] = (
    Feature("events", "was active {value:.0f} times in the first {days} days"),
    Feature("product_views", "viewed {value:.0f} pieces in the first {days} days"),
    Feature("distinct_products", "looked at {value:.0f} different pieces in the first {days} days"),
    Feature("views_week1", "viewed {value:.0f} pieces in the first week"),
    Feature("sessions", "came back for {value:.0f} visits in the first {days} days"),
    Feature("session_minutes_mean", "spent {value:.0f} minutes per visit on average", "minutes"),
    Feature("browse_minutes", "spent {value:.0f} minutes looking at pieces", "minutes"),
    Feature("categories_viewed", "explored {value:.0f} categories"),
    Feature("top_category_share", "focused {value:.0%} of views on one category", "ratio"),
    Feature("rel_price_viewed_median", "typically viewed pieces at {value:.1f}x the catalogue's median price", "ratio"),
    Feature("rel_price_viewed_max", "viewed pieces up to {value:.1f}x the catalogue's median price", "ratio"),
    Feature("wishlist_adds", "saved {value:.0f} pieces to a wishlist"),
    Feature("cart_adds", "added {value:.0f} pieces to the bag"),
    Feature("abandoned_carts", "left a full bag {value:.0f} times"),
    Feature("searches", "searched {value:.0f} times"),
    Feature("email_opens", "opened {value:.0f} emails"),
    Feature("email_clicks", "followed {value:.0f} email links"),
    Feature("content_views", "read {value:.0f} editorial pages"),
    Feature("content_minutes", "spent {value:.0f} minutes reading editorial pages", "minutes"),
    Feature("orders", "placed {value:.0f} orders in the first {days} days"),
    Feature("purchase_days", "bought on {value:.0f} different days in the first {days} days"),
    Feature("last_order_day", "was still buying {value:.0f} days after the first visit", "days"),
    Feature("spend", "spent {value:,.0f} in the first {days} days", "amount"),
    Feature("first_order_amount", "made a first purchase of {value:,.0f}", "amount"),
    Feature("first_order_items", "bought {value:.0f} pieces in the first order"),
    Feature("first_order_rel_price_max", "bought a first piece at {value:.1f}x the catalogue's median price", "ratio"),
    Feature("first_order_in_store", "made the first purchase in a store", "flag"),
    Feature("first_order_month", "made the first purchase in month {value:.0f}", "month"),
    Feature("days_to_first_order", "bought {value:.0f} days after the first visit", "days"),
    Feature("first_order_category", "chose {value} for the first purchase", "category"),
    Feature("first_order_store", "made the first purchase at the {value} store", "category"),
)
CATEGORICAL: Final = tuple(f.name for f in BASE if f.kind == "category")


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """The window and the catalogue-driven columns; the pipeline is a pure function of it."""

    window_days: int = 30
    session_gap_minutes: int = 30
    categories: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    features: tuple[Feature, ...] = field(init=False)

    def __post_init__(self) -> None:
        per_category = tuple(
            Feature(f"views__{slug(c)}", f"viewed {c} pieces {{value:.0f}} times in the first {{days}} days")
            for c in self.categories
        )
        per_collection = tuple(
            Feature(f"collection_views__{slug(c)}", f"viewed {c} pieces {{value:.0f}} times in the first {{days}} days")
            for c in self.collections
        )
        object.__setattr__(self, "features", BASE + per_category + per_collection)

    @property
    def window_seconds(self) -> int:
        return self.window_days * DAY

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def by_name(self) -> Mapping[str, Feature]:
        return {f.name: f for f in self.features}


def spec_for(categories: Iterable[str], collections: Iterable[str] = (), *, window_days: int = 30) -> FeatureSpec:
    """A spec over these catalogue categories and collections (sorted, deduplicated)."""
    return FeatureSpec(
        window_days=window_days, categories=tuple(sorted(set(categories))), collections=tuple(sorted(set(collections)))
    )
