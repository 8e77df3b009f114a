"""Top sellers of a category (in stock online, by units in the window, ties by product id) and
the one social-proof label each carries: the first of a fixed priority whose condition holds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maison.analytics.aggregates import units_sold
from maison.analytics.entities import Sale
from maison.analytics.sweeps import Columns, MarketRow
from maison.catalog.catalogue import Catalogue
from maison.catalog.entities import Product
from maison.personalize.shop import MarketSignals, signals_of
from maison.personalize.top_sellers import (
    LABEL_PRIORITY,
    Shelves,
    Signals,
    choose_label,
    label_holds,
    label_name,
    recommendable,
    top_sellers,
)


def product(
    pid: str, category: str = "Knitwear", *, online: int = 5, stores: int = 0, restricted: bool = False
) -> Product:
    """A two-size product with `online` units in the web shop and `stores` in a store."""
    return Product(product_id=pid, name=pid, category=category, price=Decimal(100), currency="EUR",
                   sizes=("S", "M"), stock={"online": {"S": online}, "paris": {"S": stores}},
                   access_restricted=restricted)


def signals(**units: int) -> dict[str, Signals]:
    return {pid.replace("_", "-"): Signals(units=n) for pid, n in units.items()}


def test_top_three_by_units_with_equal_units_ordered_by_product_id() -> None:
    products = [product("K-4"), product("K-2"), product("K-3"), product("K-1")]
    chosen = top_sellers(products, signals(K_1=5, K_2=9, K_3=5, K_4=5), category="Knitwear")
    assert [p.product_id for p in chosen] == ["K-2", "K-1", "K-3"]


def test_out_of_stock_products_are_skipped_even_when_they_sold_more() -> None:
    products = [product("K-1"), product("K-2", online=0, stores=4), product("K-3"), product("K-4")]
    chosen = top_sellers(products, signals(K_1=10, K_2=50, K_3=8, K_4=1), category="Knitwear")
    assert [p.product_id for p in chosen] == ["K-1", "K-3", "K-4"]


def test_store_only_and_access_restricted_products_are_never_recommendable() -> None:
    assert not recommendable(product("S-1", online=0, stores=1))
    assert not recommendable(product("A-1", restricted=True))
    assert recommendable(product("K-1"))


def test_other_categories_excluded_ids_and_unsold_products_are_left_out() -> None:
    products = [product("K-1"), product("K-2"), product("H-1", "Home"), product("K-3")]
    chosen = top_sellers(products, signals(K_1=3, K_2=2, H_1=99), category="Knitwear", exclude=frozenset({"K-1"}))
    assert [p.product_id for p in chosen] == ["K-2"]  # K-3 sold nothing: not a "top seller"


def test_the_window_is_half_open_and_rolls_with_the_instant() -> None:
    send = datetime(2026, 1, 27, 9, tzinfo=UTC)
    start = send - timedelta(days=30)
    sales = [
        Sale("P-1", 2, start),  # first instant of the window: in
        Sale("P-1", 1, start - timedelta(seconds=1)),  # just before: out
        Sale("P-2", 4, send - timedelta(seconds=1)),  # last second: in
        Sale("P-2", 7, send),  # the send instant itself: out
    ]
    assert units_sold(sales, start=start, end=send) == {"P-1": 2, "P-2": 4}
    a_week_later = send + timedelta(days=7)
    assert units_sold(sales, start=a_week_later - timedelta(days=30), end=a_week_later) == {"P-2": 11}


PEERS = [product("K-1"), product("K-2"), product("K-3"), product("K-4", online=0)]


def test_the_first_by_units_is_the_bestseller_judged_over_the_whole_category() -> None:
    sig = {"K-1": Signals(units=10), "K-2": Signals(units=10), "K-4": Signals(units=30)}
    # K-4 is out of stock but sold most: nobody in stock may claim "Bestseller".
    assert not label_holds("Bestseller", PEERS[0], PEERS, sig)
    sig["K-4"] = Signals(units=1)
    assert label_holds("Bestseller", PEERS[0], PEERS, sig)  # tie with K-2, broken by product id
    assert not label_holds("Bestseller", PEERS[1], PEERS, sig)


@pytest.mark.parametrize(
    ("mean", "count", "holds"),
    [(4.5, 10, True), (4.49, 50, False), (4.9, 9, False), (None, 0, False)],
)
def test_top_rated_needs_a_mean_of_4_5_from_10_ratings(mean: float | None, count: int, holds: bool) -> None:
    sig = {"K-1": Signals(rating_mean=mean, rating_count=count)}
    assert label_holds("Top-Rated", PEERS[0], PEERS, sig) is holds


@pytest.mark.parametrize(
    ("units", "recent", "holds"),
    [
        (30, 7, False),  # 7 vs 1.5 x (23 / 23 x 7) = 10.5
        (34, 11, True),  # 11 vs 1.5 x 7 = 10.5
        (44, 21, True),  # 21 vs exactly 1.5 x 23/23*7*... : 46*21 = 966 >= 21*23 = 483
        (5, 5, True),  # nothing before: any recent sale is a rise
        (5, 0, False),  # nothing recent is never trending
    ],
)
def test_trending_compares_the_last_7_days_with_the_weekly_average_of_the_23_before(
    units: int, recent: int, holds: bool
) -> None:
    sig = {"K-1": Signals(units=units, units_recent=recent)}
    assert label_holds("Trending", PEERS[0], PEERS, sig) is holds


def test_most_viewed_and_most_saved_may_be_shared_by_a_tie_but_need_some_activity() -> None:
    sig = {"K-1": Signals(viewers=40, wishlist_adds=0), "K-2": Signals(viewers=40, wishlist_adds=0)}
    assert label_holds("Most Popular", PEERS[0], PEERS, sig)
    assert label_holds("Most Popular", PEERS[1], PEERS, sig)
    assert not label_holds("Customer Favourite", PEERS[0], PEERS, sig)


def test_the_label_is_the_first_of_the_priority_that_holds() -> None:
    assert LABEL_PRIORITY == ("Bestseller", "Top-Rated", "Trending", "Most Popular", "Customer Favourite", "Popular in")
    sig = {
        "K-1": Signals(units=20, rating_mean=4.8, rating_count=30),
        "K-2": Signals(units=10, units_recent=10, rating_mean=4.7, rating_count=12, viewers=90),
        "K-3": Signals(units=9, units_recent=9, viewers=10),
        "K-4": Signals(units=1),
    }
    assert [choose_label(p, PEERS, sig) for p in PEERS[:3]] == ["Bestseller", "Top-Rated", "Trending"]
    quiet = {"K-1": Signals(units=20), "K-2": Signals(units=10, units_recent=1)}
    assert choose_label(PEERS[1], PEERS, quiet) == "Popular in"
    assert label_name("Popular in", "Knitwear") == "Popular in Knitwear"


def test_every_chosen_label_holds() -> None:
    sig = {p.product_id: Signals(units=i + 1, viewers=3 - i, wishlist_adds=i) for i, p in enumerate(PEERS)}
    for p in PEERS:
        assert label_holds(choose_label(p, PEERS, sig), p, PEERS, sig)


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_shelves_remember_exactly_what_top_sellers_and_labels_answer(data: st.DataObject) -> None:
    """A week's job asks the same shop the same questions for every client: `Shelves` answers once."""
    categories = ("Knitwear", "Home", "Books")
    n = data.draw(st.integers(1, 25))
    products = [product(f"P-{i:02d}", data.draw(st.sampled_from(categories)), online=data.draw(st.sampled_from([0, 3])),
                        restricted=data.draw(st.booleans())) for i in range(n)]
    products = data.draw(st.permutations(products))  # catalogue order is not id order
    if data.draw(st.booleans()):
        products = Catalogue(products)
    figures = st.builds(Signals, units=st.integers(0, 4), units_recent=st.integers(0, 2), viewers=st.integers(0, 3),
                        wishlist_adds=st.integers(0, 2), rating_mean=st.sampled_from([None, 4.0, 4.6]),
                        rating_count=st.sampled_from([0, 12]))
    given_: Mapping[str, Signals]
    if data.draw(st.booleans()):  # the job's path: an instant of one sweep, as arrays (`MarketSignals`)
        names = data.draw(st.permutations([p.product_id for p in products if data.draw(st.booleans())] + ["X-retired"]))

        def column(top: int) -> np.ndarray:
            return np.array([data.draw(st.integers(0, top)) for _ in names], dtype=np.int64)

        units, viewers, saves, rated = column(4), column(3), column(2), column(1) * 12
        row = MarketRow(Columns(names), units, np.minimum(units, column(2)), viewers, saves, rated,
                        rated * np.array([data.draw(st.sampled_from([4, 5])) for _ in names], dtype=np.int64))
        given_ = market = MarketSignals(row)
        found = dict(market)
        assert found == signals_of(row.figures()) and len(market) == len(found)
        assert market.get("X-nobody") is None and "X-nobody" not in market
    else:
        given_ = found = {p.product_id: data.draw(figures) for p in products if data.draw(st.booleans())}
    shelves = Shelves(products, given_)
    everyone = sorted(products, key=lambda p: (-found.get(p.product_id, Signals()).units, p.product_id))
    assert list(shelves.ranked()) == everyone  # best sellers of the whole shop (search coordinates)
    for category in categories:
        peers = [p for p in products if p.category == category]
        for exclude in (frozenset(), frozenset(p.product_id for p in peers[::2])):
            for k in (1, 3):
                expected = top_sellers(products, found, category=category, n=k, exclude=exclude)
                assert shelves.top_sellers(category, n=k, exclude=exclude) == expected
        for p in peers:
            assert shelves.label(p) == choose_label(p, peers, found)
            assert shelves.label(p) == choose_label(p, peers, found)  # remembered, unchanged


