"""An order's value is read one way by ingest, the profile and the value models."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maison.core.orders import money, order_value


@pytest.mark.parametrize(("props", "value"), [
    ({"total": 120, "revenue": 100, "value": 90}, Decimal("120.00")),  # the total first
    ({"revenue": 100, "value": 90}, Decimal("100.00")),
    ({"total": None, "revenue": 99.999}, Decimal("100.00")),  # a null is not stated: it hides nothing
    ({"value": "80.5"}, Decimal("80.50")),
    ({}, None),
    ({"total": "NaN", "revenue": 100}, None),  # the first stated decides; no number, no value
    ({"total": True}, None),
])
def test_the_first_stated_of_total_revenue_value_is_the_orders_value(props: dict[str, object],
                                                                      value: Decimal | None) -> None:
    assert order_value(props) == value


def test_money_is_a_finite_number_to_the_cent() -> None:
    assert money(12.345) == Decimal("12.34")  # the number as written, to the cent, half to even
    assert money(7) == Decimal("7.00")
    assert [money(v) for v in ("Infinity", "12,50", None, [1], False)] == [None] * 5
