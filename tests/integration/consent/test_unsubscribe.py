"""An `Unsubscribed` event from the email system is an objection to direct marketing.

GDPR Art. 21(2): an objection to direct marketing must be honoured without delay. The email
system reports the unsubscribe as Segment's `Unsubscribed` event; the ledger has no objection
per channel, so it records the objection on every channel, and the weekly digest stops.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from helpers import consent_message
from maison.catalog.repository import upsert_products
from maison.consent import repository as consent_repo
from maison.consent import service as consent
from maison.consent.entities import EntryKind, Use
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest
from maison.personalize import service as digests
from personalize_factory import product

RECEIVED = datetime(2026, 3, 1, tzinfo=UTC)


def send(engine, *messages):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return ingest(conn, list(messages), source="esp", received_at=RECEIVED, limits=IngestSettings(),
                      suppression_key=b"k")


def known_client(engine) -> str:  # type: ignore[no-untyped-def]
    """u1 declared Knitwear, a category with a piece in stock that another client bought."""
    with engine.begin() as conn:
        upsert_products(conn, [product("KN-1", "Knitwear")], now=RECEIVED)
    send(engine, consent_message(at="2026-01-05T10:00:00Z", userId="u1"),
         consent_message(at="2026-01-05T10:00:00Z", userId="u2"),
         {"type": "identify", "userId": "u1", "messageId": "i1", "timestamp": "2026-01-05T10:01:00Z",
          "traits": {"declared_categories": ["Knitwear"], "timezone": "Europe/Paris"}},
         {"type": "track", "event": "Order Completed", "userId": "u2", "messageId": "o1",
          "timestamp": "2026-01-20T10:00:00Z",
          "properties": {"order_id": "o1", "total": 300, "products": [{"product_id": "KN-1", "quantity": 1}]}})
    with engine.connect() as conn:
        return find_client(conn, "u1")


def unsubscribed(at: str) -> dict[str, object]:
    return {"type": "track", "event": "Unsubscribed", "userId": "u1", "messageId": "unsub-1", "timestamp": at,
            "properties": {"email_id": "digest-2026-02-10", "list_id": "weekly-digest"}}


def test_an_unsubscribe_records_an_objection_to_direct_marketing_from_its_instant(engine):  # type: ignore[no-untyped-def]
    client = known_client(engine)
    assert send(engine, unsubscribed("2026-02-10T21:00:00Z")).accepted == 1
    with engine.connect() as conn:
        before = consent.state(conn, client, datetime(2026, 2, 10, 20, 59, tzinfo=UTC))
        after = consent.state(conn, client, datetime(2026, 2, 10, 21, 0, tzinfo=UTC))
        [entry] = [e for e in consent_repo.entries_for(conn, [client])[client] if e.kind == EntryKind.OBJECT_MARKETING]
        may_market = consent.may(conn, client, "declared_categories", Use.MARKETING)
    assert not before.objects_to_marketing
    assert after.objects_to_marketing
    assert not may_market
    assert (entry.granted, entry.method, entry.message_id) == (True, "email_link", "unsub-1")


def test_after_an_unsubscribe_no_weekly_digest_is_composed(engine):  # type: ignore[no-untyped-def]
    client = known_client(engine)
    with engine.connect() as conn:
        assert digests.compose_digest(conn, client, date(2026, 2, 2), week=6) is not None  # L1: declared Knitwear
    send(engine, unsubscribed("2026-02-01T12:00:00Z"))
    with engine.connect() as conn:
        assert digests.compose_digest(conn, client, date(2026, 2, 2), week=6) is None


def test_a_later_consent_banner_does_not_lift_the_objection(engine):  # type: ignore[no-untyped-def]
    """Only the client lifts an objection (dashboard or API); a banner restating purposes does not."""
    client = known_client(engine)
    send(engine, unsubscribed("2026-02-10T21:00:00Z"), consent_message(at="2026-02-11T09:00:00Z", userId="u1"))
    with engine.connect() as conn:
        assert consent.state(conn, client).objects_to_marketing
