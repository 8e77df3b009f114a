"""The composer at L2: behaviour sections join the declared top sellers, curated as one selection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from maison.consent.purposes import L1_PURPOSES
from maison.personalize.composer import compose
from maison.personalize.top_sellers import Signals
from personalize_factory import inputs, product, track

SEND = datetime(2026, 3, 10, 19, tzinfo=UTC)
CATALOGUE = [product("KN-1", "Knitwear", subcategory="Cardigans", pairs=("TR-1",), tags=("office",)),
             product("KN-2", "Knitwear", subcategory="Cardigans"),
             product("TR-1", "Trousers", subcategory="Trousers", tags=("office",))]
SIGNALS = {"KN-1": Signals(units=5), "KN-2": Signals(units=4)}
ROWS = [track("Product Added to Wishlist", datetime(2026, 3, 8, 9, tzinfo=UTC), product_id="KN-1"),
        track("Products Searched", datetime(2026, 3, 8, 9, 5, tzinfo=UTC), query="office looks")]


def test_l2_adds_behaviour_sections_and_never_shows_a_product_twice() -> None:
    digest = compose(inputs(ROWS, CATALOGUE, at=SEND, declared=("Knitwear",), signals=SIGNALS))
    assert digest is not None
    assert [s.kind for s in digest.sections] == ["top_sellers", "search_coordinates"]
    assert [i.product_id for i in digest.items] == ["KN-1", "KN-2", "TR-1"]  # KN-1 is a top seller: shown once


def test_the_same_history_changes_nothing_at_l1() -> None:
    l2 = inputs(ROWS, CATALOGUE, at=SEND, declared=("Knitwear",), signals=SIGNALS)
    l1 = replace(l2, level="L1", allowed=frozenset(L1_PURPOSES), history=None)
    digest = compose(replace(l2, level="L1"))
    assert digest is not None and digest == compose(l1)
    assert {s.kind for s in digest.sections} == {"top_sellers"}
