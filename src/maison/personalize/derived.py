"""Derived client data of L3 (trajectory, inferred values, collection access) in `client_derived`.

Each row is what was derived *as of* an instant (its data stop there), with the purposes it
rests on. Rows are the client's data: the export shows them, erasure deletes them (the table
is in `schema.CLIENT_KEYED`). Readers ask "as of t", so a settings page at t never shows what
was derived later.

One client's questions are a query each (`latest`, `all_of`, `collections`); a weekly job asks
them for a chunk of clients, so `rows_of` reads the chunk's rows of some kinds once and
`Rows` answers the same questions from them, with the same bounds and order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.core.clock import utcnow
from maison.core.dialect import is_one_of, value_chunks
from maison.core.schema import client_derived

TRAJECTORY = "trajectory"
INFERRED_VALUES = "inferred_values"
COLLECTION_ACCESS = "collection_access"
_INSERT = client_derived.insert()


def row(
    client_id: str, *, kind: str, as_of: datetime, payload: Any, data_categories: Sequence[str], model_version: str,
) -> dict[str, Any]:
    """One `client_derived` row, as `record` and `record_all` write it."""
    return {"client_id": client_id, "kind": kind, "as_of": as_of, "model_version": model_version,
            "data_categories": sorted(set(data_categories)), "payload": payload}


def record(
    conn: Connection, client_id: str, *, kind: str, as_of: datetime, payload: Any, data_categories: Sequence[str],
    model_version: str,
) -> None:
    record_all(conn, [row(client_id, kind=kind, as_of=as_of, payload=payload, data_categories=data_categories,
                          model_version=model_version)])


def record_all(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write `row`s in one statement (a job's chunk: one executemany, not a statement a row)."""
    if rows:
        computed_at = utcnow()
        conn.execute(_INSERT, [{**r, "computed_at": computed_at} for r in rows])


def latest(conn: Connection, client_id: str, kind: str, *, at: datetime | None = None) -> Any | None:
    """The payload of the latest row of `kind` derived as of `at` or earlier (any time if None)."""
    query = select(client_derived.c.payload).where(client_derived.c.client_id == client_id,
                                                    client_derived.c.kind == kind)
    if at is not None:
        query = query.where(client_derived.c.as_of <= at)
    found = conn.execute(query.order_by(client_derived.c.as_of.desc(), client_derived.c.id.desc()).limit(1)).first()
    return found.payload if found is not None else None


def all_of(conn: Connection, client_id: str, kind: str, *, at: datetime | None = None) -> list[Any]:
    """Every payload of `kind` derived as of `at` or earlier, oldest first."""
    query = select(client_derived.c.payload).where(client_derived.c.client_id == client_id,
                                                    client_derived.c.kind == kind)
    if at is not None:
        query = query.where(client_derived.c.as_of <= at)
    return [r.payload for r in conn.execute(query.order_by(client_derived.c.as_of, client_derived.c.id))]


def collections(conn: Connection, client_id: str, *, at: datetime | None = None) -> list[str]:
    """Collections the client has been granted access to as of `at`, in name order."""
    return collection_names(all_of(conn, client_id, COLLECTION_ACCESS, at=at))


def collection_names(payloads: Iterable[Any]) -> list[str]:
    """The collections named by collection-access payloads, in name order."""
    return sorted({str(p["collection"]) for p in payloads if isinstance(p, dict) and p.get("collection")})


@dataclass(frozen=True, slots=True)
class _Row:
    as_of: datetime
    payload: Any


class Rows:
    """Some clients' rows of some kinds up to an instant (`rows_of`): `latest`, `all_of` and
    `collections` for any of those clients, kinds and instants up to it, from memory."""

    def __init__(self, until: datetime, kinds: frozenset[str], found: dict[tuple[str, str], list[_Row]]) -> None:
        self.until, self.kinds, self._found = until, kinds, found

    def covers(self, kind: str, at: datetime | None) -> bool:
        return kind in self.kinds and at is not None and at <= self.until

    def all_of(self, client_id: str, kind: str, *, at: datetime) -> list[Any]:
        self._check(kind, at)
        return [r.payload for r in self._found.get((client_id, kind), ()) if r.as_of <= at]

    def latest(self, client_id: str, kind: str, *, at: datetime) -> Any | None:
        found = self.all_of(client_id, kind, at=at)
        return found[-1] if found else None

    def collections(self, client_id: str, *, at: datetime) -> list[str]:
        return collection_names(self.all_of(client_id, COLLECTION_ACCESS, at=at))

    def _check(self, kind: str, at: datetime) -> None:
        if not self.covers(kind, at):
            raise ValueError(f"these rows hold {sorted(self.kinds)} up to {self.until}, not {kind} at {at}")


def rows_of(conn: Connection, client_ids: Sequence[str], kinds: Iterable[str], *, until: datetime) -> Rows:
    """The clients' rows of `kinds` derived as of `until` or earlier, in one query per 50,000 clients."""
    wanted = frozenset(kinds)
    found: dict[tuple[str, str], list[_Row]] = {}
    ids = sorted(set(client_ids))
    for part in value_chunks(conn, ids):
        query = (
            select(client_derived.c.client_id, client_derived.c.kind, client_derived.c.as_of,
                   client_derived.c.payload)
            .where(is_one_of(conn, client_derived.c.client_id, part), client_derived.c.kind.in_(sorted(wanted)),
                   client_derived.c.as_of <= until)
            .order_by(client_derived.c.as_of, client_derived.c.id)
        )
        for r in conn.execute(query):
            found.setdefault((r.client_id, r.kind), []).append(_Row(r.as_of, r.payload))
    return Rows(until, wanted, found)
