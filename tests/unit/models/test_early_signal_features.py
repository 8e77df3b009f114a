"""The early-signal pipeline: features of the first window only, the same on every backend."""

from __future__ import annotations

import pandas as pd
import pytest

from early_signals import CATALOG, COLLECTIONS, START, world
from maison.models.features import compute, spec_for
from maison.models.features.spec import DAY

SPEC = spec_for(CATALOG.category, COLLECTIONS.collection)


def _events(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame([{"month": 1, **r} for r in rows])


def test_events_after_the_window_leave_features_unchanged() -> None:
    events, _ = world(80, seed=3)
    before = compute(events, CATALOG, COLLECTIONS, SPEC)
    first = events.groupby("client_id")["t"].min()
    later = pd.DataFrame(
        {
            "client_id": first.index,
            "t": first.to_numpy() + 30 * DAY + 5,
            "month": 1,
            "event": "Order Completed",
            "product_id": "P3",
            "order_id": [f"late{i}" for i in range(len(first))],
            "amount": 2000.0,
        }
    )
    views = later.assign(event="Product Viewed", order_id=None, amount=None, t=later.t + 3600)
    after = compute(pd.concat([events, later, views]), CATALOG, COLLECTIONS, SPEC)
    pd.testing.assert_frame_equal(before, after)


def test_window_starts_at_first_contact_and_counts_what_happened_in_it() -> None:
    events = _events(
        {"client_id": "a", "t": START, "event": "Product Viewed", "product_id": "P2", "dwell_seconds": 60.0},
        {"client_id": "a", "t": START + 120, "event": "Product Viewed", "product_id": "P9", "dwell_seconds": 60.0},
        {"client_id": "a", "t": START + 10 * DAY, "event": "Product Added", "product_id": "P2"},
        {
            "client_id": "a",
            "t": START + 20 * DAY,
            "event": "Order Completed",
            "product_id": "P2",
            "order_id": "o1",
            "amount": 1500.0,
            "store_id": "milan",
        },
        {"client_id": "a", "t": START + 31 * DAY, "event": "Product Viewed", "product_id": "P3"},
    )
    row = compute(events, CATALOG, COLLECTIONS, SPEC).iloc[0]
    assert row.product_views == 2 and row.views_week1 == 2
    assert row.sessions == 3  # the first two views share a visit; the cart and the order are their own
    assert row.abandoned_carts == 1
    assert row.collection_views__maison_atelier == 1
    assert row.views__coats == 1 and row.views__candles == 1 and row.categories_viewed == 2
    assert row.first_order_amount == 1500.0 and row.first_order_in_store == 1 and row.first_order_store == "milan"
    assert row.first_order_category == "Coats" and row.days_to_first_order == pytest.approx(20.0)
    assert row.rel_price_viewed_max == pytest.approx(1500.0 / CATALOG.price.median())


def test_a_client_without_orders_has_no_first_purchase_attributes_but_zero_spend() -> None:
    events = _events({"client_id": "b", "t": START, "event": "Email Opened"})
    row = compute(events, CATALOG, COLLECTIONS, SPEC).iloc[0]
    assert row.spend == 0 and row.orders == 0 and row.email_opens == 1
    assert pd.isna(row.first_order_amount) and pd.isna(row.first_order_category)
