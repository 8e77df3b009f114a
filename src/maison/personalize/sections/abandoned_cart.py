"""`abandoned_cart`: a checkout the client left, followed up once, with its items and total (E12).

A cart is **abandoned** when a `Checkout Started` has no `Order Completed` by the client within
the next 48 hours (README definition). Its content is the cart at checkout: the checkout's
`products[]` when given, else the cart's `Product Added` minus `Product Removed` events before
it. The total is the sum of catalogue prices, never the event's own figures.

**Once.** The follow-up belongs to the first digest sent after the 48 hours: the one whose
send instant is at or after `checkout + 48 h` while the previous week's send instant was
before it. This is decided from the history and the two send instants alone, so recomposing
any week gives the same answer without stored state, and no later digest repeats it.

A styling guide that features the cart's pieces (most of them, then the most recent) is linked.
Uses `cart_activity` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from maison.catalog import catalogue
from maison.catalog.entities import ContentPage, Product
from maison.personalize.entities import Link, Section
from maison.personalize.history import (
    CHECKOUT_STARTED,
    ORDER_COMPLETED,
    PRODUCT_ADDED,
    PRODUCT_REMOVED,
    ClientHistory,
    Moment,
)
from maison.personalize.sections.common import euros, item, listing, reason, when
from maison.personalize.top_sellers import recommendable

if TYPE_CHECKING:
    from maison.personalize.composer import DigestInputs

KIND = "abandoned_cart"
CART = "cart_activity"
GRACE = timedelta(hours=48)
STYLING_GUIDE = "styling_guide"


@dataclass(frozen=True, slots=True)
class CartLine:
    product: Product
    size: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class AbandonedCart:
    checkout: Moment
    lines: tuple[CartLine, ...]
    moments: tuple[Moment, ...]  # the cart's events up to checkout (evidence)

    @property
    def due(self) -> datetime:
        return self.checkout.at + GRACE

    @property
    def total(self) -> Decimal:
        return sum((line.product.price * line.quantity for line in self.lines), Decimal(0))


def _cart_id(m: Moment) -> str | None:
    value = m.properties.get("cart_id")
    return value if isinstance(value, str) and value else None


def _quantity(line: Mapping[str, Any]) -> int:
    q = line.get("quantity", 1)
    return q if isinstance(q, int) and not isinstance(q, bool) and q > 0 else 1


def contents(checkout: Moment, cart_events: Sequence[Moment]) -> list[tuple[str, str | None, int]]:
    """(product id, size, quantity) in the cart at checkout."""
    lines = checkout.properties.get("products")
    if isinstance(lines, list) and lines:
        return [(str(line["product_id"]), _size(line), _quantity(line)) for line in lines
                if isinstance(line, Mapping) and isinstance(line.get("product_id"), str)]
    held: dict[tuple[str, str | None], int] = {}
    for m in cart_events:
        if m.product_id is None or m.at > checkout.at:
            continue
        key = (m.product_id, _size(m.properties))
        step = _quantity(m.properties) if m.name == PRODUCT_ADDED else -_quantity(m.properties)
        held[key] = held.get(key, 0) + step
    return [(pid, size, q) for (pid, size), q in held.items() if q > 0]


def _size(props: Mapping[str, Any]) -> str | None:
    """The line's size: Segment's `variant`, else a `size` property (the profile reads both)."""
    for key in ("variant", "size"):
        v = props.get(key)
        if isinstance(v, str) and v:
            return v
    return None


def abandoned(history: ClientHistory, products: Sequence[Product]) -> list[AbandonedCart]:
    """Checkouts with no order within 48 hours that are fully past those 48 hours at `history.at`."""
    by_id = catalogue.by_id(products)
    orders = [m.at for m in history.named(ORDER_COMPLETED)]
    carts = []
    for checkout in history.named(CHECKOUT_STARTED):
        due = checkout.at + GRACE
        if due > history.at or any(checkout.at <= o < due for o in orders):
            continue
        cart_id = _cart_id(checkout)
        events = [m for m in history.named(PRODUCT_ADDED, PRODUCT_REMOVED)
                  if cart_id is not None and _cart_id(m) == cart_id and m.at <= checkout.at]
        lines = tuple(CartLine(by_id[pid], size, q) for pid, size, q in contents(checkout, events) if pid in by_id)
        if lines:
            carts.append(AbandonedCart(checkout, lines, (*events, checkout)))
    return carts


def due_now(cart: AbandonedCart, send_at: datetime, previous_send_at: datetime | None) -> bool:
    """Whether this digest is the first one sent after the cart's 48 hours."""
    return cart.due <= send_at and (previous_send_at is None or previous_send_at < cart.due)


def styling_guide(pages: Sequence[ContentPage], product_ids: Sequence[str]) -> ContentPage | None:
    """The styling guide featuring most of the pieces (then the most recently published)."""
    wanted = set(product_ids)
    guides = [(len(wanted & set(p.features_products)), p) for p in pages if p.content_type == STYLING_GUIDE]
    guides = [(n, p) for n, p in guides if n > 0]
    if not guides:
        return None
    return max(guides, key=lambda g: (g[0], g[1].published_on.isoformat() if g[1].published_on else "",
                                      g[1].path))[1]


def _piece(line: CartLine) -> str:
    return f"the {line.product.name}" + (f" (size {line.size})" if line.size and line.size != "one_size" else "")


def _availability(line: CartLine) -> str:
    sizes = line.product.online_sizes_in_stock()
    if line.size is None or line.size == "one_size" or line.size in sizes:
        return "It is still available online" + (f" in size {line.size}." if line.size in sizes and
                                                  line.size != "one_size" else ".")
    verb = "is" if len(sizes) == 1 else "are"
    return f"Size {line.size} is no longer available online; {listing(list(sizes))} {verb}."


def build(inputs: DigestInputs) -> list[Section]:
    history = inputs.history
    if history is None or CART not in inputs.allowed:
        return []
    previous = inputs.previous_send.send_at if inputs.previous_send else None
    sections = []
    for cart in abandoned(history, inputs.products):
        if not due_now(cart, inputs.send.send_at, previous):
            continue
        lines = [line for line in cart.lines if recommendable(line.product)]
        if not lines:
            continue
        cart = AbandonedCart(cart.checkout, tuple(lines), cart.moments)
        started = f"On {when(cart.checkout.local, dated=True)} you started a checkout"
        pieces = listing([_piece(line) for line in lines])
        guide = styling_guide(inputs.content_pages, [line.product.product_id for line in lines])
        text = f"{started} with {pieces}, {euros(cart.total)} in all."
        if guide is not None:
            text += f" Our styling guide \"{guide.name}\" shows ways to wear them."
        items = tuple(
            item(line.product, reason(
                f"{started} with {_piece(line)} in your cart and did not complete it. "
                f"{_availability(line)} It is {euros(line.product.price)}.",
                [CART], cart.moments))
            for line in lines
        )
        links = (Link(STYLING_GUIDE, guide.path),) if guide is not None else ()
        sections.append(Section(KIND, "Still in your cart", text, items, links=links, cart_total_eur=cart.total))
    return sections
