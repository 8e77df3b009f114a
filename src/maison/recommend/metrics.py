"""Ranking metrics at k over users with at least one relevant item. Pure.

Recall@k divides by min(k, relevant) (as in most implicit-feedback papers, so that a user with
30 test purchases is not capped at 1/3); NDCG@k uses binary gains and the ideal ordering of
min(k, relevant) hits; HitRate@k is the share of users with at least one hit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse


def ranking_metrics(recommended: npt.NDArray[np.int64], relevant: sparse.csr_matrix,
                    users: Sequence[int] | npt.NDArray[np.int64],
                    *, k: int = 10) -> dict[str, float]:
    """Mean Recall@k, NDCG@k, HitRate@k of `recommended` (rows aligned with `users`) against `relevant`."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    recall, ndcg, hit = [], [], []
    for row, u in enumerate(users):
        truth = relevant.indices[relevant.indptr[u] : relevant.indptr[u + 1]]
        if truth.size == 0:
            continue
        top = recommended[row, :k]
        hits = np.isin(top, truth) & (top >= 0)
        n = int(hits.sum())
        ideal = discounts[: min(k, truth.size)].sum()
        recall.append(n / min(k, truth.size))
        ndcg.append(float(discounts[: top.size][hits].sum() / ideal))
        hit.append(1.0 if n else 0.0)
    if not recall:
        return {"recall": float("nan"), "ndcg": float("nan"), "hit_rate": float("nan"), "users": 0}
    return {"recall": float(np.mean(recall)), "ndcg": float(np.mean(ndcg)), "hit_rate": float(np.mean(hit)),
            "users": len(recall)}
