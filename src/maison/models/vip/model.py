"""The future-VIP model: from a client's first weeks, the probability of being a top-decile client.

A scikit-learn style estimator over the feature table of `maison.models.features`: LightGBM
learns on earlier cohorts, its probabilities are calibrated on later ones (time-based
validation), and each score comes with plain-words reasons from SHAP contributions. Given
the outcome each label thresholds (`fit(value=...)`), the trees learn the label graded by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from maison.models.calibration import draw_reliability
from maison.models.classifier import CalibratedBooster
from maison.models.features.spec import FeatureSpec
from maison.models.vip.labels import graded_labels
from maison.models.vip.reasons import reasons as worded


class FutureVipModel(CalibratedBooster):
    """`fit(features, labels, time=first_contact)`; `predict_proba`, `reasons`, `card_metrics`."""

    def __init__(
        self,
        *,
        spec: FeatureSpec | None = None,
        n_estimators: int = 250,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        calibration: str = "auto",
        calibration_fraction: float = 0.3,
        increasing: tuple[str, ...] = (),
        prior: str | None = "spend",
        simpler: tuple[int, int] | None = (4, 50),
        excluded_features: tuple[str, ...] = (),
        graded_width: float | None = 0.1,
        refit: bool = True,
        audit_fraction: float = 0.1,
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
            simpler=simpler,
            refit=refit,
            audit_fraction=audit_fraction,
            random_state=random_state,
        )
        self.spec = spec
        self.excluded_features = excluded_features
        self.graded_width = graded_width

    def fit(
        self,
        X: pd.DataFrame,
        y: ArrayLike,
        *,
        time: ArrayLike | None = None,
        sensitive: Mapping[str, ArrayLike] | None = None,
        target: ArrayLike | None = None,
        value: ArrayLike | None = None,
    ) -> FutureVipModel:
        """`value` (each row's outcome behind its label, e.g. spend after the window) grades the
        label the prior and trees learn (`labels.graded_labels`, unless `graded_width` is None),
        or `target` gives that graded label directly; the calibrator and the validation numbers
        stay on the 0/1 label."""
        spec = self.spec or FeatureSpec()
        columns = (
            [c for c in spec.names if c in X.columns]
            if self.spec
            else [c for c in X.columns if c not in ("client_id", "first_contact")]
        )
        if target is None and value is not None and self.graded_width is not None:
            outcome = pd.Series(np.asarray(value, dtype=float))
            target = graded_labels(outcome, pd.Series(np.asarray(y, dtype=int)), width=self.graded_width).to_numpy()
        kept = X[[c for c in columns if c not in self.excluded_features]]
        super().fit(kept, y, time=time, sensitive=sensitive, target=target)
        self.spec_ = spec
        return self

    def score(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Calibrated probability of becoming a top-decile client."""
        return self.predict_proba(X)[:, 1]

    def reasons(self, X: pd.DataFrame, *, top: int = 3) -> list[list[str]]:
        """Plain-words reasons per row of `X`, strongest first."""
        contributions = self.contributions(X)
        return [worded(X.loc[i].to_dict(), contributions.loc[i].to_dict(), self.spec_, top=top) for i in X.index]

    def card_metrics(self) -> dict[str, Any]:
        """Validation on the later cohort, for the model card."""
        self._check()
        return {
            **self.validation_,
            "reliability": self.reliability_.to_dict(orient="records"),
            "window_days": self.spec_.window_days,
            "features": list(self.feature_names_),
        }

    def reliability_chart(self, path: Path) -> Path:
        self._check()
        return draw_reliability(
            self.reliability_, path, brier_score=self.validation_["brier"], title="Future VIP, later cohort"
        )


def train(
    features: pd.DataFrame,
    labels: ArrayLike,
    *,
    time: ArrayLike | None = None,
    spec: FeatureSpec | None = None,
    sensitive: Mapping[str, ArrayLike] | None = None,
    value: ArrayLike | None = None,
    **params: Any,
) -> FutureVipModel:
    """Fit a future-VIP model; `time` (first contact) orders the time-based validation,
    `sensitive` (one value per row of `features`) adds the fairness audit (`fairness_`) and
    `value` (the outcome each label thresholds) grades the label the trees learn."""
    when = time if time is not None else features.get("first_contact")
    return FutureVipModel(spec=spec, **params).fit(features, labels, time=when, sensitive=sensitive, value=value)
