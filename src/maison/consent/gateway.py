"""The one way readers get client events: filtered by the policy for their declared use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.consent import service as consent
from maison.consent.readers import Reader
from maison.core.schema import events

_CHUNK = 500


def read(
    conn: Connection, reader: Reader, client_ids: Iterable[str], *, at: datetime,
    book: consent.ConsentBook | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Events of the reader's categories, timestamped before `at`, for the clients whose consent
    at `at` allows the reader's use of each category. Rows are `raw` messages with
    `data_category` and `client_id` added, in time order.

    `book`: the ledger of these clients that the caller loaded on this connection (a request
    that also needs the client's state itself), so it is not read a second time; the policy is
    still applied here, per client and category. A client missing from it has no consent on
    record and receives nothing.
    """
    ids = sorted(set(client_ids))
    if book is None:
        book = consent.book(conn, ids)
    allowed = {c: {cat for cat in reader.categories if book.may(c, cat, reader.use, at)} for c in ids}
    wanted = sorted({cat for cats in allowed.values() for cat in cats})
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not wanted:
        return {}
    for start in range(0, len(ids), _CHUNK):
        chunk = [c for c in ids[start : start + _CHUNK] if allowed[c]]
        if not chunk:
            continue
        rows = conn.execute(
            select(events.c.client_id, events.c.data_category, events.c.raw)
            .where(events.c.client_id.in_(chunk), events.c.data_category.in_(wanted), events.c.timestamp < at)
            .order_by(events.c.client_id, events.c.timestamp, events.c.id)
        )
        for row in rows:
            if row.data_category in allowed[row.client_id]:
                found[row.client_id].append({**row.raw, "data_category": row.data_category, "client_id": row.client_id})
    return dict(found)
