"""Storage of events and quarantined messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from maison.core.dialect import insert_ignoring_conflicts, is_one_of, value_chunks
from maison.core.schema import events, quarantine
from maison.ingest.entities import Event, Rejection


def existing_message_ids(conn: Connection, source: str, message_ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in value_chunks(conn, sorted(set(message_ids))):
        rows = conn.execute(
            select(events.c.message_id).where(events.c.source == source, is_one_of(conn, events.c.message_id, chunk))
        )
        found.update(r[0] for r in rows)
    return found


def event_row(event: Event, *, source: str, client_id: str) -> dict[str, Any]:
    return {
        "source": source,
        "message_id": event.message_id,
        "client_id": client_id,
        "type": event.type,
        "event": event.event,
        "user_id": event.user_id,
        "anonymous_id": event.anonymous_id,
        "timestamp": event.timestamp,
        "utc_offset_minutes": event.utc_offset_minutes,
        "received_at": event.received_at,
        "data_category": event.data_category,
        "channel": event.channel,
        "timezone": event.timezone,
        "product_id": event.product_id,
        "dwell_seconds": event.dwell_seconds,
        "order_id": event.order_id,
        "revenue": event.revenue,
        "currency": event.currency,
        "store_id": event.store_id,
        "raw": event.raw,
    }


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    # ON CONFLICT guards against a concurrent request storing the same messageId meanwhile.
    insert_ignoring_conflicts(conn, events, rows, index=("source", "message_id"))


def quarantine_messages(
    conn: Connection,
    *,
    source: str,
    received_at: datetime,
    rejected: Sequence[tuple[Rejection, Any]],
) -> None:
    if not rejected:
        return
    conn.execute(
        quarantine.insert(),
        [
            {
                "source": source,
                "received_at": received_at,
                "batch_index": r.index,
                "field": r.field,
                "reason": r.reason,
                "message": message if isinstance(message, dict) else {"_raw": message},
                "status": "pending",
            }
            for r, message in rejected
        ],
    )


def list_quarantine(conn: Connection, *, status: str = "pending", limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(quarantine).where(quarantine.c.status == status).order_by(quarantine.c.id).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def get_quarantined(conn: Connection, ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = conn.execute(select(quarantine).where(quarantine.c.id.in_(list(ids))).order_by(quarantine.c.id))
    return [dict(r) for r in rows.mappings()]


def resolve_quarantined(conn: Connection, ids: Sequence[int], *, status: str, at: datetime) -> None:
    if ids:
        conn.execute(
            update(quarantine).where(quarantine.c.id.in_(list(ids))).values(status=status, resolved_at=at)
        )


def replace_quarantined_message(conn: Connection, qid: int, message: dict[str, Any]) -> None:
    conn.execute(update(quarantine).where(quarantine.c.id == qid).values(message=message))
