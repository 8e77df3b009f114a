"""A `Catalogue` works out what is derived from all its products once; a plain list every time."""

from __future__ import annotations

from decimal import Decimal

from maison.catalog import catalogue
from maison.catalog.catalogue import Catalogue
from maison.catalog.entities import Product


def product(pid: str, category: str) -> Product:
    return Product(product_id=pid, name=pid, category=category, price=Decimal(100), currency="EUR",
                   sizes=("one_size",), stock={"online": {"one_size": 1}})


def test_a_catalogue_is_the_sequence_of_its_products() -> None:
    items = [product("A", "Home"), product("B", "Books"), product("C", "Home")]
    shelf = Catalogue(items)
    assert list(shelf) == items and len(shelf) == 3 and shelf[1] is items[1] and list(shelf[1:]) == items[1:]
    assert catalogue.by_id(shelf) == {"A": items[0], "B": items[1], "C": items[2]}
    assert catalogue.by_category(shelf) == {"Home": [items[0], items[2]], "Books": [items[1]]}


def test_what_is_derived_is_computed_once_per_catalogue_and_each_time_for_a_list() -> None:
    items = [product("A", "Home")]
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return len(calls)

    shelf = Catalogue(items)
    assert [catalogue.derived(shelf, "n", count) for _ in range(3)] == [1, 1, 1]
    assert catalogue.derived(shelf, "other", count) == 2  # another key, another value
    assert [catalogue.derived(items, "n", count) for _ in range(2)] == [3, 4]  # a list remembers nothing
    assert catalogue.derived(Catalogue(items), "n", count) == 5  # a new read of the catalogue starts afresh
