"""Discount language is never written: the checker, and the texts the digest is made of."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maison.analytics.entities import Rating
from maison.personalize import wording
from maison.personalize.top_sellers import LABEL_PRIORITY


@pytest.mark.parametrize(
    "text",
    [
        "Winter SALE starts now", "now on sale", "a discount for you", "Discounted knitwear", "20% off coats",
        "use promo code", "our promotion", "a coupon inside", "gift voucher", "Clearance", "markdown week",
        "at a reduced price", "price drop alert", "Save €50", "save EUR 50", "save  eur 50", "a bargain",
        "Hurry!", "last chance to buy", "for a limited time", "ends soon", "while stocks last",
        "the summer sales", "vouchers for friends",
    ],
)
def test_every_term_of_the_definition_is_caught_whole_word_and_case_insensitive(text: str) -> None:
    assert wording.has_discount_language(text)


@pytest.mark.parametrize(
    "text",
    [
        "Best-selling in Women's Workwear", "wholesale partners", "Salesforce", "a promotional leaflet",
        "hurrying nowhere", "a limited edition", "save your favourites", "saved to wishlists",
        "the last chapter", "Clients rate it 4.7 out of 5 from 23 reviews.", "",
    ],
)
def test_words_that_merely_contain_a_term_are_not_discount_language(text: str) -> None:
    assert not wording.has_discount_language(text)


def test_the_matches_are_reported_as_written() -> None:
    assert wording.discount_terms_in("Final SALE: 30% off, Save €20") == ["SALE", "% off", "Save €"]


def test_no_text_the_digest_can_write_contains_discount_language() -> None:
    monday = datetime(2026, 1, 5, 20, 8, tzinfo=UTC)
    texts = [
        wording.SUBJECT_TOP_SELLERS,
        wording.top_sellers_title("Women's Workwear"),
        *(wording.top_sellers_text("Women's Workwear", n) for n in (1, 2, 3)),
        *(wording.top_seller_reason("Premium Accessories", monday, label, Rating(4.7, 23)) for label in LABEL_PRIORITY),
        wording.send_time_notice("19:15", "Europe/London", default_clock="09:00"),
        wording.send_time_reset_notice("09:00", "Europe/London"),
    ]
    assert [t for t in texts if wording.has_discount_language(t)] == []


def test_dates_are_written_in_the_clients_own_calendar() -> None:
    assert wording.day_text(datetime(2026, 1, 5, 20, 8, tzinfo=UTC)) == "Monday 5 January 2026"
