"""What the aggregates return: counts over all clients, never one client's data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Sale:
    """Units of one product in one completed order (a line item), at the order's instant."""

    product_id: str
    quantity: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Rating:
    """Mean and count of the `Product Reviewed` ratings of one product."""

    mean: float
    count: int


@dataclass(frozen=True, slots=True)
class OpenTimes:
    """Local minute of day (0-1439) of email opens over all clients, and how many clients.

    The client count lets a caller refuse a histogram too small to be anonymous.
    """

    minutes: Mapping[int, int]
    clients: int

    @property
    def total(self) -> int:
        return sum(self.minutes.values())
