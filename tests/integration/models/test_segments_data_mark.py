"""`segments.data_mark`: the key of a segment model, which must move exactly when the data before
the model's instant changed, and must not be recounted while nothing did (a count of the events
before the instant took 478 ms at 3.3 million events on PostgreSQL, once per page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from types import SimpleNamespace

import pytest
from sqlalchemy import Connection, Engine, delete, update

from maison.core import marks
from maison.core.schema import clients, events
from maison.models.segments import persist
from maison.models.segments import repository as repo
from maison.models.segments import service as segments

AS_OF = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: the model's instant
_ids = count()


def _add(conn: Connection, *stamps: datetime) -> None:
    conn.execute(events.insert(), [
        {"source": "web", "message_id": f"dm{next(_ids)}", "client_id": "cl_a", "type": "track",
         "event": "Product Viewed", "timestamp": t, "received_at": t, "data_category": "browsing_behaviour",
         "raw": {"event": "Product Viewed"}} for t in stamps])


def test_the_mark_is_read_from_what_changed_and_moves_only_for_data_before_the_instant(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    segments.clear_cache()
    with engine.begin() as conn:
        conn.execute(clients.insert(), {"id": "cl_a", "created_at": AS_OF})
        _add(conn, AS_OF - timedelta(days=3), AS_OF + timedelta(days=1))
    bounded = []
    real = marks.before_since
    monkeypatch.setattr(marks, "before_since", lambda *a, **kw: bounded.append(a[1].table.name) or real(*a, **kw))

    def mark() -> tuple[object, ...]:
        with engine.connect() as conn:
            return segments.data_mark(conn, as_of=AS_OF)

    first = mark()
    assert sorted(bounded) == ["consent_ledger", "events"]
    bounded.clear()
    assert mark() == first and bounded == []  # nothing changed: no bounded count at all
    with engine.begin() as conn:
        _add(conn, AS_OF + timedelta(days=2))  # after the instant: the model's data is the same
    assert mark() == first and "events" in bounded
    with engine.begin() as conn:
        _add(conn, AS_OF - timedelta(days=1))  # a late event before the instant
    late = mark()
    assert late != first and late[0][0] == first[0][0] + 1
    with engine.begin() as conn:
        conn.execute(delete(events).where(events.c.timestamp < AS_OF - timedelta(days=2)))
    assert mark()[0][0] == late[0][0] - 1  # an erasure: recounted
    segments.clear_cache()


def test_a_new_process_starts_from_the_marks_kept_with_the_model(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept model stores the tables' marks its data mark was read with: a process that has read
    no mark (a restarted server, the weekly job's next run) counts nothing while nothing changed,
    and only from those marks on when something did, and arrives at the mark a recount gives."""
    segments.clear_cache()
    with engine.begin() as conn:
        conn.execute(clients.insert(), {"id": "cl_a", "created_at": AS_OF})
        _add(conn, AS_OF - timedelta(days=3), AS_OF + timedelta(days=1))
    with engine.connect() as conn:
        first = segments.data_mark(conn, as_of=AS_OF)
    model = SimpleNamespace(as_of=AS_OF, model_version="v-test")
    monkeypatch.setattr(persist, "to_payload", lambda m: {"format": 0})
    with engine.begin() as conn:  # on SQLite the model is kept in the caller's transaction
        segments._keep(conn, model, first)  # type: ignore[arg-type]
    calls: list[object] = []
    real = marks.before_since
    monkeypatch.setattr(marks, "before_since", lambda *a, **kw: calls.append(kw["previous"]) or real(*a, **kw))

    def fresh_process_mark() -> tuple[object, ...]:
        segments.clear_cache()  # what a new process knows
        with engine.connect() as conn:
            return segments.data_mark(conn, as_of=AS_OF)

    assert fresh_process_mark() == first and calls == []  # nothing changed: nothing counted
    with engine.begin() as conn:
        _add(conn, AS_OF - timedelta(days=1))  # a late event before the instant
    late = fresh_process_mark()
    assert late[0][0] == first[0][0] + 1
    assert len(calls) == 2 and all(previous is not None for previous in calls)  # from the kept marks on
    calls.clear()
    monkeypatch.setattr(repo, "kept_marks", lambda conn, as_of: None)  # as before: a recount
    assert fresh_process_mark() == late and len(calls) == 2 and all(previous is None for previous in calls)
    segments.clear_cache()


def test_a_merge_moves_rows_without_a_recount_or_a_new_mark(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """An identity merge moves the merged client's events to the survivor: the data before the
    instant is the same rows, so the mark stays, and it is found from the rows added since (none),
    not by counting the events again (478 ms at 3.3 million events on PostgreSQL)."""
    segments.clear_cache()
    with engine.begin() as conn:
        conn.execute(clients.insert(), [{"id": c, "created_at": AS_OF} for c in ("cl_a", "cl_b")])
        _add(conn, AS_OF - timedelta(days=3), AS_OF - timedelta(days=2))
    with engine.connect() as conn:
        first = segments.data_mark(conn, as_of=AS_OF)
    found: list[object] = []
    real = marks._grown
    monkeypatch.setattr(marks, "_grown", lambda *a, **kw: found.append(real(*a, **kw)) or found[-1])
    with engine.begin() as conn:
        conn.execute(update(events).where(events.c.client_id == "cl_a").values(client_id="cl_b"))
    with engine.connect() as conn:
        assert segments.data_mark(conn, as_of=AS_OF) == first
    assert len(found) == 2 and None not in found  # events and ledger: each count went on from the rows added since
    segments.clear_cache()
