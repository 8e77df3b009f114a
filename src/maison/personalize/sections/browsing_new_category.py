"""`browsing_new_category`: a category the client never declared but browsed in sequence (E13).

A category qualifies when, within the lookback, one visit (browsing events no more than 30
minutes apart) holds at least `MIN_VIEWS` list or product views of it across at least
`MIN_SUBCATEGORIES` of its subcategories, and it is not among the client's declared categories.
Its items prefer what is new (launched within 30 days) and collection pieces, in the
subcategories browsed, over the category's top sellers, which are left out: the point is what
the client would not find on the best-seller shelf. The reason says the choice rests on the
client's own browsing and that the category is not one they declared; its evidence is that
visit's views. Uses `browsing_behaviour` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from maison.catalog import catalogue
from maison.catalog.entities import Product
from maison.personalize.entities import Section
from maison.personalize.history import LIST_VIEWED, PRODUCT_VIEWED, ClientHistory, Moment
from maison.personalize.sections.common import is_new_arrival, item, listing, offerable, reason, sessions, when
from maison.personalize.top_sellers import top_sellers

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs

KIND = "browsing_new_category"
BROWSING = "browsing_behaviour"
LOOKBACK = timedelta(days=30)
MIN_VIEWS = 3
MIN_SUBCATEGORIES = 2
MAX_ITEMS = 3


@dataclass(frozen=True, slots=True)
class CategoryVisit:
    category: str
    subcategories: tuple[str, ...]  # in the order first browsed
    moments: tuple[Moment, ...]


def _placed(m: Moment, by_id: dict[str, Product]) -> tuple[str, str | None] | None:
    """(category, subcategory) of one browsing event, from the catalogue for product views."""
    if m.name == PRODUCT_VIEWED and m.product_id in by_id:
        p = by_id[m.product_id]
        return p.category, p.subcategory
    if m.name == LIST_VIEWED and isinstance(m.properties.get("category"), str):
        sub = m.properties.get("subcategory")
        return str(m.properties["category"]), sub if isinstance(sub, str) and sub else None
    return None


def new_categories(history: ClientHistory, products: Sequence[Product], declared: Sequence[str]) -> list[CategoryVisit]:
    """Undeclared categories browsed in sequence, the most recent visit of each, latest first."""
    by_id = catalogue.by_id(products)
    browsing = [m for m in history.since(history.at - LOOKBACK).named(PRODUCT_VIEWED, LIST_VIEWED)
                if m.data_category == BROWSING]
    found: dict[str, CategoryVisit] = {}
    for visit in sessions(browsing):
        placed = [(m, where) for m in visit if (where := _placed(m, by_id)) is not None]
        for category in dict.fromkeys(where[0] for _, where in placed):
            if category in declared:
                continue
            mine = [(m, sub) for m, (cat, sub) in placed if cat == category]
            subs = tuple(dict.fromkeys(sub for _, sub in mine if sub))
            if len(mine) >= MIN_VIEWS and len(subs) >= MIN_SUBCATEGORIES:
                found[category] = CategoryVisit(category, subs, tuple(m for m, _ in mine))
    return sorted(found.values(), key=lambda v: v.moments[-1].at, reverse=True)


def picks(visit: CategoryVisit, inputs: DigestInputs, history: ClientHistory) -> list[Product]:
    """New and collection pieces of the category first, browsed subcategories first; no top sellers."""
    bought = history.bought()
    best = (inputs.shelves.top_sellers(visit.category) if inputs.shelves is not None
            else top_sellers(inputs.products, inputs.signals, category=visit.category))
    sellers = {p.product_id for p in best}
    pool = [p for p in inputs.products
            if p.category == visit.category and offerable(p, bought) and p.product_id not in sellers]

    def rank(p: Product) -> tuple[int, int, int, str]:
        new = is_new_arrival(p, history.at)
        return (-int(new), -int(bool(p.collections)), -int(p.subcategory in visit.subcategories), p.product_id)

    return sorted(pool, key=rank)[:MAX_ITEMS]


def _facts(p: Product, at_new: bool) -> str:
    facts = []
    if at_new and p.launched_on is not None:
        facts.append(f"new on {p.launched_on.day} {p.launched_on:%B}")
    if p.collections:
        facts.append(f"from the {listing(list(p.collections))}")
    return (" It is " + " and ".join(facts) + ".") if facts else ""


def build(inputs: DigestInputs) -> list[Section]:
    history = inputs.history
    if history is None or BROWSING not in inputs.allowed:
        return []
    declared = inputs.declaration.categories if inputs.declaration is not None else ()
    sections = []
    for visit in new_categories(history, inputs.products, declared):
        chosen = picks(visit, inputs, history)
        if not chosen:
            continue
        browsed = (f"On {when(visit.moments[0].local)} you browsed {visit.category}: "
                   f"{', then '.join(visit.subcategories)}.")
        because = (f"{visit.category} is not one of the categories you chose; we include it only because "
                   "of your own browsing.")
        items = tuple(
            item(p, reason(f"{browsed} {because}{_facts(p, is_new_arrival(p, history.at))}", [BROWSING],
                           visit.moments, attributes=p.collections))
            for p in chosen
        )
        text = f"{browsed} {because} Here are pieces from it you may not have seen yet."
        sections.append(Section(KIND, f"From your browsing: {visit.category}", text, items))
    return sections
