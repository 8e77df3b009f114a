"""Cheap marks that change whenever what a segment model was fitted on may have changed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select

from maison.core import marks
from maison.core.schema import clients, consent_ledger, products, segment_models


def consent_mark(conn: Connection, *, since: marks.Mark | None = None) -> marks.Mark:
    """A mark of the whole consent ledger that moves on any insert or delete (`core.marks.total`):
    `since` itself when nothing changed since it was read."""
    return marks.total(conn, consent_ledger, since=since)


def consent_added(conn: Connection, *, then: marks.Mark, now: marks.Mark) -> set[str] | None:
    """Clients with ledger entries added between two `consent_mark`s, where that can be known
    (`core.marks.added`), else None."""
    return marks.added(conn, consent_ledger.c.client_id, then=then, now=now)


def consent_before(conn: Connection, *, before: datetime, previous: tuple[marks.Mark, marks.Mark] | None,
                   now: marks.Mark) -> tuple[marks.Mark, marks.Mark]:
    """Ledger entries effective before an instant: how many, and the largest id, with the ledger's
    mark that goes with them (as `aggregates.stored_before`)."""
    return marks.before_since(conn, consent_ledger.c.effective_at, before, previous=previous, now=now)


def catalogue_mark(conn: Connection) -> tuple[int, str]:
    """Products in the catalogue and the latest change to one (tags and prices shape the columns)."""
    row = conn.execute(select(func.count(), func.max(products.c.updated_at))).one()
    return int(row[0]), str(row[1])


def client_ids(conn: Connection) -> list[str]:
    """Every live client id (merged-away ids excluded): who might be pooled, nothing about them."""
    return [str(r[0]) for r in conn.execute(select(clients.c.id).where(clients.c.merged_into.is_(None)))]


def stored_model(conn: Connection, *, as_of: datetime, mark: tuple[Any, ...] | None) -> dict[str, Any] | None:
    """The payload of the model kept for this period and data mark, if any (`mark` None: the model
    kept for the period under whatever mark, the data before it may have changed since)."""
    wanted = None if mark is None else _plain(mark)
    rows = conn.execute(select(segment_models.c.mark, segment_models.c.payload)
                        .where(segment_models.c.as_of == as_of).order_by(segment_models.c.id.desc()))
    return next((dict(r.payload) for r in rows if wanted is None or r.mark == wanted), None)


def kept_marks(conn: Connection, *, as_of: datetime) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """The tables' marks and the data mark of the model kept for this period (one at a time, see
    `keep_model`), when it has them: where a process that has read no mark yet can start
    (`segments.data_mark`). A model kept without them (JSON null, or before migration 0011) has none."""
    row = conn.execute(select(segment_models.c.totals, segment_models.c.mark)
                       .where(segment_models.c.as_of == as_of).order_by(segment_models.c.id.desc()).limit(1)).first()
    return (_tuples(row.totals), _tuples(row.mark)) if row is not None and row.totals is not None else None


def keep_model(conn: Connection, *, as_of: datetime, mark: tuple[Any, ...], model_version: str,
               payload: dict[str, Any], now: datetime, totals: tuple[Any, ...] | None = None) -> None:
    """Keep a fitted model; the same period's models under other marks, and those of periods more
    than two before (56 days), go (a later mark means data changed since; an older period's model
    is fitted again if it is ever asked for)."""
    conn.execute(delete(segment_models).where(or_(segment_models.c.as_of == as_of,
                                                  segment_models.c.as_of < as_of - timedelta(days=56))))
    conn.execute(segment_models.insert(), {"as_of": as_of, "mark": _plain(mark), "model_version": model_version,
                                           "payload": payload, "stored_at": now,
                                           "totals": None if totals is None else _plain(totals)})


def forget_models(conn: Connection) -> int:
    """Drop every kept model (they list member ids: an erasure calls this); returns how many."""
    return int(conn.execute(delete(segment_models)).rowcount)


def _tuples(value: Any) -> Any:
    """A mark read back from JSON as the tuples it was (marks compare with `==`)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _plain(mark: tuple[Any, ...]) -> Any:
    """The mark as JSON gives it back (tuples as lists), so a stored mark compares equal."""
    return json.loads(json.dumps(mark))
