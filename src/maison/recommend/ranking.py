"""Top-k selection shared by every recommender (ours and the baselines), so that they are
compared on exactly the same rules: same exclusions, same tie-breaking (lower index first)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse


def top_k(scores: npt.NDArray[np.floating], k: int, *,
          exclude: sparse.csr_matrix | None = None) -> npt.NDArray[np.int64]:
    """Per row, the indices of the `k` highest scores (best first), `exclude`d cells never chosen.

    Rows are users and columns items; an excluded or -inf cell is never returned, so a row may
    hold fewer than `k` real items: the rest is -1.
    """
    s = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None and exclude.nnz:
        rows = np.repeat(np.arange(exclude.shape[0]), np.diff(exclude.indptr))
        s[rows, exclude.indices] = -np.inf
    k = min(k, s.shape[1])
    if k == 0:
        return np.empty((s.shape[0], 0), np.int64)
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(s, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    chosen = np.take_along_axis(part, order, axis=1)
    chosen[np.take_along_axis(vals, order, axis=1) == -np.inf] = -1
    return chosen.astype(np.int64)
