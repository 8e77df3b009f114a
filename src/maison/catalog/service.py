"""Catalog use cases: all-or-nothing imports, and product and page look-ups for other capabilities.

An import validates the whole file before it writes anything; a file with any error raises
`InvalidCatalogFile` listing every error by line, and the store is left exactly as it was.
The caller owns the transaction, so a valid file is written atomically too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from maison.catalog import repository as repo
from maison.catalog import rules
from maison.catalog.entities import ContentPage, Facets, ImportReport, Product, ProductFilter, RowError
from maison.catalog.exceptions import InvalidCatalogFile, UnknownContentPage, UnknownProduct
from maison.catalog.files import SUFFIXES, Format, format_for


def read_file(path: Path, *, fmt: Format | None = None) -> tuple[str, Format]:
    """The text of an import file and its format (from the suffix unless given)."""
    fmt = fmt or format_for(path.name)
    if fmt is None:
        allowed = ", ".join(SUFFIXES)
        raise InvalidCatalogFile(
            path.name, [RowError(0, None, f"unknown file type; allowed: {allowed}")]
        )
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        return path.read_text(encoding="utf-8-sig"), fmt
    except FileNotFoundError:
        raise InvalidCatalogFile(path.name, [RowError(0, None, "no such file")]) from None
    except UnicodeDecodeError:
        raise InvalidCatalogFile(path.name, [RowError(0, None, "not UTF-8 text")]) from None


def import_products(
    conn: Connection, path: Path, *, now: datetime, fmt: Format | None = None
) -> ImportReport:
    """Upsert every product of a file and replace their stock, or write nothing at all."""
    text, fmt = read_file(path, fmt=fmt)
    parsed = rules.parse_products(text, fmt=fmt)
    if parsed.errors:
        raise InvalidCatalogFile(path.name, parsed.errors)
    ids = [p.product_id for p in parsed.items]
    existing = repo.existing_product_ids(conn, ids)
    written = repo.upsert_products(conn, parsed.items, now=now)
    return ImportReport(
        kind="products",
        file=path.name,
        created=len(ids) - len(existing),
        updated=len(existing),
        stock_rows=written,
        ids=tuple(ids),
    )


def import_content_pages(
    conn: Connection, path: Path, *, fmt: Format | None = None
) -> ImportReport:
    """Upsert every content page of a file, or write nothing at all.

    A path already held by another page is an error of the file (paths are unique), found
    before writing rather than as a database error halfway through.
    """
    text, fmt = read_file(path, fmt=fmt)
    parsed = rules.parse_content_pages(text, fmt=fmt)
    errors = list(parsed.errors)
    owners = repo.content_page_owners(conn, [p.path for p in parsed.items])
    for line, page in parsed.rows:
        owner = owners.get(page.path)
        if owner is not None and owner != page.page_id:
            errors.append(RowError(line, "path", f"is already the path of page {owner}"))
    if errors:
        raise InvalidCatalogFile(path.name, sorted(errors, key=lambda e: e.line))
    ids = [p.page_id for p in parsed.items]
    existing = repo.existing_page_ids(conn, ids)
    repo.upsert_content_pages(conn, parsed.items)
    return ImportReport(
        kind="content_pages",
        file=path.name,
        created=len(ids) - len(existing),
        updated=len(existing),
        ids=tuple(ids),
    )


def get_product(conn: Connection, product_id: str) -> Product:
    """One product, or UnknownProduct (404) when the catalog does not hold it."""
    product = repo.get_product(conn, product_id)
    if product is None:
        raise UnknownProduct("no product has this id", details={"product_id": product_id})
    return product


def get_products(conn: Connection, product_ids: Iterable[str]) -> dict[str, Product]:
    """Known products by id; unknown ids are absent (events may name retired products)."""
    return repo.get_products(conn, product_ids)


def list_products(
    conn: Connection, flt: ProductFilter | None = None, *, limit: int | None = None, offset: int = 0
) -> list[Product]:
    """Products matching `flt`, by product_id; `limit=None` returns all of them."""
    return repo.list_products(conn, flt, limit=limit, offset=offset)


def product_facets(conn: Connection) -> list[Facets]:
    """Every product's id, category, tags and price, by product_id (no stock, no other attributes)."""
    return repo.product_facets(conn)


def count_products(conn: Connection, flt: ProductFilter | None = None) -> int:
    return repo.count_products(conn, flt)


def list_content_pages(conn: Connection, *, content_type: str | None = None) -> list[ContentPage]:
    return repo.list_content_pages(conn, content_type=content_type)


def get_content_page(conn: Connection, path: str) -> ContentPage:
    """The page served at `path` (events name pages by path), or UnknownContentPage (404)."""
    page = repo.get_content_page_by_path(conn, path)
    if page is None:
        raise UnknownContentPage("no content page has this path", details={"path": path})
    return page
