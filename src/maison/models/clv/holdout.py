"""Holdout validation: predicted vs actual repeat purchases by calibration frequency.

Fader, Hardie & Lee's conditional-expectation check (2005, fig. 4): group clients by their
calibration frequency (0, 1, ..., 7+), and compare the mean number of purchases each group made
in the holdout with the model's conditional expectation over the same duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from maison.models.clv.rfm import CalibrationHoldout
from maison.models.clv.value import Transactions
from maison.models.exceptions import MissingExtra, ModelInputError

Floats = NDArray[np.float64]
CHART_FORMATS = (".png", ".svg")


@dataclass(frozen=True)
class HoldoutTable:
    """Per calibration-frequency bucket: clients, mean actual and mean predicted holdout purchases."""

    bucket: tuple[str, ...]
    clients: NDArray[np.int64]
    actual: Floats
    predicted: Floats
    duration: float

    def rows(self) -> list[dict[str, float | int | str]]:
        return [
            {"frequency": b, "clients": int(n), "actual": float(a), "predicted": float(p)}
            for b, n, a, p in zip(self.bucket, self.clients, self.actual, self.predicted, strict=True)
        ]

    @property
    def total_actual(self) -> float:
        return float(self.clients @ self.actual)

    @property
    def total_predicted(self) -> float:
        return float(self.clients @ self.predicted)


def holdout_table(model: Transactions, split: CalibrationHoldout, *, max_frequency: int = 7) -> HoldoutTable:
    """Mean actual and predicted holdout purchases per calibration frequency 0..max, max+."""
    if not (isinstance(max_frequency, int) and max_frequency >= 1):
        raise ModelInputError(f"max_frequency must be a whole number >= 1, got {max_frequency!r}")
    c = split.calibration
    predicted = model.conditional_expected_purchases(split.duration_holdout, c.frequency, c.recency, c.T)
    bucket = np.minimum(c.frequency, max_frequency).astype(np.int64)
    clients = np.bincount(bucket, minlength=max_frequency + 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty buckets read NaN
        actual = np.bincount(bucket, weights=split.frequency_holdout, minlength=max_frequency + 1) / clients
        mean_predicted = np.bincount(bucket, weights=predicted, minlength=max_frequency + 1) / clients
    labels = (*(str(i) for i in range(max_frequency)), f"{max_frequency}+")
    return HoldoutTable(labels, clients, actual, mean_predicted, split.duration_holdout)


def holdout_report(
    model: Transactions, split: CalibrationHoldout, *, chart: Path, max_frequency: int = 7, title: str = "",
) -> HoldoutTable:
    """The holdout table, also drawn to `chart` (.png or .svg; needs matplotlib from maison[eval])."""
    if chart.suffix.lower() not in CHART_FORMATS:
        raise ModelInputError(f"chart must end in {' or '.join(CHART_FORMATS)}, got {chart.name!r}")
    table = holdout_table(model, split, max_frequency=max_frequency)
    draw(table, chart, title=title or f"{type(model).__name__}: holdout of {table.duration:g} periods")
    return table


def draw(table: HoldoutTable, path: Path, *, title: str) -> None:
    """Actual vs predicted by bucket; Agg canvas on a Figure object, so no global pyplot state."""
    if path.suffix.lower() not in CHART_FORMATS:
        raise ModelInputError(f"chart must end in {' or '.join(CHART_FORMATS)}, got {path.name!r}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtra("holdout charts need matplotlib: install maison[eval]") from exc
    figure = Figure(figsize=(7, 4.5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = np.arange(len(table.bucket))
    axes.plot(positions, table.actual, marker="o", color="#1f3b5c", label="actual")
    axes.plot(positions, table.predicted, marker="s", linestyle="--", color="#b5651d", label="model")
    axes.set_xticks(positions, [f"{b}\n(n={n:,})" for b, n in zip(table.bucket, table.clients, strict=True)])
    axes.set_xlabel("repeat purchases in calibration")
    axes.set_ylabel("mean repeat purchases in holdout")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
