"""Marks of the events and the ledger (`core.marks`): a cache keyed by one is stale exactly when
the table changed, including a deletion after which SQLite gives an id again, and a row that
PostgreSQL committed after a reader had seen a larger id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import Connection, Engine, delete, func, select, update

from maison.core import marks
from maison.core.schema import clients, consent_ledger, events, row_moves

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
        assert marks.total(conn, events, since=seen[0]) == seen[0]  # nothing changed: the same mark
    with engine.begin() as conn:
        last = _largest(conn)
        conn.execute(delete(events).where(events.c.id == last))
    with engine.connect() as conn:
        seen.append(marks.total(conn, events, since=seen[-1]))
    with engine.begin() as conn:
        _add(conn, T0)  # SQLite gives the deleted largest id again
        if engine.dialect.name == "sqlite":
            assert _largest(conn) == last
    with engine.connect() as conn:
        seen.append(marks.total(conn, events, since=seen[-1]))
        assert marks.total(conn, events, since=seen[-1]) == seen[-1]
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
        assert found == was
        assert marks.before(conn, events.c.timestamp, INSTANT) == was
    with engine.begin() as conn:
        _add(conn, T0 - timedelta(days=5), T0 + timedelta(hours=1))  # late rows: two more before it
    with engine.connect() as conn:
        now = marks.total(conn, events)
        recount = marks.before(conn, events.c.timestamp, INSTANT)
        found = marks.grown(conn, events.c.timestamp, INSTANT, was=was, then=then, now=now)
        assert recount[0] == 3
        assert found == recount
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.timestamp < T0))
    with engine.connect() as conn:  # after a deletion only a recount knows
        assert marks.grown(conn, events.c.timestamp, INSTANT, was=recount, then=now,
                           now=marks.total(conn, events)) is None


@pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_row_committed_after_the_mark_under_a_smaller_id_is_not_missed(engine: Engine) -> None:
    """PostgreSQL gives ids outside transactions: `late` takes its id first and commits last, after
    a reader saw `early`'s larger id. The mark must still move, and what was added since must name
    the late row's client and count it (SQLite cannot interleave two writers)."""
    with engine.begin() as conn:
        conn.execute(clients.insert(), [{"id": c, "created_at": T0} for c in ("cl_a", "cl_b")])
        _add(conn, T0)
    with engine.connect() as conn:
        then, was = marks.total(conn, events), marks.before(conn, events.c.timestamp, INSTANT)
    with engine.connect() as late, engine.connect() as early:
        late.begin()
        _add(late, T0)
        early.begin()
        early.execute(events.insert(), {
            "source": "web", "message_id": "early", "client_id": "cl_b", "type": "track", "event": "Product Viewed",
            "timestamp": T0, "received_at": T0, "data_category": "browsing_behaviour", "raw": {}})
        early.commit()
        with engine.connect() as reader:
            seen = marks.total(reader, events, since=then)
            assert seen != then
            assert marks.added(reader, events.c.client_id, then=then, now=seen) == {"cl_b"}
        late.commit()
    with engine.connect() as reader:
        now = marks.total(reader, events, since=seen)
        assert now != seen  # the late row, under an id smaller than one the reader had seen
        assert marks.added(reader, events.c.client_id, then=seen, now=now) == {"cl_a"}
        grown = marks.grown(reader, events.c.timestamp, INSTANT, was=was, then=then, now=now)
        assert grown == (was[0] + 2, _largest(reader))
        assert marks.before(reader, events.c.timestamp, INSTANT)[0] == was[0] + 2


@pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_inside_a_writing_transaction_a_mark_counts_and_says_nothing_about_rows_added(engine: Engine) -> None:
    """Its own rows are visible to its snapshot and would vanish with a rollback, unseen by any
    later snapshot: a cache built there must not look valid to the next reader."""
    with engine.begin() as conn:
        conn.execute(clients.insert(), {"id": "cl_a", "created_at": T0})
        _add(conn, T0)
    with engine.connect() as conn:
        then = marks.total(conn, events)
    with engine.connect() as conn:
        conn.begin()
        _add(conn, T0)
        inside = marks.total(conn, events, since=then)
        assert inside == (2, _largest(conn))
        assert marks.added(conn, events.c.client_id, then=then, now=inside) is None
        conn.rollback()
    with engine.connect() as conn:
        assert marks.total(conn, events, since=then) == then
        assert marks.total(conn, events, since=inside) != inside


