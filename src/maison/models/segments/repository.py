"""Cheap marks that change whenever what a segment model was fitted on may have changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from maison.core.schema import clients, consent_ledger, products


def consent_mark(conn: Connection, *, before: datetime | None = None) -> tuple[int, int]:
    """Ledger entries (effective before an instant, when given): how many, and the largest id."""
    query = select(func.count(), func.max(consent_ledger.c.id))
    if before is not None:
        query = query.where(consent_ledger.c.effective_at < before)
    row = conn.execute(query).one()
    return int(row[0]), int(row[1] or 0)


def catalogue_mark(conn: Connection) -> tuple[int, str]:
    """Products in the catalogue and the latest change to one (tags and prices shape the columns)."""
    row = conn.execute(select(func.count(), func.max(products.c.updated_at))).one()
    return int(row[0]), str(row[1])


def client_ids(conn: Connection) -> list[str]:
    """Every live client id (merged-away ids excluded): who might be pooled, nothing about them."""
    return [str(r[0]) for r in conn.execute(select(clients.c.id).where(clients.c.merged_into.is_(None)))]
