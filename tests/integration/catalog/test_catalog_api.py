"""`GET /v1/products` and `GET /v1/content-pages` on SQLite and PostgreSQL."""

from __future__ import annotations

PRODUCT_FIELDS = {
    "product_id",
    "name",
    "category",
    "subcategory",
    "price",
    "currency",
    "materials",
    "colors",
    "tags",
    "certifications",
    "maker",
    "collections",
    "limited_edition",
    "access_restricted",
    "launched_on",
    "sizes",
    "stock",
    "online",
    "pairs_with",
    "description",
}


def test_products_list_every_field_with_stock_per_location_and_online(
    client, imported, catalog_rows
):
    r = client.get("/v1/products", params={"limit": 500})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body) == 173 and r.headers["X-Total-Count"] == "173"
    first = body[0]
    source = next(x for x in catalog_rows if x["product_id"] == first["product_id"])
    assert set(first) == PRODUCT_FIELDS
    assert first["stock"] == source["stock"]
    assert first["price"] == source["price_eur"] and first["launched_on"] == source["launched_on"]
    online = source["stock"]["online"]
    assert first["online"] == {
        "in_stock": sum(online.values()) > 0,
        "units": sum(online.values()),
        "sizes_in_stock": [s for s in source["sizes"] if online.get(s, 0) > 0],
    }


def test_products_are_paged_by_product_id(client, imported):
    first = client.get("/v1/products", params={"limit": 10}).json()
    second = client.get("/v1/products", params={"limit": 10, "offset": 10}).json()
    ids = [p["product_id"] for p in first + second]
    assert len(ids) == 20 and ids == sorted(set(ids))


def test_products_filter_by_category_subcategory_tag_collection_and_stock(
    client, imported, catalog_rows
):
    cases = {
        (("category", "Knitwear"),): lambda r: r["category"] == "Knitwear",
        (("category", "Women's Workwear"), ("subcategory", "Blazers")): lambda r: (
            r["category"] == "Women's Workwear" and r["subcategory"] == "Blazers"
        ),
        (("tag", "sustainable"),): lambda r: "sustainable" in r["tags"],
        (("collection", "Atelier Collection"),): lambda r: "Atelier Collection" in r["collections"],
        (("in_stock", "false"),): lambda r: sum(r["stock"]["online"].values()) == 0,
    }
    for params, keep in cases.items():
        r = client.get("/v1/products", params={**dict(params), "limit": 500})
        assert r.status_code == 200, r.text
        expected = sorted(x["product_id"] for x in catalog_rows if keep(x))
        assert [p["product_id"] for p in r.json()] == expected, params
        assert r.headers["X-Total-Count"] == str(len(expected))


def test_a_filter_nothing_matches_gives_an_empty_list(client, imported):
    r = client.get("/v1/products", params={"category": "Garden Furniture"})
    assert r.status_code == 200 and r.json() == [] and r.headers["X-Total-Count"] == "0"


def test_a_page_larger_than_the_limit_is_refused(client):
    r = client.get("/v1/products", params={"limit": 501})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_request"


def test_one_product_by_id(client, imported):
    r = client.get("/v1/products/HD-001")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == PRODUCT_FIELDS
    assert body["sizes"] == ["one_size"] and body["online"]["sizes_in_stock"] == ["one_size"]


def test_an_unknown_product_is_a_404_with_code_message_and_details(client, imported):
    r = client.get("/v1/products/NOPE-1")
    assert r.status_code == 404
    assert r.json() == {
        "code": "unknown_product",
        "message": "no product has this id",
        "details": {"product_id": "NOPE-1"},
    }


def test_content_pages_list_with_featured_products(client, imported):
    r = client.get("/v1/content-pages")
    assert r.status_code == 200
    pages = r.json()
    assert len(pages) == 12
    assert set(pages[0]) == {
        "page_id",
        "name",
        "path",
        "content_type",
        "topics",
        "features_products",
        "published_on",
    }
    sourcing = client.get("/v1/content-pages", params={"content_type": "sourcing"}).json()
    assert sourcing and all(p["content_type"] == "sourcing" for p in sourcing)
