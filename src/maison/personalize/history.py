"""A client's own events as the personalisation engine may use them at one instant.

Every L2/L3 section reads the client through one `ClientHistory`, built by `load` from a
single `consent.gateway.read` with the `BEHAVIOUR` reader: the gateway keeps only the
categories the client's consent lets us use for personalisation at the instant (level and
grant), and only events timestamped before it. So a section cannot see browsing that was
switched off, nor anything after the send instant, whatever it asks for; and every fact a
reason cites can point back to the `message_id` of a real event (`Moment.evidence`).

Events are kept in time order with their local time in the client's zone, because reasons
speak in the client's days and parts of day ("viewed Thursday evening").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from maison.core.clock import parse_instant
from maison.personalize.entities import Evidence

PRODUCT_VIEWED = "Product Viewed"
LIST_VIEWED = "Product List Viewed"
WISHLIST_ADDED = "Product Added to Wishlist"
SEARCHED = "Products Searched"
PRODUCT_ADDED = "Product Added"
PRODUCT_REMOVED = "Product Removed"
CHECKOUT_STARTED = "Checkout Started"
ORDER_COMPLETED = "Order Completed"
REVIEWED = "Product Reviewed"
EMAIL_OPENED = "Email Opened"
PAGE = "page"  # a `page` call: its name is the page's, its `content_type` says what it is
SCREEN = "screen"  # an app's `screen` call: the same as a page, on a phone
VIEWS = frozenset({PAGE, SCREEN})


@dataclass(frozen=True, slots=True)
class Moment:
    """One event of the client: what happened, when (UTC and local), under which purpose."""

    message_id: str
    name: str  # the track event's name, or "page" for page calls
    data_category: str
    at: datetime  # UTC
    local: datetime  # in the client's zone
    properties: Mapping[str, Any] = field(hash=False)
    traits: Mapping[str, Any] = field(hash=False, default_factory=dict)

    @property
    def product_id(self) -> str | None:
        pid = self.properties.get("product_id")
        return pid if isinstance(pid, str) and pid else None

    @property
    def dwell_seconds(self) -> float:
        value = self.properties.get("dwell_seconds")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    @property
    def content_type(self) -> str | None:
        value = self.properties.get("content_type")
        return value if isinstance(value, str) and value else None

    @property
    def path(self) -> str | None:
        value = self.properties.get("path")
        return value if isinstance(value, str) and value else None

    def line_items(self) -> list[Mapping[str, Any]]:
        """The `products[]` of an order or a checkout (one line for single-product events)."""
        lines = self.properties.get("products")
        if isinstance(lines, list):
            return [line for line in lines if isinstance(line, Mapping)]
        return [self.properties] if self.product_id else []

    def evidence(self) -> Evidence:
        """This event as evidence in a reason (its message id, local weekday and part of day)."""
        shown = {PAGE: "Page Viewed", SCREEN: "Screen Viewed"}.get(self.name, self.name)
        return Evidence(self.message_id, shown, self.local)

    @property
    def is_content_visit(self) -> bool:
        """A content page read: a `page` or an app's `screen` call filed under `content_engagement`."""
        return self.name in VIEWS and self.data_category == "content_engagement"


@dataclass(frozen=True, slots=True)
class ClientHistory:
    """The client's usable events before `at`, in time order (`from_rows` sorts them), and the zone
    they are told in."""

    at: datetime
    zone: ZoneInfo
    moments: tuple[Moment, ...]

    @property
    def categories(self) -> frozenset[str]:
        """The purposes of the events present (what the consent let through)."""
        return frozenset(m.data_category for m in self.moments)

    def named(self, *names: str) -> list[Moment]:
        wanted = set(names)
        return [m for m in self.moments if m.name in wanted]

    def in_category(self, *categories: str) -> list[Moment]:
        wanted = set(categories)
        return [m for m in self.moments if m.data_category in wanted]

    def product_views(self) -> list[Moment]:
        return self.named(PRODUCT_VIEWED)

    def saves(self) -> list[Moment]:
        return self.named(WISHLIST_ADDED)

    def searches(self) -> list[Moment]:
        return self.named(SEARCHED)

    def content_visits(self) -> list[Moment]:
        """Content pages read (`Moment.is_content_visit`)."""
        return [m for m in self.moments if m.is_content_visit]

    def purchases(self) -> list[Moment]:
        return self.named(ORDER_COMPLETED)

    def bought(self) -> frozenset[str]:
        """Products the client has bought (any line of any order)."""
        return frozenset(
            pid for m in self.purchases() for line in m.line_items()
            if isinstance(pid := line.get("product_id"), str)
        )

    def touching(self, product_id: str, *names: str) -> list[Moment]:
        """Events about one product (optionally of the given names), in time order."""
        wanted = set(names)
        return [
            m for m in self.moments
            if (not wanted or m.name in wanted)
            and (m.product_id == product_id or any(line.get("product_id") == product_id for line in m.line_items()))
        ]

    def since(self, start: datetime) -> ClientHistory:
        """The moments at or after `start`: a slice, as they are in time order (`from_rows`)."""
        return ClientHistory(self.at, self.zone, self.moments[bisect_left(self.moments, start, key=_instant):])

    def between(self, start: datetime, end: datetime) -> tuple[Moment, ...]:
        """The moments in `[start, end)`, in time order (a month of a taste trajectory)."""
        moments = self.moments
        return moments[bisect_left(moments, start, key=_instant) : bisect_left(moments, end, key=_instant)]

    def __iter__(self) -> Iterator[Moment]:
        return iter(self.moments)

    def __len__(self) -> int:
        return len(self.moments)


def _instant(moment: Moment) -> datetime:
    return moment.at


def from_rows(rows: Iterable[Mapping[str, Any]], *, at: datetime, zone: ZoneInfo) -> ClientHistory:
    """A history from gateway rows (`raw` messages with `data_category`), pure."""
    moments = []
    for row in rows:
        stamp = parse_instant(row["timestamp"])
        if stamp >= at:
            continue  # the gateway already bounds by `at`; kept so the function stands alone
        kind = row.get("type")
        name = row.get("event") if kind == "track" else kind
        stated, said = row.get("properties"), row.get("traits")
        props = stated if isinstance(stated, Mapping) else {}
        traits = said if isinstance(said, Mapping) else {}
        moments.append(Moment(
            message_id=str(row.get("messageId")), name=str(name), data_category=str(row["data_category"]),
            at=stamp, local=stamp.astimezone(zone), properties=props, traits=traits,
        ))
    moments.sort(key=lambda m: m.at)
    return ClientHistory(at, zone, tuple(moments))

