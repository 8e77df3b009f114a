"""Pure rules of the Segment tracking spec as Maison applies them.

Validation names the field that is wrong; normalisation sets `receivedAt`, corrects client
clock skew and merges batch-level context, then extracts the typed columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from maison.consent.purposes import classify
from maison.core.clock import offset_minutes, parse_instant
from maison.core.orders import money, stated_value
from maison.identity.rules import identifiers_of
from maison.ingest.entities import Event

MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
SHORT_PATHS = {"t": "track", "p": "page", "i": "identify", "a": "alias", "g": "group", "s": "screen"}


class MessageError(ValueError):
    """A message is invalid; `field` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


_ID_TYPES = (str, int, float)  # a tuple, not `str | int | float`: that union was built on every call


def _id(value: Any) -> str | None:
    if type(value) is str:  # the usual case first: ids are strings
        return value or None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, _ID_TYPES):
        raise TypeError
    return str(value)


def _instant(message: Mapping[str, Any], key: str) -> datetime | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MessageError(key, f"{key} must be an ISO 8601 string")
    try:
        return parse_instant(value)
    except ValueError:
        raise MessageError(key, f"{key} is not a valid ISO 8601 timestamp") from None


def merge_context(message: dict[str, Any], batch_context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Batch-level context fills in what a message's own context does not set."""
    if not batch_context:
        return message
    own = message.get("context")
    merged = dict(batch_context)
    if isinstance(own, Mapping):
        merged.update(own)
    return {**message, "context": merged}


def normalize(
    message: Any,
    *,
    received_at: datetime,
    max_event_bytes: int,
    index: int = 0,
    default_type: str | None = None,
    sent_at: datetime | None = None,
    archived: bool = False,
) -> Event:
    """Validate one message and build the event to store, or raise `MessageError`.

    `archived`: the message comes from a file of messages received elsewhere, maybe months ago
    (`maison events import`), not from its sender now. Its clock is then corrected against the
    receipt it records (`receivedAt`), from the device's own `originalTimestamp` when it has one
    (a Segment archive's `timestamp` is already corrected), and taken as sent without a receipt:
    correcting it against the import's own instant would move every archived event to the day
    of the import."""
    if not isinstance(message, dict):
        raise MessageError("message", "each message must be a JSON object")
    encoded = orjson.dumps(message)
    size = len(encoded)
    if size > max_event_bytes:
        raise MessageError("message", f"message is {size} bytes; the limit is {max_event_bytes}")
    if b"\\u0000" in encoded:
        # No text type of PostgreSQL can hold NUL; refuse it here rather than fail the batch.
        raise MessageError("message", "text values must not contain NUL (\\u0000) characters")
    kind = message.get("type", default_type)
    if kind not in MESSAGE_TYPES:
        raise MessageError("type", f"type must be one of {', '.join(MESSAGE_TYPES)}")
    try:
        user_id = _id(message.get("userId"))
    except TypeError:
        raise MessageError("userId", "userId must be a string") from None
    try:
        anonymous_id = _id(message.get("anonymousId"))
    except TypeError:
        raise MessageError("anonymousId", "anonymousId must be a string") from None
    if user_id is None and anonymous_id is None:
        raise MessageError("userId", "a message needs a userId or an anonymousId")
    event_name = _event_name(message, kind)
    for key in ("properties", "traits", "context"):
        if key in message and message[key] is not None and not isinstance(message[key], dict):
            raise MessageError(key, f"{key} must be a JSON object")
    if kind == "alias" and not _id_or_none(message.get("previousId")):
        raise MessageError("previousId", "alias needs a previousId")
    if kind == "group" and not _id_or_none(message.get("groupId")):
        raise MessageError("groupId", "group needs a groupId")

    original = _instant(message, "timestamp") or _instant(message, "originalTimestamp")
    own_sent = _instant(message, "sentAt") or sent_at
    receipt: datetime | None = received_at
    if archived:
        original = _instant(message, "originalTimestamp") or original
        receipt = _instant(message, "receivedAt")
    if original is None:
        timestamp = receipt or received_at
    elif own_sent is not None and receipt is not None:
        # Clock-skew correction as Segment does: the client's clock may be wrong, but the
        # interval between its own timestamp and its own send time is trustworthy.
        timestamp = receipt - (own_sent - original)
    else:
        timestamp = original
    message_id = _id_or_none(message.get("messageId")) or f"maison-{uuid.uuid4()}"

    raw = dict(message)
    raw["type"] = kind
    raw["messageId"] = message_id
    raw["receivedAt"] = received_at.isoformat()
    if original is not None:
        raw.setdefault("originalTimestamp", message.get("timestamp") or message.get("originalTimestamp"))
    raw["timestamp"] = timestamp.isoformat()
    props: Mapping[str, Any] = message.get("properties") or {}
    context: Mapping[str, Any] = message.get("context") or {}
    traits: Mapping[str, Any] = message.get("traits") or context.get("traits") or {}
    try:
        identifiers = identifiers_of(kind, user_id, anonymous_id, traits)
    except ValueError as exc:
        raise MessageError("traits", str(exc)) from None
    return Event(
        message_id=message_id,
        type=kind,
        event=event_name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        utc_offset_minutes=offset_minutes(original) if original else 0,
        received_at=received_at,
        data_category=classify(raw),
        raw=raw,
        channel=_str(context.get("channel")) or ("store" if props.get("store") else None),
        timezone=_str(context.get("timezone")),
        product_id=_str(props.get("product_id")),
        dwell_seconds=_number(props, "dwell_seconds"),
        order_id=_str(props.get("order_id")),
        revenue=_money(props),
        currency=_str(props.get("currency")),
        store_id=_str(props.get("store") or props.get("store_id") or context.get("store_id")),
        index=index,
        identifiers=identifiers,
    )


def _event_name(message: Mapping[str, Any], kind: str) -> str | None:
    if kind == "track":
        name = message.get("event")
        if not isinstance(name, str) or not name.strip():
            raise MessageError("event", "track needs a non-empty event name")
        return name
    if kind in ("page", "screen"):
        name = message.get("name")
        return name if isinstance(name, str) else None
    return None


def _id_or_none(value: Any) -> str | None:
    try:
        return _id(value)
    except TypeError:
        return None


def _str(value: Any) -> str | None:
    if type(value) is str:
        return value
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _number(props: Mapping[str, Any], key: str) -> float | None:
    value = props.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MessageError(f"properties.{key}", f"properties.{key} must be a number")
    return float(value)


def _money(props: Mapping[str, Any]) -> Decimal | None:
    """The order value every reader takes (`core.orders.order_value`); a stated value that is no
    number rejects the message, so what is stored is what the models read."""
    stated = stated_value(props)
    if stated is None:
        return None
    amount = money(stated[1])
    if amount is None:
        raise MessageError(f"properties.{stated[0]}", f"properties.{stated[0]} must be a number")
    return amount
