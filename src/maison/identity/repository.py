"""Storage of the identity graph: identifiers, clients, merges."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from maison.core.dialect import insert_rows, lookup_keys, rows_of_keys
from maison.core.schema import CLIENT_KEYED, clients, events, identities, identity_merges
from maison.identity.rules import USER, event_owner_identifier

Identifier = tuple[str, str]
_CHUNK = 400


def new_client_id() -> str:
    return "cl_" + uuid.uuid4().hex[:20]


def owners(conn: Connection, idents: Iterable[Identifier]) -> dict[Identifier, str]:
    """Current client of each known identifier (identifiers always sit on a canonical client),
    probed on the primary key (kind, value) by `lookup_keys`."""
    return lookup_keys(conn, identities, ("kind", "value"), sorted(set(idents)), value="client_id")


def users_of(conn: Connection, client_ids: Iterable[str]) -> dict[str, frozenset[str]]:
    """The userIds each client holds.

    Every identifier of the clients is read by the client index (`rows_of_keys`) and the
    userIds are kept here. With `kind = 'user'` in the query, both SQLite and (on a growing
    store whose statistics lagged) PostgreSQL chose the primary key's `kind` prefix and
    scanned every userId of the store instead of probing the client index for a few rows.
    """
    result: dict[str, set[str]] = defaultdict(set)
    rows = rows_of_keys(conn, identities, "client_id", sorted(set(client_ids)), ("kind", "value"))
    for client_id, kind, value in rows:
        if kind == USER:
            result[client_id].add(value)
    return {c: frozenset(v) for c, v in result.items()}


def identifiers_of_client(conn: Connection, client_id: str) -> list[Identifier]:
    rows = conn.execute(
        select(identities.c.kind, identities.c.value)
        .where(identities.c.client_id == client_id)
        .order_by(identities.c.kind, identities.c.value)
    )
    return [(k, v) for k, v in rows]


def user_ids_of(conn: Connection, client_ids: Sequence[str]) -> dict[str, list[str]]:
    """The userIds linked to each of these clients (a client with none is absent), in value order."""
    found: dict[str, list[str]] = {}
    ids = sorted(set(client_ids))
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(identities.c.client_id, identities.c.value)
            .where(identities.c.client_id.in_(ids[start : start + 500]), identities.c.kind == "user")
            .order_by(identities.c.client_id, identities.c.value)
        )
        for client_id, value in rows:
            found.setdefault(client_id, []).append(value)
    return found


def create_clients(conn: Connection, ids: Sequence[str], now: datetime) -> None:
    insert_rows(conn, clients, ("id", "created_at"), [(i, now) for i in ids])


def attach(
    conn: Connection, links: Sequence[tuple[Identifier, str]], now: datetime, message_ids: dict[Identifier, str]
) -> None:
    """Link identifiers nobody owns to clients (an identifier named twice is linked once).

    A plain insert, not one that skips conflicts: the caller holds every unowned identifier
    it links exclusively (PostgreSQL) or is the only writer (SQLite), so an identifier owned
    meanwhile would be a bug to surface, not a row to drop silently.
    """
    first = dict(reversed(links))  # the first client named for each identifier
    rows = [(k, v, first[(k, v)], now, message_ids.get((k, v))) for (k, v) in dict.fromkeys(i for i, _ in links)]
    insert_rows(conn, identities, ("kind", "value", "client_id", "linked_at", "message_id"), rows)


def canonical(conn: Connection, client_id: str) -> str | None:
    """Follow `merged_into` to the client that now holds a merged client's data."""
    seen = set()
    current: str | None = client_id
    while current is not None and current not in seen:
        seen.add(current)
        row = conn.execute(select(clients.c.merged_into).where(clients.c.id == current)).first()
        if row is None:
            return None
        if row[0] is None:
            return current
        current = row[0]
    return current


