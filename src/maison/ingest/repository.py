"""Storage of events and quarantined messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from maison.core.dialect import insert_new_rows, lookup_keys
from maison.core.schema import consent_ledger, events, identities, quarantine
from maison.ingest.entities import Event, Rejection
from maison.ingest.rules import MessageError


def _width(column: Any) -> int:
    """The width of a bounded text column (every column named here is one)."""
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no width")
    return length


# Stored columns whose values a message supplies, with the field each comes from.
_EVENT_FIELDS = tuple((column, field, _width(events.c[column])) for column, field in (
    ("message_id", "messageId"), ("user_id", "userId"), ("anonymous_id", "anonymousId"), ("event", "event"),
    ("channel", "context.channel"), ("timezone", "context.timezone"), ("product_id", "properties.product_id"),
    ("order_id", "properties.order_id"), ("currency", "properties.currency"), ("store_id", "properties.store_id"),
))
_IDENTIFIER_WIDTH = _width(identities.c.value)


def check_storable(event: Event) -> None:
    """Refuse (`MessageError`, naming the field) a message with a value wider than its column.

    PostgreSQL refuses such a value and fails the whole transaction with it (SQLite stores it):
    one long currency code would lose every message of its batch, and an SDK would retry the
    batch for ever. Validation calls this, so the message alone is quarantined or refused."""
    props = event.raw.get("properties") or {}
    context = event.raw.get("context") or {}
    for column, field, limit in _EVENT_FIELDS:
        value = getattr(event, column)
        if value is not None and len(value) > limit:
            _refuse("name" if column == "event" and event.type in ("page", "screen") else field, value, limit)
    for kind, identifier in event.identifiers:
        if len(identifier) > _IDENTIFIER_WIDTH:
            _refuse("userId" if kind == "user" else f"traits ({kind})", identifier, _IDENTIFIER_WIDTH)
    if event.event == "Consent Updated":  # what it writes to the ledger (`consent.rules`, `ingest.gate`)
        country = context.get("country")
        for column, field, stated in (
            ("source", "properties.source", props.get("source")),
            ("notice_version", "properties.policy_version", props.get("policy_version")),
            ("geography", "context.country" if country else "properties.geography", country or props.get("geography")),
        ):
            limit = _width(consent_ledger.c[column])
            if stated and len(str(stated)) > limit:
                _refuse(field, str(stated), limit)


def _refuse(field: str, value: str, limit: int) -> None:
    raise MessageError(field, f"{field} is {len(value)} characters long; at most {limit} are stored")


def existing_message_ids(conn: Connection, source: str, message_ids: Iterable[str]) -> set[str]:
    """The messageIds of this source already stored (probed on the unique index, `lookup_keys`)."""
    keys = [(m,) for m in sorted(set(message_ids))]
    found = lookup_keys(conn, events, ("message_id",), keys, value="id", where={"source": source})
    return {k[0] for k in found}


EVENT_COLUMNS = (
    "source", "message_id", "client_id", "type", "event", "user_id", "anonymous_id", "timestamp",
    "utc_offset_minutes", "received_at", "data_category", "channel", "timezone", "product_id",
    "dwell_seconds", "order_id", "revenue", "currency", "store_id", "raw",
)


def event_values(event: Event, *, source: str, client_id: str) -> tuple[Any, ...]:
    """One stored event as a row in `EVENT_COLUMNS` order: the typed columns and the raw message."""
    return (
        source, event.message_id, client_id, event.type, event.event, event.user_id, event.anonymous_id,
        event.timestamp, event.utc_offset_minutes, event.received_at, event.data_category, event.channel,
        event.timezone, event.product_id, event.dwell_seconds, event.order_id, event.revenue, event.currency,
        event.store_id, event.raw,
    )


def event_row(event: Event, *, source: str, client_id: str) -> dict[str, Any]:
    return dict(zip(EVENT_COLUMNS, event_values(event, source=source, client_id=client_id), strict=True))


def insert_events(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Store new events (rows from `event_values`), checked absent by `existing_message_ids`.

    A concurrent request storing the same messageId meanwhile makes the transaction run again
    (`insert_new_rows`), after which the check counts it as a duplicate.
    """
    insert_new_rows(conn, events, EVENT_COLUMNS, rows, unique="uq_events_source_message")


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
