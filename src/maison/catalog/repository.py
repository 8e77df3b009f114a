"""Storage of products, their stock and content pages (SQLAlchemy Core, both backends)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    func,
    not_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.schema import Column

from maison.catalog.entities import ONLINE, ContentPage, Facets, Product, ProductFilter
from maison.core.dialect import upsert
from maison.core.schema import content_pages, products, stock

_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def _json_array_contains(conn: Connection, column: Column[Any], value: str) -> ColumnElement[bool]:
    """`value` is an element of the JSON array in `column`, exactly, on either backend.

    Dialect-specific; belongs with the others in `maison.core.dialect` when core is next edited.
    """
    if conn.dialect.name == "postgresql":
        return sql_cast(column, JSONB).contains([value])
    elements = func.json_each(column).table_valued("value")
    return exists().where(elements.c.value == value)


def existing_product_ids(conn: Connection, product_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(product_ids))
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(
            conn.execute(
                select(products.c.product_id).where(products.c.product_id.in_(chunk))
            ).scalars()
        )
    return found


def product_row(product: Product, *, now: datetime) -> dict[str, Any]:
    return {
        "product_id": product.product_id,
        "name": product.name,
        "category": product.category,
        "subcategory": product.subcategory,
        "price": product.price,
        "currency": product.currency,
        "materials": list(product.materials),
        "colors": list(product.colors),
        "tags": list(product.tags),
        "certifications": list(product.certifications),
        "maker": product.maker,
        "collections": list(product.collections),
        "limited_edition": product.limited_edition,
        "access_restricted": product.access_restricted,
        "launched_on": product.launched_on,
        "sizes": list(product.sizes),
        "pairs_with": list(product.pairs_with),
        "description": product.description,
        "updated_at": now,
    }


def stock_rows(product: Product) -> list[dict[str, Any]]:
    return [
        {"product_id": product.product_id, "location": location, "size": size, "quantity": units}
        for location, per_size in product.stock.items()
        for size, units in per_size.items()
    ]


def upsert_products(conn: Connection, items: Sequence[Product], *, now: datetime) -> int:
    """Insert or update products and replace their stock rows; returns stock rows written.

    Products are upserted before their stock is touched: on PostgreSQL the upsert locks each
    product row, so two concurrent imports of one product take turns instead of colliding on
    the stock primary key. Products absent from `items` are left as they are.
    """
    if not items:
        return 0
    upsert(conn, products, [product_row(p, now=now) for p in items], index=["product_id"])
    for chunk in _chunks([p.product_id for p in items]):
        conn.execute(delete(stock).where(stock.c.product_id.in_(chunk)))
    rows = [row for p in items for row in stock_rows(p)]
    if rows:
        conn.execute(stock.insert(), rows)
    return len(rows)


def _where(conn: Connection, query: Select[Any], flt: ProductFilter) -> Select[Any]:
    if flt.category is not None:
        query = query.where(products.c.category == flt.category)
    if flt.subcategory is not None:
        query = query.where(products.c.subcategory == flt.subcategory)
    if flt.tag is not None:
        query = query.where(_json_array_contains(conn, products.c.tags, flt.tag))
    if flt.collection is not None:
        query = query.where(_json_array_contains(conn, products.c.collections, flt.collection))
    if flt.in_stock is not None:
        online = exists().where(
            and_(
                stock.c.product_id == products.c.product_id,
                stock.c.location == ONLINE,
                stock.c.quantity > 0,
            )
        )
        query = query.where(online if flt.in_stock else not_(online))
    return query


def _stock_of(conn: Connection, product_ids: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
    found: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for chunk in _chunks(product_ids):
        rows = conn.execute(
            select(stock)
            .where(stock.c.product_id.in_(chunk))
            .order_by(stock.c.product_id, stock.c.location)
        )
        for row in rows.mappings():
            found[row["product_id"]].setdefault(row["location"], {})[row["size"]] = row["quantity"]
    return found


def _product(row: Any, held: dict[str, dict[str, int]]) -> Product:
    sizes = tuple(row["sizes"])
    # Rows come back in storage order: give sizes in the catalog's order, online first.
    locations = sorted(held, key=lambda loc: (loc != ONLINE, loc))
    ordered = {loc: {s: held[loc][s] for s in sizes if s in held[loc]} for loc in locations}
    return Product(
        product_id=row["product_id"],
        name=row["name"],
        category=row["category"],
        subcategory=row["subcategory"],
        price=row["price"],
        currency=row["currency"],
        materials=tuple(row["materials"]),
        colors=tuple(row["colors"]),
        tags=tuple(row["tags"]),
        certifications=tuple(row["certifications"]),
        maker=row["maker"],
        collections=tuple(row["collections"]),
        limited_edition=row["limited_edition"],
        access_restricted=row["access_restricted"],
        launched_on=row["launched_on"],
        sizes=sizes,
        stock=ordered,
        pairs_with=tuple(row["pairs_with"]),
        description=row["description"],
    )


def _load(conn: Connection, query: Select[Any]) -> list[Product]:
    rows = list(conn.execute(query).mappings())
    held = _stock_of(conn, [r["product_id"] for r in rows])
    return [_product(r, held.get(r["product_id"], {})) for r in rows]


def list_products(
    conn: Connection, flt: ProductFilter | None = None, *, limit: int | None = None, offset: int = 0
) -> list[Product]:
    """Products matching the filter, ordered by product_id so that pages are stable."""
    query = (
        _where(conn, select(products), flt or ProductFilter())
        .order_by(products.c.product_id)
        .offset(offset)
    )
    return _load(conn, query.limit(limit) if limit is not None else query)


def product_facets(conn: Connection) -> list[Facets]:
    """Every product's `Facets`, by product_id."""
    query = select(products.c.product_id, products.c.category, products.c.tags, products.c.price)
    return [Facets(pid, category, tuple(tags), price)
            for pid, category, tags, price in conn.execute(query.order_by(products.c.product_id))]


