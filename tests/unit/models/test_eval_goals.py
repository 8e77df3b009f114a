"""Which goal `maison eval vip` holds a data set to, measured rather than declared, and the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maison.models.evaluation.goals import BEAT, MATCH, judge, rule_for, side_signal_value


def _clients(n: int, seed: int) -> tuple[pd.Series, pd.Series, pd.DataFrame, list[str], list[str]]:
    """Early spend that predicts the label partly, and a side signal that predicts the rest."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i}" for i in range(n)]
    spend = pd.Series(rng.lognormal(4, 1, n), index=ids)
    side = pd.DataFrame({"campaigns": rng.integers(0, 2, n).astype(float), "noise": rng.normal(0, 1, n)}, index=ids)
    latent = np.log(spend) + 2.5 * side["campaigns"] + rng.normal(0, 0.7, n)
    labels = (latent > np.quantile(latent, 0.9)).astype(int)
    return spend, labels, side, ids[: n // 2], ids[n // 2 :]


def test_a_side_signal_that_predicts_future_value_makes_the_data_set_one_to_beat_on() -> None:
    spend, labels, side, train, test = _clients(3000, seed=1)
    check = side_signal_value(spend, side, labels, train_ids=train, test_ids=test, resamples=200)
    assert check["carries_signal"] and check["auc_added"]["low"] > 0
    assert set(check["signals"]) == {"campaigns", "noise"}
    rule, why = rule_for(check)
    assert rule == BEAT and why.startswith("signals beyond purchases, which add +")


def test_side_tables_that_say_nothing_beyond_spend_leave_the_data_set_purchase_only() -> None:
    spend, labels, side, train, test = _clients(3000, seed=2)
    useless = pd.DataFrame({"noise": np.random.default_rng(9).normal(0, 1, len(side)),
                            "constant": 1.0}, index=side.index)
    check = side_signal_value(spend, useless, labels, train_ids=train, test_ids=test, resamples=200)
    assert not check["carries_signal"]
    assert check["signals"] == ["noise"]  # a constant column is dropped, it cannot inform
    assert rule_for(check)[0] == MATCH
    assert rule_for(check)[1].startswith("purchases only in effect")


def test_behaviour_data_must_be_beaten_on_and_plain_purchases_matched() -> None:
    assert rule_for(None, behaviour=True)[0] == BEAT
    assert rule_for(None) == (MATCH, "purchases only")


def _versus(**diffs: tuple[float, float, float]) -> dict[str, dict[str, dict[str, float]]]:
    return {b: {m: {"difference": d, "low": lo, "high": hi} for m in ("roc_auc", "average_precision")}
            for b, (d, lo, hi) in diffs.items()}


def test_beating_needs_every_baseline_below_and_says_when_that_is_significant() -> None:
    metrics = {"maison": {"roc_auc": 0.84}, "a": {"roc_auc": 0.81}, "b": {"roc_auc": 0.75}}
    clear = judge(BEAT, _versus(a=(0.03, 0.01, 0.05), b=(0.09, 0.05, 0.12)), metrics)
    assert clear == {"rule": BEAT, "met": True, "significant": True}
    chance = judge(BEAT, _versus(a=(0.03, -0.06, 0.13), b=(0.09, 0.05, 0.12)), metrics)
    assert chance["met"] and not chance["significant"]
    assert not judge(BEAT, _versus(a=(-0.002, -0.005, 0.001), b=(0.07, 0.05, 0.1)), metrics)["met"]


def test_matching_is_judged_against_the_best_baseline_only() -> None:
    metrics = {"maison": {"roc_auc": 0.953}, "spend": {"roc_auc": 0.955}, "bgnbd": {"roc_auc": 0.88}}
    tie = judge(MATCH, _versus(spend=(-0.002, -0.005, 0.001), bgnbd=(0.07, 0.05, 0.1)), metrics)
    assert tie == {"rule": MATCH, "met": True, "against": "spend"}
    worse = judge(MATCH, _versus(spend=(-0.02, -0.03, -0.01), bgnbd=(0.07, 0.05, 0.1)), metrics)
    assert not worse["met"]


def test_the_journeys_side_signals_hold_only_what_was_known_by_each_households_window_end() -> None:
    from maison.models.evaluation.datasets import _epoch, _journey_side_signals

    day = pd.Timestamp("2017-01-01")
    data = {
        "campaigns": pd.DataFrame({"campaign_id": [1, 2, 1], "household_id": [7, 7, 8]}),
        "campaign_descriptions": pd.DataFrame({
            "campaign_id": [1, 2], "campaign_type": ["Type A", "Type B"],
            "start_date": [day + pd.Timedelta(days=10), day + pd.Timedelta(days=90)],  # 2 starts after the window
        }),
        "coupon_redemptions": pd.DataFrame({
            "household_id": [7, 7, 8], "redemption_date": [day + pd.Timedelta(days=5), day + pd.Timedelta(days=80),
                                                           day + pd.Timedelta(days=1)],
        }),
    }
    demo = pd.DataFrame({"household_id": [7], "age": ["45-54"]}, index=pd.Index(["7"], name="client_id"))
    window_end = pd.Series(_epoch(pd.DatetimeIndex([day + pd.Timedelta(days=56)] * 3)), index=["7", "8", "9"])
    side = _journey_side_signals(data, demo, window_end=window_end)
    assert side.loc["7", "campaigns_type_a"] == 1 and "campaigns_type_b" not in side.columns
    assert side.loc["7", "coupons_redeemed"] == 1 and side.loc["8", "coupons_redeemed"] == 1
    assert side.loc["7", "has_demographics"] == 1 and side.loc["8", "has_demographics"] == 0
    assert side.loc["7", "age_45-54"] == 1 and side.loc["9"].sum() == 0  # nothing known of household 9
