"""Training labels for the future-VIP model from what a store has actually observed.

A store never knows a client's next twelve months at training time, and simulated truth is
not data. The label is therefore built from observed purchases only:

- a client is eligible once `window_days + min_horizon_days` have passed since first contact,
  so every label rests on at least `min_horizon_days` of observed future;
- their outcome is the spend after the window, over at most `horizon_days`, divided by the
  days actually observed: a spend *rate*, so clients seen for 3 or 12 months compare fairly;
- label 1 for the top `top_fraction` of eligible clients by that rate (the future top decile);
- for the model to learn from, the label graded by that rate (`graded_labels`): near-misses
  and clear misses differ, while calibration and validation keep the 0/1 label.

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


def graded_labels(values: pd.Series, labels: pd.Series, *, width: float = 0.1) -> pd.Series:
    """The 0/1 label graded by how close each client's outcome came to the threshold, in [0, 1].

    Why: a top-decile label keeps one bit of a continuous outcome, so a client at the 89th
    percentile teaches the trees as much as one who never bought again. Graded, a client's
    target is a logistic function of their percentile among these clients, 0.5 where the 0/1
    labels change (between the last negative and first positive) and `width` percentiles per
    unit of log-odds:
    the ordering near the threshold, where the ranking is decided, is kept. Clients who spent
    nothing stay at 0, as `top_fraction_label` never makes them positive.
    """
    if width <= 0:
        raise ValueError("width must be positive")
    share = float(np.mean(np.asarray(labels, dtype=float)))
    percentile = values.rank(pct=True, method="average")
    threshold = 1.0 - share + 0.5 / max(len(values), 1)
    graded = 1.0 / (1.0 + np.exp(-(percentile - threshold) / width))
    return graded.where(values > 0, 0.0).astype(float)
