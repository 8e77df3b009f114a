"""Batch scoring under consent, and serving the latest score only while consent allows it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from maison.consent import service as consent
from maison.core.schema import scores as scores_table
from maison.identity.service import find_client
from maison.models import scores
from maison.models.scores import ScoreRow

from .conftest import AS_OF, seed_store

NOW = AS_OF + timedelta(hours=3)
CATS = ("purchase_history", "browsing_behaviour")


class Recorder:
    """A scorer that scores each client by its position and says which categories it used."""

    def __init__(self, categories: tuple[str, ...] = ("purchase_history",)) -> None:
        self.seen: list[str] = []
        self.categories = categories

    def __call__(self, conn, client_ids: Sequence[str], at: datetime) -> list[ScoreRow]:  # type: ignore[no-untyped-def]
        self.seen += client_ids
        return [ScoreRow(c, float(i), [{"text": f"reason {i}"}], self.categories) for i, c in enumerate(client_ids)]


def client_ids(engine, users):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [find_client(conn, u) for u in users]


def run(engine, scorer, *, version="v1", now=NOW, ids=None):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return scores.run_batch(conn, model="toy", model_version=version, scorer=scorer, categories=CATS, as_of=AS_OF,
                                now=now, client_ids=ids, chunk=4)


def change(engine, client_id: str, at: datetime, **flags):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        consent.update(conn, client_id, method="api", at=at, **flags)


def test_only_clients_whose_consent_allows_profiling_are_scored(engine):
    ids = client_ids(engine, seed_store(engine, 10, seed=2))
    objector, restricted, withdrawn = ids[:3]
    change(engine, objector, AS_OF - timedelta(days=1), object_profiling=True)
    change(engine, restricted, AS_OF - timedelta(days=1), restriction=True)
    change(engine, withdrawn, AS_OF - timedelta(days=1),
           purposes={"purchase_history": False, "browsing_behaviour": False})
    scorer = Recorder()
    progress: list[tuple[int, int]] = []
    with engine.begin() as conn:
        result = scores.run_batch(conn, model="toy", model_version="v1", scorer=scorer, categories=CATS, as_of=AS_OF,
                                  now=NOW, chunk=4, on_progress=lambda d, t: progress.append((d, t)))
    assert sorted(scorer.seen) == sorted(ids[3:])
    assert (result.candidates, result.eligible, result.scored) == (10, 7, 7)
    assert progress == [(4, 7), (7, 7)]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(scores_table)).scalar_one() == 7


def test_a_client_who_objects_after_being_scored_is_no_longer_served_and_the_next_run_deletes_it(engine):
    ids = client_ids(engine, seed_store(engine, 3, seed=3))
    run(engine, Recorder())
    with engine.connect() as conn:
        before = scores.latest(conn, ids[0], "toy", now=NOW)
    assert before is not None and before.model_version == "v1" and before.reasons
    change(engine, ids[0], NOW + timedelta(minutes=1), object_profiling=True)
    later = NOW + timedelta(minutes=2)
    with engine.connect() as conn:
        assert scores.latest(conn, ids[0], "toy", now=later) is None  # hidden at once
        assert scores.latest_stored(conn, ids[0], "toy") is not None  # still held until the next run
    result = run(engine, Recorder(), now=later)
    assert result.purged == 1 and result.scored == 2
    with engine.connect() as conn:
        assert scores.latest_stored(conn, ids[0], "toy") is None


def test_a_restricted_client_s_scores_are_hidden_but_kept(engine):
    ids = client_ids(engine, seed_store(engine, 2, seed=4))
    run(engine, Recorder())
    change(engine, ids[0], NOW + timedelta(minutes=1), restriction=True)
    later = NOW + timedelta(minutes=2)
    assert run(engine, Recorder(), now=later).purged == 0
    with engine.connect() as conn:
        assert scores.latest(conn, ids[0], "toy", now=later) is None
        assert scores.latest_stored(conn, ids[0], "toy") is not None


def test_withdrawing_a_category_a_score_used_hides_that_score(engine):
    ids = client_ids(engine, seed_store(engine, 2, seed=5))
    run(engine, Recorder(("purchase_history", "browsing_behaviour")))
    change(engine, ids[0], NOW + timedelta(minutes=1), purposes={"browsing_behaviour": False})
    with engine.connect() as conn:
        assert scores.latest(conn, ids[0], "toy", now=NOW + timedelta(minutes=2)) is None
        assert scores.latest(conn, ids[1], "toy", now=NOW + timedelta(minutes=2)) is not None


def test_a_scorer_that_uses_a_category_the_client_does_not_allow_is_stopped(engine):
    seed_store(engine, 2, seed=6)
    with pytest.raises(ValueError, match="consent does not allow"):
        run(engine, Recorder(("purchase_history", "search_history")))


def test_the_latest_score_is_the_newest_data_instant_and_a_rerun_replaces_its_rows(engine):
    ids = client_ids(engine, seed_store(engine, 2, seed=7))
    run(engine, Recorder())
    run(engine, Recorder())  # the same version and instant again
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(scores_table)).scalar_one() == 2
        scores.store(conn, "toy", "v2", [ScoreRow(ids[0], 9.5, [{"text": "newer"}], ("purchase_history",))],
                     as_of=AS_OF + timedelta(days=1), scored_at=NOW)
    with engine.connect() as conn:
        latest = scores.latest(conn, ids[0], "toy", now=NOW)
        mine = scores.latest_for_client(conn, ids[0], now=NOW)
    assert latest is not None and (latest.model_version, latest.score) == ("v2", 9.5)
    assert [s.to_dict()["model_version"] for s in mine] == ["v2"]


def test_clients_merged_into_another_are_not_scored_twice(engine):
    ids = client_ids(engine, seed_store(engine, 3, seed=8))
    from maison.identity import repository as identity_repo

    with engine.begin() as conn:
        identity_repo.merge(conn, survivor=ids[0], merged=ids[1], reason="admin", at=NOW - timedelta(days=1))
        assert scores.active_clients(conn) == sorted([ids[0], ids[2]])


def test_the_profiling_rule_is_the_consent_policy():
    from maison.consent.entities import ConsentState, PurposeState

    granted = {p: PurposeState(True, datetime(2026, 1, 1, tzinfo=UTC)) for p in CATS}
    assert scores.profiling_categories(ConsentState(purposes=granted), CATS) == CATS
    assert scores.profiling_categories(ConsentState(purposes=granted, objects_to_profiling=True), CATS) == ()
    assert scores.profiling_categories(ConsentState(purposes=granted, restricted=True), CATS) == ()
    assert not scores.servable(ConsentState(purposes=granted), ())
