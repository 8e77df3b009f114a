"""The profile rules, on small synthetic Segment messages (no I/O).

Messages go through ingestion's own normalisation and row mapping, so the records the rules
see here are the records they see in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from maison.ingest.repository import event_row
from maison.ingest.rules import normalize
from maison.profiles.entities import EventRecord, Profile
from maison.profiles.rules import build_profile, declared_categories, priced_products

T0 = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)
LATER = datetime(2027, 1, 1, tzinfo=UTC)
_count = 0


def msg(kind: str, at: datetime | str, *, called: str | None = None, tz: str | None = None,
        traits: dict[str, Any] | None = None, **props: Any) -> EventRecord:
    """One Segment message from client u1, as the profile reads it back from the store."""
    global _count
    _count += 1
    message: dict[str, Any] = {
        "type": kind, "userId": "u1", "messageId": f"m{_count}",
        "timestamp": at if isinstance(at, str) else at.isoformat(), "properties": props,
    }
    if kind == "track":
        message["event"] = called
    elif kind == "page":
        message["name"] = called
    if traits is not None:
        message["traits"] = traits
    if tz is not None:
        message["context"] = {"timezone": tz}
    event = normalize(message, received_at=LATER, max_event_bytes=32 * 1024)
    return EventRecord.from_row(event_row(event, source="test", client_id="cl_1"))


def track(event: str, at: datetime | str, **props: Any) -> EventRecord:
    return msg("track", at, called=event, **props)


def identify(at: datetime | str, **traits: Any) -> EventRecord:
    return msg("identify", at, traits=traits)


def view(at: str, product_id: str, dwell: float, **props: Any) -> EventRecord:
    return track("Product Viewed", at, product_id=product_id, dwell_seconds=dwell, **props)


def page(at: datetime, name: str, path: str, content_type: str, dwell: float) -> EventRecord:
    return msg("page", at, called=name, path=path, content_type=content_type, dwell_seconds=dwell)


def add(at: datetime, product_id: str, *, cart_id: str = "c2", **props: Any) -> EventRecord:
    return track("Product Added", at, cart_id=cart_id, product_id=product_id, **props)


def profile(*events: EventRecord, as_of: datetime = LATER,
            prices: dict[str, Decimal] | None = None) -> Profile:
    return build_profile("cl_1", [("user", "u1")], events, as_of=as_of, prices=prices or {})


# ------------------------------------------------------------------ traits


def test_latest_identify_wins_per_trait_and_null_clears_it() -> None:
    p = profile(
        identify(T0 + timedelta(hours=1), city="Paris", job_title="Director"),
        identify(T0, city="London", country="GB", age_band="35-44"),
        identify(T0 + timedelta(hours=2), job_title=None),
    )
    assert (p.traits.city, p.traits.country) == ("Paris", "GB")
    assert p.traits.other == {"age_band": "35-44"}


def test_city_and_country_are_read_from_the_segment_specs_address_too() -> None:
    """SDKs that follow Segment's identify spec state the place in its reserved `address` trait;
    Maison's own flat `city` and `country` come first when both are stated."""
    spec = profile(identify(T0, address={"city": " Lyon ", "country": "FR", "postalCode": "69002"}))
    assert (spec.traits.city, spec.traits.country) == ("Lyon", "FR")
    both = profile(identify(T0, city="Paris", address={"city": "Lyon", "country": "FR"}))
    assert (both.traits.city, both.traits.country) == ("Paris", "FR")
    empty = profile(identify(T0, address={"city": "", "country": None}))
    assert (empty.traits.city, empty.traits.country) == (None, None)


@pytest.mark.parametrize(("value", "stated"), [
    (["Knitwear", " Outerwear "], ("Knitwear", "Outerwear")),
    ("Knitwear", ("Knitwear",)),
    (["Knitwear", 3, None, "  "], ("Knitwear",)),
    ([], ()),
    (None, ()),
    ({"Knitwear": True}, ()),
])
def test_declared_categories_are_one_name_or_a_list_of_names(value: object, stated: tuple[str, ...]) -> None:
    """One reading of the trait for the profile, L1's digest and segment placement."""
    assert declared_categories(value) == stated


