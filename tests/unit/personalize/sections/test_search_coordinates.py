"""`search_coordinates`: the search quoted, answered with stylist pairings that fit its words."""

from __future__ import annotations

from datetime import UTC, datetime

from maison.consent.purposes import L1_PURPOSES, L2_PURPOSES
from maison.personalize.sections import search_coordinates
from maison.personalize.sections.search_coordinates import matching_tags
from maison.personalize.top_sellers import Signals
from personalize_factory import inputs, product, track

SEND = datetime(2026, 3, 10, 14, tzinfo=UTC)  # Tuesday 09:00 in New York
JACKET = product("FW-J", "Outerwear", tags=("country-weekend",), pairs=("FW-B", "FW-X", "FW-C"), name="Field Jacket")
BOOTS = product("FW-B", "Footwear", tags=("country-weekend", "classic"))
SOLD_OUT = product("FW-X", "Footwear", tags=("country-weekend",), online={"one_size": 0})
CITY = product("FW-C", "Footwear", tags=("classic",))
ELSEWHERE = product("FW-E", "Footwear", tags=("country-weekend",))
CATALOGUE = [JACKET, BOOTS, SOLD_OUT, CITY, ELSEWHERE]


def history() -> list[dict]:  # type: ignore[type-arg]
    return [
        track("Product Viewed", datetime(2026, 3, 5, 23, tzinfo=UTC), product_id="FW-J", dwell_seconds=120),
        track("Product Added to Wishlist", datetime(2026, 3, 7, 13, tzinfo=UTC), product_id="FW-J"),
        track("Products Searched", datetime(2026, 3, 7, 13, 5, tzinfo=UTC), query="Country weekend layers"),
    ]


def test_the_query_is_quoted_and_only_in_stock_pairings_carrying_its_tag_are_offered() -> None:
    [section] = search_coordinates.build(inputs(history(), CATALOGUE, at=SEND, zone="America/New_York"))
    assert '"Country weekend layers"' in section.text and "Saturday morning" in section.text
    assert [i.product_id for i in section.items] == ["FW-B"]
    [item] = section.items
    assert set(item.reason.data_categories) == {"search_history", "browsing_behaviour"}
    assert item.reason.attributes_cited == ("country-weekend",) and "Field Jacket" in item.reason.text


def test_the_longest_tag_the_query_spells_out_wins_over_a_generic_word() -> None:
    catalogue = [product("A", tags=("office",)), product("B", tags=("office-to-dinner",))]
    assert matching_tags("office to dinner outfits", catalogue) == ["office-to-dinner"]
    assert matching_tags("dinner office", catalogue) == ["office"]
    assert matching_tags("summer dresses", catalogue) == []


def test_without_browsing_the_search_alone_leads_to_tagged_best_sellers() -> None:
    no_browsing = [p for p in (*L1_PURPOSES, *L2_PURPOSES) if p != "browsing_behaviour"]
    signals = {"FW-E": Signals(units=9), "FW-B": Signals(units=3)}
    [section] = search_coordinates.build(inputs(history(), CATALOGUE, at=SEND, zone="America/New_York",
                                                allowed=no_browsing, signals=signals))
    assert [i.product_id for i in section.items] == ["FW-E", "FW-B", "FW-J"]
    assert all(i.reason.data_categories == ("search_history",) for i in section.items)
    assert all(e.event == "Products Searched" for i in section.items for e in i.reason.evidence)
