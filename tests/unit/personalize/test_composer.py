"""Composing a digest from what the service read: L1 sections, purposes listed, notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from maison.catalog.entities import Product
from maison.consent.purposes import L1_PURPOSES, L2_PURPOSES
from maison.personalize.composer import Declaration, DigestInputs, compose
from maison.personalize.entities import SendTime
from maison.personalize.top_sellers import Signals
from maison.personalize.wording import has_discount_language

SEND = datetime(2026, 2, 3, 9, tzinfo=UTC)
DECLARED_AT = datetime(2026, 1, 5, 20, 8, tzinfo=UTC)


def product(pid: str, category: str, *, price: str = "295", online: dict[str, int] | None = None) -> Product:
    sizes = tuple(online or {"one_size": 3})
    return Product(product_id=pid, name=pid, category=category, price=Decimal(price), currency="EUR", sizes=sizes,
                   stock={"online": online or {"one_size": 3}})


PRODUCTS = [
    product("KN-1", "Knitwear", price="580", online={"S": 0, "M": 2, "L": 1}),
    product("KN-2", "Knitwear", price="280.50"),
    product("KN-3", "Knitwear"),
    product("KN-4", "Knitwear"),
    product("HD-1", "Home"),
    product("HD-2", "Home", online={"one_size": 0}),
]
SIGNALS = {p.product_id: Signals(units=10 - i) for i, p in enumerate(PRODUCTS)}


def send(minute: int = 540, *, learned: bool = False) -> SendTime:
    return SendTime(SEND.replace(hour=minute // 60, minute=minute % 60), minute, learned, "Europe/London", True)


def inputs(**changes: object) -> DigestInputs:
    base = DigestInputs(
        customer_id="cus_1", week=5, level="L1", send=send(), allowed=frozenset(L1_PURPOSES),
        declaration=Declaration(("Knitwear", "Home"), "msg-identify", DECLARED_AT),
        products=PRODUCTS, signals=SIGNALS, previous_send=send(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_one_top_sellers_section_per_declared_category_in_name_order() -> None:
    digest = compose(inputs())
    assert digest is not None
    assert [(s.kind, s.title) for s in digest.sections] == [
        ("top_sellers", "Best-selling in Home"), ("top_sellers", "Best-selling in Knitwear")]
    assert [[i.product_id for i in s.items] for s in digest.sections] == [["HD-1"], ["KN-1", "KN-2", "KN-3"]]


def test_two_clients_with_the_same_declarations_in_another_order_get_the_same_digest() -> None:
    one = compose(inputs())
    other = compose(inputs(customer_id="cus_2", declaration=Declaration(("Home", "Knitwear"), "msg-identify",
                                                                         DECLARED_AT)))
    assert one is not None and other is not None
    assert replace(other, customer_id="cus_1") == one


def test_l1_reasons_list_exactly_declared_categories_and_point_to_the_identify() -> None:
    digest = compose(inputs(allowed=frozenset(L1_PURPOSES + L2_PURPOSES), level="L1"))
    assert digest is not None
    for item in digest.items:
        assert item.reason.data_categories == ("declared_categories",)
        assert [e.to_dict()["message_id"] for e in item.reason.evidence] == ["msg-identify"]
        assert item.reason.evidence[0].to_dict()["weekday"] == "Monday"
        assert item.label is not None and item.reason.text


def test_prices_are_the_catalogues_and_sizes_only_those_in_stock_online() -> None:
    digest = compose(inputs())
    assert digest is not None
    cardigan = next(i.to_dict() for i in digest.items if i.product_id == "KN-1")
    assert (cardigan["price_eur"], cardigan["available_sizes"]) == (580, ["M", "L"])
    assert next(i.to_dict() for i in digest.items if i.product_id == "KN-2")["price_eur"] == 280.5
    assert not any(has_discount_language(t) for t in digest.texts())


def test_from_l2_bought_pieces_are_left_out_and_purchase_history_is_listed() -> None:
    digest = compose(inputs(level="L2", allowed=frozenset(L1_PURPOSES + L2_PURPOSES), bought=frozenset({"KN-1"})))
    assert digest is not None
    assert [i.product_id for i in digest.sections[1].items] == ["KN-2", "KN-3", "KN-4"]
    assert all(i.reason.data_categories == ("declared_categories", "purchase_history") for i in digest.items)


def test_no_digest_without_a_usable_declaration() -> None:
    assert compose(inputs(declaration=None)) is None
    assert compose(inputs(allowed=frozenset({"purchase_history", "demographics"}))) is None


def test_a_learned_send_time_is_announced_once_and_says_where_it_comes_from() -> None:
    allowed = frozenset(L1_PURPOSES + L2_PURPOSES)
    first = compose(inputs(send=send(1155, learned=True), previous_send=send(), allowed=allowed, level="L2"))
    again = compose(inputs(send=send(1155, learned=True), previous_send=send(1155, learned=True), allowed=allowed,
                           level="L3"))
    assert first is not None and again is not None
    [notice] = first.notices
    assert notice.kind == "send_time_changed" and notice.data_categories == ("email_engagement",)
    assert "19:15" in notice.text and "email open times" in notice.text
    assert again.notices == ()  # a new level alone says nothing


def test_no_notice_lists_a_purpose_the_client_does_not_allow() -> None:
    digest = compose(inputs(send=send(1155, learned=True), previous_send=send()))
    assert digest is not None and digest.notices == ()


def test_a_return_to_the_default_time_is_explained_without_personal_data() -> None:
    digest = compose(inputs(send=send(), previous_send=send(1155, learned=True)))
    assert digest is not None
    [notice] = digest.notices
    assert notice.data_categories == () and "09:00" in notice.text


def test_the_json_has_the_readme_shape() -> None:
    digest = compose(inputs())
    assert digest is not None
    doc = digest.to_dict()
    assert list(doc) == ["customer_id", "week", "level", "send_at", "subject", "notices", "trajectory", "sections"]
    assert list(doc["sections"][0]) == ["kind", "title", "text", "links", "cart_total_eur", "items"]
    assert list(doc["sections"][0]["items"][0]) == [
        "product_id", "price_eur", "label", "available_sizes", "exploratory", "reason"]
    assert list(doc["sections"][0]["items"][0]["reason"]) == [
        "text", "data_categories", "evidence", "inferred_values", "attributes_cited"]
    assert doc["send_at"] == "2026-02-03T09:00:00+00:00"
