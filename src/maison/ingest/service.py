"""Ingest a request's messages in one transaction: store the valid, quarantine the invalid.

The caller owns the transaction; nothing is acknowledged before it commits, so an
acknowledged event is durable and a failed request leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from maison.access.keys import may_send_privacy_requests
from maison.core.settings import IngestSettings, get_settings
from maison.ingest import gate
from maison.ingest import repository as repo
from maison.ingest.entities import Event, IngestResult, Rejection
from maison.ingest.rules import MessageError, merge_context, normalize
from maison.privacy import requests as privacy_requests
from maison.privacy.requests import REQUEST_EVENTS


def validate(
    messages: Sequence[Any],
    *,
    received_at: datetime,
    limits: IngestSettings,
    batch_context: Mapping[str, Any] | None = None,
    sent_at: datetime | None = None,
    default_type: str | None = None,
    first_index: int = 0,
    privacy_requests: bool = False,
    archived: bool = False,
) -> tuple[list[Event], list[tuple[Rejection, Any]]]:
    """Split messages into valid events and rejections (pure: no I/O).

    `privacy_requests`: whether the sender may ask for a client's export or erasure by event
    (`REQUEST_EVENTS`, acted on when stored). Only an operator's own file or replay, or a write
    key made for the shop's back end, may: a browser's key is public. `archived`: messages of a
    file, received elsewhere before (`rules.normalize`)."""
    valid: list[Event] = []
    rejected: list[tuple[Rejection, Any]] = []
    for offset, message in enumerate(messages):
        index = first_index + offset
        try:
            if isinstance(message, dict):
                message = merge_context(message, batch_context)
            event = normalize(
                message,
                received_at=received_at,
                max_event_bytes=limits.max_event_bytes,
                index=index,
                default_type=default_type,
                sent_at=sent_at,
                archived=archived,
            )
            repo.check_storable(event)
            if event.event in REQUEST_EVENTS and not privacy_requests:
                raise MessageError("event", f"{event.event!r} is a data-subject request: only a write key made for "
                                   "the shop's back end may send one (maison keys create --privacy-requests)")
            valid.append(event)
        except MessageError as exc:
            rejected.append((Rejection(index=index, field=exc.field, reason=exc.reason), message))
    return valid, rejected


def store(
    conn: Connection,
    *,
    source: str,
    valid: Sequence[Event],
    rejected: Sequence[tuple[Rejection, Any]],
    received_at: datetime,
    suppression_key: bytes | None = None,
    writing: Callable[[], object] | None = None,
) -> IngestResult:
    """Store validated events (deduplicated by messageId per source) and quarantine the rest.

    `writing` is called once the reads are done (duplicates, identities, consent), just before
    the events are written, when there are new events: a bulk import starts other work there
    that can run while the database writes (`importer.import_file`)."""
    result = IngestResult(rejected=[r for r, _ in rejected])
    fresh: dict[str, Event] = {}
    for event in valid:
        fresh.setdefault(event.message_id, event)
    seen = repo.existing_message_ids(conn, source, fresh)
    new_events = [e for mid, e in fresh.items() if mid not in seen]
    result.duplicates = len(valid) - len(new_events)
    if new_events:
        key = suppression_key if suppression_key is not None else get_settings().suppression_key()
        admitted = gate.admit(conn, new_events, now=received_at, suppression_key=key)
        pairs = zip(admitted.events, admitted.clients, strict=True)
        rows = [repo.event_values(e, source=source, client_id=c) for e, c in pairs]
        if writing is not None:
            writing()
        repo.insert_events(conn, rows)
        result.accepted = len(rows)
        result.dropped = admitted.dropped
        requests = [(e, c) for e, c in zip(admitted.events, admitted.clients, strict=True) if e.event in REQUEST_EVENTS]
        if requests:
            privacy_requests.from_events(conn, requests, now=received_at, suppression_key=key)
    repo.quarantine_messages(conn, source=source, received_at=received_at, rejected=rejected)
    return result


def ingest(
    conn: Connection,
    messages: Sequence[Any],
    *,
    source: str,
    received_at: datetime,
    limits: IngestSettings,
    batch_context: Mapping[str, Any] | None = None,
    sent_at: datetime | None = None,
    default_type: str | None = None,
    first_index: int = 0,
    suppression_key: bytes | None = None,
    privacy_requests: bool = False,
) -> IngestResult:
    valid, rejected = validate(
        messages,
        received_at=received_at,
        limits=limits,
        batch_context=batch_context,
        sent_at=sent_at,
        default_type=default_type,
        first_index=first_index,
        privacy_requests=privacy_requests,
    )
    return store(
        conn, source=source, valid=valid, rejected=rejected, received_at=received_at, suppression_key=suppression_key
    )


def replay_quarantined(
    conn: Connection, ids: Sequence[int], *, limits: IngestSettings, now: datetime
) -> tuple[IngestResult, list[int]]:
    """Re-validate quarantined messages (after a fix); store those now valid, keep the others."""
    rows = repo.get_quarantined(conn, ids)
    total = IngestResult()
    done: list[int] = []
    for row in rows:
        if row["status"] != "pending":
            continue
        # as of its first receipt: a clock corrected against the replay's instant would move the
        # event to the day of the replay. A request held back from a public key stays held back.
        valid, rejected = validate([row["message"]], received_at=row["received_at"], limits=limits,
                                   privacy_requests=may_send_privacy_requests(conn, row["source"]))
        if rejected:
            total.rejected.append(Rejection(index=row["id"], field=rejected[0][0].field, reason=rejected[0][0].reason))
            continue
        total.add(store(conn, source=row["source"], valid=valid, rejected=[], received_at=now))
        done.append(row["id"])
    repo.resolve_quarantined(conn, done, status="replayed", at=now)
    return total, done
