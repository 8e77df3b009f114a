"""`abandoned_cart`: the cart at checkout, its catalogue total, followed up exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maison.personalize.sections import abandoned_cart
from personalize_factory import content_page, inputs, product, track

COAT = product("OW-1", "Outerwear", price=1250, online={"38": 2, "40": 1}, name="Wool Coat")
SCARF = product("PA-1", "Accessories", price=180, name="Silk Scarf")
HAT = product("PA-2", "Accessories", price=90, name="Felt Hat")
GUIDE = content_page("/styling/winter-city", "styling_guide", ["winter"], name="Winter in the City",
                     features=("OW-1", "PA-1"))
OTHER = content_page("/styling/hats", "styling_guide", ["hats"], features=("PA-2",))
CHECKOUT = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # Friday 6 March, 20:00 in New York


def cart(with_lines: bool = True) -> list[dict]:  # type: ignore[type-arg]
    lines = [{"product_id": "OW-1", "variant": "40", "quantity": 1, "price": 999},
             {"product_id": "PA-1", "variant": "one_size", "quantity": 1, "price": 1}]
    return [
        track("Product Added", CHECKOUT - timedelta(minutes=9), product_id="OW-1", variant="40", cart_id="c1"),
        track("Product Added", CHECKOUT - timedelta(minutes=7), product_id="PA-2", variant="one_size", cart_id="c1"),
        track("Product Added", CHECKOUT - timedelta(minutes=5), product_id="PA-1", variant="one_size", cart_id="c1"),
        track("Product Removed", CHECKOUT - timedelta(minutes=3), product_id="PA-2", variant="one_size", cart_id="c1"),
        track("Checkout Started", CHECKOUT, cart_id="c1", value=1000, **({"products": lines} if with_lines else {})),
    ]


def build(rows: list[dict], send: datetime, previous: datetime) -> list:  # type: ignore[type-arg]
    return abandoned_cart.build(inputs(rows, [COAT, SCARF, HAT], at=send, previous=previous,
                                       zone="America/New_York", pages=[OTHER, GUIDE]))


def test_the_cart_at_checkout_is_named_with_its_catalogue_total_and_a_guide_that_features_it() -> None:
    send = CHECKOUT + timedelta(days=3)
    for with_lines in (True, False):  # from the checkout's lines, or replayed from adds and removes
        [section] = build(cart(with_lines), send, send - timedelta(days=7))
        assert [i.product_id for i in section.items] == ["OW-1", "PA-1"]
        assert section.cart_total_eur == 1430 and "EUR 1,430" in section.text
        assert "Wool Coat (size 40)" in section.text and "Felt Hat" not in section.text
        assert "Friday 6 March in the evening" in section.text
        assert [(link.kind, link.path) for link in section.links] == [("styling_guide", "/styling/winter-city")]
        assert all(i.reason.data_categories == ("cart_activity",) for i in section.items)
        assert section.items[0].available_sizes == ("38", "40")


def test_a_shop_that_sends_size_rather_than_variant_gets_the_same_follow_up() -> None:
    """The profile reads a cart line's size from `variant` or `size`; so does the digest."""
    def sized(rows: list[dict]) -> list[dict]:  # type: ignore[type-arg]
        def line(props: dict) -> dict:  # type: ignore[type-arg]
            return {("size" if k == "variant" else k): v for k, v in props.items()}
        return [{**r, "properties": {**line(r["properties"]),
                                     **({"products": [line(x) for x in r["properties"]["products"]]}
                                        if "products" in r["properties"] else {})}} for r in rows]
    send = CHECKOUT + timedelta(days=3)
    for with_lines in (True, False):
        [section] = build(sized(cart(with_lines)), send, send - timedelta(days=7))
        assert "Wool Coat (size 40)" in section.text and section.cart_total_eur == 1430


def test_it_is_followed_up_in_the_first_digest_after_48_hours_and_never_again() -> None:
    weekly = [CHECKOUT + timedelta(days=1) + timedelta(days=7 * k) for k in range(4)]  # first one within 48 h
    sent = [bool(build(cart(), at, at - timedelta(days=7))) for at in weekly]
    assert sent == [False, True, False, False]


def test_an_order_within_48_hours_means_the_cart_was_not_abandoned() -> None:
    ordered = [*cart(), track("Order Completed", CHECKOUT + timedelta(hours=30),
                             products=[{"product_id": "PA-2", "quantity": 1}])]  # any order counts
    send = CHECKOUT + timedelta(days=3)
    assert build(ordered, send, send - timedelta(days=7)) == []
