"""`GET /v1/products/{id}/for/{client}`: the product page's personalised parts, for the client only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from helpers import consent_message
from maison.access.auth import issue_token
from maison.catalog import service as catalog
from maison.core.settings import IngestSettings, Settings
from maison.identity.service import find_client
from maison.ingest.service import ingest

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CATALOG = [
    {"product_id": "KN-1", "name": "Cardigan", "category": "Knitwear", "price_eur": 580, "sizes": ["S", "M"],
     "stock": {"online": {"S": 0, "M": 2}}, "pairs_with": ["KN-2", "KN-3"]},
    {"product_id": "KN-2", "name": "Turtleneck", "category": "Knitwear", "price_eur": 280, "sizes": ["S"],
     "stock": {"online": {"S": 4}}},
    {"product_id": "KN-3", "name": "Vest", "category": "Knitwear", "price_eur": 200, "sizes": ["S"],
     "stock": {"online": {"S": 0}}},
]


def review(n: int, user: str, rating: int) -> dict[str, Any]:
    return {"type": "track", "event": "Product Reviewed", "userId": user, "messageId": f"rev-{n}",
            "timestamp": "2026-02-01T10:00:00+00:00", "properties": {"product_id": "KN-1", "rating": rating}}


@pytest.fixture
def api(engine: Engine, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    from maison.app import create_app

    (tmp_path / "catalog.jsonl").write_text("".join(json.dumps(p) + "\n" for p in CATALOG))
    messages = [consent_message(at="2026-01-05T10:00:00+00:00", level="L2", userId=u) for u in ("ada", "bo")]
    messages += [review(1, "ada", 5), review(2, "bo", 4)]
    with engine.begin() as conn:
        catalog.import_products(conn, tmp_path / "catalog.jsonl", now=NOW)
        ingest(conn, messages, source="web", received_at=NOW, limits=IngestSettings(), suppression_key=b"k")
    with TestClient(create_app(settings, engine=engine, migrate=False)) as client:
        yield client


def test_the_page_shows_shop_wide_parts_and_no_cohort_without_enough_similar_clients(
    api: TestClient, engine: Engine, settings: Settings
) -> None:
    with engine.connect() as conn:
        ada = find_client(conn, "ada")
    own = {"Authorization": f"Bearer {issue_token(settings.token_secret(), ada)}"}
    got = api.get("/v1/products/KN-1/for/ada", params={"at": "2026-02-02T00:00:00+00:00"}, headers=own)
    assert got.status_code == 200, got.text
    page = got.json()
    assert page["overall_rating"] == {"mean": 4.5, "count": 2}
    assert page["cohort_rating"] is None and page["sizing_guidance"] is None  # two clients are no cohort
    assert page["available_sizes"] == ["M"]
    assert [i["product_id"] for i in page["coordinating_items"]] == ["KN-2"]  # KN-3 is out of stock online
    before = api.get("/v1/products/KN-1/for/ada", params={"at": "2026-01-06T00:00:00+00:00"}, headers=own).json()
    assert before["overall_rating"] is None  # no look-ahead: the reviews came later


def test_the_page_is_for_its_client_only_and_refuses_bad_input(
    api: TestClient, engine: Engine, settings: Settings
) -> None:
    with engine.connect() as conn:
        ada = find_client(conn, "ada")
    own = {"Authorization": f"Bearer {issue_token(settings.token_secret(), ada)}"}
    assert api.get("/v1/products/KN-1/for/bo", headers=own).status_code == 403
    bad = api.get("/v1/products/KN-1/for/ada", params={"at": "yesterday"}, headers=own)
    assert bad.status_code == 400
    assert api.get("/v1/products/NOPE/for/ada", headers=own).status_code == 404


def test_the_cohort_recorded_is_the_one_the_page_used_placed_once(
    api: TestClient, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route reads the page on one connection and records the cohort on another: it records
    the very cohort the page was composed with, without placing the client a second time (a
    placement between the two could differ, and costs a read of the client's events)."""
    from maison.core.schema import client_derived
    from maison.personalize import cohort as cohorts

    with engine.connect() as conn:
        ada, bo = find_client(conn, "ada"), find_client(conn, "bo")
    placed: list[datetime] = []

    def placing(conn: Any, client_id: str, *, at: datetime, **_: Any) -> cohorts.Cohort:
        placed.append(at)
        return cohorts.Cohort(client_id, 3, (bo,), "segments-kmeans/test", "reads sourcing pages",
                              ("similar_customer_signals", "browsing_behaviour"), at)

    monkeypatch.setattr(cohorts, "cohort_of", placing)
    own = {"Authorization": f"Bearer {issue_token(settings.token_secret(), ada)}"}
    got = api.get("/v1/products/KN-1/for/ada", params={"at": "2026-02-02T00:00:00+00:00"}, headers=own)
    assert got.status_code == 200, got.text
    assert got.json()["cohort_rating"] is None  # one member: far below the 20 a rating needs
    assert placed == [datetime(2026, 2, 2, tzinfo=UTC)]
    with engine.connect() as conn:
        kept = conn.execute(select(client_derived.c.payload, client_derived.c.model_version).where(
            client_derived.c.client_id == ada, client_derived.c.kind == "cohort")).all()
    assert [(payload["segment"], version) for payload, version in kept] == [(3, "segments-kmeans/test")]
