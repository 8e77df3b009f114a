"""High-water marks of append-mostly tables (events, the consent ledger): when a cache is stale.

A cache of something computed from such a table (a segment model, a segment's members' reads)
is keyed by a mark that moves whenever the table changes. Counting rows is exact but a scan:
162 ms for 3.3 million events on SQLite, 478 ms on PostgreSQL, paid by every personalised
product page and by every chunk of the weekly job. The backends differ in what makes a mark
cheap (ADR 8):

- SQLite has one writer at a time, and a row's id is given by the transaction that commits it
  while it holds the write lock: every row committed after a mark was read has a larger id than
  any row visible then, unless rows were deleted (an id can then be given again). A trigger
  counts deletions (`deleted_rows`, migration 0006), so the largest id and that count together
  move on every change: two index look-ups.
- PostgreSQL gives ids outside transactions and commits concurrent ones in any order (a
  transaction holding id 100 may commit after a reader saw 101), so a largest id can miss a row.
  There each row carries the id of the transaction that inserted it (`xact`, migration 0007),
  and a mark is the statement's snapshot with the count of deletions: the rows added since are
  exactly those whose transaction the snapshot does not see, found through an index on `xact`
  among the newest rows. A snapshot names every transaction of the server, so two reads of an
  unchanged table give different snapshots: `total(..., since=mark)` answers `mark` itself when
  nothing was added or deleted since, which is what keeps a cache keyed by it.

  Inside a transaction that has written, its own rows are visible to its snapshot and would
  vanish with a rollback unseen by any later mark, so there a mark counts rows (as before ADR
  8) and nothing is derived from it incrementally.

Rows moved to another client (an identity merge puts the merged client's events and consent
entries on the survivor; its undo puts them back) are counted too, apart from deletions
(migration 0009), and a whole-table mark holds both counts. After a move a cache of some
clients' ledgers reads again only the two clients of each move of a consent entry (logged with
its position among the moves, `row_moves`, migration 0012; the events' moves are only counted, and
`added` cannot say whose events moved), while a bounded count (`before`) goes on from the rows
added since: a move changes no count or largest id, so a merge neither scans the events nor
refits a segment model.

`before` has the same choice: the rows stamped before an instant, counted once, then from the
rows added since an earlier mark alone (`grown`); and a cache of some clients' ledgers can read
again only those of them with entries added since (`added`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import Column, Connection, Table, func, select, text

from maison.core.schema import deleted_rows, row_moves

Mark = tuple[Any, ...]
"""Of a whole table: on SQLite (largest id, rows ever deleted, rows ever moved to another client);
on PostgreSQL (snapshot, the same two counts), or (rows, largest id) read inside a writing
transaction. Of the rows before an instant (`before`): (rows, largest id). Compare only with `==`."""

# The rows a snapshot does not see; `xact` is NULL for rows stored before migration 0007 (old).
_UNSEEN = ("xact >= pg_snapshot_xmin(CAST(:snap AS pg_snapshot)) "
           "AND NOT pg_visible_in_snapshot(xact, CAST(:snap AS pg_snapshot))")
_NOW = ("pg_current_snapshot()::text AS snap, pg_current_xact_id_if_assigned() IS NOT NULL AS writing, "
        "(SELECT count FROM deleted_rows WHERE table_name = :table) AS deleted, "
        "(SELECT count FROM deleted_rows WHERE table_name = CAST(:table AS text) || '\\:moved') AS moved")


def total(conn: Connection, table: Table, *, since: Mark | None = None) -> Mark:
    """A mark of the whole table, equal to `since` when nothing was added to, deleted from or moved
    in the table since `since` was read (on SQLite any two unchanged reads are equal anyway)."""
    if conn.dialect.name == "sqlite":
        largest = conn.execute(select(func.max(table.c.id))).scalar()
        counts = dict(conn.execute(select(deleted_rows.c.table_name, deleted_rows.c.count)
                                   .where(deleted_rows.c.table_name.in_((table.name, f"{table.name}:moved")))).all())
        return int(largest or 0), int(counts.get(table.name) or 0), int(counts.get(f"{table.name}:moved") or 0)
    if _is_snapshot(since):
        row = conn.execute(text(f"SELECT {_NOW}, EXISTS (SELECT 1 FROM {table.name} WHERE {_UNSEEN}) AS added"),
                           {"table": table.name, "snap": since[0]}).one()
        if not row.writing and not row.added and _changes(row) == since[1:]:
            return since
    else:
        row = conn.execute(text(f"SELECT {_NOW}"), {"table": table.name}).one()
    if row.writing:
        return _counted(conn, table)
    return (str(row.snap), *_changes(row))


def before(conn: Connection, column: Column[datetime], instant: datetime) -> Mark:
    """The rows whose `column` is before `instant`: how many, and the largest id."""
    table = column.table
    row = conn.execute(select(func.count(), func.max(table.c.id)).where(column < instant)).one()
    return int(row[0]), int(row[1] or 0)


def grown(conn: Connection, column: Column[datetime], instant: datetime, *, was: Mark, then: Mark,
          now: Mark) -> Mark | None:
    """`before(conn, column, instant)` from its value `was` when the table's `total` was `then`, now
    `now`, counting only the rows added since; None when that cannot be known so (rows were
    deleted, or a mark was read inside a writing transaction on PostgreSQL)."""
    found = _grown(conn, column, instant, was=was, then=then, now=now)
    return None if found is None else found[0]


def before_since(conn: Connection, column: Column[datetime], instant: datetime, *,
                 previous: tuple[Mark, Mark] | None, now: Mark) -> tuple[Mark, Mark]:
    """`before(conn, column, instant)`, from `previous` (its value and the table's `total` then)
    when the rows added since say it (`grown`), else counted; with the table's `total` that the
    answer goes with, to pass back as `previous` next time (on PostgreSQL the answer is read with
    a snapshot of its own, later than `now`, and a later `grown` must start from that one)."""
    found = _grown(conn, column, instant, was=previous[0], then=previous[1], now=now) if previous else None
    if found is not None:
        return found
    if conn.dialect.name == "sqlite":
        return before(conn, column, instant), now
    table = column.table
    row = conn.execute(
        text(f"SELECT count(*) AS n, max(id) AS largest, {_NOW} FROM {table.name} "
             f"WHERE {_quoted(conn, column)} < :instant"),
        {"table": table.name, "instant": _bound(conn, column, instant)}).one()
    counted = (int(row.n), int(row.largest or 0))
    return counted, (_counted(conn, table) if row.writing else (str(row.snap), *_changes(row)))


def added(conn: Connection, column: Column[str], *, then: Mark, now: Mark) -> set[str] | None:
    """The values of `column` (a client id, say) in the rows added since the table's `total` was
    `then`, now `now`; None when that cannot be known so (as `grown`). On PostgreSQL the answer
    may also hold rows added after `now`: reading those clients again is merely early."""
    if not _only_added(conn, then, now):
        return None
    table = column.table
    found = _moved_between(conn, table, then, now)
    if found is None:  # a move not logged (the events' moves are only counted): whose rows is not known
        return None
    if conn.dialect.name != "sqlite":
        query = text(f"SELECT {_quoted(conn, column)} FROM {table.name} WHERE {_UNSEEN}")
        return found | {str(v) for v in conn.execute(query, {"snap": then[0]}).scalars()}
    # No DISTINCT: SQLite would answer it by scanning an index on the column, not the ids' range.
    return found | {str(v) for v in conn.execute(select(column).where(table.c.id > then[0])).scalars()}


def _moved_between(conn: Connection, table: Table, then: Mark, now: Mark) -> set[str] | None:
    """Both clients of every row moved between two marks (`row_moves`, migration 0012); None when
    the log does not hold them all (a table whose moves are only counted, or log rows erased since)."""
    moved = int(now[2]) - int(then[2])
    if moved == 0:
        return set()
    if moved < 0:
        return None
    rows = conn.execute(
        select(row_moves.c.from_client_id, row_moves.c.to_client_id, row_moves.c.rows)
        .where(row_moves.c.table_name == table.name, row_moves.c.position > then[2], row_moves.c.position <= now[2])
    ).all()
    if sum(int(r.rows) for r in rows) != moved:
        return None
    return {c for r in rows for c in (r.from_client_id, r.to_client_id)}


def _grown(conn: Connection, column: Column[datetime], instant: datetime, *, was: Mark, then: Mark,
           now: Mark) -> tuple[Mark, Mark] | None:
    if not _only_added(conn, then, now):  # rows moved to other clients leave the count as it was
        return None
    table = column.table
    if conn.dialect.name == "sqlite":
        query = select(func.count(), func.max(table.c.id)).where(table.c.id > then[0], column < instant)
        row = conn.execute(query).one()
        return _plus(was, row[0], row[1]), now
    # One statement, so the rows counted and the snapshot returned agree; a deletion since `now`
    # shows in its count, and then only a recount knows.
    row = conn.execute(
        text(f"SELECT count(*) AS n, max(id) AS largest, {_NOW} FROM {table.name} "
             f"WHERE {_UNSEEN} AND {_quoted(conn, column)} < :instant"),
        {"table": table.name, "snap": then[0], "instant": _bound(conn, column, instant)}).one()
    if row.writing or int(row.deleted or 0) != then[1]:
        return None
    return _plus(was, row.n, row.largest), (str(row.snap), *_changes(row))


def _plus(was: Mark, new: int, largest: int | None) -> Mark:
    """A bounded mark (rows, largest id) with `new` rows added, the largest of them `largest`."""
    return (was[0] + int(new), max(was[1], int(largest or 0))) if new else was


def _only_added(conn: Connection, then: Mark, now: Mark) -> bool:
    """No row deleted between two marks of the whole table, and marks that say which rows were added
    since: SQLite's (every row added since has a larger id), PostgreSQL's snapshots."""
    if len(then) != 3 or len(now) != 3:  # (rows, largest id): read inside a writing transaction
        return False
    if conn.dialect.name == "sqlite":
        return bool(now[1] == then[1] and now[0] >= then[0])
    return _is_snapshot(then) and _is_snapshot(now) and now[1] == then[1]


def _changes(row: Any) -> tuple[int, int]:
    """Rows ever deleted and rows ever moved to another client, as a statement with `_NOW` read them."""
    return int(row.deleted or 0), int(row.moved or 0)


def _is_snapshot(mark: Mark | None) -> TypeGuard[Mark]:
    return mark is not None and isinstance(mark[0], str)


def _counted(conn: Connection, table: Table) -> Mark:
    row = conn.execute(select(func.count(), func.max(table.c.id)).select_from(table)).one()
    return int(row[0]), int(row[1] or 0)


def _quoted(conn: Connection, column: Column[Any]) -> str:
    return str(conn.dialect.identifier_preparer.quote(column.name))


def _bound(conn: Connection, column: Column[datetime], instant: datetime) -> Any:
    """`instant` as the column's type stores it, for a textual statement."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(instant) if process else instant
