"""Training labels for the future-VIP model from what a store has actually observed.

A store never knows a client's next twelve months at training time, and simulated truth is
not data. The label is therefore built from observed purchases only:

- a client is eligible once `window_days + min_horizon_days` have passed since first contact,
  so every label rests on at least `min_horizon_days` of observed future;
- their outcome is the spend after the window, over at most `horizon_days`, divided by the
  days actually observed: a spend *rate*, so clients seen for 3 or 12 months compare fairly;
- label 1 for the top `top_fraction` of eligible clients by that rate (the future top decile).

Short horizons make the label noisier than a full year (a single big order can dominate),
which costs some accuracy but never leaks the future: all of it lies before `at`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maison.models.features.events import ORDER
from maison.models.features.spec import DAY


def observed_outcomes(
    events: pd.DataFrame,
    *,
    at_seconds: int,
    window_days: int = 30,
    min_horizon_days: int = 60,
    horizon_days: int = 365,
) -> pd.DataFrame:
    """Per eligible client: `first_contact`, `horizon_days` observed and `spend_rate` after the window."""
    first = events.groupby("client_id")["t"].min().rename("first_contact")
    window_end = first + window_days * DAY
    horizon_end = np.minimum(window_end + horizon_days * DAY, at_seconds)
    observed = ((horizon_end - window_end) / DAY).rename("horizon_days")
    frame = pd.concat([first, observed], axis=1)
    frame = frame[frame["horizon_days"] >= min_horizon_days]
    orders = events[events["event"] == ORDER].join(frame, on="client_id", how="inner")
    after = orders[
        (orders["t"] >= orders["first_contact"] + window_days * DAY)
        & (orders["t"] < orders["first_contact"] + (window_days * DAY) + orders["horizon_days"] * DAY)
    ]
    spend = after.groupby("client_id")["amount"].sum()
    frame["spend_after"] = spend.reindex(frame.index).fillna(0.0)
    frame["spend_rate"] = frame["spend_after"] / frame["horizon_days"]
    return frame.reset_index()


def top_fraction_label(values: pd.Series, *, fraction: float = 0.1) -> pd.Series:
    """1 for the top `fraction` by value (ties at the threshold included, zeros never)."""
    threshold = values.quantile(1 - fraction)
    return ((values >= threshold) & (values > 0)).astype(int)
