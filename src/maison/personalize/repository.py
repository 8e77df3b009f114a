"""Sent digests, kept in the decision audit (`decisions`, kind `digest`, the digest as `output`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.core.dialect import is_one_of, value_chunks
from maison.core.schema import decisions
from maison.personalize.repeats import SentPick
from maison.privacy import decisions as audit

DIGEST = "digest"


def digest_row(
    *, client_id: str, model_version: str, data_categories: Sequence[str], reasons: Sequence[Any],
    output: dict[str, Any], at: datetime,
) -> dict[str, Any]:
    """A sent digest as a decision of the audit (`privacy.decisions.record_all` writes many)."""
    return audit.row(client_id=client_id, kind=DIGEST, model_version=model_version, data_categories=data_categories,
                     reasons=reasons, output=output, at=at)


def recorded_digest(conn: Connection, client_id: str, *, start: datetime, end: datetime) -> dict[str, Any] | None:
    """The latest digest recorded for the client with a send instant in `[start, end)`."""
    row = conn.execute(
        select(decisions.c.output)
        .where(decisions.c.client_id == client_id, decisions.c.kind == DIGEST,
               decisions.c.decided_at >= start, decisions.c.decided_at < end)
        .order_by(decisions.c.decided_at.desc(), decisions.c.id.desc())
        .limit(1)
    ).first()
    return dict(row.output) if row is not None else None


def recorded_digests(conn: Connection, client_id: str) -> list[dict[str, Any]]:
    """Every digest recorded for the client, by send instant."""
    rows = conn.execute(
        select(decisions.c.output)
        .where(decisions.c.client_id == client_id, decisions.c.kind == DIGEST)
        .order_by(decisions.c.decided_at, decisions.c.id)
    )
    return [dict(r.output) for r in rows]


def sent_picks(conn: Connection, client_id: str, *, section: str, start: datetime, end: datetime) -> list[SentPick]:
    """The products sent in `section` of the client's digests recorded with a send instant in
    `[start, end)`, each with that instant (read from the per-item reasons of the audit)."""
    return sent_picks_of(conn, [client_id], section=section, start=start, end=end).get(client_id, [])


def sent_picks_of(
    conn: Connection, client_ids: Sequence[str], *, section: str, start: datetime, end: datetime
) -> dict[str, list[SentPick]]:
    """`sent_picks` of many clients (a weekly job's chunk) in one query per 50,000 clients."""
    found: dict[str, list[SentPick]] = {}
    for part in value_chunks(conn, sorted(set(client_ids))):
        rows = conn.execute(
            select(decisions.c.client_id, decisions.c.decided_at, decisions.c.reasons)
            .where(is_one_of(conn, decisions.c.client_id, part), decisions.c.kind == DIGEST,
                   decisions.c.decided_at >= start, decisions.c.decided_at < end)
            .order_by(decisions.c.decided_at, decisions.c.id)
        )
        for row in rows:
            picks = [
                SentPick(str(r["product_id"]), row.decided_at)
                for r in (row.reasons if isinstance(row.reasons, list) else [])
                if isinstance(r, dict) and r.get("section") == section and isinstance(r.get("product_id"), str)
            ]
            found.setdefault(row.client_id, []).extend(picks)
    return found
