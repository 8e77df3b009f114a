"""What L3 (identity-predictive) sections are given about a client at the send instant (pure).

Built by `personalize.l3.load`, each part only while its purpose may be used at the instant;
the section builders read it from `DigestInputs.identity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from maison.catalog import catalogue
from maison.catalog.entities import ContentPage, Product
from maison.personalize.collection_access import Access, unlocked
from maison.personalize.history import ClientHistory
from maison.personalize.trajectory import MonthSummary, SalesTimeline, trajectory
from maison.personalize.values import InferredValue, infer
from maison.personalize.vocabulary import Vocabulary

if TYPE_CHECKING:
    from maison.personalize.cohort import Cohort

TASTE_TRAJECTORY, VALUES = "taste_trajectory", "values_inference"


@dataclass(frozen=True, slots=True)
class CohortAffinity:
    """How much more often the client's cohort buys each product it buys at least
    `cohort_signals.MIN_LIFT` times as often as clients overall (aggregates over at least the
    cohort's minimum size: never any one member's data)."""

    size: int
    affinity: Mapping[str, tuple[int, float]] = field(default_factory=dict, hash=False)  # id -> (buyers, lift)
    data_categories: tuple[str, ...] = ("similar_customer_signals",)  # what placed the client in it
    placement: Cohort | None = field(default=None, compare=False, hash=False, repr=False)  # kept for the record


@dataclass(frozen=True, slots=True)
class IdentityInputs:
    vocabulary: Vocabulary
    months: tuple[MonthSummary, ...] = ()
    values: tuple[InferredValue, ...] = ()
    access: tuple[Access, ...] = ()  # opened by the trajectory at this instant
    collections: frozenset[str] = frozenset()  # every collection open to the client now
    cohort: CohortAffinity | None = None


def derive(
    history: ClientHistory, *, joined: datetime, allowed: frozenset[str], products: Sequence[Product],
    pages: Sequence[ContentPage], sales: SalesTimeline, vocabulary: Vocabulary,
    recorded: frozenset[str] = frozenset(), cohort: CohortAffinity | None = None,
) -> IdentityInputs:
    """Everything L3 derives from a history, each part only while its purpose is in `allowed`.

    `recorded` are collections granted before; the trajectory may open more now.
    """
    by_id = catalogue.by_id(products)
    months: tuple[MonthSummary, ...] = ()
    opened: tuple[Access, ...] = ()
    if TASTE_TRAJECTORY in allowed:
        months = tuple(trajectory(history, joined=joined, products=by_id, sales=sales, vocabulary=vocabulary))
        opened = tuple(a for a in unlocked(months, products, vocabulary=vocabulary, at=history.at)
                       if a.collection not in recorded)
    values = tuple(infer(history, products=by_id, pages=pages, vocabulary=vocabulary)) if VALUES in allowed else ()
    return IdentityInputs(vocabulary, months, values, opened, recorded | {a.collection for a in opened}, cohort)