def test_declared_traits_are_lifted_out_of_the_rest() -> None:
    p = profile(identify(
        T0, declared_categories=["Knitwear", "Outerwear"], sizes={"tops": "M", "shoes": "38"},
        timezone="Europe/Paris", channel_preferences={"email": True, "sms": False},
        first_name="Ada",
    ))
    t = p.traits
    assert t.declared_categories == ("Knitwear", "Outerwear")
    assert t.sizes == {"tops": "M", "shoes": "38"}
    assert t.timezone == "Europe/Paris"
    assert t.channel_preferences == {"email": True, "sms": False}
    assert t.other == {"first_name": "Ada"}


# ------------------------------------------------------------------ local time


@pytest.mark.parametrize(
    ("utc", "local", "weekday", "part"),
    [
        ("2026-03-28T19:00:00+00:00", "2026-03-28T19:00:00+00:00", "Saturday", "evening"),
        # BST starts 29 March 01:00 UTC: the same UTC hour is an hour later on the wall clock
        ("2026-03-29T19:00:00+00:00", "2026-03-29T20:00:00+01:00", "Sunday", "evening"),
        ("2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00+01:00", "Sunday", "night"),
        ("2026-10-25T01:30:00+00:00", "2026-10-25T01:30:00+00:00", "Sunday", "night"),
        ("2026-10-25T11:30:00+00:00", "2026-10-25T11:30:00+00:00", "Sunday", "morning"),
    ],
)
def test_local_time_follows_the_profile_zone_across_dst(
    utc: str, local: str, weekday: str, part: str
) -> None:
    # the view's own clock said UTC: the declared zone wins over the offset the event carried
    p = profile(identify("2026-01-01T00:00:00Z", timezone="Europe/London"),
                track("Product Viewed", utc, product_id="P1"))
    visit = p.viewed_products[0].visits[0].moment
    assert (visit.local.isoformat(), visit.weekday, visit.part_of_day) == (local, weekday, part)


def test_without_a_profile_zone_the_event_zone_then_its_offset_is_used() -> None:
    p = profile(
        msg("track", "2026-03-10T23:30:00+00:00", called="Email Opened", tz="America/New_York"),
        track("Email Opened", "2026-03-11T09:15:00+09:00"),
    )
    a, b = (o.moment for o in p.email_opens.opens)
    assert a.local.isoformat() == "2026-03-10T19:30:00-04:00"  # New York in EDT since 8 March
    assert b.local.isoformat() == "2026-03-11T09:15:00+09:00"
    assert p.email_opens.by_hour == {9: 1, 19: 1}


def test_an_unknown_profile_zone_is_ignored() -> None:
    p = profile(
        identify(T0, timezone="Mars/Olympus"), track("Email Opened", "2026-02-12T21:00:00+01:00")
    )
    assert p.traits.timezone == "Mars/Olympus"
    assert p.email_opens.opens[0].moment.local.hour == 21


# ------------------------------------------------------------------ browsing


def test_product_views_are_grouped_with_dwell_and_local_day_of_each_visit() -> None:
    p = profile(
        identify("2026-01-05T20:08:00Z", timezone="Europe/London"),
        view("2026-02-05T20:18:50+00:00", "KN-001", 142, name="Charcoal Cashmere Cardigan"),
        view("2026-02-06T10:00:00+00:00", "WW-004", 20),
        view("2026-02-07T15:05:00+00:00", "KN-001", 188),
    )
    cardigan, trousers = p.viewed_products
    assert cardigan.product_id == "KN-001" and trousers.product_id == "WW-004"  # latest view first
    assert (cardigan.visit_count, cardigan.dwell_seconds) == (2, 330)
    assert cardigan.name == "Charcoal Cashmere Cardigan"
    assert [
        (v.moment.weekday, v.moment.part_of_day, f"{v.moment.local:%H:%M}", v.dwell_seconds)
        for v in cardigan.visits
    ] == [("Thursday", "evening", "20:18", 142), ("Saturday", "afternoon", "15:05", 188)]
    assert cardigan.first_viewed.local.day == 5 and cardigan.last_viewed.local.day == 7


