"""Alex Morgan's profile from the scenario stream (E1, E9, E12, E32), on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from maison.core.schema import events, products
from maison.core.settings import IngestSettings
from maison.ingest.service import ingest

pytestmark = pytest.mark.scenario

RECEIVED = datetime(2026, 4, 1, tzinfo=UTC)
AT = {"at": "2026-03-31T00:00:00Z"}
USER, EMAIL = "cus_a7d3e91c04", "alex.morgan@example.net"
ANON = "3f6c1b9e-8d2a-4c57-9b1e-2a7f4d8c6e10"
Prices = dict[str, Decimal]


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def load_catalog(engine: Engine, path: Path) -> dict[str, Decimal]:
    """The scenario catalogue into `products`, with no more than the columns require."""
    rows = [
        {
            "product_id": p["product_id"], "name": p["name"], "category": p["category"],
            "subcategory": p.get("subcategory"), "price": Decimal(str(p["price_eur"])),
            "currency": p.get("currency", "EUR"), "materials": p.get("materials", []),
            "colors": p.get("colors", []), "tags": p.get("tags", []),
            "certifications": p.get("certifications", []), "maker": p.get("maker"),
            "collections": p.get("collections", []),
            "limited_edition": bool(p.get("limited_edition")),
            "access_restricted": bool(p.get("access_restricted")),
            "launched_on": date.fromisoformat(p["launched_on"]) if p.get("launched_on") else None,
            "sizes": p.get("sizes", []), "pairs_with": p.get("pairs_with", []),
            "description": p.get("description"), "updated_at": RECEIVED,
        }
        for p in read_lines(path)
    ]
    with engine.begin() as conn:
        conn.execute(products.insert(), rows)
    return {r["product_id"]: r["price"] for r in rows}


def ingest_stream(engine: Engine, path: Path) -> int:
    with engine.begin() as conn:
        result = ingest(
            conn, read_lines(path), source="web", received_at=RECEIVED, limits=IngestSettings()
        )
    assert not result.rejected and result.dropped == 0, result.to_dict()
    return result.accepted


@pytest.fixture(autouse=True)
def _staff(client: TestClient, admin_key: str) -> None:
    """Profile reads are for staff and the client's own link; these tests read as an admin."""
    client.headers["Authorization"] = f"Bearer {admin_key}"


@pytest.fixture
def alex(engine: Engine, scenario_dir: Path) -> Prices:
    prices = load_catalog(engine, scenario_dir / "catalog.jsonl")
    assert ingest_stream(engine, scenario_dir / "alex-morgan.ndjson") == 147
    return prices


def test_her_profile_is_found_by_each_identifier_and_holds_every_event(
    client: TestClient, alex: Prices
) -> None:
    body = client.get(f"/v1/profiles/{USER}", params=AT).json()
    assert body["event_count"] == 147
    for identifier in (ANON, EMAIL):
        assert client.get(f"/v1/profiles/{identifier}", params=AT).json() == body
    assert body["declared_categories"] == [
        "Women's Workwear", "Minimalist Home Decor", "Premium Accessories"]
    assert body["timezone"] == "Europe/London"


def test_consent_and_pages_sent_before_identify_belong_to_her(
    client: TestClient, engine: Engine, alex: Prices, scenario_dir: Path
) -> None:
    body = client.get(f"/v1/profiles/{USER}", params=AT).json()
    stream = read_lines(scenario_dir / "alex-morgan.ndjson")
    anonymous = [m["messageId"] for m in stream if "userId" not in m]
    assert len(anonymous) == 3
    query = select(events.c.client_id).where(events.c.message_id.in_(anonymous))
    with engine.connect() as conn:
        owners = set(conn.execute(query).scalars())
    assert owners == {body["client_id"]}
    assert body["first_seen"] == "2026-01-05T20:02:00+00:00"  # the consent, given anonymously


def test_the_cardigan_visits_carry_local_day_and_part_of_day(
    client: TestClient, alex: Prices
) -> None:
    body = client.get(f"/v1/profiles/{USER}", params=AT).json()
    viewed = {v["product_id"]: v for v in body["viewed_products"]}
    first, second = viewed["KN-001"]["visits"][:2]
    assert (first["weekday"], first["local_time"][:16], first["part_of_day"]) == (
        "Thursday", "2026-02-05T20:18", "evening")
    assert (second["weekday"], second["local_time"][:16], second["part_of_day"]) == (
        "Saturday", "2026-02-07T15:05", "afternoon")
    assert first["dwell_seconds"] > 0 and second["dwell_seconds"] > 0


def test_the_checkout_of_12_february_is_abandoned_at_eur_1000(
    client: TestClient, alex: Prices
) -> None:
    carts = client.get(f"/v1/profiles/{USER}", params=AT).json()["carts"]
    (abandoned,) = [c for c in carts if c["status"] == "abandoned"]
    items = [(i["product_id"], i["variant"]) for i in abandoned["items"]]
    assert items == [("KN-001", "M"), ("WW-004", "S")]  # not the turtleneck she removed
    assert abandoned["total"] == 1000 == float(alex["KN-001"] + alex["WW-004"])
    assert abandoned["checkout_started"]["local_time"].startswith("2026-02-12T20:50")
    assert sorted(c["status"] for c in carts) == ["abandoned", "converted", "converted"]


def test_no_look_ahead_the_cart_is_current_until_48_hours_have_passed(
    client: TestClient, alex: Prices
) -> None:
    def cart_status(at: str) -> list[str]:
        carts = client.get(f"/v1/profiles/{USER}", params={"at": at}).json()["carts"]
        return [c["status"] for c in carts if c["cart_id"] == "cart_a7d3e91c04-2"]

    assert cart_status("2026-02-14T20:50:04Z") == ["current"]
    assert cart_status("2026-02-14T20:50:05Z") == ["abandoned"]


def test_she_opens_emails_in_the_evening_local_time(client: TestClient, alex: Prices) -> None:
    opens = client.get(f"/v1/profiles/{USER}", params=AT).json()["email_opens"]
    assert opens["count"] == 14
    assert {int(h) for h in opens["by_hour"]} <= {18, 19, 20, 21}
    assert {o["part_of_day"] for o in opens["opens"]} == {"evening"}


def test_purchases_and_rfm(client: TestClient, alex: Prices) -> None:
    body = client.get(f"/v1/profiles/{USER}", params=AT).json()
    assert [(p["order_id"], p["total"], p["channel"]) for p in body["purchases"]] == [
        ("ord_4c1e7a90b2d3", 295, "online"), ("ord_9b2f61d07e5a", 145, "online")]
    assert body["rfm"]["frequency"] == 2 and body["rfm"]["monetary"] == 440


def test_ingesting_the_stream_twice_changes_nothing(
    client: TestClient, engine: Engine, alex: Prices, scenario_dir: Path
) -> None:
    before = client.get(f"/v1/profiles/{USER}", params=AT).json()
    assert ingest_stream(engine, scenario_dir / "alex-morgan.ndjson") == 0
    assert client.get(f"/v1/profiles/{USER}", params=AT).json() == before
