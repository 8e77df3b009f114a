"""Dialect-specific SQL, one function each, so the rest of the code stays portable."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, String, Table, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, index: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (index) DO NOTHING on either backend."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(index))
    conn.execute(stmt, list(rows))


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, index: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (index) DO UPDATE of every other column."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in index}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(index), set_=updates), list(rows))


def lock_identity_graph(conn: Connection) -> None:
    """Serialise writers of the identity graph for the rest of the transaction.

    SQLite already holds its single write lock from BEGIN IMMEDIATE; PostgreSQL takes a
    transaction-scoped advisory lock, so two requests never link one identifier twice.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7201)"))


_IN_LIST_CHUNK = 500


def value_chunks(conn: Connection, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """All values at once on PostgreSQL (one array parameter); IN-list sized chunks on SQLite."""
    size = max(len(values), 1) if conn.dialect.name == "postgresql" else _IN_LIST_CHUNK
    for start in range(0, len(values), size):
        yield values[start : start + size]


def is_one_of(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column = ANY(array)` on PostgreSQL, `column IN (...)` elsewhere.

    One array parameter gives one statement text whatever the count, and a plan that probes
    the index even while the table's statistics still describe it as empty (a fresh store being
    loaded), where IN lists were planned as scans that grew slower with every batch.
    Use with `value_chunks`, which keeps SQLite's IN lists within its parameter limit.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(values)
