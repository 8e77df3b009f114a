"""Client events (raw Segment messages from the consent gateway) to interaction rows. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from maison.core.clock import parse_instant
from maison.recommend.log import Kind

ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)
KINDS: Mapping[str, Kind] = {
    "Product Viewed": Kind.VIEW, "Product Clicked": Kind.VIEW, "Product Added to Wishlist": Kind.SAVE,
    "Product Added": Kind.CART, "Wishlist Product Added to Cart": Kind.CART, "Order Completed": Kind.PURCHASE,
}
Row = tuple[str, str, Kind, float, float]


def day(at: datetime) -> float:
    """Days since the models' origin (a float, so windows are plain comparisons)."""
    return (at - ORIGIN).total_seconds() / 86400.0


def rows(client_id: str, messages: Iterable[Mapping[str, Any]], *, known: Mapping[str, int] | set[str]) -> list[Row]:
    """(client, product, kind, day, quantity) for each product a message is about, known products only.

    An order counts once per line (repeated messageIds are deduplicated by order id).
    """
    found: list[Row] = []
    orders: set[str] = set()
    for m in messages:
        kind = KINDS.get(str(m.get("event")))
        if kind is None:
            continue
        props = m.get("properties") or {}
        if kind == Kind.PURCHASE:
            order = str(props.get("order_id") or m.get("messageId"))
            if order in orders:
                continue
            orders.add(order)
            listed = props.get("products")
            lines: list[Any] = listed if isinstance(listed, list) else [props]
        else:
            lines = [props]
        at = day(parse_instant(m["timestamp"]))
        for line in lines:
            pid = line.get("product_id") if isinstance(line, Mapping) else None
            if not isinstance(pid, str) or pid not in known:
                continue
            q = line.get("quantity") if kind == Kind.PURCHASE else 1
            found.append((client_id, pid, kind, at, float(q) if isinstance(q, int) and not isinstance(q, bool) and q > 0
                          else 1.0))
    return found


def categories_used(messages: Iterable[Mapping[str, Any]]) -> set[str]:
    """The data categories of the messages that yielded interactions."""
    return {str(m["data_category"]) for m in messages if str(m.get("event")) in KINDS and m.get("data_category")}
