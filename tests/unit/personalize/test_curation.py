"""Curation of a digest's whole selection: no product twice, subcategory caps, no near-duplicates."""

from __future__ import annotations

from decimal import Decimal

from maison.personalize.curation import CurationPolicy, curate
from maison.personalize.entities import Item, Reason, Section
from personalize_factory import product

PRODUCTS = {p.product_id: p for p in [
    product("T1", "Knitwear", subcategory="Cardigans", maker="mill A"),
    product("T2", "Knitwear", subcategory="Cardigans", maker="mill A"),  # same maker, materials: near-duplicate of T1
    product("T3", "Knitwear", subcategory="Cardigans", maker="mill B", materials=("cashmere",)),
    product("T4", "Knitwear", subcategory="Cardigans", maker="mill C", materials=("alpaca",)),
    product("S1", "Knitwear", subcategory="Sweaters"),
]}


def section(kind: str, *ids: str) -> Section:
    return Section(kind, kind, "", tuple(Item(i, Decimal(1), None, (), Reason("r", ("browsing_behaviour",)))
                                         for i in ids))


def ids(sections: list[Section]) -> list[tuple[str, list[str]]]:
    return [(s.kind, [i.product_id for i in s.items]) for s in sections]


def test_no_product_twice_and_an_emptied_section_disappears() -> None:
    kept = curate([section("top_sellers", "S1"), section("considered_items", "S1"), section("x", "T3", "S1")],
                  PRODUCTS)
    assert ids(kept) == [("top_sellers", ["S1"]), ("x", ["T3"])]


def test_near_duplicates_and_the_subcategory_cap_are_applied_beyond_l1_only() -> None:
    kept = curate([section("a", "T1", "T2", "T3"), section("b", "T4")], PRODUCTS, CurationPolicy(max_per_subcategory=2))
    assert ids(kept) == [("a", ["T1", "T3"])]
    untouched = curate([section("top_sellers", "T1", "T2", "T3", "T4")], PRODUCTS,
                       CurationPolicy(max_per_subcategory=2))
    assert ids(untouched) == [("top_sellers", ["T1", "T2", "T3", "T4"])]


def test_the_clients_own_cart_is_never_trimmed() -> None:
    kept = curate([section("abandoned_cart", "T1", "T2", "T3"), section("b", "T1", "S1")], PRODUCTS,
                  CurationPolicy(max_per_subcategory=1))
    assert ids(kept) == [("abandoned_cart", ["T1", "T2", "T3"]), ("b", ["S1"])]
