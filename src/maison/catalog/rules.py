"""Validation of catalog records into products and content pages (pure: no I/O, no database).

Every problem of every row is collected, not just the first, so that one pass over the file
tells a merchandiser everything to fix; the service then refuses the whole file. Length limits
mirror the columns of `maison.core.schema` (a unit test keeps them equal), so a row that passes
here never fails at the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from maison.catalog.entities import ContentPage, Product, RowError
from maison.catalog.files import Format, Kind, read_records

T = TypeVar("T")

MAX_LENGTH = {
    "product_id": 100,
    "name": 300,
    "category": 120,
    "subcategory": 120,
    "maker": 300,
    "size": 40,
    "location": 100,
    "page_id": 100,
    "path": 500,
    "content_type": 40,
}
MAX_PRICE = Decimal("9999999999.99")  # Numeric(12, 2)
_CURRENCY = re.compile(r"^[A-Z]{3}$")

PRODUCT_COLUMNS: dict[str, Kind] = {
    "product_id": "text",
    "name": "text",
    "category": "text",
    "subcategory": "text",
    "price": "number",
    "price_eur": "number",
    "currency": "text",
    "materials": "list",
    "colors": "list",
    "colours": "list",
    "tags": "list",
    "certifications": "list",
    "maker": "text",
    "collections": "list",
    "limited_edition": "bool",
    "access_restricted": "bool",
    "launched_on": "text",
    "sizes": "list",
    "stock": "json",
    "pairs_with": "list",
    "description": "text",
}
CONTENT_PAGE_COLUMNS: dict[str, Kind] = {
    "page_id": "text",
    "name": "text",
    "path": "text",
    "content_type": "text",
    "topics": "list",
    "features_products": "list",
    "published_on": "text",
}


class RowInvalid(ValueError):
    """A record with one or more problems, each as (field, message)."""

    def __init__(self, problems: Sequence[tuple[str | None, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = list(problems)


@dataclass
class Parsed(Generic[T]):
    """Valid items with the line each came from, and every error found in the file."""

    rows: list[tuple[int, T]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def items(self) -> list[T]:
        return [item for _, item in self.rows]


class _Fields:
    """Reads typed values out of one record, noting every problem instead of stopping."""

    def __init__(self, record: Mapping[str, Any], *, allowed: Mapping[str, Kind]) -> None:
        self.record = record
        self.problems: list[tuple[str | None, str]] = []
        for name in record:
            if name not in allowed:
                self.fail(name, f"unknown field; allowed: {', '.join(allowed)}")

    def fail(self, name: str | None, message: str) -> None:
        self.problems.append((name, message))

    def present(self, name: str) -> bool:
        return self.record.get(name) is not None

    def text(self, name: str, *, required: bool = False, key: str | None = None) -> str | None:
        value = self.record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return None
        limit = MAX_LENGTH.get(key or name)
        if limit is not None and len(value.strip()) > limit:
            self.fail(name, f"is longer than {limit} characters")
            return None
        return value.strip()

    def required_text(self, name: str) -> str:
        return self.text(name, required=True) or ""

    def strings(
        self, name: str, *, required: bool = False, key: str | None = None
    ) -> tuple[str, ...]:
        value = self.record.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(name, "must be a list of non-empty strings")
            return ()
        items = tuple(v.strip() for v in value)
        if len(set(items)) != len(items):
            self.fail(name, "lists a value twice")
        limit = MAX_LENGTH.get(key or "")
        if limit is not None and any(len(v) > limit for v in items):
            self.fail(name, f"has a value longer than {limit} characters")
        return items

    def flag(self, name: str) -> bool:
        value = self.record.get(name, False)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return False
        return value

    def day(self, name: str) -> date | None:
        value = self.record.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(name, "must be an ISO date, such as 2024-09-02")
        return None


def _price(f: _Fields) -> tuple[Decimal, str]:
    """`price` with `currency`, or `price_eur` (whose currency, if given, must be EUR)."""
    currency = f.text("currency")
    if f.present("price") and f.present("price_eur"):
        f.fail("price", "give either price (with currency) or price_eur, not both")
        return Decimal(0), ""
    name = "price_eur" if f.present("price_eur") else "price"
    if name == "price_eur":
        if currency is not None and currency.upper() != "EUR":
            f.fail("currency", "must be EUR (or absent) when the price is given as price_eur")
        currency = "EUR"
    elif currency is None:
        f.fail("currency", "is required with price (three letters, such as EUR)")
    elif not _CURRENCY.match(currency.upper()):
        f.fail("currency", "must be an ISO 4217 code of three letters, such as EUR")
    return _amount(f, name), (currency or "").upper()


def _amount(f: _Fields, name: str) -> Decimal:
    value = f.record.get(name)
    if value is None:
        f.fail("price", "is required (price with currency, or price_eur)")
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        f.fail(name, "must be a number")
        return Decimal(0)
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or amount <= 0:
        f.fail(name, "must be greater than 0")
    elif amount > MAX_PRICE:
        f.fail(name, f"must be at most {MAX_PRICE}")
    elif amount != amount.quantize(Decimal("0.01")):
        f.fail(name, "must have at most two decimal places")
    else:
        return amount.quantize(Decimal("0.01"))
    return Decimal(0)


def _stock(f: _Fields, sizes: Sequence[str]) -> dict[str, dict[str, int]]:
    """Units per location and size: whole numbers >= 0, only for sizes the product has."""
    value = f.record.get("stock")
    if value is None:
        f.fail("stock", "is required: {location: {size: units}}, {} when nothing is held")
        return {}
    if not isinstance(value, dict):
        f.fail("stock", "must map each location to {size: units}")
        return {}
    stock: dict[str, dict[str, int]] = {}
    for location, per_size in value.items():
        where = f"stock.{location}"
        if not location.strip() or len(location) > MAX_LENGTH["location"]:
            f.fail(where, f"location must be 1 to {MAX_LENGTH['location']} characters")
            continue
        if not isinstance(per_size, dict):
            f.fail(where, "must map each size to a number of units")
            continue
        stock[location] = {}
        for size, units in per_size.items():
            if sizes and size not in sizes:
                f.fail(f"{where}.{size}", f"is not one of the sizes ({', '.join(sizes)})")
            elif isinstance(units, bool) or not isinstance(units, int) or units < 0:
                f.fail(f"{where}.{size}", "units must be a whole number, 0 or more")
            else:
                stock[location][size] = units
    return stock


def parse_product(record: Mapping[str, Any]) -> Product:
    """A product from one record, or RowInvalid listing every problem in it."""
    f = _Fields(record, allowed=PRODUCT_COLUMNS)
    if f.present("colors") and f.present("colours"):
        f.fail("colours", "give either colors or colours, not both")
    price, currency = _price(f)
    sizes = f.strings("sizes", required=True, key="size")
    if "sizes" in record and not sizes and not any(p[0] == "sizes" for p in f.problems):
        f.fail("sizes", "must list at least one size (one_size for one-size products)")
    product = Product(
        product_id=f.required_text("product_id"),
        name=f.required_text("name"),
        category=f.required_text("category"),
        subcategory=f.text("subcategory"),
        price=price,
        currency=currency,
        materials=f.strings("materials"),
        colors=f.strings("colours" if f.present("colours") else "colors"),
        tags=f.strings("tags"),
        certifications=f.strings("certifications"),
        maker=f.text("maker"),
        collections=f.strings("collections"),
        limited_edition=f.flag("limited_edition"),
        access_restricted=f.flag("access_restricted"),
        launched_on=f.day("launched_on"),
        sizes=sizes,
        stock=_stock(f, sizes),
        pairs_with=f.strings("pairs_with", key="product_id"),
        description=f.text("description"),
    )
    if f.problems:
        raise RowInvalid(f.problems)
    return product


def parse_content_page(record: Mapping[str, Any]) -> ContentPage:
    """A content page from one record, or RowInvalid listing every problem in it."""
    f = _Fields(record, allowed=CONTENT_PAGE_COLUMNS)
    page = ContentPage(
        page_id=f.required_text("page_id"),
        name=f.required_text("name"),
        path=f.required_text("path"),
        content_type=f.required_text("content_type"),
        topics=f.strings("topics"),
        features_products=f.strings("features_products", key="product_id"),
        published_on=f.day("published_on"),
    )
    if page.path and not page.path.startswith("/"):
        f.fail("path", "must start with /, such as /impact-report")
    if f.problems:
        raise RowInvalid(f.problems)
    return page


def _parse_all(
    text: str,
    *,
    fmt: Format,
    columns: Mapping[str, Kind],
    parse: Callable[[Mapping[str, Any]], T],
    unique: Mapping[str, Callable[[T], str]],
) -> Parsed[T]:
    records, decode_errors = read_records(text, fmt=fmt, columns=columns)
    result: Parsed[T] = Parsed(errors=list(decode_errors))
    reported = {(e.line, e.field) for e in decode_errors}
    first_line: dict[tuple[str, str], int] = {}
    for line, record in records:
        try:
            item = parse(record)
        except RowInvalid as exc:
            fresh = [(n, m) for n, m in exc.problems if (line, n) not in reported]
            result.errors.extend(RowError(line, n, m) for n, m in fresh)
            continue
        duplicate = False
        for name, key_of in unique.items():
            seen = first_line.setdefault((name, key_of(item)), line)
            if seen != line:
                result.errors.append(RowError(line, name, f"duplicates the row on line {seen}"))
                duplicate = True
        if not duplicate:
            result.rows.append((line, item))
    if not records and not result.errors:
        result.errors.append(RowError(0, None, "the file holds no rows"))
    result.errors.sort(key=lambda e: e.line)
    return result


def parse_products(text: str, *, fmt: Format) -> Parsed[Product]:
    """Every product of a file, and every error (including a product_id given twice)."""
    return _parse_all(
        text,
        fmt=fmt,
        columns=PRODUCT_COLUMNS,
        parse=parse_product,
        unique={"product_id": lambda p: p.product_id},
    )


def parse_content_pages(text: str, *, fmt: Format) -> Parsed[ContentPage]:
    """Every content page of a file, and every error (including a page_id or path twice)."""
    return _parse_all(
        text,
        fmt=fmt,
        columns=CONTENT_PAGE_COLUMNS,
        parse=parse_content_page,
        unique={"page_id": lambda p: p.page_id, "path": lambda p: p.path},
    )
