"""Product helpers: what "in stock" means, and the shape the API and CLI show."""

from __future__ import annotations

from decimal import Decimal

from maison.catalog.entities import ContentPage, Product, RowError


def product(**overrides) -> Product:  # type: ignore[no-untyped-def]
    fields = {
        "product_id": "KN-900",
        "name": "Test Cardigan",
        "category": "Knitwear",
        "price": Decimal("395.00"),
        "currency": "EUR",
        "sizes": ("S", "M", "L"),
        "stock": {"online": {"S": 0, "M": 2, "L": 1}, "paris": {"S": 4}},
    }
    return Product(**{**fields, **overrides})


def test_in_stock_means_online_units_whatever_the_stores_hold():
    assert product().in_stock_online()
    only_in_a_store = product(stock={"online": {"S": 0}, "paris": {"S": 1}})
    assert not only_in_a_store.in_stock_online()
    assert not product(stock={}).in_stock_online()


def test_online_sizes_in_stock_follow_the_catalog_size_order():
    p = product(stock={"online": {"L": 1, "S": 3, "M": 0}})
    assert p.online_sizes_in_stock() == ("S", "L")


def test_units_of_an_unknown_location_or_size_are_zero():
    p = product()
    assert p.units("online") == 3
    assert p.units("online", "M") == 2
    assert p.units("milan") == 0
    assert p.units("online", "XXL") == 0


def test_to_dict_holds_every_field_and_an_online_summary():
    d = product(tags=("artisan",)).to_dict()
    assert d["tags"] == ["artisan"]
    assert d["stock"] == {"online": {"S": 0, "M": 2, "L": 1}, "paris": {"S": 4}}
    assert d["online"] == {"in_stock": True, "units": 3, "sizes_in_stock": ["M", "L"]}
    assert d["launched_on"] is None
    assert set(d) >= {
        "product_id",
        "name",
        "category",
        "subcategory",
        "price",
        "currency",
        "materials",
        "colors",
        "certifications",
        "maker",
        "collections",
        "limited_edition",
        "access_restricted",
        "sizes",
        "pairs_with",
        "description",
    }


def test_products_are_hashable_despite_their_stock_mapping():
    assert len({product(), product()}) == 1


def test_content_page_to_dict_renders_the_date_as_iso():
    from datetime import date

    page = ContentPage("CP-9", "Guide", "/guide", "styling", published_on=date(2025, 1, 2))
    assert page.to_dict()["published_on"] == "2025-01-02"


def test_row_error_names_line_and_field():
    assert (
        str(RowError(7, "price", "must be greater than 0"))
        == "line 7, price: must be greater than 0"
    )
    assert str(RowError(3, None, "not valid JSON")) == "line 3: not valid JSON"
