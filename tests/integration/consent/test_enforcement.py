"""Consent is enforced where data is stored, and the ledger cannot be rewritten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from helpers import consent_message
from maison.consent import service as consent
from maison.consent.entities import Use
from maison.core.schema import consent_ledger, events
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def send(engine, *messages):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return ingest(
            conn, list(messages), source="web", received_at=NOW, limits=IngestSettings(), suppression_key=b"k"
        )


def view(at: str, mid: str, **ids: str) -> dict:  # type: ignore[type-arg]
    return {"type": "track", "event": "Product Viewed", "timestamp": at, "messageId": mid,
            "properties": {"product_id": "P"}, **ids}


def stored(engine, category: str | None = None) -> int:  # type: ignore[no-untyped-def]
    stmt = select(func.count()).select_from(events)
    if category:
        stmt = stmt.where(events.c.data_category == category)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def test_behaviour_without_consent_is_not_stored_but_counted(engine):  # type: ignore[no-untyped-def]
    result = send(engine, view("2026-01-05T10:00:00Z", "v1", userId="u1"),
                  {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "o1",
                   "timestamp": "2026-01-05T10:01:00Z"})
    assert (result.accepted, result.dropped) == (1, 1)
    assert stored(engine, "browsing_behaviour") == 0
    assert stored(engine, "purchase_history") == 1  # the contract is kept


def test_consent_in_the_same_batch_covers_later_events_in_any_order(engine):  # type: ignore[no-untyped-def]
    result = send(engine, view("2026-01-05T10:05:00Z", "v1", anonymousId="a1"),
                  consent_message(at="2026-01-05T10:00:00Z", anonymousId="a1"),
                  view("2026-01-05T09:59:00Z", "v0", anonymousId="a1"))
    assert result.accepted == 2 and result.dropped == 1  # the view before the consent is refused
    assert stored(engine, "browsing_behaviour") == 1


def test_withdrawal_stops_collection_from_its_instant(engine):  # type: ignore[no-untyped-def]
    send(engine, consent_message(at="2026-01-05T10:00:00Z", userId="u1"),
         view("2026-01-05T11:00:00Z", "v1", userId="u1"))
    send(engine, consent_message(at="2026-01-05T12:00:00Z", off=("browsing_behaviour",), userId="u1"))
    result = send(engine, view("2026-01-05T13:00:00Z", "v2", userId="u1"),
                  {"type": "track", "event": "Products Searched", "userId": "u1", "messageId": "s1",
                   "timestamp": "2026-01-05T13:00:00Z", "properties": {"query": "coat"}})
    assert result.dropped == 1
    assert stored(engine, "browsing_behaviour") == 1 and stored(engine, "search_history") == 1


def test_an_event_arriving_after_a_withdrawal_that_precedes_it_is_purged(engine):  # type: ignore[no-untyped-def]
    send(engine, consent_message(at="2026-01-05T10:00:00Z", userId="u1"))
    send(engine, view("2026-01-05T13:00:00Z", "late", userId="u1"))  # stored: consent on as far as we know
    assert stored(engine, "browsing_behaviour") == 1
    send(engine, consent_message(at="2026-01-05T12:00:00Z", off=("browsing_behaviour",), userId="u1"))
    assert stored(engine, "browsing_behaviour") == 0


def test_policy_answers_per_use_and_instant(engine):  # type: ignore[no-untyped-def]
    send(engine, consent_message(at="2026-01-05T10:00:00Z", level="L1", userId="u1"))
    with engine.connect() as conn:
        client = find_client(conn, "u1")
        assert consent.may(conn, client, "declared_categories", Use.PERSONALIZE)
        assert not consent.may(conn, client, "browsing_behaviour", Use.PERSONALIZE)
        # before any consent record the client is L1 with nothing granted: declared data unused
        assert not consent.may(
            conn, client, "declared_categories", Use.PERSONALIZE, at=datetime(2026, 1, 1, tzinfo=UTC)
        )


def test_ledger_rows_cannot_be_updated_or_deleted(engine):  # type: ignore[no-untyped-def]
    send(engine, consent_message(at="2026-01-05T10:00:00Z", userId="u1"))
    for stmt in (
        update(consent_ledger).values(granted=False),
        update(consent_ledger).values(effective_at=NOW),
        delete(consent_ledger),
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(stmt)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consent_ledger)).scalar_one() == 13


def test_ledger_follows_the_client_through_an_identity_merge(engine):  # type: ignore[no-untyped-def]
    send(engine, consent_message(at="2026-01-05T10:00:00Z", anonymousId="a1"))
    send(engine, {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "o",
                  "timestamp": "2026-01-05T10:30:00Z"})
    send(engine, {"type": "alias", "previousId": "a1", "userId": "u1", "messageId": "al",
                  "timestamp": "2026-01-05T11:00:00Z"})
    with engine.connect() as conn:
        client = find_client(conn, "u1")
        assert consent.state(conn, client).granted("browsing_behaviour")
        owners = conn.execute(select(consent_ledger.c.client_id).distinct()).scalars().all()
    assert owners == [client]


def test_withdrawing_takes_one_call_like_granting(client, engine, admin_key):  # type: ignore[no-untyped-def]
    send(engine, {"type": "identify", "userId": "u1", "messageId": "i", "timestamp": "2026-01-05T10:00:00Z"})
    h = {"Authorization": f"Bearer {admin_key}"}
    on = client.put(
        "/v1/consent/u1", json={"purposes": {"browsing_behaviour": True}, "personalization_level": "L2"}, headers=h
    )
    assert on.status_code == 200, on.text
    assert next(
        p for p in on.json()["purposes"] if p["purpose"] == "browsing_behaviour"
    )["used_for_personalisation"] is True
    off = client.put("/v1/consent/u1", json={"purposes": {"browsing_behaviour": False}}, headers=h)
    assert next(p for p in off.json()["purposes"] if p["purpose"] == "browsing_behaviour")["granted"] is False
    history = client.get("/v1/consent/u1/history", headers=h).json()["history"]
    assert [(r["purpose"], r["granted"]) for r in history if r["kind"] == "purpose"] == [
        ("browsing_behaviour", True), ("browsing_behaviour", False),
    ]
    # the answer is the privacy settings document itself, collection access included
    assert off.json()["collection_access"] == [] and off.json()["personalization_level"] == "L2"
    assert set(off.json()) == set(client.get("/v1/privacy/u1/settings", headers=h).json())


def test_consent_api_rejects_unknown_purposes_and_levels(client, engine, admin_key):  # type: ignore[no-untyped-def]
    send(engine, {"type": "identify", "userId": "u1", "messageId": "i", "timestamp": "2026-01-05T10:00:00Z"})
    h = {"Authorization": f"Bearer {admin_key}"}
    r = client.put("/v1/consent/u1", json={"purposes": {"mind_reading": True}}, headers=h)
    assert (
        r.status_code == 400 and "mind_reading" in r.json()["message"] and "browsing_behaviour" in r.json()["message"]
    )
    assert client.put("/v1/consent/u1", json={"personalization_level": "L9"}, headers=h).status_code == 400
    assert client.put("/v1/consent/u1", json={}, headers=h).status_code == 400
    assert client.put("/v1/consent/u1", json={"purposes": {"browsing_behaviour": True}}).status_code == 401
    assert client.put(
        "/v1/consent/nobody", json={"purposes": {"browsing_behaviour": True}}, headers=h
    ).status_code == 404
