"""The decision audit: every automated decision with its version, data categories and reasons.

Recommendation sets, scores and messages are recorded here by the capability that makes them;
`GET /v1/privacy/{client}/decisions` reads them back to answer "why am I seeing this".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.consent.purposes import PURPOSES
from maison.core.schema import decisions

_INSERT = decisions.insert()


def row(
    *,
    client_id: str,
    kind: str,
    model_version: str,
    data_categories: Sequence[str],
    reasons: Sequence[Any],
    output: Any,
    at: datetime,
) -> dict[str, Any]:
    """One decision as `record` and `record_all` write it; unknown data categories are refused."""
    unknown = sorted(set(data_categories) - set(PURPOSES))
    if unknown:
        raise ValueError(f"decision lists unknown data categories {unknown}")
    return {"client_id": client_id, "kind": kind, "decided_at": at, "model_version": model_version,
            "data_categories": sorted(set(data_categories)), "reasons": list(reasons), "output": output}


def record(
    conn: Connection,
    *,
    client_id: str,
    kind: str,
    model_version: str,
    data_categories: Sequence[str],
    reasons: Sequence[Any],
    output: Any,
    at: datetime,
) -> int:
    """Record one decision; returns its id (a reviewer's approval refers to it)."""
    result = conn.execute(  # one statement, the values as parameters: `.values()` built and keyed a new one each time
        _INSERT, row(client_id=client_id, kind=kind, model_version=model_version, data_categories=data_categories,
                     reasons=reasons, output=output, at=at),
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def record_all(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Record many decisions (`row`s) in one executemany, when no one needs their ids (a weekly
    job's chunk of digests: a statement per digest was most of the cost of keeping them)."""
    if rows:
        conn.execute(_INSERT, list(rows))


def for_client(conn: Connection, client_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(decisions).where(decisions.c.client_id == client_id)
        .order_by(decisions.c.decided_at.desc(), decisions.c.id.desc()).limit(limit)
    ).mappings()
    return [{k: v for k, v in r.items() if k != "client_id"} for r in rows]
