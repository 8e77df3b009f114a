"""How well calibrated a probability is: Brier score, reliability table and chart.

The chart is drawn on a `matplotlib.figure.Figure` (Agg canvas), never through pyplot, so no
global backend is switched in the host process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


def brier(y_true: ArrayLike, p: ArrayLike) -> float:
    y, q = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean((q - y) ** 2))


def reliability(y_true: ArrayLike, p: ArrayLike, *, bins: int = 10) -> pd.DataFrame:
    """Per quantile bin of predicted probability: mean prediction, observed rate, count."""
    y, q = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(q, kind="stable")
    groups = np.array_split(order, min(bins, max(len(q), 1)))
    rows = [(float(q[g].mean()), float(y[g].mean()), len(g)) for g in groups if len(g)]
    return pd.DataFrame(rows, columns=["predicted", "observed", "n"])


def reliability_chart(y_true: ArrayLike, p: ArrayLike, path: Path, *, title: str = "Reliability") -> Path:
    """Predicted against observed rate per bin, with the diagonal; written as PNG/SVG by suffix."""
    return draw_reliability(reliability(y_true, p), path, brier_score=brier(y_true, p), title=title)


def draw_reliability(table: pd.DataFrame, path: Path, *, brier_score: float, title: str = "Reliability") -> Path:
    """The chart of a reliability table (a fitted model keeps the table, not the rows)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.5, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    top = max(0.05, float(table[["predicted", "observed"]].to_numpy().max()) * 1.1) if len(table) else 1.0
    axes.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=1, label="perfect")
    axes.plot(table["predicted"], table["observed"], marker="o", label="model")
    axes.set(
        xlabel="predicted probability",
        ylabel="observed rate",
        title=f"{title} (Brier {brier_score:.3f})",
        xlim=(0, top),
        ylim=(0, top),
    )
    axes.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
