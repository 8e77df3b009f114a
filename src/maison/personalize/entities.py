"""A weekly digest and its parts, as plain dataclasses; `to_dict` gives the README's JSON shape.

Every item carries its reason, and every reason lists the data categories (consent purposes) it
used: the digest is its own explanation. Aggregate inputs (catalogue, stock, sales counts,
overall ratings) are facts about the shop, not about the client, and are never listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from maison.core.clock import part_of_day

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def money(amount: Decimal | None) -> int | float | None:
    """A catalogue price as JSON: a whole number when it has no cents (580, not 580.0)."""
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One of the client's own events a reason rests on, with its local weekday and part of day."""

    message_id: str
    event: str
    local_time: datetime  # in the client's zone

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "event": self.event,
            "local_time": self.local_time.isoformat(),
            "weekday": WEEKDAYS[self.local_time.weekday()],
            "part_of_day": part_of_day(self.local_time),
        }


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    data_categories: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()
    inferred_values: tuple[str, ...] = ()
    attributes_cited: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "data_categories": list(self.data_categories),
            "evidence": [e.to_dict() for e in self.evidence],
            "inferred_values": list(self.inferred_values),
            "attributes_cited": list(self.attributes_cited),
        }


@dataclass(frozen=True, slots=True)
class Item:
    product_id: str
    price_eur: Decimal
    label: str | None
    available_sizes: tuple[str, ...]
    reason: Reason
    exploratory: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "price_eur": money(self.price_eur),
            "label": self.label,
            "available_sizes": list(self.available_sizes),
            "exploratory": self.exploratory,
            "reason": self.reason.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Link:
    kind: str  # styling_guide, content_page, ...
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path}


@dataclass(frozen=True, slots=True)
class Section:
    kind: str  # top_sellers (this slice); considered_items, abandoned_cart, ... later
    title: str
    text: str
    items: tuple[Item, ...]
    links: tuple[Link, ...] = ()
    cart_total_eur: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "links": [link.to_dict() for link in self.links],
            "cart_total_eur": money(self.cart_total_eur),
            "items": [i.to_dict() for i in self.items],
        }


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the client should know about the digest itself (a new send time, ...)."""

    kind: str
    text: str
    data_categories: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "data_categories": list(self.data_categories)}


@dataclass(frozen=True, slots=True)
class SendTime:
    """When a week's digest goes out, and what decided it.

    `learned` is True when the time comes from the client's email open times (and so used the
    `email_engagement` purpose); otherwise it is the house default.
    """

    send_at: datetime  # aware, in the client's zone
    minute: int  # local minute of day
    learned: bool
    zone: str
    zone_from_profile: bool  # the zone came from the profile (the `demographics` purpose)
    opens: int = 0  # email opens the estimate saw

    @property
    def clock(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class Digest:
    customer_id: str
    week: int
    level: str
    send_at: datetime
    subject: str
    notices: tuple[Notice, ...]
    sections: tuple[Section, ...]
    trajectory: list[dict[str, Any]] | None = field(default=None, hash=False)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for i in s.items)

    def data_categories(self) -> list[str]:
        """Every purpose an item or a notice says it used, sorted."""
        found = {c for i in self.items for c in i.reason.data_categories}
        found |= {c for n in self.notices for c in n.data_categories}
        return sorted(found)

    def texts(self) -> list[str]:
        """Everything the client reads: subject, notices, sections and reasons."""
        return [
            self.subject,
            *(n.text for n in self.notices),
            *(t for s in self.sections for t in (s.title, s.text)),
            *(i.reason.text for i in self.items),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "week": self.week,
            "level": self.level,
            "send_at": self.send_at.isoformat(),
            "subject": self.subject,
            "notices": [n.to_dict() for n in self.notices],
            "trajectory": self.trajectory,
            "sections": [s.to_dict() for s in self.sections],
        }
