"""`browsing_new_category`: an undeclared category browsed in sequence surfaces, and says why."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from maison.personalize.sections import browsing_new_category
from maison.personalize.top_sellers import Signals
from personalize_factory import inputs, product, track

SEND = datetime(2026, 3, 10, 8, tzinfo=UTC)
VISIT = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)  # Saturday 11:00 in Berlin
NEW = date(2026, 3, 1)
CATALOGUE = [
    product("BE-1", "Beauty", subcategory="Skincare"),
    product("BE-2", "Beauty", subcategory="Fragrance"),
    product("BE-3", "Beauty", subcategory="Fragrance", launched=NEW, collections=("Atelier Scents",)),
    product("BE-4", "Beauty", subcategory="Skincare", launched=NEW),
    product("BE-5", "Beauty", subcategory="Body", collections=("Atelier Scents",)),
    product("BE-6", "Beauty", subcategory="Skincare", launched=NEW, online={"one_size": 0}),
    product("BE-7", "Beauty", subcategory="Skincare", launched=NEW, restricted=True),
]
SIGNALS = {"BE-1": Signals(units=30), "BE-2": Signals(units=20), "BE-4": Signals(units=1)}


def visit(start: datetime, gap: timedelta = timedelta(minutes=3)) -> list[dict]:  # type: ignore[type-arg]
    steps = [("Product List Viewed", {"category": "Beauty", "subcategory": "Skincare"}),
             ("Product Viewed", {"product_id": "BE-1", "dwell_seconds": 50}),
             ("Product List Viewed", {"category": "Beauty", "subcategory": "Fragrance"}),
             ("Product Viewed", {"product_id": "BE-2", "dwell_seconds": 70})]
    return [track(name, start + gap * n, **props) for n, (name, props) in enumerate(steps)]


def test_a_berlin_client_browsing_an_undeclared_category_gets_its_new_pieces_not_its_top_sellers() -> None:
    rows = visit(VISIT)
    [section] = browsing_new_category.build(inputs(rows, CATALOGUE, at=SEND, zone="Europe/Berlin",
                                                   declared=("Footwear",), signals=SIGNALS))
    # BE-4 is new but a top seller; BE-6 is sold out; BE-7 is restricted
    assert [i.product_id for i in section.items] == ["BE-3", "BE-5"]
    assert "Saturday morning" in section.text and "Skincare, then Fragrance" in section.text
    reason = section.items[0].reason
    assert "not one of the categories you chose" in reason.text and "your own browsing" in reason.text
    assert reason.data_categories == ("browsing_behaviour",)
    assert [e.message_id for e in reason.evidence] == [r["messageId"] for r in rows]


def test_declared_categories_single_subcategories_and_scattered_looks_do_not_count() -> None:
    declared = inputs(visit(VISIT), CATALOGUE, at=SEND, declared=("Beauty",), signals=SIGNALS)
    one_sub = [track("Product Viewed", VISIT + timedelta(minutes=n), product_id="BE-1") for n in range(4)]
    scattered = visit(VISIT, gap=timedelta(hours=2))
    assert browsing_new_category.build(declared) == []
    assert browsing_new_category.build(inputs(one_sub, CATALOGUE, at=SEND, signals=SIGNALS)) == []
    assert browsing_new_category.build(inputs(scattered, CATALOGUE, at=SEND, signals=SIGNALS)) == []
