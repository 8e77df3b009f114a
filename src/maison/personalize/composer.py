"""Compose one client's digest for one week from what the service read (pure).

This slice writes the L1 part: one `top_sellers` section per declared category, in category
name order (two clients who declared the same categories get the same digest, whatever order
they ticked them in). Clients at L2 and L3 get the same sections for now; from L2 on, pieces
they already bought are left out, which uses (and lists) `purchase_history`. A purpose is
listed by an item or a notice only if the client's consent allowed it at the send instant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from maison.analytics.entities import Rating
from maison.catalog.entities import ContentPage, Product
from maison.personalize import sections as builders
from maison.personalize import wording
from maison.personalize.curation import CurationPolicy, curate
from maison.personalize.entities import Digest, Evidence, Item, Notice, Reason, Section, SendTime
from maison.personalize.history import ClientHistory
from maison.personalize.l3_inputs import IdentityInputs
from maison.personalize.repeats import DEFAULT_REST_WEEKS, SentPick
from maison.personalize.top_sellers import Shelves, Signals, label_name

DECLARED = "declared_categories"
PURCHASES = "purchase_history"
EMAIL = "email_engagement"
SEND_TIME_CHANGED = "send_time_changed"


@dataclass(frozen=True, slots=True)
class Declaration:
    """The categories in force at the send instant and the `identify` that declared them."""

    categories: tuple[str, ...]
    message_id: str
    local_time: datetime  # in the client's zone


@dataclass(frozen=True, slots=True)
class DigestInputs:
    customer_id: str
    week: int
    level: str
    send: SendTime
    allowed: frozenset[str]  # purposes usable for personalisation at the send instant
    declaration: Declaration | None
    products: Sequence[Product]
    signals: Mapping[str, Signals]
    ratings: Mapping[str, Rating] = field(default_factory=dict)
    previous_send: SendTime | None = None
    bought: frozenset[str] | None = None  # None: purchases not consulted
    default_clock: str = "09:00"
    history: ClientHistory | None = None  # from L2: the client's usable events before the send
    content_pages: Sequence[ContentPage] = ()
    curation: CurationPolicy = field(default_factory=CurationPolicy)  # brand safety beyond L1 (per maison)
    identity: IdentityInputs | None = None  # at L3: trajectory, inferred values, collection access, cohort
    shelves: Shelves | None = None  # the products and signals above, by category (shared by a job's digests)
    sent_picks: tuple[SentPick, ...] = ()  # at L3: pieces earlier digests' L3 sections sent (audit, before the send)
    pick_rest_weeks: int = DEFAULT_REST_WEEKS  # a sent L3 piece rests this many weeks (`repeats`; per maison)
    shown: frozenset[str] = frozenset()  # set by `compose`: products the sections built before hold


def compose(inputs: DigestInputs) -> Digest | None:
    """The digest, or None when there is nothing the client's consent lets us say."""
    shelves = inputs.shelves or Shelves(inputs.products, inputs.signals)
    sections = top_seller_sections(inputs, shelves)
    for build in _builders(inputs.level):
        sections.extend(build(replace(inputs, shown=frozenset(i.product_id for s in sections for i in s.items))))
    sections = curate(sections, shelves.by_id, inputs.curation)
    if not sections:
        return None
    return Digest(
        customer_id=inputs.customer_id,
        week=inputs.week,
        level=inputs.level,
        send_at=inputs.send.send_at,
        subject=wording.SUBJECT_TOP_SELLERS,
        notices=tuple(send_time_notices(inputs.send, inputs.previous_send, inputs.allowed, inputs.default_clock)),
        sections=tuple(sections),
        trajectory=trajectory_entries(inputs),
    )


def trajectory_entries(inputs: DigestInputs) -> list[dict[str, Any]] | None:
    """At L3, one entry per month of the client's taste trajectory (None when it may not be used)."""
    if inputs.identity is None or "taste_trajectory" not in inputs.allowed or not inputs.identity.months:
        return None
    return [m.to_dict() for m in inputs.identity.months]


def _builders(level: str) -> tuple[builders.Builder, ...]:
    if level == "L2":
        return tuple(builders.L2_BUILDERS)
    if level == "L3":
        return (*builders.L2_BUILDERS, *builders.L3_BUILDERS)
    return ()


def top_seller_sections(inputs: DigestInputs, shelves: Shelves) -> list[Section]:
    declaration = inputs.declaration
    if declaration is None or DECLARED not in inputs.allowed:
        return []
    excluded = inputs.bought if inputs.bought is not None and PURCHASES in inputs.allowed else None
    categories = (DECLARED, PURCHASES) if excluded is not None else (DECLARED,)
    evidence = Evidence(declaration.message_id, "identify", declaration.local_time)
    sections = []
    for category in sorted(set(declaration.categories)):
        chosen = shelves.top_sellers(category, exclude=excluded or frozenset())
        if not chosen:
            continue
        items = tuple(
            _item(p, shelves, inputs, category=category, declared_on=declaration.local_time,
                  categories=categories, evidence=evidence)
            for p in chosen
        )
        text = wording.top_sellers_text(category, len(items))
        if excluded is not None:
            text += " Pieces you have already bought are left out."
        sections.append(Section("top_sellers", wording.top_sellers_title(category), text, items))
    return sections


def _item(
    product: Product, shelves: Shelves, inputs: DigestInputs, *, category: str,
    declared_on: datetime, categories: tuple[str, ...], evidence: Evidence,
) -> Item:
    label = shelves.label(product)
    text = wording.top_seller_reason(category, declared_on, label, inputs.ratings.get(product.product_id))
    return Item(
        product_id=product.product_id,
        price_eur=product.price,
        label=label_name(label, category),
        available_sizes=product.online_sizes_in_stock(),
        reason=Reason(text=text, data_categories=categories, evidence=(evidence,)),
    )


def send_time_notices(
    send: SendTime, previous: SendTime | None, allowed: frozenset[str], default_clock: str
) -> list[Notice]:
    """A notice in the first digest whose send time differs from the week before.

    A learned time says it comes from the client's email open times (and lists that purpose);
    a return to the default says why. A change of level alone changes nothing here.
    """
    if previous is None or (send.minute, send.learned) == (previous.minute, previous.learned):
        return []
    if send.learned:
        if EMAIL not in allowed:
            return []
        text = wording.send_time_notice(send.clock, send.zone, default_clock=default_clock)
        return [Notice(SEND_TIME_CHANGED, text, (EMAIL,))]
    return [Notice(SEND_TIME_CHANGED, wording.send_time_reset_notice(send.clock, send.zone), ())]
