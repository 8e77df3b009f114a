"""The Alembic migrations build exactly the schema the code declares, on both backends.

A table, column or index added to (or dropped from) `core.schema` without a migration would
work in tests that create tables from the metadata and fail on a real store; this compares a
migrated store with the metadata.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from maison.core.schema import POSTGRESQL_ONLY, metadata

# SQLAlchemy has no type for PostgreSQL's `xid8` (the marks' `xact`, migration 0007): reflecting
# it warns, and the column is left out of the comparison anyway.
pytestmark = pytest.mark.filterwarnings("ignore:Did not recognize type 'xid8':sqlalchemy.exc.SAWarning")


def _declared(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """All but the PostgreSQL-only mark columns and their indexes (`core.schema.POSTGRESQL_ONLY`)."""
    table = obj.table.name if type_ in ("column", "index") else None
    return (table, name) not in POSTGRESQL_ONLY


def test_a_migrated_store_matches_the_declared_schema(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": _declared})
        diffs = compare_metadata(context, metadata)
    assert diffs == []


def test_postgresql_stamps_each_event_and_ledger_entry_with_its_transaction(engine) -> None:  # type: ignore[no-untyped-def]
    # The marks of ADR 8 rest on them: without the column every event would look old.
    found = {(t, c["name"]) for t in ("events", "consent_ledger") for c in inspect(engine).get_columns(t)}
    found |= {(t, ix["name"]) for t in ("events", "consent_ledger") for ix in inspect(engine).get_indexes(t)}
    on_postgresql = engine.dialect.name == "postgresql"
    assert found & POSTGRESQL_ONLY == (POSTGRESQL_ONLY if on_postgresql else set())


def test_events_carry_only_the_indexes_queries_use(engine) -> None:  # type: ignore[no-untyped-def]
    # Every index costs each stored event an insertion; userId and anonymousId are never looked
    # up in events (identity resolves them in `identities`), so they are not indexed.
    names = {ix["name"] for ix in inspect(engine).get_indexes("events")}
    assert {"ix_events_client_time", "ix_events_event_time", "ix_events_product"} <= names
    assert not names & {"ix_events_user", "ix_events_anon"}
