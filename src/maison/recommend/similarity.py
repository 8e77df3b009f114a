"""Item-to-item similarity from any users x items (or items x features) matrix. Pure numpy/scipy.

Why BM25 weighting: raw co-occurrence rewards items everybody touches, and heavy users
dominate every pair. BM25 (as in Lucene, and `implicit`'s `bm25_weight`) damps repeated
interactions (k1) and discounts long histories (b) and ubiquitous items (idf), so that
"bought together" means something. Why shrunk cosine: a pair seen once in two rare items
would otherwise score 1.0; shrinkage pulls such pairs toward 0 (Koren's neighbourhood models).
Only the `neighbors` strongest similarities of each item are kept: it bounds memory (items x
neighbors) and serving cost, and neighbours beyond a few hundred add noise, not recall.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

_BLOCK = 512


def bm25_weight(x: sparse.spmatrix, *, k1: float = 1.2, b: float = 0.75) -> sparse.csr_matrix:
    """Users x items counts to BM25 weights (rows are documents, items are terms)."""
    m = sparse.csr_matrix(x, dtype=np.float32, copy=True)
    n_users = max(m.shape[0], 1)
    df = np.bincount(m.indices, minlength=m.shape[1]).astype(np.float32)
    idf = np.log1p((n_users - df + 0.5) / (df + 0.5))  # Lucene's BM25 idf: positive, small for ubiquitous items
    length = np.asarray(m.sum(axis=1)).ravel()
    average = length.mean() if length.size and length.mean() > 0 else 1.0
    norm = k1 * (1.0 - b + b * length / average)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    m.data = m.data * (k1 + 1.0) / (m.data + norm[rows]) * idf[m.indices]
    return m


def top_k_cosine(
    x: sparse.spmatrix, *, neighbors: int, shrink: float = 0.0, columns: npt.NDArray[np.int64] | None = None
) -> sparse.csr_matrix:
    """Items x items shrunk cosine between the columns of `x`, keeping each row's `neighbors` best.

    `columns` limits which items get neighbour rows (others stay empty); the diagonal is zero.
    """
    m = sparse.csc_matrix(x, dtype=np.float32)
    n = m.shape[1]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=0)).ravel()).astype(np.float32)
    mt = m.T.tocsr()
    wanted = np.arange(n) if columns is None else np.asarray(columns)
    keep = max(0, min(neighbors, n - 1))
    rows_out: list[npt.NDArray[np.int64]] = []
    cols_out: list[npt.NDArray[np.int64]] = []
    vals_out: list[npt.NDArray[np.float32]] = []
    for start in range(0, wanted.size, _BLOCK):
        block = wanted[start : start + _BLOCK]
        dense = np.asarray(mt @ m[:, block].toarray(), dtype=np.float32)  # items x block
        dense /= np.outer(norms, norms[block]) + shrink + 1e-12
        dense[block, np.arange(block.size)] = 0.0
        if keep == 0:
            continue
        top = np.argpartition(-dense, keep - 1, axis=0)[:keep] if keep < n else np.argsort(-dense, axis=0)
        values = np.take_along_axis(dense, top, axis=0)
        for j, item in enumerate(block):
            good = values[:, j] > 0
            rows_out.append(np.full(int(good.sum()), item, np.int64))
            cols_out.append(top[good, j].astype(np.int64))
            vals_out.append(values[good, j])
    if not rows_out:
        return sparse.csr_matrix((n, n), dtype=np.float32)
    return sparse.csr_matrix(
        (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))), shape=(n, n), dtype=np.float32
    )
