"""`maison eval vip` and its metrics: the report's structure, and numbers that make sense."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from maison.models.evaluation.cli import app, selection_ratio_lines
from maison.models.evaluation.datasets import _labels_and_split
from maison.models.evaluation.metrics import paired_difference, ranking_metrics, top_selection
from maison.models.evaluation.run import fairness, fairness_of_baselines
from maison.models.features import compute, spec_for
from maison.models.features.spec import DAY


def test_a_perfect_ranking_has_auc_one_and_lift_one_over_the_base_rate() -> None:
    y = np.array([1] * 10 + [0] * 90)
    m = ranking_metrics(y, -np.arange(100))
    assert m["roc_auc"] == 1.0 and m["precision_top"] == 1.0 and m["lift_top"] == pytest.approx(10.0)


def test_top_selection_takes_exactly_the_top_tenth() -> None:
    assert top_selection(np.arange(95.0)).sum() == 10
    assert top_selection(np.arange(95.0))[-10:].all()


def test_a_clearly_better_ranking_has_an_interval_above_zero_and_a_ranking_equals_itself() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.1).astype(int)
    informative = y + rng.normal(0, 0.5, 400)  # separates most future VIPs
    noise = rng.normal(0, 1, 400)
    better = paired_difference(y, informative, noise, metric="roc_auc", resamples=300)
    assert better["difference"] > 0.3 and better["low"] > 0  # the interval excludes no difference
    same = paired_difference(y, noise, noise, metric="average_precision", resamples=100)
    assert same == {"difference": 0.0, "low": 0.0, "high": 0.0, "resamples": 100}


def test_a_small_cohort_gives_a_wide_interval() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(120) < 0.1).astype(int)
    a, b = y + rng.normal(0, 1.0, 120), y + rng.normal(0, 1.0, 120)  # two equally good rankings
    d = paired_difference(y, a, b, metric="average_precision", resamples=300)
    assert d["low"] < 0 < d["high"]  # chance alone: no claim either way
    assert d["high"] - d["low"] > 0.1


def test_the_outcome_graded_in_training_is_spend_after_the_window_only_and_never_a_feature() -> None:
    start, window = 1_700_000_000, 30
    end = start + 400 * DAY

    def order(client: str, day: float, amount: float) -> dict[str, object]:
        return {"client_id": client, "t": start + int(day * DAY), "month": 1, "event": "Order Completed",
                "order_id": f"{client}-{day}", "amount": amount, "product_id": "p"}

    rows = [order(f"c{i}", 0, 100.0 + i) for i in range(20)]  # window spend only
    rows += [order(f"c{i}", 40, 10.0 * i) for i in range(20)]  # after the window
    rows += [order("c3", 29.9, 5000.0), order("c4", 401, 7000.0)]  # in c3's window; after the end
    events = pd.DataFrame(rows)
    labels, train, test, later = _labels_and_split(events, window_days=window, end=end)
    assert sorted(train + test) == sorted(later.index) and set(labels.index) == set(later.index)
    assert later["c3"] == 30.0 and later["c4"] == 40.0 and later["c0"] == 0.0  # neither the window nor after the end
    assert later.to_dict() == {f"c{i}": 10.0 * i for i in range(20)}
    # The features of a client do not move when what happened after their window does.
    spec = spec_for((), window_days=window)
    after_window = events["t"] >= start + window * DAY
    shifted = events.assign(amount=np.where(after_window, events["amount"] * 9, events["amount"]))
    before, after = (compute(e, pd.DataFrame(), pd.DataFrame(), spec).set_index("client_id") for e in (events, shifted))
    pd.testing.assert_frame_equal(before, after)


def test_eval_vip_on_a_cdnow_subsample_writes_a_comparable_report(tmp_path: Path, cdnow_available: None) -> None:
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(
        app, ["vip", "--datasets", "cdnow", "--sample", "4000", "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    (cdnow,) = report["datasets"]
    assert set(cdnow["metrics"]) == {"maison", "early_spend", "bgnbd_gamma_gamma"}
    for metrics in cdnow["metrics"].values():
        assert {"roc_auc", "average_precision", "precision_top", "lift_top"} <= set(metrics)
    assert cdnow["metrics"]["maison"]["roc_auc"] > 0.6
    assert cdnow["metrics"]["maison"]["lift_top"] > 1.5
    assert "Early spend (RFM)" in result.output
    versus = cdnow["versus"]["early_spend"]["roc_auc"]
    assert versus["low"] <= versus["difference"] <= versus["high"]
    assert versus["difference"] == pytest.approx(
        cdnow["metrics"]["maison"]["roc_auc"] - cdnow["metrics"]["early_spend"]["roc_auc"])
    assert "Maison minus Early spend (RFM) (95% paired bootstrap)" in result.output
    # CDNOW holds purchases only: the goal is to match the best baseline, judged on its interval.
    assert cdnow["goal"]["rule"] == "match the best baseline" and cdnow["goal"]["why"] == "purchases only"
    assert cdnow["goal"]["met"] == all(cdnow["versus"][cdnow["goal"]["against"]][m]["high"] >= 0
                                       for m in ("roc_auc", "average_precision"))
    assert "goal: match the best baseline (data: purchases only)" in result.output


def test_eval_vip_refuses_an_unknown_data_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["vip", "--datasets", "nope", "--out", str(tmp_path / "x.json")])
    assert result.exit_code != 0 and "allowed" in result.output


def test_each_baselines_top_decile_gets_the_same_fairness_audit() -> None:
    """Ranking by spend that only one group has skews the baseline's top decile; a ranking blind
    to the group does not. Both are reported, so a skew in Maison's top decile can be read against
    what the baselines would have selected."""
    rng = np.random.default_rng(7)
    n = 2000
    group = np.where(np.arange(n) % 2 == 0, "a", "b")
    y = pd.Series((rng.random(n) < 0.2).astype(int))
    scores = {
        "maison": y.to_numpy() + rng.random(n),  # good, and blind to the group
        "early_spend": np.where(group == "a", 10.0, 0.0) + rng.random(n),  # only group a reaches the top
    }
    sensitive = pd.DataFrame({"band": group})
    maison = fairness(y, scores["maison"], sensitive)
    baselines = fairness_of_baselines(y, scores, sensitive)
    assert maison is not None and baselines is not None and set(baselines) == {"early_spend"}
    ratio = {name: audit["features"][0]["selection_rate_ratio"]["estimate"]
             for name, audit in {"maison": maison, **baselines}.items()}
    assert ratio["maison"] > 0.8 and ratio["early_spend"] == 0.0
    assert any("below" in flag for flag in baselines["early_spend"]["flags"])
    lines = selection_ratio_lines(maison, baselines)
    assert lines == [f"  selection-rate ratio by band: Maison future VIP {ratio['maison']:.2f}, Early spend (RFM) 0.00"]
    assert fairness_of_baselines(y, scores, pd.DataFrame()) is None
