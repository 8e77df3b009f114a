"""The client profile and its parts, as plain dataclasses.

Every instant is kept twice: `at` in UTC (for ordering and arithmetic) and `local` in the
client's own time zone (for what a person reads: weekday, part of day, hour of an email open).
`to_dict` renders the JSON the API and `maison profile show --json` return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from maison.core.clock import part_of_day

Identifier = tuple[str, str]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event as the profile reads it: typed columns plus the message's own fields."""

    message_id: str
    type: str
    event: str | None  # track event name, or page/screen name
    timestamp: datetime  # UTC-aware
    utc_offset_minutes: int | None = None
    timezone: str | None = None  # context.timezone
    channel: str | None = None
    product_id: str | None = None
    dwell_seconds: float | None = None
    order_id: str | None = None
    revenue: Decimal | None = None
    currency: str | None = None
    store_id: str | None = None
    data_category: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    traits: Mapping[str, Any] = field(default_factory=dict)  # identify only

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> EventRecord:
        """Build from an `events` row (a mapping of its columns, `raw` included)."""
        raw: Mapping[str, Any] = row.get("raw") or {}
        props = raw.get("properties")
        traits: Any = None
        if row["type"] == "identify":
            context = raw.get("context")
            traits = raw.get("traits")
            if not traits and isinstance(context, dict):
                traits = context.get("traits")
        return cls(
            message_id=row["message_id"],
            type=row["type"],
            event=row.get("event"),
            timestamp=row["timestamp"],
            utc_offset_minutes=row.get("utc_offset_minutes"),
            timezone=row.get("timezone"),
            channel=row.get("channel"),
            product_id=row.get("product_id"),
            dwell_seconds=row.get("dwell_seconds"),
            order_id=row.get("order_id"),
            revenue=row.get("revenue"),
            currency=row.get("currency"),
            store_id=row.get("store_id"),
            data_category=row.get("data_category"),
            properties=props if isinstance(props, dict) else {},
            traits=traits if isinstance(traits, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class Moment:
    """When one event happened, in UTC and in the client's local time."""

    message_id: str
    at: datetime
    local: datetime

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.local.weekday()]

    @property
    def part_of_day(self) -> str:
        return part_of_day(self.local)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "at": self.at.isoformat(),
            "local_time": self.local.isoformat(),
            "weekday": self.weekday,
            "part_of_day": self.part_of_day,
        }


@dataclass(frozen=True, slots=True)
class Visit:
    """One view of a product page."""

    moment: Moment
    dwell_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.moment.to_dict(), "dwell_seconds": self.dwell_seconds}


@dataclass(frozen=True, slots=True)
class ViewedProduct:
    """Every view of one product, in time order."""

    product_id: str
    name: str | None
    category: str | None
    visits: tuple[Visit, ...]

    @property
    def visit_count(self) -> int:
        return len(self.visits)

    @property
    def dwell_seconds(self) -> float:
        return sum(v.dwell_seconds or 0.0 for v in self.visits)

    @property
    def first_viewed(self) -> Moment:
        return self.visits[0].moment

    @property
    def last_viewed(self) -> Moment:
        return self.visits[-1].moment

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "category": self.category,
            "visit_count": self.visit_count,
            "dwell_seconds": self.dwell_seconds,
            "first_viewed": self.first_viewed.local.isoformat(),
            "last_viewed": self.last_viewed.local.isoformat(),
            "visits": [v.to_dict() for v in self.visits],
        }


@dataclass(frozen=True, slots=True)
class WishlistItem:
    """A product saved and not removed since; `saved` is the save still in effect."""

    product_id: str
    name: str | None
    saved: Moment

    def to_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "name": self.name, "saved": self.saved.to_dict()}


@dataclass(frozen=True, slots=True)
class LineItem:
    """A product line of an order or a cart; `variant` is the size."""

    product_id: str
    name: str | None
    variant: str | None
    quantity: int
    price: Decimal | None

    @property
    def amount(self) -> Decimal | None:
        return self.price * self.quantity if self.price is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "variant": self.variant,
            "quantity": self.quantity,
            "price": self.price,
        }


@dataclass(frozen=True, slots=True)
class Purchase:
    """An `Order Completed`, online or in store."""

    order_id: str
    moment: Moment
    total: Decimal | None
    currency: str | None
    channel: str  # "online" | "store"
    store_id: str | None
    lines: tuple[LineItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            **self.moment.to_dict(),
            "total": self.total,
            "currency": self.currency,
            "channel": self.channel,
            "store_id": self.store_id,
            "lines": [line.to_dict() for line in self.lines],
        }


CART_STATUSES = ("current", "abandoned", "converted")