def merge(
    conn: Connection,
    *,
    survivor: str,
    merged: str,
    reason: str,
    at: datetime,
    message_id: str | None = None,
    actor: str | None = None,
) -> int:
    """Move every identifier and event of `merged` onto `survivor`, and record how to undo it."""
    moved = identifiers_of_client(conn, merged)
    conn.execute(update(identities).where(identities.c.client_id == merged).values(client_id=survivor))
    rows: dict[str, list[Any]] = {}
    for table, column in CLIENT_KEYED:  # events, consent ledger, decisions… follow the client
        if table is not events:  # events go back by their identifiers; the rest by what is kept here
            ids = list(conn.execute(select(table.c.id).where(table.c[column] == merged)).scalars())
            if ids:
                rows[str(table.name)] = ids
        conn.execute(update(table).where(table.c[column] == merged).values({column: survivor}))
    conn.execute(update(clients).where(clients.c.id == merged).values(merged_into=survivor))
    result = conn.execute(
        identity_merges.insert().values(
            survivor_id=survivor,
            merged_id=merged,
            reason=reason,
            message_id=message_id,
            actor=actor,
            identifiers=[list(i) for i in moved],
            moved=rows,
            merged_at=at,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def get_merge(conn: Connection, merge_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(identity_merges).where(identity_merges.c.id == merge_id)).mappings().first()
    return dict(row) if row else None


def list_merges(conn: Connection, client_id: str | None = None) -> list[dict[str, Any]]:
    stmt = select(identity_merges).order_by(identity_merges.c.id)
    if client_id:
        stmt = stmt.where(
            or_(identity_merges.c.survivor_id == client_id, identity_merges.c.merged_id == client_id)
        )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def undo_merge(conn: Connection, record: dict[str, Any], *, at: datetime, actor: str) -> int:
    """Give the merged client back its identifiers, the events they decide, the rows derived from
    those events and the other rows the merge moved (`moved`; merges recorded before migration
    0010 have none, and keep the derived rows only). Returns events moved."""
    survivor, merged = record["survivor_id"], record["merged_id"]
    restored = [tuple(i) for i in record["identifiers"]]
    still_there = [i for i in restored if owners(conn, [i]).get(i) == survivor]
    for kind, value in still_there:
        conn.execute(
            update(identities)
            .where(and_(identities.c.kind == kind, identities.c.value == value))
            .values(client_id=merged)
        )
    moving = set(still_there)
    rows = conn.execute(
        select(events.c.id, events.c.message_id, events.c.user_id, events.c.anonymous_id).where(
            events.c.client_id == survivor
        )
    ).all()
    back = [r for r in rows if event_owner_identifier(r.user_id, r.anonymous_id) in moving]
    ids = [r.id for r in back]
    message_ids = [r.message_id for r in back]
    for start in range(0, len(ids), _CHUNK):
        conn.execute(update(events).where(events.c.id.in_(ids[start : start + _CHUNK])).values(client_id=merged))
    # Rows that other tables derived from those events (consent stated in them) go back too.
    for table, column in CLIENT_KEYED:
        if table is events or "message_id" not in table.c:
            continue
        for start in range(0, len(message_ids), _CHUNK):
            conn.execute(
                update(table)
                .where(table.c[column] == survivor, table.c.message_id.in_(message_ids[start : start + _CHUNK]))
                .values({column: merged})
            )
    # The merged client's own rows the merge moved (a consent entry given on the privacy
    # dashboard has no event behind it): without them the survivor would keep consent it never gave.
    for table, column in CLIENT_KEYED:
        kept = (record.get("moved") or {}).get(table.name, [])
        for start in range(0, len(kept), _CHUNK):
            conn.execute(
                update(table)
                .where(table.c[column] == survivor, table.c.id.in_(kept[start : start + _CHUNK]))
                .values({column: merged})
            )
    conn.execute(update(clients).where(clients.c.id == merged).values(merged_into=None))
    conn.execute(
        update(identity_merges)
        .where(identity_merges.c.id == record["id"])
        .values(undone_at=at, undone_by=actor)
    )
    return len(ids)
