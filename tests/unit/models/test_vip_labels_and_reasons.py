"""Observed training labels and plain-words reasons, as pure functions."""

from __future__ import annotations

import pandas as pd

from maison.models.features.spec import DAY, spec_for
from maison.models.vip.labels import observed_outcomes, top_fraction_label
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


def test_reasons_only_name_what_raised_the_score_and_the_client_shows() -> None:
    spec = spec_for(["Coats"], ["Atelier Collection"])
    values = {"collection_views__atelier_collection": 3.0, "wishlist_adds": 0.0, "views__coats": 1.0, "spend": 800.0}
    contributions = {"collection_views__atelier_collection": 0.9, "wishlist_adds": 0.5, "views__coats": 0.2,
                     "spend": -0.4}
    said = reasons(values, contributions, spec)
    assert said == ["viewed Atelier Collection pieces 3 times in the first 30 days",
                    "viewed Coats pieces once in the first 30 days"]
