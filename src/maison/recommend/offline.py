"""The offline evaluation protocol of `maison eval recs`: one time split, every model, same rules.

For a data set with test window `[t0, t1)`:
- every model is fitted on events before t0 only (Maison's ranker learns its weights on the
  window `[t0 - horizon, t0)` inside that history);
- hyper-parameters (Maison's and ALS's) are chosen on a validation split that ends at t0:
  models fitted before `t0 - horizon`, scored on purchases in `[t0 - horizon, t0)`; the test
  window is never looked at until the final scoring;
- variant "all": the truth is every item a user bought in the test window; variant "new": the
  items they had not bought before t0, and no model may recommend an item they had bought;
- users are those with at least one relevant item; metrics at k (default 10).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse

from maison.recommend.baselines import ImplicitALS, Popularity, Repurchase
from maison.recommend.content import item_features
from maison.recommend.datasets import Dataset
from maison.recommend.hybrid import HybridRanker
from maison.recommend.log import Kind
from maison.recommend.metrics import ranking_metrics
from maison.recommend.ranking import top_k

VARIANTS = ("all", "new")
MAISON = "maison hybrid"
BASELINES = ("popularity", "repurchase", "implicit ALS")
_BATCH = 512


class Scorer(Protocol):
    def scores(self, users: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]: ...


@dataclass
class Result:
    dataset: str
    variant: str
    model: str
    metrics: dict[str, float]
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, dict[str, float]] = field(default_factory=dict)


def _truth(ds: Dataset, *, start: float, end: float, variant: str) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """(relevant, seen): purchases in `[start, end)`, and purchases before `start` (both users x truth items)."""
    bought = ds.truth.of_kind(Kind.PURCHASE)
    relevant = bought.between(start, end).matrix()
    seen = bought.before(start).matrix()
    if variant == "new":
        relevant = relevant - relevant.multiply(seen > 0)
        relevant.eliminate_zeros()
    return sparse.csr_matrix(relevant), sparse.csr_matrix(seen)


def _recommend_scores(model: Scorer, users: npt.NDArray[np.int64], k: int, exclude: sparse.csr_matrix | None
                      ) -> npt.NDArray[np.int64]:
    out = []
    for s in range(0, users.size, _BATCH):
        batch = users[s : s + _BATCH]
        out.append(top_k(model.scores(batch), k, exclude=None if exclude is None else exclude[batch]))
    return np.vstack(out) if out else np.empty((0, k), np.int64)


def _model_seen(ds: Dataset, seen: sparse.csr_matrix) -> sparse.csr_matrix:
    return sparse.csr_matrix(seen[:, : ds.log.n_items])


def evaluate_at(ds: Dataset, *, start: float, end: float, variant: str, k: int, maison: Mapping[str, Any],
                als: Mapping[str, Any], features: sparse.csr_matrix, only: Sequence[str] | None = None,
                ) -> list[Result]:
    """Fit every model on events before `start`, score them on `[start, end)`."""
    relevant, seen = _truth(ds, start=start, end=end, variant=variant)
    users = np.flatnonzero(np.diff(relevant.indptr)).astype(np.int64)
    exclude = _model_seen(ds, seen) if variant == "new" else None
    history = ds.log.before(start)
    results = []
    builders: dict[str, Callable[[], Any]] = {
        "popularity": lambda: Popularity().fit(history, at=start),
        "repurchase": lambda: Repurchase().fit(history, at=start),
        "implicit ALS": lambda: ImplicitALS(**als).fit(history, at=start),
        MAISON: lambda: HybridRanker(exclude_seen=variant == "new", horizon=ds.horizon, **maison).fit(
            history, at=start, item_features=features, item_categories=[it.category for it in ds.items]),
    }
    for name, build in builders.items():
        if only is not None and name not in only:
            continue
        t = time.perf_counter()
        model = build()
        recs = model.recommend(users, k) if name == MAISON else _recommend_scores(model, users, k, exclude)
        metrics = ranking_metrics(recs, relevant, users, k=k)
        groups = {g: ranking_metrics(recs[np.isin(users, members)], relevant, users[np.isin(users, members)], k=k)
                  for g, members in ds.groups.items()}
        params = dict(maison) if name == MAISON else dict(als) if name == "implicit ALS" else {}
        if name == MAISON:
            params["importances"] = model.importances()
        results.append(Result(ds.name, variant, name, metrics, time.perf_counter() - t, params, groups))
    return results


def tune(ds: Dataset, *, variant: str, k: int, features: sparse.csr_matrix, maison_grid: Sequence[Mapping[str, Any]],
         als_grid: Sequence[Mapping[str, Any]], say: Callable[[str], None]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Best Maison and ALS settings by NDCG@k on the validation window `[t0 - horizon, t0)`."""
    end = ds.test_start
    start = end - ds.horizon

    def best(name: str, grid: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        scored: list[tuple[float, int, dict[str, Any]]] = []
        for params in grid:
            maison = params if name == MAISON else maison_grid[0]
            als = params if name == "implicit ALS" else als_grid[0]
            [r] = evaluate_at(ds, start=start, end=end, variant=variant, k=k, maison=maison, als=als,
                              features=features, only=[name])
            say(f"    validation {variant:<3} {name:<13} {dict(params)}: NDCG@{k} {r.metrics['ndcg']:.4f}")
            scored.append((r.metrics["ndcg"], -len(scored), dict(params)))
        return max(scored)[2]

    als = best("implicit ALS", als_grid) if len(als_grid) > 1 else dict(als_grid[0])
    maison = best(MAISON, maison_grid) if len(maison_grid) > 1 else dict(maison_grid[0])
    return maison, als


def run(ds: Dataset, *, k: int = 10, maison_grid: Sequence[Mapping[str, Any]], als_grid: Sequence[Mapping[str, Any]],
        say: Callable[[str], None] = lambda _: None) -> list[Result]:
    """Tune on validation, then fit before t0 and score on the test window, for both variants."""
    features = item_features(ds.items)
    results: list[Result] = []
    for variant in VARIANTS:
        maison, als = tune(ds, variant=variant, k=k, features=features, maison_grid=maison_grid, als_grid=als_grid,
                           say=say)
        say(f"  {ds.name}, {variant} items: test with {maison} / ALS {als}")
        results += evaluate_at(ds, start=ds.test_start, end=ds.test_end, variant=variant, k=k, maison=maison, als=als,
                               features=features)
    return results


def verdicts(results: Sequence[Result]) -> dict[tuple[str, str], bool]:
    """Per (data set, variant): whether Maison beats every baseline on every metric."""
    out = {}
    for key in sorted({(r.dataset, r.variant) for r in results}):
        rows = {r.model: r.metrics for r in results if (r.dataset, r.variant) == key}
        ours = rows.get(MAISON)
        out[key] = ours is not None and all(
            ours[m] > rows[b][m] for b in BASELINES if b in rows for m in ("recall", "ndcg", "hit_rate"))
    return out
