"""Scores per client and model version: who may be scored, storing a batch, serving the latest.

Consent decides twice. Before scoring, only clients whose consent lets at least one of the
model's declared categories be used for profiling (`Use.PROFILE`) are passed to the scorer,
and a score may list only those categories. When serving, a stored score is returned only while
every category it used may still be used for profiling: an objection to profiling, a
restriction or a withdrawn purpose hides existing scores at once, however the change arrived
(API, dashboard, an ingested `Consent Updated`), with no hook in the consent capability.

Scores of a client who objects to profiling are also deleted by the next batch run
(`purge_objectors`): Art. 21 ends the processing, so the profile should not be kept. A
restriction (Art. 18) hides them but keeps them, since a restricted client's data must be
neither used nor erased until the restriction is lifted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, and_, delete, select

from maison.consent import service as consent
from maison.consent.entities import ConsentState, Use
from maison.consent.rules import may
from maison.core.schema import clients, scores

CHUNK = 500


class ScoreRow(NamedTuple):
    client_id: str
    score: float
    reasons: list[dict[str, Any]]
    data_categories: tuple[str, ...]


class Scorer(Protocol):
    """Scores the given (consenting) clients as of `at`; reads client data only through the gateway."""

    def __call__(self, conn: Connection, client_ids: Sequence[str], at: datetime, /) -> list[ScoreRow]: ...


@dataclass(frozen=True, slots=True)
class StoredScore:
    id: int
    client_id: str
    model: str
    model_version: str
    score: float
    as_of: datetime
    scored_at: datetime
    data_categories: tuple[str, ...]
    reasons: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"score_id": self.id, "model": self.model, "model_version": self.model_version, "score": self.score,
                "as_of": self.as_of.isoformat(), "scored_at": self.scored_at.isoformat(),
                "data_categories": list(self.data_categories), "reasons": self.reasons}


@dataclass(frozen=True, slots=True)
class BatchResult:
    model: str
    model_version: str
    as_of: datetime
    candidates: int  # active clients
    eligible: int  # whose consent allows profiling
    scored: int
    purged: int  # scores deleted because the client objects to profiling


# ---- rules ---------------------------------------------------------------------------------


def profiling_categories(state: ConsentState, categories: Iterable[str]) -> tuple[str, ...]:
    """The declared categories this client's data may be used in for profiling (empty: not scored)."""
    return tuple(c for c in categories if may(state, c, Use.PROFILE))


def servable(state: ConsentState, data_categories: Iterable[str]) -> bool:
    """A stored score is shown or used only while each category it read may still be profiled."""
    used = tuple(data_categories)
    return bool(used) and len(profiling_categories(state, used)) == len(used)


# ---- repository ----------------------------------------------------------------------------


def _stored(row: Any) -> StoredScore:
    return StoredScore(row.id, row.client_id, row.model, row.model_version, float(row.score), row.as_of, row.scored_at,
                       tuple(row.data_categories), list(row.reasons))


def active_clients(conn: Connection) -> list[str]:
    """Clients not merged into another (a merged client's rows follow its survivor)."""
    rows = conn.execute(select(clients.c.id).where(clients.c.merged_into.is_(None)).order_by(clients.c.id))
    return [r[0] for r in rows]


def store(conn: Connection, model: str, model_version: str, rows: Sequence[ScoreRow], *, as_of: datetime,
          scored_at: datetime) -> None:
    """Store a chunk of scores; a re-run of the same version and instant replaces its rows."""
    ids = [r.client_id for r in rows]
    if not ids:
        return
    conn.execute(delete(scores).where(and_(scores.c.model == model, scores.c.model_version == model_version,
                                           scores.c.as_of == as_of, scores.c.client_id.in_(ids))))
    conn.execute(scores.insert(), [
        {"client_id": r.client_id, "model": model, "model_version": model_version, "score": float(r.score),
         "as_of": as_of, "scored_at": scored_at, "data_categories": sorted(r.data_categories),
         "reasons": list(r.reasons)}
        for r in rows
    ])


def latest_stored(conn: Connection, client_id: str, model: str) -> StoredScore | None:
    """The newest stored score, whatever the consent now (for the export: what Maison holds)."""
    row = conn.execute(
        select(scores).where(scores.c.client_id == client_id, scores.c.model == model)
        .order_by(scores.c.as_of.desc(), scores.c.scored_at.desc(), scores.c.id.desc()).limit(1)
    ).first()
    return _stored(row) if row else None


def latest(conn: Connection, client_id: str, model: str, *, now: datetime) -> StoredScore | None:
    """The newest score of this model the client's consent at `now` lets Maison use, else None."""
    found = latest_stored(conn, client_id, model)
    if found is None or not servable(consent.state(conn, client_id, now), found.data_categories):
        return None
    return found


def models_of(conn: Connection, client_id: str) -> list[str]:
    """The models that hold a score of this client."""
    rows = conn.execute(select(scores.c.model).where(scores.c.client_id == client_id).distinct())
    return sorted({r[0] for r in rows})


def latest_for_client(conn: Connection, client_id: str, *, now: datetime) -> list[StoredScore]:
    """The newest servable score of each model, for the client's own view."""
    found = [latest(conn, client_id, m, now=now) for m in models_of(conn, client_id)]
    return [s for s in found if s is not None]


def get(conn: Connection, score_id: int) -> StoredScore | None:
    row = conn.execute(select(scores).where(scores.c.id == score_id)).first()
    return _stored(row) if row else None


def purge_objectors(conn: Connection, client_ids: Sequence[str], *, now: datetime) -> int:
    """Delete every stored score of the clients who object to profiling at `now`."""
    ledger = consent.book(conn, client_ids)
    objecting = [c for c in client_ids if ledger.state(c, now).objects_to_profiling]
    removed = 0
    for start in range(0, len(objecting), CHUNK):
        removed += conn.execute(delete(scores).where(scores.c.client_id.in_(objecting[start : start + CHUNK]))).rowcount
    return removed


# ---- the batch job -------------------------------------------------------------------------


def run_batch(
    conn: Connection,
    *,
    model: str,
    model_version: str,
    scorer: Scorer,
    categories: Sequence[str],
    as_of: datetime,
    now: datetime,
    client_ids: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
) -> BatchResult:
    """Score every active client (or `client_ids`) whose consent allows profiling, chunk by chunk.

    Consent is judged at `as_of` (the data's instant) and at `now` (the processing's): both
    must allow a category for the scorer to see it. `on_progress(done, total)` after each chunk.
    """
    ids = sorted(set(client_ids)) if client_ids is not None else active_clients(conn)
    purged = purge_objectors(conn, ids, now=now)
    ledger = consent.book(conn, ids)
    allowed: dict[str, set[str]] = {}
    for c in ids:
        usable = set(profiling_categories(ledger.state(c, as_of), categories))
        usable &= set(profiling_categories(ledger.state(c, now), categories))
        if usable:
            allowed[c] = usable
    eligible = sorted(allowed)
    scored = 0
    for start in range(0, len(eligible), chunk):
        part = eligible[start : start + chunk]
        rows = scorer(conn, part, as_of)
        for r in rows:
            used = set(r.data_categories)
            if r.client_id not in allowed or not used or not used <= allowed[r.client_id]:
                raise ValueError(f"scorer of {model} returned a score using categories its consent does not allow")
        store(conn, model, model_version, rows, as_of=as_of, scored_at=now)
        scored += len(rows)
        if on_progress is not None:
            on_progress(min(start + chunk, len(eligible)), len(eligible))
    return BatchResult(model, model_version, as_of, len(ids), len(eligible), scored, purged)
