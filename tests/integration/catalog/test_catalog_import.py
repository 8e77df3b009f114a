"""Catalog imports through the service, on SQLite and PostgreSQL: all or nothing, upserts."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from maison.catalog import service
from maison.catalog.entities import ProductFilter
from maison.catalog.exceptions import InvalidCatalogFile, UnknownContentPage, UnknownProduct
from maison.core.clock import utcnow
from maison.core.schema import products, stock


def test_the_scenario_catalog_imports_every_product_with_its_stock(
    engine, imported, catalog_rows, counts
):
    expected_stock = sum(len(per) for r in catalog_rows for per in r["stock"].values())
    assert (imported.created, imported.updated) == (173, 0)
    assert imported.stock_rows == expected_stock
    assert counts() == {"products": 173, "stock": expected_stock, "content_pages": 12}


def test_a_stored_product_reads_back_as_it_was_in_the_file(engine, imported, catalog_rows):
    source = next(r for r in catalog_rows if r["product_id"] == "WW-001")
    with engine.connect() as conn:
        p = service.get_product(conn, "WW-001")
    assert p.price == Decimal(source["price_eur"]) and p.currency == "EUR"
    assert list(p.sizes) == source["sizes"] and list(p.pairs_with) == source["pairs_with"]
    assert {loc: dict(per) for loc, per in p.stock.items()} == source["stock"]
    assert list(p.stock) == ["online", "london", "milan", "paris"]  # online first, then stores
    assert p.launched_on is not None and p.launched_on.isoformat() == source["launched_on"]


def test_one_size_products_are_stocked_under_one_size(engine, imported):
    with engine.connect() as conn:
        sizes = set(
            conn.execute(select(stock.c.size).where(stock.c.product_id == "HD-001")).scalars()
        )
        p = service.get_product(conn, "HD-001")
    assert sizes == {"one_size"}
    assert p.online_sizes_in_stock() == ("one_size",)


def test_in_stock_means_online_units(engine, imported):
    with engine.connect() as conn:
        out = {p.product_id for p in service.list_products(conn, ProductFilter(in_stock=False))}
        assert service.count_products(conn, ProductFilter(in_stock=True)) == 173 - 14
    assert {"WW-005", "WW-008", "WW-023", "HD-021", "AJ-006"} <= out
    assert len(out) == 14


def test_tag_filter_matches_whole_tags_only(engine, imported, catalog_rows):
    with engine.connect() as conn:
        office = {p.product_id for p in service.list_products(conn, ProductFilter(tag="office"))}
    only_dinner = {
        r["product_id"]
        for r in catalog_rows
        if "office-to-dinner" in r["tags"] and "office" not in r["tags"]
    }
    assert office == {r["product_id"] for r in catalog_rows if "office" in r["tags"]}
    assert only_dinner and not office & only_dinner


def test_filters_combine(engine, imported, catalog_rows):
    flt = ProductFilter(category="Artisan Jewellery", collection="Forma Studio", in_stock=True)
    with engine.connect() as conn:
        found = [p.product_id for p in service.list_products(conn, flt)]
    expected = sorted(
        r["product_id"]
        for r in catalog_rows
        if r["category"] == "Artisan Jewellery"
        and "Forma Studio" in r["collections"]
        and sum(r["stock"]["online"].values()) > 0
    )
    assert found == expected and found


def test_pages_of_a_listing_cover_every_product_once(engine, imported):
    with engine.connect() as conn:
        pages = [service.list_products(conn, limit=50, offset=o) for o in range(0, 200, 50)]
    ids = [p.product_id for page in pages for p in page]
    assert len(ids) == 173 and ids == sorted(set(ids))


def test_facets_are_each_products_id_category_tags_and_price(engine, imported):
    """What a model's columns are built from, read without the stock or the other attributes."""
    with engine.connect() as conn:
        full = service.list_products(conn)
        facets = service.product_facets(conn)
    assert [(f.product_id, f.category, f.tags, f.price) for f in facets] == [
        (p.product_id, p.category, p.tags, p.price) for p in full]
    assert len(facets) == 173 and any(f.tags for f in facets)


def test_a_file_with_one_bad_row_changes_nothing(
    engine, imported, catalog_rows, counts, write_jsonl
):
    rows = [dict(r) for r in catalog_rows]
    rows[0]["price_eur"] = 1  # a change that must not land
    rows[99]["stock"] = {"online": {"XXXL": 2}}  # not one of its sizes
    rows.append({**rows[5], "product_id": "NEW-1", "currency": "USD"})
    before = counts()
    with pytest.raises(InvalidCatalogFile) as caught, engine.begin() as conn:
        service.import_products(conn, write_jsonl(rows), now=utcnow())
    assert [(e["line"], e["field"]) for e in caught.value.details["errors"]] == [
        (100, "stock.online.XXXL"),
        (174, "currency"),
    ]
    assert caught.value.code == "invalid_file" and caught.value.status == 400
    assert counts() == before
    with engine.connect() as conn:
        assert service.get_product(conn, rows[0]["product_id"]).price != Decimal(1)
        assert service.get_products(conn, ["NEW-1"]) == {}


