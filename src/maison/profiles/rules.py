"""Pure rules that build a client profile from the client's events, as of an instant.

Nothing here does I/O or reads the clock: `as_of` is passed in, and no event timestamped after
it is used, so a profile "as of t" is the same whether later events were ingested or not.
Local times use the client's declared time zone (the latest `traits.timezone`), falling back
to the zone the event's context carried, then to the UTC offset its timestamp carried.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from maison.consent.purposes import CONTENT_PAGE_TYPES
from maison.core.clock import to_local, zone
from maison.core.orders import amount
from maison.core.traits import place
from maison.profiles.entities import (
    RFM,
    Cart,
    ContentEngagement,
    EmailOpen,
    EmailOpens,
    EventRecord,
    Identifier,
    LineItem,
    Moment,
    PageEngagement,
    Profile,
    Purchase,
    Search,
    Traits,
    ViewedProduct,
    Visit,
    WishlistItem,
)

CART_WINDOW = timedelta(hours=48)
"""A cart with no order within this long after its last cart event is abandoned."""

ORDER_COMPLETED = "Order Completed"
PRODUCT_VIEWED = "Product Viewed"
WISHLIST_ADD, WISHLIST_REMOVE = "Product Added to Wishlist", "Product Removed from Wishlist"
CART_ADD = frozenset({"Product Added", "Wishlist Product Added to Cart"})
CART_REMOVE = frozenset({"Product Removed"})
CHECKOUT_STARTED = "Checkout Started"
CART_TOUCH = frozenset(
    {"Cart Viewed", "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered"}
)
SEARCHED = "Products Searched"
EMAIL_OPENED = "Email Opened"

SIZE_TRAITS = ("sizes", "preferred_sizes")
CHANNEL_TRAITS = ("channel_preferences", "preferred_channels")
_NAMED_TRAITS = frozenset(
    {"declared_categories", "city", "country", "timezone", *SIZE_TRAITS, *CHANNEL_TRAITS}
)

Localise = Callable[[EventRecord], Moment]
Orders = Sequence[tuple[datetime, str]]  # (timestamp, order id), in time order
Lines = dict[tuple[str, str | None], LineItem]  # by (product, size)


def build_profile(
    client_id: str,
    identifiers: Iterable[Identifier],
    events: Sequence[EventRecord],
    *,
    as_of: datetime,
    prices: Mapping[str, Decimal],
) -> Profile:
    """The profile of one client from all of its events, using none timestamped after `as_of`."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    seen = sorted((e for e in events if e.timestamp <= as_of), key=lambda e: e.timestamp)
    traits = fold_traits(seen)
    local = localiser(traits.timezone)
    bought = purchases(seen, local)
    return Profile(
        client_id=client_id,
        as_of=as_of,
        identifiers=tuple(sorted(set(identifiers))),
        traits=traits,
        event_count=len(seen),
        first_seen=local(seen[0]) if seen else None,
        last_seen=local(seen[-1]) if seen else None,
        purchases=bought,
        wishlist=wishlist(seen, local),
        carts=carts(seen, local, as_of=as_of, prices=prices),
        viewed_products=viewed_products(seen, local),
        searches=searches(seen, local),
        content_engagement=content_engagement(seen, local),
        email_opens=email_opens(seen, local),
        rfm=rfm(bought, as_of=as_of),
    )


# ---------------------------------------------------------------- traits and local time


def fold_traits(events: Iterable[EventRecord]) -> Traits:
    """Fold `identify` traits in time order: the latest value of each key wins; null clears it."""
    merged: dict[str, Any] = {}
    for e in events:
        if e.type != "identify":
            continue
        for key, value in e.traits.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
    return Traits(
        declared_categories=declared_categories(merged.get("declared_categories")),
        sizes=_first(merged, SIZE_TRAITS),
        city=place(merged, "city"),
        country=place(merged, "country"),
        timezone=_text(merged.get("timezone")),
        channel_preferences=_first(merged, CHANNEL_TRAITS),
        other={k: v for k, v in merged.items() if k not in _NAMED_TRAITS},
    )


