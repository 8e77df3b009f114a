"""`considered_items`: pieces the client keeps returning to, told in their own local days."""

from __future__ import annotations

from datetime import UTC, datetime

from maison.consent.purposes import L1_PURPOSES, L2_PURPOSES
from maison.personalize.sections import considered_items
from personalize_factory import inputs, product, track

SEND = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)  # Tuesday 09:00 in Tokyo
SUIT = product("MT-1", "Men's Tailoring", subcategory="Suits", online={"48": 0, "50": 2, "52": 1})


def test_a_tokyo_client_is_told_his_visits_in_tokyo_days_and_parts_of_day() -> None:
    rows = [
        track("Product Viewed", datetime(2026, 3, 4, 23, 30, tzinfo=UTC), product_id="MT-1", dwell_seconds=60),
        track("Product Viewed", datetime(2026, 3, 6, 5, 0, tzinfo=UTC), product_id="MT-1", dwell_seconds=90),
        track("Product Added to Wishlist", datetime(2026, 3, 8, 12, 30, tzinfo=UTC), product_id="MT-1"),
    ]
    [section] = considered_items.build(inputs(rows, [SUIT], at=SEND, zone="Asia/Tokyo"))
    [item] = section.items
    assert section.kind == "considered_items"
    assert "viewed it Thursday morning, returned Friday afternoon and saved it Sunday evening" in item.reason.text
    evidence = [e.to_dict() for e in item.reason.evidence]
    assert [e["message_id"] for e in evidence] == [r["messageId"] for r in rows]
    assert [(e["weekday"], e["part_of_day"]) for e in evidence] == [
        ("Thursday", "morning"), ("Friday", "afternoon"), ("Sunday", "evening")]
    assert item.available_sizes == ("50", "52") and "50 and 52" in item.reason.text
    assert item.reason.data_categories == ("browsing_behaviour",)


def test_one_short_look_is_not_consideration_but_one_long_one_is() -> None:
    short = [track("Product Viewed", datetime(2026, 3, 9, 1, tzinfo=UTC), product_id="MT-1", dwell_seconds=40)]
    long = [track("Product Viewed", datetime(2026, 3, 9, 1, tzinfo=UTC), product_id="MT-1", dwell_seconds=300)]
    assert considered_items.build(inputs(short, [SUIT], at=SEND, zone="Asia/Tokyo")) == []
    assert len(considered_items.build(inputs(long, [SUIT], at=SEND, zone="Asia/Tokyo"))) == 1


def test_bought_unbuyable_or_switched_off_means_no_section() -> None:
    saved = [track("Product Added to Wishlist", datetime(2026, 3, 8, 12, tzinfo=UTC), product_id="MT-1")]
    bought = [*saved, track("Order Completed", datetime(2026, 3, 9, tzinfo=UTC),
                            products=[{"product_id": "MT-1", "quantity": 1}])]
    gone = product("MT-1", "Men's Tailoring", online={"50": 0})
    no_browsing = [p for p in (*L1_PURPOSES, *L2_PURPOSES) if p != "browsing_behaviour"]
    assert considered_items.build(inputs(bought, [SUIT], at=SEND)) == []
    assert considered_items.build(inputs(saved, [gone], at=SEND)) == []
    assert considered_items.build(inputs(saved, [SUIT], at=SEND, allowed=no_browsing)) == []
    assert len(considered_items.build(inputs(saved, [SUIT], at=SEND))) == 1


def test_visits_a_week_apart_carry_their_dates() -> None:
    rows = [
        track("Product Viewed", datetime(2026, 2, 26, 20, tzinfo=UTC), product_id="MT-1", dwell_seconds=60),
        track("Product Viewed", datetime(2026, 3, 7, 20, tzinfo=UTC), product_id="MT-1", dwell_seconds=60),
    ]
    [section] = considered_items.build(inputs(rows, [SUIT], at=SEND))
    assert "Thursday 26 February in the evening" in section.items[0].reason.text
    assert "returned Saturday 7 March in the evening" in section.items[0].reason.text