def test_a_bad_file_on_an_empty_store_writes_nothing(engine, catalog_rows, counts, write_jsonl):
    rows = [*catalog_rows[:10], {"product_id": "X"}]
    with pytest.raises(InvalidCatalogFile), engine.begin() as conn:
        service.import_products(conn, write_jsonl(rows), now=utcnow())
    assert counts() == {"products": 0, "stock": 0, "content_pages": 0}


def test_reimport_updates_the_product_and_replaces_its_stock(engine, catalog_rows, write_jsonl):
    first = {**catalog_rows[0], "stock": {"online": {"S": 1, "M": 2}, "london": {"M": 1}}}
    second = {**first, "price_eur": 999, "tags": ["architectural"], "stock": {"online": {"S": 0}}}
    with engine.begin() as conn:
        service.import_products(conn, write_jsonl([first, catalog_rows[1]]), now=utcnow())
    with engine.begin() as conn:
        report = service.import_products(conn, write_jsonl([second]), now=utcnow())
    assert (report.created, report.updated, report.stock_rows) == (0, 1, 1)
    with engine.connect() as conn:
        p = service.get_product(conn, first["product_id"])
        untouched = service.get_product(conn, catalog_rows[1]["product_id"])
        held = conn.execute(
            select(stock.c.location, stock.c.size, stock.c.quantity).where(
                stock.c.product_id == p.product_id
            )
        ).all()
        names = set(conn.execute(select(products.c.product_id)).scalars())
    assert p.price == Decimal("999.00") and p.tags == ("architectural",)
    assert [tuple(r) for r in held] == [("online", "S", 0)]
    assert untouched.in_stock_online()  # products absent from a re-import are kept as they were
    assert names == {first["product_id"], catalog_rows[1]["product_id"]}


def test_a_csv_catalog_stores_the_same_products_as_its_jsonl(
    engine, catalog_rows, tmp_path: Path, write_jsonl
):
    header = list(catalog_rows[0])
    path = tmp_path / "catalog.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in catalog_rows:
            writer.writerow(
                [
                    ";".join(v)
                    if isinstance(v, list)
                    else json.dumps(v)
                    if isinstance(v, dict)
                    else str(v).lower()
                    if isinstance(v, bool)
                    else str(v)
                    for v in (r[k] for k in header)
                ]
            )
    with engine.begin() as conn:
        service.import_products(conn, path, now=utcnow())
        from_csv = service.list_products(conn)
    with engine.begin() as conn:
        report = service.import_products(conn, write_jsonl(catalog_rows), now=utcnow())
        from_jsonl = service.list_products(conn)
    assert report.updated == 173
    assert from_csv == from_jsonl


def test_unknown_product_is_a_not_found_error(engine):
    with engine.connect() as conn, pytest.raises(UnknownProduct) as caught:
        service.get_product(conn, "NOPE-1")
    assert caught.value.to_dict() == {
        "code": "unknown_product",
        "message": "no product has this id",
        "details": {"product_id": "NOPE-1"},
    }


def test_content_pages_are_found_by_path(engine, imported):
    with engine.connect() as conn:
        page = service.get_content_page(conn, "/impact-report")
        assert [p.page_id for p in service.list_content_pages(conn)][:2] == ["CP-001", "CP-002"]
        with pytest.raises(UnknownContentPage):
            service.get_content_page(conn, "/nowhere")
    assert page.page_id == "CP-002" and "impact" in page.topics


def test_a_content_page_cannot_take_another_pages_path(engine, imported, write_jsonl, counts):
    rows = [
        {"page_id": "CP-900", "name": "Copy", "path": "/impact-report", "content_type": "impact"}
    ]
    before = counts()
    with pytest.raises(InvalidCatalogFile) as caught, engine.begin() as conn:
        service.import_content_pages(conn, write_jsonl(rows, "pages.jsonl"))
    assert caught.value.errors[0].message == "is already the path of page CP-002"
    assert counts() == before


def test_a_file_of_unknown_type_is_refused(engine, tmp_path: Path):
    path = tmp_path / "catalog.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(InvalidCatalogFile) as caught, engine.begin() as conn:
        service.import_products(conn, path, now=utcnow())
    assert "allowed: .jsonl, .ndjson, .csv" in caught.value.errors[0].message
