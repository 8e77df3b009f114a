"""Data-subject requests by event are acted on at once, so only a back-end key may send them.

A browser's write key sits in the shop's pages: anyone can read it. With it, a `Data Erasure
Requested` event naming any userId would erase that client. Such an event is refused from a key
not made for it (quarantined with the reason, as any invalid message of a batch), and stays
refused when the quarantine is replayed; a key made with `privacy_requests` may send it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from maison.access.keys import create_key
from maison.core.errors import BadRequest
from maison.core.schema import erasure_log, events, quarantine
from maison.core.settings import IngestSettings
from maison.ingest.service import replay_quarantined

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def order(mid: str) -> dict[str, object]:
    return {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": mid,
            "timestamp": "2026-01-05T20:00:00+00:00", "properties": {"order_id": mid, "total": 120}}


def erase_u1(mid: str = "erase-1") -> dict[str, object]:
    return {"type": "track", "event": "Data Erasure Requested", "userId": "u1", "messageId": mid,
            "timestamp": "2026-01-06T09:00:00+00:00", "properties": {"request_id": "dsr-1"}}


def count(engine, table=events) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_browser_key_cannot_erase_a_client_by_event(client, engine, write_key):  # type: ignore[no-untyped-def]
    assert client.post("/v1/batch", json={"batch": [order("o1")]}, headers=auth(write_key)).status_code == 200
    r = client.post("/v1/batch", json={"batch": [erase_u1(), order("o2")]}, headers=auth(write_key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1  # the batch's other message is kept
    assert [(x["index"], x["field"]) for x in body["rejected"]] == [(0, "event")]
    assert "data-subject request" in body["rejected"][0]["reason"]
    assert count(engine) == 2 and count(engine, erasure_log) == 0  # the client and their orders are all there
    assert count(engine, quarantine) == 1

    single = client.post("/v1/track", json=erase_u1("erase-2"), headers=auth(write_key))
    assert single.status_code == 400
    assert single.json()["details"]["field"] == "event"
    assert count(engine) == 2


def test_a_refused_request_stays_refused_when_the_quarantine_is_replayed(client, engine, write_key):  # type: ignore[no-untyped-def]
    client.post("/v1/batch", json={"batch": [order("o1"), erase_u1()]}, headers=auth(write_key))
    with engine.begin() as conn:
        ids = [r.id for r in conn.execute(select(quarantine.c.id))]
        result, done = replay_quarantined(conn, ids, limits=IngestSettings(), now=NOW)
    assert done == [] and result.accepted == 0
    assert count(engine) == 1 and count(engine, erasure_log) == 0


def test_a_back_end_key_made_for_it_may_erase_by_event(client, engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        backend = create_key(conn, name="backend", origins=[], now=NOW, privacy_requests=True)
    stored = client.post("/v1/batch", json={"batch": [order("o1"), order("o2")]}, headers=auth(backend))
    assert stored.status_code == 200
    r = client.post("/v1/batch", json={"batch": [erase_u1()]}, headers=auth(backend))
    assert r.status_code == 200 and r.json()["rejected"] == [], r.text
    assert count(engine) == 0  # the client's events, the request's own included, are erased
    with engine.connect() as conn:
        assert conn.execute(select(erasure_log.c.request_id)).scalars().all() == ["dsr-1"]


def test_a_key_with_browser_origins_cannot_be_made_to_carry_privacy_requests(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn, pytest.raises(BadRequest, match="public"):
        create_key(conn, name="web", origins=["https://shop.example.com"], now=NOW, privacy_requests=True)
