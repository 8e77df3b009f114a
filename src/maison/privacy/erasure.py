"""Erasure (GDPR Art. 17): everything that names the client goes; a keyed-hash tombstone stays.

One function, one transaction: events, profile, identities, consent ledger, decisions, scores,
messages, access log, merge records and quarantined messages that carry the identifiers. The
erasure log keeps counts only; models trained on the client are queued for retraining.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, String, cast, delete, or_, select, update

from maison.core.schema import (
    CLIENT_KEYED,
    clients,
    erasure_log,
    erasure_marks,
    identities,
    identity_merges,
    quarantine,
    retrain_queue,
    row_moves,
)
from maison.identity import repository as identity_repo
from maison.models.segments import repository as segment_repo
from maison.privacy.suppression import suppress


def _client_family(conn: Connection, client_id: str) -> list[str]:
    """The client and every client merged into it, directly or through a chain."""
    family, frontier = [client_id], [client_id]
    while frontier:
        rows = conn.execute(select(clients.c.id).where(clients.c.merged_into.in_(frontier))).all()
        frontier = [r[0] for r in rows if r[0] not in family]
        family += frontier
    return family


def erase(
    conn: Connection, client_id: str, *, request_id: str | None, suppression_key: bytes, now: datetime
) -> dict[str, int]:
    """Erase one client; returns the number of rows removed per table (no personal data)."""
    family = _client_family(conn, client_id)
    idents = [i for c in family for i in identity_repo.identifiers_of_client(conn, c)]
    suppress(conn, suppression_key, idents, request_id=request_id, at=now)
    counts: dict[str, int] = {}
    conn.execute(erasure_marks.insert(), [{"client_id": c} for c in family])
    for table, column in CLIENT_KEYED:
        counts[str(table.name)] = conn.execute(delete(table).where(table.c[column].in_(family))).rowcount
    counts["quarantine"] = _erase_quarantined(conn, [v for _, v in idents])
    counts["identity_merges"] = conn.execute(
        delete(identity_merges).where(
            or_(identity_merges.c.survivor_id.in_(family), identity_merges.c.merged_id.in_(family))
        )
    ).rowcount
    counts["identities"] = conn.execute(delete(identities).where(identities.c.client_id.in_(family))).rowcount
    counts["row_moves"] = conn.execute(  # the log of consent entries moved by merges names both clients
        delete(row_moves).where(or_(row_moves.c.from_client_id.in_(family), row_moves.c.to_client_id.in_(family)))
    ).rowcount
    conn.execute(update(clients).where(clients.c.id.in_(family)).values(merged_into=None))
    counts["clients"] = conn.execute(delete(clients).where(clients.c.id.in_(family))).rowcount
    counts["segment_models"] = segment_repo.forget_models(conn)  # they list member ids; the next use fits again
    conn.execute(delete(erasure_marks).where(erasure_marks.c.client_id.in_(family)))
    conn.execute(erasure_log.insert().values(request_id=request_id, erased_at=now, counts=counts))
    conn.execute(retrain_queue.insert().values(reason="erasure", queued_at=now))
    return counts


def _erase_quarantined(conn: Connection, values: list[str]) -> int:
    removed = 0
    text = cast(quarantine.c.message, String)
    for value in values:
        removed += conn.execute(delete(quarantine).where(text.contains(value, autoescape=True))).rowcount
    return removed
