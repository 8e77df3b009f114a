"""Gateway messages -> one long table of events, the only input the feature pipeline reads.

The table is deliberately flat and typed (epoch seconds, local month, plain strings and floats)
so the same Ibis expressions run unchanged on DuckDB and Spark: no JSON, no time zones, no
backend-specific timestamp arithmetic. An order becomes one row per line so first-purchase
attributes (item category, price) join the catalog like any product event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import pandas as pd

from maison.consent.purposes import CONTENT_PAGE_TYPES
from maison.core.clock import message_local_time
from maison.core.orders import amount, order_value

PAGE_VIEWED: Final = "Page Viewed"
ORDER: Final = "Order Completed"

COLUMNS: Final[Mapping[str, str]] = {
    "client_id": "string",  # whatever key the caller uses
    "t": "int64",  # seconds since the epoch, UTC
    "month": "int64",  # calendar month on the client's clock (season of a purchase)
    "event": "string",  # track event name, or "Page Viewed"
    "product_id": "string",
    "dwell_seconds": "float64",
    "content_type": "string",  # editorial page kind for content pages
    "order_id": "string",
    "amount": "float64",  # value of an order line (price x quantity)
    "store_id": "string",  # set for purchases made in a store
}

CATALOG_COLUMNS: Final[Mapping[str, str]] = {"product_id": "string", "category": "string", "price": "float64"}
COLLECTION_COLUMNS: Final[Mapping[str, str]] = {"product_id": "string", "collection": "string"}


def empty() -> pd.DataFrame:
    return typed(pd.DataFrame({name: [] for name in COLUMNS}))


def typed(frame: pd.DataFrame, columns: Mapping[str, str] = COLUMNS) -> pd.DataFrame:
    """`frame` with exactly `columns`, in order and with their dtypes (missing ones as nulls)."""
    out = pd.DataFrame(index=frame.index)
    for name, dtype in columns.items():
        values = frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype="object")
        out[name] = values.astype("Int64" if dtype == "int64" else dtype)
    return out.astype({n: ("int64" if d == "int64" else d) for n, d in columns.items()}).reset_index(drop=True)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _order_id(message: Mapping[str, Any]) -> str | None:
    """The order id of an `Order Completed` message (None for any other message, or without one)."""
    if message.get("type") != "track" or message.get("event") != ORDER:
        return None
    props = message.get("properties")
    order = props.get("order_id") if isinstance(props, Mapping) else None
    return str(order) if order is not None else None


def _rows(client_id: str, message: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    props = message.get("properties") or {}
    when = _instant(str(message["timestamp"]))  # the season is the client's own month
    base = {"client_id": client_id, "t": int(when.timestamp()), "month": message_local_time(message, when).month}
    kind = message.get("type")
    if kind in ("page", "screen"):
        content = props.get("content_type")
        yield {
            **base,
            "event": PAGE_VIEWED,
            "dwell_seconds": props.get("dwell_seconds"),
            "content_type": content if content in CONTENT_PAGE_TYPES else None,
        }
        return
    if kind != "track":
        return
    event = str(message.get("event"))
    if event == ORDER:
        store = props.get("store") or props.get("store_id")
        for line, value in _line_amounts(props):
            yield {
                **base,
                "event": ORDER,
                "product_id": line.get("product_id"),
                "order_id": props.get("order_id"),
                "amount": value,
                "store_id": store,
            }
        return
    yield {**base, "event": event, "product_id": props.get("product_id"), "dwell_seconds": props.get("dwell_seconds")}


def _line_amounts(props: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], float | None]]:
    """An order's lines (one empty line for an order without `products`) with each one's value.

    A priced line is worth its price times its quantity; the lines without a usable price share
    what the order's value (`core.orders.order_value`) leaves, evenly, so the lines never add up
    to more than the order (copying the order's value onto each was twice the spend for two).
    Lines that are not objects, prices that are not numbers, are no line and no price: a message
    the store accepted never stops the pipeline."""
    lines = [line for line in props.get("products") or () if isinstance(line, Mapping)] or [{}]
    priced: list[float | None] = []
    for line in lines:
        price, quantity = amount(line.get("price")), amount(line.get("quantity") or 1)
        priced.append(float(price * quantity) if price is not None and quantity is not None and quantity > 0 else None)
    unpriced = priced.count(None)
    total = order_value(props)
    rest = None if total is None or not unpriced else max(float(total) - sum(a for a in priced if a is not None), 0.0)
    return [(line, amount if amount is not None else (rest / unpriced if rest is not None else None))
            for line, amount in zip(lines, priced, strict=True)]


def from_messages(messages: Mapping[str, Sequence[Mapping[str, Any]]]) -> pd.DataFrame:
    """The long table of what the consent gateway returned (client id -> raw messages).

    An order sent twice under two messageIds (a retry with a new id) is counted once per client
    and order id, as the profile counts it."""
    rows: list[dict[str, Any]] = []
    for client_id, msgs in messages.items():
        orders: set[str] = set()
        for m in msgs:
            order = _order_id(m)
            if order is not None:
                if order in orders:
                    continue
                orders.add(order)
            rows += _rows(client_id, m)
    if not rows:
        return empty()
    return typed(pd.DataFrame.from_records(rows))