def test_a_row_moved_to_another_client_moves_the_mark_and_names_no_client_added(engine: Engine) -> None:
    """An identity merge moves rows between clients by UPDATE: no id or transaction stamp shows it,
    yet a cache of some clients' rows is stale. The mark moves, and `added` cannot say who changed
    (None: read everyone again), while the count of rows before an instant goes on from the rows
    added since (a move changes it not); an update that leaves the client as it was moves nothing."""
    with engine.begin() as conn:
        conn.execute(clients.insert(), [{"id": c, "created_at": T0} for c in ("cl_a", "cl_b")])
        _add(conn, T0, T0)
    with engine.connect() as conn:
        was = marks.total(conn, events)
    with engine.begin() as conn:
        conn.execute(update(events).where(events.c.client_id == "cl_a").values(type="track"))  # no move
    with engine.connect() as conn:
        assert marks.total(conn, events, since=was) == was
        assert marks.added(conn, events.c.client_id, then=was, now=was) == set()
    with engine.begin() as conn:
        conn.execute(update(events).where(events.c.client_id == "cl_a").values(client_id="cl_b"))
    with engine.connect() as conn:
        moved = marks.total(conn, events, since=was)
        assert moved != was and moved[2] == was[2] + 2 and moved[1] == was[1]  # each moved row counts, apart
        assert marks.added(conn, events.c.client_id, then=was, now=moved) is None
        bounded = marks.before(conn, events.c.timestamp, INSTANT)
        assert bounded == (2, _largest(conn))  # a move changes no count before an instant: from the rows added since
        assert marks.grown(conn, events.c.timestamp, INSTANT, was=bounded, then=was, now=moved) == bounded


def _grant(conn: Connection, client: str, n: int = 1) -> None:
    conn.execute(consent_ledger.insert(), [
        {"client_id": client, "kind": "purpose", "purpose": "browsing_behaviour", "granted": True,
         "effective_at": T0, "recorded_at": T0, "method": "banner"} for _ in range(n)])


def test_consent_entries_moved_by_a_merge_name_both_clients_and_nobody_else(engine: Engine) -> None:
    """A merge (an anonymous visitor who consented on the banner, then signed in) moves consent
    entries by UPDATE. `added` names the two clients of each move, beside the clients with entries
    added since, so a cache of thousands of members' ledgers reads two again, not all. Moves
    logged before the earlier mark are not named again; a move whose log was erased since gives
    None (read everyone again)."""
    with engine.begin() as conn:
        conn.execute(clients.insert(), [{"id": c, "created_at": T0} for c in ("cl_a", "cl_b", "cl_c", "cl_d")])
        _grant(conn, "cl_a", 2)
        _grant(conn, "cl_c")
        conn.execute(update(consent_ledger).where(consent_ledger.c.client_id == "cl_c").values(client_id="cl_d"))
    with engine.connect() as conn:
        was = marks.total(conn, consent_ledger)
    with engine.begin() as conn:
        conn.execute(update(consent_ledger).where(consent_ledger.c.client_id == "cl_a").values(client_id="cl_b"))
    with engine.begin() as conn:
        _grant(conn, "cl_d")
    with engine.connect() as conn:
        now = marks.total(conn, consent_ledger, since=was)
        assert now != was and now[2] == was[2] + 2
        assert marks.added(conn, consent_ledger.c.client_id, then=was, now=now) == {"cl_a", "cl_b", "cl_d"}
        assert marks.added(conn, consent_ledger.c.client_id, then=now, now=now) == set()
    with engine.begin() as conn:  # an erasure of the moves' clients since the mark removes their log
        conn.execute(delete(row_moves).where(row_moves.c.to_client_id == "cl_b"))
    with engine.connect() as conn:
        assert marks.added(conn, consent_ledger.c.client_id, then=was, now=marks.total(conn, consent_ledger)) is None