def test_a_removed_wishlist_item_is_gone_and_a_new_save_counts_from_its_own_time() -> None:
    p = profile(
        track("Product Added to Wishlist", T0, product_id="A"),
        track("Product Added to Wishlist", T0 + timedelta(minutes=1), product_id="B"),
        track("Product Removed from Wishlist", T0 + timedelta(minutes=2), product_id="A"),
        track("Product Added to Wishlist", T0 + timedelta(minutes=3), product_id="B"),
        track("Product Removed from Wishlist", T0 + timedelta(minutes=4), product_id="C"),
    )
    assert [(w.product_id, w.saved.at) for w in p.wishlist] == [("B", T0 + timedelta(minutes=1))]
    p = profile(
        track("Product Added to Wishlist", T0, product_id="A"),
        track("Product Removed from Wishlist", T0 + timedelta(minutes=1), product_id="A"),
        track("Product Added to Wishlist", T0 + timedelta(minutes=2), product_id="A"),
    )
    assert [(w.product_id, w.saved.at) for w in p.wishlist] == [("A", T0 + timedelta(minutes=2))]


def test_searches_keep_the_query_verbatim_with_its_local_time() -> None:
    query = "office to dinner outfits"
    p = profile(track("Products Searched", "2026-02-07T15:09:10+00:00", query=query),
                track("Products Searched", T0, query="  "))
    assert [(s.query, s.moment.weekday) for s in p.searches] == [(query, "Saturday")]


def test_content_engagement_counts_content_pages_only_by_type_and_by_page() -> None:
    p = profile(
        page(T0, "Materials & Sourcing", "/materials", "sourcing", 300),
        page(T0 + timedelta(days=1), "Materials & Sourcing", "/materials", "sourcing", 45),
        page(T0 + timedelta(days=2), "Impact Report", "/impact", "impact", 600),
        page(T0, "Privacy Settings", "/account/privacy", "account", 90),
        msg("page", T0, called="Home", path="/"),
    )
    by_type = {e.content_type: (e.visits, e.dwell_seconds) for e in p.content_engagement.by_type}
    assert by_type == {"sourcing": (2, 345), "impact": (1, 600)}
    assert [(e.path, e.name, e.visits) for e in p.content_engagement.by_page] == [
        ("/impact", "Impact Report", 1), ("/materials", "Materials & Sourcing", 2)]


# ------------------------------------------------------------------ purchases and RFM


def test_purchases_online_and_in_store_are_counted_once_per_order() -> None:
    lines = [{"product_id": "PA-003", "price": 295, "quantity": 1, "variant": "one_size"}]
    online = track("Order Completed", "2026-01-22T19:52:30+00:00", order_id="o1", total=295,
                   currency="EUR", products=lines)
    resent = track("Order Completed", "2026-01-22T19:52:31+00:00", order_id="o1", total=295)
    store = track("Order Completed", "2026-03-07T15:24:10+00:00", order_id="o2", store="london",
                  products=[{"product_id": "HD-004", "price": 72.5, "quantity": 2}])
    p = profile(online, resent, store, as_of=datetime(2026, 3, 17, 15, 0, tzinfo=UTC))
    assert [(o.order_id, o.channel, o.store_id, o.total) for o in p.purchases] == [
        ("o1", "online", None, Decimal("295")), ("o2", "store", "london", Decimal("145.0"))]
    assert p.purchases[0].lines[0].variant == "one_size"
    assert (p.rfm.recency_days, p.rfm.frequency, p.rfm.monetary) == (9, 2, Decimal("440"))


def test_a_client_without_orders_has_empty_rfm() -> None:
    p = profile(track("Product Viewed", T0, product_id="P1"))
    assert (p.rfm.recency_days, p.rfm.frequency, p.rfm.monetary) == (None, 0, Decimal(0))


