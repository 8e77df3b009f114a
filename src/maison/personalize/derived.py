"""Derived client data of L3 (trajectory, inferred values, collection access) in `client_derived`.

Each row is what was derived *as of* an instant (its data stop there), with the purposes it
rests on. Rows are the client's data: the export shows them, erasure deletes them (the table
is in `schema.CLIENT_KEYED`). Readers ask "as of t", so a settings page at t never shows what
was derived later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.core.clock import utcnow
from maison.core.schema import client_derived

TRAJECTORY = "trajectory"
INFERRED_VALUES = "inferred_values"
COLLECTION_ACCESS = "collection_access"
_INSERT = client_derived.insert()


def record(
    conn: Connection, client_id: str, *, kind: str, as_of: datetime, payload: Any, data_categories: Sequence[str],
    model_version: str,
) -> None:
    conn.execute(_INSERT, {"client_id": client_id, "kind": kind, "as_of": as_of, "model_version": model_version,
                           "data_categories": sorted(set(data_categories)), "payload": payload,
                           "computed_at": utcnow()})


def latest(conn: Connection, client_id: str, kind: str, *, at: datetime | None = None) -> Any | None:
    """The payload of the latest row of `kind` derived as of `at` or earlier (any time if None)."""
    query = select(client_derived.c.payload).where(client_derived.c.client_id == client_id,
                                                    client_derived.c.kind == kind)
    if at is not None:
        query = query.where(client_derived.c.as_of <= at)
    row = conn.execute(query.order_by(client_derived.c.as_of.desc(), client_derived.c.id.desc()).limit(1)).first()
    return row.payload if row is not None else None


def all_of(conn: Connection, client_id: str, kind: str, *, at: datetime | None = None) -> list[Any]:
    """Every payload of `kind` derived as of `at` or earlier, oldest first."""
    query = select(client_derived.c.payload).where(client_derived.c.client_id == client_id,
                                                    client_derived.c.kind == kind)
    if at is not None:
        query = query.where(client_derived.c.as_of <= at)
    return [r.payload for r in conn.execute(query.order_by(client_derived.c.as_of, client_derived.c.id))]


def collections(conn: Connection, client_id: str, *, at: datetime | None = None) -> list[str]:
    """Collections the client has been granted access to as of `at`, in name order."""
    return sorted({str(p["collection"]) for p in all_of(conn, client_id, COLLECTION_ACCESS, at=at)
                   if isinstance(p, dict) and p.get("collection")})
