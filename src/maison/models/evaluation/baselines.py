"""The two rankings a maison would otherwise use, computed on the same first window.

- `early_spend`: RFM style, spend in the window (orders break ties).
- `bgnbd_value`: BG/NBD + Gamma-Gamma fitted on the window's purchases (daily periods, T from
  the first purchase to the window's end), expected spend over the next `horizon_days`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maison.models.clv import BGNBD, GammaGamma
from maison.models.exceptions import ConvergenceError, ModelInputError
from maison.models.features.events import ORDER
from maison.models.features.spec import DAY


def early_spend(features: pd.DataFrame) -> np.ndarray:
    return np.asarray(features["spend"].fillna(0) + 1e-6 * features["orders"].fillna(0), dtype=float)


def window_summary(events: pd.DataFrame, window_end: pd.Series) -> pd.DataFrame:
    """Per client with a purchase before their window end: frequency, recency, T (days), monetary."""
    orders = events[events["event"] == ORDER].join(window_end.rename("end"), on="client_id", how="inner")
    orders = orders[orders["t"] < orders["end"]]
    orders = orders.assign(day=orders["t"] // DAY)
    daily = orders.groupby(["client_id", "day"], as_index=False).agg(amount=("amount", "sum"), end=("end", "first"))
    g = daily.groupby("client_id")
    first, last = g["day"].min(), g["day"].max()
    frame = pd.DataFrame(
        {
            "frequency": g.size() - 1.0,
            "recency": (last - first).astype(float),
            "T": (g["end"].first() // DAY - first).astype(float).clip(lower=1.0),
        }
    )
    first_spend = daily.sort_values("day").groupby("client_id")["amount"].first()
    repeat = g["amount"].sum() - first_spend
    frame["monetary"] = np.where(
        frame["frequency"] > 0, repeat / frame["frequency"].where(frame["frequency"] > 0, 1), 0
    )
    return frame


def bgnbd_value(events: pd.DataFrame, window_end: pd.Series, *, horizon_days: int = 365) -> pd.Series:
    """Expected spend over the horizon per client of `window_end` (0 without a window purchase)."""
    s = window_summary(events, window_end)
    value = pd.Series(0.0, index=window_end.index)
    if s.empty:
        return value
    try:
        purchases = BGNBD(penalizer=1e-3).fit(s["frequency"], s["recency"], s["T"])
        expected = purchases.conditional_expected_purchases(horizon_days, s["frequency"], s["recency"], s["T"])
        repeaters = s[(s["frequency"] > 0) & (s["monetary"] > 0)]
        spend = GammaGamma(penalizer=1e-3).fit(repeaters["frequency"], repeaters["monetary"])
        per_order = spend.conditional_expected_average_profit(s["frequency"], s["monetary"])
        value.loc[s.index] = np.asarray(expected) * np.asarray(per_order)
    except (ConvergenceError, ModelInputError):
        # Too few repeat purchases in a short window to identify the model: rank by expected
        # purchases alone when it fitted, else fall back to early spend (what a maison would do).
        value.loc[s.index] = s["frequency"] + s["monetary"] * 1e-6
    return value
