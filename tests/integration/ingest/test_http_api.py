"""The Segment HTTP Tracking API as Maison serves it, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gzip

import orjson
from sqlalchemy import func, select

from maison.core.schema import events, quarantine


def auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def track(mid: str, **extra):  # type: ignore[no-untyped-def]
    return {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": mid,
            "timestamp": "2026-01-05T20:00:00+00:00", "properties": {"product_id": "P1"}, **extra}


def count(engine, table=events) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_batch_is_stored_and_acknowledged(client, engine, write_key):  # type: ignore[no-untyped-def]
    r = client.post("/v1/batch", json={"batch": [track("m1"), track("m2")]}, headers=auth(write_key))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert count(engine) == 2


def test_same_message_id_is_stored_once(client, engine, write_key):  # type: ignore[no-untyped-def]
    for _ in range(3):
        r = client.post("/v1/batch", json={"batch": [track("m1"), track("m1")]}, headers=auth(write_key))
        assert r.status_code == 200
    assert count(engine) == 1


def test_mixed_batch_keeps_good_messages_and_quarantines_bad(client, engine, write_key):  # type: ignore[no-untyped-def]
    bad_type = {"type": "nonsense", "userId": "u1", "messageId": "b1"}
    no_ids = {"type": "track", "event": "X", "messageId": "b2"}
    bad_ts = track("b3", timestamp="yesterday")
    r = client.post("/v1/batch", json={"batch": [track("g1"), bad_type, no_ids, track("g2"), bad_ts]}, headers=auth(write_key))
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    assert [(x["index"], x["field"]) for x in body["rejected"]] == [(1, "type"), (2, "userId"), (4, "timestamp")]
    assert count(engine) == 2
    assert count(engine, quarantine) == 3


def test_gzip_body_is_accepted(client, engine, write_key):  # type: ignore[no-untyped-def]
    body = gzip.compress(orjson.dumps({"batch": [track("z1")]}))
    r = client.post("/v1/batch", content=body, headers={**auth(write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert count(engine) == 1


def test_write_key_in_body_with_text_plain(client, engine, write_key):  # type: ignore[no-untyped-def]
    msg = {**track("t1"), "writeKey": write_key}
    r = client.post("/v1/t", content=orjson.dumps(msg), headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    assert count(engine) == 1


def test_bad_key_is_401_with_json_error(client, engine, write_key):  # type: ignore[no-untyped-def]
    r = client.post("/v1/batch", json={"batch": [track("m1")]}, headers=auth("nope"))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    assert count(engine) == 0
