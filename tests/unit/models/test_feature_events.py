"""Stored messages become the feature pipeline's long table: one row per order line, worth what
the order was, whatever a shop's order messages look like."""

from __future__ import annotations

from typing import Any

import pytest

from maison.models.features.events import ORDER, from_messages


def order(order_id: str, mid: str, **props: Any) -> dict[str, Any]:
    return {"type": "track", "event": ORDER, "messageId": mid, "timestamp": "2026-01-22T19:52:30+00:00",
            "properties": {"order_id": order_id, **props}}


def amounts(*messages: dict[str, Any]) -> list[float | None]:
    table = from_messages({"c1": list(messages)})
    return [None if v != v else float(v) for v in table["amount"]]  # NaN: no amount


def test_priced_lines_are_worth_price_times_quantity() -> None:
    assert amounts(order("o1", "m1", total=700, products=[
        {"product_id": "A", "price": 300, "quantity": 2}, {"product_id": "B", "price": 100}])) == [600.0, 100.0]


def test_lines_without_a_price_share_what_the_order_leaves_and_never_add_up_to_more() -> None:
    """Copying the order's value onto each unpriced line counted 1,000 spent for a 500 order."""
    assert amounts(order("o1", "m1", total=500, products=[{"product_id": "A"}, {"product_id": "B"}])) == [250.0, 250.0]
    assert amounts(order("o2", "m2", total=500, products=[{"product_id": "A", "price": 400}, {"product_id": "B"}])) \
        == [400.0, 100.0]
    assert amounts(order("o3", "m3", revenue=90)) == [90.0]  # no lines: one line, the whole order


def test_the_order_value_is_read_as_ingest_and_the_profile_read_it() -> None:
    """`total`, else `revenue`, else `value`: a null `revenue` does not hide the total."""
    assert amounts(order("o1", "m1", revenue=None, total=120)) == [120.0]
    assert amounts(order("o2", "m2", value="80.5")) == [80.5]


@pytest.mark.parametrize(("products", "expected"), [
    (["A", {"product_id": "B", "price": 50}], [50.0]),  # a line that is not an object is no line
    ([{"product_id": "B", "price": "12,50"}, {"product_id": "C", "price": 50}], [50.0, 50.0]),  # no price: a share
], ids=["string line", "comma decimal price"])
def test_a_malformed_line_never_stops_the_pipeline(products: list[Any], expected: list[float]) -> None:
    assert amounts(order("o1", "m1", total=100, products=products)) == expected


def test_an_order_sent_twice_under_two_message_ids_counts_once() -> None:
    table = from_messages({"c1": [order("o1", "m1", total=100), order("o1", "m2", total=100),
                                  order("o2", "m3", total=40)],
                           "c2": [order("o1", "m4", total=100)]})  # another client's own o1 is theirs
    assert sorted(zip(table["client_id"], table["amount"], strict=True)) == [("c1", 40.0), ("c1", 100.0), ("c2", 100.0)]


def test_a_purchase_falls_in_the_month_of_the_clients_own_clock_however_it_was_sent() -> None:
    """New Year's Eve 23:30 in New York is 04:30 UTC on 1 January; sent with `sentAt`, ingest
    stores the corrected instant in UTC. The season of the purchase is still December."""
    from datetime import UTC, datetime

    from maison.ingest.rules import normalize

    message = {"type": "track", "event": ORDER, "userId": "u", "timestamp": "2025-12-31T23:30:00-05:00",
               "sentAt": "2025-12-31T23:30:01-05:00", "properties": {"order_id": "o1", "total": 100}}
    for context in ({"timezone": "America/New_York"}, {}):
        stored = normalize({**message, "context": context}, received_at=datetime(2026, 1, 1, 4, 30, 2, tzinfo=UTC),
                           max_event_bytes=32_000).raw
        assert stored["timestamp"].startswith("2026-01-01T04:30:01")  # the instant, in UTC
        assert from_messages({"c1": [stored]})["month"].tolist() == [12], context
