"""An order's value, read the one way every part of Maison reads it.

Segment's e-commerce spec gives an order `total`, `revenue` and `value`; shops send one, two or
all three. Ingest stores the first present of `total`, `revenue`, `value` as the order's typed
value, the profile's RFM sums it, and the value models must see the same amount: a client's
lifetime value and their profile cannot disagree about what they spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

ORDER_VALUE_KEYS = ("total", "revenue", "value")
_CENT = Decimal("0.01")


def stated_value(props: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The first of `ORDER_VALUE_KEYS` the properties state (null counts as not stated), with its key."""
    for key in ORDER_VALUE_KEYS:
        value = props.get(key)
        if value is not None:
            return key, value
    return None


def amount(value: Any) -> Decimal | None:
    """A JSON number (or numeric text) as an exact decimal; None for anything else (booleans,
    NaN, infinities, text that is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


def money(value: Any) -> Decimal | None:
    """`amount` to the cent: what an order's value is stored and summed as."""
    found = amount(value)
    return None if found is None else found.quantize(_CENT)


def order_value(props: Mapping[str, Any]) -> Decimal | None:
    """The order's value: the first stated of `total`, `revenue`, `value`, when it is a number."""
    stated = stated_value(props)
    return None if stated is None else money(stated[1])
