"""Item-item collaborative filtering: "clients who engaged with this also engaged with that".

Fitted on any users x items implicit-feedback matrix (co-views and co-purchases together in
the engagement matrix, or purchases alone); a client's scores are their own row times the
item similarity, so a client never seen at fit time is scored from whatever row they have now.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from maison.recommend.similarity import bm25_weight, top_k_cosine


class ItemItem:
    """BM25-weighted, shrunk cosine item-item neighbourhood model (scikit-learn style)."""

    def __init__(self, *, neighbors: int = 100, shrink: float = 5.0, k1: float = 1.2, b: float = 0.75) -> None:
        self.neighbors = neighbors
        self.shrink = shrink
        self.k1 = k1
        self.b = b

    def fit(self, x: sparse.spmatrix) -> ItemItem:
        """Learn `similarity_` (items x items, each row its `neighbors` best) from users x items."""
        if x.ndim != 2:
            raise ValueError("x must be a users x items matrix")
        weighted = bm25_weight(x, k1=self.k1, b=self.b)
        active = np.flatnonzero(np.diff(sparse.csc_matrix(weighted).indptr))
        self.similarity_ = top_k_cosine(weighted, neighbors=self.neighbors, shrink=self.shrink, columns=active)
        self.n_items_ = int(x.shape[1])
        return self

    def score(self, history: sparse.spmatrix) -> sparse.csr_matrix:
        """Users x items scores: each user's (log-damped) history row times the similarity."""
        h = sparse.csr_matrix(history, dtype=np.float32, copy=True)
        h.data = np.log1p(h.data)
        return sparse.csr_matrix(h @ self.similarity_)

    def neighbours(self, item: int, k: int) -> list[tuple[int, float]]:
        """The `k` items most similar to `item`, best first."""
        row = self.similarity_.getrow(item)
        order = np.argsort(-row.data, kind="stable")[:k]
        return [(int(row.indices[i]), float(row.data[i])) for i in order]
