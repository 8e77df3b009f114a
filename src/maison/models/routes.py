"""Scores over HTTP: a client sees their scores' reasons and contests them; admins review.

Client-facing routes sit next to the other privacy rights (`/v1/privacy/{identifier}/...`,
reached with the client's signed link or an admin key); the reviewers' queue and pending
score-based decisions are admin routes under `/v1/models`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from maison.access.auth import Caller, audit_read, authorize_client, require_admin
from maison.core.clock import utcnow
from maison.identity.service import find_client
from maison.models import accountability, reviews, scores

router = APIRouter(tags=["models"])


class Contest(BaseModel):
    statement: str = Field(min_length=1, max_length=reviews.MAX_STATEMENT, description="Why the client disagrees.")


class Resolution(BaseModel):
    status: str = Field(description="upheld or corrected")
    resolution: str = Field(min_length=1, description="The explanation given to the client.")
    corrected_score: float | None = Field(None, description="The corrected value (corrections only).")


class Verdict(BaseModel):
    approve: bool
    note: str | None = None


@router.get("/v1/privacy/{identifier}/scores")
def my_scores(identifier: str, request: Request, caller: Caller) -> dict[str, Any]:
    """The client's current scores with their reasons and model versions, and their reviews."""
    now = utcnow()
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        audit_read(conn, caller, client_id, "scores", at=now)
        return {
            "client_id": client_id,
            "scores": [s.to_dict() for s in scores.latest_for_client(conn, client_id, now=now)],
            "reviews": reviews.for_client(conn, client_id),
        }


@router.post("/v1/privacy/{identifier}/scores/{model}/reviews", status_code=201)
def contest(
    identifier: str, model: str, request: Request, caller: Caller, body: Annotated[Contest, Body()],
) -> dict[str, Any]:
    """Contest the current score of a model: a person will review it."""
    with request.app.state.maison.engine.begin() as conn:
        client_id = find_client(conn, identifier)
        authorize_client(caller, client_id)
        return reviews.contest(conn, client_id, model=model, statement=body.statement, now=utcnow())


@router.get("/v1/models/reviews")
def review_queue(request: Request, caller: Caller, status: Annotated[str, Query()] = "open",
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """Admin: contested scores in a status (open by default), oldest first."""
    require_admin(caller)
    with request.app.state.maison.engine.begin() as conn:
        return {"reviews": reviews.queue(conn, status=status, limit=limit)}


@router.post("/v1/models/reviews/{review_id}/resolution")
def resolve(review_id: int, request: Request, caller: Caller, body: Annotated[Resolution, Body()]) -> dict[str, Any]:
    """Admin: uphold or correct a contested score; the reviewer is the caller's key name."""
    require_admin(caller)
    with request.app.state.maison.engine.begin() as conn:
        return reviews.resolve(conn, review_id, status=body.status, reviewer=caller.actor, resolution=body.resolution,
                               corrected_score=body.corrected_score, now=utcnow())


@router.get("/v1/models/decisions/pending")
def pending_decisions(request: Request, caller: Caller) -> dict[str, Any]:
    """Admin: score-based grants (invitations, early access) waiting for a person."""
    require_admin(caller)
    with request.app.state.maison.engine.begin() as conn:
        return {"decisions": [_decision(d) for d in accountability.pending(conn)]}


@router.post("/v1/models/decisions/{decision_id}/review")
def review_decision(
    decision_id: int, request: Request, caller: Caller, body: Annotated[Verdict, Body()],
) -> dict[str, Any]:
    """Admin: approve or reject a pending score-based decision."""
    require_admin(caller)
    with request.app.state.maison.engine.begin() as conn:
        return _decision(accountability.review(conn, decision_id, reviewer=caller.actor, approve=body.approve,
                                               note=body.note, now=utcnow()))


def _decision(d: accountability.ScoreDecision) -> dict[str, Any]:
    return {"decision_id": d.decision_id, "client_id": d.client_id, "kind": d.kind, "status": d.status,
            "output": d.output}
