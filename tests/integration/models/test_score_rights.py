"""Scores and what was derived about a client follow the data-subject rights: export, erasure, merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jsonschema
from sqlalchemy import func, select

from maison.consent import service as consent
from maison.core.schema import client_derived, score_reviews
from maison.core.schema import scores as scores_table
from maison.identity import repository as identity_repo
from maison.identity.service import find_client
from maison.models import reviews, scores
from maison.models.scores import ScoreRow
from maison.privacy import erasure, export

from .conftest import AS_OF, seed_store

REASONS = [{"text": "Bought twice in the first month."}]
KEY = b"k"


def setup(engine, n: int = 2, *, seed: int = 21) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        ids = [find_client(conn, u) for u in seed_store(engine, n, seed=seed)]
    with engine.begin() as conn:
        for model, version in (("future_vip", "fv-1"), ("clv", "clv-1")):
            scores.store(conn, model, version, [ScoreRow(c, 0.7, REASONS, ("purchase_history",)) for c in ids],
                         as_of=AS_OF, scored_at=AS_OF)
        for c in ids:
            conn.execute(client_derived.insert().values(client_id=c, kind="cohort", as_of=AS_OF, model_version="seg-1",
                                                        data_categories=["purchase_history"], payload={"cohort": 3},
                                                        computed_at=AS_OF))
            reviews.contest(conn, c, model="future_vip", statement="I disagree.", now=AS_OF + timedelta(hours=1))
    return ids


def counts(engine, table, client_id: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(table.c.client_id == client_id)).scalar_one()


def test_the_export_shows_the_latest_future_value_score_with_version_instant_and_reasons(engine):
    cid, other = setup(engine)
    with engine.begin() as conn:
        scores.store(conn, "future_vip", "fv-2", [ScoreRow(cid, 0.95, [{"text": "newer"}], ("purchase_history",))],
                     as_of=AS_OF + timedelta(days=7), scored_at=AS_OF + timedelta(days=7))
        doc = export.build(conn, cid, now=AS_OF + timedelta(days=8))
    jsonschema.validate(doc, __import__("json").loads(export.SCHEMA_PATH.read_text()))
    score = doc["derived"]["future_value_score"]
    assert (score["model_version"], score["score"], score["served"]) == ("fv-2", 0.95, True)
    assert score["reasons"] == [{"text": "newer"}]
    assert score["as_of"].startswith((AS_OF + timedelta(days=7)).date().isoformat())
    assert sorted(s["model"] for s in doc["derived"]["scores"]) == ["clv", "future_vip"]


def test_the_export_has_no_future_value_score_when_none_was_computed(engine):
    with engine.connect() as conn:
        (cid,) = [find_client(conn, u) for u in seed_store(engine, 1, seed=22)]
    with engine.connect() as conn:
        doc = export.build(conn, cid, now=AS_OF)
    assert doc["derived"]["future_value_score"] is None and doc["derived"]["scores"] == []


def test_the_export_says_a_score_is_no_longer_used_once_the_client_objects(engine):
    cid, _ = setup(engine)
    with engine.begin() as conn:
        consent.update(conn, cid, object_profiling=True, method="dashboard", at=AS_OF + timedelta(days=1))
        doc = export.build(conn, cid, now=AS_OF + timedelta(days=2))
    assert doc["derived"]["future_value_score"]["served"] is False


def test_erasure_removes_scores_reviews_and_derived_rows_of_the_client_only(engine):
    cid, other = setup(engine)
    with engine.begin() as conn:
        erased = erasure.erase(conn, cid, request_id="r1", suppression_key=KEY, now=datetime.now(UTC))
    assert (erased["scores"], erased["score_reviews"], erased["client_derived"]) == (2, 1, 1)
    for table in (scores_table, score_reviews, client_derived):
        assert counts(engine, table, cid) == 0
        assert counts(engine, table, other) > 0


def test_a_merge_moves_scores_and_reviews_to_the_survivor(engine):
    survivor, merged = setup(engine)
    with engine.begin() as conn:
        identity_repo.merge(conn, survivor=survivor, merged=merged, reason="admin", at=AS_OF + timedelta(days=1))
    assert counts(engine, scores_table, merged) == 0 and counts(engine, scores_table, survivor) == 4
    assert counts(engine, score_reviews, survivor) == 2 and counts(engine, client_derived, survivor) == 2
