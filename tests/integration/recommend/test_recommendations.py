"""`GET /v1/recommendations/{client}` on a small synthetic shop, on SQLite and PostgreSQL.

The shop: knitwear, home and accessories; 40 shoppers who co-view cardigans with scarves;
Ada at L2 who browses knitwear and bought one cardigan, Bo at L1 who declared Home and
Knitwear, Cy at L3 with exploratory picks, Di who restricted processing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from helpers import consent_message
from maison.access.auth import issue_token
from maison.catalog import service as catalog
from maison.core.schema import decisions
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.recommend import training
from maison.recommend.reasons import shared_attributes

NOW = datetime.now(UTC).replace(microsecond=0)


def _iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def _p(pid: str, name: str, category: str, sub: str, price: int, online: int, **extra: Any) -> dict[str, Any]:
    return {"product_id": pid, "name": name, "category": category, "subcategory": sub, "price_eur": price,
            "sizes": ["one_size"], "stock": {"online": {"one_size": online}}, **extra}


CATALOG = [
    _p("KN-1", "Cashmere Cardigan in Charcoal", "Knitwear", "Cardigans", 480, 5, materials=["cashmere"],
       tags=["artisan"], maker="Atelier A", pairs_with=["AC-1"]),
    _p("KN-2", "Cashmere Cardigan in Oat", "Knitwear", "Cardigans", 480, 5, materials=["cashmere"],
       tags=["artisan"], maker="Atelier A"),
    _p("KN-3", "Merino Crew in Navy", "Knitwear", "Sweaters", 260, 4, materials=["merino"], tags=["classic"]),
    _p("KN-4", "Merino Polo in Olive", "Knitwear", "Sweaters", 240, 4, materials=["merino"], tags=["classic"]),
    _p("KN-5", "Alpaca Vest in Cream", "Knitwear", "Vests", 300, 0, materials=["alpaca"]),  # out of stock online
    _p("KN-6", "Cashmere Turtleneck in Black", "Knitwear", "Sweaters", 520, 3, materials=["cashmere"],
       tags=["artisan"], maker="Atelier A"),
    _p("KN-7", "Atelier Hand-Knit Coat", "Knitwear", "Coats", 2400, 2, materials=["cashmere"], tags=["artisan"],
       collections=["Atelier Collection"], access_restricted=True),
    _p("AC-1", "Cashmere Scarf in Charcoal", "Accessories", "Scarves", 220, 6, materials=["cashmere"],
       tags=["artisan"]),
    _p("AC-2", "Leather Gloves in Cognac", "Accessories", "Gloves", 180, 6, materials=["leather"]),
    _p("HD-1", "Ceramic Vase", "Home", "Vases", 120, 9, materials=["ceramic"], tags=["artisan"]),
    _p("HD-2", "Linen Throw", "Home", "Throws", 160, 9, materials=["linen"]),
    _p("HD-3", "Stoneware Bowl", "Home", "Tableware", 90, 9, materials=["ceramic"]),
]


def _track(user: str, event: str, n: int, days_ago: float, **props: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": user, "messageId": f"{user}-{event}-{n}",
            "timestamp": _iso(days_ago), "properties": props}


def _order(user: str, n: int, days_ago: float, *pids: str) -> dict[str, Any]:
    return _track(user, "Order Completed", n, days_ago, order_id=f"o-{user}-{n}",
                  products=[{"product_id": p, "quantity": 1} for p in pids])


def history() -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for s in range(40):
        user = f"shopper{s}"
        messages.append(consent_message(at=_iso(90), level="L2", userId=user))
        pair = ("KN-1", "AC-1") if s % 2 == 0 else ("KN-3", "KN-4")
        for i, pid in enumerate(pair * 2):
            messages.append(_track(user, "Product Viewed", i, 60 - s * 0.5 - i, product_id=pid))
        messages.append(_order(user, 0, 50 - s * 0.5, pair[0]))
        messages.append(_order(user, 1, 10 - s * 0.2, pair[1], "HD-1" if s % 3 == 0 else "HD-2"))
    messages += [
        consent_message(at=_iso(80), level="L2", userId="ada"),
        _track("ada", "Product Viewed", 1, 20, product_id="KN-1"),
        _track("ada", "Product Viewed", 2, 19, product_id="KN-6"),
        _track("ada", "Product Viewed", 3, 3, product_id="KN-1"), _order("ada", 1, 2, "KN-2"),
        consent_message(at=_iso(80), level="L1", userId="bo"),
        {"type": "identify", "userId": "bo", "messageId": "bo-identify", "timestamp": _iso(79),
         "traits": {"declared_categories": ["Knitwear", "Home"]}},
        consent_message(at=_iso(80), level="L1", userId="bea"),
        {"type": "identify", "userId": "bea", "messageId": "bea-identify", "timestamp": _iso(79),
         "traits": {"declared_categories": ["Home", "Knitwear"]}},
        consent_message(at=_iso(80), level="L3", userId="cy"),
        _track("cy", "Product Viewed", 1, 5, product_id="KN-1"),
        _track("cy", "Product Viewed", 2, 4, product_id="KN-6"),
        _track("cy", "Product Viewed", 3, 4, product_id="KN-3"),
        consent_message(at=_iso(80), level="L2", userId="di"),
        _track("di", "Product Viewed", 1, 5, product_id="KN-1"),
    ]
    return messages


@pytest.fixture
def shop(engine: Engine, tmp_path: Any) -> Iterator[Engine]:
    import json

    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in CATALOG))
    with engine.begin() as conn:
        catalog.import_products(conn, path, now=NOW)
        result = ingest(conn, history(), source="web", received_at=NOW, limits=IngestSettings(), suppression_key=b"k")
    assert result.accepted == len(history()) and not result.rejected, result.to_dict()
    training.forget()
    yield engine
    training.forget()


def client_of(engine: Engine, user: str) -> str:
    with engine.connect() as conn:
        return find_client(conn, user)


def get(client: TestClient, key: str, who: str, **params: Any) -> Any:
    response = client.get(f"/v1/recommendations/{who}", params=params, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_l1_serves_best_sellers_of_the_declared_categories_only_and_alike_for_alike_declarations(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    bo = get(client, admin_key, "bo", k=4)
    bea = get(client, admin_key, "bea", k=4)
    assert bo["level"] == "L1" and bo["data_categories"] == ["declared_categories"]
    assert {i["category"] for i in bo["items"]} <= {"Knitwear", "Home"}
    assert [i["product_id"] for i in bo["items"]] == [i["product_id"] for i in bea["items"]]
    assert all("declared_category" in i["reason"]["codes"] for i in bo["items"])


def test_l2_ranks_from_behaviour_never_reoffers_a_purchase_and_keeps_selections_safe(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    ada = get(client, admin_key, "ada", k=6)
    ids = [i["product_id"] for i in ada["items"]]
    assert ada["level"] == "L2" and ada["model_version"].startswith("recs-hybrid/")
    assert "KN-2" not in ids  # bought
    assert "KN-5" not in ids and "KN-7" not in ids  # out of stock online; access restricted
    assert ids and all(i["reason"]["text"] and i["reason"]["codes"] for i in ada["items"])
    assert set(ada["data_categories"]) <= {"browsing_behaviour", "purchase_history", "cart_activity"}
    subcategories = [i["subcategory"] for i in ada["items"]]
    assert max(subcategories.count(s) for s in subcategories) <= 2
    names = [i["name"].split(" in ")[0] for i in ada["items"]]
    assert len(names) == len(set(names))  # no near-duplicates (same piece in another colour)


def test_a_co_viewed_reason_names_an_item_the_client_really_engaged_with(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    ada = get(client, admin_key, "ada", k=6)
    by_name = {p["name"]: p for p in CATALOG}
    mine = {"Cashmere Cardigan in Charcoal", "Cashmere Turtleneck in Black", "Cashmere Cardigan in Oat"}
    co_viewed = [i for i in ada["items"] if {"co_viewed", "co_purchased"} & set(i["reason"]["codes"])]
    assert co_viewed
    for item in co_viewed:
        assert any(f"the {name} you" in item["reason"]["text"] for name in mine), item["reason"]["text"]
    for item in ada["items"]:
        if "similar_attributes" in item["reason"]["codes"]:
            anchor = next(n for n in mine if f"like the {n} you" in item["reason"]["text"])
            with shop.connect() as conn:
                a, b = catalog.get_product(conn, by_name[anchor]["product_id"]), catalog.get_product(
                    conn, item["product_id"])
            assert shared_attributes(a, b) and shared_attributes(a, b)[0] in item["reason"]["text"]


def test_the_served_set_is_written_to_the_decision_audit(shop: Engine, client: TestClient, admin_key: str) -> None:
    ada = get(client, admin_key, "ada", k=5)
    with shop.connect() as conn:
        rows = conn.execute(select(decisions).where(decisions.c.kind == "recommendations")).mappings().all()
    [row] = rows
    assert row["client_id"] == client_of(shop, "ada") and row["model_version"] == ada["model_version"]
    assert [r["product_id"] for r in row["reasons"]] == [i["product_id"] for i in ada["items"]]
    assert sorted(row["data_categories"]) == ada["data_categories"]


def test_the_read_snapshot_ends_before_the_audit_is_written(shop: Engine, client: TestClient, admin_key: str) -> None:
    """A reader still open when the audit commits keeps SQLite's write-ahead log from restarting;
    past its checkpoint size every commit then checkpoints (an fsync) inside the request."""
    open_at_commit: list[int] = []

    def on_commit(_conn: Any) -> None:
        open_at_commit.append(shop.pool.checkedout())

    get(client, admin_key, "ada")  # the key is remembered and the model fitted before counting
    event.listen(shop, "commit", on_commit)
    try:
        get(client, admin_key, "ada")
    finally:
        event.remove(shop, "commit", on_commit)
    assert open_at_commit == [1]  # the audit's own connection only


def test_an_access_restricted_piece_is_served_only_to_a_client_granted_its_collection(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    from maison.personalize import derived

    def companions() -> list[str]:
        body = get(client, admin_key, "bo", surface="product_page", product_id="KN-6", k=10)
        return [i["product_id"] for i in body["items"]]

    assert "KN-7" not in companions()
    bo = client_of(shop, "bo")
    with shop.begin() as conn:
        derived.record(conn, bo, kind=derived.COLLECTION_ACCESS, as_of=NOW - timedelta(days=1),
                       payload={"collection": "Atelier Collection"}, data_categories=["purchase_history"],
                       model_version="test")
    assert "KN-7" in companions()


def test_l3_exploratory_picks_are_labelled_and_come_from_outside_the_usual_categories(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    cy = get(client, admin_key, "cy", k=6)
    assert cy["level"] == "L3"
    explored = [i for i in cy["items"] if i["exploratory"]]
    assert explored
    for item in explored:
        assert item["category"] != "Knitwear" and "exploratory" in item["reason"]["codes"]
        assert "exploratory_recommendations" in item["reason"]["data_categories"]
        assert item["reason"]["text"].startswith("Exploratory pick")


def test_the_product_page_shows_companions_with_the_stylists_pairing_first(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    bo = get(client, admin_key, "bo", surface="product_page", product_id="KN-1", k=4)
    ids = [i["product_id"] for i in bo["items"]]
    assert "KN-1" not in ids and "AC-1" in ids
    scarf = next(i for i in bo["items"] if i["product_id"] == "AC-1")
    assert "stylist_pairing" in scarf["reason"]["codes"] and scarf["reason"]["data_categories"] == []
    missing = client.get("/v1/recommendations/bo", params={"surface": "product_page"},
                         headers={"Authorization": f"Bearer {admin_key}"})
    assert missing.status_code == 400 and missing.json()["code"] == "missing_product"


def test_a_restricted_client_is_served_nothing_and_nothing_is_recorded(
        shop: Engine, client: TestClient, admin_key: str) -> None:
    from maison.consent import service as consent
    from maison.consent.entities import EntryKind, LedgerEntry

    di = client_of(shop, "di")
    with shop.begin() as conn:
        consent.record(conn, [LedgerEntry(di, EntryKind.RESTRICTION, NOW - timedelta(days=1), granted=True)], now=NOW)
    body = get(client, admin_key, "di")
    assert body["items"] == [] and body["withheld"] == "restricted"
    with shop.connect() as conn:
        assert conn.execute(select(decisions).where(decisions.c.client_id == di)).first() is None


def test_credentials_are_checked_like_the_profile_routes(shop: Engine, client: TestClient, app: Any) -> None:
    assert client.get("/v1/recommendations/ada").status_code == 401
    secret = app.state.maison.settings.token_secret()
    own = issue_token(secret, client_of(shop, "ada"))
    other = issue_token(secret, client_of(shop, "bo"))
    assert client.get("/v1/recommendations/ada", params={"token": own}).status_code == 200
    assert client.get("/v1/recommendations/ada", params={"token": other}).status_code == 403
    bad = client.get("/v1/recommendations/ada", params={"token": own, "surface": "sidebar"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_surface"
