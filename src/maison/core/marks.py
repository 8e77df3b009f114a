"""High-water marks of append-mostly tables (events, the consent ledger): when a cache is stale.

A cache of something computed from such a table (a segment model, a segment's members' reads)
is keyed by a mark that moves whenever the table changes. Counting rows is exact but a scan:
162 ms for 3.3 million events on SQLite, 58 ms for 1.3 million ledger entries, paid by every
personalised product page and by every chunk of the weekly job. How cheap a mark can be depends
on the backend:

- SQLite has one writer at a time, and a row's id is given by the transaction that commits it
  while it holds the write lock: every row committed after a mark was read has a larger id than
  any row visible then, unless rows were deleted (an id can then be given again). A trigger
  counts deletions (`deleted_rows`, migration 0006), so the largest id and that count together
  move on every change: two index look-ups.
- PostgreSQL commits concurrently given ids out of order (a transaction holding id 100 may commit
  after a reader saw 101), so a largest id can miss a row; there a mark counts rows, as before.

`before` has the same choice: the rows stamped before an instant, counted once, then (SQLite)
from the rows added since an earlier mark alone (`grown`); and a cache of some clients' ledgers
can read again only those of them with entries added since (`added`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection, Table, func, select

from maison.core.schema import deleted_rows

Mark = tuple[int, int]


def total(conn: Connection, table: Table) -> Mark:
    """A mark of the whole table: (largest id, rows ever deleted) on SQLite, (rows, largest id) else."""
    if conn.dialect.name == "sqlite":
        largest = conn.execute(select(func.max(table.c.id))).scalar()
        deleted = conn.execute(select(deleted_rows.c.count).where(deleted_rows.c.table_name == table.name)).scalar()
        return int(largest or 0), int(deleted or 0)
    row = conn.execute(select(func.count(), func.max(table.c.id))).one()
    return int(row[0]), int(row[1] or 0)


def before(conn: Connection, column: Column[datetime], instant: datetime) -> Mark:
    """The rows whose `column` is before `instant`: how many, and the largest id."""
    table = column.table
    row = conn.execute(select(func.count(), func.max(table.c.id)).where(column < instant)).one()
    return int(row[0]), int(row[1] or 0)


def grown(conn: Connection, column: Column[datetime], instant: datetime, *, was: Mark, then: Mark,
          now: Mark) -> Mark | None:
    """`before(conn, column, instant)` from its value `was` when the table's `total` was `then`, now
    `now`, counting only the rows added since; None when that cannot be known so (rows were
    deleted, or PostgreSQL, whose ids say nothing about what committed since)."""
    if not _only_grown(conn, then, now):
        return None
    table = column.table
    row = conn.execute(select(func.count(), func.max(table.c.id)).where(table.c.id > then[0], column < instant)).one()
    added, largest = int(row[0]), int(row[1] or 0)
    return (was[0] + added, max(was[1], largest)) if added else was


def before_since(conn: Connection, column: Column[datetime], instant: datetime, *, previous: tuple[Mark, Mark] | None,
                 now: Mark) -> Mark:
    """`before(conn, column, instant)`, from `previous` (its value and the table's `total` then) when
    the rows added since say it (`grown`), else counted."""
    found = grown(conn, column, instant, was=previous[0], then=previous[1], now=now) if previous else None
    return found if found is not None else before(conn, column, instant)


def added(conn: Connection, column: Column[str], *, then: Mark, now: Mark) -> set[str] | None:
    """The values of `column` (a client id, say) in the rows added since the table's `total` was
    `then`, now `now`; None when that cannot be known so (as `grown`)."""
    if not _only_grown(conn, then, now):
        return None
    table = column.table
    # No DISTINCT: SQLite would answer it by scanning an index on the column, not the ids' range.
    return {str(v) for v in conn.execute(select(column).where(table.c.id > then[0])).scalars()}


def _only_grown(conn: Connection, then: Mark, now: Mark) -> bool:
    """SQLite, no row deleted between the two marks: every row added since has a larger id."""
    return conn.dialect.name == "sqlite" and now[1] == then[1] and now[0] >= then[0]
