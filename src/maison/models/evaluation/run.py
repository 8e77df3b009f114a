"""One evaluation: Maison's future-VIP model against two baselines on the same clients.

The model learns on the earlier cohort and every ranking is measured on the later one; the
baselines need no training. A fairness section is added when sensitive attributes are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from maison.models.evaluation.baselines import bgnbd_value, early_spend
from maison.models.evaluation.datasets import Dataset
from maison.models.evaluation.goals import goal, side_signal_value
from maison.models.evaluation.metrics import paired_difference, ranking_metrics, top_selection
from maison.models.features.pipeline import compute
from maison.models.features.spec import DAY
from maison.models.vip.model import train

RANKINGS = ("maison", "early_spend", "bgnbd_gamma_gamma")


def compare(y: pd.Series, scores: Mapping[str, np.ndarray], *, fraction: float = 0.1) -> dict[str, dict[str, float]]:
    return {name: ranking_metrics(y, s, fraction=fraction) for name, s in scores.items()}


def versus(y: pd.Series, scores: Mapping[str, np.ndarray], *, resamples: int = 500) -> dict[str, Any]:
    """Maison minus each baseline, in ROC AUC and average precision, with paired bootstrap intervals."""
    return {
        name: {
            metric: paired_difference(y, scores["maison"], s, metric=metric, resamples=resamples)
            for metric in ("roc_auc", "average_precision")
        }
        for name, s in scores.items() if name != "maison"
    }


def fairness(
    y: pd.Series, score: np.ndarray, sensitive: pd.DataFrame, *, fraction: float = 0.1
) -> dict[str, Any] | None:
    """The audit of who Maison puts in its top decile, by sensitive attribute (None if unknown)."""
    if sensitive.empty:
        return None
    from maison.models import fairness as audit_module

    report = audit_module.audit(
        y.to_numpy(),
        top_selection(score, fraction=fraction),
        {c: sensitive[c].to_numpy() for c in sensitive.columns},
        missing=audit_module.NO_ATTRIBUTE,  # households without demographics: reported, not rated
    )
    return report.to_dict()


def fairness_of_baselines(
    y: pd.Series, scores: Mapping[str, np.ndarray], sensitive: pd.DataFrame, *, fraction: float = 0.1
) -> dict[str, Any] | None:
    """The same audit of each baseline's top decile. A ratio far below 0.8 in Maison's top decile
    says little on its own: if ranking by early spend skews the same way, the skew is in who
    spends early, not something the model added; if it does not, the model added it."""
    if sensitive.empty:
        return None
    return {name: fairness(y, s, sensitive, fraction=fraction) for name, s in scores.items() if name != "maison"}


def evaluate(data: Dataset, *, fraction: float = 0.1) -> dict[str, Any]:
    """Metrics of the three rankings on the later cohort of `data`, and the goal that applies."""
    features = compute(data.events, data.catalog, data.collections, data.spec).set_index("client_id")
    train_rows = features.loc[features.index.intersection(data.train_ids)]
    test_rows = features.loc[features.index.intersection(data.test_ids)]
    # All tied when first contact is no acquisition date: validation rows by content hash instead.
    time = train_rows["first_contact"] if data.acquisition_dates else np.zeros(len(train_rows))
    value = data.later_spend.reindex(train_rows.index) if not data.later_spend.empty else None
    model = train(train_rows, data.labels.reindex(train_rows.index), time=time, spec=data.spec, value=value)
    y = data.labels.reindex(test_rows.index).astype(int)
    window_end = test_rows["first_contact"] + data.spec.window_days * DAY
    test_events = data.events[data.events["client_id"].isin(set(test_rows.index))]
    maison = model.decision_function(test_rows)
    scores = {
        "maison": maison,
        "early_spend": early_spend(test_rows),
        "bgnbd_gamma_gamma": bgnbd_value(test_events, window_end).reindex(test_rows.index).to_numpy(),
    }
    sensitive = data.sensitive.reindex(test_rows.index) if not data.sensitive.empty else data.sensitive
    side = None
    if not data.side_signals.empty:
        spend = pd.Series(early_spend(features), index=features.index)
        side = side_signal_value(spend, data.side_signals, data.labels,
                                 train_ids=list(train_rows.index), test_ids=list(test_rows.index))
    metrics, vs = compare(y, scores, fraction=fraction), versus(y, scores)
    return {
        "dataset": data.name,
        "window_days": data.spec.window_days,
        "train_clients": len(train_rows),
        "test_clients": len(test_rows),
        "metrics": metrics,
        "versus": vs,
        "side_signals": side,
        "goal": goal(metrics, vs, side=side),
        "calibration": {k: model.validation_[k] for k in ("brier", "brier_uncalibrated", "calibration")},
        "boosting": {k: model.validation_[k] for k in ("trees", "tree_size")},
        "fairness": fairness(y, maison, sensitive, fraction=fraction),
        "fairness_baselines": fairness_of_baselines(y, scores, sensitive, fraction=fraction),
    }
