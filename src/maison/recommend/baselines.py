"""The baselines Maison's ranker is held to: global popularity, personal repurchase frequency,
implicit ALS. Each has `fit(log, at=...)` and `scores(users)` (dense users x items), like ours.

Popularity is distinct buyers before `at`; repurchase ranks the client's own purchases by
count (ties and empty histories filled by popularity, a small bonus below one purchase, so it
is the strongest honest form of that baseline); ALS is `implicit`'s CPU
AlternatingLeastSquares on the same engagement matrix the hybrid sees, fixed seed, one thread.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

from maison.recommend.log import ENGAGEMENT_WEIGHTS, EventLog, Kind


def buyers(log: EventLog) -> npt.NDArray[np.float64]:
    """Distinct buyers per item."""
    purchases = log.of_kind(Kind.PURCHASE).matrix()
    return np.asarray((purchases > 0).sum(axis=0), dtype=np.float64).ravel()


class Popularity:
    """Everyone gets the items with the most distinct buyers."""

    def fit(self, log: EventLog, *, at: float) -> Popularity:
        count = buyers(log.before(at))
        self.popularity_ = count / max(count.max(), 1.0)
        return self

    def scores(self, users: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.tile(self.popularity_, (len(users), 1))


class Repurchase:
    """The client's own most bought items, then the most popular ones."""

    def fit(self, log: EventLog, *, at: float) -> Repurchase:
        known = log.before(at)
        self.counts_ = known.of_kind(Kind.PURCHASE).matrix(quantity=False)
        self.popularity_ = Popularity().fit(known, at=at).popularity_
        return self

    def scores(self, users: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        own = np.asarray(self.counts_[users].todense(), dtype=np.float64)
        scores: npt.NDArray[np.float64] = own + 0.5 * self.popularity_[None, :]
        return scores


class ImplicitALS:
    """`implicit.cpu.als.AlternatingLeastSquares` on the engagement matrix (BM25-free, confidence 1+alpha x)."""

    def __init__(self, *, factors: int = 64, regularization: float = 0.05, alpha: float = 2.0, iterations: int = 15,
                 seed: int = 0) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed

    def fit(self, log: EventLog, *, at: float) -> ImplicitALS:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        matrix = log.before(at).matrix(ENGAGEMENT_WEIGHTS)
        matrix.data = np.log1p(matrix.data)
        with threadpool_limits(1, "blas"):  # implicit's own advice: its threads, not BLAS's, do the work
            model = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                                            iterations=self.iterations, random_state=self.seed, num_threads=1,
                                            calculate_training_loss=False)
            model.fit(sparse.csr_matrix(matrix, dtype=np.float32), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)
        return self

    def scores(self, users: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.asarray(self.user_factors_[users] @ self.item_factors_.T, dtype=np.float64)
