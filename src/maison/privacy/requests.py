"""Data-subject requests: registered with a due date, processed, and tracked to completion.

Requests arrive as tracking events from the shop's authenticated back end (`Data Export
Requested`, `Data Erasure Requested`), through the API with a self-service token, or from
the dashboard; each is answered within `request_due_days`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from maison.core.schema import privacy_requests
from maison.core.settings import get_settings
from maison.ingest.entities import Event

REQUEST_EVENTS = {"Data Export Requested": "export", "Data Erasure Requested": "erasure"}


def register(
    conn: Connection, *, client_id: str, kind: str, channel: str, at: datetime, request_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str:
    """Record a request; returns its request id (given, or generated)."""
    request_id = request_id or f"dsr_{uuid.uuid4().hex[:16]}"
    existing = conn.execute(
        select(privacy_requests.c.status).where(privacy_requests.c.request_id == request_id)
    ).first()
    if existing is None:
        due = at + timedelta(days=get_settings().privacy.request_due_days)
        conn.execute(privacy_requests.insert().values(
            id="pr_" + uuid.uuid4().hex[:16], request_id=request_id, client_id=client_id, kind=kind,
            status="verified", channel=channel, requested_at=at, due_at=due, detail=detail or {},
        ))
    return request_id


def complete(conn: Connection, request_id: str, *, at: datetime, detail: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"status": "done", "completed_at": at}
    if detail is not None:
        values["detail"] = detail
    conn.execute(update(privacy_requests).where(privacy_requests.c.request_id == request_id).values(**values))


def from_events(
    conn: Connection, requests: Sequence[tuple[Event, str]], *, now: datetime, suppression_key: bytes
) -> None:
    """Process requests carried by events, in time order (an export before a later erasure)."""
    from maison.privacy import erasure, export

    for event, client_id in sorted(requests, key=lambda pair: pair[0].timestamp):
        kind = REQUEST_EVENTS[str(event.event)]
        props = event.raw.get("properties") or {}
        request_id = str(props.get("request_id") or "") or None
        rid = register(conn, client_id=client_id, kind=kind, channel="event", at=event.timestamp, request_id=request_id)
        if kind == "export":
            path = export.deliver(conn, client_id, request_id=rid, as_of=event.timestamp)
            complete(conn, rid, at=now, detail={"delivered_to": path.name})
        else:
            erasure.erase(conn, client_id, request_id=rid, suppression_key=suppression_key, now=now)
