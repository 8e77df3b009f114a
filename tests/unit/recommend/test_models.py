"""The recommendation models' core on tiny synthetic matrices: pure, no I/O, seconds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from maison.recommend.collaborative import ItemItem
from maison.recommend.content import ContentSimilarity, ItemAttributes, item_features, price_bands
from maison.recommend.hybrid import HybridRanker
from maison.recommend.log import EventLog, Kind
from maison.recommend.metrics import ranking_metrics
from maison.recommend.ranking import top_k
from maison.recommend.similarity import bm25_weight


def test_items_bought_together_are_each_others_nearest_neighbours() -> None:
    x = sparse.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0], [0, 0, 1, 1]]))
    model = ItemItem(neighbors=2, shrink=0.0).fit(x)
    assert model.neighbours(0, 1)[0][0] == 1
    assert model.neighbours(2, 1)[0][0] == 3
    assert model.similarity_[0, 0] == 0  # never its own neighbour


def test_shrinkage_ranks_a_pair_seen_once_below_a_pair_seen_often() -> None:
    rows = [[1, 1, 0, 0, 0]] * 20 + [[0, 0, 1, 1, 0]] + [[0, 0, 0, 0, 1]] * 80
    model = ItemItem(neighbors=3, shrink=5.0).fit(sparse.csr_matrix(np.array(rows)))
    assert model.similarity_[0, 1] > model.similarity_[2, 3] > 0


def test_bm25_damps_repeats_and_ubiquitous_items() -> None:
    x = sparse.csr_matrix(np.array([[1.0, 10.0], [1.0, 0.0], [1.0, 0.0]]))
    w = bm25_weight(x).toarray()
    assert w[0, 1] < 10 * w[1, 0] or w[0, 0] < w[0, 1]
    assert w[0, 1] / 10 < w[0, 0] + w[0, 1]  # ten purchases weigh less than ten times one


def test_a_new_item_without_interactions_gets_content_neighbours() -> None:
    items = [ItemAttributes("a", "Knitwear", "Cardigans", ("artisan",), ("cashmere",), "Atelier X", price=500),
             ItemAttributes("b", "Knitwear", "Cardigans", ("artisan",), ("cashmere",), "Atelier X", price=520),
             ItemAttributes("c", "Home", "Vases", ("minimal",), ("ceramic",), "Studio Y", price=90)]
    sim = ContentSimilarity(neighbors=1).fit(item_features(items)).similarity_
    assert sim[0].indices.tolist() == [1] and sim[1].indices.tolist() == [0]


def test_price_bands_are_quantiles_within_a_category() -> None:
    items = [ItemAttributes(str(i), "Knitwear", price=float(p)) for i, p in enumerate([100, 200, 300, 400, 500])]
    assert price_bands(items) == [0, 1, 2, 3, 4]
    assert price_bands([ItemAttributes("x", "Home")]) == [None]


def test_top_k_never_returns_an_excluded_item_and_breaks_ties_by_index() -> None:
    scores = np.array([[0.5, 0.5, 0.9, 0.1]])
    assert top_k(scores, 3).tolist() == [[2, 0, 1]]
    assert top_k(scores, 3, exclude=sparse.csr_matrix(np.array([[0, 0, 1, 0]]))).tolist() == [[0, 1, 3]]


def test_metrics_count_hits_against_the_relevant_items_only() -> None:
    relevant = sparse.csr_matrix(np.array([[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]]))
    recs = np.array([[1, 2], [0, 1], [3, 4]])
    m = ranking_metrics(recs, relevant, [0, 1, 2], k=2)
    assert m["users"] == 2  # the user with nothing relevant is not counted
    assert m["recall"] == pytest.approx(0.25) and m["hit_rate"] == pytest.approx(0.5)
    assert m["ndcg"] == pytest.approx(0.5 * (1.0 / (1.0 + 1 / np.log2(3))))


def _clustered_log(seed: int = 3) -> tuple[EventLog, float]:
    """Two taste clusters over 40 items: users view and buy mostly inside their cluster's half."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(300):
        half = u % 2
        for _ in range(30):
            item = int(rng.integers(0, 20)) + 20 * half if rng.random() < 0.9 else int(rng.integers(0, 40))
            day = float(rng.uniform(0, 120))
            kind = Kind.PURCHASE if rng.random() < 0.25 else Kind.VIEW
            rows.append((f"u{u}", f"i{item:02d}", kind, day, 1.0))
    return EventLog.build(rows, items=[f"i{i:02d}" for i in range(40)]), 90.0


