"""rfm_summary and calibration_holdout follow lifetimes' summary semantics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from maison.models.clv import calibration_holdout, rfm_summary
from maison.models.exceptions import ModelInputError


def days(*isodates: str) -> np.ndarray:
    return np.array(isodates, dtype="datetime64[s]")


def test_purchases_on_one_day_count_once_and_their_amounts_add_up() -> None:
    summary = rfm_summary(
        ["ann", "ann", "ann", "ann"], days("2024-01-01T09:00", "2024-01-01T17:00", "2024-01-05", "2024-01-05T20:00"),
        [10.0, 5.0, 30.0, 10.0], observation_end="2024-01-11", freq="D",
    )
    assert summary.frequency.tolist() == [1.0]  # two purchase days, the first is not a repeat
    assert summary.recency.tolist() == [4.0]
    assert summary.T.tolist() == [10.0]
    assert summary.monetary.tolist() == [40.0]  # repeat days only: the first day's 15 is left out


def test_weeks_start_on_monday() -> None:
    # 2024-01-07 is a Sunday, 2024-01-08 a Monday
    sunday = rfm_summary(["a", "a"], days("2024-01-01", "2024-01-07"), observation_end="2024-01-31", freq="W")
    monday = rfm_summary(["a", "a"], days("2024-01-01", "2024-01-08"), observation_end="2024-01-31", freq="W")
    assert sunday.frequency.tolist() == [0.0] and sunday.recency.tolist() == [0.0]
    assert monday.frequency.tolist() == [1.0] and monday.recency.tolist() == [1.0]
    assert monday.T.tolist() == [4.0]


def test_clients_without_repeat_purchases_have_zero_recency_and_monetary() -> None:
    summary = rfm_summary([2, 1, 2], days("2024-01-03", "2024-01-02", "2024-01-09"), [7.0, 3.0, 11.0],
                          observation_end="2024-01-10", freq="D")
    assert summary.client_id.tolist() == [1, 2]
    assert summary.frequency.tolist() == [0.0, 1.0]
    assert summary.recency.tolist() == [0.0, 6.0]
    assert summary.T.tolist() == [8.0, 7.0]
    assert summary.monetary.tolist() == [0.0, 11.0]


def test_purchases_after_the_end_are_ignored_and_late_clients_left_out() -> None:
    summary = rfm_summary(["a", "a", "b"], days("2024-01-01", "2024-02-01", "2024-02-02"),
                          observation_end="2024-01-15", freq="D")
    assert summary.client_id.tolist() == ["a"]
    assert summary.frequency.tolist() == [0.0]


def test_aware_timestamps_are_read_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    summary = rfm_summary(
        ["a", "a"], [datetime(2024, 1, 1, 0, 30, tzinfo=paris), datetime(2024, 1, 2, 0, 30, tzinfo=UTC)],
        observation_end=datetime(2024, 1, 3, tzinfo=UTC), freq="D",
    )
    # 00:30 in Paris is 23:30 UTC on 31 December
    assert summary.recency.tolist() == [2.0]
    assert summary.T.tolist() == [3.0]


def test_holdout_counts_purchase_periods_after_calibration_for_calibration_clients() -> None:
    split = calibration_holdout(
        ["a", "a", "a", "a", "b", "c"],
        days("2024-01-01", "2024-01-03", "2024-01-12", "2024-01-12T18:00", "2024-01-02", "2024-01-12"),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        calibration_end="2024-01-05", observation_end="2024-01-20", freq="D",
    )
    assert split.calibration.client_id.tolist() == ["a", "b"]  # c first bought in the holdout
    assert split.frequency_holdout.tolist() == [1.0, 0.0]
    assert split.monetary_holdout.tolist() == [7.0, 0.0]
    assert split.duration_holdout == 15.0


def test_an_unknown_frequency_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(ModelInputError, match="H, D, W"):
        rfm_summary(["a"], days("2024-01-01"), observation_end="2024-01-02", freq="M")


def test_the_holdout_must_end_after_calibration() -> None:
    with pytest.raises(ModelInputError, match="after calibration_end"):
        calibration_holdout(["a"], days("2024-01-01"), calibration_end="2024-02-01", observation_end="2024-01-15")
