"""Validation of one catalog record: every rule, and every problem of a row reported at once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from maison.catalog.rules import (
    MAX_LENGTH,
    RowInvalid,
    parse_content_page,
    parse_product,
)


def record(**overrides: Any) -> dict[str, Any]:
    """A valid synthetic product record, shaped like a line of a catalog JSONL file."""
    base: dict[str, Any] = {
        "product_id": "KN-900",
        "name": "Test Cardigan",
        "category": "Knitwear",
        "subcategory": "Cardigans",
        "price_eur": 395,
        "currency": "EUR",
        "materials": ["merino"],
        "colors": ["charcoal"],
        "tags": ["minimalist", "sustainable"],
        "certifications": ["RWS"],
        "maker": "knitting mill, Scotland",
        "collections": ["Conscious Collection"],
        "limited_edition": False,
        "access_restricted": False,
        "launched_on": "2025-10-06",
        "sizes": ["S", "M", "L"],
        "stock": {"online": {"S": 1, "M": 0, "L": 2}, "london": {"M": 3}},
        "pairs_with": ["WW-001"],
        "description": "A cardigan.",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def problems(rec: dict[str, Any]) -> dict[str | None, str]:
    with pytest.raises(RowInvalid) as caught:
        parse_product(rec)
    return dict(caught.value.problems)


def test_a_valid_record_becomes_a_product():
    p = parse_product(record())
    assert p.product_id == "KN-900"
    assert p.price == Decimal("395.00") and p.currency == "EUR"
    assert p.tags == ("minimalist", "sustainable")
    assert p.launched_on == date(2025, 10, 6)
    assert p.stock == {"online": {"S": 1, "M": 0, "L": 2}, "london": {"M": 3}}


def test_optional_fields_default_to_empty():
    minimal = {
        k: record()[k] for k in ("product_id", "name", "category", "price_eur", "sizes", "stock")
    }
    p = parse_product(minimal)
    assert p.subcategory is None and p.maker is None and p.launched_on is None
    assert p.materials == () and p.collections == () and p.pairs_with == ()
    assert p.limited_edition is False and p.access_restricted is False


def test_one_size_products_keep_the_catalogs_size_name():
    p = parse_product(record(sizes=["one_size"], stock={"online": {"one_size": 9}}))
    assert p.sizes == ("one_size",)
    assert p.online_sizes_in_stock() == ("one_size",)


@pytest.mark.parametrize("name", ["product_id", "name", "category", "sizes", "stock"])
def test_required_fields_must_be_present(name: str):
    assert "required" in problems(record(**{name: ...}))[name]


@pytest.mark.parametrize("name", ["product_id", "name", "category"])
def test_required_text_must_not_be_blank(name: str):
    assert problems(record(**{name: "  "}))[name] == "is required"


def test_a_price_is_required():
    assert "required" in problems(record(price_eur=...))["price"]


@pytest.mark.parametrize("price", [0, -5, Decimal("-0.01")])
def test_price_must_be_greater_than_zero(price: Any):
    assert problems(record(price_eur=price))["price_eur"] == "must be greater than 0"


@pytest.mark.parametrize("price", ["395", True, [395], {"amount": 395}])
def test_price_must_be_a_number(price: Any):
    assert problems(record(price_eur=price))["price_eur"] == "must be a number"


def test_price_has_at_most_two_decimal_places():
    assert "two decimal places" in problems(record(price_eur=Decimal("19.999")))["price_eur"]


def test_price_fits_the_column():
    assert "at most" in problems(record(price_eur=Decimal("1e12")))["price_eur"]


def test_price_and_currency_are_accepted_instead_of_price_eur():
    p = parse_product(record(price_eur=..., price=Decimal("19.99"), currency="gbp"))
    assert (p.price, p.currency) == (Decimal("19.99"), "GBP")


def test_a_float_price_keeps_its_decimal_value():
    assert parse_product(record(price_eur=19.99)).price == Decimal("19.99")


def test_price_needs_a_currency():
    assert "required" in problems(record(price_eur=..., currency=..., price=100))["currency"]


@pytest.mark.parametrize("currency", ["EURO", "E1", "€€€"])
def test_currency_is_three_letters(currency: str):
    assert (
        "three letters" in problems(record(price_eur=..., price=100, currency=currency))["currency"]
    )


def test_price_eur_with_another_currency_is_refused():
    assert "must be EUR" in problems(record(currency="USD"))["currency"]


def test_price_and_price_eur_together_are_ambiguous():
    assert "not both" in problems(record(price=100))["price"]


def test_colours_is_accepted_for_colors():
    assert parse_product(record(colors=..., colours=["navy"])).colors == ("navy",)


def test_colors_and_colours_together_are_ambiguous():
    assert "not both" in problems(record(colours=["navy"]))["colours"]


@pytest.mark.parametrize("value", ["silk", [""], ["silk", 3], {"a": 1}])
def test_list_fields_are_lists_of_non_empty_strings(value: Any):
    assert problems(record(materials=value))["materials"] == "must be a list of non-empty strings"


def test_a_list_does_not_repeat_a_value():
    assert "twice" in problems(record(tags=["artisan", "artisan"]))["tags"]


@pytest.mark.parametrize("value", ["06/10/2025", "2025-13-01", 20251006])
def test_launch_date_is_an_iso_date(value: Any):
    assert "ISO date" in problems(record(launched_on=value))["launched_on"]


@pytest.mark.parametrize("value", ["yes", "true", 1])
def test_flags_are_booleans(value: Any):
    assert problems(record(limited_edition=value))["limited_edition"] == "must be true or false"


def test_sizes_list_at_least_one_size():
    assert "at least one size" in problems(record(sizes=[], stock={}))["sizes"]


@pytest.mark.parametrize("units", [-1, 1.5, True, "3", None])
def test_stock_units_are_whole_numbers_zero_or_more(units: Any):
    assert "whole number" in problems(record(stock={"online": {"M": units}}))["stock.online.M"]


def test_stock_sizes_must_be_among_the_sizes():
    assert (
        "not one of the sizes" in problems(record(stock={"paris": {"XXL": 1}}))["stock.paris.XXL"]
    )


def test_stock_maps_locations_to_sizes():
    assert "must map" in problems(record(stock={"online": 5}))["stock.online"]
    assert "must map" in problems(record(stock=[1, 2]))["stock"]


def test_an_empty_stock_is_allowed_and_means_nothing_held():
    assert not parse_product(record(stock={})).in_stock_online()


def test_unknown_fields_are_refused_with_the_allowed_ones():
    message = problems(record(colour=["red"]))["colour"]
    assert message.startswith("unknown field; allowed:") and "colours" in message


def test_text_longer_than_its_column_is_refused():
    assert "longer than 100" in problems(record(product_id="X" * 101))["product_id"]


def test_every_problem_of_a_row_is_reported_at_once():
    found = problems(record(price_eur=0, launched_on="soon", stock={"online": {"M": -1}}, name=...))
    assert set(found) == {"price_eur", "launched_on", "stock.online.M", "name"}


def test_length_limits_match_the_schema_columns():
    from maison.core.schema import content_pages, products, stock

    columns = {
        "product_id": products.c.product_id,
        "name": products.c.name,
        "category": products.c.category,
        "subcategory": products.c.subcategory,
        "maker": products.c.maker,
        "size": stock.c.size,
        "location": stock.c.location,
        "page_id": content_pages.c.page_id,
        "path": content_pages.c.path,
        "content_type": content_pages.c.content_type,
    }
    assert {k: c.type.length for k, c in columns.items()} == MAX_LENGTH  # type: ignore[attr-defined]
    assert content_pages.c.name.type.length == MAX_LENGTH["name"]  # type: ignore[attr-defined]


def page(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "page_id": "CP-900",
        "name": "Fibre Guide",
        "path": "/fibre-guide",
        "content_type": "guide",
        "topics": ["materials"],
        "features_products": ["KN-900"],
        "published_on": "2025-01-05",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def test_a_valid_content_page_record_becomes_a_page():
    p = parse_content_page(page())
    assert (p.path, p.features_products, p.published_on) == (
        "/fibre-guide",
        ("KN-900",),
        date(2025, 1, 5),
    )


def test_a_content_page_path_starts_with_a_slash():
    with pytest.raises(RowInvalid) as caught:
        parse_content_page(page(path="fibre-guide"))
    assert dict(caught.value.problems)["path"].startswith("must start with /")


@pytest.mark.parametrize("name", ["page_id", "name", "path", "content_type"])
def test_content_page_required_fields(name: str):
    with pytest.raises(RowInvalid) as caught:
        parse_content_page(page(**{name: ...}))
    assert dict(caught.value.problems)[name] == "is required"
