"""`GET /v1/profiles/{identifier}` and `maison profile show`, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from typer.testing import CliRunner

from maison.consent.purposes import L1_PURPOSES, L2_PURPOSES
from maison.core.schema import products
from maison.core.settings import IngestSettings
from maison.ingest.service import ingest
from maison.profiles import cli
from maison.profiles.service import get_profile

RECEIVED = datetime(2026, 3, 1, tzinfo=UTC)
ANON = "a0c1e2d3-0000-4000-8000-000000000001"
CONTEXT = {"timezone": "Europe/London", "channel": "web"}
SECTIONS = {
    "client_id", "identifiers", "traits", "declared_categories", "first_seen", "last_seen",
    "purchases", "wishlist", "carts", "viewed_products", "searches", "content_engagement",
    "email_opens", "rfm", "event_count",
}



@pytest.fixture(autouse=True)
def _staff(client, admin_key):  # type: ignore[no-untyped-def]
    """Profile reads are for staff and the client's own link; these tests read as an admin."""
    client.headers["Authorization"] = f"Bearer {admin_key}"

def store(engine: Engine, messages: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        result = ingest(conn, messages, source="web", received_at=RECEIVED, limits=IngestSettings())
    assert result.accepted == len(messages), result.to_dict()


def message(n: int, kind: str, at: str, **fields: Any) -> dict[str, Any]:
    ids = {"anonymousId": ANON}
    if not fields.pop("anonymous", False):
        ids["userId"] = "u1"
    return {"type": kind, "messageId": f"m{n}", "timestamp": at, "context": CONTEXT,
            **ids, **fields}


def history() -> list[dict[str, Any]]:
    """A client who consents and browses anonymously, signs up, views, saves, fills a cart, buys.

    The consent comes first: ingestion stores behaviour only for purposes the client granted.
    """
    return [
        message(0, "track", "2026-01-05T20:01:00+00:00", anonymous=True, event="Consent Updated",
                properties={"personalization_level": "L2",
                            "granted": [*L1_PURPOSES, *L2_PURPOSES]}),
        message(1, "page", "2026-01-05T20:02:00+00:00", anonymous=True, name="Welcome",
                properties={"path": "/welcome", "content_type": "account"}),
        message(2, "identify", "2026-01-05T20:08:00+00:00",
                traits={"email": "Ada@Example.com", "timezone": "Europe/London", "city": "London",
                        "declared_categories": ["Knitwear"]}),
        message(3, "track", "2026-02-05T20:18:00+00:00", event="Product Viewed",
                properties={"product_id": "KN-001", "dwell_seconds": 140}),
        message(4, "track", "2026-02-07T15:05:00+00:00", event="Product Viewed",
                properties={"product_id": "KN-001", "dwell_seconds": 190}),
        message(5, "track", "2026-02-09T08:12:00+00:00", event="Product Added to Wishlist",
                properties={"product_id": "KN-001"}),
        message(6, "track", "2026-02-12T20:41:00+00:00", event="Product Added",
                properties={"cart_id": "c1", "product_id": "KN-001", "variant": "M"}),
        message(7, "track", "2026-02-12T20:50:00+00:00", event="Checkout Started",
                properties={"cart_id": "c1", "currency": "EUR"}),
        message(8, "page", "2026-02-14T10:00:00+00:00", name="Materials & Sourcing",
                properties={"path": "/materials", "content_type": "sourcing",
                            "dwell_seconds": 300}),
        message(9, "track", "2026-02-17T19:40:00+00:00", event="Email Opened",
                properties={"campaign_id": "weekly-digest"}),
        message(10, "track", "2026-02-20T12:00:00+00:00", event="Order Completed",
                properties={"order_id": "o1", "total": 420, "currency": "EUR", "store": "london",
                            "products": [{"product_id": "WW-004", "price": 420, "quantity": 1}]}),
    ]


def add_product(engine: Engine, product_id: str, price: str) -> None:
    with engine.begin() as conn:
        conn.execute(products.insert(), [{
            "product_id": product_id, "name": product_id, "category": "Knitwear",
            "price": Decimal(price),
            "currency": "EUR", "materials": [], "colors": [], "tags": [], "certifications": [],
            "collections": [], "limited_edition": False, "access_restricted": False,
            "launched_on": date(2025, 1, 1), "sizes": ["M"], "pairs_with": [],
            "updated_at": RECEIVED,
        }])


def test_the_profile_is_found_by_user_id_anonymous_id_email_and_client_id(
    client: TestClient, engine: Engine
) -> None:
    store(engine, history())
    by_user = client.get("/v1/profiles/u1", params={"at": "2026-03-01T00:00:00Z"})
    assert by_user.status_code == 200, by_user.text
    body = by_user.json()
    assert body.keys() >= SECTIONS
    for identifier in (ANON, "ada@example.com", "ADA@example.com", body["client_id"]):
        other = client.get(f"/v1/profiles/{identifier}", params={"at": "2026-03-01T00:00:00Z"})
        assert other.status_code == 200, other.text
        assert other.json() == body
    assert {(i["kind"], i["value"]) for i in body["identifiers"]} == {
        ("user", "u1"), ("anon", ANON), ("email", "ada@example.com")}


def test_the_profile_json_tells_what_the_client_did_in_local_time(
    client: TestClient, engine: Engine
) -> None:
    store(engine, history())
    add_product(engine, "KN-001", "580.00")
    body = client.get("/v1/profiles/u1", params={"at": "2026-03-01T00:00:00Z"}).json()
    assert body["event_count"] == 11
    assert body["first_seen"] == "2026-01-05T20:01:00+00:00"  # consent given before sign-up
    assert (body["declared_categories"], body["city"], body["timezone"]) == (
        ["Knitwear"], "London", "Europe/London")
    (viewed,) = body["viewed_products"]
    assert (viewed["product_id"], viewed["visit_count"]) == ("KN-001", 2)
    assert viewed["dwell_seconds"] == 330
    assert [(v["weekday"], v["part_of_day"]) for v in viewed["visits"]] == [
        ("Thursday", "evening"), ("Saturday", "afternoon")]
    assert [w["product_id"] for w in body["wishlist"]] == ["KN-001"]
    (cart,) = body["carts"]
    assert (cart["status"], cart["total"]) == ("abandoned", 580)  # the catalogue price
    (order,) = body["purchases"]
    assert (order["order_id"], order["channel"], order["store_id"], order["total"]) == (
        "o1", "store", "london", 420)
    assert body["content_engagement"]["by_type"]["sourcing"]["dwell_seconds"] == 300
    assert body["email_opens"]["by_hour"] == {"19": 1}
    assert body["rfm"] == {"recency_days": 8, "frequency": 1, "monetary": 420,
                           "last_order_at": "2026-02-20T12:00:00+00:00"}


def test_at_builds_the_profile_from_earlier_events_only(client: TestClient, engine: Engine) -> None:
    store(engine, history())
    body = client.get("/v1/profiles/u1", params={"at": "2026-02-13T20:00:00+00:00"}).json()
    assert body["event_count"] == 8
    assert body["purchases"] == [] and body["rfm"]["frequency"] == 0
    assert [c["status"] for c in body["carts"]] == ["current"]
    assert body["last_seen"] == "2026-02-12T20:50:00+00:00"


def test_an_unknown_identifier_is_404_with_code_message_and_details(
    client: TestClient, engine: Engine
) -> None:
    store(engine, history())
    r = client.get("/v1/profiles/nobody@example.com")
    assert r.status_code == 404
    assert r.json() == {
        "code": "unknown_client", "message": "no client has that identifier", "details": {}}


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01", ""])
def test_a_bad_at_is_400_naming_the_parameter(client: TestClient, engine: Engine, at: str) -> None:
    store(engine, history())
    r = client.get("/v1/profiles/u1", params={"at": at})
    assert r.status_code == 400
    body = r.json()
    assert (body["code"], body["details"]) == ("bad_request", {"field": "at"})
    assert "ISO 8601" in body["message"]


def test_a_profile_read_is_one_lookup_and_three_queries(engine: Engine) -> None:
    store(engine, history())
    selects: list[str] = []

    def count(*args: Any) -> None:
        statement: str = args[2]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):  # a read, CTE or not
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            profile = get_profile(conn, "u1", as_of=datetime(2026, 3, 1, tzinfo=UTC))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert profile.event_count == 11
    # the identifier look-up, then events, identifiers, and the catalogue price of one product
    assert len(selects) == 4


