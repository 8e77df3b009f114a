"""The Alembic migrations build exactly the schema the code declares, on both backends.

A table, column or index added to (or dropped from) `core.schema` without a migration would
work in tests that create tables from the metadata and fail on a real store; this compares a
migrated store with the metadata.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from maison.core.schema import metadata


def test_a_migrated_store_matches_the_declared_schema(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diffs == []


def test_events_carry_only_the_indexes_queries_use(engine) -> None:  # type: ignore[no-untyped-def]
    # Every index costs each stored event an insertion; userId and anonymousId are never looked
    # up in events (identity resolves them in `identities`), so they are not indexed.
    names = {ix["name"] for ix in inspect(engine).get_indexes("events")}
    assert {"ix_events_client_time", "ix_events_event_time", "ix_events_product"} <= names
    assert not names & {"ix_events_user", "ix_events_anon"}
