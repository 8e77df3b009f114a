"""Churn: will a client buy again within `horizon_days`? Two views, both per client.

- `probability_alive` from a BG/NBD fitted on the purchase history up to the instant: the
  transaction model's view, which only sees purchases.
- `churn_probability` from a calibrated LightGBM classifier over behaviour as of a cutoff
  (recency, frequency, browsing, email): label 1 when the client, a buyer before the cutoff,
  makes no purchase in the `horizon_days` after it. Trained at two past cutoffs whose outcome
  is fully observed; the later cutoff calibrates and validates (time-based split).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from maison.models.classifier import CalibratedBooster
from maison.models.clv import BGNBD, rfm_summary
from maison.models.features import recency
from maison.models.features.events import ORDER
from maison.models.features.spec import DAY


class ChurnModel(CalibratedBooster):
    """Calibrated probability that a buyer makes no purchase in the next `horizon_days`."""

    def __init__(
        self,
        *,
        horizon_days: int = 90,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        calibration: str = "auto",
        calibration_fraction: float = 0.5,
        increasing: tuple[str, ...] = (),
        prior: str | None = None,
        refit: bool = True,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            num_leaves=num_leaves,
            min_child_samples=min_child_samples,
            calibration=calibration,
            calibration_fraction=calibration_fraction,
            increasing=increasing,
            prior=prior,
            refit=refit,
            random_state=random_state,
        )
        self.horizon_days = horizon_days


def examples(events: pd.DataFrame, *, cutoff: int, horizon_days: int) -> pd.DataFrame:
    """Behaviour at `cutoff` of clients who bought before it, with `churned` over the horizon."""
    features = recency.compute(events, cutoff=cutoff)
    features = features[features["orders_total"] > 0]
    orders = events[events["event"] == ORDER]
    later = orders[(orders["t"] >= cutoff) & (orders["t"] < cutoff + horizon_days * DAY)]
    features["churned"] = (~features["client_id"].isin(set(later["client_id"]))).astype(int)
    features["cutoff"] = cutoff
    return features.reset_index(drop=True)


def train(events: pd.DataFrame, *, at: int, horizon_days: int = 90, **params: Any) -> ChurnModel:
    """Fit on cutoffs `at - 2h` and `at - h` (h = horizon): both outcomes lie before `at`."""
    h = horizon_days * DAY
    rows = pd.concat(
        [
            examples(events, cutoff=at - 2 * h, horizon_days=horizon_days),
            examples(events, cutoff=at - h, horizon_days=horizon_days),
        ],
        ignore_index=True,
    )
    model = ChurnModel(horizon_days=horizon_days, **params)
    return model.fit(rows[list(recency.NAMES)], rows["churned"], time=rows["cutoff"])  # type: ignore[return-value]


def probability_alive(events: pd.DataFrame, *, at: int, penalizer: float = 1e-3) -> pd.Series:
    """P(alive) per buyer from a BG/NBD fitted on all purchases before `at` (weekly periods).

    A small penalizer keeps the fit identified on the short, regular histories a store often
    has (lifetimes' advice too); it shrinks the log-parameters barely on CDNOW-sized data."""
    orders = events[(events["event"] == ORDER) & (events["t"] < at)].drop_duplicates(["client_id", "order_id"])
    stamps = pd.to_datetime(orders["t"], unit="s").to_numpy()
    summary = rfm_summary(orders["client_id"].to_numpy(), stamps, observation_end=pd.Timestamp(at, unit="s"), freq="W")
    model = BGNBD(penalizer=penalizer).fit(summary.frequency, summary.recency, summary.T)
    alive = model.probability_alive(summary.frequency, summary.recency, summary.T)
    return pd.Series(np.asarray(alive, dtype=float), index=summary.client_id, name="probability_alive")


@dataclass(frozen=True, slots=True)
class ChurnScore:
    client_id: str
    probability_alive: float
    churn_probability: float


def churn_scores(events: pd.DataFrame, model: ChurnModel, *, at: int) -> list[ChurnScore]:
    """Both churn views for every buyer before `at`."""
    features = recency.compute(events, cutoff=at)
    features = features[features["orders_total"] > 0].reset_index(drop=True)
    alive = probability_alive(events, at=at).reindex(features["client_id"])
    churn = model.predict_proba(features[list(recency.NAMES)])[:, 1]
    return [ChurnScore(str(c), float(a), float(p)) for c, a, p in zip(features["client_id"], alive, churn, strict=True)]
