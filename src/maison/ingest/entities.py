"""What ingestion produces: a normalised event ready to store, or a rejection with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one message of a request was not accepted. Never carries personal data."""

    index: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class Event:
    """A validated message with the typed columns the platform reads."""

    message_id: str
    type: str
    event: str | None
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    utc_offset_minutes: int
    received_at: datetime
    data_category: str
    raw: dict[str, Any]
    channel: str | None = None
    timezone: str | None = None
    product_id: str | None = None
    dwell_seconds: float | None = None
    order_id: str | None = None
    revenue: Decimal | None = None
    currency: str | None = None
    store_id: str | None = None
    index: int = 0
    identifiers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class IngestResult:
    """What happened to the messages of one request or import chunk."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    dropped: int = 0  # refused by policy (consent, erasure); counted, never logged with data

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": True,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "rejected": [r.to_dict() for r in self.rejected],
        }

    def add(self, other: IngestResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.dropped += other.dropped
        self.rejected.extend(other.rejected)
