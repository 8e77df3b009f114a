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
    return {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": mid,
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
    r = client.post(
        "/v1/batch", json={"batch": [track("g1"), bad_type, no_ids, track("g2"), bad_ts]}, headers=auth(write_key)
    )
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    assert [(x["index"], x["field"]) for x in body["rejected"]] == [(1, "type"), (2, "userId"), (4, "timestamp")]
    assert count(engine) == 2
    assert count(engine, quarantine) == 3


def test_a_value_too_wide_to_store_loses_only_its_own_message(client, engine, write_key):  # type: ignore[no-untyped-def]
    """On PostgreSQL a currency of four letters failed the whole batch (varchar(3)), and an SDK
    retried it for ever; on both backends the message alone is quarantined, naming the field."""
    wide = track("w1", properties={"product_id": "P1", "currency": "EURO"})
    r = client.post("/v1/batch", json={"batch": [track("g1"), wide, track("g2")]}, headers=auth(write_key))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert [(x["index"], x["field"]) for x in r.json()["rejected"]] == [(1, "properties.currency")]
    assert count(engine) == 2 and count(engine, quarantine) == 1


def test_gzip_body_is_accepted(client, engine, write_key):  # type: ignore[no-untyped-def]
    body = gzip.compress(orjson.dumps({"batch": [track("z1")]}))
    r = client.post(
        "/v1/batch",
        content=body,
        headers={**auth(write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
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


def test_single_endpoint_answers_400_for_an_invalid_message(client, engine, write_key):  # type: ignore[no-untyped-def]
    cases = [
        ({"event": "X", "messageId": "a"}, "userId"),
        ({"event": "X", "userId": "u", "timestamp": "not-a-time"}, "timestamp"),
        ({"event": "X", "userId": "u", "properties": {"blob": "x" * 33_000}}, "message"),
    ]
    for body, field in cases:
        r = client.post("/v1/track", json=body, headers=auth(write_key))
        assert r.status_code == 400, r.text
        payload = r.json()
        assert payload["code"] == "invalid_message" and payload["details"]["field"] == field
        assert payload["message"]
    r = client.post("/v1/batch", json={"batch": [{"type": "unknown-type", "userId": "u"}]}, headers=auth(write_key))
    assert r.json()["rejected"][0]["field"] == "type"
    assert count(engine) == 0


def test_unreadable_requests_are_refused_whole_with_json_errors(client, engine, write_key):  # type: ignore[no-untyped-def]
    h = {**auth(write_key), "Content-Type": "application/json"}
    cases = [
        (client.post("/v1/batch", content=b"{not json", headers=h), 400, "malformed_body"),
        (client.post("/v1/batch", content=b"[1, 2]", headers=h), 400, "malformed_body"),
        (client.post("/v1/batch", content=b'{"batch": 5}', headers=h), 400, "malformed_body"),
        (client.post("/v1/batch", content=b"\x1f\x8b garbage", headers={**h, "Content-Encoding": "gzip"}),
         400, "malformed_body"),
        (client.post("/v1/batch", content=b"{}", headers={**h, "Content-Encoding": "br"}), 400, "malformed_body"),
        (client.post("/v1/batch", content=b"x" * (500 * 1024 + 1), headers=h), 413, "payload_too_large"),
        (client.post("/v1/batch", content=gzip.compress(b" " * (600 * 1024)),
                     headers={**h, "Content-Encoding": "gzip"}),
         413, "payload_too_large"),
        (client.post("/v1/batch", json={"batch": []}), 401, "unauthorized"),
        (client.post("/v1/batch", json={"batch": []}, headers={"Authorization": "Basic !!!"}), 400, "malformed_body"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
        assert response.json()["message"]
    assert count(engine) == 0 and count(engine, quarantine) == 0


def test_batch_context_is_merged_into_each_message(client, engine, write_key):  # type: ignore[no-untyped-def]
    body = {
        "batch": [track("c1"), track("c2", context={"channel": "app"})],
        "context": {"channel": "web", "timezone": "Europe/Paris"},
    }
    assert client.post("/v1/batch", json=body, headers=auth(write_key)).status_code == 200
    with engine.connect() as conn:
        rows = dict(conn.execute(select(events.c.message_id, events.c.channel)).all())
        tz = conn.execute(select(events.c.timezone).where(events.c.message_id == "c2")).scalar_one()
    assert rows == {"c1": "web", "c2": "app"}
    assert tz == "Europe/Paris"


def test_server_sets_received_at_and_corrects_skew(client, engine, write_key):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    skewed = now + timedelta(hours=3)
    msg = track("s1", timestamp=(skewed - timedelta(seconds=30)).isoformat(), sentAt=skewed.isoformat())
    assert client.post("/v1/batch", json={"batch": [msg]}, headers=auth(write_key)).status_code == 200
    with engine.connect() as conn:
        ts, received = conn.execute(select(events.c.timestamp, events.c.received_at)).one()
    assert abs((received - ts).total_seconds() - 30) < 1


def test_a_failure_while_storing_leaves_nothing_half_written(client, engine, write_key, monkeypatch):  # type: ignore[no-untyped-def]
    import maison.ingest.repository as repo

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "insert_events", boom)
    batch = {"batch": [track("h1"), {"type": "bad"}]}
    from fastapi.testclient import TestClient

    with TestClient(client.app, raise_server_exceptions=False) as c:
        assert c.post("/v1/batch", json=batch, headers=auth(write_key)).status_code == 500
    assert count(engine) == 0 and count(engine, quarantine) == 0
    from maison.core.schema import clients, identities

    assert count(engine, clients) == 0 and count(engine, identities) == 0


def test_cors_allows_only_the_key_origins(client, engine, write_key):  # type: ignore[no-untyped-def]
    msg = orjson.dumps({**track("o1"), "writeKey": write_key})
    ok = client.post("/v1/t", content=msg, headers={"Content-Type": "text/plain", "Origin": "https://shop.example.com"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://shop.example.com"
    bad = client.post("/v1/t", content=msg, headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert bad.status_code == 403 and bad.json()["code"] == "forbidden"
    pre = client.options(
        "/v1/t", headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert pre.status_code == 204
    assert client.options("/v1/t", headers={"Origin": "https://evil.example"}).status_code == 403


def test_quarantined_message_can_be_fixed_and_replayed(client, engine, write_key):  # type: ignore[no-untyped-def]
    from maison.core.clock import utcnow
    from maison.core.settings import IngestSettings
    from maison.ingest import repository, service

    client.post("/v1/batch", json={"batch": [track("q1", timestamp="bad")]}, headers=auth(write_key))
    with engine.begin() as conn:
        [row] = repository.list_quarantine(conn)
        result, done = service.replay_quarantined(conn, [row["id"]], limits=IngestSettings(), now=utcnow())
    assert done == [] and result.rejected[0].field == "timestamp"
    with engine.begin() as conn:
        repository.replace_quarantined_message(conn, row["id"], {**row["message"], "timestamp": "2026-01-05T20:00:00Z"})
        result, done = service.replay_quarantined(conn, [row["id"]], limits=IngestSettings(), now=utcnow())
    assert done == [row["id"]] and result.accepted == 1
    with engine.connect() as conn:
        assert repository.list_quarantine(conn) == []
    assert count(engine) == 1


def test_a_replayed_message_keeps_the_instant_it_was_first_received_as(engine):  # type: ignore[no-untyped-def]
    """A fix and a replay ten days later: its clock is corrected against its first receipt, so
    the event stays on its own day, not the replay's."""
    from datetime import UTC, datetime, timedelta

    from maison.core.settings import IngestSettings
    from maison.ingest import repository, service

    first = datetime(2026, 1, 5, 20, 0, 12, tzinfo=UTC)
    sent = track("q1", timestamp="2026-01-05T21:00:00+01:00", sentAt="2026-01-05T21:00:02+01:00",
                 properties={"dwell_seconds": "long"})
    with engine.begin() as conn:
        service.ingest(conn, [sent], source="web", received_at=first, limits=IngestSettings())
        [row] = repository.list_quarantine(conn)
        repository.replace_quarantined_message(conn, row["id"], {**row["message"], "properties": {}})
        result, done = service.replay_quarantined(conn, [row["id"]], limits=IngestSettings(),
                                                  now=first + timedelta(days=10))
    assert done == [row["id"]] and result.accepted == 1
    with engine.connect() as conn:
        stamp = conn.execute(select(events.c.timestamp)).scalar_one()
    assert stamp == first - timedelta(seconds=2)


def test_errors_to_an_allowed_origin_are_readable_by_the_browser(client, engine, write_key):  # type: ignore[no-untyped-def]
    h = {"Content-Type": "text/plain", "Origin": "https://shop.example.com"}
    bad = client.post("/v1/t", content=orjson.dumps({"event": "X", "writeKey": write_key}), headers=h)
    assert bad.status_code == 400 and bad.headers["access-control-allow-origin"] == "https://shop.example.com"
    unauthorized = client.post("/v1/t", content=orjson.dumps({**track("x"), "writeKey": "wrong"}), headers=h)
    assert unauthorized.status_code == 401 and unauthorized.headers["access-control-allow-origin"] == "https://shop.example.com"
    foreign = client.post("/v1/t", content=orjson.dumps({"event": "X", "writeKey": write_key}), headers={**h, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


def test_health_names_the_worker_that_answered(client):  # type: ignore[no-untyped-def]
    import os

    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "worker": os.getpid()}  # TestClient runs the app in this process
