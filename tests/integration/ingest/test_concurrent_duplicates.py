"""A retry that races its original: the same messageId in two concurrent transactions.

An SDK that timed out re-sends a batch while the server is still storing the first copy. Both
transactions check the messageId before either commits. The event must be stored once, and
the second request must get a 200 that counts it as a duplicate, not a 500 (PostgreSQL's
unique index stops the second copy; the transaction is run again and then sees the first).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from maison.core.db import in_transaction
from maison.core.schema import events
from maison.core.settings import IngestSettings
from maison.ingest.entities import IngestResult
from maison.ingest.service import ingest

T0 = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)


def _order(message_id: str) -> dict[str, object]:
    # An order is kept without any consent stated, so only dedup decides what is stored.
    return {"type": "track", "event": "Order Completed", "messageId": message_id, "anonymousId": "a1",
            "timestamp": T0.isoformat(), "properties": {"order_id": "o1", "total": 120.0}}


def _send(conn, *messages) -> IngestResult:  # type: ignore[no-untyped-def]
    return ingest(conn, list(messages), source="web", received_at=T0 + timedelta(hours=1), limits=IngestSettings())


@pytest.mark.parametrize("new", [1, 12], ids=["a few rows (INSERT)", "many rows (COPY)"])
def test_the_same_message_in_two_concurrent_requests_is_stored_once(engine, new: int) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:  # the client exists already: neither request links anything
        _send(conn, _order("m0"))
    results: dict[str, IngestResult] = {}
    written = threading.Event()

    def original() -> None:
        with engine.begin() as conn:
            results["original"] = _send(conn, _order("m1"))
            written.set()
            time.sleep(0.5)  # still uncommitted when the retry checks for m1

    def retry() -> None:
        written.wait(10)
        fresh = [_order(f"n{k}") for k in range(new)]
        results["retry"] = in_transaction(engine, lambda conn: _send(conn, _order("m1"), *fresh))

    threads = [threading.Thread(target=original), threading.Thread(target=retry)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert results["original"].accepted == 1
    assert (results["retry"].accepted, results["retry"].duplicates) == (new, 1)  # m1 is the duplicate
    with engine.connect() as conn:
        stored = dict(conn.execute(select(events.c.message_id, func.count()).group_by(events.c.message_id)).all())
    assert stored == {"m0": 1, "m1": 1, **{f"n{k}": 1 for k in range(new)}}


def test_only_a_constraint_the_transaction_retries_may_be_relied_on(engine) -> None:  # type: ignore[no-untyped-def]
    # A check-then-insert on a constraint `in_transaction` does not retry would turn a race into
    # a 500 on PostgreSQL only, under load: it is refused on both backends, before any write.
    from maison.core.dialect import insert_new_rows
    from maison.core.schema import identities

    with engine.begin() as conn, pytest.raises(ValueError, match="not a retryable unique constraint"):
        insert_new_rows(conn, identities, ("kind",), [("anon",)], unique="pk_identities")
