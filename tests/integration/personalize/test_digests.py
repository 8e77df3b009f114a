"""Digests on a small synthetic shop, on SQLite and PostgreSQL: service, audit, API, CLI, replay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from helpers import consent_message
from maison.access.auth import issue_token
from maison.catalog import service as catalog
from maison.core.schema import decisions
from maison.core.settings import IngestSettings, Settings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.personalize import cli as digest_cli
from maison.personalize import service
from maison.personalize.routes import router
from maison.personalize.wording import has_discount_language
from maison.replay import cli as replay_cli

RECEIVED = datetime(2026, 3, 1, tzinfo=UTC)
WEEK6 = date(2026, 2, 2)  # Monday of ISO week 2026-W06


def _product(pid: str, category: str, price: int, online: dict[str, int]) -> dict[str, Any]:
    return {"product_id": pid, "name": f"Piece {pid}", "category": category, "price_eur": price,
            "sizes": list(online), "stock": {"online": online, "paris": dict.fromkeys(online, 1)}}


CATALOG = [
    _product("KN-1", "Knitwear", 580, {"S": 0, "M": 2, "L": 1}),
    _product("KN-2", "Knitwear", 280, {"S": 4, "M": 4}),
    _product("KN-3", "Knitwear", 350, {"S": 1}),
    _product("KN-4", "Knitwear", 420, {"S": 0, "M": 0}),  # sells most, out of stock online
    _product("HD-1", "Home", 85, {"one_size": 9}),
]


def write_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.jsonl").write_text("".join(json.dumps(p) + "\n" for p in CATALOG))
    page = {"page_id": "CP-1", "name": "Materials", "path": "/materials", "content_type": "sourcing"}
    (folder / "content_pages.jsonl").write_text(json.dumps(page) + "\n")
    (folder / "events.ndjson").write_text("".join(json.dumps(m) + "\n" for m in history()))
    return folder


def order(n: int, user: str, at: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return {"type": "track", "event": "Order Completed", "userId": user, "messageId": f"order-{n}", "timestamp": at,
            "properties": {"order_id": f"o{n}", "products": [{"product_id": p, "quantity": q} for p, q in lines]}}


def opened(n: int, at: str) -> dict[str, Any]:
    return {"type": "track", "event": "Email Opened", "userId": "ada", "messageId": f"open-{n}", "timestamp": at,
            "properties": {"campaign_id": "weekly-digest"}}


def history() -> list[dict[str, Any]]:
    """Ada (New York, L2 from 1 Feb) opens emails around 20:00 local; Bo (L1) declared the same."""
    return [
        consent_message(at="2026-01-05T15:00:00-05:00", level="L1", extra=("email_engagement",), userId="ada"),
        {"type": "identify", "userId": "ada", "messageId": "ada-identify", "timestamp": "2026-01-05T15:01:00-05:00",
         "traits": {"declared_categories": ["Knitwear", "Home"], "timezone": "America/New_York"}},
        consent_message(at="2026-01-05T10:00:00Z", level="L1", userId="bo"),
        {"type": "identify", "userId": "bo", "messageId": "bo-identify", "timestamp": "2026-01-05T10:01:00Z",
         "traits": {"declared_categories": ["Home", "Knitwear"], "timezone": "America/New_York"}},
        order(1, "buyer1", "2026-01-20T10:00:00Z", ("KN-4", 9), ("KN-1", 5), ("HD-1", 1)),
        order(2, "buyer2", "2026-01-28T10:00:00Z", ("KN-2", 3), ("KN-3", 3)),
        order(3, "ada", "2026-01-29T10:00:00Z", ("KN-1", 1)),
        order(4, "buyer3", "2026-02-04T10:00:00Z", ("KN-3", 50)),  # after week 6's send
        *(opened(i, f"2026-01-{d:02d}T20:{10 * i:02d}:00-05:00") for i, d in enumerate((13, 20, 21, 27, 28))),
        consent_message(at="2026-02-01T12:00:00-05:00", level="L2", userId="ada"),
    ]


def store(engine: Engine, messages: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        result = ingest(conn, messages, source="web", received_at=RECEIVED, limits=IngestSettings(),
                        suppression_key=b"k")
    assert result.accepted == len(messages), result.to_dict()


@pytest.fixture
def shop(engine: Engine, tmp_path: Path) -> Engine:
    folder = write_folder(tmp_path / "shop")
    with engine.begin() as conn:
        catalog.import_products(conn, folder / "catalog.jsonl", now=RECEIVED)
    store(engine, history())
    return engine


def client_of(engine: Engine, user: str) -> str:
    with engine.connect() as conn:
        return find_client(conn, user)


def test_a_learned_evening_time_in_new_york_with_its_offset_and_notice(shop: Engine) -> None:
    with shop.connect() as conn:
        digest = service.compose_digest(conn, client_of(shop, "ada"), WEEK6, week=6)
    assert digest is not None
    doc = digest.to_dict()
    assert doc["level"] == "L2"
    assert doc["send_at"] == "2026-02-03T19:45:00-05:00"  # opens 20:00-20:40 local, median 20:20
    [notice] = doc["notices"]
    assert notice["data_categories"] == ["email_engagement"] and "19:45" in notice["text"]


def test_l1_items_are_in_stock_top_sellers_with_declared_categories_only(shop: Engine) -> None:
    with shop.connect() as conn:
        digest = service.compose_digest(conn, client_of(shop, "bo"), WEEK6, week=6)
    assert digest is not None
    doc = digest.to_dict()
    assert doc["send_at"] == "2026-02-03T09:00:00-05:00" and doc["notices"] == []
    assert [[i["product_id"] for i in s["items"]] for s in doc["sections"]] == [["HD-1"], ["KN-1", "KN-2", "KN-3"]]
    assert {c for i in digest.items for c in i.reason.data_categories} == {"declared_categories"}
    assert next(i for i in doc["sections"][1]["items"] if i["product_id"] == "KN-1")["available_sizes"] == ["M", "L"]
    assert [e["message_id"] for i in digest.items for e in i.to_dict()["reason"]["evidence"]] == ["bo-identify"] * 4


def test_from_l2_what_the_client_bought_is_not_offered_again(shop: Engine) -> None:
    with shop.connect() as conn:
        digest = service.compose_digest(conn, client_of(shop, "ada"), WEEK6, week=6)
    assert digest is not None
    assert "KN-1" not in [i.product_id for i in digest.items]
    assert {c for i in digest.items for c in i.reason.data_categories} == {"declared_categories", "purchase_history"}


def test_withdrawing_purchase_history_keeps_l2_but_stops_reading_what_was_bought(shop: Engine) -> None:
    store(shop, [consent_message(at="2026-02-02T12:00:00-05:00", level="L2", off=("purchase_history",),
                                 userId="ada")])
    with shop.connect() as conn:
        digest = service.compose_digest(conn, client_of(shop, "ada"), WEEK6, week=6)
    assert digest is not None and digest.level == "L2"
    assert "KN-1" in [i.product_id for i in digest.items]  # her order is no longer read, so not excluded
    assert not [i for i in digest.items if "purchase_history" in i.reason.data_categories]


def test_a_cleared_declaration_leaves_nothing_to_send(shop: Engine) -> None:
    store(shop, [{"type": "identify", "userId": "bo", "messageId": "bo-clears", "timestamp": "2026-02-01T10:00:00Z",
                  "traits": {"declared_categories": None}}])
    bo = client_of(shop, "bo")
    with shop.connect() as conn:
        assert service.compose_digest(conn, bo, WEEK6, week=6) is None
        assert service.compose_digest(conn, bo, date(2026, 1, 26), week=5) is not None


def test_later_events_change_nothing_in_a_past_digest(shop: Engine) -> None:
    with shop.connect() as conn:
        before = service.compose_digest(conn, client_of(shop, "bo"), WEEK6, week=6)
    store(shop, [order(9, "buyer9", "2026-02-03T13:59:59Z", ("HD-1", 40)),  # just before the send: counts
                 order(10, "buyer9", "2026-02-03T14:00:00Z", ("KN-2", 40))])  # at the send instant: does not
    with shop.connect() as conn:
        after = service.compose_digest(conn, client_of(shop, "bo"), WEEK6, week=6)
    assert before is not None and after is not None
    assert [i.product_id for i in after.items] == [i.product_id for i in before.items]
    assert after.items[0].label == "Bestseller"


def test_a_produced_digest_is_in_the_decision_audit_and_is_what_the_week_returns(shop: Engine) -> None:
    ada = client_of(shop, "ada")
    with shop.begin() as conn:
        digest = service.produce(conn, ada, WEEK6, week=6)
    assert digest is not None
    with shop.connect() as conn:
        row = conn.execute(select(decisions).where(decisions.c.client_id == ada)).mappings().one()
        found = service.digest_for_week(conn, ada, "2026-W06")
    assert row["kind"] == "digest" and row["output"] == digest.to_dict()
    assert set(row["data_categories"]) == {"declared_categories", "purchase_history", "demographics",
                                           "email_engagement"}
    assert found.recorded and found.digest == digest.to_dict()


@pytest.fixture
def api(shop: Engine, settings: Settings) -> Iterator[TestClient]:
    from maison.app import create_app

    app = create_app(settings, engine=shop, migrate=False)
    app.include_router(router)
    with TestClient(app) as client:
        yield client


def test_the_api_returns_the_weeks_digest_to_its_client_only(api: TestClient, shop: Engine, settings: Settings) -> None:
    ada = client_of(shop, "ada")
    own = {"Authorization": f"Bearer {issue_token(settings.token_secret(), ada)}"}
    got = api.get("/v1/digests/ada", params={"week": "2026-W06"}, headers=own)
    assert got.status_code == 200, got.text
    assert got.headers["x-maison-digest"] == "composed"
    assert got.json()["customer_id"] == "ada" and got.json()["week"] == 6
    assert api.get("/v1/digests/bo", params={"week": "2026-W06"}, headers=own).status_code == 403
    bad = api.get("/v1/digests/ada", params={"week": "February"}, headers=own)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_week")
    early = api.get("/v1/digests/ada", params={"week": "2025-W40"}, headers=own)
    assert (early.status_code, early.json()["code"]) == (404, "no_digest")


def test_digest_preview_renders_and_prints_json(shop: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest_cli, "open_store", lambda: shop)
    shown = CliRunner().invoke(digest_cli.app, ["preview", "ada", "--week", "2026-W06"])
    assert shown.exit_code == 0, shown.output
    assert "Best-selling in Knitwear" in shown.output and "send_time_changed" in shown.output
    raw = CliRunner().invoke(digest_cli.app, ["preview", "bo", "--week", "2026-W06", "--json"])
    assert json.loads(raw.output)["level"] == "L1"
    assert CliRunner().invoke(digest_cli.app, ["preview", "bo", "--week", "W6"]).exit_code == 2


def test_replay_writes_digests_privacy_settings_and_product_pages(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "shop")
    out = tmp_path / "out"
    result = CliRunner().invoke(replay_cli.app, [
        str(folder), "--stream", "events.ndjson", "--client", "ada", "--client", "bo", "--start", "2026-01-26",
        "--weeks", "2", "--out", str(out), "--product", "KN-1", "--at", "2026-02-02T12:00:00+00:00",
    ])
    assert result.exit_code == 0, result.output
    week2 = json.loads((out / "digests" / "ada" / "week-02.json").read_text())
    assert (week2["week"], week2["send_at"]) == (2, "2026-02-03T19:45:00-05:00")
    assert json.loads((out / "digests" / "bo" / "week-01.json").read_text())["send_at"] == "2026-01-27T09:00:00-05:00"
    settings = json.loads((out / "privacy" / "ada" / "2026-02-02T12:00:00+00:00.json").read_text())
    assert settings["customer_id"] == "ada" and settings["personalization_level"] == "L2"
    page = json.loads((out / "product_pages" / "bo" / "KN-1" / "2026-02-02T12:00:00+00:00.json").read_text())
    assert page == {"product_id": "KN-1", "at": "2026-02-02T12:00:00+00:00", "overall_rating": None,
                    "cohort_rating": None, "sizing_guidance": None, "coordinating_items": [],
                    "available_sizes": ["M", "L"]}
    texts = [json.dumps(json.loads(p.read_text())) for p in (out / "digests").rglob("*.json")]
    assert texts and not any(has_discount_language(t) for t in texts)


def test_replay_refuses_a_start_that_is_not_a_monday(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "shop")
    result = CliRunner().invoke(replay_cli.app, [
        str(folder), "--stream", "events.ndjson", "--client", "ada", "--start", "2026-01-27", "--out",
        str(tmp_path / "out")])
    assert result.exit_code == 2 and "Monday" in result.output


def test_streams_are_merged_by_timestamp(tmp_path: Path) -> None:
    from maison.replay.runner import merge_streams

    a, b, merged = tmp_path / "a.ndjson", tmp_path / "b.ndjson", tmp_path / "m.ndjson"
    a.write_text('{"timestamp": "2026-01-01T10:00:00+00:00", "n": 1}\n{"timestamp": "2026-01-03T00:00:00Z", "n": 3}\n')
    b.write_text('not json\n{"timestamp": "2026-01-02T09:00:00-05:00", "n": 2}\n')
    assert merge_streams([a, b], merged) == 4
    lines = merged.read_text().splitlines()
    assert lines[0] == "not json" and [json.loads(line)["n"] for line in lines[1:]] == [1, 2, 3]
