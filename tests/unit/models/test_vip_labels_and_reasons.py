"""Observed training labels and plain-words reasons, as pure functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maison.models.features.spec import DAY, spec_for
from maison.models.vip.labels import graded_labels, observed_outcomes, top_fraction_label
from maison.models.vip.reasons import reasons

START = 1_760_000_000


def test_labels_read_only_observed_spend_after_the_window_and_compare_rates() -> None:
    events = pd.DataFrame([
        {"client_id": "old", "t": START, "event": "Order Completed", "order_id": "1", "amount": 5000.0},  # in window
        {"client_id": "old", "t": START + 40 * DAY, "event": "Order Completed", "order_id": "2", "amount": 1000.0},
        {"client_id": "new", "t": START + 100 * DAY, "event": "Product Viewed"},
        {"client_id": "new", "t": START + 140 * DAY, "event": "Order Completed", "order_id": "3", "amount": 900.0},
        {"client_id": "late", "t": START + 150 * DAY, "event": "Product Viewed"},  # not 90 days observed yet
    ])
    out = observed_outcomes(events, at_seconds=START + 200 * DAY, window_days=30, min_horizon_days=60)
    rows = out.set_index("client_id")
    assert set(rows.index) == {"old", "new"}
    assert rows.loc["old", "spend_after"] == 1000.0 and rows.loc["old", "horizon_days"] == 170
    assert rows.loc["new", "spend_after"] == 900.0 and rows.loc["new", "horizon_days"] == 70
    assert rows.loc["new", "spend_rate"] > rows.loc["old", "spend_rate"]  # fewer days observed, same value


def test_the_top_fraction_never_labels_clients_who_spent_nothing() -> None:
    assert top_fraction_label(pd.Series([0.0] * 20)).sum() == 0
    assert top_fraction_label(pd.Series(range(20), dtype=float)).tolist()[-2:] == [1, 1]


def test_graded_labels_keep_the_order_of_outcomes_and_agree_with_the_labels_at_the_threshold() -> None:
    values = pd.Series(np.random.default_rng(0).lognormal(5, 1, 400)).where(lambda v: v > 80, 0.0)
    labels = top_fraction_label(values)
    graded = graded_labels(values, labels, width=0.1)
    assert ((graded >= 0) & (graded <= 1)).all()
    assert (graded[values == 0] == 0).all()  # no spend: never a little bit of a VIP
    spenders = values > 0
    by_value = graded[spenders].iloc[np.argsort(values[spenders].to_numpy(), kind="stable")]
    assert by_value.is_monotonic_increasing and by_value.iloc[-1] > by_value.iloc[0] + 0.5
    assert graded[labels == 1].min() > 0.5 > graded[labels == 0].max()  # same side of 0.5 as the label
    near = graded[(labels == 0) & spenders].max()
    assert 0.3 < near < 0.5  # the best non-VIP is nearly one: what a 0/1 label throws away
    sharp = graded_labels(values, labels, width=0.005)
    assert (sharp - labels).abs().mean() < (graded - labels).abs().mean()  # narrower: closer to 0/1
    with pytest.raises(ValueError):
        graded_labels(values, labels, width=0.0)


def test_reasons_only_name_what_raised_the_score_and_the_client_shows() -> None:
    spec = spec_for(["Coats"], ["Atelier Collection"])
    values = {"collection_views__atelier_collection": 3.0, "wishlist_adds": 0.0, "views__coats": 1.0, "spend": 800.0}
    contributions = {"collection_views__atelier_collection": 0.9, "wishlist_adds": 0.5, "views__coats": 0.2,
                     "spend": -0.4}
    said = reasons(values, contributions, spec)
    assert said == ["viewed Atelier Collection pieces 3 times in the first 30 days",
                    "viewed Coats pieces once in the first 30 days"]
