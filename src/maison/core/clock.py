"""Time helpers: UTC-aware instants, ISO parsing, and local-time facts used in reasons."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


MICROSECOND = timedelta(microseconds=1)  # the stored precision of an instant


def epoch_micros(at: datetime) -> int:
    """Microseconds since the epoch: an exact, orderable number for an aware instant (NumPy-friendly)."""
    return (at - _EPOCH) // MICROSECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant. A value without offset is read as UTC (as Segment does)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def offset_minutes(instant: datetime) -> int:
    off = instant.utcoffset() or timedelta(0)
    return int(off.total_seconds() // 60)


@lru_cache(maxsize=4096)
def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone for a name, or None when the name is missing or unknown.

    Remembered: `ZoneInfo` caches the zones it found, not the names it did not, and a name
    that is no zone was looked up on disk again for every event carrying it.
    """
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def to_local(instant: datetime, tz_name: str | None, fallback_offset_minutes: int | None) -> datetime:
    """Local wall time of an instant: the client's zone first, else the offset the event carried."""
    tz = zone(tz_name)
    if tz is not None:
        return instant.astimezone(tz)
    if fallback_offset_minutes is not None:
        return instant.astimezone(timezone(timedelta(minutes=fallback_offset_minutes)))
    return instant.astimezone(UTC)


def message_local_time(message: Mapping[str, Any], instant: datetime) -> datetime:
    """A stored message's own wall time at `instant` (its stored timestamp), with no profile: in
    the zone its context carried, else at the offset of the client's own timestamp (`to_local`).
    Not the offset of the stored `timestamp`: when the client sent `sentAt`, ingest stores the
    skew-corrected instant in UTC, and an SDK's evening in New York would read as night."""
    context = message.get("context")
    name = context.get("timezone") if isinstance(context, Mapping) else None
    name = name if isinstance(name, str) else None
    return to_local(instant, name, None if zone(name) is not None else _own_offset(message))


def _own_offset(message: Mapping[str, Any]) -> int | None:
    """The UTC offset, in minutes, of the timestamp the client's device sent (`originalTimestamp`
    once ingest corrected it); None when there is none readable."""
    own = message.get("originalTimestamp") or message.get("timestamp")
    try:
        return offset_minutes(parse_instant(own)) if isinstance(own, str) else None
    except ValueError:
        return None


def part_of_day(local: datetime) -> str:
    """morning 05:00-11:59, afternoon 12:00-16:59, evening 17:00-21:59, night 22:00-04:59."""
    h = local.hour
    if 5 <= h < 12:
        return "morning"
    if 12 <= h < 17:
        return "afternoon"
    if 17 <= h < 22:
        return "evening"
    return "night"
