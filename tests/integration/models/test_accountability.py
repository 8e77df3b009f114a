"""A score is never the only gate: audited decisions, human review, and contesting a score.

Through the HTTP API (client self-service link and admin key) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from maison.access.auth import issue_token
from maison.consent import service as consent
from maison.core.schema import decisions, score_reviews
from maison.identity.service import find_client
from maison.models import accountability, scores
from maison.models.accountability import ScarceUse, ScoreUnavailable
from maison.models.scores import ScoreRow

from .conftest import AS_OF, seed_store

REASONS = [{"text": "Viewed the Atelier collection three times in the first week."}]


def scored(engine, n: int = 2, *, seed: int = 11) -> list[str]:  # type: ignore[no-untyped-def]
    """Clients with a stored future-VIP score each (0.9, 0.8, ...)."""
    with engine.connect() as conn:
        ids = [find_client(conn, u) for u in seed_store(engine, n, seed=seed)]
    with engine.begin() as conn:
        scores.store(conn, "future_vip", "fv-1", [ScoreRow(c, 0.9 - i / 10, REASONS, ("purchase_history",))
                                                  for i, c in enumerate(ids)], as_of=AS_OF, scored_at=AS_OF)
    return ids


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def now() -> datetime:
    return datetime.now(UTC)


def test_a_scarce_grant_records_the_score_and_waits_for_a_reviewer(engine):
    (cid, _) = scored(engine)
    with engine.begin() as conn:
        made = accountability.decide(conn, cid, kind="invitation", model="future_vip", offer="atelier-preview",
                                     now=now())
    assert made.status == "pending"
    with engine.connect() as conn:
        row = conn.execute(select(decisions).where(decisions.c.id == made.decision_id)).one()
        assert [d.decision_id for d in accountability.pending(conn)] == [made.decision_id]
    assert (row.kind, row.model_version, row.reasons, row.data_categories) == ("invitation", "fv-1", REASONS,
                                                                                ["purchase_history"])
    assert row.output["score"] == pytest.approx(0.9) and row.output["offer"] == "atelier-preview"
    with engine.begin() as conn:
        reviewed = accountability.review(conn, made.decision_id, reviewer="head-of-clienteling", approve=True,
                                         note="long-standing client", now=now())
    assert reviewed.status == "approved" and reviewed.output["review"]["reviewer"] == "head-of-clienteling"
    with engine.begin() as conn:
        assert accountability.pending(conn) == []
        with pytest.raises(Exception, match="approved, not pending"):
            accountability.review(conn, made.decision_id, reviewer="x", approve=False, note=None, now=now())


def test_where_no_reviewer_is_configured_the_decision_is_recorded_as_decided(engine):
    (cid, _) = scored(engine)
    uses = {"newsletter_preview": ScarceUse("newsletter_preview", False, "Early newsletter.")}
    with engine.begin() as conn:
        made = accountability.decide(conn, cid, kind="newsletter_preview", model="future_vip", offer="n1", now=now(),
                                     uses=uses)
        assert made.status == "decided" and accountability.pending(conn, uses=uses) == []


def test_a_client_who_objects_to_profiling_cannot_be_selected_by_a_score(engine):
    (cid, _) = scored(engine)
    with engine.begin() as conn:
        consent.update(conn, cid, object_profiling=True, method="api", at=now())
    with engine.begin() as conn, pytest.raises(ScoreUnavailable):
        accountability.decide(conn, cid, kind="invitation", model="future_vip", offer="atelier-preview", now=now())


def test_a_client_sees_the_reasons_of_their_scores_with_their_own_link_only(client, engine, app):
    mine, theirs = scored(engine)
    secret = app.state.maison.settings.token_secret()
    r = client.get(f"/v1/privacy/{mine}/scores", headers=headers(issue_token(secret, mine)))
    assert r.status_code == 200, r.text
    (score,) = r.json()["scores"]
    assert (score["model"], score["model_version"], score["reasons"]) == ("future_vip", "fv-1", REASONS)
    assert score["score"] == pytest.approx(0.9) and score["as_of"].startswith("2026-03-02")
    assert client.get(f"/v1/privacy/{theirs}/scores", headers=headers(issue_token(secret, mine))).status_code == 403
    assert client.get(f"/v1/privacy/{mine}/scores").status_code == 401


def test_a_contested_score_goes_to_the_review_queue_and_a_correction_is_served(client, engine, app, admin_key):
    (cid, _) = scored(engine)
    token = issue_token(app.state.maison.settings.token_secret(), cid)
    r = client.post(f"/v1/privacy/{cid}/scores/future_vip/reviews", json={"statement": "I only buy gifts once a year."},
                    headers=headers(token))
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["status"] == "open" and review["score_id"] is not None
    assert client.get("/v1/models/reviews", headers=headers(token)).status_code == 403  # clients do not review
    queue = client.get("/v1/models/reviews", headers=headers(admin_key)).json()["reviews"]
    assert [q["id"] for q in queue] == [review["id"]] and queue[0]["score"]["reasons"] == REASONS
    resolved = client.post(f"/v1/models/reviews/{review['id']}/resolution", headers=headers(admin_key),
                           json={"status": "corrected", "resolution": "Gift purchases weighed too much.",
                                 "corrected_score": 0.3})
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["reviewer"]) == ("corrected", "admin")
    mine = client.get(f"/v1/privacy/{cid}/scores", headers=headers(token)).json()
    assert mine["scores"][0]["score"] == pytest.approx(0.3)
    assert mine["scores"][0]["model_version"] == f"review-{review['id']}"
    assert "Gift purchases weighed too much." in mine["scores"][0]["reasons"][0]["text"]
    assert mine["reviews"][0]["status"] == "corrected"
    assert client.get("/v1/models/reviews", headers=headers(admin_key)).json()["reviews"] == []
    again = client.post(f"/v1/models/reviews/{review['id']}/resolution", headers=headers(admin_key),
                        json={"status": "upheld", "resolution": "no"})
    assert again.status_code == 409


def test_an_upheld_review_keeps_the_score_and_explains_why(client, engine, admin_key):
    (cid, _) = scored(engine)
    opened = client.post(f"/v1/privacy/{cid}/scores/future_vip/reviews", json={"statement": "Why me?"},
                         headers=headers(admin_key)).json()
    bad = client.post(f"/v1/models/reviews/{opened['id']}/resolution", headers=headers(admin_key),
                      json={"status": "upheld", "resolution": "ok", "corrected_score": 0.1})
    assert bad.status_code == 400 and bad.json()["details"]["field"] == "corrected_score"
    client.post(f"/v1/models/reviews/{opened['id']}/resolution", headers=headers(admin_key),
                json={"status": "upheld", "resolution": "Your early visits to the Atelier pages drive it."})
    with engine.connect() as conn:
        row = conn.execute(select(score_reviews)).one()
        assert (row.status, row.resolution) == ("upheld", "Your early visits to the Atelier pages drive it.")
        assert scores.latest(conn, cid, "future_vip", now=now()).model_version == "fv-1"  # type: ignore[union-attr]


def test_there_is_nothing_to_contest_without_a_score(client, engine, admin_key):
    (cid, _) = scored(engine)
    r = client.post(f"/v1/privacy/{cid}/scores/churn/reviews", json={"statement": "?"}, headers=headers(admin_key))
    assert r.status_code == 404
    empty = client.post(f"/v1/privacy/{cid}/scores/future_vip/reviews", json={"statement": ""},
                        headers=headers(admin_key))
    assert empty.status_code == 422


def test_pending_decisions_are_reviewed_over_http(client, engine, admin_key):
    (cid, _) = scored(engine)
    with engine.begin() as conn:
        made = accountability.decide(conn, cid, kind="early_access", model="future_vip", offer="LE-7",
                                     now=now() - timedelta(minutes=1))
    listed = client.get("/v1/models/decisions/pending", headers=headers(admin_key)).json()["decisions"]
    assert [(d["decision_id"], d["status"], d["output"]["offer"]) for d in listed] == [
        (made.decision_id, "pending", "LE-7")]
    r = client.post(f"/v1/models/decisions/{made.decision_id}/review", json={"approve": False, "note": "stock is gone"},
                    headers=headers(admin_key))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert client.get("/v1/models/decisions/pending", headers=headers(admin_key)).json()["decisions"] == []
    # the client's "why" view lists the decision and the person's review
    why = client.get(f"/v1/privacy/{cid}/decisions", headers=headers(admin_key)).json()["decisions"]
    kinds = [d["kind"] for d in why]
    assert sorted(kinds) == ["early_access", "human_review"]
