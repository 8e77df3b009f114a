"""A score is never the only gate to something scarce.

A decision that uses a score to grant something scarce (an invitation, early access) goes
through `decide`: it records, in the decision audit (`maison.privacy.decisions`), the score, its
reasons, the model version and the data categories it read, and, where the use requires it, the
decision stays *pending* until a person approves or rejects it (`review`). The review is a row
of its own (kind `human_review`) pointing to the decision: the audit is appended to, never edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from maison.core.errors import Conflict, NotFound
from maison.core.schema import decisions
from maison.models import scores
from maison.privacy import decisions as audit

REVIEW_KIND = "human_review"


@dataclass(frozen=True, slots=True)
class ScarceUse:
    """A use of a score to grant something scarce, and whether a person must approve each grant."""

    kind: str
    reviewer_required: bool
    description: str


# Configuration: which scarce uses exist and which need a person. A maison may relax or add
# uses by passing its own mapping; the defaults require a reviewer for both.
SCARCE_USES: dict[str, ScarceUse] = {
    "invitation": ScarceUse("invitation", True, "An invitation to a private event or a collection preview."),
    "early_access": ScarceUse("early_access", True, "Early access to a limited edition."),
}


class ScoreUnavailable(NotFound):
    code = "score_unavailable"


@dataclass(frozen=True, slots=True)
class ScoreDecision:
    decision_id: int
    client_id: str
    kind: str
    status: str  # pending | approved | rejected | decided (no reviewer required)
    output: dict[str, Any]


def decide(
    conn: Connection, client_id: str, *, kind: str, model: str, offer: str, now: datetime,
    uses: dict[str, ScarceUse] | None = None,
) -> ScoreDecision:
    """Record a score-based grant of `offer` to the client; pending when the use needs a reviewer.

    Only a score the client's consent still lets Maison use can back a decision: a client who
    objects to profiling cannot be selected by a score at all."""
    use = (uses or SCARCE_USES).get(kind)
    if use is None:
        raise NotFound(f"unknown scarce use {kind!r}; configured: {', '.join(sorted(uses or SCARCE_USES))}")
    score = scores.latest(conn, client_id, model, now=now)
    if score is None:
        raise ScoreUnavailable(f"no usable {model} score for this client: a score-based {kind} cannot be made",
                               details={"model": model})
    status = "pending" if use.reviewer_required else "decided"
    output = {"offer": offer, "status": status, "reviewer_required": use.reviewer_required, "model": model,
              "score_id": score.id, "score": score.score, "score_as_of": score.as_of.isoformat()}
    decision_id = audit.record(conn, client_id=client_id, kind=kind, model_version=score.model_version,
                               data_categories=score.data_categories, reasons=score.reasons, output=output, at=now)
    return ScoreDecision(decision_id, client_id, kind, status, output)


def _reviews_of(conn: Connection, decision_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(select(decisions.c.output).where(decisions.c.kind == REVIEW_KIND)).all()
    found: dict[int, dict[str, Any]] = {}
    for (output,) in rows:
        if output.get("decision_id") in decision_ids:
            found[int(output["decision_id"])] = dict(output)
    return found


def status(conn: Connection, decision_id: int) -> ScoreDecision:
    row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).first()
    if row is None or "reviewer_required" not in (row.output or {}):
        raise NotFound("no score-based decision with this id")
    output = dict(row.output)
    reviewed = _reviews_of(conn, [decision_id]).get(decision_id)
    current = reviewed["status"] if reviewed else output["status"]
    return ScoreDecision(row.id, row.client_id, row.kind, current, {**output, "review": reviewed})


def pending(conn: Connection, *, uses: dict[str, ScarceUse] | None = None) -> list[ScoreDecision]:
    """Score-based decisions still waiting for a reviewer, oldest first."""
    rows = conn.execute(
        select(decisions).where(decisions.c.kind.in_(sorted(uses or SCARCE_USES)))
        .order_by(decisions.c.decided_at, decisions.c.id)
    ).all()
    waiting = [r for r in rows if isinstance(r.output, dict) and r.output.get("status") == "pending"]
    reviewed = _reviews_of(conn, [r.id for r in waiting])
    return [ScoreDecision(r.id, r.client_id, r.kind, "pending", dict(r.output))
            for r in waiting if r.id not in reviewed]


def review(
    conn: Connection, decision_id: int, *, reviewer: str, approve: bool, note: str | None, now: datetime,
) -> ScoreDecision:
    """A person approves or rejects a pending decision; recorded next to it in the audit."""
    current = status(conn, decision_id)
    if current.status != "pending":
        raise Conflict(f"this decision is {current.status}, not pending review")
    verdict = "approved" if approve else "rejected"
    audit.record(conn, client_id=current.client_id, kind=REVIEW_KIND, model_version="human",
                 data_categories=(), reasons=[{"text": note}] if note else [],
                 output={"decision_id": decision_id, "status": verdict, "reviewer": reviewer}, at=now)
    return status(conn, decision_id)
