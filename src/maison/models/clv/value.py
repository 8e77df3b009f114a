"""Customer lifetime value: expected purchases per month times expected spend, discounted.

lifetimes' semantics (`lifetimes.utils._customer_lifetime_value`): month i = 1..time spans
((i-1) f, i f] in the data's time unit, with f = 4.345 weeks, 30 days, 720 hours or 1 month;
the value of month i is spend * E[purchases in month i | history] / (1 + discount_rate)^i.
The discount rate is per month (0.01 a month is about 12.7% a year).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from maison.models.exceptions import ModelInputError

Floats = NDArray[np.float64]

PERIODS_PER_MONTH = {"H": 30.0 * 24.0, "D": 30.0, "W": 4.345, "M": 1.0}


class Transactions(Protocol):
    """A fitted transaction model (BGNBD, ParetoNBD)."""

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Floats: ...


def discounted_value(
    model: Transactions, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, spend: ArrayLike,
    *, time: int = 12, discount_rate: float = 0.01, freq: str = "W",
) -> Floats:
    """Sum over months 1..time of spend * expected purchases in the month / (1 + rate)^month."""
    if freq not in PERIODS_PER_MONTH:
        raise ModelInputError(f"freq must be one of {', '.join(PERIODS_PER_MONTH)} (the unit of T), got {freq!r}")
    if not (isinstance(time, int) and time >= 1):
        raise ModelInputError(f"time must be a whole number of months >= 1, got {time!r}")
    if not discount_rate > -1:
        raise ModelInputError(f"discount_rate must be > -1 (per month), got {discount_rate!r}")
    factor = PERIODS_PER_MONTH[freq]
    cumulative_before = model.conditional_expected_purchases(0.0, frequency, recency, T)
    value = np.zeros_like(cumulative_before)
    for month in range(1, time + 1):
        cumulative = model.conditional_expected_purchases(month * factor, frequency, recency, T)
        value += np.asarray(spend) * (cumulative - cumulative_before) / (1 + discount_rate) ** month
        cumulative_before = cumulative
    return value
