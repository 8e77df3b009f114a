"""Ranking quality of a value score against who really became a top client."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, roc_auc_score


def top_selection(score: ArrayLike, *, fraction: float = 0.1) -> np.ndarray:
    """1 for the `fraction` highest scores (exactly ceil(n x fraction) clients, ties by order)."""
    s = np.asarray(score, dtype=float)
    k = int(np.ceil(len(s) * fraction))
    chosen = np.zeros(len(s), dtype=int)
    chosen[np.argsort(-s, kind="stable")[:k]] = 1
    return chosen


def ranking_metrics(y_true: ArrayLike, score: ArrayLike, *, fraction: float = 0.1) -> dict[str, float]:
    """ROC AUC, average precision, and precision and lift among the top `fraction`."""
    y, s = np.asarray(y_true, dtype=int), np.asarray(score, dtype=float)
    chosen = top_selection(s, fraction=fraction).astype(bool)
    precision = float(y[chosen].mean()) if chosen.any() else 0.0
    base = float(y.mean())
    return {
        "roc_auc": float(roc_auc_score(y, s)),
        "average_precision": float(average_precision_score(y, s)),
        "precision_top": precision,
        "lift_top": precision / base if base else 0.0,
        "base_rate": base,
        "n": int(len(y)),
    }
