"""CLV reads an order's value as ingest and the profile do (`core.orders.order_value`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpers import consent_message
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.models.clv.service import read_purchases
from maison.profiles.service import get_profile

AT = datetime(2026, 3, 1, tzinfo=UTC)


def order(n: int, **value: object) -> dict[str, object]:
    return {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": f"o{n}",
            "timestamp": f"2026-01-{10 + n:02d}T10:00:00Z", "properties": {"order_id": f"ord-{n}", **value}}


@pytest.mark.parametrize(("value", "amount"), [
    ({"total": 120, "revenue": 100}, 120.0),  # the total first, as the profile's RFM sums it
    ({"revenue": None, "total": 80}, 80.0),  # a null revenue does not hide the total
    ({"value": 45.5}, 45.5),
], ids=["total over revenue", "null revenue", "value alone"])
def test_clv_and_the_profile_agree_on_what_an_order_was_worth(engine, value: dict[str, object],
                                                              amount: float) -> None:
    with engine.begin() as conn:
        ingest(conn, [consent_message(at="2026-01-01T00:00:00Z", userId="u1"), order(1, **value)],
               source="t", received_at=AT, limits=IngestSettings(), suppression_key=b"k")
    with engine.connect() as conn:
        client = find_client(conn, "u1")
        bought = read_purchases(conn, [client], at=AT)
        profile = get_profile(conn, "u1", as_of=AT)
    assert bought.amount == [amount]
    assert float(profile.rfm.monetary) == amount
