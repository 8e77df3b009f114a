"""Data-subject rights, retention, audit and access, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from sqlalchemy import func, select

from helpers import consent_message
from maison.access.auth import issue_token
from maison.core.schema import access_log, events, metadata, row_moves, suppressions
from maison.core.settings import IngestSettings, PrivacySettings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.privacy import decisions, export, retention, service

NOW = datetime(2026, 3, 1, tzinfo=UTC)
KEY = b"test-suppression-key"


def send(engine, *messages):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return ingest(conn, list(messages), source="web", received_at=NOW, limits=IngestSettings(), suppression_key=KEY)


def seed(engine, user: str = "u1", email: str = "jo.doe@example.org", last_name: str = "Doe-Quint"):  # type: ignore[no-untyped-def]
    send(engine,
         consent_message(at="2026-01-05T10:00:00Z", anonymousId=f"anon-{user}"),
         {"type": "page", "anonymousId": f"anon-{user}", "messageId": f"p-{user}",
          "timestamp": "2026-01-05T10:01:00Z", "properties": {"path": "/"}},
         {"type": "identify", "userId": user, "anonymousId": f"anon-{user}", "messageId": f"i-{user}",
          "timestamp": "2026-01-05T10:02:00Z",
          "traits": {"email": email, "first_name": "Jo", "last_name": last_name, "declared_categories": ["Knitwear"]}},
         {"type": "track", "event": "Product Viewed", "userId": user, "messageId": f"v-{user}",
          "timestamp": "2026-01-06T10:00:00Z",
          "properties": {"product_id": "KN-1", "dwell_seconds": 40}})


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_export_follows_the_published_schema_and_holds_everything(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    with engine.begin() as conn:
        decisions.record(conn, client_id=find_client(conn, "u1"), kind="recommendations", model_version="test-1",
                         data_categories=["declared_categories"], reasons=[{"text": "You declared Knitwear."}],
                         output={"items": ["KN-1"]}, at=NOW)
    r = client.get("/v1/privacy/u1/export", headers=headers(admin_key))
    assert r.status_code == 200
    doc = r.json()
    jsonschema.validate(doc, client.get("/v1/privacy/export.schema.json").json())
    assert sorted(e["messageId"] for e in doc["events"]) == sorted(
        ["consent-2026-01-05T10:00:00Z-[('anonymousId', 'anon-u1')]", "p-u1", "i-u1", "v-u1"]
    )
    assert {i["kind"] for i in doc["identifiers"]} == {"user", "anon", "email"}
    assert len([h for h in doc["consent_history"] if h["kind"] == "purpose"]) == 12
    assert doc["decisions"][0]["reasons"] == [{"text": "You declared Knitwear."}]
    assert doc["retention_days"]["browsing_behaviour"] > 0


def test_erasure_removes_every_trace_on_this_backend(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine, "client-erased-1", "jo.doe@example.org")
    seed(engine, "client-kept-2", "other.person@example.org", "Keepwell")
    send(engine, {"type": "bogus", "userId": "client-erased-1", "messageId": "bad"})  # quarantined, names her
    r = client.post("/v1/privacy/jo.doe@example.org/erasure", headers=headers(admin_key))
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["events"] == 4
    dump = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in conn.execute(select(table))]
    text = "\n".join(dump)
    for needle in ("client-erased-1", "jo.doe@example.org", "Doe-Quint"):
        assert needle not in text, needle
    assert "other.person@example.org" in text and "Keepwell" in text  # the other client is untouched
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(suppressions)).scalar_one() == 3
    assert client.get("/v1/privacy/client-erased-1/export", headers=headers(admin_key)).status_code == 404


def test_late_and_replayed_events_of_an_erased_client_are_dropped(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    with engine.begin() as conn:
        from maison.privacy import erasure

        erasure.erase(conn, find_client(conn, "u1"), request_id="r1", suppression_key=KEY, now=NOW)
    seed(engine)  # the same messages again
    late = send(engine,
                {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "new",
                 "timestamp": "2026-03-02T10:00:00Z"},
                {"type": "page", "anonymousId": "anon-u1", "messageId": "new2", "timestamp": "2026-03-02T10:00:00Z"})
    assert (late.accepted, late.dropped) == (0, 2)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0


def test_self_service_token_reaches_only_its_own_client_and_expires(client, engine, app):  # type: ignore[no-untyped-def]
    seed(engine, "u1", "a@example.org")
    seed(engine, "u2", "b@example.org")
    secret = app.state.maison.settings.token_secret()
    with engine.connect() as conn:
        mine, theirs = find_client(conn, "u1"), find_client(conn, "u2")
    token = issue_token(secret, mine)
    assert client.get(f"/v1/privacy/{mine}/settings", headers=headers(token)).status_code == 200
    forbidden = client.get(f"/v1/privacy/{theirs}/export", headers=headers(token))
    assert forbidden.status_code == 403 and "another client" in forbidden.json()["message"]
    expired = issue_token(secret, mine, ttl_seconds=60, now=time.time() - 3600)
    assert client.get(f"/v1/privacy/{mine}/settings", headers=headers(expired)).json()["code"] == "unauthorized"
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/v1/privacy/{mine}/settings", headers=headers(tampered)).status_code == 401
    assert client.post(f"/v1/privacy/{mine}/token", headers=headers(token)).status_code == 403  # only admins issue


def test_reads_by_staff_are_audited_and_self_service_reads_are_not(client, engine, app, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    with engine.connect() as conn:
        mine = find_client(conn, "u1")
    client.get("/v1/privacy/u1/settings", headers=headers(admin_key))
    client.get("/v1/privacy/u1/settings", headers=headers(issue_token(app.state.maison.settings.token_secret(), mine)))
    with engine.connect() as conn:
        rows = conn.execute(select(access_log.c.actor, access_log.c.what)).all()
    assert [tuple(r) for r in rows] == [("admin", "privacy settings")]


def test_restriction_and_objections_are_recorded_and_shown(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    r = client.put("/v1/consent/u1", json={"restriction": True, "object_marketing": True}, headers=headers(admin_key))
    body = r.json()
    assert body["restricted"] and body["objects_to_marketing"]
    assert not any(p["used_for_personalisation"] for p in body["purposes"])


def test_rectification_corrects_declared_data_and_is_tracked(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    r = client.patch(
        "/v1/privacy/u1/declared",
        json={"declared_categories": ["Outerwear"], "city": "Paris"},
        headers=headers(admin_key),
    )
    assert r.status_code == 200, r.text
    bad = client.patch("/v1/privacy/u1/declared", json={"credit_score": 1}, headers=headers(admin_key))
    assert bad.status_code == 400 and "declared_categories" in bad.json()["message"]
    with engine.connect() as conn:
        from maison.profiles.service import get_profile

        profile = get_profile(conn, "u1", as_of=datetime.now(UTC) + timedelta(minutes=1))
    assert profile.to_dict()["declared_categories"] == ["Outerwear"]


def test_retention_purge_deletes_only_expired_rows(engine):  # type: ignore[no-untyped-def]
    seed(engine)
    with engine.begin() as conn:
        counts = retention.purge(
            conn, {"browsing_behaviour": 30, "declared_categories": 3650}, now=datetime(2026, 2, 10, tzinfo=UTC)
        )
    assert counts == {"browsing_behaviour": 2, "declared_categories": 0}  # the page and the view, over 30 days old
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 2
    assert PrivacySettings().retention_days["purchase_history"] >= 365


def test_a_new_notice_marks_affected_consents_for_renewal(engine):  # type: ignore[no-untyped-def]
    seed(engine)
    with engine.begin() as conn:
        service.publish_notice(
            conn, version="2026-06", text="We now explain browsing better.", purposes=["browsing_behaviour"], at=NOW
        )
        view = service.settings(conn, find_client(conn, "u1"))
    assert view["needs_renewal"] == ["browsing_behaviour"]


def test_decisions_answer_why_am_i_seeing_this(client, engine, admin_key):  # type: ignore[no-untyped-def]
    seed(engine)
    with engine.begin() as conn:
        decisions.record(conn, client_id=find_client(conn, "u1"), kind="score", model_version="future-vip-0.1",
                         data_categories=["purchase_history"], reasons=["first order in store"],
                         output={"score": 0.4}, at=NOW)
        with pytest.raises(ValueError, match="unknown data categories"):
            decisions.record(conn, client_id="x", kind="score", model_version="v", data_categories=["health"],
                             reasons=[], output={}, at=NOW)
    body = client.get("/v1/privacy/u1/decisions", headers=headers(admin_key)).json()
    assert body["decisions"][0]["model_version"] == "future-vip-0.1"
    assert body["decisions"][0]["data_categories"] == ["purchase_history"]


def test_export_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(export.SCHEMA_PATH.read_text()))


def test_erasure_removes_the_log_of_consent_moved_by_a_merge(engine):  # type: ignore[no-untyped-def]
    """A visitor who consented on the banner, then signed in: the merge moves their consent entries
    to the known client, and the log of that move (`row_moves`) names both clients; the erasure of
    the client removes it with the rest."""
    send(engine, consent_message(at="2026-01-05T10:00:00Z", anonymousId="anon-m"),
         {"type": "identify", "userId": "u-m", "messageId": "i-m0", "timestamp": "2026-01-05T09:00:00Z"})
    send(engine, {"type": "identify", "userId": "u-m", "anonymousId": "anon-m", "messageId": "i-m1",
                  "timestamp": "2026-01-05T10:05:00Z"})
    with engine.connect() as conn:
        client_id = find_client(conn, "u-m")
        moves = conn.execute(select(row_moves.c.from_client_id, row_moves.c.to_client_id)).all()
    assert moves and {m.to_client_id for m in moves} == {client_id}
    with engine.begin() as conn:
        from maison.privacy import erasure

        erasure.erase(conn, client_id, request_id="r-m", suppression_key=KEY, now=NOW)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(row_moves)).scalar_one() == 0
