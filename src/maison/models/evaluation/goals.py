"""Which goal applies to a data set, and whether Maison met it.

The issue's rule: Maison's model must *beat* both baselines on every data set that has signals
beyond purchases, and *match* the best one on purchase-only data. Whether a data set "has
signals beyond purchases" is not a matter of which tables it ships but of whether they say
anything about future value that early spend does not: The Complete Journey ships
demographics, campaigns and coupon redemptions, and a data set whose side tables carry no
information is purchase-only in effect. So it is measured, not declared: a plain logistic
model of early spend, with and without the side signals, trained on the training clients and
compared on the test clients with a paired bootstrap (`side_signal_value`). Only an interval
above zero makes the data set one where Maison must beat.

The side signals feed this check only, never Maison's model: demographics in particular are
kept out of the model as a matter of fairness (`datasets.complete_journey`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from maison.models.evaluation.metrics import paired_difference

BEAT: Final = "beat both baselines"
MATCH: Final = "match the best baseline"


def side_signal_value(
    early_spend: pd.Series,
    side: pd.DataFrame,
    labels: pd.Series,
    *,
    train_ids: Sequence[str],
    test_ids: Sequence[str],
    resamples: int = 500,
) -> dict[str, Any]:
    """How much ROC AUC the side signals add to early spend on the test clients (paired bootstrap).

    Both models are the same regularised logistic regression, so the difference is the side
    signals' and not a model's. Clients without a side row get zeros (no campaign, no known
    household): the absence is itself a signal the model may use."""
    frame = pd.DataFrame({"log_spend": np.log1p(early_spend.clip(lower=0))})
    side = side.reindex(frame.index).fillna(0.0).astype(float)
    side = side.loc[:, side.std() > 0]  # constant columns carry nothing
    with_side = pd.concat([frame, side], axis=1)
    train = [c for c in train_ids if c in frame.index]
    test = [c for c in test_ids if c in frame.index]
    y_train, y_test = labels.reindex(train).astype(int), labels.reindex(test).astype(int)

    def scores(x: pd.DataFrame) -> np.ndarray:
        scale = StandardScaler().fit(x.loc[train])
        model = LogisticRegression(C=1.0, max_iter=2000).fit(scale.transform(x.loc[train]), y_train)
        return np.asarray(model.decision_function(scale.transform(x.loc[test])), dtype=float)

    added = paired_difference(y_test, scores(with_side), scores(frame), metric="roc_auc", resamples=resamples)
    return {
        "signals": list(side.columns),
        "auc_added": added,
        "carries_signal": bool(added["low"] > 0),
    }


def rule_for(side: Mapping[str, Any] | None, *, behaviour: bool = False) -> tuple[str, str]:
    """(rule, why) for a data set: `behaviour` when its clients leave signals beyond purchases by
    construction (the store's own events); otherwise by its side-signal check, if it has one."""
    if behaviour:
        return BEAT, "signals beyond purchases: browsing, content, email, carts"
    if side is None:
        return MATCH, "purchases only"
    added = side["auc_added"]
    interval = f"{added['difference']:+.3f} AUC [{added['low']:+.3f}, {added['high']:+.3f}]"
    if side["carries_signal"]:
        return BEAT, f"signals beyond purchases, which add {interval} to early spend"
    return MATCH, f"purchases only in effect: its other signals add {interval} to early spend"


def goal(metrics: Mapping[str, Mapping[str, float]], versus: Mapping[str, Any], *,
         side: Mapping[str, Any] | None = None, behaviour: bool = False) -> dict[str, Any]:
    """The issue's goal for a data set (beat or match, and why) and whether Maison met it."""
    rule, why = rule_for(side, behaviour=behaviour)
    return {**judge(rule, versus, metrics), "why": why}


def judge(rule: str, versus: Mapping[str, Mapping[str, Mapping[str, float]]],
          metrics: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """Whether Maison met `rule` against the baselines in `versus` (Maison minus each, ROC AUC
    and average precision, with intervals).

    Beat: Maison above every baseline on both measures; `significant` says whether every one of
    those intervals excludes zero. Match: against the baseline with the best AUC, neither
    measure significantly worse (each interval reaches zero or above)."""
    measures = ("roc_auc", "average_precision")
    if rule == BEAT:
        met = all(versus[b][m]["difference"] > 0 for b in versus for m in measures)
        significant = met and all(versus[b][m]["low"] > 0 for b in versus for m in measures)
        return {"rule": rule, "met": met, "significant": significant}
    best = max(versus, key=lambda b: metrics[b]["roc_auc"])
    met = all(versus[best][m]["high"] >= 0 for m in measures)
    return {"rule": rule, "met": met, "against": best}