def declared_categories(value: object) -> tuple[str, ...]:
    """The categories an `identify`'s `declared_categories` trait states: one name or a list of
    names, each stripped; anything else (null, an empty list, numbers) states none. The one
    reading of that trait, for the profile, L1's digest and segment placement alike."""
    listed = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(c.strip() for c in listed if isinstance(c, str) and c.strip())


def localiser(profile_timezone: str | None) -> Localise:
    """A function giving each event's Moment in the client's local time."""
    declared = profile_timezone if zone(profile_timezone) is not None else None

    def local(e: EventRecord) -> Moment:
        at = e.timestamp
        return Moment(e.message_id, at, to_local(at, declared or e.timezone, e.utc_offset_minutes))

    return local


# ---------------------------------------------------------------- browsing


def viewed_products(events: Iterable[EventRecord], local: Localise) -> tuple[ViewedProduct, ...]:
    """`Product Viewed` grouped by product, most recently viewed first."""
    visits: dict[str, list[Visit]] = {}
    labels: dict[str, tuple[str | None, str | None]] = {}
    for e in events:
        if e.event != PRODUCT_VIEWED or (pid := _product_id(e)) is None:
            continue
        visits.setdefault(pid, []).append(Visit(local(e), e.dwell_seconds))
        old_name, old_category = labels.get(pid, (None, None))
        labels[pid] = (
            _text(e.properties.get("name")) or old_name,
            _text(e.properties.get("category")) or old_category,
        )
    products = [ViewedProduct(pid, *labels[pid], visits=tuple(v)) for pid, v in visits.items()]
    return tuple(sorted(products, key=lambda p: p.last_viewed.at, reverse=True))


def wishlist(events: Iterable[EventRecord], local: Localise) -> tuple[WishlistItem, ...]:
    """Products saved and not removed since, in the order saved."""
    saved: dict[str, WishlistItem] = {}
    for e in events:
        pid = _product_id(e)
        if pid is None:
            continue
        if e.event == WISHLIST_ADD and pid not in saved:
            saved[pid] = WishlistItem(pid, _text(e.properties.get("name")), local(e))
        elif e.event == WISHLIST_REMOVE:
            saved.pop(pid, None)
    return tuple(saved.values())


def searches(events: Iterable[EventRecord], local: Localise) -> tuple[Search, ...]:
    return tuple(
        Search(q, local(e))
        for e in events
        if e.event == SEARCHED and (q := _text(e.properties.get("query")))
    )


def content_engagement(events: Iterable[EventRecord], local: Localise) -> ContentEngagement:
    """Content-page visits (sourcing, impact, ...) by content type and by page, most read first."""
    by_type: dict[str, list[tuple[EventRecord, Moment]]] = {}
    by_page: dict[str, list[tuple[EventRecord, Moment]]] = {}
    for e in events:
        kind = e.properties.get("content_type")
        if e.type not in ("page", "screen") or kind not in CONTENT_PAGE_TYPES:
            continue
        path = _text(e.properties.get("path")) or e.event or ""
        visit = (e, local(e))
        by_type.setdefault(str(kind), []).append(visit)
        by_page.setdefault(path, []).append(visit)
    types = [_engagement(k, None, None, v) for k, v in by_type.items()]
    pages = [
        _engagement(str(v[-1][0].properties["content_type"]), path, v[-1][0].event, v)
        for path, v in by_page.items()
    ]
    return ContentEngagement(by_type=_most_read(types), by_page=_most_read(pages))


def _engagement(
    kind: str, path: str | None, name: str | None, visits: list[tuple[EventRecord, Moment]]
) -> PageEngagement:
    return PageEngagement(
        content_type=kind,
        path=path,
        name=name,
        visits=len(visits),
        dwell_seconds=sum(e.dwell_seconds or 0.0 for e, _ in visits),
        first_visit=visits[0][1],
        last_visit=visits[-1][1],
    )


def _most_read(items: list[PageEngagement]) -> tuple[PageEngagement, ...]:
    return tuple(
        sorted(items, key=lambda p: (-p.dwell_seconds, -p.visits, p.path or p.content_type))
    )


def email_opens(events: Iterable[EventRecord], local: Localise) -> EmailOpens:
    return EmailOpens(
        tuple(
            EmailOpen(
                local(e),
                campaign_id=_text(e.properties.get("campaign_id")),
                email_id=_text(e.properties.get("email_id")),
            )
            for e in events
            if e.event == EMAIL_OPENED
        )
    )