def test_shelves_judge_ties_zero_units_and_every_label_as_choose_label_does() -> None:
    """Each category's leader and most viewers / wishlist adds are worked out once by `Shelves`:
    a tie on units broken by product id (the leader out of stock), a category where nobody sold
    (its rank leader is no Bestseller), shared Most Popular, "most" won by a piece nobody may be
    offered (sold out, restricted), and each label of the priority."""
    products = [product("K-1", online=0), product("K-2"), product("K-3"), product("K-4"), product("K-5"),
                product("K-6"), product("K-7"), product("H-1", "Home"), product("H-2", "Home"),
                product("H-3", "Home", online=0), product("B-1", "Books", restricted=True), product("B-2", "Books")]
    sig = {
        "K-1": Signals(units=5), "K-2": Signals(units=5, viewers=9), "K-3": Signals(units=2, viewers=9),
        "K-4": Signals(units=1, wishlist_adds=4, viewers=8), "K-5": Signals(units=3, rating_mean=4.6, rating_count=12),
        "K-6": Signals(units=3, units_recent=3), "H-1": Signals(wishlist_adds=2),
        "H-2": Signals(rating_mean=4.0, rating_count=12), "H-3": Signals(wishlist_adds=5),
        "B-1": Signals(viewers=2, wishlist_adds=1), "B-2": Signals(viewers=1),
    }
    expected = {"K-1": "Bestseller", "K-2": "Most Popular", "K-3": "Most Popular", "K-4": "Customer Favourite",
                "K-5": "Top-Rated", "K-6": "Trending", "K-7": "Popular in", "H-1": "Popular in",
                "H-2": "Popular in", "H-3": "Customer Favourite", "B-1": "Most Popular", "B-2": "Popular in"}
    shelves = Shelves(products, sig)
    for p in products:
        peers = [q for q in products if q.category == p.category]
        assert (p.product_id, shelves.label(p)) == (p.product_id, choose_label(p, peers, sig))
    assert {p.product_id: shelves.label(p) for p in products} == expected
    assert set(expected.values()) == set(LABEL_PRIORITY)