def test_the_hybrid_ranker_beats_popularity_on_clustered_tastes() -> None:
    log, t0 = _clustered_log()
    ranker = HybridRanker(horizon=30.0, candidates=40, n_estimators=30, min_child_samples=10, threads=1,
                          exclude_seen=True).fit(log, at=t0 - 30.0)
    truth = log.between(t0 - 30.0, t0).of_kind(Kind.PURCHASE).matrix()
    seen = log.before(t0 - 30.0).of_kind(Kind.PURCHASE).matrix()
    truth = sparse.csr_matrix(truth - truth.multiply(seen > 0))
    truth.eliminate_zeros()
    users = np.flatnonzero(np.diff(truth.indptr))
    ours = ranking_metrics(ranker.recommend(users, 10), truth, users, k=10)
    popular = np.argsort(-np.asarray((log.before(t0 - 30).of_kind(Kind.PURCHASE).matrix() > 0).sum(axis=0)).ravel(),
                         kind="stable")
    pop = top_k(np.tile(-np.argsort(popular).astype(float), (users.size, 1)), 10, exclude=seen[users])
    assert ours["recall"] > ranking_metrics(pop, truth, users, k=10)["recall"] + 0.05


def test_events_after_the_fit_instant_change_nothing() -> None:
    log, t0 = _clustered_log()
    later = EventLog(log.users, log.items, np.r_[log.user, 0], np.r_[log.item, 39].astype(np.int32),
                     np.r_[log.kind, int(Kind.PURCHASE)].astype(np.int8), np.r_[log.day, t0 + 1.0],
                     np.r_[log.quantity, 1.0].astype(np.float32))
    params = {"horizon": 30.0, "candidates": 40, "n_estimators": 20, "min_child_samples": 10, "threads": 1}
    a = HybridRanker(**params).fit(log, at=t0).recommend(np.arange(20), 5)
    b = HybridRanker(**params).fit(later, at=t0).recommend(np.arange(20), 5)
    assert (a == b).all()


def test_a_shop_too_small_to_learn_from_uses_the_fixed_blend_and_still_ranks() -> None:
    rows = [("a", "x", Kind.VIEW, 1.0, 1.0), ("a", "y", Kind.PURCHASE, 2.0, 1.0), ("b", "x", Kind.VIEW, 3.0, 1.0),
            ("b", "y", Kind.PURCHASE, 40.0, 1.0)]
    ranker = HybridRanker(horizon=28.0).fit(EventLog.build(rows, items=["x", "y", "z"]), at=50.0)
    assert ranker.ranker_ is None and ranker.importances() == {}
    assert ranker.recommend(np.array([0, 1]), 2).shape == (2, 2)


def test_a_served_model_holds_no_client_rows_and_scores_clients_from_their_own_history() -> None:
    log, t0 = _clustered_log()
    ranker = HybridRanker(horizon=30.0, candidates=40, n_estimators=20, min_child_samples=10).fit(log, at=t0)
    before = ranker.recommend(np.arange(30), 5)
    ranker.forget_users()
    assert ranker.base_.engagement.shape[0] == 0 and ranker.base_.purchases.nnz == 0
    assert (ranker.recommend(np.arange(30), 5, history=log.before(t0)) == before).all()


def test_a_log_built_on_a_served_models_item_index_is_the_log_built_without_it() -> None:
    items = ("x", "y", "z")
    rows = [("u", "z", Kind.VIEW, 1.0, 1.0), ("u", "x", Kind.PURCHASE, 2.0, 2.0)]
    plain = EventLog.build(rows, users=["u"], items=items)
    indexed = EventLog.build(rows, users=["u"], items=items, item_index={p: i for i, p in enumerate(items)})
    assert indexed.items == plain.items and (indexed.item == plain.item).all() and (indexed.item == [2, 0]).all()
    assert (indexed.matrix().toarray() == plain.matrix().toarray()).all()
    with pytest.raises(ValueError, match="rows name only those"):  # the index is not extended
        EventLog.build([("u", "w", Kind.VIEW, 1.0, 1.0)], users=["u"], items=items, item_index={"x": 0, "y": 1, "z": 2})
    with pytest.raises(ValueError, match="position of each of items"):
        EventLog.build(rows, users=["u"], items=items, item_index={"x": 0, "z": 2})
