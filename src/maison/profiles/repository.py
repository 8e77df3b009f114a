"""What a profile reads: one client's events, its identifiers, and a few catalogue prices.

Three queries, each on an index: `ix_events_client_time` (client_id, timestamp), the
identities' client_id index, and the products' primary key.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, select

from maison.core.schema import events, identities, products
from maison.profiles.entities import EventRecord, Identifier

_EVENT_COLUMNS = (
    events.c.message_id,
    events.c.type,
    events.c.event,
    events.c.timestamp,
    events.c.utc_offset_minutes,
    events.c.timezone,
    events.c.channel,
    events.c.product_id,
    events.c.dwell_seconds,
    events.c.order_id,
    events.c.revenue,
    events.c.currency,
    events.c.store_id,
    events.c.data_category,
    events.c.raw,
)


def client_events(conn: Connection, client_id: str, *, until: datetime) -> list[EventRecord]:
    """The client's events timestamped at or before `until`, in time (then arrival) order."""
    result = conn.execute(
        select(*_EVENT_COLUMNS)
        .where(events.c.client_id == client_id, events.c.timestamp <= until)
        .order_by(events.c.timestamp, events.c.id)
    )
    keys = tuple(result.keys())
    # plain dicts: a RowMapping's .get goes through the Mapping ABC, a third of the read time
    return [EventRecord.from_row(dict(zip(keys, row, strict=True))) for row in result.all()]


def client_identifiers(conn: Connection, client_id: str) -> list[Identifier]:
    rows = conn.execute(
        select(identities.c.kind, identities.c.value)
        .where(identities.c.client_id == client_id)
        .order_by(identities.c.kind, identities.c.value)
    )
    return [(kind, value) for kind, value in rows]


def catalogue_prices(conn: Connection, product_ids: Collection[str]) -> dict[str, Decimal]:
    """Current catalogue price of each product that exists; no query when none is asked for."""
    if not product_ids:
        return {}
    rows = conn.execute(
        select(products.c.product_id, products.c.price).where(
            products.c.product_id.in_(sorted(product_ids))
        )
    )
    return {pid: Decimal(price) for pid, price in rows}
