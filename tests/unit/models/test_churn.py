"""Churn per client: the classifier and P(alive) both see who stopped buying."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from maison.models import churn
from maison.models.features.spec import DAY

START = 1_700_000_000


def _shoppers(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, set[str]]:
    """Clients buying every few weeks; a third of them stop (and stop browsing) at a random day."""
    rng = np.random.default_rng(seed)
    rows, lapsed = [], set()
    for i in range(n):
        cid = f"k{i}"
        stop = START + int(rng.integers(100, 330)) * DAY if i % 3 == 0 else START + 10_000 * DAY
        if i % 3 == 0:
            lapsed.add(cid)
        t = START + int(rng.integers(0, 20)) * DAY
        while t < START + 400 * DAY and t < stop:
            rows.append(
                {
                    "client_id": cid,
                    "t": t,
                    "month": 1,
                    "event": "Order Completed",
                    "order_id": f"{cid}-{t}",
                    "amount": float(rng.integers(50, 500)),
                }
            )
            rows.append({"client_id": cid, "t": t - 3600, "month": 1, "event": "Product Viewed", "product_id": "P1"})
            t += int(rng.integers(10, 40)) * DAY
    return pd.DataFrame(rows), lapsed


def test_both_churn_views_rank_clients_who_stopped_buying() -> None:
    events, _ = _shoppers()
    at = START + 400 * DAY
    model = churn.train(events, at=at - 60 * DAY, horizon_days=60)
    scores = churn.churn_scores(events[events.t < at - 60 * DAY], model, at=at - 60 * DAY)
    later = events[(events.t >= at - 60 * DAY) & (events.event == "Order Completed")]
    churned = [int(s.client_id not in set(later.client_id)) for s in scores]
    assert roc_auc_score(churned, [s.churn_probability for s in scores]) > 0.8
    assert roc_auc_score(churned, [1 - s.probability_alive for s in scores]) > 0.7
    assert all(0 <= s.churn_probability <= 1 and 0 <= s.probability_alive <= 1 for s in scores)


def test_churn_labels_only_read_the_horizon_after_the_cutoff() -> None:
    events, _ = _shoppers(60, seed=1)
    cutoff = START + 200 * DAY
    rows = churn.model.examples(events, cutoff=cutoff, horizon_days=30)
    bought = set(
        events[(events.t >= cutoff) & (events.t < cutoff + 30 * DAY) & (events.event == "Order Completed")].client_id
    )
    assert dict(zip(rows.client_id, rows.churned, strict=True)) == {c: int(c not in bought) for c in rows.client_id}
