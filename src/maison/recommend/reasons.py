"""Reason text and codes for a recommended item, from the signals that ranked it. Pure.

Every clause states a fact that holds in the data it names: an anchor item the client really
engaged with (and how: viewed, saved, added to bag, bought), attributes both products really
share in the catalogue, a category the client really browses, a best-seller rank that the
30-day sales really give. Shop-wide facts (co-views across clients, sales) are aggregates and
add no data category; the client's own events add the categories they were read under.
"""

from __future__ import annotations

from collections.abc import Sequence

from maison.catalog.entities import Product
from maison.recommend.entities import Reason
from maison.recommend.log import Kind

VERBS = {Kind.VIEW: "viewed", Kind.SAVE: "saved", Kind.CART: "added to your bag", Kind.PURCHASE: "bought"}


def shared_attributes(a: Product, b: Product) -> list[str]:
    """Catalogue attributes both products have, in words ("cashmere", "artisan", "the same maker")."""
    found = sorted(set(a.materials) & set(b.materials)) + sorted(set(a.tags) & set(b.tags))
    found += sorted(set(a.certifications) & set(b.certifications))
    if a.maker and a.maker == b.maker:
        found.append(f"made by {a.maker}")
    return found


def personal(product: Product, *, collaborative: tuple[Product, Kind] | None, content: tuple[Product, Kind] | None,
             browsed_category: bool, best_seller_rank: int | None, used: Sequence[str],
             exploratory: bool = False) -> Reason:
    """The reason of an item ranked from the client's own behaviour (L2 and beyond)."""
    clauses: list[str] = []
    codes: list[str] = []
    if collaborative is not None:
        anchor, kind = collaborative
        clauses.append(f"clients who {VERBS[kind].replace('your', 'their')} the {anchor.name} you {VERBS[kind]} "
                       f"also chose this")
        codes.append("co_purchased" if kind == Kind.PURCHASE else "co_viewed")
    if content is not None:
        anchor, kind = content
        shared = shared_attributes(anchor, product)
        if shared:
            clauses.append(f"like the {anchor.name} you {VERBS[kind]}, it is {_join(shared[:3])}")
            codes.append("similar_attributes")
    if browsed_category and not clauses:
        clauses.append(f"{product.category} is a category you browse")
        codes.append("browsed_category")
    if best_seller_rank is not None and best_seller_rank < 3:
        clauses.append(f"one of the three best sellers in {product.category} this month")
        codes.append("best_seller")
    if not clauses:
        clauses.append(f"a piece from {product.category} chosen from what you browse and buy")
        codes.append("behaviour_model")
    text = _sentence(clauses)
    data = sorted(set(used))
    if exploratory:
        text = ("Exploratory pick, beyond the categories you usually look at: " + text[0].lower() + text[1:]
                if collaborative or content else
                f"Exploratory pick: none of your browsing points to {product.category}; it is suggested because "
                "clients with similar tastes chose it.")
        codes.insert(0, "exploratory")
        data = sorted({*data, "exploratory_recommendations"})
    return Reason(text, tuple(codes), tuple(data))


def declared(product: Product, *, category: str, rank: int) -> Reason:
    """L1: a best seller of a category the client declared."""
    where = "the best seller" if rank == 0 else "one of the best sellers"
    return Reason(f"{where.capitalize()} this month in {category}, a category you told us you like.",
                  ("declared_category", "best_seller"), ("declared_categories",))


def popular(product: Product, *, rank: int) -> Reason:
    """No client data usable: the shop's best sellers."""
    return Reason(f"One of our best sellers this month in {product.category}.", ("best_seller",), ())


def companion(product: Product, page: Product, *, paired: bool, co_viewed: bool) -> Reason:
    """Product page: why this item goes with the page's product (catalogue and aggregate facts only)."""
    clauses, codes = [], []
    if paired:
        clauses.append(f"our stylists pair it with the {page.name}")
        codes.append("stylist_pairing")
    if co_viewed:
        clauses.append(f"clients who look at the {page.name} often look at it too")
        codes.append("co_viewed")
    shared = shared_attributes(page, product)
    if shared:
        clauses.append(f"it shares {_join(shared[:3])} with the {page.name}")
        codes.append("similar_attributes")
    if not clauses:
        clauses.append(f"it completes the {page.name} from {product.category}")
        codes.append("complements")
    return Reason(_sentence(clauses), tuple(codes), ())


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _sentence(clauses: Sequence[str]) -> str:
    text = "; ".join(clauses)
    return text[0].upper() + text[1:] + "."