# ------------------------------------------------------------------ carts


def cart_events(start: datetime = T0) -> list[EventRecord]:
    """The scenario's cart: cardigan M and trousers S, turtleneck added then removed, checkout."""
    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    return [
        add(at(0), "KN-001", variant="M", price=580, currency="EUR"),
        add(at(3), "WW-004", variant="S", price=420, currency="EUR"),
        add(at(5), "KN-002", variant="S", price=280, currency="EUR"),
        track("Product Removed", at(8), cart_id="c2", product_id="KN-002", variant="S", price=280),
        track("Checkout Started", at(9), cart_id="c2", value=1000, currency="EUR", products=[
            {"product_id": "KN-001", "variant": "M", "price": 580, "quantity": 1},
            {"product_id": "WW-004", "variant": "S", "price": 420, "quantity": 1}]),
    ]


def test_a_removed_item_leaves_the_cart_and_the_checkout_value_is_its_total() -> None:
    (cart,) = profile(*cart_events()).carts
    assert cart.status == "abandoned"
    assert [(i.product_id, i.variant, i.price) for i in cart.items] == [
        ("KN-001", "M", Decimal("580")), ("WW-004", "S", Decimal("420"))]
    assert (cart.total, cart.currency) == (Decimal("1000"), "EUR")
    assert cart.checkout is not None and cart.checkout.at == T0 + timedelta(minutes=9)


@pytest.mark.parametrize(
    ("after_last_event", "status"),
    [(timedelta(hours=48) - timedelta(seconds=1), "current"), (timedelta(hours=48), "abandoned")],
)
def test_a_cart_is_current_for_48_hours_after_its_last_event_then_abandoned(
    after_last_event: timedelta, status: str
) -> None:
    last = T0 + timedelta(minutes=9)
    (cart,) = profile(*cart_events(), as_of=last + after_last_event).carts
    assert cart.status == status
    assert cart.decided_at == last + timedelta(hours=48)


@pytest.mark.parametrize(
    ("order_after", "status"),
    [(timedelta(0), "converted"), (timedelta(hours=48), "converted"),
     (timedelta(hours=48, seconds=1), "abandoned")],
)
def test_an_order_within_48_hours_of_the_last_cart_event_converts_the_cart(
    order_after: timedelta, status: str
) -> None:
    last = T0 + timedelta(minutes=9)
    order = track("Order Completed", last + order_after, order_id="o9", total=1000)
    (cart,) = profile(*cart_events(), order).carts
    assert cart.status == status
    assert cart.order_id == ("o9" if status == "converted" else None)


def test_an_order_before_the_last_cart_event_does_not_convert_it() -> None:
    earlier = track("Order Completed", T0 - timedelta(hours=1), order_id="o0", total=10)
    (cart,) = profile(earlier, *cart_events()).carts
    assert cart.status == "abandoned"


def test_a_cart_without_checkout_totals_its_items_using_catalogue_prices_when_missing() -> None:
    events = [
        track("Product Added", T0, cart_id="c1", product_id="A", variant="M", price=100),
        track("Product Added", T0, cart_id="c1", product_id="B", quantity=2),
        track("Product Added", T0, cart_id="c1", product_id="A", variant="M", quantity=1),
    ]
    assert priced_products(events) == {"B", "A"}  # the third add carries no price of its own
    (cart,) = profile(*events, prices={"B": Decimal("35.50")}, as_of=T0 + timedelta(hours=1)).carts
    assert cart.status == "current"
    assert [(i.product_id, i.quantity, i.price) for i in cart.items] == [
        ("A", 2, Decimal("100")), ("B", 2, Decimal("35.50"))]
    assert cart.total == Decimal("271.00")


def test_an_unknown_price_leaves_the_cart_total_unknown() -> None:
    (cart,) = profile(track("Product Added", T0, cart_id="c1", product_id="X")).carts
    assert cart.items[0].price is None and cart.total is None