def count_products(conn: Connection, flt: ProductFilter | None = None) -> int:
    query = _where(conn, select(func.count()).select_from(products), flt or ProductFilter())
    return int(conn.execute(query).scalar_one())


def get_products(conn: Connection, product_ids: Iterable[str]) -> dict[str, Product]:
    """The known products among `product_ids`, by id (unknown ids are simply absent)."""
    found: dict[str, Product] = {}
    for chunk in _chunks(sorted(set(product_ids))):
        for product in _load(conn, select(products).where(products.c.product_id.in_(chunk))):
            found[product.product_id] = product
    return found


def get_product(conn: Connection, product_id: str) -> Product | None:
    return get_products(conn, [product_id]).get(product_id)


def content_page_owners(conn: Connection, paths: Iterable[str]) -> dict[str, str]:
    """The page_id that holds each of `paths` now, for paths already taken."""
    owners: dict[str, str] = {}
    for chunk in _chunks(sorted(set(paths))):
        query = select(content_pages.c.path, content_pages.c.page_id).where(
            content_pages.c.path.in_(chunk)
        )
        owners.update({path: page_id for path, page_id in conn.execute(query).tuples()})
    return owners


def existing_page_ids(conn: Connection, page_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(page_ids))
    found: set[str] = set()
    for chunk in _chunks(ids):
        query = select(content_pages.c.page_id).where(content_pages.c.page_id.in_(chunk))
        found.update(conn.execute(query).scalars())
    return found


def upsert_content_pages(conn: Connection, pages: Sequence[ContentPage]) -> None:
    rows = [
        {
            "page_id": p.page_id,
            "name": p.name,
            "path": p.path,
            "content_type": p.content_type,
            "topics": list(p.topics),
            "features_products": list(p.features_products),
            "published_on": p.published_on,
        }
        for p in pages
    ]
    upsert(conn, content_pages, rows, index=["page_id"])


def _page(row: Any) -> ContentPage:
    return ContentPage(
        page_id=row["page_id"],
        name=row["name"],
        path=row["path"],
        content_type=row["content_type"],
        topics=tuple(row["topics"]),
        features_products=tuple(row["features_products"]),
        published_on=row["published_on"],
    )


def list_content_pages(conn: Connection, *, content_type: str | None = None) -> list[ContentPage]:
    query = select(content_pages).order_by(content_pages.c.page_id)
    if content_type is not None:
        query = query.where(content_pages.c.content_type == content_type)
    return [_page(r) for r in conn.execute(query).mappings()]


def get_content_page_by_path(conn: Connection, path: str) -> ContentPage | None:
    row = conn.execute(select(content_pages).where(content_pages.c.path == path)).mappings().first()
    return _page(row) if row is not None else None
