"""Contesting a score (GDPR Art. 22(3)): the client states why, a person reviews it.

A review points to the score the client saw. It is `open` until a reviewer resolves it as
`upheld` (the score stands, with the reviewer's explanation) or `corrected`: the reviewer's
value is stored as a new score of the model, version `review-<id>`, with the resolution as its
reason, so the corrected value is what is served until the model scores the client again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from maison.core.errors import BadRequest, Conflict, NotFound
from maison.core.schema import score_reviews
from maison.models import scores

STATUSES = ("open", "upheld", "corrected")
MAX_STATEMENT = 4000


def _dict(row: Any) -> dict[str, Any]:
    doc = dict(row._mapping)
    for key in ("opened_at", "resolved_at"):
        doc[key] = doc[key].isoformat() if doc[key] else None
    return doc


def contest(conn: Connection, client_id: str, *, model: str, statement: str, now: datetime) -> dict[str, Any]:
    """Open a review of the client's current score of `model`."""
    text = statement.strip()
    if not text or len(text) > MAX_STATEMENT:
        raise BadRequest(f"the statement must be 1 to {MAX_STATEMENT} characters", details={"field": "statement"})
    score = scores.latest(conn, client_id, model, now=now)
    if score is None:
        raise NotFound(f"there is no {model} score to contest", details={"model": model})
    result = conn.execute(score_reviews.insert().values(
        client_id=client_id, model=model, score_id=score.id, statement=text, status="open", opened_at=now,
    ))
    pk = result.inserted_primary_key
    assert pk is not None
    return get(conn, int(pk[0]))


def get(conn: Connection, review_id: int) -> dict[str, Any]:
    row = conn.execute(select(score_reviews).where(score_reviews.c.id == review_id)).first()
    if row is None:
        raise NotFound("no score review with this id")
    return _dict(row)


def for_client(conn: Connection, client_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(score_reviews).where(score_reviews.c.client_id == client_id)
        .order_by(score_reviews.c.opened_at, score_reviews.c.id)
    )
    return [_dict(r) for r in rows]


def queue(conn: Connection, *, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
    """Reviews in a status, oldest first (the reviewers' queue)."""
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}", details={"field": "status"})
    rows = conn.execute(
        select(score_reviews).where(score_reviews.c.status == status)
        .order_by(score_reviews.c.opened_at, score_reviews.c.id).limit(limit)
    )
    found = []
    for r in rows:
        doc = _dict(r)
        contested = scores.get(conn, r.score_id) if r.score_id is not None else None
        doc["score"] = contested.to_dict() if contested else None
        found.append(doc)
    return found


def resolve(
    conn: Connection, review_id: int, *, status: str, reviewer: str, resolution: str, now: datetime,
    corrected_score: float | None = None,
) -> dict[str, Any]:
    """Close an open review as upheld or corrected (a correction needs the corrected value)."""
    if status not in ("upheld", "corrected"):
        raise BadRequest("status must be upheld or corrected", details={"field": "status"})
    if not resolution.strip():
        raise BadRequest("a resolution explains the outcome to the client", details={"field": "resolution"})
    if (status == "corrected") != (corrected_score is not None):
        raise BadRequest("corrected_score is required for, and only for, a correction",
                         details={"field": "corrected_score"})
    review = get(conn, review_id)
    if review["status"] != "open":
        raise Conflict(f"this review is {review['status']} already")
    if corrected_score is not None:
        contested = scores.get(conn, review["score_id"]) if review["score_id"] is not None else None
        if contested is None:
            raise Conflict("the contested score no longer exists; it cannot be corrected")
        reason = {"text": f"Corrected by a person after your request: {resolution.strip()}", "review_id": review_id}
        scores.store(conn, contested.model, f"review-{review_id}",
                     [scores.ScoreRow(contested.client_id, corrected_score, [reason], contested.data_categories)],
                     as_of=contested.as_of, scored_at=now)
    conn.execute(update(score_reviews).where(score_reviews.c.id == review_id).values(
        status=status, reviewer=reviewer, resolution=resolution.strip(), resolved_at=now,
    ))
    return get(conn, review_id)
