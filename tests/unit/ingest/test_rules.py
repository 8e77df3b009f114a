"""Pure rules of message normalisation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maison.core.settings import IngestSettings
from maison.ingest.rules import MessageError, merge_context, normalize
from maison.ingest.service import validate

NOW = datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC)


def norm(message, **kw):  # type: ignore[no-untyped-def]
    return normalize(message, received_at=NOW, max_event_bytes=32 * 1024, **kw)


def test_clock_skew_is_corrected_from_sent_at():
    # The device clock runs 1 hour fast: it stamped the event 10 s before sending it.
    e = norm({"type": "track", "event": "X", "userId": "u", "timestamp": "2026-02-01T13:00:00Z",
              "sentAt": "2026-02-01T13:00:10Z"})
    assert e.timestamp == datetime(2026, 2, 1, 11, 59, 50, tzinfo=UTC)
    assert e.raw["originalTimestamp"] == "2026-02-01T13:00:00Z"


# A message of a Segment archive, received on 1 June 2025 by Segment's collector: the device's own
# clock (`originalTimestamp`, in Paris) ran 1 hour fast, and `timestamp` is Segment's correction.
ARCHIVED = {"type": "track", "event": "X", "userId": "u", "originalTimestamp": "2025-06-01T12:00:00+02:00",
            "sentAt": "2025-06-01T10:00:10Z", "receivedAt": "2025-06-01T09:00:11Z",
            "timestamp": "2025-06-01T09:00:01Z"}


def test_an_archived_message_is_corrected_against_its_own_receipt_not_the_import():
    e = norm(ARCHIVED, archived=True)
    assert e.timestamp == datetime(2025, 6, 1, 9, 0, 1, tzinfo=UTC)  # months before NOW, as Segment had it
    assert e.utc_offset_minutes == 120  # the device's own offset
    assert e.received_at == NOW  # when Maison received it
    live = norm(ARCHIVED)  # the same message sent now: corrected against now
    sent, stamped = datetime(2025, 6, 1, 10, 0, 10, tzinfo=UTC), datetime(2025, 6, 1, 9, 0, 1, tzinfo=UTC)
    assert live.timestamp == NOW - (sent - stamped)


def test_an_archived_message_without_a_receipt_keeps_its_timestamp_as_sent():
    unreceived = {k: v for k, v in ARCHIVED.items() if k not in ("receivedAt", "originalTimestamp")}
    assert norm(unreceived, archived=True).timestamp == datetime(2025, 6, 1, 9, 0, 1, tzinfo=UTC)
    untimed = {"type": "track", "event": "X", "userId": "u", "receivedAt": "2025-06-01T09:00:11Z"}
    assert norm(untimed, archived=True).timestamp == datetime(2025, 6, 1, 9, 0, 11, tzinfo=UTC)
    with pytest.raises(MessageError, match="receivedAt"):
        norm({**ARCHIVED, "receivedAt": "June"}, archived=True)


def test_batch_sent_at_applies_when_message_has_none():
    e = norm({"type": "track", "event": "X", "userId": "u", "timestamp": "2026-02-01T13:00:00Z"},
             sent_at=datetime(2026, 2, 1, 13, 0, 5, tzinfo=UTC))
    assert e.timestamp == datetime(2026, 2, 1, 11, 59, 55, tzinfo=UTC)


def test_without_sent_at_the_timestamp_is_kept_with_its_offset():
    e = norm({"type": "page", "anonymousId": "a", "timestamp": "2026-03-29T15:11:00+01:00"})
    assert e.timestamp == datetime(2026, 3, 29, 14, 11, tzinfo=UTC)
    assert e.utc_offset_minutes == 60


def test_missing_timestamp_is_received_at():
    assert norm({"type": "track", "event": "X", "userId": "u"}).timestamp == NOW


def test_batch_context_fills_in_but_message_context_wins():
    m = merge_context({"type": "track", "context": {"channel": "app"}}, {"channel": "web", "locale": "en-GB"})
    assert m["context"] == {"channel": "app", "locale": "en-GB"}


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "track", "event": "X"}, "userId"),
        ({"type": "bogus", "userId": "u"}, "type"),
        ({"type": "track", "userId": "u"}, "event"),
        ({"type": "track", "event": "X", "userId": "u", "timestamp": "last tuesday"}, "timestamp"),
        ({"type": "track", "event": "X", "userId": {"a": 1}}, "userId"),
        ({"type": "track", "event": "X", "userId": "u", "properties": [1]}, "properties"),
        ({"type": "alias", "userId": "u"}, "previousId"),
        ({"type": "track", "event": "X", "userId": "u", "properties": {"dwell_seconds": "long"}},
         "properties.dwell_seconds"),
        ({"type": "track", "event": "Order Completed", "userId": "u", "properties": {"total": "abc"}},
         "properties.total"),
        ("not an object", "message"),
    ],
)
def test_invalid_messages_name_the_field(message, field):  # type: ignore[no-untyped-def]
    with pytest.raises(MessageError) as info:
        norm(message)
    assert info.value.field == field


def test_message_over_32_kb_is_refused():
    with pytest.raises(MessageError, match="limit is 32768"):
        norm({"type": "track", "event": "X", "userId": "u", "properties": {"blob": "x" * 33_000}})


def test_typed_columns_are_extracted():
    e = norm({"type": "track", "event": "Order Completed", "userId": "u",
              "context": {"channel": "web", "timezone": "Europe/London"},
              "properties": {"order_id": "o1", "total": 1000, "currency": "EUR", "store": "london", "products": []}})
    assert (e.order_id, str(e.revenue), e.currency, e.store_id, e.channel, e.timezone) == (
        "o1", "1000.00", "EUR", "london", "web", "Europe/London"
    )
    assert e.data_category == "purchase_history"


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ({"type": "page", "anonymousId": "a", "properties": {"content_type": "sourcing"}}, "content_engagement"),
        ({"type": "page", "anonymousId": "a", "properties": {"content_type": "account"}}, "browsing_behaviour"),
        ({"type": "track", "event": "Products Searched", "userId": "u"}, "search_history"),
        ({"type": "track", "event": "Checkout Started", "userId": "u"}, "cart_activity"),
        ({"type": "track", "event": "Email Opened", "userId": "u"}, "email_engagement"),
        ({"type": "track", "event": "Consent Updated", "userId": "u"}, "consent_record"),
        ({"type": "identify", "userId": "u", "traits": {"declared_categories": ["A"]}}, "declared_categories"),
        ({"type": "identify", "userId": "u", "traits": {"city": "London"}}, "demographics"),
    ],
)
def test_each_message_falls_under_one_data_category(message, category):  # type: ignore[no-untyped-def]
    assert norm(message).data_category == category


def test_missing_message_id_gets_one():
    assert norm({"type": "track", "event": "X", "userId": "u"}).message_id.startswith("maison-")


def test_nul_characters_are_refused_with_a_reason():
    with pytest.raises(MessageError, match="NUL"):
        norm({"type": "track", "event": "X", "userId": "u\x00"})


@pytest.mark.parametrize("total", ["NaN", "Infinity", "12,50", True])
def test_an_order_value_that_is_no_finite_number_rejects_the_message(total: object) -> None:
    with pytest.raises(MessageError, match="properties.total"):
        norm({"type": "track", "event": "Order Completed", "userId": "u", "properties": {"total": total}})


@pytest.mark.parametrize(("message", "field"), [
    ({"type": "track", "event": "Order Completed", "properties": {"currency": "EURO"}}, "properties.currency"),
    ({"type": "track", "event": "X", "context": {"channel": "web-storefront-mobile-app"}}, "context.channel"),
    ({"type": "page", "name": "P" * 201}, "name"),
    ({"type": "track", "event": "X", "properties": {"product_id": "P" * 101}}, "properties.product_id"),
    ({"type": "identify", "traits": {"loyalty_card": "9" * 321}}, "traits (loyalty)"),
    ({"type": "track", "event": "Consent Updated", "context": {"country": "United Kingdom"}}, "context.country"),
    ({"type": "track", "event": "Consent Updated", "properties": {"policy_version": "v" * 41}},
     "properties.policy_version"),
], ids=["currency", "channel", "page name", "product_id", "loyalty card", "consent country", "policy version"])
def test_a_value_wider_than_its_stored_column_is_refused_naming_its_field(message: dict[str, object],
                                                                          field: str) -> None:
    """PostgreSQL would refuse the value and fail the whole batch with it: the message alone is refused."""
    valid, [(refused, _)] = validate([{"userId": "u", **message}], received_at=NOW, limits=IngestSettings())
    assert valid == [] and refused.field == field
    assert "characters long" in refused.reason


def test_values_as_wide_as_their_columns_are_kept():
    [e], rejected = validate([{"type": "track", "event": "Order Completed", "userId": "u" * 200,
                               "properties": {"currency": "EUR", "product_id": "P" * 100},
                               "context": {"channel": "c" * 20}}], received_at=NOW, limits=IngestSettings())
    assert rejected == []
    assert (e.currency, len(e.product_id or ""), len(e.user_id or "")) == ("EUR", 100, 200)