# ---------------------------------------------------------------- purchases


def purchases(events: Iterable[EventRecord], local: Localise) -> tuple[Purchase, ...]:
    """Orders completed online or in store, once per order id, in time order."""
    orders: dict[str, Purchase] = {}
    for e in events:
        if e.event != ORDER_COMPLETED:
            continue
        order_id = e.order_id or _text(e.properties.get("order_id")) or e.message_id
        if order_id in orders:
            continue  # the same order sent twice under two messageIds
        lines = _lines(e.properties.get("products"), {})
        in_store = e.channel == "store" or e.store_id is not None
        orders[order_id] = Purchase(
            order_id=order_id,
            moment=local(e),
            total=e.revenue if e.revenue is not None else _sum(lines),
            currency=e.currency,
            channel="store" if in_store else "online",
            store_id=e.store_id,
            lines=lines,
        )
    return tuple(orders.values())


def rfm(bought: Sequence[Purchase], *, as_of: datetime) -> RFM:
    if not bought:
        return RFM(recency_days=None, frequency=0, monetary=Decimal(0), last_order_at=None)
    last = max(p.moment.at for p in bought)
    return RFM(
        recency_days=(as_of - last).days,
        frequency=len(bought),
        monetary=sum((p.total or Decimal(0) for p in bought), Decimal(0)),
        last_order_at=last,
    )


# ---------------------------------------------------------------- carts


@dataclass
class _CartState:
    """A cart being replayed: its lines by (product, size), and what its checkout said."""

    cart_id: str | None
    started: Moment
    last: Moment
    lines: Lines = field(default_factory=dict)
    checkout: Moment | None = None
    checkout_value: Decimal | None = None
    changed_since_checkout: bool = False
    currency: str | None = None


def carts(
    events: Sequence[EventRecord],
    local: Localise,
    *,
    as_of: datetime,
    prices: Mapping[str, Decimal],
) -> tuple[Cart, ...]:
    """Each life of each cart, by status as of `as_of`.

    A cart is `converted` when an order by the client follows its last cart event within 48 h,
    `abandoned` when those 48 h have passed without one, `current` while they run. Events on a
    cart id after that decision start a new cart. Carts left with no item and no checkout are
    not listed.
    """
    orders = sorted(
        (e.timestamp, e.order_id or e.message_id) for e in events if e.event == ORDER_COMPLETED
    )
    open_carts: dict[str | None, _CartState] = {}
    done: list[Cart | None] = []
    for e in events:
        if not _is_cart_event(e):
            continue
        cart_id = _text(e.properties.get("cart_id"))
        state = open_carts.get(cart_id)
        if state is not None and _decided_before(state, e.timestamp, orders):
            done.append(_finish(state, orders, as_of=as_of))
            state = None
        moment = local(e)
        if state is None:
            state = open_carts[cart_id] = _CartState(cart_id, moment, moment)
        _apply(state, e, moment, prices)
    done.extend(_finish(s, orders, as_of=as_of) for s in open_carts.values())
    return tuple(sorted((c for c in done if c is not None), key=lambda c: c.started.at))


def _is_cart_event(e: EventRecord) -> bool:
    if e.event in CART_ADD or e.event in CART_REMOVE or e.event == CHECKOUT_STARTED:
        return True
    return e.event in CART_TOUCH and "cart_id" in e.properties


def _order_after(start: datetime, orders: Orders) -> tuple[datetime, str] | None:
    i = bisect.bisect_left(orders, (start, ""))
    if i < len(orders) and orders[i][0] <= start + CART_WINDOW:
        return orders[i]
    return None


def _decided_before(state: _CartState, t: datetime, orders: Orders) -> bool:
    """Whether the cart was converted or abandoned before a new event on it at `t`."""
    order = _order_after(state.last.at, orders)
    if order is not None and order[0] < t:  # an order at the same instant does not precede it
        return True
    return t > state.last.at + CART_WINDOW


