"""Identity resolution rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from maison.consent import service as consent
from maison.consent.entities import EntryKind, LedgerEntry
from maison.core.schema import events
from maison.core.settings import IngestSettings
from maison.identity import service
from maison.identity.exceptions import MergeNotUndoable, UnknownClient
from maison.identity.repository import list_merges
from maison.ingest.service import ingest

T0 = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
_n = iter(range(10**6))


def msg(kind: str = "track", *, at: int = 0, **fields):  # type: ignore[no-untyped-def]
    body = {"type": kind, "messageId": f"m{next(_n)}", "timestamp": (T0 + timedelta(minutes=at)).isoformat(), **fields}
    if kind == "track":
        body.setdefault("event", "Order Completed")  # kept without consent (the contract)
    return body


def send(engine, *messages):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return ingest(conn, list(messages), source="test", received_at=T0 + timedelta(days=1), limits=IngestSettings())


def client_of(engine, identifier: str) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return service.find_client(conn, identifier)


def events_of(engine, client: str) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(select(events.c.message_id).where(events.c.client_id == client)))


ALL_GRANTED = {"personalization_level": "L2", "purposes": {p: True for p in (
    "declared_categories", "purchase_history", "demographics", "browsing_behaviour", "search_history",
    "cart_activity", "email_engagement", "content_engagement", "similar_customer_signals")}}


def test_anonymous_history_joins_the_client_at_identify(engine):  # type: ignore[no-untyped-def]
    send(engine, msg(event="Consent Updated", anonymousId="a1", at=-1, properties=ALL_GRANTED))
    send(engine, msg(anonymousId="a1", at=0), msg("page", anonymousId="a1", at=1))
    send(engine, msg("identify", userId="u1", anonymousId="a1", at=2, traits={"email": "Alex@Example.NET "}))
    client = client_of(engine, "u1")
    assert client_of(engine, "a1") == client
    assert client_of(engine, "alex@example.net") == client
    assert len(events_of(engine, client)) == 4  # consent, order, page view, identify


def test_events_in_one_batch_out_of_order_still_join(engine):  # type: ignore[no-untyped-def]
    send(engine, msg("identify", userId="u1", anonymousId="a1", at=5), msg(anonymousId="a1", at=0))
    assert client_of(engine, "a1") == client_of(engine, "u1")
    assert len(events_of(engine, client_of(engine, "u1"))) == 2


def test_two_user_ids_never_merge_through_a_shared_device(engine):  # type: ignore[no-untyped-def]
    send(engine, msg("identify", userId="u1", anonymousId="shared", at=0))
    send(engine, msg("identify", userId="u2", anonymousId="shared", at=1))
    send(engine, msg(userId="u2", anonymousId="shared", at=2))
    u1, u2 = client_of(engine, "u1"), client_of(engine, "u2")
    assert u1 != u2
    assert len(events_of(engine, u1)) == 1
    assert len(events_of(engine, u2)) == 2


def test_browsing_on_a_shared_device_is_judged_by_the_consent_of_the_user_who_sent_it(engine):  # type: ignore[no-untyped-def]
    # Browsing is judged after the batch's consent and identities (the gate's second phase).
    # A device u1 consented on, now used by u2 who never did: u2's browsing is not u1's to allow.
    send(engine, msg("identify", userId="u1", anonymousId="shared", at=0),
         msg(event="Consent Updated", userId="u1", anonymousId="shared", at=1, properties=ALL_GRANTED))
    result = send(engine, msg(event="Product Viewed", userId="u2", anonymousId="shared", at=2,
                              properties={"product_id": "P1"}))
    assert (result.accepted, result.dropped) == (0, 1)
    u1 = client_of(engine, "u1")
    assert len(events_of(engine, u1)) == 2  # identify and consent
    with pytest.raises(UnknownClient):
        client_of(engine, "u2")
    # Once u2 has a client and consents, their browsing there is theirs, and the two stay apart.
    send(engine, msg("identify", userId="u2", anonymousId="own", at=3),
         msg(event="Consent Updated", userId="u2", anonymousId="own", at=4, properties=ALL_GRANTED))
    send(engine, msg(event="Product Viewed", userId="u2", anonymousId="shared", at=5, properties={"product_id": "P1"}))
    u2 = client_of(engine, "u2")
    assert u2 != u1 and client_of(engine, "shared") == u1
    assert len(events_of(engine, u1)) == 2
    assert len(events_of(engine, u2)) == 3  # identify, consent and the product view


def test_two_user_ids_never_merge_through_a_shared_email(engine):  # type: ignore[no-untyped-def]
    send(engine, msg("identify", userId="u1", at=0, traits={"email": "family@example.net"}))
    send(engine, msg("identify", userId="u2", at=1, traits={"email": "family@example.net"}))
    assert client_of(engine, "u1") != client_of(engine, "u2")
    assert client_of(engine, "family@example.net") == client_of(engine, "u1")


def test_email_only_client_joins_the_user_who_identifies_with_it(engine):  # type: ignore[no-untyped-def]
    send(engine, msg("identify", anonymousId="newsletter-1", at=0, traits={"email": "c@example.net"}))
    send(engine, msg("identify", userId="u9", at=1, traits={"email": "C@example.net"}))
    assert client_of(engine, "newsletter-1") == client_of(engine, "u9")


def test_phone_is_normalised_to_e164(engine):  # type: ignore[no-untyped-def]
    send(engine, msg("identify", userId="u1", at=0, traits={"phone": "020 7946 0018", "country": "GB"}))
    assert client_of(engine, "+442079460018") == client_of(engine, "u1")


def test_alias_chain_resolves_to_one_client(engine):  # type: ignore[no-untyped-def]
    send(engine, msg(userId="A", at=0), msg(userId="B", at=1), msg(userId="C", at=2))
    send(engine, msg("alias", previousId="A", userId="B", at=3))
    send(engine, msg("alias", previousId="B", userId="C", at=4))
    assert client_of(engine, "A") == client_of(engine, "B") == client_of(engine, "C")
    assert len(events_of(engine, client_of(engine, "C"))) == 5


def test_alias_of_unknown_previous_id_links_it(engine):  # type: ignore[no-untyped-def]
    send(engine, msg("alias", previousId="anon-x", userId="u1", at=0))
    send(engine, msg(anonymousId="anon-x", at=1))
    assert client_of(engine, "anon-x") == client_of(engine, "u1")


def test_every_merge_is_recorded_and_can_be_undone(engine):  # type: ignore[no-untyped-def]
    send(engine, msg(userId="u1", at=0), msg(userId="u1", at=1))
    send(engine, msg(userId="u2", at=2))
    merged = send(engine, msg("alias", previousId="u2", userId="u1", at=3))
    assert merged.accepted == 1
    survivor = client_of(engine, "u1")
    assert client_of(engine, "u2") == survivor
    with engine.connect() as conn:
        [record] = list_merges(conn, survivor)
    assert record["reason"] == "alias" and record["message_id"]
    with engine.begin() as conn:
        service.split(conn, record["id"], actor="admin@maison", now=T0)
    u1, u2 = client_of(engine, "u1"), client_of(engine, "u2")
    assert u1 != u2
    assert len(events_of(engine, u2)) == 1
    assert len(events_of(engine, u1)) == 3  # its two events and the alias call itself
    with engine.begin() as conn, pytest.raises(MergeNotUndoable):
        service.split(conn, record["id"], actor="admin@maison", now=T0)


def test_admin_merge_and_split_restore_both_histories(engine):  # type: ignore[no-untyped-def]
    send(engine, msg(userId="u1", at=0), msg(anonymousId="store-card", at=1))
    with engine.begin() as conn:
        merge_id = service.admin_merge(conn, "u1", "store-card", actor="associate-7", now=T0)
    assert len(events_of(engine, client_of(engine, "u1"))) == 2
    with engine.begin() as conn:
        moved = service.split(conn, merge_id, actor="associate-7", now=T0)
    assert moved == 1
    assert client_of(engine, "u1") != client_of(engine, "store-card")


def test_unknown_identifier_is_not_found(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn, pytest.raises(UnknownClient):
        service.find_client(conn, "nobody")


def test_a_split_gives_back_consent_that_no_event_carried(engine):  # type: ignore[no-untyped-def]
    """A consent entry given on the dashboard (no event behind it) moves with its client at a
    merge and must come back at the split: the survivor may not keep consent the other gave."""
    send(engine, msg(userId="u1", at=0))
    send(engine, msg(userId="u2", at=1))
    u2 = client_of(engine, "u2")
    with engine.begin() as conn:
        consent.record(conn, [LedgerEntry(u2, EntryKind.PURPOSE, T0, purpose="email_engagement", granted=True,
                                          method="dashboard")], now=T0)
    assert send(engine, msg("alias", previousId="u2", userId="u1", at=3)).accepted == 1
    u1, later = client_of(engine, "u1"), T0 + timedelta(days=2)
    assert client_of(engine, "u2") == u1
    with engine.connect() as conn:
        assert consent.state(conn, u1, at=later).granted("email_engagement")
        [record] = list_merges(conn, u1)
    with engine.begin() as conn:
        service.split(conn, record["id"], actor="admin@maison", now=later)
    u1, u2 = client_of(engine, "u1"), client_of(engine, "u2")
    with engine.connect() as conn:
        assert consent.state(conn, u2, at=later).granted("email_engagement")
        assert not consent.state(conn, u1, at=later).granted("email_engagement")
