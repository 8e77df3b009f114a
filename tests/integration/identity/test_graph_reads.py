"""Reads of the identity graph that ingestion makes on every batch: right answers, and plans
that stay index probes as the store grows (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from maison.core.db import make_engine
from maison.core.dialect import insert_rows
from maison.core.schema import clients, identities, metadata
from maison.identity import repository as repo

T0 = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)


def _graph(engine: Engine, holders: dict[str, list[tuple[str, str]]]) -> None:
    with engine.begin() as conn:
        insert_rows(conn, clients, ("id", "created_at"), [(c, T0) for c in holders])
        insert_rows(
            conn, identities, ("kind", "value", "client_id", "linked_at"),
            [(kind, value, c, T0) for c, idents in holders.items() for kind, value in idents],
        )


def test_users_of_gives_each_client_its_user_ids_and_nothing_else(engine: Engine) -> None:
    _graph(engine, {
        "cl_a": [("user", "u-1"), ("user", "u-2"), ("anon", "anon-1"), ("email", "a@example.com")],
        "cl_b": [("user", "u-3")],
        "cl_c": [("anon", "anon-2")],
        "cl_d": [("user", "u-4")],
    })
    with engine.connect() as conn:
        found = repo.users_of(conn, ["cl_a", "cl_b", "cl_c", "cl_unknown"])
    assert found == {"cl_a": frozenset({"u-1", "u-2"}), "cl_b": frozenset({"u-3"})}


@pytest.fixture
def postgres(postgres_database: str) -> Iterator[Engine]:
    """The PostgreSQL store alone: what its planner does is the question."""
    engine = make_engine(postgres_database)
    yield engine
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _explained(engine: Engine, read: Any) -> tuple[str, str]:
    """`read(conn)`'s one statement on identities and PostgreSQL's plan for it."""
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with engine.connect() as conn:
            read(conn)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    [(statement, parameters)] = [(s, p) for s, p in statements if "identities" in s]
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            cursor.execute("EXPLAIN " + statement, parameters)
            return statement, "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize("asked", [2, 100], ids=["two clients", "a request's hundred"])
def test_users_of_probes_the_client_index_while_statistics_lag_behind_the_store(postgres: Engine, asked: int) -> None:
    """A hundred clients once made PostgreSQL pull the probe up into a hash join over a full scan
    of the identifiers (the statistics said the table was empty): each key must stay a probe."""
    engine = postgres
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE identities SET (autovacuum_enabled = false)"))
        conn.execute(text("ANALYZE identities"))  # statistics of an empty table...
    _graph(engine, {f"cl_{n:05d}": [("user", f"u-{n}"), ("anon", f"a-{n}")] for n in range(5_000)})
    wanted = [f"cl_{n:05d}" for n in range(7, 5_000, 5_000 // asked)][:asked]

    def read(conn: Any) -> None:  # ...while it holds 10,000 rows, 5,000 of them userIds
        assert repo.users_of(conn, wanted) == {c: frozenset({f"u-{int(c[3:])}"}) for c in wanted}

    try:
        _, plan = _explained(engine, read)
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE identities RESET (autovacuum_enabled)"))
    assert "ix_identities_client_id" in plan, plan
    assert "pk_identities" not in plan and "Seq Scan" not in plan, plan


@pytest.mark.postgres
def test_one_events_owners_are_index_look_ups_while_statistics_lag_behind_the_store(postgres: Engine) -> None:
    """A handful of identifiers (one event's) are read by an OR of (kind, value) equalities, not
    the batch's probe table: still index look-ups when the statistics describe an empty table."""
    engine = postgres
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE identities SET (autovacuum_enabled = false)"))
        conn.execute(text("ANALYZE identities"))  # statistics of an empty table...
    _graph(engine, {f"cl_{n:05d}": [("user", f"u-{n}"), ("anon", f"a-{n}")] for n in range(5_000)})

    def read(conn: Any) -> None:  # ...while it holds 10,000 rows
        assert repo.owners(conn, {("user", "u-7"), ("anon", "a-4000"), ("email", "x@example.com")}) == {
            ("user", "u-7"): "cl_00007", ("anon", "a-4000"): "cl_04000",
        }

    try:
        statement, plan = _explained(engine, read)
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE identities RESET (autovacuum_enabled)"))
    assert "unnest" not in statement and " OR " in statement
    assert "pk_identities" in plan and "Seq Scan" not in plan, plan


def test_a_bulk_chunk_reads_the_owners_of_its_identifiers_once(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of identifiers lock the whole graph (PostgreSQL) before the owners are read,
    so the read that names the locks is also the one made under them."""
    from maison.core.settings import IngestSettings
    from maison.ingest.service import ingest

    reads: list[int] = []
    real = repo.owners

    def counted(conn: Any, idents: Any) -> dict[tuple[str, str], str]:
        idents = set(idents)
        reads.append(len(idents))
        return real(conn, idents)

    monkeypatch.setattr(repo, "owners", counted)
    messages = [
        {"type": "identify", "messageId": f"m{n}", "userId": f"u-{n}", "anonymousId": f"a-{n}",
         "timestamp": T0.isoformat(), "traits": {"email": f"p{n}@example.com"}}
        for n in range(1_000)
    ]
    with engine.begin() as conn:
        result = ingest(conn, messages, source="import", received_at=T0, limits=IngestSettings())
    assert result.accepted == 1_000
    assert reads == [3_000]
    with engine.connect() as conn:
        assert len(real(conn, [("user", "u-7"), ("email", "p7@example.com"), ("anon", "a-7")])) == 3