def _finish(state: _CartState, orders: Orders, *, as_of: datetime) -> Cart | None:
    items = tuple(state.lines.values())
    if not items and state.checkout is None:
        return None
    deadline = state.last.at + CART_WINDOW
    order = _order_after(state.last.at, orders)
    if order is not None and order[0] <= as_of:
        status, order_id = "converted", order[1]
    else:
        status, order_id = ("abandoned" if as_of >= deadline else "current"), None
    use_checkout = state.checkout_value is not None and not state.changed_since_checkout
    return Cart(
        cart_id=state.cart_id,
        status=status,
        items=items,
        total=state.checkout_value if use_checkout else _sum(items),
        currency=state.currency,
        started=state.started,
        last_activity=state.last,
        checkout=state.checkout,
        decided_at=deadline,
        order_id=order_id,
    )


def _apply(
    state: _CartState, e: EventRecord, moment: Moment, prices: Mapping[str, Decimal]
) -> None:
    state.last = moment
    state.currency = e.currency or state.currency
    props = e.properties
    if e.event == CHECKOUT_STARTED:
        state.checkout = moment
        value = amount(props.get("value"))
        state.checkout_value = value if value is not None else e.revenue
        state.changed_since_checkout = False
        if not state.lines:  # adds were not tracked: the checkout's own list is the content
            for line in _lines(props.get("products"), prices):
                state.lines[(line.product_id, line.variant)] = line
        return
    pid = _product_id(e)
    if pid is None or e.event in CART_TOUCH:
        return
    state.changed_since_checkout = True
    line = _line(props, pid, prices)
    if e.event in CART_ADD:
        _add(state.lines, line)
    else:
        _remove(state.lines, line)


def _add(lines: Lines, line: LineItem) -> None:
    key = (line.product_id, line.variant)
    held = lines.get(key)
    if held is not None:
        line = LineItem(
            line.product_id,
            line.name or held.name,
            line.variant,
            held.quantity + line.quantity,
            line.price if line.price is not None else held.price,
        )
    lines[key] = line


def _remove(lines: Lines, line: LineItem) -> None:
    """Take a product out; a removal that names no size takes it from its latest line."""
    key = (line.product_id, line.variant)
    if key not in lines and line.variant is None:
        key = next((k for k in reversed(lines) if k[0] == line.product_id), key)
    held = lines.pop(key, None)
    if held is not None and held.quantity > line.quantity:
        left = held.quantity - line.quantity
        lines[key] = LineItem(held.product_id, held.name, held.variant, left, held.price)


# ---------------------------------------------------------------- lines, money, small readers


def priced_products(events: Iterable[EventRecord]) -> set[str]:
    """Products in cart events that carry no price of their own: their catalogue price is needed."""
    wanted: set[str] = set()
    for e in events:
        if not _is_cart_event(e):
            continue
        items = e.properties.get("products")
        candidates = [e.properties, *(items if isinstance(items, list) else [])]
        for item in candidates:
            pid = _text(item.get("product_id")) if isinstance(item, Mapping) else None
            if pid is not None and amount(item.get("price")) is None:
                wanted.add(pid)
    return wanted


def _lines(products: Any, prices: Mapping[str, Decimal]) -> tuple[LineItem, ...]:
    if not isinstance(products, list):
        return ()
    return tuple(
        _line(p, pid, prices)
        for p in products
        if isinstance(p, Mapping) and (pid := _text(p.get("product_id")))
    )


def _line(item: Mapping[str, Any], product_id: str, prices: Mapping[str, Decimal]) -> LineItem:
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        quantity = 1
    price = amount(item.get("price"))
    return LineItem(
        product_id=product_id,
        name=_text(item.get("name")),
        variant=_text(item.get("variant")) or _text(item.get("size")),
        quantity=quantity,
        price=price if price is not None else prices.get(product_id),
    )


def _sum(lines: Iterable[LineItem]) -> Decimal | None:
    """Sum of line amounts, or None when any price is unknown (a partial total would mislead)."""
    amounts = [line.amount for line in lines]
    if not amounts or any(a is None for a in amounts):
        return None
    return sum((a for a in amounts if a is not None), Decimal(0))


def _product_id(e: EventRecord) -> str | None:
    return e.product_id or _text(e.properties.get("product_id"))


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _first(values: Mapping[str, Any], keys: Sequence[str]) -> Any:
    return next((values[k] for k in keys if k in values), None)
