"""The consent ledger in the store: append, and read back per client."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.consent.entities import EntryKind, LedgerEntry
from maison.core.dialect import is_one_of, value_chunks
from maison.core.schema import consent_ledger


def append(conn: Connection, entries: Sequence[LedgerEntry], *, recorded_at: datetime) -> None:
    if not entries:
        return
    conn.execute(
        consent_ledger.insert(),
        [
            {
                "client_id": e.client_id, "kind": e.kind.value, "purpose": e.purpose, "granted": e.granted,
                "level": e.level, "effective_at": e.effective_at, "recorded_at": recorded_at,
                "method": e.method, "source": e.source, "notice_version": e.notice_version,
                "geography": e.geography, "message_id": e.message_id, "actor": e.actor,
            }
            for e in entries
        ],
    )


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        client_id=row.client_id, kind=EntryKind(row.kind), effective_at=row.effective_at,
        purpose=row.purpose, granted=row.granted, level=row.level, method=row.method, source=row.source,
        notice_version=row.notice_version, geography=row.geography, message_id=row.message_id, actor=row.actor,
    )


def entries_for(
    conn: Connection, client_ids: Iterable[str], *, purposes: Iterable[str] | None = None
) -> dict[str, list[LedgerEntry]]:
    """Ledger entries of these clients, in time order. With `purposes`, only the entries that
    state those purposes (what a collection decision needs): the ingest gate's hot path."""
    ids = sorted(set(client_ids))
    found: dict[str, list[LedgerEntry]] = defaultdict(list)
    only = sorted(set(purposes)) if purposes is not None else None
    if only == []:
        return {}
    for chunk in value_chunks(conn, ids):
        stmt = select(consent_ledger).where(is_one_of(conn, consent_ledger.c.client_id, chunk))
        if only is not None:
            stmt = stmt.where(consent_ledger.c.kind == EntryKind.PURPOSE.value, consent_ledger.c.purpose.in_(only))
        for row in conn.execute(stmt.order_by(consent_ledger.c.effective_at, consent_ledger.c.id)):
            found[row.client_id].append(_entry(row))
    return dict(found)


def history(conn: Connection, client_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(consent_ledger).where(consent_ledger.c.client_id == client_id)
        .order_by(consent_ledger.c.effective_at, consent_ledger.c.id)
    ).mappings()
    return [{k: v for k, v in r.items() if k != "client_id"} for r in rows]