def test_cli_shows_tables_and_json(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    store(engine, history())
    monkeypatch.setattr(cli, "open_store", lambda: engine)
    runner = CliRunner()
    shown = runner.invoke(cli.app, ["show", "ada@example.com", "--at", "2026-03-01T00:00:00Z"])
    assert shown.exit_code == 0, shown.output
    for heading in ("Purchases", "Carts", "Wishlist", "Viewed products", "Email opens"):
        assert heading in shown.output
    as_json = runner.invoke(cli.app, ["show", "u1", "--at", "2026-03-01T00:00:00Z", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert orjson.loads(as_json.output)["event_count"] == 11


def test_cli_reports_an_unknown_client_with_exit_code_2(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "open_store", lambda: engine)
    result = CliRunner().invoke(cli.app, ["show", "nobody"])
    assert result.exit_code == 2


def test_profile_reads_need_credentials_and_staff_reads_are_audited(client, engine, admin_key):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from maison.access.auth import create_api_key
    from maison.core.clock import utcnow
    from maison.core.schema import access_log
    from maison.core.settings import IngestSettings
    from maison.ingest.service import ingest

    with engine.begin() as conn:
        ingest(conn, [{"type": "track", "event": "Order Completed", "userId": "store-client", "messageId": "o1",
                       "timestamp": "2026-01-05T10:00:00Z",
                       "properties": {"order_id": "o1", "total": 100, "store": "paris"}},
                      {"type": "track", "event": "Order Completed", "userId": "web-client", "messageId": "o2",
                       "timestamp": "2026-01-05T10:00:00Z", "properties": {"order_id": "o2", "total": 100}}],
               source="pos", received_at=utcnow(), limits=IngestSettings(), suppression_key=b"k")
        paris = create_api_key(conn, name="claire", scope="associate", store_id="paris", now=utcnow())
    anonymous = client.get("/v1/profiles/store-client", headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
    assert client.get("/v1/profiles/store-client", headers={"Authorization": f"Bearer {paris}"}).status_code == 200
    other = client.get("/v1/profiles/web-client", headers={"Authorization": f"Bearer {paris}"})
    assert other.status_code == 403 and "your store" in other.json()["message"]
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(access_log.c.actor, access_log.c.scope, access_log.c.what))]
    assert rows == [("claire", "associate", "profile")]


def test_the_read_ends_before_the_access_log_is_written(client: TestClient, engine: Engine) -> None:
    # A reader still open when the access log commits keeps SQLite's write-ahead log from
    # restarting; past its checkpoint size every commit then checkpoints inside the request.
    store(engine, history())
    client.get("/v1/profiles/u1")  # the key is remembered before counting
    open_at_commit: list[int] = []

    def on_commit(_conn: Any) -> None:
        open_at_commit.append(engine.pool.checkedout())

    event.listen(engine, "commit", on_commit)
    try:
        assert client.get("/v1/profiles/u1").status_code == 200
    finally:
        event.remove(engine, "commit", on_commit)
    assert open_at_commit == [1]  # the access log's own connection only
