"""Whole files: JSON lines and CSV, line numbers, duplicates, and every error in one pass."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from maison.catalog.files import decode_cell, format_for
from maison.catalog.rules import parse_content_pages, parse_products


def row(product_id: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "product_id": product_id,
        "name": f"Product {product_id}",
        "category": "Knitwear",
        "price_eur": 120,
        "currency": "EUR",
        "materials": ["wool", "silk"],
        "tags": ["artisan"],
        "limited_edition": True,
        "launched_on": "2025-02-16",
        "sizes": ["S", "M"],
        "stock": {"online": {"S": 1, "M": 0}, "paris": {"M": 2}},
        "description": "Soft, warm.",
    }
    base.update(overrides)
    return base


def jsonl(*rows: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def to_csv(*rows: dict[str, Any]) -> str:
    """The documented CSV form: lists `;`-separated, booleans as words, stock as a JSON cell."""
    header = list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for r in rows:
        cells = []
        for name in header:
            value = r.get(name)
            if isinstance(value, list):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, dict):
                value = json.dumps(value)
            cells.append("" if value is None else str(value))
        writer.writerow(cells)
    return buffer.getvalue()


def errors(parsed) -> list[tuple[int, str | None]]:  # type: ignore[no-untyped-def]
    return [(e.line, e.field) for e in parsed.errors]


def test_jsonl_rows_parse_with_their_line_numbers():
    parsed = parse_products("\n" + jsonl(row("A-1"), row("A-2")), fmt="jsonl")
    assert [(line, p.product_id) for line, p in parsed.rows] == [(2, "A-1"), (3, "A-2")]
    assert parsed.errors == []


def test_errors_name_the_line_they_are_on_counting_blank_lines():
    text = jsonl(row("A-1")) + "\n" + jsonl(row("A-2", price_eur=-1), row("A-3", sizes="M"))
    assert errors(parse_products(text, fmt="jsonl")) == [(3, "price_eur"), (4, "sizes")]


def test_every_bad_row_is_reported_not_just_the_first():
    text = jsonl(
        row("A-1", price_eur=0), row("A-2"), row("A-3", launched_on="soon"), row("A-4", name="")
    )
    parsed = parse_products(text, fmt="jsonl")
    assert errors(parsed) == [(1, "price_eur"), (3, "launched_on"), (4, "name")]
    assert [p.product_id for p in parsed.items] == ["A-2"]


def test_a_line_that_is_not_json_is_an_error_of_that_line():
    text = jsonl(row("A-1")) + "{not json\n" + "[1, 2]\n" + jsonl(row("A-2"))
    parsed = parse_products(text, fmt="jsonl")
    assert errors(parsed) == [(2, None), (3, None)]
    assert "not valid JSON" in parsed.errors[0].message
    assert parsed.errors[1].message == "each line must be one JSON object"


def test_a_product_id_given_twice_is_an_error_naming_the_first_line():
    parsed = parse_products(jsonl(row("A-1"), row("A-2"), row("A-1")), fmt="jsonl")
    assert errors(parsed) == [(3, "product_id")]
    assert parsed.errors[0].message == "duplicates the row on line 1"


def test_an_empty_file_is_an_error():
    parsed = parse_products("\n\n", fmt="jsonl")
    assert errors(parsed) == [(0, None)]
    assert errors(parse_products("product_id,name\n", fmt="csv")) == [(0, None)]


def test_json_prices_keep_their_exact_decimal_value():
    (p,) = parse_products(
        '{"product_id": "A", "name": "n", "category": "c", "price_eur": 0.1,'
        ' "sizes": ["M"], "stock": {}}',
        fmt="jsonl",
    ).items
    assert str(p.price) == "0.10"


def test_nan_is_not_a_price():
    text = '{"product_id": "A", "name": "n", "category": "c", "price_eur": NaN, "sizes": ["M"]}'
    assert errors(parse_products(text, fmt="jsonl")) == [(1, None)]


def test_csv_and_jsonl_of_the_same_rows_give_the_same_products():
    rows = [row("A-1"), row("A-2", colors=["navy", "ivory"], limited_edition=False, tags=[])]
    from_csv = parse_products(to_csv(*rows), fmt="csv")
    assert from_csv.errors == []
    assert from_csv.items == parse_products(jsonl(*rows), fmt="jsonl").items


def test_csv_rows_are_numbered_from_the_header_and_by_their_first_line():
    text = to_csv(row("A-1", description="two\nlines"), row("A-2", price_eur=-1))
    assert errors(parse_products(text, fmt="csv")) == [(4, "price_eur")]


def test_csv_list_cells_are_semicolon_separated():
    assert decode_cell("wool; silk;", "list") == ["wool", "silk"]


def test_csv_list_cells_refuse_json_arrays():
    text = to_csv(row("A-1")).replace("wool;silk", '"[""wool""]"')
    parsed = parse_products(text, fmt="csv")
    assert [(e.line, e.field, e.message) for e in parsed.errors] == [
        (2, "materials", "list cells are ';'-separated values, not JSON arrays")
    ]


@pytest.mark.parametrize(
    ("column", "bad", "message"),
    [
        ("limited_edition", "maybe", "must be true or false"),
        ("price_eur", "abc", "must be a number, such as 520 or 19.99"),
        ("stock", "online:3", 'must be a JSON value, such as {"online": {"M": 3}}'),
    ],
)
def test_an_undecodable_csv_cell_is_reported_once(column: str, bad: str, message: str):
    text = to_csv(row("A-1", **{column: "PLACEHOLDER"})).replace("PLACEHOLDER", bad)
    parsed = parse_products(text, fmt="csv")
    assert [(e.line, e.field, e.message) for e in parsed.errors] == [(2, column, message)]


def test_an_empty_csv_cell_means_absent():
    parsed = parse_products(to_csv(row("A-1", launched_on=None, name=None)), fmt="csv")
    assert [(e.line, e.field, e.message) for e in parsed.errors] == [(2, "name", "is required")]


def test_unknown_and_repeated_csv_columns_are_errors_of_the_header():
    text = "product_id,name,colour,name\nA,n,red,n\n"
    assert [e for e in errors(parse_products(text, fmt="csv")) if e[0] == 1] == [
        (1, "colour"),
        (1, "name"),
    ]


def test_a_csv_row_with_more_cells_than_columns_is_an_error():
    text = to_csv(row("A-1")).rstrip("\r\n") + ",extra\r\n"
    assert errors(parse_products(text, fmt="csv")) == [(2, None)]


def test_content_pages_repeat_neither_page_id_nor_path():
    def pg(page_id: str, path: str) -> dict[str, Any]:
        return {"page_id": page_id, "name": "n", "path": path, "content_type": "guide"}

    parsed = parse_content_pages(
        jsonl(pg("CP-1", "/a"), pg("CP-2", "/a"), pg("CP-1", "/b")), fmt="jsonl"
    )
    assert [(e.line, e.field, e.message) for e in parsed.errors] == [
        (2, "path", "duplicates the row on line 1"),
        (3, "page_id", "duplicates the row on line 1"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("catalog.jsonl", "jsonl"),
        ("x.NDJSON", "jsonl"),
        ("export.csv", "csv"),
        ("catalog.xlsx", None),
    ],
)
def test_the_format_follows_the_file_suffix(name: str, expected: str | None):
    assert format_for(name) == expected
