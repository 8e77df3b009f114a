"""Readers get only what consent allows for their declared use, at the instant they read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpers import consent_message
from maison.consent import gateway
from maison.consent.entities import Use
from maison.consent.readers import declare
from maison.core.settings import IngestSettings
from maison.identity.service import find_client
from maison.ingest.service import ingest

READER = declare("test.browsing_and_declared", use=Use.PERSONALIZE,
                 categories=("browsing_behaviour", "declared_categories"), why="contract test")


def send(engine, *messages):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        ingest(conn, list(messages), source="web", received_at=datetime(2026, 3, 1, tzinfo=UTC),
               limits=IngestSettings(), suppression_key=b"k")


def u1_declares_then_views() -> tuple[dict, ...]:  # type: ignore[type-arg]
    """u1 at L1 with browsing collected, declares Knitwear (`decl`), then views a product (`view`)."""
    return (
        consent_message(at="2026-01-05T10:00:00+00:00", level="L1", extra=("browsing_behaviour",), userId="u1"),
        {"type": "identify", "userId": "u1", "messageId": "decl", "timestamp": "2026-01-05T10:01:00Z",
         "traits": {"declared_categories": ["Knitwear"]}},
        {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "view",
         "timestamp": "2026-01-06T10:00:00Z", "properties": {"product_id": "P"}},
    )


def read(engine, at: str) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        client = find_client(conn, "u1")
        rows = gateway.read(conn, READER, [client], at=datetime.fromisoformat(at)).get(client, [])
    return [r["messageId"] for r in rows]


def test_withdrawing_changes_what_readers_receive_not_just_labels(engine):  # type: ignore[no-untyped-def]
    send(engine, *u1_declares_then_views())
    assert read(engine, "2026-01-10T00:00:00+00:00") == ["decl"]  # collected, but L1 does not use browsing
    send(engine, consent_message(at="2026-01-11T10:00:00+00:00", level="L2", userId="u1"))
    assert read(engine, "2026-01-12T00:00:00+00:00") == ["decl", "view"]
    assert read(engine, "2026-01-10T00:00:00+00:00") == ["decl"]  # no look-back into a past state
    send(engine, consent_message(at="2026-01-13T10:00:00+00:00", level="L2", off=("browsing_behaviour",), userId="u1"))
    assert read(engine, "2026-01-14T00:00:00+00:00") == ["decl"]  # stored earlier, no longer used


def test_a_ledger_the_caller_already_read_gives_the_same_rows_and_the_policy_still_applies(engine):  # type: ignore[no-untyped-def]
    from maison.consent import service as consent

    send(engine,
         *u1_declares_then_views(),
         consent_message(at="2026-01-11T10:00:00+00:00", level="L2", userId="u1"))
    with engine.connect() as conn:
        client = find_client(conn, "u1")
        book = consent.book(conn, [client])
        for at in ("2026-01-10T00:00:00+00:00", "2026-01-12T00:00:00+00:00"):
            instant = datetime.fromisoformat(at)
            shared = gateway.read(conn, READER, [client], at=instant, book=book)
            assert shared == gateway.read(conn, READER, [client], at=instant)
        # the book is the consent, not a pass: a ledger without the client's entries yields nothing
        empty = consent.ConsentBook({})
        assert gateway.read(conn, READER, [client], at=datetime(2026, 1, 12, tzinfo=UTC), book=empty) == {}


def test_events_read_once_for_a_job_answer_as_the_gateway_at_every_earlier_instant(engine):  # type: ignore[no-untyped-def]
    """A week's job reads a chunk of clients once and asks at each client's own instant."""
    send(engine,
         *u1_declares_then_views(),
         {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "view-2",
          "timestamp": "2026-01-12T09:00:00Z", "properties": {"product_id": "Q"}},
         consent_message(at="2026-01-11T10:00:00+00:00", level="L2", userId="u1"),
         consent_message(at="2026-01-05T11:00:00+00:00", level="L2", userId="u2"),
         {"type": "track", "event": "Product Viewed", "userId": "u2", "messageId": "other",
          "timestamp": "2026-01-06T10:00:00Z", "properties": {"product_id": "P"}},
         consent_message(at="2026-01-13T10:00:00+00:00", level="L2", off=("browsing_behaviour",), userId="u1"))
    with engine.connect() as conn:
        clients = [find_client(conn, "u1"), find_client(conn, "u2")]
        once = gateway.prefetch(conn, clients, until=datetime(2026, 1, 20, tzinfo=UTC),
                                categories=READER.categories)
        instants = ["2026-01-06T10:00:00+00:00", "2026-01-10T00:00:00+00:00", "2026-01-12T09:00:00+00:00",
                    "2026-01-12T09:00:00.000001+00:00", "2026-01-12T11:00:00+01:00", "2026-01-14T00:00:00+00:00",
                    "2026-01-20T00:00:00+00:00"]
        answers = []
        for at in map(datetime.fromisoformat, instants):
            expected = gateway.read(conn, READER, clients, at=at)
            assert once.read(READER, clients, at=at) == expected, at
            for c in clients:  # as stored, for a fit: the same rows, the message not copied
                assert [{**raw, "data_category": cat, "client_id": c} for _, cat, raw in once.rows(READER, c, at=at)
                        ] == expected.get(c, []), (at, c)
            answers.append(sorted(r["messageId"] for rows in expected.values() for r in rows))
        assert answers[1] == ["decl", "other"]  # u1 at L1: browsing not used yet
        assert answers[3] == ["decl", "other", "view", "view-2"]  # a view is read only after its instant
        assert answers[5] == ["decl", "other"]  # u1 switched browsing off: stored, no longer used
        with pytest.raises(ValueError, match="prefetched up to"):  # it would answer from incomplete rows
            once.read(READER, clients, at=datetime(2026, 1, 21, tzinfo=UTC))


def test_a_read_about_one_product_is_the_gateways_read_narrowed_to_it(engine):  # type: ignore[no-untyped-def]
    """A product page reads what a cohort said about one piece: the rows `read` gives, of that
    event and product only, with the policy at the instant (a withdrawal; no consent on record)."""
    reader = declare("test.reviews", use=Use.PERSONALIZE, categories=("purchase_history",), why="contract test")

    def review(user: str, mid: str, at: str, product: str, rating: int) -> dict:  # type: ignore[type-arg]
        return {"type": "track", "event": "Product Reviewed", "userId": user, "messageId": mid, "timestamp": at,
                "properties": {"product_id": product, "rating": rating}}

    send(engine,
         consent_message(at="2026-01-05T10:00:00+00:00", level="L2", userId="u1"),
         consent_message(at="2026-01-05T10:00:00+00:00", level="L2", userId="u2"),
         consent_message(at="2026-01-05T10:00:00+00:00", level="L1", userId="u3"),
         review("u1", "r1", "2026-01-06T10:00:00Z", "P", 5), review("u1", "r1b", "2026-01-08T10:00:00Z", "P", 3),
         review("u1", "r1q", "2026-01-06T11:00:00Z", "Q", 4), review("u2", "r2", "2026-01-07T10:00:00Z", "P", 4),
         review("u3", "r3", "2026-01-07T10:00:00Z", "P", 1), review("u4", "r4", "2026-01-07T10:00:00Z", "P", 2),
         {"type": "track", "event": "Order Completed", "userId": "u2", "messageId": "o2",
          "timestamp": "2026-01-07T11:00:00Z", "properties": {"product_id": "P", "products": [{"product_id": "P"}]}},
         consent_message(at="2026-01-09T10:00:00+00:00", level="L2", off=("purchase_history",), userId="u2"))
    with engine.connect() as conn:
        clients = [find_client(conn, u) for u in ("u1", "u2", "u3", "u4")]
        answers = []
        for at in map(datetime.fromisoformat, ("2026-01-06T10:00:00+00:00", "2026-01-08T10:00:00.000001+00:00",
                                               "2026-01-10T00:00:00+00:00")):
            whole = gateway.read(conn, reader, clients, at=at)
            expected = {c: kept for c, rows in whole.items()
                        if (kept := [r for r in rows if r["event"] == "Product Reviewed"
                                     and r["properties"]["product_id"] == "P"])}
            found = gateway.read_about(conn, reader, clients, at=at, event="Product Reviewed", product_id="P")
            assert found == expected, at
            answers.append(sorted(r["messageId"] for rows in found.values() for r in rows))
            some = gateway.read_about(conn, reader, clients[::2], at=at, event="Product Reviewed", product_id="P")
            assert some == {c: rows for c, rows in expected.items() if c in clients[::2]}  # no one else's rows
    assert answers == [[], ["r1", "r1b", "r2", "r3"], ["r1", "r1b", "r3"]]  # u2 withdrew; u4 never consented