@dataclass(frozen=True, slots=True)
class Cart:
    """One life of a cart: from its first item to its order, its abandonment, or now."""

    cart_id: str | None  # None when the site sends no cart_id
    status: str  # one of CART_STATUSES
    items: tuple[LineItem, ...]
    total: Decimal | None
    currency: str | None
    started: Moment
    last_activity: Moment
    checkout: Moment | None  # the latest Checkout Started
    decided_at: datetime  # end of the 48 h window after the last activity
    order_id: str | None  # the order that converted it

    def to_dict(self) -> dict[str, Any]:
        return {
            "cart_id": self.cart_id,
            "status": self.status,
            "items": [i.to_dict() for i in self.items],
            "total": self.total,
            "currency": self.currency,
            "started": self.started.to_dict(),
            "last_activity": self.last_activity.to_dict(),
            "checkout_started": self.checkout.to_dict() if self.checkout else None,
            "abandoned_at": self.decided_at.isoformat() if self.status == "abandoned" else None,
            "order_id": self.order_id,
        }


@dataclass(frozen=True, slots=True)
class Search:
    query: str
    moment: Moment

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, **self.moment.to_dict()}


@dataclass(frozen=True, slots=True)
class PageEngagement:
    """Visits to one content page (or, with `path` None, to every page of one type)."""

    content_type: str
    path: str | None
    name: str | None
    visits: int
    dwell_seconds: float
    first_visit: Moment
    last_visit: Moment

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "content_type": self.content_type,
            "visits": self.visits,
            "dwell_seconds": self.dwell_seconds,
            "first_visit": self.first_visit.local.isoformat(),
            "last_visit": self.last_visit.local.isoformat(),
        }
        if self.path is not None:
            data = {"path": self.path, "name": self.name, **data}
        return data


@dataclass(frozen=True, slots=True)
class ContentEngagement:
    by_type: tuple[PageEngagement, ...] = ()
    by_page: tuple[PageEngagement, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_type": {e.content_type: e.to_dict() for e in self.by_type},
            "by_page": [e.to_dict() for e in self.by_page],
        }


@dataclass(frozen=True, slots=True)
class EmailOpen:
    moment: Moment
    campaign_id: str | None
    email_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.moment.to_dict(), "campaign_id": self.campaign_id, "email_id": self.email_id}


@dataclass(frozen=True, slots=True)
class EmailOpens:
    opens: tuple[EmailOpen, ...] = ()

    @property
    def by_hour(self) -> dict[int, int]:
        """Opens per local hour of day (only hours with opens), in hour order."""
        counts: dict[int, int] = {}
        for o in self.opens:
            counts[o.moment.local.hour] = counts.get(o.moment.local.hour, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": len(self.opens),
            "by_hour": {str(h): n for h, n in self.by_hour.items()},
            "opens": [o.to_dict() for o in self.opens],
        }


@dataclass(frozen=True, slots=True)
class RFM:
    """Recency (whole days since the last order), frequency (orders), monetary (sum of totals)."""

    recency_days: int | None
    frequency: int
    monetary: Decimal
    last_order_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recency_days": self.recency_days,
            "frequency": self.frequency,
            "monetary": self.monetary,
            "last_order_at": _iso(self.last_order_at),
        }


@dataclass(frozen=True, slots=True)
class Traits:
    """Declared traits after folding every `identify` in time order (latest wins per key)."""

    declared_categories: tuple[str, ...] = ()
    sizes: Any = None
    city: str | None = None
    country: str | None = None
    timezone: str | None = None
    channel_preferences: Any = None
    other: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Profile:
    client_id: str
    as_of: datetime
    identifiers: tuple[Identifier, ...]
    traits: Traits
    event_count: int
    first_seen: Moment | None
    last_seen: Moment | None
    purchases: tuple[Purchase, ...]
    wishlist: tuple[WishlistItem, ...]
    carts: tuple[Cart, ...]
    viewed_products: tuple[ViewedProduct, ...]
    searches: tuple[Search, ...]
    content_engagement: ContentEngagement
    email_opens: EmailOpens
    rfm: RFM

    def carts_with_status(self, status: str) -> tuple[Cart, ...]:
        return tuple(c for c in self.carts if c.status == status)

    def to_dict(self) -> dict[str, Any]:
        t = self.traits
        return {
            "client_id": self.client_id,
            "as_of": self.as_of.isoformat(),
            "identifiers": [{"kind": k, "value": v} for k, v in self.identifiers],
            "declared_categories": list(t.declared_categories),
            "sizes": t.sizes,
            "city": t.city,
            "country": t.country,
            "timezone": t.timezone,
            "channel_preferences": t.channel_preferences,
            "traits": dict(t.other),
            "event_count": self.event_count,
            "first_seen": self.first_seen.local.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.local.isoformat() if self.last_seen else None,
            "purchases": [p.to_dict() for p in self.purchases],
            "wishlist": [w.to_dict() for w in self.wishlist],
            "carts": [c.to_dict() for c in self.carts],
            "viewed_products": [v.to_dict() for v in self.viewed_products],
            "searches": [s.to_dict() for s in self.searches],
            "content_engagement": self.content_engagement.to_dict(),
            "email_opens": self.email_opens.to_dict(),
            "rfm": self.rfm.to_dict(),
        }
