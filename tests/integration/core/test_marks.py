"""Marks of the events and the ledger (`core.marks`): a cache keyed by one is stale exactly when
the table changed, including a deletion after which SQLite gives an id again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import Connection, Engine, delete, func, select

from maison.core import marks
from maison.core.schema import clients, events

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INSTANT = T0 + timedelta(days=1)
_ids = count()


def _add(conn: Connection, *stamps: datetime) -> None:
    conn.execute(events.insert(), [
        {"source": "web", "message_id": f"m{next(_ids)}", "client_id": "cl_a", "type": "track",
         "event": "Product Viewed", "timestamp": t, "received_at": t, "data_category": "browsing_behaviour",
         "raw": {"event": "Product Viewed"}}
        for t in stamps])


def _largest(conn: Connection) -> int:
    return int(conn.execute(select(func.max(events.c.id))).scalar_one())


def test_a_mark_moves_on_every_insert_and_deletion_even_when_an_id_is_given_again(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(clients.insert(), {"id": "cl_a", "created_at": T0})
        _add(conn, T0, T0, T0)
    seen = []
    with engine.connect() as conn:
        seen.append(marks.total(conn, events))
        assert marks.total(conn, events) == seen[0]  # nothing changed: the same mark
    with engine.begin() as conn:
        last = _largest(conn)
        conn.execute(delete(events).where(events.c.id == last))
    with engine.connect() as conn:
        seen.append(marks.total(conn, events))
    with engine.begin() as conn:
        _add(conn, T0)  # SQLite gives the deleted largest id again
        if engine.dialect.name == "sqlite":
            assert _largest(conn) == last
    with engine.connect() as conn:
        seen.append(marks.total(conn, events))
    assert len(set(seen)) == 3, seen


def test_rows_before_an_instant_counted_from_those_added_since_are_a_recount(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(clients.insert(), {"id": "cl_a", "created_at": T0})
        _add(conn, T0, T0 + timedelta(days=2))
    with engine.connect() as conn:
        then, was = marks.total(conn, events), marks.before(conn, events.c.timestamp, INSTANT)
    assert was[0] == 1
    with engine.begin() as conn:
        _add(conn, T0 + timedelta(days=3))  # after the instant: the count before it stays
    with engine.connect() as conn:
        now = marks.total(conn, events)
        found = marks.grown(conn, events.c.timestamp, INSTANT, was=was, then=then, now=now)
        assert found == (was if engine.dialect.name == "sqlite" else None)
        assert marks.before(conn, events.c.timestamp, INSTANT) == was
    with engine.begin() as conn:
        _add(conn, T0 - timedelta(days=5), T0 + timedelta(hours=1))  # late rows: two more before it
    with engine.connect() as conn:
        now = marks.total(conn, events)
        recount = marks.before(conn, events.c.timestamp, INSTANT)
        found = marks.grown(conn, events.c.timestamp, INSTANT, was=was, then=then, now=now)
        assert recount[0] == 3
        assert found == (recount if engine.dialect.name == "sqlite" else None)
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.timestamp < T0))
    with engine.connect() as conn:  # after a deletion only a recount knows
        assert marks.grown(conn, events.c.timestamp, INSTANT, was=recount, then=now,
                           now=marks.total(conn, events)) is None