def test_an_item_added_after_checkout_makes_the_total_the_sum_of_items() -> None:
    extra = add(T0 + timedelta(minutes=10), "PA-004", price=145)
    (cart,) = profile(*cart_events(), extra).carts
    assert cart.total == Decimal("1145")


def test_a_removal_without_size_takes_the_product_out_whatever_its_size() -> None:
    events = [
        track("Product Added", T0, cart_id="c1", product_id="A", variant="S", price=10),
        track("Product Added", T0, cart_id="c1", product_id="B", variant="L", price=20),
        track("Product Removed", T0 + timedelta(minutes=1), cart_id="c1", product_id="B"),
    ]
    (cart,) = profile(*events).carts
    assert [i.product_id for i in cart.items] == ["A"]


def test_a_cart_emptied_without_checkout_is_not_listed() -> None:
    events = [
        track("Product Added", T0, cart_id="c1", product_id="A", price=10),
        track("Product Removed", T0 + timedelta(minutes=1), cart_id="c1", product_id="A"),
    ]
    assert profile(*events).carts == ()


def test_events_on_a_cart_id_after_its_order_start_a_new_cart() -> None:
    # some sites keep one cart id per client: each order closes one life of the cart
    events = [
        track("Product Added", T0, cart_id="c", product_id="A", price=10),
        track("Order Completed", T0 + timedelta(minutes=5), order_id="o1", total=10),
        track("Product Added", T0 + timedelta(days=1), cart_id="c", product_id="B", price=20),
        track("Product Added", T0 + timedelta(days=30), cart_id="c", product_id="C", price=30),
    ]
    carts = profile(*events, as_of=T0 + timedelta(days=30, hours=1)).carts
    assert [(c.status, [i.product_id for i in c.items], c.order_id) for c in carts] == [
        ("converted", ["A"], "o1"), ("abandoned", ["B"], None), ("current", ["C"], None)]


def test_a_checkout_without_tracked_adds_takes_its_own_product_list() -> None:
    checkout = track("Checkout Started", T0, cart_id="c1", value=50, products=[
        {"product_id": "A", "variant": "S", "price": 50, "quantity": 1}])
    (cart,) = profile(checkout).carts
    assert [(i.product_id, i.variant) for i in cart.items] == [("A", "S")]
    assert cart.total == Decimal(50)


# ------------------------------------------------------------------ as of


def test_nothing_timestamped_after_as_of_is_used() -> None:
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    future = as_of + timedelta(seconds=1)
    p = profile(
        identify(T0, timezone="Europe/London", city="London"),
        track("Product Viewed", T0, product_id="P1"),
        *cart_events(as_of - timedelta(hours=47)),
        identify(future, timezone="Asia/Tokyo", city="Tokyo"),
        track("Product Viewed", future, product_id="P2"),
        track("Order Completed", future, order_id="o1", total=1000),
        track("Product Added to Wishlist", future, product_id="P3"),
        as_of=as_of,
    )
    assert p.traits.city == "London"
    assert p.viewed_products[0].visits[0].moment.local.utcoffset() == timedelta(0)
    assert [v.product_id for v in p.viewed_products] == ["P1"]
    assert p.purchases == () and p.wishlist == () and p.rfm.frequency == 0
    assert [c.status for c in p.carts] == ["current"]  # the order after as_of is not seen
    assert p.event_count == 1 + 1 + 5
    assert p.last_seen is not None and p.last_seen.at <= as_of


def test_as_of_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        profile(as_of=datetime(2026, 3, 1))


def test_first_and_last_seen_span_every_event_and_an_empty_history_has_none() -> None:
    p = profile(track("Email Opened", T0 + timedelta(days=2)), msg("page", T0, called="Home"))
    assert p.first_seen is not None and p.first_seen.at == T0
    assert p.last_seen is not None and p.last_seen.at == T0 + timedelta(days=2)
    empty = profile()
    assert (empty.first_seen, empty.last_seen, empty.event_count) == (None, None, 0)
