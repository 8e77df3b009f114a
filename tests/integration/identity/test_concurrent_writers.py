"""Concurrent ingest transactions and the identity graph, on SQLite and PostgreSQL.

PostgreSQL writers lock only the identifiers and clients they touch; these tests hold that to
what the one graph-wide lock guaranteed: no identifier linked twice, and no event left on a
client that a concurrent merge retired. One writer is held open mid-transaction while the
other starts, so the second must wait for the first.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from maison.core.schema import clients, events
from maison.core.settings import IngestSettings
from maison.identity import service
from maison.ingest.service import ingest

T0 = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
_n = iter(range(10**6))


def msg(kind: str = "track", **fields):  # type: ignore[no-untyped-def]
    body = {"type": kind, "messageId": f"cw{next(_n)}", "timestamp": T0.isoformat(), **fields}
    if kind == "track":
        body.setdefault("event", "Order Completed")  # kept without consent
    return body


def send(conn, *messages):  # type: ignore[no-untyped-def]
    return ingest(conn, list(messages), source="test", received_at=T0 + timedelta(days=1), limits=IngestSettings())


def race(engine, first, second) -> list[str]:  # type: ignore[no-untyped-def]
    """Run `first` in a transaction held open 0.5 s after its writes, and `second` meanwhile;
    returns the order in which their transactions finished."""
    order: list[str] = []
    written = threading.Event()

    def one() -> None:
        with engine.begin() as conn:
            send(conn, *first)
            written.set()
            time.sleep(0.5)
            order.append("first")

    def two() -> None:
        written.wait(10)
        with engine.begin() as conn:
            send(conn, *second)
        order.append("second")

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return order


def owner_of(engine, identifier: str) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return service.find_client(conn, identifier)


def test_two_writers_linking_one_new_user_id_share_one_client(engine):  # type: ignore[no-untyped-def]
    order = race(
        engine, [msg("identify", userId="u1", anonymousId="a1")], [msg("identify", userId="u1", anonymousId="a2")]
    )
    assert order == ["first", "second"]  # the second waited for the first to commit
    client = owner_of(engine, "u1")
    assert owner_of(engine, "a1") == owner_of(engine, "a2") == client
    with engine.connect() as conn:
        on_client = conn.execute(select(events.c.message_id).where(events.c.client_id == client)).all()
    assert len(on_client) == 2


def test_a_merge_waits_for_a_writer_of_the_merged_client(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        send(conn, msg(anonymousId="a1"), msg("identify", userId="u1", anonymousId="b1"))
    visitor, known = owner_of(engine, "a1"), owner_of(engine, "u1")
    assert visitor != known
    # First: an event of the visitor's client; second: an identify that merges that client into u1's.
    order = race(engine, [msg(anonymousId="a1")], [msg("identify", userId="u1", anonymousId="a1")])
    assert order == ["first", "second"]
    with engine.connect() as conn:
        left_behind = conn.execute(select(events.c.id).where(events.c.client_id == visitor)).all()
        retired = conn.execute(select(clients.c.merged_into).where(clients.c.id == visitor)).scalar_one()
        on_survivor = conn.execute(select(events.c.id).where(events.c.client_id == known)).all()
    assert retired == known
    assert left_behind == []  # the event written concurrently followed the merge
    assert len(on_survivor) == 4  # a1's two tracks and both identifies
