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


def _rows(client_id: str, message: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    props = message.get("properties") or {}
    when = _instant(str(message["timestamp"]))
    base = {"client_id": client_id, "t": int(when.timestamp()), "month": when.month}
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
        lines = props.get("products") or [{}]
        for line in lines:
            price, quantity = line.get("price"), line.get("quantity") or 1
            amount = float(price) * float(quantity) if price is not None else props.get("revenue", props.get("total"))
            yield {
                **base,
                "event": ORDER,
                "product_id": line.get("product_id"),
                "order_id": props.get("order_id"),
                "amount": amount,
                "store_id": store,
            }
        return
    yield {**base, "event": event, "product_id": props.get("product_id"), "dwell_seconds": props.get("dwell_seconds")}


def from_messages(messages: Mapping[str, Sequence[Mapping[str, Any]]]) -> pd.DataFrame:
    """The long table of what the consent gateway returned (client id -> raw messages)."""
    rows = [row for client_id, msgs in messages.items() for m in msgs for row in _rows(client_id, m)]
    if not rows:
        return empty()
    return typed(pd.DataFrame.from_records(rows))
